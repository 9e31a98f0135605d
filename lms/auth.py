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
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms import tokens
from lms.errors import NOT_AUTHENTICATED, APIError
from lms.models import LoginSession, OAuthAccessToken, User
from lms.request import form_fields
from lms.timeutil import utcnow
from lms.users import NAME_MAX_LENGTH, is_storable_text, is_storable_username

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


# Django's CsrfViewMiddleware reasons (upstream's 403 bodies quote them).
REASON_BAD_ORIGIN = "Origin checking failed - {} does not match any trusted origins."
REASON_NO_REFERER = "Referer checking failed - no Referer."
REASON_BAD_REFERER = "Referer checking failed - {} does not match any trusted origins."
REASON_MALFORMED_REFERER = "Referer checking failed - Referer is malformed."
REASON_INSECURE_REFERER = "Referer checking failed - Referer is insecure while host is secure."


def csrf_failed(reason):
    return APIError(403, {"detail": f"CSRF Failed: {reason}"})


def is_same_domain(host, pattern):
    """Django's is_same_domain: ``pattern`` is a host, or ``.example.com`` for it and its
    subdomains."""
    if not pattern:
        return False
    host, pattern = host.lower(), pattern.lower()
    if pattern.startswith("."):
        return host.endswith(pattern) or host == pattern[1:]
    return host == pattern


def _request_netloc(request):
    # host_url is scheme://host with a default port dropped, as browsers send Origin.
    return urlsplit(request.host_url).netloc


def _split(url):
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None


def _origin_verified(request, trusted_origins, origin):
    if origin == request.host_url or origin in trusted_origins:
        return True
    parts = _split(origin)
    if parts is None:
        return False
    # "https://*.example.com" trusts every subdomain, as in CSRF_TRUSTED_ORIGINS.
    wildcards = [_split(trusted) for trusted in trusted_origins if "*" in trusted]
    return any(trusted is not None and trusted.scheme == parts.scheme
               and is_same_domain(parts.netloc, trusted.netloc.lstrip("*"))
               for trusted in wildcards)


def _check_referer(request, config):
    """Django's strict Referer check for secure requests that carry no Origin."""
    referer = request.headers.get("Referer")
    if referer is None:
        raise csrf_failed(REASON_NO_REFERER)
    parts = _split(referer)
    if parts is None or not parts.scheme or not parts.netloc:
        raise csrf_failed(REASON_MALFORMED_REFERER)
    if parts.scheme != "https":
        raise csrf_failed(REASON_INSECURE_REFERER)
    trusted = [_split(origin) for origin in config.csrf_trusted_origins]
    if any(origin is not None and is_same_domain(parts.netloc, origin.netloc.lstrip("*"))
           for origin in trusted):
        return
    if config.cookie_domain:
        # The CSRF cookie's domain (with its subdomains) is trusted, as in Django.
        good_referer = config.cookie_domain
        if request.host_port not in ("443", "80"):
            good_referer = f"{good_referer}:{request.host_port}"
    else:
        good_referer = _request_netloc(request)
    if not is_same_domain(parts.netloc, good_referer):
        raise csrf_failed(REASON_BAD_REFERER.format(parts.geturl()))


def check_csrf(request):
    """Raise 403 as Django's CsrfViewMiddleware would (DRF's enforce_csrf).

    A request is secure when its WSGI scheme is https: the server sets it, and
    only a reverse proxy the server trusts may set it from X-Forwarded-Proto
    (waitress' ``trusted_proxy`` and ``trusted_proxy_headers``, see production.ini;
    gunicorn's ``--forwarded-allow-ips``, see docs/deploy.md).
    The application itself never reads X-Forwarded-Proto.
    """
    if request.method in SAFE_METHODS:
        return
    config = request.registry["lms.auth_config"]
    origin = request.headers.get("Origin")
    if origin is not None:
        if not _origin_verified(request, config.csrf_trusted_origins, origin):
            raise csrf_failed(REASON_BAD_ORIGIN.format(origin))
    elif request.scheme == "https":
        _check_referer(request, config)
    cookie = request.cookies.get(config.csrf_cookie_name)
    if not cookie or unmask_csrf(cookie) is None:
        raise csrf_failed("CSRF cookie not set.")
    supplied = request.headers.get("X-CSRFToken")
    if supplied is None and request.content_type in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        supplied = form_fields(request).get("csrfmiddlewaretoken")
    if not supplied:
        raise csrf_failed("CSRF token missing.")
    unmasked = unmask_csrf(supplied)
    if unmasked is None or not hmac.compare_digest(unmasked, unmask_csrf(cookie)):
        raise csrf_failed("CSRF token from the 'X-Csrftoken' HTTP header incorrect.")


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


def _is_optional(payload, name, kind):
    value = payload.get(name)
    return value is None or (isinstance(value, kind) and not (
        kind is not bool and isinstance(value, bool)))


def _is_string_list(payload, name):
    value = payload.get(name)
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _claims_have_types(payload):
    """The claims the LMS reads have the types edx-drf-extensions mints them with.

    A signed token is trusted for who it names, not for being well-formed: a list
    where a flag is expected must not become a truthy "restricted", a 500 or a row.
    """
    return (
        all(_is_optional(payload, name, str) for name in ("email", "name", "grant_type", "sub"))
        and all(_is_optional(payload, name, bool) for name in (
            "administrator", "superuser", "email_verified", "is_restricted"))
        and all(_is_string_list(payload, name) for name in ("scopes", "filters", "roles"))
        and _is_optional(payload, "user_id", int)
        and all(isinstance(payload.get(name), (int, float)) and not isinstance(
            payload.get(name), bool) for name in ("exp", "iat"))
    )


def _jwt_username(payload):
    """The username claim (edx-drf-extensions' order), or None when it is unusable."""
    username = payload.get("preferred_username") or payload.get("username")
    return username if is_storable_username(username) else None


def _user_retrieval_failed(username):
    # edx-drf-extensions' AuthenticationFailed when its get_or_create fails.
    return _jwt_error(f"[edx-drf-extensions] User retrieval failed for username {username}.")


def _user_from_jwt(request, payload):
    """The token's user; created on first sight (get-or-create), as upstream does.

    Raises the JWT 401 when a claim has the wrong type, or when a user would have
    to be created from claims that registration would refuse (username, email, name).
    """
    if not _claims_have_types(payload):
        raise _jwt_error("Invalid token.")
    username = _jwt_username(payload)
    if username is None:
        raise _user_retrieval_failed(payload.get("preferred_username") or payload.get("username"))
    db = request.dbsession
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        # edx-drf-extensions get_or_creates the user; claims never modify existing users.
        from lms.users import UserError, create_user, is_plausible_email, validate_username

        placeholder = f"{username}@jwt-user.invalid"
        email = payload.get("email") or placeholder
        name = payload.get("name") or ""
        try:
            validate_username(username)
        except UserError:
            raise _user_retrieval_failed(username)
        if not is_plausible_email(email) or not is_storable_text(name, NAME_MAX_LENGTH):
            raise _user_retrieval_failed(username)
        hooks = request.registry["lms.plugin_manager"].hook
        if hooks.lms_identity_retired(dbsession=db, settings=request.registry.settings,
                                      username=username, email=email):
            # A token outliving its retired owner must not bring the person back.
            raise _jwt_error("Invalid token.")
        if db.scalar(select(User.id).where(User.email == email)) is not None:
            email = placeholder  # the address belongs to another account
        try:
            with db.begin_nested():
                user = create_user(request, username=username, email=email, name=name,
                                   password=None)
        except IntegrityError:  # a concurrent request created it (or took the address)
            user = db.scalar(select(User).where(User.username == username))
            if user is None:
                raise _user_retrieval_failed(username)
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
        if not _claims_have_types(payload) or _jwt_username(payload) is None:
            return None  # malformed claims in a cookie are forgiven likewise
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
