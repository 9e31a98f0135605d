"""Browser session login, login_refresh, logout and the CSRF token (lms.session)."""
import base64
import hashlib
import json
import time
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import select

from lms import auth
from lms.models import LoginFailure, LoginSession, OAuthApplication, ThrottleHit, User
from lms.testing import create_user, jwt_headers, verify_password
from lms.timeutil import utcnow

V1 = "/api/user/v1/account/login_session/"
V2 = "/api/user/v2/account/login_session/"
FAKE = "/api/fake/v1/standard/"
MFE = "http://apps.example.com"
JWT_COOKIES = (auth.JWT_COOKIE_HEADER_PAYLOAD, auth.JWT_COOKIE_SIGNATURE)
LOGGED_IN_COOKIES = ("sessionid", "edxloggedin", "edx-user-info") + JWT_COOKIES
MISSING = "There was an error receiving your login information. Please email us."
INCORRECT = "Email or password is incorrect."
RESET_LINK = '<a http="#login" class="form-toggle" data-type="password-reset">here</a>'


def failed_attempt_value(remaining):
    return ("Email or password is incorrect.<li>You have "
            f"{remaining} more sign-in attempts before your account is temporarily locked.</li>"
            f"<li>If you&#39;ve forgotten your password, click {RESET_LINK} to reset.</li>")


LOCKED_OUT_VALUE = ("To protect your account, it\u2019s been temporarily locked. Try again in 30 "
                    f"minutes.<li>To be on the safe side, you can reset your password {RESET_LINK} "
                    "before you try again.")


@pytest.fixture
def make_app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    return app_factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def alice(db):
    return create_user(db, "alice", password="s3cret-pass")


def set_cookies(response):
    """``{name: Morsel}`` of the response's Set-Cookie headers."""
    found = {}
    for header in response.headers.getall("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(header)
        found.update(jar)
    return found


def cookie_header(**cookies):
    return {"Cookie": "; ".join(f"{name.replace('_', '-')}={value}"
                                for name, value in cookies.items())}


def csrf_token(app):
    """What frontend-platform does before an unsafe request (cookie kept in the jar)."""
    return app.get("/csrf/api/v1/token").json["csrfToken"]


def login(app, url=V1, status=200, **form):
    token = csrf_token(app)
    return app.post(url, form, headers={"X-CSRFToken": token}, status=status)


def login_alice(app, **kw):
    return login(app, email="alice@example.com", password="s3cret-pass", **kw)


def failures(db, user):
    db.expire_all()
    return db.scalar(select(LoginFailure).where(LoginFailure.user_id == user.id))


def sessions(db, user=None):
    db.expire_all()
    stmt = select(LoginSession)
    if user is not None:
        stmt = stmt.where(LoginSession.user_id == user.id)
    return db.scalars(stmt).all()


def _b64json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def jwt_claims(header_payload):
    return _b64json(header_payload.split(".")[1])


def jwt_header(header_payload):
    return _b64json(header_payload.split(".")[0])


def django_pbkdf2(raw, salt="saltsaltsalt", iterations=1000):
    derived = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(derived).decode()}"


# -- form description and CSRF token ---------------------------------------------------

EXPECTED_FORM = {
    "method": "post",
    "submit_url": "/api/user/v1/account/login_session/",
    "fields": [
        {"name": "email", "label": "Email", "type": "email", "defaultValue": "",
         "placeholder": "", "instructions": "The email address you used to register with openlms",
         "exposed": True, "required": True,
         "restrictions": {"min_length": 3, "max_length": 254}, "errorMessages": {},
         "supplementalLink": "", "supplementalText": "", "loginIssueSupportLink": ""},
        {"name": "password", "label": "Password", "type": "password", "defaultValue": "",
         "placeholder": "", "instructions": "", "exposed": True, "required": True,
         "restrictions": {"max_length": 5000}, "errorMessages": {},
         "supplementalLink": "", "supplementalText": "", "loginIssueSupportLink": ""},
    ],
}


@pytest.mark.parametrize("url", [V1, V2])
def test_login_form_description_sets_csrf_cookie(app, url):
    response = app.get(url)
    # Upstream describes the same v1 email form on both versions.
    assert response.json == EXPECTED_FORM
    cookie = set_cookies(response)["csrftoken"]
    assert len(cookie.value) == 32 and cookie["path"] == "/"


def test_unknown_api_version_is_404(app):
    app.get("/api/user/v3/account/login_session/", status=404)


def test_csrf_token_endpoint(app):
    response = app.get("/csrf/api/v1/token")
    token = response.json["csrfToken"]
    secret = set_cookies(response)["csrftoken"].value
    assert len(token) == 64 and auth.unmask_csrf(token) == secret
    again = app.get("/csrf/api/v1/token")  # the cookie is kept: no new one, same secret
    assert "csrftoken" not in set_cookies(again)
    assert auth.unmask_csrf(again.json["csrfToken"]) == secret


# -- the full browser flow -------------------------------------------------------------

def test_full_flow_login_then_session_and_jwt_cookie_calls(app, db, alice):
    old_csrf = auth.unmask_csrf(csrf_token(app))
    response = login_alice(app)
    assert response.json == {"success": True, "redirect_url": None}
    cookies = set_cookies(response)

    session_cookie = cookies["sessionid"]
    assert session_cookie["httponly"] is True
    assert session_cookie["max-age"] == "2419200" and session_cookie["path"] == "/"
    assert session_cookie["samesite"] == "Lax" and not session_cookie["secure"]
    key = auth.unsign(app.registry["lms.auth_config"].secret_key, session_cookie.value)
    rows = sessions(db, alice)
    assert len(rows) == 1 and rows[0].key_hash == auth.token_digest(key)
    assert timedelta(days=27) < rows[0].expires - utcnow() <= timedelta(days=28)
    db.refresh(alice)
    assert utcnow() - alice.last_login < timedelta(minutes=1)

    assert cookies["edxloggedin"].value == "true" and not cookies["edxloggedin"]["httponly"]
    assert json.loads(cookies["edx-user-info"].value) == {
        "version": 1, "username": "alice", "email": "alice@example.com",
        "header_urls": {"logout": "http://localhost/logout",
                        "account_settings": "http://localhost/account/settings",
                        "learner_profile": "http://localhost/u/alice"},
        "user_image_urls": {size: f"http://localhost/static/images/profiles/default_{px}.png"
                            for size, px in (("full", 500), ("large", 120), ("medium", 50),
                                             ("small", 30))},
    }
    header_payload = cookies[auth.JWT_COOKIE_HEADER_PAYLOAD]
    signature = cookies[auth.JWT_COOKIE_SIGNATURE]
    assert not header_payload["httponly"] and signature["httponly"] is True
    assert header_payload["max-age"] == signature["max-age"] == "3600"
    claims = jwt_claims(header_payload.value)
    assert claims["scopes"] == ["user_id", "email", "profile"]
    assert claims["user_id"] == alice.id and claims["preferred_username"] == "alice"
    assert claims["email"] == "alice@example.com" and claims["exp"] - claims["iat"] == 3600
    assert claims["grant_type"] == "password" and claims["is_restricted"] is False
    # Django's login() rotates the CSRF secret.
    assert cookies["csrftoken"].value != old_csrf

    # The page reloads after login: frontend-platform fetches a fresh token.
    token = csrf_token(app)
    assert app.post_json(FAKE, {"number": 1}, headers={"X-CSRFToken": token}).json == \
        {"user": "alice", "number": 1}

    csrf_cookie = cookies["csrftoken"].value
    session_only = cookie_header(sessionid=session_cookie.value, csrftoken=csrf_cookie)
    assert app.post_json(FAKE, {"number": 1}, headers=dict(session_only, **{
        "X-CSRFToken": token})).json == {"user": "alice", "number": 1}
    response = app.post_json(FAKE, {"number": 1}, headers=session_only, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}

    jwt_only = {"Cookie": f"{auth.JWT_COOKIE_HEADER_PAYLOAD}={header_payload.value}; "
                          f"{auth.JWT_COOKIE_SIGNATURE}={signature.value}; csrftoken={csrf_cookie}"}
    assert app.post_json(FAKE, {"number": 2}, headers=dict(jwt_only, **{
        "X-CSRFToken": token})).json == {"user": "alice", "number": 2}
    response = app.post_json(FAKE, {"number": 2}, headers=jwt_only, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}

    # An Authorization header needs no CSRF token, even with the cookies present.
    headers = dict(session_only, **jwt_headers(app, alice))
    assert app.post_json(FAKE, {"number": 3}, headers=headers).json == \
        {"user": "alice", "number": 3}


def test_login_cycles_previous_session(app, db, alice):
    first = set_cookies(login_alice(app))["sessionid"].value
    second = set_cookies(login_alice(app))["sessionid"].value
    assert first != second
    rows = sessions(db, alice)
    key = auth.unsign(app.registry["lms.auth_config"].secret_key, second)
    assert [row.key_hash for row in rows] == [auth.token_digest(key)]


def test_cookie_flags_follow_settings(make_app, db, alice):
    app = make_app(**{"session.cookie_secure": "true", "session.cookie_samesite": "None",
                      "session.cookie_domain": ".example.com",
                      "session.max_age_seconds": "2419200"})
    token = csrf_token(app)
    response = app.post(V1, {"email": "alice@example.com", "password": "s3cret-pass"},
                        headers={"X-CSRFToken": token,
                                 "Cookie": f"csrftoken={auth.unmask_csrf(token)}"})
    cookies = set_cookies(response)
    for name in LOGGED_IN_COOKIES:
        assert cookies[name]["secure"] is True, name
        assert cookies[name]["samesite"] == "None", name
        assert cookies[name]["domain"] == ".example.com", name
    assert cookies["sessionid"]["max-age"] == cookies["edxloggedin"]["max-age"] == "2419200"


def test_asymmetric_jwt_cookie_when_private_key_configured(make_app, db, alice):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key))
    jwk["kid"] = "test-key"
    app = make_app(**{"jwt.private_signing_jwk": json.dumps(jwk)})
    cookies = set_cookies(login_alice(app))
    header_payload = cookies[auth.JWT_COOKIE_HEADER_PAYLOAD].value
    assert jwt_header(header_payload) == {"alg": "RS512", "kid": "test-key", "typ": "JWT"}
    token = csrf_token(app)
    app.cookiejar.clear()
    headers = {"X-CSRFToken": token, "Cookie": (
        f"{auth.JWT_COOKIE_HEADER_PAYLOAD}={header_payload}; "
        f"{auth.JWT_COOKIE_SIGNATURE}={cookies[auth.JWT_COOKIE_SIGNATURE].value}; "
        f"csrftoken={auth.unmask_csrf(token)}")}
    assert app.post_json(FAKE, {"number": 5}, headers=headers).json == \
        {"user": "alice", "number": 5}


def test_login_client_grant_type_used_when_configured(app, db, alice):
    db.add(OAuthApplication(name="Login Service for JWT Cookies",
                            client_id="login-service-client-id", client_type="public",
                            grant_type="authorization-code", user_id=alice.id))
    db.commit()
    claims = jwt_claims(set_cookies(login_alice(app))[auth.JWT_COOKIE_HEADER_PAYLOAD].value)
    assert claims["grant_type"] == "authorization-code"


# -- CSRF on login ---------------------------------------------------------------------

def test_login_without_csrf_is_djangos_html_403(app, db, alice):
    form = {"email": "alice@example.com", "password": "s3cret-pass"}
    response = app.post(V1, form, status=403)
    assert response.content_type == "text/html"
    assert "CSRF verification failed. Request aborted." in response.text
    token = csrf_token(app)  # cookie now set, header missing
    app.post(V1, form, status=403)
    app.post(V1, form, headers={"X-CSRFToken": "x" * 64}, status=403)
    # The form field works like the header.
    assert app.post(V1, dict(form, csrfmiddlewaretoken=token)).json["success"] is True
    assert len(sessions(db, alice)) == 1


def test_login_from_untrusted_origin_is_403(make_app, db, alice):
    app = make_app(**{"csrf.trusted_origins": MFE})
    token = csrf_token(app)
    form = {"email": "alice@example.com", "password": "s3cret-pass"}
    app.post(V1, form, headers={"X-CSRFToken": token, "Origin": "http://evil.example"},
             status=403)
    assert sessions(db) == []
    app.post(V1, form, headers={"X-CSRFToken": token, "Origin": MFE})
    assert len(sessions(db)) == 1


# -- failures --------------------------------------------------------------------------

def test_wrong_password_and_unknown_email_look_alike(app, db, alice):
    wrong = login(app, email="alice@example.com", password="nope", status=400)
    unknown = login(app, email="nobody@example.com", password="nope", status=400)
    assert wrong.json == {"success": False, "value": INCORRECT,
                          "error_code": "incorrect-email-or-password",
                          "context": {"failure_count": 1}, "email": "alice@example.com"}
    # Upstream counts failures of existing accounts only, hence failure_count 0 here.
    assert unknown.json == {"success": False, "value": INCORRECT,
                            "error_code": "incorrect-email-or-password",
                            "context": {"failure_count": 0}, "email": "nobody@example.com"}
    assert failures(db, alice).failure_count == 1
    assert db.scalar(select(LoginFailure).where(LoginFailure.user_id != alice.id)) is None
    assert sessions(db) == []
    assert not any(name in set_cookies(wrong) for name in LOGGED_IN_COOKIES)


def test_lockout_after_six_failures(app, db, alice):
    bodies = [login(app, email="alice@example.com", password=f"bad{i}", status=400).json
              for i in range(6)]
    assert [body["error_code"] for body in bodies] == [
        "incorrect-email-or-password", "incorrect-email-or-password", "failed-login-attempt",
        "failed-login-attempt", "failed-login-attempt", "account-locked-out"]
    assert bodies[1]["context"] == {"failure_count": 2}
    assert bodies[2] == {"success": False, "value": failed_attempt_value(3),
                         "error_code": "failed-login-attempt",
                         "context": {"remaining_attempts": 3, "allowed_failure_attempts": 6,
                                     "failure_count": 3},
                         "email": "alice@example.com"}
    assert bodies[4]["context"]["remaining_attempts"] == 1
    locked = {"success": False, "value": LOCKED_OUT_VALUE, "error_code": "account-locked-out",
              "context": {"locked_out_period": 30}, "email": "alice@example.com"}
    assert bodies[5] == locked
    record = failures(db, alice)
    assert record.failure_count == 6
    assert timedelta(minutes=29) < record.lockout_until - utcnow() <= timedelta(minutes=30)

    # Locked out even with the right password; the count does not move.
    assert login_alice(app, status=400).json == locked
    assert failures(db, alice).failure_count == 6 and sessions(db) == []

    # Once the period is over the right password works and clears the counter.
    record.lockout_until = utcnow() - timedelta(seconds=1)
    db.commit()
    assert login_alice(app).json["success"] is True
    assert failures(db, alice) is None


def test_lockout_disabled_when_max_is_zero(make_app, db, alice):
    app = make_app(**{"login.max_failed_attempts": "0"})
    for _ in range(7):
        body = login(app, email="alice@example.com", password="bad", status=400).json
        assert body["context"] == {"failure_count": 0}
    assert failures(db, alice) is None
    assert login_alice(app).json["success"] is True


def test_inactive_user(app, db):
    user = create_user(db, "bob", password="s3cret-pass", is_active=False)
    response = login(app, email="bob@example.com", password="s3cret-pass", status=400)
    assert response.json == {"success": False, "value": "None", "error_code": "inactive-user",
                             "context": {"platformName": "openlms", "supportLink": ""},
                             "email": "bob@example.com"}
    assert failures(db, user).failure_count == 1
    assert sessions(db) == []
    wrong = login(app, email="bob@example.com", password="bad", status=400)
    assert wrong.json["error_code"] == "incorrect-email-or-password"


@pytest.mark.parametrize("url,field", [(V1, "email"), (V2, "email_or_username")])
def test_missing_fields(app, db, alice, url, field):
    response = login(app, url, status=400, **{field: "alice@example.com"})
    assert response.json == {"success": False, "value": MISSING, "email": "alice@example.com"}
    response = login(app, url, status=400, password="s3cret-pass")
    assert response.json == {"success": False, "value": MISSING, "email": None}
    # A JSON body carries no form fields (DRF's request.POST).
    token = csrf_token(app)
    response = app.post_json(url, {field: "alice@example.com", "password": "s3cret-pass"},
                             headers={"X-CSRFToken": token}, status=400)
    assert response.json == {"success": False, "value": MISSING, "email": None}
    assert failures(db, alice) is None and sessions(db) == []


def test_uploaded_file_is_not_a_form_field(app, alice):
    token = csrf_token(app)
    response = app.post(V1, {"email": "alice@example.com"}, headers={"X-CSRFToken": token},
                        upload_files=[("password", "password.txt", b"s3cret-pass")], status=400)
    assert response.json == {"success": False, "value": MISSING, "email": "alice@example.com"}
    response = app.post(V1, {"email": "alice@example.com", "password": "s3cret-pass"},
                        headers={"X-CSRFToken": token},
                        upload_files=[("extra", "extra.txt", b"1")])
    assert response.json["success"] is True


@pytest.mark.parametrize("url,field", [(V1, "email"), (V2, "email_or_username")])
def test_odd_identifiers_are_unknown_users(app, url, field):
    token = csrf_token(app)
    for value in (b"a%00b", b"%ff%fe", b"a" * 20000):
        response = app.post(url, b"password=x&" + field.encode() + b"=" + value,
                            headers={"X-CSRFToken": token,
                                     "Content-Type": "application/x-www-form-urlencoded"},
                            status=400)
        assert response.json["error_code"] == "incorrect-email-or-password"


def test_v1_field_names_on_v2_are_missing(app, alice):
    response = login(app, V2, status=400, email="alice@example.com", password="s3cret-pass")
    assert response.json == {"success": False, "value": MISSING, "email": None}


def test_empty_email_is_an_unknown_user(app, alice):
    response = login(app, status=400, email="", password="s3cret-pass")
    assert response.json["error_code"] == "incorrect-email-or-password"
    assert response.json["email"] == ""


# -- lookups and passwords -------------------------------------------------------------

def test_v2_logs_in_by_email_or_username(app, db, alice):
    assert login(app, V2, email_or_username="alice", password="s3cret-pass").json == \
        {"success": True, "redirect_url": None}
    assert login(app, V2, email_or_username="alice@example.com",
                 password="s3cret-pass").json["success"] is True
    response = login(app, V2, status=400, email_or_username="alice", password="bad")
    assert response.json["email"] == "alice"
    # v1 only looks up emails.
    response = login(app, V1, status=400, email="alice", password="s3cret-pass")
    assert response.json["context"] == {"failure_count": 0}
    assert len(sessions(db, alice)) == 1


def test_email_lookup_ignores_case(app, db, alice):
    assert login(app, email="Alice@Example.COM", password="s3cret-pass").json["success"] is True


def test_django_pbkdf2_hash_logs_in_and_is_rehashed(app, db, alice):
    alice.password = django_pbkdf2("s3cret-pass")
    db.commit()
    assert login_alice(app).json["success"] is True
    db.expire_all()
    stored = db.get(User, alice.id).password
    assert stored.startswith("$argon2")
    assert verify_password("s3cret-pass", stored) == (True, False)


def test_pbkdf2_hash_with_wrong_password_is_kept(app, db, alice):
    original = django_pbkdf2("s3cret-pass")
    alice.password = original
    db.commit()
    login(app, email="alice@example.com", password="bad", status=400)
    db.expire_all()
    assert db.get(User, alice.id).password == original


def test_password_is_nfkc_normalized(app, db):
    import unicodedata

    nfkc = unicodedata.normalize("NFKC", "Ṗŕệṿïệẅ Ṯệẍt")
    create_user(db, "carol", password=nfkc)
    nfkd = unicodedata.normalize("NFKD", "Ṗŕệṿïệẅ Ṯệẍt")
    assert login(app, email="carol@example.com", password=nfkd).json["success"] is True


def test_unusable_password_never_logs_in(app, db):
    create_user(db, "svc", password=None)
    response = login(app, email="svc@example.com", password="!", status=400)
    assert response.json["error_code"] == "incorrect-email-or-password"


# -- redirect_url ----------------------------------------------------------------------

@pytest.mark.parametrize("next_url,expected", [
    ("/courses/course-v1:edX+D1+2024/", "http://localhost/courses/course-v1:edX+D1+2024/"),
    ("https://evil.example/steal", None),
    ("//evil.example/steal", None),
    ("javascript:alert(1)", None),
    (MFE + "/learning/course/x", MFE + "/learning/course/x"),
])
def test_redirect_url_honours_safe_next_only(make_app, db, alice, next_url, expected):
    app = make_app(**{"cors.origins": MFE})
    response = login(app, email="alice@example.com", password="s3cret-pass", next=next_url)
    assert response.json == {"success": True, "redirect_url": expected}


# -- throttling ------------------------------------------------------------------------

def test_login_rate_limit_answers_login_error(make_app, db, alice):
    app = make_app(**{"throttle.enabled": "true", "throttle.login_rate": "2/m"})
    for _ in range(2):
        login(app, email="alice@example.com", password="bad", status=400)
    response = login_alice(app, status=400)
    # Throttled before the password is verified: only the submitted identifier is echoed.
    assert response.json == {"success": False,
                             "value": "Too many failed login attempts. Try again later.",
                             "email": "alice@example.com"}
    response = login(app, V2, status=400, email_or_username="nobody", password="x")
    assert response.json == {"success": False,
                             "value": "Too many failed login attempts. Try again later.",
                             "email": "nobody"}
    assert failures(db, alice).failure_count == 2 and sessions(db) == []
    db.expire_all()
    idents = db.scalars(select(ThrottleHit.ident).where(ThrottleHit.scope == "login_email")).all()
    assert "alice@example.com" not in idents  # stored as digests


def test_throttle_counts_per_email_across_ips(make_app, db, alice):
    app = make_app(**{"throttle.enabled": "true", "throttle.login_rate": "2/m"})
    token = csrf_token(app)
    headers = {"X-CSRFToken": token}
    for number in range(2):
        app.post(V1, {"email": "alice@example.com", "password": "bad"}, headers=headers,
                 extra_environ={"REMOTE_ADDR": f"10.0.0.{number}"}, status=400)
    response = app.post(V1, {"email": "alice@example.com", "password": "s3cret-pass"},
                        headers=headers, extra_environ={"REMOTE_ADDR": "10.0.0.9"}, status=400)
    assert response.json["value"] == "Too many failed login attempts. Try again later."


# -- login_refresh ---------------------------------------------------------------------

def test_login_refresh_with_session(app, db, alice):
    login_alice(app)
    before = time.time()
    response = app.post("/login_refresh")
    body = response.json
    assert set(body) == {"success", "user_id", "response_epoch_seconds", "response_http_date",
                         "expires", "expires_epoch_seconds"}
    assert body["success"] is True and body["user_id"] == alice.id
    assert before <= body["response_epoch_seconds"] <= time.time()
    assert body["response_http_date"].endswith(" GMT")
    assert abs(body["expires_epoch_seconds"] - (body["response_epoch_seconds"] + 3600)) <= 2
    cookies = set_cookies(response)
    assert set(cookies) == set(JWT_COOKIES)
    assert cookies[auth.JWT_COOKIE_HEADER_PAYLOAD]["expires"] == body["expires"]
    assert jwt_claims(cookies[auth.JWT_COOKIE_HEADER_PAYLOAD].value)["user_id"] == alice.id
    assert cookies[auth.JWT_COOKIE_SIGNATURE]["httponly"] is True


def test_login_refresh_without_session_is_401(app, db, alice):
    response = app.post("/login_refresh", status=401)
    assert response.json == "Unauthorized"
    assert set_cookies(response) == {}
    # A JWT alone is not a session.
    app.post("/login_refresh", headers=jwt_headers(app, alice), status=401)
    app.post("/login_refresh", headers=cookie_header(sessionid="forged:abc"), status=401)


def test_login_refresh_expired_session_is_401(app, db, alice):
    login_alice(app)
    row = sessions(db, alice)[0]
    row.expires = utcnow() - timedelta(seconds=1)
    db.commit()
    app.post("/login_refresh", status=401)


def test_login_refresh_is_post_only(app):
    response = app.get("/login_refresh", status=405)
    assert response.json == {"detail": 'Method "GET" not allowed.'}


# -- logout ----------------------------------------------------------------------------

def test_logout_ends_session_and_deletes_cookies(app, db, alice):
    session_cookie = set_cookies(login_alice(app))["sessionid"].value
    response = app.get("/logout", status=302)
    assert response.headers["Location"] == "http://localhost/"
    cookies = set_cookies(response)
    assert set(cookies) == set(LOGGED_IN_COOKIES)
    for morsel in cookies.values():
        assert morsel.value == "" and morsel["max-age"] == "0"
        assert morsel["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert sessions(db) == []
    # The old cookie no longer authenticates anyone.
    stale = cookie_header(sessionid=session_cookie)
    response = app.get("/api/fake/v1/session-first/", headers=stale, status=403)
    assert response.json == {"detail": "Authentication credentials were not provided."}
    app.post("/login_refresh", headers=stale, status=401)


def test_logout_redirect_targets(make_app, db, alice):
    app = make_app(**{"cors.origins": MFE})
    assert app.get("/logout", {"redirect_url": MFE + "/done"}).headers["Location"] == \
        MFE + "/done"
    assert app.get("/logout", {"next": "/courses/course-v1:A+B+C/"}).headers["Location"] == \
        "http://localhost/courses/course-v1:A+B+C/"
    assert app.get("/logout", {"redirect_url": "https://evil.example/"}).headers["Location"] == \
        "http://localhost/"
    for bad in ("redirect_url=%00%ff", "next=http://[::1", "next=javascript:alert(1)"):
        assert app.get("/logout?" + bad).headers["Location"] == "http://localhost/"


def test_post_logout_needs_csrf(app, db, alice):
    login_alice(app)
    app.post("/logout", status=403)
    assert len(sessions(db)) == 1
    token = csrf_token(app)
    app.post("/logout", headers={"X-CSRFToken": token}, status=302)
    assert sessions(db) == []


def test_logout_without_session_still_clears_cookies(app):
    response = app.get("/logout", status=302)
    assert set(set_cookies(response)) == set(LOGGED_IN_COOKIES) - {"sessionid"}


# -- CORS for the micro-frontends ------------------------------------------------------

def test_cors_headers_on_login_refresh_and_csrf(make_app, db, alice):
    app = make_app(**{"cors.origins": MFE, "csrf.trusted_origins": MFE})
    origin = {"Origin": MFE}
    preflight = app.options(V2, headers=dict(origin, **{
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "X-CSRFToken"}))
    assert preflight.headers["Access-Control-Allow-Origin"] == MFE
    assert "x-csrftoken" in preflight.headers["Access-Control-Allow-Headers"]
    token = app.get("/csrf/api/v1/token", headers=origin)
    assert token.headers["Access-Control-Allow-Credentials"] == "true"
    response = app.post(V2, {"email_or_username": "alice", "password": "s3cret-pass"},
                        headers=dict(origin, **{"X-CSRFToken": token.json["csrfToken"]}))
    assert response.headers["Access-Control-Allow-Origin"] == MFE
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    refresh = app.post("/login_refresh", headers=origin)
    assert refresh.headers["Access-Control-Allow-Origin"] == MFE
    logout = app.get("/logout", headers=origin, status=302)
    assert logout.headers["Access-Control-Allow-Origin"] == MFE
    other = app.post("/login_refresh", headers={"Origin": "http://evil.example"}, status=401)
    assert "Access-Control-Allow-Origin" not in other.headers
