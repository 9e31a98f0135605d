"""frontend-app-account against openlms, request by request.

The learner signed in through the authn MFE and was sent back to the account page.
Each test replays what the account MFE sends: frontend-platform's initialisation
(runtime config, ``ensureAuthenticatedUser`` from the JWT cookie, refreshing it with
``POST /login_refresh`` when it is missing or expired, ``hydrateAuthenticatedUser``),
``getSettings`` and the ``edx.user.settings.viewed`` tracking event on load, then the
saves of the settings page: the name and the country (account PATCH, merge-patch), the
time zone and the site language (preferences PATCH, then ``/i18n/setlang/``). Every
call goes through ``getAuthenticatedHttpClient()``: ``USE-JWT-COOKIE: true`` and
credentials, and ``X-CSRFToken`` on writes. See tests/mfe/conftest.py.
"""
import base64
import json
import time
from urllib.parse import quote

import pytest
import pytz
from sqlalchemy import select

from lms.models import User
from lms.testing import create_user
from plugins.accounts.models import UserPreference
from tests.mfe.conftest import (
    ACCOUNT_MFE,
    ACCOUNT_URL,
    AUTHN_MFE,
    FORM,
    JWT_HEADER_PAYLOAD,
    JWT_SIGNATURE,
    MERGE_PATCH,
    authenticated_get,
    authenticated_write,
    csrf_token,
    form_urlencoded,
    json_body,
    jwt_payload,
    jwt_token,
    runtime_config,
    submit_login,
)

NAME, USERNAME, EMAIL, PASSWORD = "Jane Doe", "jane", "jane@example.com", "a-fine-pass-42"
ACCOUNT = f"/api/user/v1/accounts/{USERNAME}"
PREFERENCES = f"/api/user/v1/preferences/{USERNAME}"
TIME_ZONES = "/user_api/v1/preferences/time_zones/"
COUNTRIES = "/user_api/v1/account/registration/"
TPA_STATUS = "/api/third_party_auth/v0/providers/user_status"


@pytest.fixture
def jane(db):
    return create_user(db, USERNAME, email=EMAIL, password=PASSWORD, name=NAME)


@pytest.fixture
def learner(browser, jane):
    """A browser that signed in on the authn MFE and followed redirect_url to the
    account MFE (a new page load)."""
    browser = browser(AUTHN_MFE)
    response = submit_login(browser, USERNAME, PASSWORD, next_url=ACCOUNT_URL)
    assert response.json == {"success": True, "redirect_url": ACCOUNT_URL}
    browser.open(ACCOUNT_MFE)
    browser.log.clear()
    browser.preflights.clear()
    return browser


def preferences(db, user):
    db.expire_all()
    return {row.key: row.value for row in db.scalars(
        select(UserPreference).where(UserPreference.user_id == user.id))}


def load_account_page(learner):
    """initialize({requireAuthenticatedUser: true, hydrateAuthenticatedUser: true})."""
    config = runtime_config(learner, "account")
    user = jwt_token(learner)  # ensureAuthenticatedUser: the cookie is fresh, no refresh
    hydrated = authenticated_get(learner, ACCOUNT)  # hydrateAuthenticatedUser
    return config, user, hydrated


# -- loading the settings page -------------------------------------------------------------------

def test_page_load_reads_the_user_from_the_jwt_cookie(learner, jane):
    config, user, hydrated = load_account_page(learner)
    assert config["LOGIN_URL"] == "http://apps.local.openedx.io:1999/authn/login"
    assert config["SITE_NAME"] == "My Open edX"
    assert "ENABLE_DYNAMIC_REGISTRATION_FIELDS" not in config  # an authn-only override
    assert (user["preferred_username"], user["user_id"], user["email"], user["name"],
            user["administrator"], user.get("roles", [])) == (
        USERNAME, jane.id, EMAIL, NAME, False, [])
    assert hydrated.status_int == 200
    assert learner.log == [
        ("GET", "/api/mfe_config/v1?mfe=account", 200),
        ("OPTIONS", ACCOUNT, 200),
        ("GET", ACCOUNT, 200),
    ]
    assert learner.preflights == [("GET", ACCOUNT, "use-jwt-cookie")]


def test_page_load_reads_the_account_preferences_and_linked_accounts(learner, jane):
    load_account_page(learner)
    # getSettings: Promise.all of the account, preferences, providers, time zones, countries.
    account = authenticated_get(learner, ACCOUNT)
    assert account.status_int == 200
    body = account.json
    assert {key: body[key] for key in (
        "username", "name", "email", "id", "is_active", "country", "time_zone",
        "language_proficiencies", "social_links", "year_of_birth", "requires_parental_consent",
        "pending_name_change", "verified_name")} == {
        "username": USERNAME, "name": NAME, "email": EMAIL, "id": jane.id, "is_active": True,
        "country": None, "time_zone": None, "language_proficiencies": [], "social_links": [],
        "year_of_birth": None, "requires_parental_consent": True, "pending_name_change": None,
        "verified_name": None}
    assert body["profile_image"]["has_image"] is False

    response = authenticated_get(learner, PREFERENCES)
    assert response.status_int == 200
    assert response.json == {}
    response = authenticated_get(learner, TPA_STATUS)
    assert response.status_int == 200
    assert response.json == []
    # The account answer was read once already: its preflight is cached.
    assert learner.preflights == [("GET", ACCOUNT, "use-jwt-cookie"),
                                  ("GET", PREFERENCES, "use-jwt-cookie"),
                                  ("GET", TPA_STATUS, "use-jwt-cookie")]


def test_page_load_reads_time_zones_and_countries_from_the_legacy_user_api(learner):
    load_account_page(learner)
    # getTimeZones() without a country: axios drops the undefined country_code.
    response = authenticated_get(learner, TIME_ZONES)
    assert response.status_int == 200, response.text
    assert len(response.json) == len(pytz.common_timezones)
    assert response.json[0] == {"time_zone": "Africa/Abidjan",
                                "description": "Africa/Abidjan (GMT, UTC+0000)"}
    # getCountryList(): the registration form's country options.
    response = authenticated_get(learner, COUNTRIES)
    assert response.status_int == 200, response.text
    assert response.json["method"] == "post"
    assert {"name", "username", "email", "password"} <= {
        field["name"] for field in response.json["fields"]}


def test_page_load_sends_the_settings_viewed_event(learner, jane, app):
    load_account_page(learner)
    # sendTrackingLogEvent('edx.user.settings.viewed', ...): POST LMS_BASE_URL/event with
    # the authenticated client, form-urlencoded.
    event = json_body({"page": "account", "visibility": None, "user_id": jane.id})
    response = authenticated_write(learner, "POST", "/event", form_urlencoded({
        "event_type": "edx.user.settings.viewed", "event": event, "page": ACCOUNT_URL}), FORM)
    assert response.status_int == 200
    assert response.body == b"success"
    assert learner.preflights[-1] == ("POST", "/event", "use-jwt-cookie,x-csrftoken")
    [line] = app.registry["lms.tracker"].lines
    logged = json.loads(line)
    assert (logged["event_type"], logged["event_source"], logged["username"], logged["page"]) == (
        "edx.user.settings.viewed", "browser", USERNAME, ACCOUNT_URL)
    assert json.loads(logged["event"]) == {"page": "account", "visibility": None,
                                           "user_id": jane.id}


# -- the JWT cookie: refresh when missing or expired ---------------------------------------------

def test_missing_jwt_cookie_is_refreshed_from_the_session(learner, jane):
    learner.drop_cookies(JWT_HEADER_PAYLOAD, JWT_SIGNATURE)  # expired after an hour
    user = jwt_token(learner)
    assert learner.log == [("POST", "/login_refresh", 200)]
    assert learner.preflights == []  # a POST without body or custom header is simple
    assert user["preferred_username"] == USERNAME and user["exp"] > time.time()
    assert learner.cookie(JWT_SIGNATURE)["httponly"] is True

    response = authenticated_get(learner, ACCOUNT)
    assert response.status_int == 200
    assert response.json["username"] == USERNAME


def test_refresh_answer(learner, jane):
    learner.drop_cookies(JWT_HEADER_PAYLOAD, JWT_SIGNATURE)
    response = learner.fetch("POST", "/login_refresh")
    assert response.status_int == 200
    body = response.json
    assert set(body) == {"success", "user_id", "response_epoch_seconds", "response_http_date",
                         "expires", "expires_epoch_seconds"}
    assert (body["success"], body["user_id"]) == (True, jane.id)
    claims = jwt_payload(learner.js_cookie(JWT_HEADER_PAYLOAD))
    assert body["expires_epoch_seconds"] == claims["exp"]


def test_expired_jwt_cookie_is_refreshed_before_the_request(learner, jane):
    # The cookie outlived its token (clock skew, a tab left open): getJwtToken sees exp.
    learner.cookies[JWT_HEADER_PAYLOAD]["value"] = _with_claims(
        learner.js_cookie(JWT_HEADER_PAYLOAD), exp=int(time.time()) - 60)
    response = authenticated_get(learner, ACCOUNT)
    assert response.status_int == 200
    assert [entry[:2] for entry in learner.log] == [("POST", "/login_refresh"),
                                                    ("OPTIONS", ACCOUNT), ("GET", ACCOUNT)]
    assert jwt_payload(learner.js_cookie(JWT_HEADER_PAYLOAD))["exp"] > time.time()


def test_the_jwt_cookie_pair_alone_authenticates(learner, jane, db):
    """USE-JWT-COOKIE: the header.payload and signature cookies make the JWT; the session
    cookie is not needed until the JWT has to be refreshed."""
    learner.drop_cookies("sessionid")
    assert authenticated_get(learner, ACCOUNT).json["username"] == USERNAME
    response = authenticated_write(learner, "PATCH", ACCOUNT, json_body({"name": "Jane Roe"}),
                                   MERGE_PATCH)
    assert response.status_int == 200, response.text
    db.expire_all()
    assert db.get(User, jane.id).name == "Jane Roe"
    assert [entry[0] for entry in learner.log].count("POST") == 0  # no refresh


def test_without_a_session_the_learner_is_sent_to_login(learner):
    learner.drop_cookies("sessionid", JWT_HEADER_PAYLOAD, JWT_SIGNATURE)
    assert jwt_token(learner) is None  # 401 "Unauthorized": redirectToLogin(BASE_URL)
    assert learner.log == [("POST", "/login_refresh", 401)]


def _with_claims(header_payload, **claims):
    """The same cookie with other claims (the signature no longer matches them)."""
    header = header_payload.split(".")[0]
    data = jwt_payload(header_payload)
    data.update(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}"


# -- saving settings -------------------------------------------------------------------------------

def test_save_name(learner, jane, db):
    load_account_page(learner)
    # patchSettings(username, {name}) → patchAccount: PATCH merge-patch+json.
    response = authenticated_write(learner, "PATCH", ACCOUNT, json_body({"name": "Jane Q. Doe"}),
                                   MERGE_PATCH)
    assert response.status_int == 200, response.text
    assert response.json["name"] == "Jane Q. Doe"
    assert response.json["username"] == USERNAME
    # The preflight of the first GET allowed PATCH and these headers: the browser cached it.
    assert learner.log[-3:] == [("OPTIONS", "/csrf/api/v1/token", 200),
                                ("GET", "/csrf/api/v1/token", 200),
                                ("PATCH", ACCOUNT, 200)]
    db.expire_all()
    assert db.get(User, jane.id).name == "Jane Q. Doe"


def test_save_country_then_its_time_zones(learner, jane, db):
    load_account_page(learner)
    response = authenticated_write(learner, "PATCH", ACCOUNT, json_body({"country": "FR"}),
                                   MERGE_PATCH)
    assert response.status_int == 200, response.text
    assert response.json["country"] == "FR"
    # The saga then asks for the country's time zones: getTimeZones('FR').
    response = authenticated_get(learner, TIME_ZONES + "?country_code=FR")
    assert response.status_int == 200, response.text
    [paris] = response.json
    assert paris["time_zone"] == "Europe/Paris"
    assert paris["description"].startswith("Europe/Paris (")


def test_save_time_zone(learner, jane, db):
    load_account_page(learner)
    # patchSettings(username, {time_zone}) → patchPreferences: 204, no body.
    response = authenticated_write(learner, "PATCH", PREFERENCES,
                                   json_body({"time_zone": "Europe/Paris"}), MERGE_PATCH)
    assert response.status_int == 204
    assert response.body == b""
    assert learner.preflights[-1] == ("PATCH", PREFERENCES,
                                      "content-type,use-jwt-cookie,x-csrftoken")
    assert preferences(db, jane) == {"time_zone": "Europe/Paris"}
    assert authenticated_get(learner, PREFERENCES).json == {"time_zone": "Europe/Paris"}
    # The account's own time_zone stays null, as upstream (the MFE reads the preference).
    assert authenticated_get(learner, ACCOUNT).json["time_zone"] is None


def test_save_site_language_preference(learner, jane, db):
    load_account_page(learner)
    # handleSaveSettings('siteLanguage'): first patchPreferences({prefLang}) ...
    response = authenticated_write(learner, "PATCH", PREFERENCES, json_body({"pref-lang": "fr"}),
                                   MERGE_PATCH)
    assert response.status_int == 204
    assert preferences(db, jane) == {"pref-lang": "fr"}


def test_save_site_language_cookie(learner, jane):
    load_account_page(learner)
    # ... then postSetLang(code): a FormData POST to Django's set_language, asking for
    # JSON, so that it answers 204 and only sets the language cookie.
    boundary = "----formdata-mfe-7"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nfr\r\n"
            f"--{boundary}--\r\n")
    response = authenticated_write(
        learner, "POST", "/i18n/setlang/", body, f"multipart/form-data; boundary={boundary}",
        extra_headers={"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"})
    assert response.status_int == 204, response.text
    assert learner.cookie("openedx-language-preference")["value"] == "fr"


# -- refusals the page can read ------------------------------------------------------------------

def test_write_without_csrf_token_is_refused(learner, jane, db):
    load_account_page(learner)
    response = learner.fetch("PATCH", ACCOUNT, headers={
        "Content-Type": MERGE_PATCH, "USE-JWT-COOKIE": "true"}, body=json_body({"name": "X"}))
    assert response.status_int == 403
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    db.expire_all()
    assert db.get(User, jane.id).name == NAME


def test_stale_csrf_token_after_login_is_refused(browser, jane, db):
    """A token fetched before signing in no longer matches: login rotates the secret."""
    page = browser(AUTHN_MFE)
    stale = csrf_token(page)
    submit_login(page, USERNAME, PASSWORD, next_url=ACCOUNT_URL)
    response = page.fetch("PATCH", ACCOUNT, headers={
        "Content-Type": MERGE_PATCH, "USE-JWT-COOKIE": "true", "X-CSRFToken": stale},
        body=json_body({"name": "X"}))
    assert response.status_int == 403
    assert response.json == {
        "detail": "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."}


# -- signing out ----------------------------------------------------------------------------

def test_sign_out_returns_to_the_page(learner, db):
    load_account_page(learner)
    # The header's "Sign Out": a top-level GET of LOGOUT_URL?redirect_url=<BASE_URL>.
    response = learner.navigate("/logout?redirect_url=" + quote(ACCOUNT_URL, safe=""))
    assert response.status_int == 302
    assert response.headers["Location"] == ACCOUNT_URL
    assert set(learner.cookies) == {"csrftoken"}
    # Back on the page, the JWT cookie is gone and the refresh answers 401.
    learner.open(ACCOUNT_MFE)
    assert jwt_token(learner) is None
    assert learner.log[-1] == ("POST", "/login_refresh", 401)
