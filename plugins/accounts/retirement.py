"""The retirement (GDPR erasure) pipeline, as Open edX's user_api runs it.

A learner asks to be forgotten (``deactivate_logout/``): :func:`queue_retirement`
records a :class:`UserRetirementStatus` in the first state (``PENDING``) and
locks the account at once (retired email, unusable password, no sessions,
tokens or third-party links). An external driver (Open edX's
``scripts/user_retirement``, formerly tubular) then moves the status through the
configured states, calling one step endpoint per state pair:
:func:`retire_misc` and :func:`retire` are the LMS's own steps; the latter asks
every enabled plugin to scrub its data (``lms_retire_user``) and renames the
user to the hashed retired username/email. ``retirement_cleanup/`` finally
redacts and deletes the status rows, the last place holding the original
username, email and name.

States live in ``accounts_retirement_state`` (seeded by migration from the
default list); ``lms populate-retirement-states`` syncs the table with the
``accounts.retirement_states`` setting under upstream's rules.

Where openlms scrubs more than upstream (so that nothing of the person is
left), it says so: the profile's ``goals`` and ``state``, every preference,
the names on verification attempts, and :func:`retire` repeating
:func:`retire_misc`'s work for pipelines without the LMS_MISC pair.
"""
import logging
import secrets
import string

import click
from sqlalchemy import delete, select, update

from lms import permissions
from lms.cli import pass_environment
from lms.models import (
    LoginFailure,
    LoginSession,
    OAuthAccessToken,
    OAuthApplication,
    OAuthRefreshToken,
    User,
)
from lms.passwords import hash_password, make_unusable
from lms.settings import as_list
from plugins.accounts import api, images
from plugins.accounts.config import accounts_config
from plugins.accounts.models import (
    PendingEmailChange,
    PendingNameChange,
    Registration,
    RetirementState,
    SocialAuthLink,
    UserOrgTag,
    UserPreference,
    UserRetirementPartnerReport,
    UserRetirementRequest,
    UserRetirementStatus,
    VerificationAttempt,
)

log = logging.getLogger(__name__)

SETTINGS = {
    # ENABLE_ACCOUNT_DELETION: learners may delete their account (deactivate_logout/).
    "accounts.enable_account_deletion": "true",
    # RETIREMENT_SERVICE_WORKER_USERNAME: the account the retirement driver acts as.
    # It holds the permission only while it is active global staff, as `lms bootstrap`
    # and `lms create-oauth-client NAME --service retirement` create it; nobody may
    # register this name. Empty: only superusers run the pipeline.
    "accounts.retirement_service_username": "retirement_service_worker",
}

START_STATE = "PENDING"
END_STATES = ("ERRORED", "ABORTED", "COMPLETE")
REQUIRED_STATES = (START_STATE,) + END_STATES
COMPLETE_STATE = "COMPLETE"
STATE_NAME_MAX = 30
# Execution orders 1, 11, 21, ...: room for states inserted by hand in between.
ORDER_STEP = 10
CANCELLED_PASSWORD_LENGTH = 25
# Values retirement_cleanup/ writes over the original identity before deleting.
REDACTED = "redacted"
# Placeholders stored by upstream that mean "no org" (CourseEnrollment default).
IGNORED_ORGS = ("", "outdated_entry")


class RetirementError(Exception):
    """A request the pipeline refuses (upstream's RetirementStateError).

    The message is what the endpoint answers, as a bare JSON string.
    """


# -- the retirement service --------------------------------------------------------

def is_retirement_service(registry, user):
    """The username path of ``CanRetireUser``: the configured account, and only while it
    is active global staff (as provisioned), so a registered namesake is nobody."""
    username = accounts_config(registry).services.retirement_service_username
    return bool(username) and user is not None and user.username == username and (
        permissions.is_staff(user))


# -- states ------------------------------------------------------------------------

def state_label(state):
    """``PENDING (step 1)``: how upstream prints a state in messages and the log."""
    return f"{state.state_name} (step {state.state_execution_order})"


def status_label(status, state):
    """Upstream's ``str(UserRetirementStatus)``."""
    return f"User: {status.user_id} State: {state_label(state)} Last Updated: {status.modified}"


def all_states(db):
    """Every state, in execution order (a handful of rows: callers match names in Python,
    which also keeps NUL characters and other odd input away from the database)."""
    return db.scalars(select(RetirementState)
                      .order_by(RetirementState.state_execution_order)).all()


def find_state(states, name):
    return next((state for state in states if state.state_name == name), None)


def is_working_state(state):
    """Step endpoints act only on RETIRING_* (and LOCKING_ACCOUNT): never on PENDING,
    a dead end, or a ``*_COMPLETE`` state."""
    return not (state.required or state.state_name.endswith("_COMPLETE"))


def configured_states(settings):
    return as_list(settings, "accounts.retirement_states")


def validate_state_names(names):
    """Upstream's rules for a state list; raise RetirementError."""
    if not names:
        raise RetirementError("accounts.retirement_states is empty.")
    if not set(REQUIRED_STATES) <= set(names):
        raise RetirementError(
            f"accounts.retirement_states ({names}) does not contain all required states "
            f"({','.join(REQUIRED_STATES)})")
    if names.index(START_STATE) != 0:
        raise RetirementError(f"{START_STATE} must be the first state")
    if names[-len(END_STATES):] != list(END_STATES):
        raise RetirementError(f"The last {len(END_STATES)} states must be these (in this order): "
                              f"{list(END_STATES)}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RetirementError(f"States are listed more than once: {duplicates}")
    too_long = [name for name in names if len(name) > STATE_NAME_MAX]
    if too_long:
        raise RetirementError(f"State names are limited to {STATE_NAME_MAX} characters: "
                              f"{too_long}")


def sync_states(db, names, dry_run=False):
    """Make the state table mirror ``names``; return ``(added, removed, kept)`` name sets.

    Refused (RetirementError) while any learner is in a non-required state, or
    when a state to remove is some learner's current or last state (deleting it
    would take their status row with it).
    """
    validate_state_names(names)
    in_progress = db.scalar(
        select(UserRetirementStatus.id)
        .join(RetirementState, RetirementState.id == UserRetirementStatus.current_state_id)
        .where(RetirementState.state_name.not_in(REQUIRED_STATES)).limit(1))
    if in_progress is not None:
        raise RetirementError(
            "Users are currently being processed. All users must be in one of these states to "
            f"run this command: {','.join(REQUIRED_STATES)}")
    existing = {state.state_name: state for state in all_states(db)}
    added = set(names) - set(existing)
    removed = set(existing) - set(names)
    kept = set(existing) & set(names)
    if dry_run:
        return added, removed, kept
    if removed:
        removed_ids = [existing[name].id for name in removed]
        used = db.scalar(select(UserRetirementStatus.id).where(
            UserRetirementStatus.current_state_id.in_(removed_ids)
            | UserRetirementStatus.last_state_id.in_(removed_ids)).limit(1))
        if used is not None:
            raise RetirementError("Users exist in a state that is marked for deletion! States to "
                                  f"delete are: {sorted(removed)}")
        db.execute(delete(RetirementState).where(RetirementState.id.in_(removed_ids)))
    # Out of the way first (negative orders never collide with the new positive ones).
    db.execute(update(RetirementState).values(
        state_execution_order=-RetirementState.state_execution_order - 1))
    for position, name in enumerate(names):
        state = existing.get(name) if name in kept else RetirementState(state_name=name)
        state.state_execution_order = 1 + ORDER_STEP * position
        state.is_dead_end_state = name in END_STATES
        state.required = name in REQUIRED_STATES
        db.add(state)
        db.flush()
    return added, removed, kept


# -- looking up retirements ---------------------------------------------------------

def _plain_text(value):
    """A string the database can compare (PostgreSQL text holds no NUL), or None."""
    return value if isinstance(value, str) and "\x00" not in value else None


def status_by_original_username(db, username):
    """The status whose original username is exactly ``username`` (case-sensitive), or None."""
    username = _plain_text(username)
    if username is None:
        return None
    return db.scalar(select(UserRetirementStatus)
                     .where(UserRetirementStatus.original_username == username)
                     .order_by(UserRetirementStatus.id).limit(1))


def status_for_action(db, username):
    """Upstream's ``get_retirement_for_retirement_action``: the status of a learner in a
    working state. None when there is none; RetirementError when the state is wrong."""
    status = status_by_original_username(db, username)
    if status is None:
        return None
    state = db.get(RetirementState, status.current_state_id)
    if not is_working_state(state):
        raise RetirementError(f"{status_label(status, state)} is in {state.state_name}, not a "
                              "valid state to perform retirement actions on.")
    return status


def potentially_retired_user(db, settings, username):
    """The user named ``username`` now, or once (before retire/ renamed them), or None."""
    username = _plain_text(username)
    if username is None:
        return None
    candidates = [api.retired_username(settings, username, salt)
                  for salt in as_list(settings, "accounts.retired_user_salts")]
    users = db.scalars(select(User).where(User.username.in_([username, *candidates]))).all()
    if len(users) > 1:
        # A retired learner and a new one whose name differs only by case: the exact one.
        users = [user for user in users if user.username == username] or users
    return users[0] if users else None


# -- deactivate_logout/ --------------------------------------------------------------

def revoke_credentials(db, user):
    """Log the user out everywhere: sessions, OAuth tokens and their own OAuth clients
    (upstream retire_dot_oauth2_models deletes the user's applications too)."""
    db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.execute(delete(OAuthRefreshToken).where(OAuthRefreshToken.user_id == user.id))
    db.execute(delete(OAuthAccessToken).where(OAuthAccessToken.user_id == user.id))
    db.execute(delete(OAuthApplication).where(OAuthApplication.user_id == user.id))


def create_retirement(db, settings, user):
    """Queue ``user`` in the first state; RetirementError when states are missing or the
    user is already queued."""
    states = all_states(db)
    if not states:
        raise RetirementError("Default state does not exist! Populate retirement states to "
                              "retire users.")
    pending = states[0]
    if db.scalar(select(UserRetirementStatus.id).where(
            UserRetirementStatus.user_id == user.id)) is not None:
        raise RetirementError(f"User {user.username} already has a retirement status row!")
    if db.scalar(select(UserRetirementRequest.id).where(
            UserRetirementRequest.user_id == user.id)) is not None:
        raise RetirementError(f"User {user.username} already has a retirement request row!")
    db.add(UserRetirementRequest(user_id=user.id))
    status = UserRetirementStatus(
        user_id=user.id,
        original_username=user.username,
        original_email=user.email,
        original_name=user.name or "",
        retired_username=api.retired_username(settings, user.username),
        retired_email=api.retired_email(settings, user.email),
        current_state_id=pending.id,
        last_state_id=pending.id,
        responses=f"Created in state {state_label(pending)} by create_retirement",
    )
    db.add(status)
    db.flush()
    return status


def queue_retirement(db, settings, user):
    """Upstream's ``create_retirement_request_and_deactivate_account``: queue the user and
    lock the account now (the person keeps ``is_active`` until retire/)."""
    status = create_retirement(db, settings, user)
    db.execute(delete(SocialAuthLink).where(SocialAuthLink.user_id == user.id))
    user.email = status.retired_email
    user.password = make_unusable()
    db.execute(delete(Registration).where(Registration.user_id == user.id))
    revoke_credentials(db, user)
    profile = api.get_profile(db, user.id)
    if profile is not None:  # the recovery email (AccountRecovery upstream)
        profile.secondary_email = None
        profile.secondary_email_active = False
    db.flush()
    return status


# -- update_retirement_status/ ---------------------------------------------------------

UPDATE_REQUIRED_KEYS = ("username", "new_state", "response")
UPDATE_KNOWN_KEYS = UPDATE_REQUIRED_KEYS + ("force",)


def update_state(db, status, update_data):
    """Move ``status`` as upstream's ``update_state`` does; RetirementError when refused.

    Only strictly later states are allowed unless ``force`` is truthy. Upstream's
    check against leaving a dead end never fires (it compares a state to names),
    so ERRORED -> ABORTED -> COMPLETE stays possible: kept that way.
    """
    for key in UPDATE_REQUIRED_KEYS:
        if key not in update_data:
            raise RetirementError(f"RetirementStatus: Required key {key} missing from update")
    for key in update_data:
        if key not in UPDATE_KNOWN_KEYS:
            raise RetirementError(f"RetirementStatus: Unknown key {key} in update")
    states = all_states(db)
    current = next(state for state in states if state.id == status.current_state_id)
    new_name = update_data["new_state"]
    new_state = find_state(states, new_name) if isinstance(new_name, str) else None
    if not update_data.get("force", False):
        if new_state is None or (new_state.state_execution_order
                                 <= current.state_execution_order):
            raise RetirementError(f"{new_name} does not exist or is an eariler state than "
                                  f"current state {state_label(current)}")
    elif new_state is None:
        # A 500 upstream (RetirementState.DoesNotExist): the same words, as a 400.
        raise RetirementError("RetirementState matching query does not exist.")
    response = str(update_data["response"]).replace("\x00", "\ufffd")
    status.last_state_id = current.id
    status.current_state_id = new_state.id
    status.responses = (status.responses or "") + (
        f"\n Moved from {state_label(current)} to {state_label(new_state)}:\n{response}\n")
    db.flush()


# -- the LMS steps -------------------------------------------------------------------

def retire_misc(db, status):
    """retire_misc/: pending name changes and third-party auth links (what openlms has of
    upstream's wiki, credit, API-access and social-auth history scrubbing)."""
    db.execute(delete(PendingNameChange).where(PendingNameChange.user_id == status.user_id))
    db.execute(delete(SocialAuthLink).where(SocialAuthLink.user_id == status.user_id))


def _blank_profile(db, user_id):
    profile = api.get_profile(db, user_id)
    if profile is None:
        return
    # Upstream's USER_PROFILE_PII, plus goals and state: free text and location.
    for field in ("year_of_birth", "gender", "mailing_address", "city", "state", "country",
                  "goals", "bio", "phone_number", "secondary_email"):
        setattr(profile, field, None)
    profile.secondary_email_active = False
    profile.meta = {}
    profile.social_links = []
    profile.profile_image_uploaded_at = None


def retire(db, registry, status, after_commit):
    """retire/: scrub every plugin's data about the learner, then rename them.

    Plugins scrub through ``lms_retire_user`` (run before the rename, with the
    user row as it was); any exception aborts the whole step. Files (profile
    images) go only once the transaction commits: ``after_commit(action)``.
    """
    user = db.get(User, status.user_id)
    image_owner = user.username  # image files are named after the username at upload
    after_commit(lambda: images.remove(registry, image_owner))
    retired_username = status.retired_username or api.retired_username(
        registry.settings, status.original_username)
    retired_email = status.retired_email or api.retired_email(registry.settings, user.email)
    retire_misc(db, status)
    _blank_profile(db, user.id)
    for model in (PendingEmailChange, UserOrgTag, UserPreference):
        db.execute(delete(model).where(model.user_id == user.id))
    db.execute(update(VerificationAttempt).where(VerificationAttempt.user_id == user.id)
               .values(name=""))
    revoke_credentials(db, user)
    db.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
    db.flush()
    plugin_manager = registry["lms.plugin_manager"]
    plugin_manager.hook.lms_retire_user(dbsession=db, user=user,
                                        retired_username=retired_username,
                                        retired_email=retired_email,
                                        original_email=status.original_email or user.email)
    user.name = ""
    user.is_active = False
    user.username = retired_username
    user.email = retired_email
    db.flush()
    plugin_manager.hook.lms_user_deactivated(dbsession=db, user=user)


# -- partner reporting -------------------------------------------------------------------

def enrollment_orgs(db, registry, user_id):
    """Orgs of every course the user is or was enrolled in (``lms_enrollment_orgs``)."""
    answers = registry["lms.plugin_manager"].hook.lms_enrollment_orgs(dbsession=db,
                                                                      user_id=user_id)
    return sorted({org for answer in answers for org in (answer or ())
                   if isinstance(org, str) and org not in IGNORED_ORGS})


def queue_partner_report(db, registry, status):
    """PUT retirement_partner_report/: remember the learner for partners, when they had
    enrollments (get-or-create, from the status's original identity)."""
    orgs = enrollment_orgs(db, registry, status.user_id)
    if not orgs:
        return None
    row = db.scalar(select(UserRetirementPartnerReport).where(
        UserRetirementPartnerReport.user_id == status.user_id))
    if row is None:
        row = UserRetirementPartnerReport(
            user_id=status.user_id, original_username=status.original_username,
            original_email=status.original_email, original_name=status.original_name,
            orgs=orgs)
        db.add(row)
        db.flush()
    return row


def take_partner_report(db, registry):
    """POST retirement_partner_report/: the rows not yet being processed, now marked so."""
    rows = db.scalars(select(UserRetirementPartnerReport)
                      .where(UserRetirementPartnerReport.is_being_processed.is_(False))
                      .order_by(UserRetirementPartnerReport.id)).all()
    report = []
    for row in rows:
        orgs = set(enrollment_orgs(db, registry, row.user_id)) | set(row.orgs or ())
        report.append({
            "user_id": row.user_id,
            "original_username": row.original_username,
            "original_email": row.original_email,
            "original_name": row.original_name,
            "orgs": sorted(orgs),
            "created": row.created,
        })
        row.is_being_processed = True
    db.flush()
    return report


def clean_up_partner_report(db, usernames):
    """POST retirement_partner_report_cleanup/: delete the reported rows, all or nothing."""
    if not usernames:
        raise RetirementError("No original_usernames given.")
    plain = [name for name in usernames if _plain_text(name) is not None]
    rows = db.scalars(select(UserRetirementPartnerReport).where(
        UserRetirementPartnerReport.is_being_processed.is_(True),
        UserRetirementPartnerReport.original_username.in_(plain))).all() if plain else []
    if len(rows) != len(usernames):
        found = ", ".join(row.original_username for row in rows)
        raise RetirementError(f"{len(usernames)} original_usernames given, {len(rows)} found!\n"
                              f"Given usernames:\n{usernames}\n"
                              f"Found UserRetirementReportingStatuses:\n{found}")
    for row in rows:
        db.delete(row)
    db.flush()


# -- cleanup and cancellation ------------------------------------------------------------

def clean_up(db, usernames, redacted_username=REDACTED, redacted_email=REDACTED,
             redacted_name=REDACTED):
    """retirement_cleanup/: redact, then delete, the statuses of COMPLETE learners.

    Redacting first protects downstream copies that treat deletes as soft
    deletes. The retirement request rows stay (they hold no PII).
    """
    complete = find_state(all_states(db), COMPLETE_STATE)
    plain = [name for name in usernames if _plain_text(name) is not None]
    ids = db.scalars(select(UserRetirementStatus.id).where(
        UserRetirementStatus.original_username.in_(plain),
        UserRetirementStatus.current_state_id == complete.id)).all() if plain and complete else []
    if len(ids) != len(usernames):
        raise RetirementError("Not all usernames exist in the COMPLETE state.")
    if not ids:
        return
    db.execute(update(UserRetirementStatus).where(UserRetirementStatus.id.in_(ids)).values(
        original_username=redacted_username, original_email=redacted_email,
        original_name=redacted_name))
    db.execute(delete(UserRetirementStatus).where(UserRetirementStatus.id.in_(ids)))


def cancel(db, status):
    """cancel_retirement/: give the account back (original email, a random password the
    learner must reset) and forget the retirement; only from PENDING."""
    pending = db.get(RetirementState, status.current_state_id)
    if pending.state_name != START_STATE:
        raise RetirementError(
            "Retirement requests can only be cancelled for users in the PENDING state. Current "
            f"request state for '{status.original_username}': {pending.state_name}")
    user = db.get(User, status.user_id)
    user.email = status.original_email
    alphabet = string.ascii_letters + string.digits
    user.password = hash_password(db, "".join(secrets.choice(alphabet)
                                              for _ in range(CANCELLED_PASSWORD_LENGTH)))
    db.delete(status)
    # Upstream deletes the request row only when the status was still PENDING: it is here.
    db.execute(delete(UserRetirementRequest).where(UserRetirementRequest.user_id == user.id))
    db.flush()


# -- commands ----------------------------------------------------------------------------

@click.command("populate-retirement-states")
@click.option("--dry-run", is_flag=True, help="Check and report without changing anything.")
@pass_environment
def populate_retirement_states_command(environment, dry_run):
    """Sync the retirement states with the accounts.retirement_states setting."""
    names = configured_states(environment.settings)
    if dry_run:
        click.echo("--- Dry run, no changes will be made ---")
    try:
        with environment.session() as db:
            added, removed, kept = sync_states(db, names, dry_run=dry_run)
            current = [state_label(state) for state in all_states(db)]
    except RetirementError as exc:
        raise click.ClickException(str(exc))
    click.echo("States have been synchronized. Differences:")
    click.echo(f"   Added: {sorted(added)}")
    click.echo(f"   Removed: {sorted(removed)}")
    click.echo(f"   Remaining: {sorted(kept)}")
    click.echo("Current states:")
    for label in current:
        click.echo(label)


@click.command("retire-user")
@click.option("--username", required=True, help="The learner's username.")
@click.option("--email", required=True, help="The learner's email (must match the account).")
@pass_environment
def retire_user_command(environment, username, email):
    """Queue a learner for retirement (PENDING) and lock the account, as deactivate_logout/
    does; the retirement driver does the rest."""
    with environment.session() as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is None or user.email.lower() != email.lower():
            raise click.ClickException(f"no user {username!r} with email {email!r}")
        try:
            status = queue_retirement(db, environment.settings, user)
        except RetirementError as exc:
            raise click.ClickException(str(exc))
        message = f"queued {username!r} for retirement (status id {status.id}, PENDING)"
    click.echo(message)


COMMANDS = [populate_retirement_states_command, retire_user_command]
