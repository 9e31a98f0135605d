"""Browser session login as the Open edX LMS does it (user_authn).

- ``GET/POST /api/user/{v1|v2}/account/login_session/``: login form description,
  and form-encoded, CSRF-protected login answering the upstream JSON shapes
  (also at upstream's legacy ``/user_api/{v1|v2}/account/login_session/``);
- ``POST /login_refresh``: re-issues the JWT cookies for a valid session;
- ``GET/POST /logout``: ends the session and deletes the logged-in cookies;
- ``GET /csrf/api/v1/token``: the CSRF token (edx-drf-extensions).

A successful login sets the cookies browsers and micro-frontends rely on:
the session cookie (HttpOnly), ``edxloggedin``, ``edx-user-info`` and the
split JWT cookies (header.payload readable by JS, signature HttpOnly).
:func:`log_in` and :func:`set_jwt_cookies` are public so that other flows
(registration) log users in the same way.
"""
import html
import json
import secrets
import time
import unicodedata
from datetime import timedelta
from email.utils import formatdate
from http.cookies import SimpleCookie
from urllib.parse import quote, urlsplit

import colander
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from sqlalchemy import delete, select

from lms import auth, tokens
from lms.errors import APIError
from lms.lockout import LockoutPolicy, throttle_password_attempt
from lms.models import LoginSession, OAuthApplication, User
from lms.openapi import BOOLEAN, INTEGER, NUMBER, STRING, Body, array, obj
from lms.passwords import passwords_for
from lms.request import form_fields
from lms.service import Service
from lms.settings import as_list
from lms.timeutil import utcnow
from lms.users import find_by_identity

LOGGED_IN_COOKIE = "edxloggedin"
USER_INFO_COOKIE = "edx-user-info"
USER_INFO_COOKIE_VERSION = 1
JWT_COOKIE_SCOPES = ("user_id", "email", "profile")
# The login-service OAuth application upstream is a public password-grant client.
LOGIN_CLIENT_DEFAULT_GRANT_TYPE = "password"
CSRF_COOKIE_MAX_AGE = 31449600  # Django's CSRF_COOKIE_AGE (one year)
DELETED_COOKIE_EXPIRES = "Thu, 01 Jan 1970 00:00:00 GMT"

EMAIL_MIN_LENGTH = 3
EMAIL_MAX_LENGTH = 254
PASSWORD_MAX_LENGTH = 5000  # DEFAULT_MAX_PASSWORD_LENGTH
PROFILE_IMAGE_SIZES = (("full", 500), ("large", 120), ("medium", 50), ("small", 30))

# Upstream builds these with markupsafe: the apostrophe of "you've" is escaped.
MSG_MISSING_FIELDS = "There was an error receiving your login information. Please email us."
MSG_INCORRECT = "Email or password is incorrect."
MSG_RATE_LIMITED = "Too many failed login attempts. Try again later."
RESET_LINK_START = '<a http="#login" class="form-toggle" data-type="password-reset">'
MSG_FAILED_ATTEMPT = (
    "Email or password is incorrect."
    "<li>You have {remaining} more sign-in attempts before your account is temporarily locked.</li>"
    "<li>If you&#39;ve forgotten your password, click " + RESET_LINK_START
    + "here</a> to reset.</li>"
)
MSG_LOCKED_OUT = (
    "To protect your account, it\u2019s been temporarily locked. Try again in {minutes} minutes."
    "<li>To be on the safe side, you can reset your password " + RESET_LINK_START
    + "here</a> before you try again."
)
# AuthFailedError(value=None) renders markupsafe.escape(None), i.e. the text "None".
MSG_NONE = "None"


# -- cookies ---------------------------------------------------------------------

def http_date(epoch_seconds):
    """RFC 1123 date as Django's ``http_date`` writes it."""
    return formatdate(epoch_seconds, usegmt=True)


def _cookie_header(config, name, value, max_age, httponly, expires=None):
    """One ``Set-Cookie`` value, quoted the way Django (``http.cookies``) quotes it."""
    jar = SimpleCookie()
    jar[name] = value
    morsel = jar[name]
    if max_age is not None:
        morsel["max-age"] = max_age
        morsel["expires"] = expires or http_date(time.time() + max_age)
    morsel["path"] = "/"
    if config.cookie_domain:
        morsel["domain"] = config.cookie_domain
    if config.cookie_secure:
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    if config.cookie_samesite:
        morsel["samesite"] = config.cookie_samesite
    return morsel.OutputString()


def set_cookie(response, config, name, value, max_age, httponly=False, expires=None):
    response.headers.add("Set-Cookie",
                         _cookie_header(config, name, value, max_age, httponly, expires))


def delete_cookie(response, config, name):
    set_cookie(response, config, name, "", 0, expires=DELETED_COOKIE_EXPIRES)


def _rotate_csrf_cookie(request, response):
    """Django's login() rotates the CSRF secret (a fresh ``csrftoken`` cookie)."""
    config = request.registry["lms.auth_config"]
    set_cookie(response, config, config.csrf_cookie_name, auth.new_csrf_secret(),
               CSRF_COOKIE_MAX_AGE)


def _base_url(request):
    return request.registry.settings["lms.base_url"].rstrip("/")


def user_info_cookie_data(request, user):
    base = _base_url(request)
    return {
        "version": USER_INFO_COOKIE_VERSION,
        "username": user.username,
        "email": user.email,
        "header_urls": {
            "logout": f"{base}/logout",
            "account_settings": f"{base}/account/settings",
            "learner_profile": f"{base}/u/{user.username}",
        },
        # Default profile images (no uploaded image is known to the core).
        "user_image_urls": {
            name: f"{base}/static/images/profiles/default_{size}.png"
            for name, size in PROFILE_IMAGE_SIZES
        },
    }


def _login_grant_type(request):
    config = request.registry["lms.auth_config"]
    grant_type = request.dbsession.scalar(
        select(OAuthApplication.grant_type).where(
            OAuthApplication.client_id == config.login_client_id))
    return grant_type or LOGIN_CLIENT_DEFAULT_GRANT_TYPE


def set_jwt_cookies(request, response, user):
    """Mint the cookie JWT and set both halves; return the cookies' expiry (epoch)."""
    jwt_config = request.registry["lms.jwt_config"]
    config = request.registry["lms.auth_config"]
    now = time.time()
    expires_in = jwt_config.expiration
    payload = tokens.build_payload(jwt_config, user, JWT_COOKIE_SCOPES,
                                   grant_type=_login_grant_type(request),
                                   expires_in=expires_in, now=now)
    token = tokens.encode(jwt_config, payload, asymmetric=True)
    header_payload, _, signature = token.rpartition(".")
    expires_at = now + expires_in
    expires = http_date(expires_at)
    set_cookie(response, config, auth.JWT_COOKIE_HEADER_PAYLOAD, header_payload,
               expires_in, expires=expires)
    set_cookie(response, config, auth.JWT_COOKIE_SIGNATURE, signature, expires_in,
               httponly=True, expires=expires)
    return expires_at


def _session_key_from_cookie(request):
    config = request.registry["lms.auth_config"]
    return auth.unsign(config.secret_key, request.cookies.get(config.session_cookie_name))


def log_in(request, response, user):
    """Start a session for ``user`` and set every logged-in cookie on ``response``."""
    config = request.registry["lms.auth_config"]
    db = request.dbsession
    now = utcnow()
    previous = _session_key_from_cookie(request)
    if previous:
        # Django cycles the session key on login (no session fixation).
        db.execute(delete(LoginSession).where(LoginSession.key_hash == auth.token_digest(previous)))
    db.execute(delete(LoginSession).where(LoginSession.user_id == user.id,
                                          LoginSession.expires <= now))
    key = secrets.token_urlsafe(32)
    db.add(LoginSession(key_hash=auth.token_digest(key), user_id=user.id,
                        expires=now + timedelta(seconds=config.session_max_age)))
    user.last_login = now
    db.flush()
    max_age = config.session_max_age
    set_cookie(response, config, config.session_cookie_name, auth.sign(config.secret_key, key),
               max_age, httponly=True)
    set_cookie(response, config, LOGGED_IN_COOKIE, "true", max_age)
    set_cookie(response, config, USER_INFO_COOKIE,
               json.dumps(user_info_cookie_data(request, user)), max_age)
    set_jwt_cookies(request, response, user)
    _rotate_csrf_cookie(request, response)


# -- CSRF failure (Django's CsrfViewMiddleware answers an HTML page) -------------

class CsrfFailure(APIError):
    """403 rendered as Django's CSRF failure page, not JSON; it names the reason."""

    PAGE = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
        "  <meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\">\n"
        "  <meta name=\"robots\" content=\"NONE,NOARCHIVE\">\n"
        "  <title>403 Forbidden</title>\n</head>\n<body>\n"
        "  <h1>Forbidden <span>(403)</span></h1>\n"
        "  <p>CSRF verification failed. Request aborted.</p>\n"
        "  <p>Reason given for failure: {reason}</p>\n"
        "</body>\n</html>\n"
    )

    def __init__(self, reason):
        super().__init__(403, None)
        self.reason = reason

    def response(self):
        # The reason may quote the caller's Referer or Origin: escaped.
        page = self.PAGE.format(reason=html.escape(self.reason))
        return Response(body=page.encode(), status=403, content_type="text/html",
                        charset="utf-8")


def csrf_protect(request, **kwargs):
    """Cornice validator: ``@csrf_protect`` for anonymous callers too."""
    try:
        auth.check_csrf(request)
    except APIError as error:
        if error.status != 403:  # an unreadable body is not a CSRF failure
            raise
        detail = error.body.get("detail", "") if isinstance(error.body, dict) else ""
        raise CsrfFailure(detail.removeprefix("CSRF Failed: "))


# -- redirects --------------------------------------------------------------------

def _allowed_redirect_hosts(request):
    """This host, the LMS base URL and the configured MFE origins."""
    settings = request.registry.settings
    hosts = {request.host, urlsplit(settings["lms.base_url"]).netloc}
    for origin in as_list(settings, "cors.origins") + as_list(settings, "csrf.trusted_origins"):
        hosts.add(urlsplit(origin).netloc)
    hosts.discard("")
    return hosts


def is_safe_redirect(request, url):
    """Django's url_has_allowed_host_and_scheme against :func:`_allowed_redirect_hosts`."""
    if not url or url != url.strip() or "\\" in url or any(ord(c) < 32 for c in url):
        return False
    if url.startswith("///"):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.netloc and parts.scheme:
        return False
    if parts.scheme and parts.scheme not in ("http", "https"):
        return False
    if not parts.netloc:
        return True
    if request.scheme == "https" and parts.scheme != "https":
        return False
    return parts.netloc in _allowed_redirect_hosts(request)


def _absolute(request, url):
    if urlsplit(url).netloc:
        return url
    return _base_url(request) + (url if url.startswith("/") else "/" + url)


# -- login form -------------------------------------------------------------------

def _form_field(name, label, field_type, instructions, restrictions):
    return {
        "name": name,
        "label": label,
        "type": field_type,
        "defaultValue": "",
        "placeholder": "",
        "instructions": instructions,
        "exposed": True,
        "required": True,
        "restrictions": restrictions,
        "errorMessages": {},
        "supplementalLink": "",
        "supplementalText": "",
        "loginIssueSupportLink": "",
    }


def login_form_description(request):
    """Upstream's FormDescription: the same (v1, email) form on both versions."""
    platform_name = request.registry.settings["lms.platform_name"]
    return {
        "method": "post",
        "submit_url": "/api/user/v1/account/login_session/",
        "fields": [
            _form_field("email", "Email", "email",
                        f"The email address you used to register with {platform_name}",
                        {"min_length": EMAIL_MIN_LENGTH, "max_length": EMAIL_MAX_LENGTH}),
            _form_field("password", "Password", "password", "",
                        {"max_length": PASSWORD_MAX_LENGTH}),
        ],
    }


# -- login ------------------------------------------------------------------------

class LoginForm(colander.MappingSchema):
    """The form fields login reads; unknown fields (course_id, ...) are ignored.

    Every field is optional here: a missing field has its own upstream answer.
    """

    email = colander.SchemaNode(colander.String(allow_empty=True), missing=None)
    email_or_username = colander.SchemaNode(colander.String(allow_empty=True), missing=None)
    password = colander.SchemaNode(colander.String(allow_empty=True), missing=None)
    next = colander.SchemaNode(colander.String(allow_empty=True), missing=None)
    analytics = colander.SchemaNode(colander.String(allow_empty=True), missing=None)


def login_form_validator(request, **kwargs):
    # Like Django's request.POST: form fields only (a JSON body has none, uploads are files).
    request.validated.update(LoginForm().deserialize(dict(form_fields(request))))


class AuthFailed(Exception):
    """Upstream's AuthFailedError: only truthy attributes reach the body."""

    def __init__(self, value=None, error_code=None, context=None):
        super().__init__(value)
        self.value = value if value is not None else MSG_NONE
        self.error_code = error_code
        self.context = context or {}

    def body(self):
        body = {"success": False, "value": self.value}
        if self.error_code:
            body["error_code"] = self.error_code
        if self.context:
            body["context"] = self.context
        return body


def _locked_out_error(policy):
    minutes = policy.lockout_minutes
    return AuthFailed(MSG_LOCKED_OUT.format(minutes=minutes), "account-locked-out",
                      {"locked_out_period": minutes})


def _failed_authentication(request, policy, user, authenticated):
    """Upstream's _handle_failed_authentication: always raises AuthFailed."""
    failure_count = 0
    if user is not None:
        failure_count = policy.increment(user)
        if authenticated and not user.is_active:
            raise AuthFailed(error_code="inactive-user", context={
                "platformName": request.registry.settings["lms.platform_name"],
                "supportLink": "",
            })
        if policy.enabled and failure_count >= policy.max_failures / 2:
            if not policy.is_locked_out(user):
                remaining = policy.max_failures - failure_count
                raise AuthFailed(MSG_FAILED_ATTEMPT.format(remaining=remaining),
                                 "failed-login-attempt", {
                                     "remaining_attempts": remaining,
                                     "allowed_failure_attempts": policy.max_failures,
                                     "failure_count": failure_count,
                                 })
            raise _locked_out_error(policy)
    raise AuthFailed(MSG_INCORRECT, "incorrect-email-or-password",
                     {"failure_count": failure_count})


def _login_redirect_url(request):
    next_url = request.validated.get("next")
    if next_url and is_safe_redirect(request, next_url):
        return _absolute(request, next_url)
    return None


login_session = Service(
    "lms.login_session", "/api/user/{api_version:v[12]}/account/login_session/",
    auth=auth.NO_AUTH, anonymous=True,
    description="Session login (LoginSessionView).",
)


@login_session.get(responses={200: obj({"method": STRING, "submit_url": STRING,
                                        "fields": array({"type": "object"})})})
def get_login_form(request):
    """The login form's description (fields and their rules)."""
    auth.ensure_csrf_cookie(request)
    return login_form_description(request)


@login_session.post(validators=(csrf_protect, login_form_validator),
                    body=Body(LoginForm, media_type="application/x-www-form-urlencoded"),
                    responses={200: obj({"success": BOOLEAN,
                                         "redirect_url": {**STRING, "nullable": True}}),

                               400: "Wrong credentials, locked out or throttled (with the "
                                    "reason and an error code).",
                               403: "No CSRF token.", 415: None})
def post_login(request):
    """Log in with a password (form fields: v1 `email`, v2 `email_or_username`)."""
    data = request.validated
    is_v1 = request.matchdict["api_version"] == "v1"
    identifier_field = "email" if is_v1 else "email_or_username"
    submitted = data[identifier_field]
    limited = throttle_password_attempt(request, data["email"] or data["email_or_username"])
    db = request.dbsession
    policy = LockoutPolicy(request)
    # Only an account whose password was verified may show in the answer (its email):
    # nothing about an account is disclosed to someone who has not proved the password.
    verified = None
    try:
        if submitted is None or data["password"] is None:
            raise AuthFailed(MSG_MISSING_FIELDS)
        password = unicodedata.normalize("NFKC", data["password"])
        user = find_by_identity(db, User.email, submitted)
        if user is None and not is_v1:
            user = find_by_identity(db, User.username, submitted)
        # Every branch below costs exactly one password hash verification, so the
        # timing tells no unknown, unusable, locked or throttled account apart.
        passwords = passwords_for(request)
        if policy.is_locked_out(user):
            passwords.burn_check(password)
            raise _locked_out_error(policy)
        if limited:
            passwords.burn_check(password)
            raise AuthFailed(MSG_RATE_LIMITED)
        if passwords.check(user, password):  # upgrades an outdated stored hash
            verified = user
        if verified is None or not verified.is_active:
            _failed_authentication(request, policy, user, verified)
        policy.clear(user)
        response = request.response
        log_in(request, response, user)
        return {"success": True, "redirect_url": _login_redirect_url(request)}
    except AuthFailed as failure:
        body = failure.body()
        body["email"] = verified.email if verified else submitted
        # Returned, not raised: failure counters and re-hashes must be committed.
        return APIError(400, body).response()


# Upstream keeps the pre-/api/ path of LoginSessionView (both versions) for old clients.
login_session_legacy = login_session.alias(
    "lms.login_session_legacy", "/user_api/{api_version:v[12]}/account/login_session/")


# -- login_refresh ------------------------------------------------------------------

login_refresh = Service("lms.login_refresh", "/login_refresh", auth=auth.NO_AUTH,
                        anonymous=True, description="Re-issue the JWT cookies (CSRF-exempt).")


@login_refresh.post(responses={
    200: obj({"success": BOOLEAN, "user_id": INTEGER, "response_epoch_seconds": NUMBER,
              "response_http_date": STRING, "expires": STRING,
              "expires_epoch_seconds": INTEGER}),
    401: "No session.", 400: None, 415: None})
def post_login_refresh(request):
    """Re-issue the JWT cookies of the session's user."""
    user = auth.session_user(request)
    if user is None:
        return APIError(401, "Unauthorized").response()
    response = request.response
    expires_at = set_jwt_cookies(request, response, user)
    now = time.time()
    expires = http_date(expires_at)
    return {
        "success": True,
        "user_id": user.id,
        "response_epoch_seconds": now,
        "response_http_date": http_date(now),
        "expires": expires,
        "expires_epoch_seconds": int(expires_at),
    }


# -- logout -----------------------------------------------------------------------------

logout = Service("lms.logout", "/logout", auth=auth.NO_AUTH, anonymous=True,
                 description="End the session and delete the logged-in cookies.")


def iri_to_uri(url):
    """An ASCII Location header, as Django's redirect makes it (``iri_to_uri``)."""
    return quote(url, safe="/#%[]=:;$&()+,!?*@'~")


def _logout_target(request):
    try:
        params = request.GET
    except UnicodeDecodeError:  # not UTF-8: no usable target
        params = {}
    target = params.get("redirect_url") or params.get("next")
    if target:
        # Upstream restores '+' that un-encoded query strings turned into spaces.
        target = target.replace(" ", "+")
    if target and is_safe_redirect(request, target):
        return iri_to_uri(target)
    return "/"


def _logout(request):
    config = request.registry["lms.auth_config"]
    key = _session_key_from_cookie(request)
    if key:
        request.dbsession.execute(
            delete(LoginSession).where(LoginSession.key_hash == auth.token_digest(key)))
    response = HTTPFound(location=_logout_target(request))
    if config.session_cookie_name in request.cookies:
        delete_cookie(response, config, config.session_cookie_name)
    for name in (auth.JWT_COOKIE_HEADER_PAYLOAD, auth.JWT_COOKIE_SIGNATURE,
                 LOGGED_IN_COOKIE, USER_INFO_COOKIE):
        delete_cookie(response, config, name)
    return response


@logout.get(query={"redirect_url": "Where to go afterwards (a safe URL).",
                   "next": "Where to go afterwards (when no `redirect_url`)."},
            responses={302: "To `redirect_url`, `next` or /.", 200: None})
def get_logout(request):
    """End the session and delete the login cookies."""
    return _logout(request)


@logout.post(validators=(csrf_protect,),
             query={"redirect_url": "Where to go afterwards (a safe URL).",
                    "next": "Where to go afterwards (when no `redirect_url`)."},
             responses={302: "To `redirect_url`, `next` or /.", 403: "No CSRF token.",
                        400: None, 415: None})
def post_logout(request):
    """End the session and delete the login cookies (CSRF-protected)."""
    return _logout(request)


# -- CSRF token ---------------------------------------------------------------------------

csrf_token = Service("lms.csrf_token", "/csrf/api/v1/token", auth=auth.NO_AUTH,
                     anonymous=True, description="CSRF token for unsafe requests.")


@csrf_token.get(responses={200: obj({"csrfToken": STRING})})
def get_csrf_token(request):
    """A CSRF token (also set as a cookie) for the caller's unsafe requests."""

    return {"csrfToken": auth.mask_csrf(auth.ensure_csrf_cookie(request))}


def includeme(config):
    config.scan(__name__)
