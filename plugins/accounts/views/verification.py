"""Identity verification status (upstream ``user_api.verification_api``).

Authentication is JWT, then the *strict* Bearer and session classes (inactive
users are refused). ``IsStaffOrOwner`` guards a user's own records; the
attempt detail is for global staff only.
"""
from sqlalchemy import select

from lms import permissions
from lms.auth import BEARER_STRICT, JWT, SESSION_STRICT
from lms.errors import not_found
from lms.routing import USERNAME
from lms.service import Service
from lms.users import get_by_username
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.identity import attempts_for_user, serialize_attempt, user_status
from plugins.accounts.models import VerificationAttempt

VERIFICATION_AUTH = (JWT, BEARER_STRICT, SESSION_STRICT)

status_service = Service("accounts.verification_status",
                         f"/api/user/v1/accounts/{USERNAME}/verification_status/",
                         auth=VERIFICATION_AUTH)
details_service = Service("accounts.verifications",
                          f"/api/user/v1/accounts/{USERNAME}/verifications/",
                          auth=VERIFICATION_AUTH)
attempt_service = Service("accounts.verification_attempt",
                          r"/api/user/v1/accounts/verifications/{attempt_id:[0-9]+}/",
                          auth=VERIFICATION_AUTH)


def staff_or_owner(request, **kwargs):
    """``IsStaffOrOwner``, for the user named in the URL.

    Upstream also accepts ``?username=<caller>`` for any URL user, which
    would show anyone's records; openlms does not.
    """
    user = request.user
    permissions.require(user.is_staff or user.username == request.matchdict["username"])


def staff_only(request, **kwargs):
    permissions.require(request.user.is_staff)


def target_user(request):
    user = get_by_username(request.dbsession, request.matchdict["username"])
    if user is None:
        raise not_found()
    return user


@status_service.get(validators=(staff_or_owner,),
                    responses={200: doc.VERIFICATION_STATUS, 403: "Not the owner nor staff.",
                               404: "No such user, or never verified."})
def get_verification_status(request):
    """Whether a user's identity is verified, and until when."""
    user = target_user(request)
    status = user_status(attempts_for_user(request.dbsession, user.id),
                         request.registry.settings)
    if status["status"] == "none":
        raise not_found()
    return {
        "is_verified": status["status"] == "approved",
        "status": status["status"],
        "expiration_datetime": status["verification_expiry"],
    }


@details_service.get(validators=(staff_or_owner,),
                     responses={200: doc.VERIFICATIONS, 403: "Not the owner nor staff.",
                                404: "No such user, or no verification."})
def get_verifications(request):
    """A user's identity verification attempts."""
    user = target_user(request)
    attempts = attempts_for_user(request.dbsession, user.id)
    if not attempts:
        raise not_found()
    settings = request.registry.settings
    return [serialize_attempt(row, settings) for row in attempts]


@attempt_service.get(validators=(staff_only,),
                     responses={200: doc.VERIFICATION, 403: "Not staff.",
                                404: "No such attempt."})
def get_verification_attempt(request):
    """One identity verification attempt (staff)."""
    attempt_id = int(request.matchdict["attempt_id"])
    row = None
    if attempt_id < 2**31:
        row = request.dbsession.scalar(select(VerificationAttempt)
                                       .where(VerificationAttempt.id == attempt_id))
    if row is None:
        raise not_found()
    return serialize_attempt(row, request.registry.settings)
