"""Who may call each accounts endpoint (checked by ``lms.testing``'s permission matrix).

The world's service user is both the retirement service
(``accounts.retirement_service_username``) and the username replacement
worker; it is active global staff, as provisioned. Upstream permission
classes are named next to each row. The legacy ``/user_api/...`` aliases
(``Service.alias``) inherit the rows of the services they serve again.
"""
import io
from datetime import date

from sqlalchemy import select, update

from lms.matrix import (
    AUTHENTICATED,
    EVERYONE,
    OWNER_OR_STAFF,
    SERVICE_USERNAME,
    STAFF_ONLY,
    SUPERUSER_ONLY,
    PluginMatrix,
    Row,
    every_signed_in,
)
from plugins.accounts import api, identity, retirement
from plugins.accounts.models import (
    DiscussionTour,
    PendingNameChange,
    RetirementState,
    UserRetirementPartnerReport,
    UserRetirementStatus,
)

PRIVATE_PREFERENCE = "matrix-private-preference-value"
PENDING_NAME = "Ottoline Pendingname"
# Anyone, the restricted application excepted (core rule: NotJwtRestrictedApplication).
OPEN = {**EVERYONE, "restricted_jwt": "forbidden"}
# Writes of the caller's own data: the owner only; IsUserInUrlOrStaff lets staff
# past the permission class, then the api refuses anyone but the owner (403).
OWNER_WRITES = {**OWNER_OR_STAFF, "global_staff": "forbidden", "superuser": "forbidden",
                "service_user": "forbidden"}
# CanRetireUser: a superuser or the retirement service account.
RETIREMENT_SERVICE = {**STAFF_ONLY, "global_staff": "forbidden"}
# ApiKeyHeaderPermission: only the X-Edx-Api-Key holder, whoever signs in.
API_KEY_ONLY = every_signed_in("forbidden")
# Session-only views: without a session DRF answers 403 (no WWW-Authenticate to send).
SESSION_SIGNED_IN = {**AUTHENTICATED, "anonymous": "forbidden"}
TPA_USER = {"*": "forbidden", "learner": "ok", "superuser": "ok"}


def png():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 120), "teal").save(buffer, "PNG")
    return buffer.getvalue()


IMAGE = [("file", "matrix.png", png())]


def setup(world):
    db, settings = world.db, world.registry.settings
    learner = world.users["learner"]
    api.get_profile(db, learner.id, create=True)
    api.set_preference(db, learner.id, "matrix_secret", PRIVATE_PREFERENCE)
    world.plant("learner", PRIVATE_PREFERENCE)
    db.add(PendingNameChange(user_id=learner.id, new_name=PENDING_NAME, rationale="r"))
    world.plant("learner", PENDING_NAME)
    attempt = identity.record_verification(db, settings, learner, "approved")
    world.values["verification_id"] = attempt.id
    # A learner in the retirement queue: their original email is the service's only.
    retiree = world.new_user("retiree")
    status = retirement.queue_retirement(db, settings, retiree)
    world.values["retiree"] = retiree.username
    db.add(reported(status))
    tour = DiscussionTour(user_id=learner.id, tour_type="matrix_tour", show_tour=True)
    db.add(tour)
    db.flush()
    world.values["discussion_tour_id"] = tour.id


def fresh_target(world):
    """Another user to act on, so that one cell's success spares the next."""
    return {"username": world.new_user("target").username}


def pending_name_change(world):
    user = world.new_user("renamed")
    world.db.add(PendingNameChange(user_id=user.id, new_name="Someone Else", rationale="r"))
    world.db.commit()
    return {"username": user.username}


def retiree(world, state=None):
    """A fresh learner queued for retirement (in ``state`` when given)."""
    user = world.new_user("retiree")
    status = retirement.queue_retirement(world.db, world.registry.settings, user)
    if state is not None:
        state_id = world.db.scalar(select(RetirementState.id)
                                   .where(RetirementState.state_name == state))
        world.db.execute(update(UserRetirementStatus)
                         .where(UserRetirementStatus.id == status.id)
                         .values(current_state_id=state_id))
    world.db.commit()
    return user.username


def reported(status, being_processed=False):
    """A partner report row for a queued learner (as PUT retirement_partner_report/ makes)."""
    return UserRetirementPartnerReport(
        user_id=status.user_id, original_username=status.original_username,
        original_email=status.original_email, original_name=status.original_name,
        orgs=["MatrixX"], is_being_processed=being_processed)


def reported_retiree(world):
    """A fresh learner already sent to partners, for the report cleanup."""
    username = retiree(world, "RETIRING_LMS")
    status = retirement.status_by_original_username(world.db, username)
    world.db.add(reported(status, being_processed=True))
    world.db.commit()
    return [{"original_username": username}]


def retirement_id(world):
    status = retirement.status_by_original_username(world.db, retiree(world))
    return status.id


def registration(world):
    name = f"newcomer_{world.role}"
    return {"username": name, "email": f"{name}@matrix-mail.example", "name": "New Comer",
            "password": "matrix-Pa55word-new", "honor_code": "true", "terms_of_service": "true"}


ROWS = [
    # -- accounts ---------------------------------------------------------------------------
    Row("accounts.me", "GET", AUTHENTICATED),
    # AccountViewSet.list: anyone signed in; others' accounts are cut to public fields.
    Row("accounts.account_list", "GET", AUTHENTICATED, query={"username": "{learner}"},
        scan=("other_learner", "course_staff")),
    # Non-staff get upstream's 404 {"developer_message": "not_found", ...}.
    Row("accounts.search_emails", "POST", {**STAFF_ONLY, "learner": "hidden",
                                           "other_learner": "hidden", "course_staff": "hidden"},
        body={"emails": ["{learner_email}"]}),
    Row("accounts.account_detail", "GET", AUTHENTICATED, path={"username": "{learner}"},
        scan=("other_learner", "course_staff")),
    # UserNotAuthorized: 403 to staff, 404 to everyone else.
    # Only the owner; anyone else (staff included) 403 with an empty body.
    Row("accounts.account_detail", "PATCH", OWNER_WRITES, path={"username": "{learner}"},
        body={"bio": "matrix bio"},
        content_type="application/merge-patch+json"),
    Row("accounts.deactivate", "POST", SUPERUSER_ONLY, path=fresh_target,
        note="CanDeactivateUser: the can_deactivate_users permission (superusers)"),
    Row("accounts.name_change", "POST", AUTHENTICATED, body={"name": "Renamed Person"}),
    Row("accounts.name_change_confirm", "POST", STAFF_ONLY, path=pending_name_change,
        note="IsAdminUser"),
    Row("accounts.replace_usernames", "POST", {**SUPERUSER_ONLY, "service_user": "ok",
                                               "superuser": "forbidden"},
        body=lambda world: {"username_mappings": [
            {fresh_target(world)["username"]: f"replaced_{world.role}"}]},
        note="CanReplaceUsername: the replacement worker only"),
    # -- MFE context and configuration (AllowAny) --------------------------------------------
    Row("accounts.mfe_context", "GET", OPEN),
    Row("accounts.third_party_auth_context", "GET", OPEN),
    Row("accounts.mfe_config", "GET", OPEN),
    Row("accounts.toggle_state", "GET", STAFF_ONLY, note="IsStaff"),
    Row("accounts.demographics_status", "GET", AUTHENTICATED),
    Row("accounts.demographics_status", "PATCH", AUTHENTICATED,
        body={"show_call_to_action": False}),
    # -- user tours ---------------------------------------------------------------------------
    # UserTourView answers another user 400 (staff may read), and PUT 405.
    Row("accounts.user_tour", "GET", {**OWNER_OR_STAFF, "other_learner": "invalid",
                                      "course_staff": "invalid"},
        path={"username": "{learner}"}),
    Row("accounts.user_tour", "PATCH", {**every_signed_in("invalid"), "learner": "ok"},
        path={"username": "{learner}"}, body={"course_home_tour_status": "no-tour"}),
    Row("accounts.user_tour", "PUT", every_signed_in("not_allowed"),
        path={"username": "{learner}"}, body={"course_home_tour_status": "no-tour"}),
    # UserDiscussionsToursView: GET lists (and creates) the caller's own tours, whatever the
    # id; PUT changes the caller's own tour only (403), and without an id finds none (404).
    Row("accounts.discussion_tours", "GET", AUTHENTICATED),
    Row("accounts.discussion_tours", "PUT", every_signed_in("hidden"), body={"show_tour": False}),
    Row("accounts.discussion_tour", "GET", AUTHENTICATED, path={"tour_id": "{discussion_tour_id}"}),
    Row("accounts.discussion_tour", "PUT", {**every_signed_in("forbidden"), "learner": "ok"},
        path={"tour_id": "{discussion_tour_id}"}, body={"show_tour": False}),
    # No job catalogue is configured: every job id is unknown.
    Row("accounts.skill_level", "GET", every_signed_in("hidden"), path={"job_id": "1"}),
    # -- user_api listings (ApiKeyHeaderPermission: the X-Edx-Api-Key holder only) -------------
    Row("accounts.users", "GET", API_KEY_ONLY),
    Row("accounts.user", "GET", API_KEY_ONLY, path={"id": "{learner_id}"}),
    Row("accounts.user_prefs", "GET", API_KEY_ONLY),
    Row("accounts.user_pref", "GET", API_KEY_ONLY, path={"id": "1"}),
    Row("accounts.preference_users", "GET", API_KEY_ONLY, path={"pref_key": "matrix_secret"}),
    # -- preferences ---------------------------------------------------------------------------
    Row("accounts.preferences_email_opt_in", "POST", SESSION_SIGNED_IN,
        body={"course_id": "{course_key}", "email_opt_in": "true"}, form=True,
        note="session only"),
    Row("accounts.preferences_time_zones", "GET", OPEN),
    Row("accounts.preference_detail", "GET",
        {**OWNER_OR_STAFF, "restricted_jwt": "unauthenticated"},
        path={"username": "{learner}", "preference_key": "matrix_secret"},
        note="Bearer or session: a JWT is no credential here"),
    Row("accounts.preference_detail", "PUT", {**OWNER_WRITES, "restricted_jwt": "unauthenticated"},
        path={"username": "{learner}", "preference_key": "matrix_other"}, body="value"),
    Row("accounts.preference_detail", "DELETE",
        {**OWNER_WRITES, "restricted_jwt": "unauthenticated"},
        path={"username": "{learner}", "preference_key": "matrix_secret"}),
    Row("accounts.preferences", "GET", OWNER_OR_STAFF, path={"username": "{learner}"}),
    Row("accounts.preferences", "PATCH", OWNER_WRITES, path={"username": "{learner}"},
        body={"matrix_other": "value"}, content_type="application/merge-patch+json"),
    # -- profile images -------------------------------------------------------------------------
    Row("accounts.profile_image", "POST", OWNER_WRITES, path={"username": "{learner}"},
        upload=IMAGE, note="IsUserInUrl"),
    # DELETE has the same permission classes (the docstring's staff removal never passes).
    Row("accounts.profile_image", "DELETE", OWNER_WRITES, path={"username": "{learner}"},
        note="IsUserInUrl"),
    Row("accounts.profile_image_upload", "POST", OWNER_WRITES, path={"username": "{learner}"},
        upload=IMAGE),
    Row("accounts.profile_image_remove", "POST", OWNER_WRITES,
        path={"username": "{learner}"}),
    Row("accounts.profile_image_file", "GET", {"*": "hidden"}, path={"name": "nothing.jpg"}),
    Row("accounts.default_profile_image", "GET", EVERYONE, path={"size": "50"}),
    # -- registration and activation (AllowAny) --------------------------------------------------
    # No authentication at all: a JWT is ignored, every caller is anonymous here.
    Row("accounts.registration_v1", "GET", EVERYONE),
    Row("accounts.registration_v1", "POST", EVERYONE, body=registration, form=True),
    Row("accounts.registration_v2", "GET", EVERYONE),
    Row("accounts.registration_v2", "POST", EVERYONE, body=registration, form=True),
    Row("accounts.registration_validation", "POST", EVERYONE, body={"username": "someone_new"}),
    Row("accounts.send_account_activation_email", "POST", SESSION_SIGNED_IN,
        note="session only"),
    Row("accounts.activate", "GET", EVERYONE, path={"key": "0" * 32}),
    Row("accounts.email_confirm", "GET", EVERYONE, path={"key": "0" * 32}),
    Row("accounts.activate_secondary_email", "GET", EVERYONE, path={"key": "0" * 32}),
    # -- password reset (AllowAny) ------------------------------------------------------------
    Row("accounts.password_reset_form", "GET", EVERYONE),
    Row("accounts.password_reset_token_validate", "POST", OPEN, body={"token": "1-bad"}),
    Row("accounts.password_reset_api", "POST", OPEN, path={"uidb36": "1", "token": "bad"},
        body={"new_password1": "x", "new_password2": "x"}),
    Row("accounts.password_change_request", "POST", EVERYONE,
        body={"email": "{learner_email}"}, form=True),
    Row("accounts.password_reset_request", "POST", EVERYONE,
        body={"email": "{learner_email}"}, form=True),
    Row("accounts.password_reset_confirm", "GET", EVERYONE, path={"uidb36": "1", "token": "bad"}),
    Row("accounts.password_reset_confirm", "POST", EVERYONE,
        path={"uidb36": "1", "token": "bad"}, body={"new_password1": "x", "new_password2": "x"},
        form=True),
    Row("accounts.password_reset_complete", "GET", EVERYONE),
    # -- retirement -----------------------------------------------------------------------------
    # The caller queues their own account (DeactivateLogoutView: IsAuthenticated).
    Row("accounts.deactivate_logout", "POST", AUTHENTICATED, body={"password": "{password}"},
        form=True),
    Row("accounts.retirement_queue", "GET", RETIREMENT_SERVICE,
        query={"cool_off_days": "0", "states": "PENDING"}),
    Row("accounts.retirements_by_status_and_date", "GET", RETIREMENT_SERVICE,
        query=lambda world: {"start_date": "2020-01-01", "end_date": date.today().isoformat(),
                             "state": "COMPLETE"}),
    Row("accounts.retirement_status", "GET", RETIREMENT_SERVICE, path={"username": "{retiree}"}),
    Row("accounts.update_retirement_status", "PATCH", RETIREMENT_SERVICE,
        body=lambda world: {"username": retiree(world), "new_state": "LOCKING_ACCOUNT",
                            "response": "locking"}),
    Row("accounts.retire_misc", "POST", RETIREMENT_SERVICE,
        body=lambda world: {"username": retiree(world, "RETIRING_LMS_MISC")}),
    Row("accounts.retire", "POST", RETIREMENT_SERVICE,
        body=lambda world: {"username": retiree(world, "RETIRING_LMS")}),
    Row("accounts.retirement_cleanup", "POST", RETIREMENT_SERVICE, body={"usernames": []}),
    Row("accounts.retirement_partner_report", "PUT", RETIREMENT_SERVICE,
        body=lambda world: {"username": retiree(world, "RETIRING_LMS")}),
    Row("accounts.retirement_partner_report", "POST", RETIREMENT_SERVICE),
    Row("accounts.retirement_partner_report_cleanup", "POST", RETIREMENT_SERVICE,
        body=reported_retiree),
    Row("accounts.cancel_retirement", "POST", SUPERUSER_ONLY,
        body=lambda world: {"retirement_id": retirement_id(world)},
        note="CanCancelUserRetirement: superusers"),
    # -- third-party auth ----------------------------------------------------------------------
    Row("accounts.tpa_user_status", "GET", AUTHENTICATED),
    # Staff, superusers or the API key (no provider is configured: 404 past the check).
    Row("accounts.tpa_user_mapping", "GET", {**STAFF_ONLY, "global_staff": "hidden",
                                             "superuser": "hidden", "service_user": "hidden"},
        path={"provider_id": "oa2-google"}),
    # UserView: the user themselves, a superuser or the API key; anyone else 403
    # (ALLOW_UNPRIVILEGED_SSO_PROVIDER_QUERY off), anonymous callers included.
    Row("accounts.tpa_users", "GET", TPA_USER, query={"username": "{learner}"}),
    Row("accounts.tpa_user", "GET", TPA_USER, path={"username": "{learner}"}),
    # -- identity verification --------------------------------------------------------------------
    Row("accounts.verification_status", "GET", OWNER_OR_STAFF, path={"username": "{learner}"}),
    Row("accounts.verifications", "GET", OWNER_OR_STAFF, path={"username": "{learner}"},
        note="IsStaffOrOwner"),
    Row("accounts.verification_attempt", "GET", STAFF_ONLY,
        path={"attempt_id": "{verification_id}"}),
]

MATRIX = PluginMatrix(rows=ROWS, setup=setup, settings={
    "accounts.retirement_service_username": SERVICE_USERNAME,
    "accounts.username_replacement_worker": SERVICE_USERNAME,
})
