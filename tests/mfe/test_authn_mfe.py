"""frontend-app-authn against openlms, request by request.

Each test follows one page of the authn MFE (login, register, activation, forgot and
reset password) and sends what the page sends, in order: frontend-platform's
initialisation (runtime config, the JWT refresh of ``fetchAuthenticatedUser``), the
page's own calls with their clients (``getAuthenticatedHttpClient`` with ``isPublic``
for login/registration/password reset, the plain ``getHttpClient`` for field
validation) and the CSRF token they fetch first. Answers are upstream's
(edx-platform ``user_authn``), CORS included; see tests/mfe/conftest.py.
"""
import re
import time
from urllib.parse import quote

from sqlalchemy import select

from lms.models import User
from lms.testing import create_user
from plugins.accounts.models import Registration
from tests.mfe.conftest import (
    ACCOUNT_URL,
    AUTHN_MFE,
    AUTHN_URL,
    COOKIE_DOMAIN,
    FORM,
    JWT_HEADER_PAYLOAD,
    JWT_SIGNATURE,
    LMS,
    PLATFORM_NAME,
    USER_INFO,
    axios_params,
    csrf_token,
    form_urlencoded,
    jwt_payload,
    jwt_token,
    query_string,
    runtime_config,
    submit_login,
)

REGISTER = "/api/user/v2/account/registration/"
VALIDATION = "/api/user/v1/validation/registration"
NAME, USERNAME, EMAIL, PASSWORD = "Jane Doe", "jane", "jane@example.com", "a-fine-pass-42"

# get_mfe_context() for an anonymous visitor without third-party providers.
ANONYMOUS_CONTEXT = {
    "currentProvider": None,
    "platformName": PLATFORM_NAME,
    "providers": [],
    "secondaryProviders": [],
    "finishAuthUrl": None,
    "errorMessage": None,
    "registerFormSubmitButtonText": "Create Account",
    "autoSubmitRegForm": False,
    "syncLearnerProfileData": False,
    "countryCode": None,
    "welcomePageRedirectUrl": None,
    "pipelineUserDetails": {},
}
LOGGED_IN_COOKIES = {"sessionid", "edxloggedin", USER_INFO, JWT_HEADER_PAYLOAD, JWT_SIGNATURE,
                     "csrftoken"}


def load_page(browser):
    """frontend-platform's initialize() for the authn MFE (requireAuthenticatedUser is
    false): the runtime config, then fetchAuthenticatedUser."""
    config = runtime_config(browser, "authn")
    user = jwt_token(browser)
    return config, user


def registration_form(next_url=None, **extra):
    """RegistrationPage → prepareRegistrationPayload: the four fields, the configurable
    fields the page rendered (honor_code: true, set by the 'tos_and_honor_code' notice),
    total_registration_time, then the page's query parameters."""
    form = {"name": NAME, "email": EMAIL, "username": USERNAME, "password": PASSWORD,
            "honor_code": True, "total_registration_time": 31.4}
    if next_url:
        form["next"] = next_url
    form.update(extra)
    return query_string(form)


def register(browser, next_url=ACCOUNT_URL):
    return browser.fetch("POST", REGISTER,
                         headers={"Content-Type": FORM, "X-CSRFToken": csrf_token(browser)},
                         body=registration_form(next_url))


def activation_link(app):
    """The path of the link in the activation mail (``/activate/<key>[?next=...]``)."""
    [message] = [m for m in app.registry["lms.mail_outbox"] if m["To"] == EMAIL]
    text = message.get_body(("plain",)).get_content()
    return re.search(re.escape(LMS) + r"(/activate/\S+)", text).group(1)


def validate(browser, **fields):
    """The field components' onBlur → fetchRealtimeValidations: the plain client (no
    cookies, no CSRF token), so a simple CORS request without a preflight."""
    return browser.fetch("POST", VALIDATION, headers={"Content-Type": FORM},
                         body=query_string(fields), credentials=False)


# -- loading the pages ----------------------------------------------------------------------

def test_login_page_load_by_an_anonymous_visitor(browser):
    browser = browser(AUTHN_MFE)
    config, user = load_page(browser)
    assert config["LMS_BASE_URL"] == LMS
    assert config["LOGIN_URL"] == AUTHN_URL + "/login"
    assert config["REFRESH_ACCESS_TOKEN_ENDPOINT"] == LMS + "/login_refresh"
    assert config["CSRF_TOKEN_API_PATH"] == "/csrf/api/v1/token"
    assert config["ACCESS_TOKEN_COOKIE_NAME"] == JWT_HEADER_PAYLOAD
    assert config["ENABLE_DYNAMIC_REGISTRATION_FIELDS"] is True  # the "authn" override
    assert user is None  # POST /login_refresh answered 401 "Unauthorized"

    # LoginPage → getThirdPartyAuthContext(queryParams): authenticated client, isPublic.
    response = browser.fetch("GET", "/api/mfe_context?" + axios_params({"next": ACCOUNT_URL}))
    assert response.status_int == 200
    assert response.json == {
        "contextData": ANONYMOUS_CONTEXT,
        "registrationFields": {"fields": {}},
        "optionalFields": {"fields": {}, "extended_profile": []},
    }
    assert browser.log == [
        ("GET", "/api/mfe_config/v1?mfe=authn", 200),
        ("POST", "/login_refresh", 401),
        ("GET", "/api/mfe_context?next=http:%2F%2Fapps.local.openedx.io:1997%2Faccount%2F", 200),
    ]
    assert browser.preflights == []  # only simple requests so far
    assert browser.cookies == {}


def test_register_page_describes_the_configured_fields(browser):
    browser = browser(AUTHN_MFE)
    load_page(browser)
    response = browser.fetch("GET", "/api/mfe_context?" + axios_params(
        {"next": ACCOUNT_URL, "is_register_page": True}))
    assert response.status_int == 200
    body = response.json
    assert body["contextData"] == ANONYMOUS_CONTEXT
    # honor_code required and terms_of_service hidden (upstream's defaults): one notice,
    # rendered without a checkbox, that makes the page send honor_code=true.
    assert body["registrationFields"] == {"fields": {"honor_code": {
        "name": "honor_code", "type": "tos_and_honor_code", "error_message": ""}}}
    assert list(body["optionalFields"]["fields"]) == [
        "gender", "year_of_birth", "level_of_education", "mailing_address", "goals"]
    assert body["optionalFields"]["extended_profile"] == []


def test_fields_are_validated_on_blur(browser, db):
    create_user(db, "taken", password="some-pass-1")
    browser = browser(AUTHN_MFE)

    response = validate(browser, name=NAME)
    assert response.status_int == 200
    assert response.json["validation_decisions"] == {"name": ""}
    suggestions = response.json["username_suggestions"]
    assert len(suggestions) == 3 and all(isinstance(item, str) for item in suggestions)

    response = validate(browser, username="taken")
    assert response.json["validation_decisions"] == {
        "username": "It looks like this username is already taken"}
    assert len(response.json["username_suggestions"]) == 3

    assert validate(browser, email="taken@example.com").json == {"validation_decisions": {
        "email": "This email is already associated with an existing account"}}
    assert validate(browser, email=EMAIL).json == {"validation_decisions": {"email": ""}}
    assert validate(browser, password=PASSWORD).json == {"validation_decisions": {"password": ""}}
    assert browser.preflights == [] and browser.cookies == {}


# -- registration -----------------------------------------------------------------------------

def test_registration_creates_the_account_and_logs_the_browser_in(browser, db, app):
    browser = browser(AUTHN_MFE)
    load_page(browser)
    response = register(browser)
    user = db.scalar(select(User).where(User.username == USERNAME))
    assert response.status_int == 200, response.text
    assert response.json == {
        "authenticated_user": {"username": USERNAME, "full_name": NAME, "user_id": user.id},
        "success": True,
        "redirect_url": ACCOUNT_URL,
    }
    assert (user.email, user.name, user.is_active) == (EMAIL, NAME, False)
    # The CSRF token first (USE-JWT-COOKIE is a custom header), then the form post.
    assert browser.log == [
        ("GET", "/api/mfe_config/v1?mfe=authn", 200),
        ("POST", "/login_refresh", 401),
        ("OPTIONS", "/csrf/api/v1/token", 200),
        ("GET", "/csrf/api/v1/token", 200),
        ("OPTIONS", REGISTER, 200),
        ("POST", REGISTER, 200),
    ]
    assert browser.preflights == [("GET", "/csrf/api/v1/token", "use-jwt-cookie"),
                                  ("POST", REGISTER, "x-csrftoken")]

    # Logged in: every cookie on the parent domain, the secrets HttpOnly.
    assert set(browser.cookies) == LOGGED_IN_COOKIES
    assert {cookie.get("domain") for cookie in browser.cookies.values()} == {COOKIE_DOMAIN}
    assert {name for name, cookie in browser.cookies.items() if cookie.get("httponly")} == {
        "sessionid", JWT_SIGNATURE}
    # frontend-platform reads the JWT's header.payload from document.cookie on the MFE host.
    claims = jwt_payload(browser.js_cookie(JWT_HEADER_PAYLOAD))
    assert (claims["preferred_username"], claims["user_id"], claims["email"],
            claims["name"], claims["administrator"]) == (USERNAME, user.id, EMAIL, NAME, False)
    assert claims["exp"] > time.time()
    assert browser.js_cookie(JWT_SIGNATURE) is None
    assert f'\\"username\\": \\"{USERNAME}\\"' in browser.js_cookie(USER_INFO)
    assert browser.js_cookie("edxloggedin") == "true"

    # The activation mail links to the LMS, carrying the page's next.
    key = db.scalar(select(Registration.activation_key).where(Registration.user_id == user.id))
    assert activation_link(app) == f"/activate/{key}?next=" + quote(ACCOUNT_URL, safe="")


def test_registration_without_next_goes_to_the_lms_dashboard(browser, db):
    browser = browser(AUTHN_MFE)
    response = register(browser, next_url=None)
    assert response.status_int == 200, response.text
    assert response.json["redirect_url"] == LMS + "/dashboard"


def test_registration_without_honor_code_is_refused(browser, db):
    """What the page sends when ENABLE_DYNAMIC_REGISTRATION_FIELDS is off for the MFE:
    no configurable field, so no honor_code."""
    browser = browser(AUTHN_MFE)
    form = {"name": NAME, "email": EMAIL, "username": USERNAME, "password": PASSWORD,
            "total_registration_time": 12.0}
    response = browser.fetch("POST", REGISTER,
                             headers={"Content-Type": FORM, "X-CSRFToken": csrf_token(browser)},
                             body=query_string(form))
    assert response.status_int == 400
    assert response.json == {
        "honor_code": [{"user_message": "To enroll, you must follow the honor code."}],
        "terms_of_service": [{"user_message": "You must accept the terms of service."}],
        "error_code": "validation-error",
    }
    assert db.scalar(select(User.id)) is None
    assert "sessionid" not in browser.cookies


def test_registration_with_a_taken_email_is_readable_by_the_page(browser, db):
    create_user(db, "someone", email=EMAIL)
    browser = browser(AUTHN_MFE)
    response = register(browser)
    assert response.status_int == 409
    assert response.json == {
        "email": [{"user_message": "This email is already associated with an existing account"}],
        "error_code": "duplicate-email",
    }


# -- activation ------------------------------------------------------------------------------

def test_activation_link_opened_logged_out_lands_on_the_authn_login_page(browser, db, app):
    register(browser(AUTHN_MFE))
    link = activation_link(app)
    elsewhere = browser(AUTHN_MFE)  # the mail is opened in another browser
    login_page = AUTHN_URL + "/login?account_activation_status={}&next=" + quote(ACCOUNT_URL,
                                                                                 safe="")

    response = elsewhere.navigate(link)
    assert response.status_int == 302
    assert response.headers["Location"] == login_page.format("success")
    db.expire_all()
    assert db.scalar(select(User.is_active).where(User.username == USERNAME)) is True

    response = elsewhere.navigate(link)
    assert response.headers["Location"] == login_page.format("info")
    response = elsewhere.navigate("/activate/not-a-key")
    assert response.headers["Location"] == AUTHN_URL + "/login?account_activation_status=error"


def test_activation_link_opened_in_the_registering_browser(browser, db, app):
    """Logged in, upstream redirects to /dashboard; openlms, which serves no dashboard,
    answers its activation page (plugins/accounts/views/registration.py)."""
    registering = browser(AUTHN_MFE)
    register(registering)
    response = registering.navigate(activation_link(app))
    assert response.status_int == 200
    assert response.content_type == "text/html"
    assert "You have activated your account." in response.text
    db.expire_all()
    assert db.scalar(select(User.is_active).where(User.username == USERNAME)) is True


# -- login ---------------------------------------------------------------------------------------

def test_login_returns_to_the_mfe_that_sent_the_learner(browser, db):
    """The account MFE sent an anonymous learner to LOGIN_URL?next=<its page>."""
    user = create_user(db, USERNAME, email=EMAIL, password=PASSWORD, name=NAME)
    browser = browser(AUTHN_MFE)
    load_page(browser)
    browser.fetch("GET", "/api/mfe_context?" + axios_params({"next": ACCOUNT_URL}))

    response = submit_login(browser, USERNAME, PASSWORD, next_url=ACCOUNT_URL)
    assert response.status_int == 200, response.text
    assert response.json == {"success": True, "redirect_url": ACCOUNT_URL}
    assert browser.log[-4:] == [("OPTIONS", "/csrf/api/v1/token", 200),
                                ("GET", "/csrf/api/v1/token", 200),
                                ("OPTIONS", "/api/user/v2/account/login_session/", 200),
                                ("POST", "/api/user/v2/account/login_session/", 200)]
    assert browser.preflights == [
        ("GET", "/csrf/api/v1/token", "use-jwt-cookie"),
        ("POST", "/api/user/v2/account/login_session/", "x-csrftoken")]
    assert set(browser.cookies) == LOGGED_IN_COOKIES
    assert jwt_payload(browser.js_cookie(JWT_HEADER_PAYLOAD))["user_id"] == user.id

    # The login rotated the CSRF secret: the next page load fetches a new token.
    browser.open(AUTHN_MFE)
    assert jwt_token(browser)["preferred_username"] == USERNAME  # no refresh needed
    assert browser.log[-1] == ("POST", "/api/user/v2/account/login_session/", 200)


def test_login_by_email(browser, db):
    create_user(db, USERNAME, email=EMAIL, password=PASSWORD)
    response = submit_login(browser(AUTHN_MFE), EMAIL, PASSWORD, next_url=ACCOUNT_URL)
    assert response.json == {"success": True, "redirect_url": ACCOUNT_URL}


def test_login_without_next_goes_to_the_lms_dashboard(browser, db):
    """Upstream (ENABLE_AUTHN_MICROFRONTEND) answers ``<LMS>/dashboard``; the core's login
    does not know whether an authn MFE is deployed and answers ``null``, the AJAX
    contract's "caller's default", for which the authn MFE uses that same
    ``<LMS_BASE_URL>/dashboard``. That URL then leads on (to the learner dashboard MFE
    or the landing page), never to a 404."""
    create_user(db, USERNAME, email=EMAIL, password=PASSWORD)
    browser = browser(AUTHN_MFE)
    response = submit_login(browser, USERNAME, PASSWORD)
    assert response.json == {"success": True, "redirect_url": None}
    landing = browser.lms.get(LMS + "/dashboard", status=302)
    assert landing.location == LMS + "/"
    assert browser.lms.get(landing.location, headers={"Accept": "text/html"}).status_int == 200


def test_failed_login_is_readable_by_the_page(browser, db):
    create_user(db, USERNAME, email=EMAIL, password=PASSWORD)
    browser = browser(AUTHN_MFE)
    response = submit_login(browser, USERNAME, "not-the-password", next_url=ACCOUNT_URL)
    assert response.status_int == 400
    assert response.json == {
        "success": False,
        "value": "Email or password is incorrect.",
        "error_code": "incorrect-email-or-password",
        "context": {"failure_count": 1},
        "email": USERNAME,
    }
    assert "sessionid" not in browser.cookies


def test_login_from_an_untrusted_origin_is_refused(browser, db):
    create_user(db, USERNAME, email=EMAIL, password=PASSWORD)
    evil = browser("https://evil.example")
    # The browser's preflight of the CSRF token request already fails: no CORS headers.
    response = evil.lms.options(LMS + "/csrf/api/v1/token", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "use-jwt-cookie"}, expect_errors=True)
    assert "Access-Control-Allow-Origin" not in response.headers
    # A forged form post (no preflight for a simple request) fails Django's Origin check.
    response = evil.lms.post(LMS + "/api/user/v2/account/login_session/",
                             query_string({"email_or_username": USERNAME, "password": PASSWORD}),
                             headers={"Origin": "https://evil.example", "Content-Type": FORM},
                             expect_errors=True)
    assert response.status_int == 403
    assert "Origin checking failed - https://evil.example does not match any trusted " \
           "origins." in response.text
    assert "Access-Control-Allow-Origin" not in response.headers


# -- forgot and reset password ------------------------------------------------------------------

def test_forgot_and_reset_password(browser, db, app):
    user = create_user(db, USERNAME, email=EMAIL, password="old-pass-1")
    browser = browser(AUTHN_MFE)
    load_page(browser)

    # ForgotPasswordPage → forgotPassword(email): authenticated client, isPublic.
    response = browser.fetch("POST", "/account/password",
                             headers={"Content-Type": FORM, "X-CSRFToken": csrf_token(browser)},
                             body=form_urlencoded({"email": EMAIL}))
    assert response.status_int == 200
    assert response.body == b""
    [message] = app.registry["lms.mail_outbox"]
    token = re.search(re.escape(AUTHN_URL) + r"/password_reset_confirm/(\S+)/\?track=pwreset",
                      message.get_body(("plain",)).get_content()).group(1)

    # The link opens the MFE's reset page: it validates the token, then the new password.
    browser.open(AUTHN_MFE)
    load_page(browser)
    response = browser.fetch("POST", "/user_api/v1/account/password_reset/token/validate/",
                             headers={"Content-Type": FORM, "X-CSRFToken": csrf_token(browser)},
                             body=form_urlencoded({"token": token}))
    assert response.status_int == 200, response.text
    assert response.json == {"is_valid": True}
    response = browser.fetch("POST", VALIDATION, headers={"Content-Type": FORM},
                             body=form_urlencoded({"password": PASSWORD}), credentials=False)
    assert response.json == {"validation_decisions": {"password": ""}}
    response = browser.fetch("POST", f"/password/reset/{token}/",
                             headers={"Content-Type": FORM, "X-CSRFToken": csrf_token(browser)},
                             body=form_urlencoded({"new_password1": PASSWORD,
                                                   "new_password2": PASSWORD}))
    assert response.status_int == 200, response.text
    assert response.json == {"reset_status": True, "err_msg": ""}

    # The learner signs in with the new password.
    browser.open(AUTHN_MFE)
    response = submit_login(browser, EMAIL, PASSWORD, next_url=ACCOUNT_URL)
    assert response.json == {"success": True, "redirect_url": ACCOUNT_URL}
    assert jwt_payload(browser.js_cookie(JWT_HEADER_PAYLOAD))["user_id"] == user.id
