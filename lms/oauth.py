"""The OAuth2 provider: what the LMS's django-oauth-toolkit does behind its dispatcher.

- ``POST /oauth2/access_token`` (trailing slash optional, CSRF-exempt): grants
  ``client_credentials``, ``password`` and ``refresh_token``; opaque Bearer
  tokens or, with ``token_type=jwt`` (or ``X-Token-Type: jwt``), JWTs minted
  by :mod:`lms.tokens`. Errors have the RFC 6749 shape oauthlib gives them.
- ``POST /oauth2/revoke_token/``: revokes one access or refresh token of the
  calling client (200, empty body).
- ``GET /oauth2/jwks.json``: the public signing keys, when a private JWK is
  configured (upstream publishes none; verifiers use configuration).

Plain Pyramid views, not ``lms.service.Service``: these endpoints are not part
of the REST API spec, take form bodies and answer in oauthlib's shapes.

Client secrets are stored as ``sha256$<hex>``: secrets we generate carry
~380 bits of entropy, so a slow password hash would add tens of milliseconds
to every token request without making them any harder to guess. Secrets
imported from django-oauth-toolkit (Django password hashes) still verify.
"""
import base64
import binascii
import hmac
import json
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote_plus

from jwt.algorithms import RSAAlgorithm
from pyramid.httpexceptions import HTTPMethodNotAllowed
from pyramid.response import Response
from sqlalchemy import delete, or_, select

from lms import tokens
from lms.auth import token_digest
from lms.errors import APIError, not_found
from lms.models import OAuthAccessToken, OAuthApplication, OAuthRefreshToken, User
from lms.lockout import LockoutPolicy, throttle_password_attempt
from lms.passwords import is_usable, passwords_for
from lms.request import form_fields
from lms.settings import as_int
from lms.throttle import client_ip, enforce
from lms.timeutil import utcnow

# django-oauth-toolkit spelling of an application's grant type.
GRANT_CLIENT_CREDENTIALS = "client-credentials"
GRANT_PASSWORD = "password"
GRANT_AUTHORIZATION_CODE = "authorization-code"
APPLICATION_GRANT_TYPES = (GRANT_CLIENT_CREDENTIALS, GRANT_PASSWORD, GRANT_AUTHORIZATION_CODE)

# Token-request grant types each kind of application may use (DOT's mapping).
ALLOWED_REQUEST_GRANTS = {
    GRANT_CLIENT_CREDENTIALS: ("client_credentials", "refresh_token"),
    GRANT_PASSWORD: ("password", "refresh_token"),
    GRANT_AUTHORIZATION_CODE: ("authorization_code", "refresh_token"),
}

CLIENT_CONFIDENTIAL = "confidential"
CLIENT_PUBLIC = "public"

KNOWN_SCOPES = ("read", "write", "email", "profile", "user_id",
                "grades:read", "certificates:read", "tpa:read")
DEFAULT_SCOPES = ("read", "write", "email", "profile")
# What a new application may request unless told otherwise: the defaults plus
# user_id, which service clients need and the password grant's JWT gets anyway.
DEFAULT_ALLOWED_SCOPES = DEFAULT_SCOPES + ("user_id",)

SECRET_DIGEST_PREFIX = "sha256$"
# RestrictedApplication tokens are stored already expired (upstream: the epoch).
RESTRICTED_EXPIRES = datetime(1970, 1, 1, tzinfo=timezone.utc)

NO_STORE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# -- applications ------------------------------------------------------------

def hash_client_secret(secret):
    return SECRET_DIGEST_PREFIX + token_digest(secret)


def verify_client_secret(passwords, secret, stored):
    """True when ``secret`` matches the stored hash (ours, or an imported Django hash)."""
    if not secret or not stored:
        return False
    if stored.startswith(SECRET_DIGEST_PREFIX):
        return hmac.compare_digest(stored, hash_client_secret(secret))
    if is_usable(stored):
        return passwords.verify(secret, stored)[0]
    return False


def _scope_list(scopes):
    if scopes is None:
        return []
    if isinstance(scopes, str):
        scopes = scopes.split()
    ordered = []
    for scope in scopes:
        if scope not in ordered:
            ordered.append(scope)
    return ordered


def create_application(db, *, name, user, grant_type, client_id=None, client_secret=None,
                       scopes=None, public=False, redirect_uris="", is_restricted=False,
                       filters=()):
    """Create (and flush) an OAuth application; return ``(application, plaintext_secret)``.

    ``db`` is a session or a request; ``user`` a User or a username (the owner:
    client_credentials tokens act as this user). ``grant_type`` is
    ``client-credentials``, ``password`` or ``authorization-code`` (underscores
    accepted). ``scopes`` (list or space-separated) are the scopes the client
    may request, default ``read write email profile user_id``. Public clients
    get no secret (the returned secret is None). Raises ValueError on bad input.
    """
    db = getattr(db, "dbsession", db)
    grant_type = (grant_type or "").replace("_", "-")
    if grant_type not in APPLICATION_GRANT_TYPES:
        raise ValueError(f"grant_type must be one of {', '.join(APPLICATION_GRANT_TYPES)}")
    if isinstance(user, str):
        username = user
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            raise ValueError(f"no user named {username!r}")
    if not name:
        raise ValueError("name is required")
    if public:
        if grant_type == GRANT_CLIENT_CREDENTIALS:
            raise ValueError("a public client cannot use the client-credentials grant")
        if client_secret:
            raise ValueError("a public client has no secret")
    allowed = _scope_list(DEFAULT_ALLOWED_SCOPES if scopes is None else scopes)
    unknown = [scope for scope in allowed if scope not in KNOWN_SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}; known: {', '.join(KNOWN_SCOPES)}")
    filters = list(filters or ())
    bad_filters = [f for f in filters if not isinstance(f, str) or ":" not in f]
    if bad_filters:
        raise ValueError(f"filters must look like 'type:value', got {bad_filters!r}")
    client_id = client_id or secrets.token_urlsafe(30)
    if len(client_id) > 100 or "\x00" in client_id:
        raise ValueError("client_id must be at most 100 characters, without NUL")
    if db.scalar(select(OAuthApplication.id).where(OAuthApplication.client_id == client_id)):
        raise ValueError(f"client_id {client_id!r} is already used")
    plaintext = None
    if not public:
        plaintext = client_secret or secrets.token_urlsafe(48)
    application = OAuthApplication(
        name=name,
        client_id=client_id,
        client_secret_hash=hash_client_secret(plaintext) if plaintext else "",
        client_type=CLIENT_PUBLIC if public else CLIENT_CONFIDENTIAL,
        grant_type=grant_type,
        user_id=user.id,
        allowed_scopes=allowed,
        redirect_uris=redirect_uris or "",
        is_restricted=bool(is_restricted),
        filters=filters,
    )
    db.add(application)
    db.flush()
    return application, plaintext


def available_scopes(application):
    """Scopes the application may request: its own plus the defaults, known ones only."""
    allowed = set(application.allowed_scopes or ()) | set(DEFAULT_SCOPES)
    return allowed & set(KNOWN_SCOPES)


# -- errors --------------------------------------------------------------------

class OAuthError(APIError):
    """An RFC 6749 §5.2 error as oauthlib renders it."""

    def __init__(self, error, description=None, status=400, **extra):
        body = {"error": error}
        if description:
            body["error_description"] = description
        body.update(extra)
        headers = dict(NO_STORE_HEADERS)
        if status == 401:
            challenge = f'error="{error}"'
            if description:
                challenge += f', error_description="{description}"'
            headers["WWW-Authenticate"] = "Bearer " + challenge
        super().__init__(status, body, headers)


def invalid_client():
    return OAuthError("invalid_client", status=401)


def invalid_request(description):
    return OAuthError("invalid_request", description)


# -- request parsing -----------------------------------------------------------

def _form(request):
    # Only form bodies count: anything else reads as an empty form, as in oauthlib.
    return form_fields(request)


def _param(form, name):
    """A parameter; sent without a value means omitted (RFC 6749 §3.2)."""
    value = form.get(name)
    return value or None


def _reject_duplicates(form, names):
    for name in names:
        if len(form.getall(name)) > 1:
            raise invalid_request(f"Duplicate {name} parameter.")


def _check_post(request, allow):
    if request.method == "OPTIONS":
        return Response(status=200, headers={"Allow": allow})
    if request.method != "POST":
        raise HTTPMethodNotAllowed(headers={"Allow": allow})
    if request.query_string:
        raise invalid_request("URL query parameters are not allowed")
    return None


def _basic_credentials(request):
    """``(client_id, secret)`` from HTTP Basic, or None when absent or unreadable."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[len("Basic "):].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def _load_application(db, client_id):
    if not client_id or "\x00" in client_id:  # PostgreSQL refuses NUL in strings
        return None
    return db.scalar(select(OAuthApplication).where(OAuthApplication.client_id == client_id))


def _authenticate_confidential(request, form):
    """DOT's authenticate_client: HTTP Basic first, then client_id/client_secret in the body."""
    db = request.dbsession
    basic = _basic_credentials(request)
    if basic is not None:
        application = _load_application(db, basic[0])
        if application is not None and verify_client_secret(
                passwords_for(request), basic[1], application.client_secret_hash):
            return application
    client_id, secret = _param(form, "client_id"), _param(form, "client_secret")
    if client_id and secret:
        application = _load_application(db, client_id)
        if application is not None and verify_client_secret(
                passwords_for(request), secret, application.client_secret_hash):
            return application
    return None


def _authenticate_client(request, form):
    """Authenticate confidential clients; identify public ones by client_id alone."""
    sent_credentials = (request.headers.get("Authorization", "").startswith("Basic ")
                        or (_param(form, "client_id") and _param(form, "client_secret")))
    if sent_credentials:
        application = _authenticate_confidential(request, form)
    else:
        application = _load_application(request.dbsession, _param(form, "client_id"))
        if application is not None and application.client_type != CLIENT_PUBLIC:
            application = None
    if application is None:
        raise invalid_client()
    return application


def _check_grant_allowed(application, grant):
    if grant not in ALLOWED_REQUEST_GRANTS.get(application.grant_type, ()):
        raise OAuthError("unauthorized_client")


def _requested_scopes(form):
    return _scope_list(_param(form, "scope"))


def _check_scopes(application, scopes, requested):
    if not set(scopes) <= available_scopes(application):
        raise OAuthError("invalid_scope", scope=" ".join(requested or scopes))


def _wants_jwt(request, form):
    # The form field wins over the X-Token-Type header, even when empty.
    if "token_type" in form:
        token_type = form.get("token_type", "")
    else:
        token_type = request.headers.get("X-Token-Type", "")
    return token_type.lower() == "jwt"


def _authenticate_user(request, username, password):
    """The user named (or with the email) ``username`` whose password matches; else None.

    Upstream's EdxOAuth2Validator: the username match first, then the email one;
    inactive users are accepted, as its AllowAllUsersModelBackend does. The
    password paths share the lockout and the login throttle (:mod:`lms.lockout`):
    a locked or throttled attempt is refused like wrong credentials, every
    refusal of an account counts towards its lockout, and every branch costs
    one password hash verification.
    """
    db = request.dbsession
    policy = LockoutPolicy(request)
    limited = throttle_password_attempt(request, username)
    passwords = passwords_for(request)
    candidates = []
    if "\x00" not in username:  # PostgreSQL refuses NUL in strings
        found = db.scalars(select(User).where(
            or_(User.username == username, User.email == username)))
        candidates = sorted(found, key=lambda user: user.username != username)
    if not candidates or limited:
        passwords.burn_check(password)
        return None
    for user in candidates:
        if policy.is_locked_out(user):
            passwords.burn_check(password)
            continue
        if passwords.check(user, password):  # upgrades an outdated stored hash
            policy.clear(user)
            return user
        policy.increment(user)
    return None


# -- issuing tokens ----------------------------------------------------------------

def _json_response(body, status=200):
    response = Response(body=json.dumps(body).encode(), status=status,
                        content_type="application/json", charset="utf-8")
    response.headers.update(NO_STORE_HEADERS)
    return response


def _issue(request, form, application, user, scopes, *, refresh_scopes=None,
           jwt_extra_scopes=()):
    """Store an access token (and a refresh token when ``refresh_scopes`` is given); answer.

    The opaque token is stored even when a JWT is returned: the refresh token
    hangs off it, as upstream's dispatcher converts DOT's opaque response.
    """
    settings = request.registry.settings
    db = request.dbsession
    now = utcnow()
    access_token = secrets.token_urlsafe(30)
    expires_in = as_int(settings, "oauth2.access_token_expire_seconds")
    expires = now + timedelta(seconds=expires_in)
    if application.is_restricted:
        expires = RESTRICTED_EXPIRES
        expires_in = int((expires - now).total_seconds())  # negative: already expired
    access_row = OAuthAccessToken(
        token_hash=token_digest(access_token), application_id=application.id, user_id=user.id,
        scopes=list(scopes), expires=expires, created=now,
    )
    db.add(access_row)
    db.flush()
    body = {"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer",
            "scope": " ".join(scopes)}
    if refresh_scopes is not None:
        refresh_token = secrets.token_urlsafe(30)
        refresh_lifetime = as_int(settings, "oauth2.refresh_token_expire_seconds")
        db.add(OAuthRefreshToken(
            token_hash=token_digest(refresh_token), application_id=application.id,
            user_id=user.id, access_token_id=access_row.id, scopes=list(refresh_scopes),
            expires=now + timedelta(seconds=refresh_lifetime),
            created=now,
        ))
        db.flush()
        body["refresh_token"] = refresh_token
    if _wants_jwt(request, form):
        config = request.registry["lms.jwt_config"]
        jwt_scopes = list(scopes) + [s for s in jwt_extra_scopes if s not in scopes]
        payload = tokens.build_payload(
            config, user, jwt_scopes, filters=application.filters or [],
            grant_type=application.grant_type, is_restricted=application.is_restricted,
        )
        # Upstream reads asymmetric_jwt as a plain truthy string ("false" included);
        # restricted clients always get an asymmetrically signed JWT.
        asymmetric = bool(form.get("asymmetric_jwt")) or application.is_restricted
        body.update(
            access_token=tokens.encode(config, payload, asymmetric=asymmetric),
            expires_in=config.expiration,
            token_type="JWT",
            scope=" ".join(jwt_scopes),
        )
    return _json_response(body)


def _grant_client_credentials(request, form):
    _reject_duplicates(form, ("grant_type", "scope"))
    application = _authenticate_confidential(request, form)
    if application is None:
        raise invalid_client()
    _check_grant_allowed(application, "client_credentials")
    requested = _requested_scopes(form)
    scopes = requested or list(DEFAULT_SCOPES)
    if not requested and "user_id" in available_scopes(application):
        scopes.append("user_id")
    _check_scopes(application, scopes, requested)
    user = request.dbsession.get(User, application.user_id)
    return _issue(request, form, application, user, scopes)


def _grant_password(request, form):
    application = _authenticate_client(request, form)
    for name in ("grant_type", "username", "password"):
        if not _param(form, name):
            raise invalid_request(f"Request is missing {name} parameter.")
    _reject_duplicates(form, ("grant_type", "username", "password", "scope"))
    user = _authenticate_user(request, form["username"], form["password"])
    if user is None:
        # Upstream's answer when validate_user fails: wrong, unknown, locked or throttled.
        return OAuthError("invalid_grant", "Invalid credentials given.").response()
    _check_grant_allowed(application, "password")
    requested = _requested_scopes(form)
    scopes = requested or list(DEFAULT_SCOPES)
    _check_scopes(application, scopes, requested)
    return _issue(request, form, application, user, scopes, refresh_scopes=scopes,
                  jwt_extra_scopes=("user_id",))


def _grant_refresh_token(request, form):
    refresh_token = _param(form, "refresh_token")
    if refresh_token is None:
        raise invalid_request("Missing refresh token parameter.")
    application = _authenticate_client(request, form)
    _check_grant_allowed(application, "refresh_token")
    db = request.dbsession
    now = utcnow()
    old = db.scalar(select(OAuthRefreshToken).where(
        OAuthRefreshToken.token_hash == token_digest(refresh_token),
        OAuthRefreshToken.application_id == application.id,
        OAuthRefreshToken.revoked.is_(None),
        OAuthRefreshToken.expires > now,
    ))
    if old is None:
        raise OAuthError("invalid_grant")
    requested = _requested_scopes(form)
    if requested and not set(requested) <= set(old.scopes or ()):
        raise OAuthError("invalid_scope", scope=" ".join(requested))
    scopes = requested or list(old.scopes or ())
    user = db.get(User, old.user_id)
    # Rotation: the old refresh token is revoked and its access token deleted.
    _revoke_refresh_row(db, old, now)
    grant_jwt_extra = ("user_id",) if application.grant_type == GRANT_PASSWORD else ()
    return _issue(request, form, application, user, scopes, refresh_scopes=list(old.scopes),
                  jwt_extra_scopes=grant_jwt_extra)


GRANTS = {
    "client_credentials": _grant_client_credentials,
    "password": _grant_password,
    "refresh_token": _grant_refresh_token,
}


def access_token_view(request):
    settings = request.registry.settings
    enforce(request, "oauth2_token", client_ip(request), settings["throttle.token_rate"])
    early = _check_post(request, "POST, OPTIONS")
    if early is not None:
        return early
    form = _form(request)
    grant = GRANTS.get(form.get("grant_type", ""))
    if grant is None:
        raise OAuthError("unsupported_grant_type")
    return grant(request, form)


# -- revocation ----------------------------------------------------------------------

def _revoke_refresh_row(db, row, now):
    access_token_id = row.access_token_id
    row.revoked = now
    row.access_token_id = None
    db.flush()
    if access_token_id is not None:
        db.execute(delete(OAuthAccessToken).where(OAuthAccessToken.id == access_token_id))


def _revoke_access(db, application, digest, now):
    result = db.execute(delete(OAuthAccessToken).where(
        OAuthAccessToken.token_hash == digest,
        OAuthAccessToken.application_id == application.id,
    ))
    return result.rowcount > 0


def _revoke_refresh(db, application, digest, now):
    row = db.scalar(select(OAuthRefreshToken).where(
        OAuthRefreshToken.token_hash == digest,
        OAuthRefreshToken.application_id == application.id,
    ))
    if row is None:
        return False
    if row.revoked is None:
        _revoke_refresh_row(db, row, now)
    return True


def revoke_token_view(request):
    early = _check_post(request, "POST, OPTIONS")
    if early is not None:
        return early
    form = _form(request)
    token = _param(form, "token")
    if token is None:
        raise invalid_request("Missing token parameter.")
    application = _authenticate_client(request, form)
    db = request.dbsession
    now = utcnow()
    digest = token_digest(token)
    order = (_revoke_access, _revoke_refresh)
    if form.get("token_type_hint") == "refresh_token":
        order = (_revoke_refresh, _revoke_access)
    for revoke in order:
        if revoke(db, application, digest, now):
            break
    # Unknown tokens are not an error (RFC 7009 §2.2).
    response = Response(status=200, body=b"")
    response.content_type = None
    return response


# -- public keys -----------------------------------------------------------------------

def public_jwks(settings, config):
    """The JWK set verifiers need: the signing key's public half plus the configured set."""
    if config.private_key is None:
        return None
    signing = json.loads(RSAAlgorithm.to_jwk(config.private_key.public_key()))
    signing.update(use="sig", alg="RS512")
    if config.private_kid:
        signing["kid"] = config.private_kid
    keys = [signing]
    public_set = settings.get("jwt.public_signing_jwk_set")
    if public_set:
        for key in json.loads(public_set).get("keys", []):
            public = {k: v for k, v in key.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
            if public.get("n") != signing["n"]:
                keys.append(public)
    return {"keys": keys}


def jwks_view(request):
    keys = public_jwks(request.registry.settings, request.registry["lms.jwt_config"])
    if keys is None:
        raise not_found()
    return _json_response(keys)


def includeme(config):
    config.add_route("lms.oauth.access_token", "/oauth2/access_token{trailing_slash:/?}")
    config.add_route("lms.oauth.revoke_token", "/oauth2/revoke_token{trailing_slash:/?}")
    config.add_route("lms.oauth.jwks", "/oauth2/jwks.json")
    config.add_view(access_token_view, route_name="lms.oauth.access_token")
    config.add_view(revoke_token_view, route_name="lms.oauth.revoke_token")
    config.add_view(jwks_view, route_name="lms.oauth.jwks", request_method=("GET", "HEAD"))
