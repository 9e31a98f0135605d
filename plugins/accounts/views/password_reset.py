"""Password reset, the whole flow (upstream ``user_authn.views.password_reset``).

Asking for a link (the answer never tells whether the address has an account):

- ``POST /account/password`` (what the authn MFE calls; CSRF required): an
  empty 200, 400 ``No email address provided.``, 403 when rate-limited
  (per IP and per address). Staff may name another address in
  ``email_from_support_tools`` (not rate-limited);
- ``POST /password_reset/`` (legacy, CSRF-exempt): ``{"success": true, "value": <html>}``.

Both mail every account of that address (none when one of them cannot have a
password) a link ``<authn MFE or LMS>/password_reset_confirm/<uidb36>-<token>/``
and revoke those accounts' OAuth tokens, as upstream does.

Using the link:

- ``GET /api/user/v1/account/password_reset/``: the request form description;
- ``POST /api/user/v1/account/password_reset/token/validate/``:
  ``{"is_valid": bool}``; a valid token activates an inactive account;
- both also at upstream's legacy ``/user_api/v1/...`` paths (the authn MFE calls
  the legacy token validation);
- ``POST /password/reset/<uidb36>-<token>/`` (the authn MFE's reset call):
  ``new_password1``/``new_password2`` -> ``{"reset_status", "err_msg"}`` or
  ``{"reset_status": false, "token_invalid": true}``;
- ``GET/POST /password_reset_confirm/<uidb36>-<token>/``: the same reset as an
  HTML page for deployments without the authn MFE, then
  ``/password_reset_complete/``.

Tokens are stateless: an HMAC over the account id, its password hash, its
last login and email, with a timestamp (``accounts.password_reset_timeout_seconds``,
three days). Resetting or logging in changes what the HMAC covers, so a link
works once. A reset ends the account's other sessions and mails a notice.

Deliberate differences: a missing or non-text ``new_password1``/``new_password2``
counts as empty (upstream answers 500).
"""
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response

from lms import auth, throttle
from lms.errors import APIError, not_found
from lms.request import data_fields, form_fields
from lms.service import Service
from lms.session import csrf_protect
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import get_config
from plugins.accounts.fields import EMAIL_MAX_LENGTH
from plugins.accounts.forms import escape, password_reset_form
from plugins.accounts.password_reset import (
    base36_to_int,
    check_reset_token,
    destroy_oauth_tokens,
    has_requested_retirement,
    send_reset_email,
    set_new_password,
    user_for_uidb36,
    users_for_reset,
)
from plugins.accounts.passwords import normalize_password, password_errors
from plugins.accounts.validation import is_valid_email
from plugins.accounts.views.registration import html_page

RESET_TOKEN_PATH = "{uidb36:[0-9A-Za-z]+}-{token:[^/]+}"
IN_PROGRESS = "Your previous request is in progress, please try again in a few moments."
NO_EMAIL = "No email address provided."
GENERIC_RESET_ERROR = ("An error has occurred. Try refreshing the page, or check your internet "
                       "connection.")
PASSWORDS_DIFFER = "The two password fields didn\u2019t match."
RESET_DONE_HTML = (
    "<header>\n  <h2>Password reset email sent</h2>\n  <hr/>\n</header>\n"
    "<div class=\"message\">\n  <p>An email has been sent to the address you provided, if it "
    "belongs to an account. Follow the link in the email to change your password.</p>\n</div>\n"
)

reset_form = Service("accounts.password_reset_form", "/api/user/v1/account/password_reset/",
                     auth=auth.NO_AUTH, anonymous=True,
                     description="Password reset request form description.")
token_validate = Service(
    "accounts.password_reset_token_validate",
    "/api/user/v1/account/password_reset/token/validate/",
    auth=auth.DEFAULT_AUTH, anonymous=True, description="Is this password reset token valid?")
reset_api = Service("accounts.password_reset_api", f"/password/reset/{RESET_TOKEN_PATH}/",
                    auth=auth.DEFAULT_AUTH, anonymous=True,
                    description="Set a new password with a reset token (authn MFE).")
change_request = Service("accounts.password_change_request", "/account/password",
                         auth=auth.NO_AUTH, anonymous=True,
                         description="Mail a password reset link (authn MFE, account page).")
legacy_reset = Service("accounts.password_reset_request", "/password_reset/",
                       auth=auth.NO_AUTH, anonymous=True,
                       description="Mail a password reset link (legacy, CSRF-exempt).")
reset_confirm = Service("accounts.password_reset_confirm",
                        f"/password_reset_confirm/{RESET_TOKEN_PATH}/", auth=auth.NO_AUTH,
                        anonymous=True, description="Password reset page (HTML).")
reset_complete = Service("accounts.password_reset_complete", "/password_reset_complete/",
                         auth=auth.NO_AUTH, anonymous=True,
                         description="Password reset done page (HTML).")


def text_response(status, text=""):
    """Django's HttpResponse: text/html even when empty."""
    return Response(body=text.encode(), status=status, content_type="text/html",
                    charset="utf-8")


def anonymous_throttle(scope, rate_name):
    """DRF AnonRateThrottle: authenticated callers are never throttled."""

    def validator(request, **kwargs):
        if request.user is None:
            config = get_config(request.registry)
            throttle.enforce(request, scope, throttle.client_ip(request),
                             config.rates[rate_name])

    return validator


# -- the request form and token validation ------------------------------------------------

@reset_form.get(responses={200: doc.FORM_DESCRIPTION})
def get_password_reset_form(request):
    """The password reset request form's description."""
    auth.ensure_csrf_cookie(request)
    return password_reset_form(get_config(request.registry))


@token_validate.post(validators=(anonymous_throttle("accounts.password_reset_token_validate",
                                                   "password_reset_token_validate"),),
                     body=doc.TOKEN_BODY,
                     responses={200: doc.TOKEN_VALID, 429: "Throttled (anonymous callers)."})
def post_validate_token(request):
    """Whether a password reset token (`uidb36-token`) is still valid."""
    token = data_fields(request).get("token")
    if not isinstance(token, str) or "-" not in token:
        return {"is_valid": False}
    uidb36, token = token.split("-", 1)
    try:
        user_id = base36_to_int(uidb36)
    except ValueError:
        return {"is_valid": False}
    if request.user is not None and request.user.id != user_id:
        return {"is_valid": False}
    db = request.dbsession
    user = user_for_uidb36(db, uidb36)
    if user is None or has_requested_retirement(db, user):
        return {"is_valid": False}
    is_valid = check_reset_token(request.registry, user, token)
    if is_valid and not user.is_active:
        user.is_active = True
    return {"is_valid": is_valid}


# -- asking for a link ------------------------------------------------------------------------

def active_session_user(request):
    user = auth.session_user(request)
    return user if user is not None and user.is_active else None


def reset_limited(request, email):
    """django-ratelimit with block=False: per IP and per posted address, both counted."""
    config = get_config(request.registry)
    limited = bool(throttle.hit(request, "accounts.password_reset_ip",
                                throttle.client_ip(request), config.rates["password_reset_ip"]))
    if email:
        limited = bool(throttle.hit(request, "accounts.password_reset_email",
                                    auth.token_digest(email.lower()),
                                    config.rates["password_reset_email"])) or limited
    return limited


def valid_reset_address(email):
    """The request form's EmailField."""
    email = (email or "").strip()
    return email if email and len(email) <= EMAIL_MAX_LENGTH and is_valid_email(email) else None


def mail_reset_links(request, email):
    """Mail every account of ``email``; return them (empty when none may reset)."""
    email = valid_reset_address(email)
    if email is None:
        return []
    users = users_for_reset(request.dbsession, email)
    for user in users:
        send_reset_email(request, user)
    return users


@change_request.post(validators=(csrf_protect,), body=doc.EMAIL_FORM,
                     responses={200: doc.TEXT_PAGE, 400: doc.TEXT_PAGE, 415: None,
                                403: "No CSRF token, or a reset is in progress."})
def post_password_change_request(request):
    """Mail a password reset link to the caller (or to the posted `email`)."""
    user = active_session_user(request)
    posted = form_fields(request)
    from_support = (user is not None and (user.is_staff or user.is_superuser)
                    and posted.get("email_from_support_tools"))
    if from_support:
        email = posted.get("email_from_support_tools")
    else:
        email = user.email if user is not None else posted.get("email")
    limited = reset_limited(request, posted.get("email"))
    if limited and not from_support:
        return text_response(403, IN_PROGRESS)
    if not email:
        return text_response(400, NO_EMAIL)
    for account in mail_reset_links(request, email):
        destroy_oauth_tokens(request.dbsession, account.id)
    return text_response(200)


@legacy_reset.post(body=doc.EMAIL_FORM,
                   responses={200: doc.RESET_REQUESTED, 403: "A reset is in progress.",
                              415: None})
def post_legacy_password_reset(request):
    """Mail a password reset link to the posted `email` (older path, CSRF-exempt)."""
    email = form_fields(request).get("email")
    if reset_limited(request, email):
        raise APIError(403, {"success": False, "value": IN_PROGRESS})
    if mail_reset_links(request, email):
        user = active_session_user(request)
        if user is not None:
            destroy_oauth_tokens(request.dbsession, user.id)
    return {"success": True, "value": RESET_DONE_HTML}


# -- using the link: the authn MFE's API ---------------------------------------------------

def posted_password(data, name):
    value = data.get(name)
    return normalize_password(value) if isinstance(value, str) else ""


@reset_api.post(validators=(anonymous_throttle("accounts.password_reset_api",
                                               "password_reset_api"),),
                body=doc.NEW_PASSWORD_BODY,
                responses={200: doc.RESET_RESULT, 429: "Throttled (anonymous callers)."})
def post_reset_password(request):
    """Set a new password with a reset link's token (the authn MFE's API)."""
    uidb36, token = request.matchdict["uidb36"], request.matchdict["token"]
    try:
        base36_to_int(uidb36)
    except ValueError:
        return {"reset_status": False, "token_invalid": True}
    data = data_fields(request)
    password = posted_password(data, "new_password1")
    confirmation = posted_password(data, "new_password2")
    user = user_for_uidb36(request.dbsession, uidb36)
    if user is None:
        return {"reset_status": False, "err_msg": GENERIC_RESET_ERROR}
    if not check_reset_token(request.registry, user, token):
        return {"reset_status": False, "token_invalid": True}
    errors = password_errors(get_config(request.registry), password,
                             {"username": user.username, "email": user.email})
    if errors:
        return {"reset_status": False, "err_msg": " ".join(errors)}
    if password != confirmation:
        return {"reset_status": False, "err_msg": GENERIC_RESET_ERROR}
    set_new_password(request, user, password)
    return {"reset_status": True, "err_msg": ""}


# -- using the link: the HTML pages (no authn MFE) ---------------------------------------------

def reset_page(request, message=None, form=True):
    token = auth.mask_csrf(auth.ensure_csrf_cookie(request))
    parts = []
    if message:
        parts.append(f"<p class=\"error\">{escape(message)}</p>")
    if form:
        parts.append(
            f"<form method=\"post\" action=\"{escape(request.path)}\">"
            f"<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{token}\">"
            "<label>New password <input type=\"password\" name=\"new_password1\"></label>"
            "<label>Confirm password <input type=\"password\" name=\"new_password2\"></label>"
            "<button type=\"submit\">Change my password</button></form>")
    return html_page("Reset your password", "<h1>Reset your password</h1>" + "".join(parts))


def confirm_target(request):
    """The account of the link; a link for someone else than the logged-in user is a 404."""
    uidb36 = request.matchdict["uidb36"]
    current = auth.session_user(request)
    user = user_for_uidb36(request.dbsession, uidb36)
    try:
        user_id = base36_to_int(uidb36)
    except ValueError:
        user_id = None
    if current is not None and user_id is not None and current.id != user_id:
        raise not_found()
    return user


INVALID_LINK = ("The password reset link was invalid, possibly because it has already been "
                "used. Please request a new password reset.")
RETIRED = "Error in resetting your password."


@reset_confirm.get(responses={200: doc.HTML,
                              404: "The link is for another account than the session's."})
def get_reset_confirm(request):
    """The password reset page of a reset link (HTML)."""
    user = confirm_target(request)
    if user is not None and has_requested_retirement(request.dbsession, user):
        return reset_page(request, RETIRED, form=False)
    if not check_reset_token(request.registry, user, request.matchdict["token"]):
        return reset_page(request, INVALID_LINK, form=False)
    if not user.is_active:
        user.is_active = True
    return reset_page(request)


@reset_confirm.post(validators=(csrf_protect,), body=doc.NEW_PASSWORD_FORM,
                    responses={200: doc.HTML, 302: "To the reset complete page.",
                               403: "No CSRF token.", 415: None,
                               404: "The link is for another account than the session's."})
def post_reset_confirm(request):
    """Set a new password from the reset page's form (HTML answers)."""
    user = confirm_target(request)
    if user is not None and has_requested_retirement(request.dbsession, user):
        return reset_page(request, RETIRED, form=False)
    if not check_reset_token(request.registry, user, request.matchdict["token"]):
        return reset_page(request, INVALID_LINK, form=False)
    posted = form_fields(request)
    password = posted_password(posted, "new_password1")
    errors = password_errors(get_config(request.registry), password, {"username": user.username,
                                                "email": user.email})
    if errors:
        return reset_page(request, " ".join(errors))
    if password != posted_password(posted, "new_password2"):
        return reset_page(request, PASSWORDS_DIFFER)
    set_new_password(request, user, password)
    return HTTPFound(location="/password_reset_complete/")


@reset_complete.get(responses={200: doc.HTML})
def get_reset_complete(request):
    """The "password reset complete" page (HTML)."""
    config = get_config(request.registry)
    return html_page("Password reset complete",
                     "<h1>Password reset complete</h1><p>Your password has been set. You may "
                     f"go ahead and <a href=\"{escape(config.base_url)}/login\">sign in</a> "
                     "now.</p>")


# -- upstream's legacy paths (the same views) ---------------------------------------------------

reset_form_legacy = reset_form.alias(
    "accounts.password_reset_form_legacy", "/user_api/v1/account/password_reset/")
token_validate_legacy = token_validate.alias(
    "accounts.password_reset_token_validate_legacy",
    "/user_api/v1/account/password_reset/token/validate/")
