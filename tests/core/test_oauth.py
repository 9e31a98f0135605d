"""The OAuth2 provider: /oauth2/access_token, /oauth2/revoke_token/, /oauth2/jwks.json."""
import base64
import hashlib
import json
from datetime import timedelta
from urllib.parse import quote_plus

import jwt as pyjwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select

from lms import tokens
from lms.auth import token_digest
from lms.models import OAuthAccessToken, OAuthApplication, OAuthRefreshToken, ThrottleHit, User
from lms.oauth import create_application, verify_client_secret
from lms.testing import configure_django_for_edx_rest_api_client, create_user
from lms.timeutil import utcnow

TOKEN_URL = "/oauth2/access_token"
REVOKE_URL = "/oauth2/revoke_token/"
FAKE_URL = "/api/fake/v1/standard/"


@pytest.fixture
def make_app(app_factory, add_plugins):
    """An app with the core's fake plugin (tests/core/fakeplugin) enabled."""
    add_plugins("tests.core.fakeplugin")
    return app_factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def service_user(db):
    return create_user(db, "svc", name="Service Worker", is_staff=True)


@pytest.fixture
def cc_client(db, service_user):
    """A client-credentials application: (application, secret)."""
    application, secret = create_application(db, name="service", user=service_user,
                                             grant_type="client-credentials")
    db.commit()
    return application, secret


@pytest.fixture
def mobile_client(db, service_user):
    """A public password-grant application, as the mobile apps use."""
    application, secret = create_application(db, name="mobile", user=service_user,
                                             grant_type="password", public=True)
    db.commit()
    assert secret is None
    return application


def cc_form(application, secret, **extra):
    return {"grant_type": "client_credentials", "client_id": application.client_id,
            "client_secret": secret, **extra}


def password_form(application, username="alice", password="password123", **extra):
    return {"grant_type": "password", "client_id": application.client_id,
            "username": username, "password": password, **extra}


def decode(app, token):
    return tokens.decode(app.registry["lms.jwt_config"], token)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def rsa_jwk(kid="test-key"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key))
    jwk["kid"] = kid
    return json.dumps(jwk)


def count(db, model):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


# -- create_application ------------------------------------------------------------

def test_create_application_hashes_the_secret(app, db, service_user):
    application, secret = create_application(db, name="svc app", user=service_user,
                                             grant_type="client-credentials")
    db.commit()
    assert len(secret) >= 40 and len(application.client_id) >= 30
    stored = db.get(OAuthApplication, application.id)
    assert secret not in stored.client_secret_hash
    assert stored.client_secret_hash.startswith("sha256$")
    passwords = app.registry["lms.passwords"]
    assert verify_client_secret(passwords, secret, stored.client_secret_hash)
    assert not verify_client_secret(passwords, secret + "x", stored.client_secret_hash)
    assert stored.allowed_scopes == ["read", "write", "email", "profile", "user_id"]
    assert (stored.client_type, stored.grant_type, stored.user_id) == (
        "confidential", "client-credentials", service_user.id)
    assert stored.filters == [] and stored.is_restricted is False


def test_create_application_options(db, service_user):
    application, secret = create_application(
        db, name="mobile", user="svc", grant_type="password", client_id="mobile-id",
        public=True, scopes="read grades:read", is_restricted=True, filters=["content_org:edX"],
        redirect_uris="https://example.com/cb",
    )
    db.commit()
    assert secret is None
    row = db.get(OAuthApplication, application.id)
    assert (row.client_id, row.client_type, row.client_secret_hash) == ("mobile-id", "public", "")
    assert row.allowed_scopes == ["read", "grades:read"]
    assert row.filters == ["content_org:edX"] and row.is_restricted is True
    assert row.redirect_uris == "https://example.com/cb"
    # underscores are accepted for the grant type; a chosen secret is kept
    other, chosen = create_application(db, name="x", user=service_user,
                                       grant_type="client_credentials", client_secret="s3cret")
    assert other.grant_type == "client-credentials" and chosen == "s3cret"


@pytest.mark.parametrize("kwargs, message", [
    ({"grant_type": "implicit"}, "grant_type"),
    ({"grant_type": "password", "scopes": ["read", "bogus"]}, "unknown scopes"),
    ({"grant_type": "client-credentials", "public": True}, "public"),
    ({"grant_type": "password", "public": True, "client_secret": "x"}, "no secret"),
    ({"grant_type": "password", "user": "nobody"}, "no user"),
    ({"grant_type": "password", "filters": ["no-colon"]}, "filters"),
    ({"grant_type": "password", "client_id": "taken"}, "already used"),
    ({"grant_type": "password", "client_id": "x" * 101}, "client_id"),
    ({"grant_type": "password", "client_id": "a\x00b"}, "client_id"),
])
def test_create_application_rejects_bad_input(db, service_user, kwargs, message):
    create_application(db, name="first", user=service_user, grant_type="password",
                       client_id="taken")
    db.commit()
    kwargs = {"name": "app", "user": service_user, **kwargs}
    with pytest.raises(ValueError, match=message):
        create_application(db, **kwargs)
    db.rollback()
    assert count(db, OAuthApplication) == 1


# -- client_credentials ----------------------------------------------------------------

def test_client_credentials_bearer(app, db, cc_client, service_user):
    application, secret = cc_client
    response = app.post(TOKEN_URL, cc_form(application, secret))
    body = response.json
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36000
    assert body["scope"] == "read write email profile user_id"
    assert len(body["access_token"]) >= 30
    assert response.headers["Cache-Control"] == "no-store"
    row = db.scalar(select(OAuthAccessToken))
    assert row.token_hash == token_digest(body["access_token"])  # stored hashed only
    assert (row.user_id, row.application_id) == (service_user.id, application.id)
    assert row.scopes == ["read", "write", "email", "profile", "user_id"]
    remaining = (row.expires - utcnow()).total_seconds()
    assert 35990 < remaining <= 36000
    assert count(db, OAuthRefreshToken) == 0  # no refresh token for client_credentials
    # The token authenticates API calls as the application's user.
    assert app.get(FAKE_URL, headers=bearer(body["access_token"])).json == {"user": "svc"}
    assert app.post_json(FAKE_URL, {"number": 4}, headers=bearer(body["access_token"])).json == {
        "user": "svc", "number": 4}


def test_client_credentials_jwt_claims(app, db, cc_client, service_user):
    application, secret = cc_client
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="jwt")).json
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert (body["token_type"], body["expires_in"]) == ("JWT", 3600)
    assert body["scope"] == "read write email profile user_id"
    claims = decode(app, body["access_token"])
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["preferred_username"] == "svc"
    assert claims["sub"] == service_user.anonymous_id and len(claims["sub"]) == 32
    assert claims["scopes"] == ["read", "write", "email", "profile", "user_id"]
    assert claims["version"] == "1.2.0"
    assert claims["filters"] == [] and claims["is_restricted"] is False
    assert claims["email_verified"] is True
    assert claims["grant_type"] == "client-credentials"
    assert claims["user_id"] == service_user.id
    assert claims["email"] == "svc@example.com"
    assert (claims["name"], claims["given_name"], claims["family_name"]) == (
        "Service Worker", "Service", "Worker")
    assert (claims["administrator"], claims["superuser"]) == (True, False)
    assert claims["iss"] == "http://localhost/oauth2" and claims["aud"] == "lms-key"
    assert pyjwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    # The opaque token behind the JWT is stored too (hashed).
    assert count(db, OAuthAccessToken) == 1
    # The JWT authenticates API calls.
    headers = {"Authorization": "JWT " + body["access_token"]}
    assert app.get(FAKE_URL, headers=headers).json == {"user": "svc"}


def test_requested_scopes_drive_claims(app, cc_client):
    application, secret = cc_client
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="JWT",
                                       scope="read email")).json
    assert body["scope"] == "read email"
    claims = decode(app, body["access_token"])
    assert claims["scopes"] == ["read", "email"]
    assert claims["email"] == "svc@example.com"
    for absent in ("user_id", "name", "administrator", "superuser", "given_name"):
        assert absent not in claims


def test_user_id_not_added_when_not_allowed(app, db, service_user):
    application, secret = create_application(db, name="svc", user=service_user,
                                             grant_type="client-credentials",
                                             scopes=["read", "write"])
    db.commit()
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="jwt")).json
    assert body["scope"] == "read write email profile"
    assert "user_id" not in decode(app, body["access_token"])


def test_token_type_header_and_form_precedence(app, cc_client):
    application, secret = cc_client
    body = app.post(TOKEN_URL, cc_form(application, secret),
                    headers={"X-Token-Type": "jwt"}).json
    assert body["token_type"] == "JWT"
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="bearer"),
                    headers={"X-Token-Type": "jwt"}).json
    assert body["token_type"] == "Bearer"


def test_trailing_slash_is_optional(app, cc_client):
    application, secret = cc_client
    assert app.post(TOKEN_URL + "/", cc_form(application, secret)).json["token_type"] == "Bearer"


def test_http_basic_client_authentication(app, cc_client, db, service_user):
    application, secret = cc_client
    credentials = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    body = app.post(TOKEN_URL, {"grant_type": "client_credentials"},
                    headers={"Authorization": f"Basic {credentials}"}).json
    assert body["token_type"] == "Bearer"
    # Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1).
    odd, odd_secret = create_application(db, name="odd", user=service_user,
                                         grant_type="client-credentials",
                                         client_id="odd id", client_secret="p+ss:w/rd")
    db.commit()
    credentials = base64.b64encode(
        f"{quote_plus('odd id')}:{quote_plus(odd_secret)}".encode()).decode()
    app.post(TOKEN_URL, {"grant_type": "client_credentials"},
             headers={"Authorization": f"Basic {credentials}"}, status=200)
    # Wrong Basic credentials: the body credentials are still tried, then 401.
    wrong = base64.b64encode(f"{application.client_id}:nope".encode()).decode()
    app.post(TOKEN_URL, cc_form(application, secret),
             headers={"Authorization": f"Basic {wrong}"}, status=200)
    response = app.post(TOKEN_URL, {"grant_type": "client_credentials"},
                        headers={"Authorization": f"Basic {wrong}"}, status=401)
    assert response.json == {"error": "invalid_client"}
    response = app.post(TOKEN_URL, {"grant_type": "client_credentials"},
                        headers={"Authorization": "Basic %%%not-base64"}, status=401)
    assert response.json == {"error": "invalid_client"}


@pytest.mark.parametrize("change", [
    {"client_secret": "wrong"},
    {"client_id": "unknown-client"},
    {"client_secret": ""},
    {"client_id": ""},
])
def test_bad_client_credentials_are_401(app, db, cc_client, change):
    application, secret = cc_client
    response = app.post(TOKEN_URL, {**cc_form(application, secret), **change}, status=401)
    assert response.json == {"error": "invalid_client"}
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_client"'
    assert count(db, OAuthAccessToken) == 0


def test_public_client_cannot_use_client_credentials(app, mobile_client):
    response = app.post(TOKEN_URL, {"grant_type": "client_credentials",
                                    "client_id": mobile_client.client_id}, status=401)
    assert response.json == {"error": "invalid_client"}


@pytest.mark.parametrize("grant_type", ["", "implicit", "authorization_code", "magic"])
def test_unsupported_grant_type(app, cc_client, grant_type):
    application, secret = cc_client
    form = cc_form(application, secret)
    form["grant_type"] = grant_type
    response = app.post(TOKEN_URL, form, status=400)
    assert response.json == {"error": "unsupported_grant_type"}


def test_json_body_is_not_a_form(app, cc_client):
    application, secret = cc_client
    response = app.post_json(TOKEN_URL, cc_form(application, secret), status=400)
    assert response.json == {"error": "unsupported_grant_type"}


def test_application_grant_type_is_enforced(app, cc_client, db):
    application, secret = cc_client
    create_user(db, "alice")
    response = app.post(TOKEN_URL, password_form(application, client_secret=secret), status=400)
    assert response.json == {"error": "unauthorized_client"}


def test_scope_must_be_allowed(app, db, cc_client, service_user):
    application, secret = cc_client
    response = app.post(TOKEN_URL, cc_form(application, secret, scope="read grades:read"),
                        status=400)
    assert response.json == {"error": "invalid_scope", "scope": "read grades:read"}
    response = app.post(TOKEN_URL, cc_form(application, secret, scope="bogus"), status=400)
    assert response.json == {"error": "invalid_scope", "scope": "bogus"}
    assert count(db, OAuthAccessToken) == 0
    graded, graded_secret = create_application(
        db, name="grades", user=service_user, grant_type="client-credentials",
        scopes=["grades:read"])
    db.commit()
    # The defaults stay available on top of the application's own scopes.
    body = app.post(TOKEN_URL, cc_form(graded, graded_secret, scope="read grades:read")).json
    assert body["scope"] == "read grades:read"


def test_duplicate_and_query_parameters(app, cc_client):
    application, secret = cc_client
    form = list(cc_form(application, secret).items()) + [("scope", "read"), ("scope", "write")]
    response = app.post(TOKEN_URL, form, status=400)
    assert response.json == {"error": "invalid_request",
                             "error_description": "Duplicate scope parameter."}
    response = app.post(TOKEN_URL + "?grant_type=client_credentials",
                        cc_form(application, secret), status=400)
    assert response.json == {"error": "invalid_request",
                             "error_description": "URL query parameters are not allowed"}


def test_get_is_405(app):
    response = app.get(TOKEN_URL, status=405)
    assert response.json == {"detail": 'Method "GET" not allowed.'}
    assert response.headers["Allow"] == "POST, OPTIONS"
    app.get(REVOKE_URL, status=405)


# -- password grant ---------------------------------------------------------------

def test_password_grant_public_client(app, db, mobile_client):
    alice = create_user(db, "alice", name="Alice Liddell")
    body = app.post(TOKEN_URL, password_form(mobile_client)).json
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 36000)
    assert body["scope"] == "read write email profile"
    access = db.scalar(select(OAuthAccessToken))
    refresh = db.scalar(select(OAuthRefreshToken))
    assert access.user_id == alice.id and access.token_hash == token_digest(body["access_token"])
    assert refresh.token_hash == token_digest(body["refresh_token"])
    assert (refresh.access_token_id, refresh.user_id) == (access.id, alice.id)
    assert refresh.revoked is None
    assert 89 * 86400 < (refresh.expires - utcnow()).total_seconds() <= 90 * 86400
    assert app.get(FAKE_URL, headers=bearer(body["access_token"])).json == {"user": "alice"}


def test_password_grant_jwt_always_has_user_id(app, db, mobile_client):
    alice = create_user(db, "alice", name="Alice Liddell")
    body = app.post(TOKEN_URL, password_form(mobile_client, token_type="jwt")).json
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("JWT", 3600)
    assert body["scope"] == "read write email profile user_id"
    claims = decode(app, body["access_token"])
    assert claims["scopes"] == ["read", "write", "email", "profile", "user_id"]
    assert claims["user_id"] == alice.id
    assert claims["grant_type"] == "password"
    assert claims["preferred_username"] == "alice" and claims["sub"] == alice.anonymous_id
    assert (claims["administrator"], claims["superuser"]) == (False, False)
    # Even with a narrower request the JWT carries user_id.
    body = app.post(TOKEN_URL, password_form(mobile_client, token_type="jwt", scope="read")).json
    assert body["scope"] == "read user_id"
    claims = decode(app, body["access_token"])
    assert claims["scopes"] == ["read", "user_id"] and claims["user_id"] == alice.id
    assert "email" not in claims


def test_password_grant_by_email_and_inactive_user(app, db, mobile_client):
    create_user(db, "bob", email="bob@example.com", is_active=False)
    body = app.post(TOKEN_URL, password_form(mobile_client, username="bob@example.com",
                                             token_type="jwt")).json
    claims = decode(app, body["access_token"])
    assert claims["preferred_username"] == "bob"
    assert claims["email_verified"] is False


@pytest.mark.parametrize("username, password", [
    ("alice", "wrong"), ("nobody", "password123"), ("alice@example.com", "wrong"),
])
def test_password_grant_wrong_credentials(app, db, mobile_client, username, password):
    create_user(db, "alice")
    response = app.post(TOKEN_URL, password_form(mobile_client, username=username,
                                                 password=password), status=400)
    assert response.json == {"error": "invalid_grant",
                             "error_description": "Invalid credentials given."}
    assert count(db, OAuthAccessToken) == 0 and count(db, OAuthRefreshToken) == 0


def test_password_grant_unusable_password(app, db, mobile_client):
    create_user(db, "ghost", password=None)
    response = app.post(TOKEN_URL, password_form(mobile_client, username="ghost",
                                                 password="!"), status=400)
    assert response.json["error"] == "invalid_grant"


@pytest.mark.parametrize("missing", ["username", "password"])
def test_password_grant_missing_parameter(app, db, mobile_client, missing):
    form = password_form(mobile_client)
    del form[missing]
    response = app.post(TOKEN_URL, form, status=400)
    assert response.json == {"error": "invalid_request",
                             "error_description": f"Request is missing {missing} parameter."}


def test_password_grant_confidential_client_needs_its_secret(app, db, service_user):
    application, secret = create_application(db, name="web", user=service_user,
                                             grant_type="password")
    create_user(db, "alice")
    db.commit()
    response = app.post(TOKEN_URL, password_form(application), status=401)
    assert response.json == {"error": "invalid_client"}
    app.post(TOKEN_URL, password_form(application, client_secret="nope"), status=401)
    body = app.post(TOKEN_URL, password_form(application, client_secret=secret)).json
    assert "refresh_token" in body


def test_password_grant_rehashes_django_passwords(app, db, mobile_client):
    alice = create_user(db, "alice")
    salt = "saltsalt"
    digest = hashlib.pbkdf2_hmac("sha256", b"legacy-pass", salt.encode(), 1000)
    alice.password = f"pbkdf2_sha256$1000${salt}${base64.b64encode(digest).decode()}"
    db.commit()
    app.post(TOKEN_URL, password_form(mobile_client, password="legacy-pass"), status=200)
    db.expire_all()
    assert db.get(User, alice.id).password.startswith("$argon2")
    app.post(TOKEN_URL, password_form(mobile_client, password="legacy-pass"), status=200)


def test_imported_django_client_secret_verifies(app, db, service_user):
    application, _ = create_application(db, name="imported", user=service_user,
                                        grant_type="client-credentials")
    salt = "importsalt"
    digest = hashlib.pbkdf2_hmac("sha256", b"dot-secret", salt.encode(), 1000)
    application.client_secret_hash = (
        f"pbkdf2_sha256$1000${salt}${base64.b64encode(digest).decode()}")
    db.commit()
    app.post(TOKEN_URL, cc_form(application, "dot-secret"), status=200)
    app.post(TOKEN_URL, cc_form(application, "other"), status=401)


# -- refresh_token grant ---------------------------------------------------------------

def test_refresh_rotates_tokens(app, db, mobile_client):
    create_user(db, "alice")
    first = app.post(TOKEN_URL, password_form(mobile_client)).json
    refresh_form = {"grant_type": "refresh_token", "client_id": mobile_client.client_id,
                    "refresh_token": first["refresh_token"]}
    second = app.post(TOKEN_URL, refresh_form).json
    assert set(second) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert second["scope"] == "read write email profile"
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    db.expire_all()
    old = db.scalar(select(OAuthRefreshToken).where(
        OAuthRefreshToken.token_hash == token_digest(first["refresh_token"])))
    assert old.revoked is not None and old.access_token_id is None
    assert count(db, OAuthAccessToken) == 1  # the old access token is gone
    # The old access token no longer authenticates; the new one does.
    response = app.get(FAKE_URL, headers=bearer(first["access_token"]), status=401)
    assert response.json["error_code"] == "token_nonexistent"
    assert app.get(FAKE_URL, headers=bearer(second["access_token"])).json == {"user": "alice"}
    # The old refresh token cannot be used twice.
    response = app.post(TOKEN_URL, refresh_form, status=400)
    assert response.json == {"error": "invalid_grant"}
    # The new one works, here asking for a JWT.
    third = app.post(TOKEN_URL, {**refresh_form, "refresh_token": second["refresh_token"],
                                 "token_type": "jwt"}).json
    assert third["token_type"] == "JWT"
    claims = decode(app, third["access_token"])
    assert claims["grant_type"] == "password" and claims["preferred_username"] == "alice"
    assert "user_id" in claims["scopes"]


def test_refresh_scope_narrowing(app, db, mobile_client):
    create_user(db, "alice")
    first = app.post(TOKEN_URL, password_form(mobile_client)).json
    form = {"grant_type": "refresh_token", "client_id": mobile_client.client_id,
            "refresh_token": first["refresh_token"]}
    response = app.post(TOKEN_URL, {**form, "scope": "read grades:read"}, status=400)
    assert response.json == {"error": "invalid_scope", "scope": "read grades:read"}
    narrowed = app.post(TOKEN_URL, {**form, "scope": "read"}).json
    assert narrowed["scope"] == "read"
    # The refresh token keeps the original scope (RFC 6749 §6).
    again = app.post(TOKEN_URL, {**form, "refresh_token": narrowed["refresh_token"]}).json
    assert again["scope"] == "read write email profile"


def test_refresh_errors(app, db, mobile_client, service_user):
    create_user(db, "alice")
    first = app.post(TOKEN_URL, password_form(mobile_client)).json
    response = app.post(TOKEN_URL, {"grant_type": "refresh_token",
                                    "client_id": mobile_client.client_id}, status=400)
    assert response.json == {"error": "invalid_request",
                             "error_description": "Missing refresh token parameter."}
    response = app.post(TOKEN_URL, {"grant_type": "refresh_token", "client_id": "nope",
                                    "refresh_token": first["refresh_token"]}, status=401)
    assert response.json == {"error": "invalid_client"}
    # A refresh token is bound to the client it was issued to.
    other = create_application(db, name="other", user=service_user, grant_type="password",
                               public=True)[0]
    db.commit()
    response = app.post(TOKEN_URL, {"grant_type": "refresh_token", "client_id": other.client_id,
                                    "refresh_token": first["refresh_token"]}, status=400)
    assert response.json == {"error": "invalid_grant"}
    # Expired refresh tokens are refused.
    row = db.scalar(select(OAuthRefreshToken))
    row.expires = utcnow() - timedelta(seconds=1)
    db.commit()
    app.post(TOKEN_URL, {"grant_type": "refresh_token", "client_id": mobile_client.client_id,
                         "refresh_token": first["refresh_token"]}, status=400)


# -- tokens used against the API ----------------------------------------------------------

def test_expired_bearer_token_is_401(app, db, cc_client):
    application, secret = cc_client
    body = app.post(TOKEN_URL, cc_form(application, secret)).json
    row = db.scalar(select(OAuthAccessToken))
    row.expires = utcnow() - timedelta(seconds=1)
    db.commit()
    response = app.get(FAKE_URL, headers=bearer(body["access_token"]), status=401)
    assert response.json == {"error_code": "token_expired",
                             "developer_message": "The provided access token has expired."}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_jwt_sent_as_bearer_is_not_accepted(app, cc_client):
    application, secret = cc_client
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="jwt")).json
    response = app.get(FAKE_URL, headers=bearer(body["access_token"]), status=401)
    assert response.json == {
        "error_code": "token_nonexistent",
        "developer_message": "The provided access token does not match any valid tokens."}


def test_restricted_application(make_app, db, service_user):
    app = make_app(**{"jwt.private_signing_jwk": rsa_jwk()})
    application, secret = create_application(
        db, name="partner", user=service_user, grant_type="client-credentials",
        is_restricted=True, filters=["content_org:edX"])
    db.commit()
    body = app.post(TOKEN_URL, cc_form(application, secret)).json
    assert body["expires_in"] < -1_000_000_000  # stored already expired (the epoch)
    row = db.scalar(select(OAuthAccessToken))
    assert row.expires.year == 1970
    response = app.get(FAKE_URL, headers=bearer(body["access_token"]), status=401)
    assert response.json["error_code"] == "token_expired"
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="jwt")).json
    assert body["expires_in"] == 3600
    assert pyjwt.get_unverified_header(body["access_token"])["alg"] == "RS512"
    claims = decode(app, body["access_token"])
    assert claims["is_restricted"] is True and claims["filters"] == ["content_org:edX"]
    # Views that do not opt in refuse restricted JWTs.
    response = app.get(FAKE_URL, headers={"Authorization": "JWT " + body["access_token"]},
                       status=403)
    assert response.json == {"detail": "You do not have permission to perform this action."}


def test_asymmetric_jwt_with_rsa_key(make_app, db, service_user):
    private_jwk = rsa_jwk("key-1")
    app = make_app(**{"jwt.private_signing_jwk": private_jwk})
    application, secret = create_application(db, name="svc", user=service_user,
                                             grant_type="client-credentials")
    db.commit()
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="jwt",
                                       asymmetric_jwt="1")).json
    header = pyjwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["kid"]) == ("RS512", "key-1")
    claims = decode(app, body["access_token"])
    assert claims["preferred_username"] == "svc"
    # Verifiable with nothing but the published public key.
    jwks = app.get("/oauth2/jwks.json").json
    assert len(jwks["keys"]) == 1
    published = jwks["keys"][0]
    assert (published["kid"], published["alg"], published["use"], published["kty"]) == (
        "key-1", "RS512", "sig", "RSA")
    assert "d" not in published
    assert published["n"] == json.loads(private_jwk)["n"]
    public_key = RSAAlgorithm.from_jwk(published)
    verified = pyjwt.decode(body["access_token"], public_key, algorithms=["RS512"],
                            audience="lms-key")
    assert verified["sub"] == service_user.anonymous_id
    # Without asymmetric_jwt the JWT stays HS256.
    body = app.post(TOKEN_URL, cc_form(application, secret, token_type="jwt")).json
    assert pyjwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


def test_jwks_is_404_without_private_key(app):
    assert app.get("/oauth2/jwks.json", status=404).json == {"detail": "Not found."}


# -- revocation ------------------------------------------------------------------------

def test_revoke_access_token(app, db, cc_client):
    application, secret = cc_client
    body = app.post(TOKEN_URL, cc_form(application, secret)).json
    response = app.post(REVOKE_URL, {"token": body["access_token"],
                                     "client_id": application.client_id,
                                     "client_secret": secret})
    assert response.status_code == 200 and response.body == b""
    assert count(db, OAuthAccessToken) == 0
    response = app.get(FAKE_URL, headers=bearer(body["access_token"]), status=401)
    assert response.json["error_code"] == "token_nonexistent"
    # Unknown tokens are fine (RFC 7009); trailing slash optional.
    app.post(REVOKE_URL.rstrip("/"), {"token": "unknown", "client_id": application.client_id,
                                      "client_secret": secret}, status=200)


def test_revoke_refresh_token(app, db, mobile_client):
    create_user(db, "alice")
    body = app.post(TOKEN_URL, password_form(mobile_client)).json
    app.post(REVOKE_URL, {"token": body["refresh_token"], "token_type_hint": "refresh_token",
                          "client_id": mobile_client.client_id}, status=200)
    db.expire_all()
    row = db.scalar(select(OAuthRefreshToken))
    assert row.revoked is not None and row.access_token_id is None
    assert count(db, OAuthAccessToken) == 0
    response = app.post(TOKEN_URL, {"grant_type": "refresh_token",
                                    "client_id": mobile_client.client_id,
                                    "refresh_token": body["refresh_token"]}, status=400)
    assert response.json == {"error": "invalid_grant"}


def test_revoke_only_own_tokens_and_errors(app, db, cc_client, service_user):
    application, secret = cc_client
    body = app.post(TOKEN_URL, cc_form(application, secret)).json
    other, other_secret = create_application(db, name="other", user=service_user,
                                             grant_type="client-credentials")
    db.commit()
    app.post(REVOKE_URL, {"token": body["access_token"], "client_id": other.client_id,
                          "client_secret": other_secret}, status=200)
    assert count(db, OAuthAccessToken) == 1
    assert app.get(FAKE_URL, headers=bearer(body["access_token"])).json == {"user": "svc"}
    response = app.post(REVOKE_URL, {"client_id": application.client_id,
                                     "client_secret": secret}, status=400)
    assert response.json == {"error": "invalid_request",
                             "error_description": "Missing token parameter."}
    response = app.post(REVOKE_URL, {"token": body["access_token"],
                                     "client_id": application.client_id,
                                     "client_secret": "wrong"}, status=401)
    assert response.json == {"error": "invalid_client"}
    assert count(db, OAuthAccessToken) == 1


# -- throttling ---------------------------------------------------------------------------

def test_token_endpoint_throttle(make_app, db, service_user):
    app = make_app(**{"throttle.enabled": "true", "throttle.token_rate": "2/m"})
    application, secret = create_application(db, name="svc", user=service_user,
                                             grant_type="client-credentials")
    db.commit()
    app.post(TOKEN_URL, cc_form(application, secret), status=200)
    app.post(TOKEN_URL, cc_form(application, "wrong"), status=401)  # failures count too
    response = app.post(TOKEN_URL, cc_form(application, secret), status=429)
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert response.json == {
        "detail": f"Request was throttled. Expected available in {wait} seconds."}
    assert count(db, OAuthAccessToken) == 1
    assert db.scalar(select(ThrottleHit.count).where(ThrottleHit.scope == "oauth2_token")) == 3


# -- real clients over HTTP ---------------------------------------------------------------

def test_edx_rest_api_client_end_to_end(app, db, cc_client, live_server, service_user):
    configure_django_for_edx_rest_api_client()
    from edx_rest_api_client.client import OAuthAPIClient

    application, secret = cc_client
    client = OAuthAPIClient(live_server, application.client_id, secret)
    try:
        response = client.get(live_server + FAKE_URL, timeout=10)
        assert response.status_code == 200
        assert response.json() == {"user": "svc"}
        token = client.get_jwt_access_token()
        claims = decode(app, token)
        assert claims["preferred_username"] == "svc"
        assert claims["grant_type"] == "client-credentials"
        assert claims["user_id"] == service_user.id
        response = client.post(live_server + FAKE_URL, json={"number": 7}, timeout=10)
        assert response.json() == {"user": "svc", "number": 7}
    finally:
        client.close()
    assert count(db, OAuthAccessToken) == 1  # the token was cached between calls


def test_bearer_token_over_http_with_requests(app, cc_client, live_server):
    application, secret = cc_client
    with requests.Session() as session:
        response = session.post(live_server + TOKEN_URL, timeout=10, data={
            "grant_type": "client_credentials", "client_id": application.client_id,
            "client_secret": secret, "token_type": "bearer"})
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        response = session.get(live_server + FAKE_URL, headers=bearer(body["access_token"]),
                               timeout=10)
        assert response.json() == {"user": "svc"}
        response = session.post(live_server + REVOKE_URL, timeout=10, data={
            "token": body["access_token"], "client_id": application.client_id,
            "client_secret": secret})
        assert response.status_code == 200 and response.content == b""
        response = session.get(live_server + FAKE_URL, headers=bearer(body["access_token"]),
                               timeout=10)
        assert response.status_code == 401



def test_hostile_input_never_500(app, db, cc_client, mobile_client):
    application, secret = cc_client
    create_user(db, "alice")
    response = app.post(TOKEN_URL, cc_form(application, secret, client_id="a\x00b"), status=401)
    assert response.json == {"error": "invalid_client"}
    response = app.post(TOKEN_URL, password_form(mobile_client, username="al\x00ice"), status=400)
    assert response.json["error"] == "invalid_grant"
    app.post(TOKEN_URL, password_form(mobile_client, scope="read\x00"), status=400)
    app.post(REVOKE_URL, {"token": "x\x00", "client_id": mobile_client.client_id}, status=200)
    response = app.post(TOKEN_URL, b"grant_type=client_credentials&client_id=\xff\xfe",
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                        expect_errors=True)
    assert response.status_code in (400, 401)
    basic = base64.b64encode(b"\xff\xfe:\x00").decode()
    app.post(TOKEN_URL, {"grant_type": "client_credentials"},
             headers={"Authorization": f"Basic {basic}"}, status=401)
    assert count(db, OAuthAccessToken) == 0
