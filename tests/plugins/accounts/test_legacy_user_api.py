"""Upstream's legacy ``/user_api/...`` mount (and ``/create_account``): every path answers
exactly as its ``/api/user/...`` twin, for a success, an anonymous caller, a caller
without rights and bad input (the same status, media type, body and database effect)."""
import pytest
from sqlalchemy import func, select

from lms.models import User
from lms.testing import create_user, jwt_headers
from plugins.accounts import api
from plugins.accounts.models import UserOrgTag, UserPreference
from plugins.accounts.password_reset import int_to_base36, make_reset_token
from tests.plugins.accounts.test_preferences_support import (
    API_KEY,
    NOT_AUTHENTICATED,
    PERMISSION_DENIED,
    api_key_headers,
    session_headers,
)

BASE = "http://localhost"
COURSE_ID = "course-v1:edX+DemoX+Demo_Course"


@pytest.fixture
def settings(settings):
    settings["lms.edx_api_key"] = API_KEY
    return settings


@pytest.fixture
def alice(db):
    user = create_user(db, "alice", name="Alice A", password="alice-pass-1")
    api.get_profile(db, user.id, create=True).year_of_birth = 1980
    api.set_preference(db, user.id, "pref-lang", "en")
    db.commit()
    return user


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", is_staff=True, is_superuser=True)


def answer(response):
    body = response.json if response.content_type == "application/json" else response.body
    return response.status_int, response.content_type, body


def twins(app, method, twin, legacy, params=None, headers=None, **kwargs):
    """The answers of ``twin`` and ``legacy`` to the same request (cookies reset between);
    asserts they are equal and returns one."""
    answers = []
    for path in (twin, legacy):
        app.reset()
        request = {"GET": app.get, "POST": app.post}[method]
        answers.append(answer(request(path, params, headers=headers or {}, expect_errors=True,
                                      **kwargs)))
    assert answers[0] == answers[1], answers
    return answers[0]


# -- the API-key listings -----------------------------------------------------------------

LISTINGS = [
    ("/api/user/v1/users/", "/user_api/v1/users/"),
    ("/api/user/v1/user_prefs/", "/user_api/v1/user_prefs/"),
    ("/api/user/v1/preferences/pref-lang/users/", "/user_api/v1/preferences/pref-lang/users/"),
]


def user_body(user, preferences):
    # Upstream's HyperlinkedIdentityField reverses "user-detail", defined under both
    # mounts: Django gives the legacy one, included last.
    return {"id": user.id, "url": f"{BASE}/user_api/v1/users/{user.id}/", "email": user.email,
            "name": user.name, "username": user.username, "preferences": preferences}


def one_page(results):
    return {"next": None, "previous": None, "count": len(results), "num_pages": 1,
            "current_page": 1, "start": 0, "results": results}


def test_user_listings_with_the_key(app, db, alice):
    pref_id = db.scalar(select(UserPreference.id).where(UserPreference.user_id == alice.id))
    alice_body = user_body(alice, {"pref-lang": "en"})
    pref_body = {"user": alice_body, "key": "pref-lang", "value": "en",
                 "url": f"{BASE}/user_api/v1/user_prefs/{pref_id}/"}
    expected = {
        "/api/user/v1/users/": one_page([alice_body]),
        "/api/user/v1/user_prefs/": one_page([pref_body]),
        "/api/user/v1/preferences/pref-lang/users/": one_page([alice_body]),
    }
    for twin, legacy in LISTINGS:
        assert twins(app, "GET", twin, legacy, headers=api_key_headers()) == (
            200, "application/json", expected[twin])
    assert twins(app, "GET", f"/api/user/v1/users/{alice.id}/",
                 f"/user_api/v1/users/{alice.id}/", headers=api_key_headers()) == (
        200, "application/json", alice_body)
    assert twins(app, "GET", f"/api/user/v1/user_prefs/{pref_id}/",
                 f"/user_api/v1/user_prefs/{pref_id}/", headers=api_key_headers()) == (
        200, "application/json", pref_body)
    # The url is the legacy detail path, which answers the same body.
    assert app.get(alice_body["url"], headers=api_key_headers()).json == alice_body


@pytest.mark.parametrize("twin, legacy", LISTINGS + [
    ("/api/user/v1/users/1/", "/user_api/v1/users/1/"),
    ("/api/user/v1/user_prefs/1/", "/user_api/v1/user_prefs/1/"),
])
def test_user_listings_refuse_alike(app, db, alice, staff, twin, legacy):
    response = app.get(legacy, status=401)
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert twins(app, "GET", twin, legacy) == (401, "application/json", NOT_AUTHENTICATED)
    # Even staff: only the key grants access.
    assert twins(app, "GET", twin, legacy, headers=jwt_headers(app, staff)) == (
        403, "application/json", PERMISSION_DENIED)


def test_user_listings_bad_input_alike(app, alice):
    key = api_key_headers()
    assert twins(app, "GET", "/api/user/v1/users/", "/user_api/v1/users/", {"page": "9"},
                 headers=key) == (404, "application/json", {"detail": "Invalid page."})
    assert twins(app, "GET", "/api/user/v1/users/0/", "/user_api/v1/users/0/", headers=key) == (
        404, "application/json", {"detail": "No User matches the given query."})
    assert twins(app, "GET", "/api/user/v1/user_prefs/", "/user_api/v1/user_prefs/",
                 {"user": "x"}, headers=key) == (400, "application/json", {"user": [
                     "Select a valid choice. That choice is not one of the available choices."]})
    # Without its trailing slash, preferences/{key}/users is no listing (upstream: a
    # preference of user "pref-lang" under /api/user/v1/, nothing under /user_api/v1/).
    app.get("/user_api/v1/preferences/pref-lang/users", headers=key, status=404)


# -- preferences: email_opt_in and time_zones ------------------------------------------------

OPT_IN = ("/api/user/v1/preferences/email_opt_in/", "/user_api/v1/preferences/email_opt_in/")
TIME_ZONES = ("/api/user/v1/preferences/time_zones/", "/user_api/v1/preferences/time_zones/")


def opt_in_tags(db):
    db.expire_all()
    return db.execute(select(UserOrgTag.org, UserOrgTag.key, UserOrgTag.value)).all()


def test_email_opt_in_alike(app, db, alice):
    form = {"course_id": COURSE_ID, "email_opt_in": "true"}
    session = session_headers(app, db, alice)
    assert twins(app, "POST", *OPT_IN, form, headers=session) == (200, "text/html", b"")
    assert opt_in_tags(db) == [("edX", "email-optin", "True")]
    # Anonymous, and a JWT (session only, so anonymous too): refused, nothing stored.
    assert twins(app, "POST", *OPT_IN, dict(form, email_opt_in="false")) == (
        403, "application/json", NOT_AUTHENTICATED)
    assert twins(app, "POST", *OPT_IN, dict(form, email_opt_in="false"),
                 headers=jwt_headers(app, alice)) == (403, "application/json", NOT_AUTHENTICATED)
    # Bad input: upstream's plain-text 400.
    assert twins(app, "POST", *OPT_IN, {"course_id": COURSE_ID}, headers=session) == (
        400, "text/html", b"Missing POST parameters: email_opt_in")
    assert opt_in_tags(db) == [("edX", "email-optin", "True")]


def test_time_zones_alike(app, alice):
    status, content_type, body = twins(app, "GET", *TIME_ZONES, {"country_code": "NZ"})
    assert (status, content_type) == (200, "application/json")
    assert [zone["time_zone"] for zone in body] == ["Pacific/Auckland", "Pacific/Chatham"]
    assert twins(app, "GET", *TIME_ZONES, headers=jwt_headers(app, alice))[0] == 200
    assert twins(app, "GET", *TIME_ZONES, headers={"Authorization": "JWT nope"}) == (
        401, "application/json", {"detail": "Error decoding token."})
    assert twins(app, "POST", *TIME_ZONES, {})[0] == 405


# -- session login ---------------------------------------------------------------------------

def csrf_headers(app):
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    return {"X-CSRFToken": token}


def login_twins(app, version, form, csrf=True):
    answers = []
    for path in (f"/api/user/{version}/account/login_session/",
                 f"/user_api/{version}/account/login_session/"):
        app.reset()
        headers = csrf_headers(app) if csrf else {}
        answers.append(answer(app.post(path, form, headers=headers, expect_errors=True)))
    assert answers[0] == answers[1], answers
    return answers[0]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_login_session_alike(app, db, alice, version):
    identifier = "email" if version == "v1" else "email_or_username"
    form = {identifier: "alice@example.com", "password": "alice-pass-1"}
    assert twins(app, "GET", f"/api/user/{version}/account/login_session/",
                 f"/user_api/{version}/account/login_session/")[:2] == (200, "application/json")
    assert login_twins(app, version, form) == (
        200, "application/json", {"success": True, "redirect_url": None})
    app.reset()
    response = app.post(f"/user_api/{version}/account/login_session/", form,
                        headers=csrf_headers(app))
    assert any(cookie.startswith("edxloggedin=true")
               for cookie in response.headers.getall("Set-Cookie"))
    # Without the CSRF token (Django's HTML refusal), and with a wrong password.
    assert login_twins(app, version, form, csrf=False)[0] == 403
    # One failure count for both paths (the lockout is the view's).
    failures = []
    for path in (f"/api/user/{version}/account/login_session/",
                 f"/user_api/{version}/account/login_session/"):
        app.reset()
        failures.append(app.post(path, dict(form, password="nope"), headers=csrf_headers(app),
                                 status=400).json)
    assert failures == [{"success": False, "value": "Email or password is incorrect.",
                         "error_code": "incorrect-email-or-password",
                         "context": {"failure_count": count}, "email": "alice@example.com"}
                        for count in (1, 2)]
    # v3 is no login_session path, here or upstream.
    app.get("/user_api/v3/account/login_session/", status=404)


# -- registration ----------------------------------------------------------------------------

REGISTRATION_TWINS = [
    ("/api/user/v1/account/registration/", "/user_api/v1/account/registration/"),
    ("/api/user/v2/account/registration/", "/user_api/v2/account/registration/"),
    # /create_account has no "v1" in its path: upstream's v2 form and rules.
    ("/api/user/v2/account/registration/", "/create_account"),
]


def registration_form(username, **overrides):
    form = {"email": f"{username}@example.com", "name": username.title(), "username": username,
            "password": "long-Pass-word-1", "honor_code": "true", "country": "NZ"}
    form.update(overrides)
    return form


def usernames(db):
    db.expire_all()
    return sorted(db.scalars(select(User.username)).all())


@pytest.mark.parametrize("twin, legacy", REGISTRATION_TWINS)
def test_registration_form_alike(app, twin, legacy):
    status, content_type, body = twins(app, "GET", twin, legacy)
    assert (status, content_type) == (200, "application/json")
    assert body["submit_url"] == twin
    app.reset()
    assert "csrftoken=" in app.get(legacy).headers["Set-Cookie"]


@pytest.mark.parametrize("twin, legacy", REGISTRATION_TWINS)
def test_registration_alike(app_factory, db, twin, legacy):
    app = app_factory(**{"accounts.registration_extra_fields":
                         "confirm_email=required honor_code=required"})
    answers = []
    for path, username in ((twin, "first"), (legacy, "second")):
        app.reset()
        form = registration_form(username, confirm_email=f"{username}@example.com")
        response = app.post(path, form)
        user_id = db.scalar(select(User.id).where(User.username == username))
        assert response.json == {
            "authenticated_user": {"username": username, "full_name": username.title(),
                                   "user_id": user_id},
            "success": True, "redirect_url": "http://localhost/dashboard"}
        answers.append(response.status_int)
    assert usernames(db) == ["first", "second"]
    # A taken username (suggestions are random), a bad form (v1 never asks for
    # confirm_email, v2 does): the same.
    duplicates = []
    for path in (twin, legacy):
        body = app.post(path, registration_form("first"), status=409).json
        assert len(body.pop("username_suggestions")) == 3
        duplicates.append(body)
    assert duplicates[0] == duplicates[1]
    assert duplicates[0]["error_code"] == "duplicate-email-username"
    bad = twins(app, "POST", twin, legacy, registration_form("third", email="nope"))
    assert bad[:2] == (400, "application/json")
    assert bad[2]["error_code"] == "validation-error"
    assert ("confirm_email" in bad[2]) is ("/v1/" not in twin)
    assert usernames(db) == ["first", "second"]


# -- password reset --------------------------------------------------------------------------

def test_password_reset_form_alike(app):
    status, content_type, body = twins(app, "GET", "/api/user/v1/account/password_reset/",
                                       "/user_api/v1/account/password_reset/")
    assert (status, content_type) == (200, "application/json")
    assert body["submit_url"] == "/account/password"
    app.post("/user_api/v1/account/password_reset/", {}, status=405)


def test_password_reset_token_validation_alike(app, db, alice, staff):
    paths = ("/api/user/v1/account/password_reset/token/validate/",
             "/user_api/v1/account/password_reset/token/validate/")
    token = f"{int_to_base36(alice.id)}-{make_reset_token(app.registry.settings, alice)}"
    alice.is_active = False
    db.commit()
    assert twins(app, "POST", *paths, {"token": token}) == (
        200, "application/json", {"is_valid": True})
    db.expire_all()
    assert db.get(User, alice.id).is_active is True
    # Someone else's token, for a signed-in caller; bad tokens.
    assert twins(app, "POST", *paths, {"token": token}, headers=jwt_headers(app, staff)) == (
        200, "application/json", {"is_valid": False})
    for bad in ({"token": "zz-nope"}, {"token": "no dash"}, {}):
        assert twins(app, "POST", *paths, bad) == (200, "application/json", {"is_valid": False})
    assert twins(app, "POST", *paths, {"token": token},
                 headers={"Authorization": "JWT nope"})[:2] == (401, "application/json")
    assert db.scalar(select(func.count()).select_from(User)) == 2
