"""Authentication as Open edX's DRF views do it.

A Cornice service declares its authentication classes in order (``jwt``,
``bearer``, ``bearer_strict``, ``session``, ``session_strict``). The first class
that recognises the request's credentials decides; a bad ``Authorization``
header fails the request outright (401), a bad JWT *cookie* is forgiven.
``*_strict`` variants reject inactive users (upstream's plain Bearer/Session
classes); the default ones allow them (``...AllowInactiveUser``).
"""
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass, field

from sqlalchemy import select

from lms import tokens
from lms.errors import NOT_AUTHENTICATED, APIError
from lms.models import LoginSession, OAuthAccessToken, User
from lms.timeutil import utcnow

JWT = "jwt"
BEARER = "bearer"
BEARER_STRICT = "bearer_strict"
SESSION = "session"
SESSION_STRICT = "session_strict"
STANDARD_AUTH = (JWT, BEARER, SESSION)  # @view_auth_classes()
DEFAULT_AUTH = (JWT, SESSION)  # DRF defaults in the LMS
SESSION_JWT_AUTH = (SESSION, JWT)
NO_AUTH = ()

JWT_COOKIE_HEADER_PAYLOAD = "edx-jwt-cookie-header-payload"
JWT_COOKIE_SIGNATURE = "edx-jwt-cookie-signature"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


@dataclass
class Authentication:
    """Who made the request and how."""

    user: User | None = None
    method: str | None = None  # "jwt", "jwt_cookie", "bearer", "session", "api_key"
    jwt_payload: dict | None = None
    access_token: OAuthAccessToken | None = None
    api_key: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def is_authenticated(self):
        return self.user is not None

    @property
    def scopes(self):
        if self.jwt_payload is not None:
            return list(self.jwt_payload.get("scopes") or [])
        if self.access_token is not None:
            return list(self.access_token.scopes or [])
        return []


def token_digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


# -- signed cookie values -----------------------------------------------------

def sign(secret, value):
    mac = hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"{value}:{mac}"


def unsign(secret, signed):
    if not signed or ":" not in signed:
        return None
    value, _, mac = signed.rpartition(":")
    expected = hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
    return value if hmac.compare_digest(mac, expected) else None


# -- CSRF (Django's double-submit cookie, masked tokens accepted) ---------------

CSRF_CHARS = string.ascii_letters + string.digits
CSRF_SECRET_LENGTH = 32


def new_csrf_secret():
    return "".join(secrets.choice(CSRF_CHARS) for _ in range(CSRF_SECRET_LENGTH))


def mask_csrf(secret):
    mask = new_csrf_secret()
    pairs = zip((CSRF_CHARS.index(c) for c in secret), (CSRF_CHARS.index(m) for m in mask))
    return mask + "".join(CSRF_CHARS[(x + y) % len(CSRF_CHARS)] for x, y in pairs)


def unmask_csrf(token):
    if len(token) == CSRF_SECRET_LENGTH:
        return token
    if len(token) != 2 * CSRF_SECRET_LENGTH or any(c not in CSRF_CHARS for c in token):
        return None
    mask, cipher = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    pairs = zip((CSRF_CHARS.index(c) for c in cipher), (CSRF_CHARS.index(m) for m in mask))
    return "".join(CSRF_CHARS[x - y] for x, y in pairs)


def check_csrf(request):
    """Raise 403 as Django's CsrfViewMiddleware would (DRF's enforce_csrf)."""
    if request.method in SAFE_METHODS:
        return
    config = request.registry["lms.auth_config"]
    origin = request.headers.get("Origin")
    if origin and origin != request.host_url and origin not in config.csrf_trusted_origins:
        raise APIError(403, {"detail": f"CSRF Failed: Origin checking failed - {origin} "
                                       "does not match any trusted origins."})
    cookie = request.cookies.get(config.csrf_cookie_name)
    if not cookie or unmask_csrf(cookie) is None:
        raise APIError(403, {"detail": "CSRF Failed: CSRF cookie not set."})
    supplied = request.headers.get("X-CSRFToken")
    if supplied is None and request.content_type in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        supplied = request.POST.get("csrfmiddlewaretoken")
    if not supplied:
        raise APIError(403, {"detail": "CSRF Failed: CSRF token missing."})
    unmasked = unmask_csrf(supplied)
    if unmasked is None or not hmac.compare_digest(unmasked, unmask_csrf(cookie)):
        raise APIError(403, {"detail": "CSRF Failed: CSRF token from the 'X-Csrftoken' "
                                       "HTTP header incorrect."})


def ensure_csrf_cookie(request):
    """Return the CSRF secret, setting the cookie when the browser has none."""
    config = request.registry["lms.auth_config"]
    current = request.cookies.get(config.csrf_cookie_name)
    secret = unmask_csrf(current) if current else None
    if secret is None:
        secret = new_csrf_secret()

        def set_cookie(req, response):
            response.set_cookie(
                config.csrf_cookie_name, secret, max_age=31449600, path="/",
                secure=config.cookie_secure, samesite=config.cookie_samesite,
                domain=config.cookie_domain,
            )

        request.add_response_callback(set_cookie)
    return secret


# -- the authentication classes ---------------------------------------------------

def _bearer_error(code, message):
    return APIError(401, {"error_code": code, "developer_message": message},
                    {"WWW-Authenticate": 'Bearer realm="api"'})


def _jwt_error(message):
    return APIError(401, {"detail": message}, {"WWW-Authenticate": 'JWT realm="api"'})


def _user_from_jwt(request, payload):
    username = payload.get("preferred_username") or payload.get("username")
    db = request.dbsession
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        # edx-drf-extensions get_or_creates the user; claims never modify existing users.
        from lms.users import create_user

        placeholder = f"{username}@jwt-user.invalid"
        email = payload.get("email") or placeholder
        hooks = request.registry["lms.plugin_manager"].hook
        if hooks.lms_identity_retired(dbsession=db, settings=request.registry.settings,
                                      username=username, email=email):
            # A token outliving its retired owner must not bring the person back.
            raise _jwt_error("Invalid token.")
        if db.scalar(select(User.id).where(User.email == email)) is not None:
            email = placeholder  # the address belongs to another account
        user = create_user(request, username=username, email=email,
                           name=payload.get("name") or "", password=None)
    return user


def _authorization(request):
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    return scheme.lower(), credentials


def _auth_jwt(request):
    config = request.registry["lms.jwt_config"]
    scheme, credentials = _authorization(request)
    if scheme == "jwt":
        if not credentials or " " in credentials.strip():
            raise _jwt_error("Invalid Authorization header. Credentials string should not "
                             "contain spaces." if credentials else
                             "Invalid Authorization header. No credentials provided.")
        try:
            payload = tokens.decode(config, credentials.strip())
        except tokens.TokenError as exc:
            raise _jwt_error(exc.message)
        return Authentication(_user_from_jwt(request, payload), JWT, jwt_payload=payload)
    if scheme:
        return None
    header_payload = request.cookies.get(JWT_COOKIE_HEADER_PAYLOAD)
    signature = request.cookies.get(JWT_COOKIE_SIGNATURE)
    if header_payload and signature:
        try:
            payload = tokens.decode(config, f"{header_payload}.{signature}")
        except tokens.TokenError:
            return None  # a bad cookie is forgiven: the session may still authenticate
        check_csrf(request)
        return Authentication(_user_from_jwt(request, payload), "jwt_cookie", jwt_payload=payload)
    return None


def _auth_bearer(request, strict):
    scheme, credentials = _authorization(request)
    if scheme != "bearer":
        return None
    credentials = credentials.strip()
    if not credentials:
        raise _bearer_error("token_not_provided", "No token provided.")
    if " " in credentials:
        raise _bearer_error("token_malformed", "Token header is malformed.")
    db = request.dbsession
    row = db.execute(
        select(OAuthAccessToken, User)
        .join(User, User.id == OAuthAccessToken.user_id)
        .where(OAuthAccessToken.token_hash == token_digest(credentials))
    ).first()
    if row is None:
        raise _bearer_error("token_nonexistent",
                            "The provided access token does not match any valid tokens.")
    token, user = row
    if token.expires <= utcnow():
        raise _bearer_error("token_expired", "The provided access token has expired.")
    if strict and not user.is_active:
        raise _bearer_error("user_not_active", "The user associated with this token is "
                                               "not active.")
    return Authentication(user, BEARER, access_token=token)


def session_user(request):
    """The user of the signed session cookie, or None (cached on the request)."""
    if "lms.session_user" in request.environ:
        return request.environ["lms.session_user"]
    config = request.registry["lms.auth_config"]
    user = None
    key = unsign(config.secret_key, request.cookies.get(config.session_cookie_name))
    if key:
        row = request.dbsession.execute(
            select(LoginSession, User)
            .join(User, User.id == LoginSession.user_id)
            .where(LoginSession.key_hash == token_digest(key))
        ).first()
        if row is not None and row[0].expires > utcnow():
            user = row[1]
            request.environ["lms.session_row"] = row[0]
    request.environ["lms.session_user"] = user
    return user


def _auth_session(request, strict):
    user = session_user(request)
    if user is None or (strict and not user.is_active):
        return None
    check_csrf(request)
    return Authentication(user, SESSION)


def authenticate(request, classes):
    """Run the authentication classes in order; cache per class list."""
    cache = request.environ.setdefault("lms.authentication", {})
    key = tuple(classes)
    if key in cache:
        return cache[key]
    result = Authentication()
    for name in classes:
        if name == JWT:
            found = _auth_jwt(request)
        elif name in (BEARER, BEARER_STRICT):
            found = _auth_bearer(request, strict=name == BEARER_STRICT)
        elif name in (SESSION, SESSION_STRICT):
            found = _auth_session(request, strict=name == SESSION_STRICT)
        else:
            raise ValueError(f"unknown authentication class {name!r}")
        if found is not None:
            result = found
            break
    cache[key] = result
    return result


def has_api_key(request):
    configured = request.registry["lms.auth_config"].edx_api_key
    supplied = request.headers.get("X-Edx-Api-Key")
    return bool(configured and supplied and hmac.compare_digest(configured, supplied))


def not_authenticated(classes, style):
    """The answer DRF gives an unauthenticated request for this view (§1.6)."""
    if style == "developer":
        return APIError(401, {"developer_message": NOT_AUTHENTICATED})
    first = classes[0] if classes else None
    if first == JWT:
        return APIError(401, {"detail": NOT_AUTHENTICATED}, {"WWW-Authenticate": 'JWT realm="api"'})
    if first in (BEARER, BEARER_STRICT):
        return APIError(401, {"detail": NOT_AUTHENTICATED},
                        {"WWW-Authenticate": 'Bearer realm="api"'})
    return APIError(403, {"detail": NOT_AUTHENTICATED})


@dataclass
class AuthConfig:
    secret_key: str
    session_cookie_name: str
    session_max_age: int
    csrf_cookie_name: str
    csrf_trusted_origins: list
    cookie_secure: bool
    cookie_samesite: str
    cookie_domain: str | None
    edx_api_key: str
    login_client_id: str
    max_failed_logins: int
    lockout_seconds: int

    @classmethod
    def from_settings(cls, settings):
        from lms.settings import as_bool, as_int, as_list

        return cls(
            secret_key=settings["lms.secret_key"],
            session_cookie_name=settings["session.cookie_name"],
            session_max_age=as_int(settings, "session.max_age_seconds"),
            csrf_cookie_name=settings["csrf.cookie_name"],
            csrf_trusted_origins=as_list(settings, "csrf.trusted_origins"),
            cookie_secure=as_bool(settings, "session.cookie_secure"),
            cookie_samesite=settings["session.cookie_samesite"] or None,
            cookie_domain=settings["session.cookie_domain"] or None,
            edx_api_key=settings["lms.edx_api_key"],
            login_client_id=settings["oauth2.login_client_id"],
            max_failed_logins=as_int(settings, "login.max_failed_attempts"),
            lockout_seconds=as_int(settings, "login.lockout_seconds"),
        )
