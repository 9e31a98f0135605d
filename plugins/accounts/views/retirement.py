"""The retirement pipeline API, ``/api/user/v1/accounts/...`` (upstream user_api).

- ``deactivate_logout/``: the learner (JWT, session or Bearer) confirms with
  their password; the account is locked and queued in PENDING.
- Everything else serves the retirement driver (Open edX's
  ``scripts/user_retirement``): DRF's default authentication (JWT, session)
  and ``CanRetireUser``, i.e. a superuser or the account named by
  ``accounts.retirement_service_username`` while it is active global staff.
  ``cancel_retirement/`` is for superusers (upstream: superusers, or staff
  holding a Django model permission openlms does not have).

Bodies are JSON only (DRF's JSONParser): a form body is a 415, an empty body
reads as ``{}``, and a body is parsed only by the endpoints that read one, so
GETs and ``POST retirement_partner_report/`` ignore whatever comes with them.
Errors are upstream's: bare JSON strings, ``{"message": ...}`` or empty
bodies. Where upstream answers 500 to bad input, openlms answers 400 with the
same words (non-object bodies, unknown states with ``force``, negative limits,
missing ``usernames``, malformed partner cleanup lists).
"""
import logging
import unicodedata
from datetime import UTC, datetime, timedelta

import colander
from sqlalchemy import select

from lms import permissions
from lms.auth import (
    BEARER_STRICT,
    DEFAULT_AUTH,
    JWT,
    JWT_COOKIE_HEADER_PAYLOAD,
    JWT_COOKIE_SIGNATURE,
    SESSION_STRICT,
)
from lms.errors import APIError
from lms.mail import send_mail
from lms.models import User
from lms.passwords import check_password
from lms.request import form_fields, request_data
from lms.responses import empty, no_content
from lms.routing import USERNAME
from lms.schemas import StrictString
from lms.service import Service
from lms.session import LOGGED_IN_COOKIE, USER_INFO_COOKIE, LockoutPolicy, delete_cookie
from lms.timeutil import isoformat, utcnow
from plugins.accounts import openapi_schemas as doc
from plugins.accounts import retirement
from plugins.accounts.config import accounts_config
from plugins.accounts.models import UserProfile, UserRetirementStatus
from plugins.accounts.retirement import RetirementError

log = logging.getLogger(__name__)

PREFIX = "/api/user/v1/accounts/"
# DeactivateLogoutView: plain (not AllowInactive) session and Bearer classes.
DEACTIVATE_AUTH = (JWT, SESSION_STRICT, BEARER_STRICT)

deactivate_logout = Service("accounts.deactivate_logout", PREFIX + "deactivate_logout/",
                            auth=DEACTIVATE_AUTH)
retirement_queue = Service("accounts.retirement_queue", PREFIX + "retirement_queue/",
                           auth=DEFAULT_AUTH)
retirements_by_date = Service("accounts.retirements_by_status_and_date",
                              PREFIX + "retirements_by_status_and_date/", auth=DEFAULT_AUTH)
retirement_status = Service("accounts.retirement_status",
                            f"{PREFIX}{USERNAME}/retirement_status/", auth=DEFAULT_AUTH)
update_retirement_status = Service("accounts.update_retirement_status",
                                   PREFIX + "update_retirement_status/", auth=DEFAULT_AUTH)
retire_misc = Service("accounts.retire_misc", PREFIX + "retire_misc/", auth=DEFAULT_AUTH)
retire = Service("accounts.retire", PREFIX + "retire/", auth=DEFAULT_AUTH)
retirement_cleanup = Service("accounts.retirement_cleanup", PREFIX + "retirement_cleanup/",
                             auth=DEFAULT_AUTH)
partner_report = Service("accounts.retirement_partner_report",
                         PREFIX + "retirement_partner_report/", auth=DEFAULT_AUTH)
partner_report_cleanup = Service("accounts.retirement_partner_report_cleanup",
                                 PREFIX + "retirement_partner_report_cleanup/",
                                 auth=DEFAULT_AUTH)
cancel_retirement = Service("accounts.cancel_retirement", PREFIX + "cancel_retirement/",
                            auth=DEFAULT_AUTH)

MSG_LOCKED_OUT = ("This account has been temporarily locked due to excessive login failures. "
                  "Try again later.")
MSG_INCORRECT = "Email or password is incorrect."
MSG_NO_USERNAME = "The user was not specified."
MSG_BAD_PARTNER_CLEANUP = 'Expected a JSON array of {"original_username": ...} objects.'
JSON_MEDIA_TYPE = "application/json"
MAX_LIMIT = 2**31 - 1  # beyond any real queue; keeps LIMIT inside the database's integers
MAX_ROW_ID = 2**31 - 1  # larger ids cannot exist (and would overflow the database)


# -- shared helpers ------------------------------------------------------------------

def bare(status, message):
    """A bare JSON string body, as the retirement views answer."""
    return APIError(status, message)


def can_retire_user(request, **kwargs):
    """``CanRetireUser``: a superuser, or the retirement service account (which must be
    active global staff: a username alone grants nothing)."""
    user = request.user
    permissions.require(permissions.is_superuser(user)
                        or retirement.is_retirement_service(request.registry, user))


def superuser_only(request, **kwargs):
    """``CanCancelUserRetirement`` without Django model permissions: superusers."""
    permissions.require(request.user.is_superuser)


def json_body(request):
    """``request.data`` with only DRF's JSONParser: ``{}`` for no body, 415 for others."""
    return request_data(request, (JSON_MEDIA_TYPE,))


def default_body(request):
    """``request.data`` with DRF's default parsers (JSON, form, multipart)."""
    return request_data(request)


def required_username(data):
    """``request_requires_username``: 404 ``{"message"}`` without a truthy ``username``.

    A body that is not a JSON object has no username either (a 500 upstream).
    """
    username = data.get("username") if isinstance(data, dict) else None
    if not username:
        raise APIError(404, {"message": MSG_NO_USERNAME})
    return username


def status_for_action(request, username):
    try:
        status = retirement.status_for_action(request.dbsession, username)
    except RetirementError as exc:
        raise bare(400, str(exc))
    if status is None:
        raise empty(404)
    return status


def run_step(step, *args):
    """Run a pipeline step; anything unexpected is upstream's 500 with the error text
    (raised, so the step's transaction is rolled back)."""
    try:
        return step(*args)
    except APIError:
        raise
    except Exception as exc:
        log.exception("retirement step %s failed", step.__name__)
        raise bare(500, str(exc))


def after_commit(request):
    def register(action):
        def hook(success):
            if success:
                action()

        request.tm.get().addAfterCommitHook(hook)

    return register


# -- serialization -----------------------------------------------------------------------

def serialize_state(state):
    return {"id": state.id, "state_name": state.state_name,
            "state_execution_order": state.state_execution_order}


def serialize_status(status, user, profile_id, states_by_id):
    """UserRetirementStatusSerializer (everything but the ``responses`` log)."""
    return {
        "id": status.id,
        "current_state": serialize_state(states_by_id[status.current_state_id]),
        "last_state": serialize_state(states_by_id[status.last_state_id]),
        "user": {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "profile": {"id": profile_id, "name": user.name},
        },
        "created": isoformat(status.created),
        "modified": isoformat(status.modified),
        "original_username": status.original_username,
        "original_email": status.original_email,
        "original_name": status.original_name,
        "retired_username": status.retired_username,
        "retired_email": status.retired_email,
    }


def statuses_with_users():
    """Statuses with their user and profile id: one query for any number of rows."""
    return (select(UserRetirementStatus, User, UserProfile.id)
            .join(User, User.id == UserRetirementStatus.user_id)
            .outerjoin(UserProfile, UserProfile.user_id == User.id)
            .order_by(UserRetirementStatus.id))


def serialize_rows(rows, states):
    states_by_id = {state.id: state for state in states}
    return [serialize_status(status, user, profile_id, states_by_id)
            for status, user, profile_id in rows]


# -- deactivate_logout/ ------------------------------------------------------------------

def notify_deletion(request, email, full_name):
    platform = request.registry.settings["lms.platform_name"]
    greeting = f"Hello {full_name}," if full_name else "Hello,"
    text = (
        f"{greeting}\n\n"
        f"We have received your request to delete your {platform} account. You have been "
        "signed out, you can no longer sign in, and the personal information connected to "
        "the account is being removed.\n\n"
        f"If you did not ask for this, contact the {platform} support team right away.\n"
    )
    send_mail(request, email, f"Your {platform} account is being deleted", text)


def log_out_everywhere(request, response):
    """Upstream logs the request's session out; every session is gone already, so only
    the browser's cookies remain to delete (as ``/logout`` does)."""
    config = request.registry["lms.auth_config"]
    if config.session_cookie_name in request.cookies:
        delete_cookie(response, config, config.session_cookie_name)
    for name in (JWT_COOKIE_HEADER_PAYLOAD, JWT_COOKIE_SIGNATURE, LOGGED_IN_COOKIE,
                 USER_INFO_COOKIE):
        delete_cookie(response, config, name)


@deactivate_logout.post(body=doc.PASSWORD_FORM,
                        responses={204: doc.NO_BODY, 400: "No `password` form field.",
                                   403: "Deletion disabled, locked out or a wrong password."})
def post_deactivate_logout(request):
    """Queue the caller's own account for retirement (password confirmed) and log out."""
    settings = request.registry.settings
    if not accounts_config(request.registry).enable_account_deletion:
        raise empty(403)
    user = request.user
    policy = LockoutPolicy(request)
    if policy.enabled and policy.is_locked_out(user):
        raise bare(403, MSG_LOCKED_OUT)
    # Like Django's request.POST: form fields only, so a JSON body has no password.
    password = form_fields(request).get("password")
    if not isinstance(password, str):
        raise bare(400, "Could not verify user password: 'password'")
    if not check_password(request, user, unicodedata.normalize("NFKC", password)):
        if policy.enabled:
            policy.increment(user)
        # Returned, not raised: the failure must count (committed).
        return bare(403, MSG_INCORRECT).response()
    if policy.enabled:
        policy.clear(user)
    original_email, full_name = user.email, user.name
    try:
        retirement.queue_retirement(request.dbsession, settings, user)
    except RetirementError as exc:
        raise bare(500, str(exc))
    notify_deletion(request, original_email, full_name)
    response = no_content()
    log_out_everywhere(request, response)
    return response


# -- retirement_queue/ and retirements_by_status_and_date/ -------------------------------

def parse_cool_off_days(params):
    if "cool_off_days" not in params:
        raise bare(400, "Missing required parameter: 'cool_off_days'")
    try:
        days = int(params["cool_off_days"])
    except ValueError:
        raise bare(400, "Invalid cool_off_days, should be integer.")
    if days < 0:
        raise bare(400, "Invalid argument for cool_off_days, must be greater than 0.")
    return days


def parse_limit(params):
    limit = params.get("limit")
    if not limit:
        return None
    try:
        count = int(limit)
    except ValueError:
        count = -1
    if count < 0:  # upstream: not a number → 400; negative → 500 (Django slicing)
        raise bare(400, f"Limit could not be parsed: {limit}, please ensure this is an integer")
    return min(count, MAX_LIMIT)


@retirement_queue.get(validators=(can_retire_user,),
                      query={"cool_off_days": "Queued at least this many days ago.",
                             "states": "A state to list (repeated).",
                             "limit": "At most this many learners."},
                      responses={200: doc.RETIREMENT_STATUSES, 400: doc.BARE_MESSAGE,
                                 403: "Not the retirement service."})
def get_retirement_queue(request):
    """Learners in the given states, queued at least ``cool_off_days`` ago."""
    params = request.GET
    days = parse_cool_off_days(params)
    names = params.getall("states")
    if not names:
        raise bare(400, 'Param "states" required with at least one state.')
    db = request.dbsession
    states = retirement.all_states(db)
    wanted = [state for state in states if state.state_name in names]
    if len(wanted) != len(names):  # unknown or repeated names
        found = [state.state_name for state in wanted]
        raise bare(400, f"Unknown state. Requested: {names} Found: {found}")
    limit = parse_limit(params)
    try:
        earliest = utcnow() - timedelta(days=days)
    except OverflowError:  # before year 1: nobody was queued that long ago
        return []
    stmt = statuses_with_users().where(
        UserRetirementStatus.current_state_id.in_([state.id for state in wanted]),
        UserRetirementStatus.created < earliest)
    if limit is not None:
        stmt = stmt.limit(limit)
    return serialize_rows(db.execute(stmt).all(), states)


def parse_date(params, name):
    if name not in params:
        raise bare(400, f"Missing required parameter: '{name}'")
    try:
        return datetime.strptime(params[name], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise bare(400, f"Invalid start or end date: {exc}")


@retirements_by_date.get(validators=(can_retire_user,),
                         query={"start_date": "YYYY-MM-DD (UTC).", "end_date": "YYYY-MM-DD (UTC).",
                                "state": "The state to list."},
                         responses={200: doc.RETIREMENT_STATUSES, 400: doc.BARE_MESSAGE,
                                    403: "Not the retirement service."})
def get_retirements_by_status_and_date(request):
    """Learners in ``state`` queued between two dates (both inclusive, UTC)."""
    params = request.GET
    start = parse_date(params, "start_date")
    end = parse_date(params, "end_date")
    if start > utcnow() or end > utcnow() or start > end:
        raise bare(400, "Dates must be today or earlier, and start must be earlier than end.")
    if "state" not in params:
        raise bare(400, "Missing required parameter: 'state'")
    db = request.dbsession
    states = retirement.all_states(db)
    state = retirement.find_state(states, params["state"])
    if state is None:
        raise bare(400, "Unknown retirement state.")
    stmt = statuses_with_users().where(
        UserRetirementStatus.current_state_id == state.id,
        UserRetirementStatus.created >= start,
        UserRetirementStatus.created < end + timedelta(days=1))
    return serialize_rows(db.execute(stmt).all(), states)


# -- {username}/retirement_status/ and update_retirement_status/ -------------------------

@retirement_status.get(validators=(can_retire_user,),
                       responses={200: doc.RETIREMENT_STATUS, 403: "Not the retirement service.",
                                  404: "No retirement for this learner."})
def get_retirement_status(request):
    """One learner's status, by their username now or before retire/ renamed them."""
    username = request.matchdict["username"]
    db = request.dbsession
    user = retirement.potentially_retired_user(db, request.registry.settings, username)
    if user is not None:
        stmt = statuses_with_users().where(UserRetirementStatus.user_id == user.id)
    else:  # e.g. retired under a salt no longer configured: the recorded original name
        stmt = statuses_with_users().where(UserRetirementStatus.original_username == username)
    row = db.execute(stmt.limit(1)).first()
    if row is None:
        raise empty(404)
    return serialize_rows([row], retirement.all_states(db))[0]


@update_retirement_status.patch(validators=(can_retire_user,), body=doc.RETIREMENT_UPDATE_BODY,
                                responses={204: doc.NO_BODY, 400: doc.BARE_MESSAGE,
                                           403: "Not the retirement service.",
                                           404: "No `username`, or no such retirement."})
def patch_update_retirement_status(request):
    """Move a learner to a later state and append the step's message to the log."""
    data = json_body(request)
    username = required_username(data)
    db = request.dbsession
    status = retirement.status_by_original_username(db, username)
    if status is None:
        raise empty(404)
    try:
        retirement.update_state(db, status, data)
    except RetirementError as exc:
        raise bare(400, str(exc))
    return no_content()


# -- the LMS steps -----------------------------------------------------------------------

@retire_misc.post(validators=(can_retire_user,), body=doc.USERNAME_BODY,
                  responses={204: doc.NO_BODY, 400: doc.BARE_MESSAGE,
                             403: "Not the retirement service.",
                             404: "No `username`, or no such retirement."})
def post_retire_misc(request):
    """Retirement step: remove the learner's remaining personal data (profile, preferences)."""
    username = required_username(json_body(request))
    status = status_for_action(request, username)
    run_step(retirement.retire_misc, request.dbsession, status)
    return no_content()


@retire.post(validators=(can_retire_user,), body=doc.USERNAME_BODY,
             responses={204: doc.NO_BODY, 400: doc.BARE_MESSAGE,
                        403: "Not the retirement service.",
                        404: "No `username`, or no such retirement."})
def post_retire(request):
    """Retirement step: retire the account itself (username, email and password replaced)."""
    username = required_username(json_body(request))
    status = status_for_action(request, username)
    run_step(retirement.retire, request.dbsession, request.registry, status,
             after_commit(request))
    return no_content()


# -- partner reporting -------------------------------------------------------------------

@partner_report.put(validators=(can_retire_user,), body=doc.USERNAME_BODY,
                    responses={204: doc.NO_BODY, 400: doc.BARE_MESSAGE,
                               403: "Not the retirement service.",
                               404: "No `username`, or no such retirement."})
def put_retirement_partner_report(request):
    """Queue the learner for the partner report (when they had enrollments)."""
    username = required_username(json_body(request))
    status = status_for_action(request, username)
    run_step(retirement.queue_partner_report, request.dbsession, request.registry, status)
    return no_content()


@partner_report.post(validators=(can_retire_user,),
                     responses={200: doc.PARTNER_REPORT, 403: "Not the retirement service."})
def post_retirement_partner_report(request):
    """The learners to report to partners, marked as being processed (body ignored)."""
    report = retirement.take_partner_report(request.dbsession, request.registry)
    for entry in report:
        entry["created"] = isoformat(entry["created"])
    return report


class AnyValue(colander.SchemaType):
    """Whatever JSON value was sent (compared as is; odd values simply match nothing)."""

    def deserialize(self, node, cstruct):
        return cstruct


class PartnerCleanupItem(colander.MappingSchema):
    original_username = colander.SchemaNode(AnyValue())


class PartnerCleanupBody(colander.SequenceSchema):
    item = PartnerCleanupItem()


@partner_report_cleanup.post(validators=(can_retire_user,), body=doc.PARTNER_CLEANUP_BODY,
                             responses={204: doc.NO_BODY, 400: doc.BARE_MESSAGE,
                                        403: "Not the retirement service."})
def post_retirement_partner_report_cleanup(request):
    """Forget the reported learners: ``[{"original_username": ...}, ...]``."""
    data = json_body(request)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise bare(400, MSG_BAD_PARTNER_CLEANUP)
    try:
        items = PartnerCleanupBody().deserialize(data)
    except colander.Invalid:
        raise bare(400, MSG_BAD_PARTNER_CLEANUP)
    try:
        retirement.clean_up_partner_report(
            request.dbsession, [item["original_username"] for item in items])
    except RetirementError as exc:
        raise bare(400, str(exc))
    return no_content()


# -- retirement_cleanup/ -----------------------------------------------------------------

class UsernameList(colander.SchemaType):
    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if not isinstance(cstruct, list):
            raise colander.Invalid(node, "Usernames should be an array.")
        return cstruct


def redacted(name, max_length):
    return colander.SchemaNode(
        StrictString(), name=name, missing=retirement.REDACTED,
        validator=colander.Length(max=max_length,
                                  max_err=f"{name} must be at most {max_length} characters."))


class CleanupBody(colander.MappingSchema):
    usernames = colander.SchemaNode(UsernameList(),
                                    missing_msg="Missing required parameter: 'usernames'")
    redacted_username = redacted("redacted_username", 150)
    redacted_email = redacted("redacted_email", 254)
    redacted_name = redacted("redacted_name", 255)


def first_error(schema, error):
    """The message of the first failing field, in the schema's order."""
    messages = error.asdict()
    for child in schema.children:
        if child.name in messages:
            return messages[child.name]
    return next(iter(messages.values()))


@retirement_cleanup.post(validators=(can_retire_user,), body=doc.RETIREMENT_CLEANUP_BODY,
                         responses={204: doc.NO_BODY, 400: doc.BARE_MESSAGE,
                                    403: "Not the retirement service."})
def post_retirement_cleanup(request):
    """Redact, then delete, the statuses of learners whose retirement is COMPLETE."""
    data = json_body(request)
    if not isinstance(data, dict):
        raise bare(400, "Missing required parameter: 'usernames'")
    schema = CleanupBody()
    try:
        body = schema.deserialize(data)
    except colander.Invalid as exc:
        raise bare(400, first_error(schema, exc))
    try:
        retirement.clean_up(request.dbsession, body["usernames"], body["redacted_username"],
                            body["redacted_email"], body["redacted_name"])
    except RetirementError as exc:
        raise bare(400, str(exc))
    return no_content()


# -- cancel_retirement/ ------------------------------------------------------------------

class RetirementId(colander.SchemaType):
    """A status id: an integer, or its digits as a form sends them."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if isinstance(cstruct, int) and not isinstance(cstruct, bool):
            return cstruct
        if isinstance(cstruct, str) and cstruct.strip().isascii() and cstruct.strip().isdigit():
            return int(cstruct)
        raise colander.Invalid(node, "Retirement does not exist!")


class CancelBody(colander.MappingSchema):
    retirement_id = colander.SchemaNode(RetirementId(),
                                        missing_msg="retirement_id must be specified.")


@cancel_retirement.post(validators=(superuser_only,), body=doc.CANCEL_RETIREMENT_BODY,
                        responses={200: doc.SUCCESS, 403: "Not a superuser."})
def post_cancel_retirement(request):
    """Give a PENDING learner their account back (they must reset their password)."""
    data = default_body(request)
    try:
        body = CancelBody().deserialize(data if isinstance(data, dict) else {})
    except colander.Invalid as exc:
        raise APIError(400, {"message": first_error(CancelBody(), exc)})
    db = request.dbsession
    retirement_id = body["retirement_id"]
    status = db.get(UserRetirementStatus, retirement_id) if retirement_id <= MAX_ROW_ID else None
    if status is None:
        raise APIError(400, {"message": "Retirement does not exist!"})
    try:
        retirement.cancel(db, status)
    except RetirementError as exc:
        raise APIError(400, {"message": str(exc)})
    return {"success": True}
