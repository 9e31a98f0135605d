"""Registration: form description, account creation, activation (plugins.accounts)."""
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from lms.errors import NOT_AUTHENTICATED
from lms.models import LoginSession, User
from lms.testing import create_user, jwt_headers, verify_password
from lms.timeutil import utcnow
from plugins.accounts import api
from plugins.accounts.models import Registration, UserPreference, UserProfile, UserTour

V1 = "/api/user/v1/account/registration/"
V2 = "/api/user/v2/account/registration/"
SEND_ACTIVATION = "/api/send_account_activation_email"
LOGIN = "/api/user/v1/account/login_session/"
SP18 = " " * 18
HONOR_LABEL = (
    f"By creating an account, you agree to the {SP18}<a href='/honor' rel='noopener' "
    f"target='_blank'>Terms of Service and Honor Code</a> {SP18}and you acknowledge that "
    "openlms and each Member process your personal data in accordance "
    f"{SP18}with the <a href='/privacy' rel='noopener' target='_blank'>Privacy Policy</a>."
)
USERNAME_LENGTH = "Username must be between 2 and 30 characters long."
USERNAME_CHARS = ("Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores "
                  "(_), and hyphens (-).")
EMAIL_INVALID = "A properly formatted e-mail is required"


def described(name, label, field_type="text", **overrides):
    field = {
        "name": name, "label": label, "type": field_type, "defaultValue": "",
        "placeholder": "", "instructions": "", "exposed": True, "required": True,
        "restrictions": {}, "errorMessages": {}, "supplementalLink": "",
        "supplementalText": "", "loginIssueSupportLink": "",
    }
    field.update(overrides)
    return field


def select_options(pairs):
    return ([{"value": "", "name": "--", "default": True}]
            + [{"value": value, "name": name, "default": False} for value, name in pairs])


def default_fields():
    year = utcnow().year
    years = [(str(y), str(y)) for y in range(year, year - 120, -1)]
    optional = {"exposed": False, "required": False}
    return [
        described("name", "Full Name",
                  instructions="This name will be used on any certificates that you earn.",
                  restrictions={"max_length": 255}),
        described("username", "Public Username",
                  instructions="The name that will identify you in your courses. It cannot be "
                               "changed later.",
                  restrictions={"min_length": 2, "max_length": 30}),
        described("email", "Email", "email", instructions="This is what you will use to login.",
                  restrictions={"min_length": 3, "max_length": 254}),
        described("password", "Password", "password",
                  instructions="Your password must contain at least 2 characters.",
                  restrictions={"min_length": 2, "max_length": 75}),
        described("gender", "Gender", "select", **optional, options=select_options(
            [("m", "Male"), ("f", "Female"), ("o", "Other/Prefer Not to Say")])),
        described("year_of_birth", "Year of birth", "select", **optional,
                  options=select_options(years)),
        described("level_of_education", "Highest level of education completed", "select",
                  **optional, errorMessages={
                      "required": "Select the highest level of education you have completed"},
                  options=select_options([
                      ("p", "Doctorate"), ("m", "Master's or professional degree"),
                      ("b", "Bachelor's degree"), ("a", "Associate degree"),
                      ("hs", "Secondary/high school"),
                      ("jhs", "Junior secondary/junior high/middle school"),
                      ("el", "Elementary/primary school"), ("none", "No formal education"),
                      ("other", "Other education")])),
        described("mailing_address", "Mailing address", "textarea", **optional,
                  errorMessages={"required": "Enter your educational institution"}),
        described("goals", "Tell us why you're interested in openlms", "textarea", **optional,
                  errorMessages={"required": "Tell us your goals"}),
        described("honor_code", HONOR_LABEL, "plaintext", defaultValue=False, errorMessages={
            "required": "You must agree to the openlms Terms of Service and Honor Code"}),
    ]


def valid_form(**overrides):
    form = {"username": "alice", "email": "alice@example.com", "password": "s3cret-pass",
            "name": "Alice Liddell", "honor_code": "true"}
    form.update(overrides)
    return {name: value for name, value in form.items() if value is not None}


def register(app, status=200, url=V1, **fields):
    return app.post(url, valid_form(**fields), status=status)


def outbox(app):
    return app.registry["lms.mail_outbox"]


def text_of(message):
    return message.get_body(("plain",)).get_content()


def set_cookies(response):
    found = {}
    for header in response.headers.getall("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(header)
        found.update(jar)
    return found


def users(db):
    db.expire_all()
    return db.scalars(select(User).order_by(User.id)).all()


def csrf_token(app):
    return app.get("/csrf/api/v1/token").json["csrfToken"]


def validation_error(**fields):
    body = {name: [{"user_message": message} for message in messages]
            for name, messages in fields.items()}
    body["error_code"] = "validation-error"
    return body


# -- form description ---------------------------------------------------------------------

def test_v1_form_description_is_upstreams_default_form(app):
    response = app.get(V1)
    assert response.content_type == "application/json"
    assert response.json == {"method": "post", "submit_url": V1, "fields": default_fields()}
    assert "csrftoken" in set_cookies(response)


def test_v2_form_description_only_differs_by_submit_url(app):
    assert app.get(V2).json == {"method": "post", "submit_url": V2, "fields": default_fields()}


def test_confirm_email_is_described_on_v2_only(app_factory):
    app = app_factory(**{"accounts.registration_extra_fields":
                         "confirm_email=required honor_code=required"})
    v2_names = [field["name"] for field in app.get(V2).json["fields"]]
    assert v2_names == ["name", "username", "email", "confirm_email", "password", "honor_code"]
    assert app.get(V2).json["fields"][3] == described(
        "confirm_email", "Confirm Email", "email",
        errorMessages={"required": "The email addresses do not match"})
    assert "confirm_email" not in [field["name"] for field in app.get(V1).json["fields"]]


def test_configured_extra_fields_and_separate_terms_of_service(app_factory):
    app = app_factory(**{
        "accounts.registration_extra_fields":
            "country=required city=optional honor_code=required terms_of_service=required "
            "first_name=optional",
        "accounts.marketing_emails_opt_in": "true",
    })
    fields = {field["name"]: field for field in app.get(V1).json["fields"]}
    assert list(fields) == ["name", "first_name", "username", "email", "password", "city",
                            "country", "honor_code", "terms_of_service",
                            "marketing_emails_opt_in"]
    country = fields["country"]
    assert (country["type"], country["required"], country["label"]) == (
        "select", True, "Country or Region of Residence")
    assert country["errorMessages"] == {"required": "Select your country or region of residence"}
    assert country["options"][0] == {"value": "", "name": "--", "default": True}
    assert {"value": "US", "name": "United States", "default": False} in country["options"]
    assert len(country["options"]) == 250
    assert fields["city"] == described("city", "City", exposed=False, required=False,
                                       errorMessages={"required": "Enter your city"})
    assert fields["honor_code"] == described(
        "honor_code", "I agree to the openlms <a href='/honor' rel='noopener' "
        "target='_blank'>Honor Code</a>", "checkbox", defaultValue=False,
        errorMessages={"required": "You must agree to the openlms Honor Code"})
    assert fields["terms_of_service"] == described(
        "terms_of_service", "I agree to the openlms <a href='/tos' rel='noopener' "
        "target='_blank'>Terms of Service</a>", "checkbox", defaultValue=False,
        errorMessages={"required": "You must agree to the openlms Terms of Service"})
    assert fields["marketing_emails_opt_in"] == described(
        "marketing_emails_opt_in", "I agree that openlms may send me marketing messages.",
        "checkbox", defaultValue=True, required=False)


def test_password_policy_setting_drives_restrictions_and_instructions(app_factory):
    app = app_factory(**{"accounts.password_validators":
                         "minimum_length:min_length=8 uppercase:min_upper=1 "
                         "numeric:min_numeric=2 maximum_length:max_length=40"})
    password = app.get(V1).json["fields"][3]
    assert password["instructions"] == ("Your password must contain at least 8 characters, "
                                        "including 1 uppercase letter & 2 numbers.")
    assert password["restrictions"] == {"min_length": 8, "min_upper": 1, "min_numeric": 2,
                                        "max_length": 40}
    response = register(app, status=400, password="short1")
    assert response.json == validation_error(password=[
        "This password is too short. It must contain at least 8 characters.",
        "This password must contain at least 1 uppercase letter.",
        "This password must contain at least 2 numbers."])
    register(app, password="Longer-pass-12")


@pytest.mark.parametrize("setting", [
    {"accounts.password_validators": "minimum_length nosuch"},
    {"accounts.password_validators": "minimum_length:min_length=x"},
    {"accounts.password_validators": "minimum_length:bogus=1"},
    {"accounts.password_validators": "user_attribute_similarity:max_similarity=0.01"},
    {"accounts.registration_extra_fields": "gender=sometimes"},
    {"accounts.registration_extra_fields": "favourite_colour=optional"},
    {"accounts.registration_rate": "lots"},
])
def test_bad_settings_stop_the_start_up(app_factory, setting):
    with pytest.raises(ConfigurationError):
        app_factory(**setting)


# -- account creation ---------------------------------------------------------------------

def test_registration_creates_an_inactive_account_and_logs_in(app, db):
    response = register(app, gender="f", year_of_birth="1990", level_of_education="b",
                        goals="Learn", mailing_address="1 Main St")
    user = users(db)[0]
    assert response.json == {
        "authenticated_user": {"username": "alice", "full_name": "Alice Liddell",
                               "user_id": user.id},
        "success": True,
        "redirect_url": "http://localhost/dashboard",
    }
    assert (user.username, user.email, user.name, user.is_active) == (
        "alice", "alice@example.com", "Alice Liddell", False)
    assert verify_password("s3cret-pass", user.password)[0]
    profile = db.scalar(select(UserProfile).where(UserProfile.user_id == user.id))
    assert (profile.gender, profile.year_of_birth, profile.level_of_education, profile.goals,
            profile.mailing_address, profile.city, profile.country) == (
        "f", 1990, "b", "Learn", "1 Main St", None, None)
    registration = db.scalar(select(Registration).where(Registration.user_id == user.id))
    assert re.fullmatch(r"[0-9a-f]{32}", registration.activation_key)
    assert registration.activation_timestamp is None
    assert api.get_preferences(db, user.id) == {"pref-lang": "en"}
    tour = db.scalar(select(UserTour).where(UserTour.user_id == user.id))
    assert (tour.course_home_tour_status, tour.show_courseware_tour) == (
        "show-new-user-tour", True)
    cookies = set_cookies(response)
    for name in ("sessionid", "edxloggedin", "edx-user-info", "edx-jwt-cookie-header-payload",
                 "edx-jwt-cookie-signature", "csrftoken"):
        assert name in cookies
    assert len(db.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()) == 1
    assert user.last_login is not None


def test_activation_email_content(app, db):
    register(app)
    [message] = outbox(app)
    key = db.scalar(select(Registration.activation_key))
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Action Required: Activate your openlms account"
    link = f"http://localhost/activate/{key}?next=http%3A%2F%2Flocalhost%2Fdashboard"
    assert link in text_of(message)
    assert "openlms" in text_of(message)
    assert link.replace("&", "&amp;") in message.get_body(("html",)).get_content()


def test_v2_registration(app, db):
    response = register(app, url=V2)
    assert response.json["success"] is True
    assert users(db)[0].username == "alice"


def test_skip_activation_email_setting(app_factory, db):
    app = app_factory(**{"accounts.skip_activation_email": "true"})
    register(app)
    user = users(db)[0]
    assert user.is_active is True
    registration = db.scalar(select(Registration).where(Registration.user_id == user.id))
    assert registration.activation_timestamp is not None
    assert outbox(app) == []


def test_registration_is_csrf_exempt_and_ignores_unknown_fields(app, db):
    app.get(V1)  # a csrftoken cookie, but no token sent back
    register(app, is_staff="true", is_superuser="true", course_id="", foo="bar")
    user = users(db)[0]
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_json_body_reads_as_an_empty_form(app, db):
    response = app.post_json(V1, valid_form(), status=400)
    assert response.json == validation_error(
        username=[USERNAME_LENGTH], email=[EMAIL_INVALID], password=["This field is required."],
        name=["Your legal name must be a minimum of one character long"],
        terms_of_service=["You must accept the terms of service."],
        honor_code=["To enroll, you must follow the honor code."])
    assert users(db) == []
    assert outbox(app) == []


@pytest.mark.parametrize("fields, errors", [
    ({"username": "a"}, {"username": [USERNAME_LENGTH]}),
    ({"username": "x" * 31}, {"username": [USERNAME_LENGTH]}),
    ({"username": "bad name!"}, {"username": [USERNAME_CHARS]}),
    ({"username": "!"}, {"username": [USERNAME_CHARS, USERNAME_LENGTH]}),
    ({"username": "ab\x00c"}, {"username": [USERNAME_CHARS, "Null characters are not allowed."]}),
    ({"username": "  "}, {"username": [USERNAME_LENGTH]}),
    ({"email": "not-an-email"}, {"email": [EMAIL_INVALID]}),
    ({"email": "a@"}, {"email": [EMAIL_INVALID,
                                 "Ensure this value has at least 3 characters (it has 2)."]}),
    ({"email": "x" * 243 + "@example.com"},
     {"email": ["Email cannot be more than 254 characters long"]}),
    ({"name": "<b>Alice</b>"}, {"name": ["Full Name cannot contain the following characters: < >"]}),
    ({"name": "see http://spam.example"}, {"name": ["Enter a valid name"]}),
    ({"name": "A" * 256},
     {"name": ["Your legal name is too long. It must not exceed 255 characters"]}),
    ({"password": "p"},
     {"password": ["This password is too short. It must contain at least 2 characters."]}),
    ({"password": "x" * 76},
     {"password": ["This password is too long. It must contain no more than 75 characters."]}),
    ({"password": "alice"}, {"password": ["The password is too similar to the username."]}),
    ({"password": "alice@example"},
     {"password": ["The password is too similar to the email address."]}),
    ({"honor_code": "1"}, {"terms_of_service": ["You must accept the terms of service."],
                           "honor_code": ["To enroll, you must follow the honor code."]}),
    ({"honor_code": "on"}, {"terms_of_service": ["You must accept the terms of service."],
                            "honor_code": ["To enroll, you must follow the honor code."]}),
    ({"gender": "females"}, {"gender": ["Ensure this value has at most 6 characters (it has 7)."]}),
])
def test_invalid_fields_are_refused_with_upstream_messages(app, db, fields, errors):
    response = register(app, status=400, **fields)
    assert response.json == validation_error(**errors)
    assert users(db) == []
    assert outbox(app) == []


def test_password_is_checked_against_a_valid_username_only(app):
    # An invalid username is not compared with the password.
    response = register(app, status=400, username="al!ce", password="al!ce")
    assert response.json == validation_error(username=[USERNAME_CHARS])


def test_required_extra_fields_have_their_own_messages(app_factory, db):
    app = app_factory(**{"accounts.registration_extra_fields":
                         "level_of_education=required gender=required year_of_birth=required "
                         "mailing_address=required goals=required city=required "
                         "state=required honor_code=required"})
    response = register(app, status=400, gender="  ")
    assert response.json == validation_error(
        level_of_education=["A level of education is required"],
        gender=["Your gender is required"],
        year_of_birth=["Your year of birth is required"],
        mailing_address=["Your mailing address is required"],
        goals=["A description of your goals is required"],
        city=["A city is required"],
        state=["You are missing one or more required fields"])
    assert users(db) == []


def test_optional_honor_code_and_hidden_terms(app_factory, db):
    app = app_factory(**{"accounts.registration_extra_fields":
                         "honor_code=hidden terms_of_service=hidden"})
    register(app, honor_code=None)
    assert len(users(db)) == 1


@pytest.mark.parametrize("value, stored", [("1990", 1990), ("abc", None), ("", None),
                                           ("99999999999999999999", None)])
def test_unparsable_year_of_birth_is_dropped(app, db, value, stored):
    register(app, year_of_birth=value)
    assert db.scalar(select(UserProfile.year_of_birth)) == stored


def test_country_must_be_an_iso_code(app_factory, db):
    app = app_factory(**{"accounts.registration_extra_fields": "country=required"})
    invalid = {"country": [{"user_message": "Select your country or region of residence"}],
               "error_code": "invalid-country"}
    assert register(app, status=400).json == invalid
    assert register(app, status=400, country="XX").json == invalid
    assert register(app, status=400, country="us").json == invalid
    assert users(db) == []
    register(app, country="US")
    assert db.scalar(select(UserProfile.country)) == "US"


def test_hidden_country_is_still_checked_when_given(app, db):
    assert register(app, status=400, country="ZZ").json["error_code"] == "invalid-country"
    register(app, country="")
    assert db.scalar(select(UserProfile.country)) is None


def test_marketing_opt_in_is_recorded_when_enabled(app_factory, db):
    app = app_factory(**{"accounts.marketing_emails_opt_in": "true"})
    register(app, marketing_emails_opt_in="true")
    register(app, username="bob", email="bob@example.com", marketing_emails_opt_in="false")
    db.expire_all()
    metas = db.scalars(select(UserProfile.meta).order_by(UserProfile.id)).all()
    assert metas == [{"is_marketable": "true"}, {"is_marketable": "false"}]


def test_email_patterns_allowed(app_factory, db):
    app = app_factory(**{"accounts.registration_email_patterns_allowed": r".*@example\.org"})
    assert register(app, status=400).json == validation_error(
        email=["Unauthorized email address."])
    register(app, email="alice@example.org")


# -- duplicates -------------------------------------------------------------------------------

@pytest.fixture
def existing(db):
    return create_user(db, "alice", email="alice@example.com")


def test_duplicate_username_is_409_with_suggestions(app, db, existing):
    response = register(app, status=409, email="new@example.com")
    body = response.json
    suggestions = body.pop("username_suggestions")
    assert body == {"username": [{"user_message": "It looks like this username is already "
                                                  "taken"}],
                    "error_code": "duplicate-username"}
    assert len(suggestions) == 3
    assert all(re.fullmatch(r"alice_\d+", name) for name in suggestions)
    assert [user.username for user in users(db)] == ["alice"]
    assert outbox(app) == []


def test_duplicate_email_is_409(app, db, existing):
    response = register(app, status=409, username="alice2")
    assert response.json == {
        "email": [{"user_message": "This email is already associated with an existing "
                                   "account"}],
        "error_code": "duplicate-email",
    }


def test_duplicate_email_and_username(app, existing):
    body = register(app, status=409).json
    assert body["error_code"] == "duplicate-email-username"
    assert list(body) == ["email", "username", "username_suggestions", "error_code"]


def test_duplicates_ignore_case(app, existing):
    assert register(app, status=409, username="ALICE",
                    email="other@example.com").json["error_code"] == "duplicate-username"
    assert register(app, status=409, username="other",
                    email="Alice@Example.com").json["error_code"] == "duplicate-email"


def test_retired_username_and_email_count_as_taken(app, db):
    settings = app.registry.settings
    create_user(db, api.retired_username(settings, "alice"),
                email=api.retired_email(settings, "alice@example.com"))
    assert register(app, status=409).json["error_code"] == "duplicate-email-username"
    assert len(users(db)) == 1


# -- throttling ---------------------------------------------------------------------------------

def test_registrations_per_ip_are_limited(app_factory, db):
    app = app_factory(**{"throttle.enabled": "true", "accounts.registration_rate": "2/7d"})
    register(app)
    register(app, status=400, username="x", email="x@example.com")
    response = register(app, status=403, username="carol", email="carol@example.com")
    assert response.json == {"error_code": "forbidden-request"}
    assert [user.username for user in users(db)] == ["alice"]


# -- mail and transactions ----------------------------------------------------------------------

def test_no_mail_and_no_account_when_the_request_fails(app, db, monkeypatch):
    from plugins.accounts.views import registration as views

    original = views.send_activation_email

    def send_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("boom after the mail was queued")

    monkeypatch.setattr(views, "send_activation_email", send_then_fail)
    response = register(app, status=500)
    assert response.json == {"detail": "A server error occurred."}
    assert users(db) == []
    assert outbox(app) == []


# -- redirect_url -----------------------------------------------------------------------------

@pytest.mark.parametrize("fields, accept, expected", [
    ({"next": "/courses/course-v1:a+b+c/about"}, "text/html",
     "http://localhost/courses/course-v1:a+b+c/about"),
    ({"next": "/courses/x"}, None, "http://localhost/dashboard"),
    ({"next": "https://evil.example/"}, "*/*", "http://localhost/dashboard"),
    ({"next": "/static/logo.png"}, "*/*", "http://localhost/dashboard"),
    ({"course_id": "course-v1:a+b+c"}, "*/*",
     "http://localhost/account/finish_auth?course_id=course-v1%3Aa%2Bb%2Bc&next=%2Fdashboard"),
])
def test_redirect_url(app, fields, accept, expected):
    headers = {"Accept": accept} if accept else {}
    response = app.post(V1, valid_form(**fields), headers=headers)
    assert response.json["redirect_url"] == expected


# -- activation ---------------------------------------------------------------------------------

def activation_key(db):
    db.expire_all()
    return db.scalar(select(Registration.activation_key))


def test_activation_link_activates_the_account(app, db):
    register(app)
    key = activation_key(db)
    app.reset()  # the browser that follows the link is not logged in
    response = app.get(f"/activate/{key}")
    assert response.content_type == "text/html"
    assert "Success! You have activated your account." in response.text
    db.expire_all()
    user = users(db)[0]
    assert user.is_active is True
    assert db.scalar(select(Registration.activation_timestamp)) is not None
    again = app.get(f"/activate/{key}")
    assert "This account has already been activated." in again.text


def test_logged_in_owner_activates(app, db):
    register(app)  # keeps the session cookie
    response = app.get(f"/activate/{activation_key(db)}")
    assert "<p class=\"message-title\">Success</p>" in response.text
    assert users(db)[0].is_active is True


def test_unknown_key_and_someone_elses_key_are_errors(app, db):
    register(app)
    key = activation_key(db)
    assert "could not be activated" in app.get("/activate/nosuchkey").text
    app.reset()
    register(app, username="bob", email="bob@example.com")  # logged in as bob
    assert "could not be activated" in app.get(f"/activate/{key}").text
    assert users(db)[0].is_active is False


def test_activation_with_the_authn_mfe_redirects_to_its_login(app_factory, db):
    app = app_factory(**{"accounts.authn_mfe_url": "https://apps.example.com/authn/"})
    register(app)
    key = activation_key(db)
    app.reset()
    response = app.get(f"/activate/{key}", {"next": "/courses/x"},
                       headers={"Accept": "text/html"}, status=302)
    location = urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == "https://apps.example.com/authn/login"
    assert parse_qs(location.query) == {"account_activation_status": ["success"],
                                        "next": ["http://localhost/courses/x"]}
    response = app.get("/activate/wrong", status=302)
    assert "account_activation_status=error" in response.headers["Location"]


def test_register_activate_then_log_in(app, db):
    register(app)
    [message] = outbox(app)
    link = re.search(r"http://localhost(/activate/\S+)", text_of(message)).group(1)
    app.reset()
    token = csrf_token(app)
    refused = app.post(LOGIN, {"email": "alice@example.com", "password": "s3cret-pass"},
                       headers={"X-CSRFToken": token}, status=400)
    assert refused.json["error_code"] == "inactive-user"
    app.get(link)
    token = csrf_token(app)
    logged_in = app.post(LOGIN, {"email": "alice@example.com", "password": "s3cret-pass"},
                         headers={"X-CSRFToken": token})
    assert logged_in.json["success"] is True


# -- re-sending the activation mail -------------------------------------------------------------

def test_send_activation_email_needs_a_session(app, db):
    response = app.post(SEND_ACTIVATION, status=403)
    assert response.json == {"detail": NOT_AUTHENTICATED}
    assert "WWW-Authenticate" not in response.headers
    user = create_user(db, "bob", is_active=False)
    # JWTs are not accepted here: without a session the caller is anonymous.
    app.post(SEND_ACTIVATION, headers=jwt_headers(app, user), status=403)
    assert outbox(app) == []


def test_send_activation_email_resends_the_same_key(app, db):
    register(app)
    response = app.post(SEND_ACTIVATION, headers={"X-CSRFToken": csrf_token(app)})
    assert response.status_code == 200
    assert response.body == b""
    assert response.content_type is None
    _, second = outbox(app)
    key = activation_key(db)
    assert f"/activate/{key}" in text_of(second)
    assert "?next=" not in text_of(second)


def test_send_activation_email_requires_csrf(app, db):
    register(app)
    response = app.post(SEND_ACTIVATION, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    assert len(outbox(app)) == 1


def test_send_activation_email_for_an_active_user_sends_nothing(app, db):
    create_user(db, "carol", password="pw-carol-1")
    token = csrf_token(app)
    app.post(LOGIN, {"email": "carol@example.com", "password": "pw-carol-1"},
             headers={"X-CSRFToken": token})
    app.post(SEND_ACTIVATION, headers={"X-CSRFToken": csrf_token(app)})
    assert outbox(app) == []


def test_send_activation_email_creates_a_missing_key(app, db):
    user = create_user(db, "dave", password="pw-dave-1", is_active=False)
    # An inactive account created elsewhere (no activation key yet) with a session.
    from lms import auth as core_auth

    key = "dave-session-key"
    db.add(LoginSession(key_hash=core_auth.token_digest(key), user_id=user.id,
                        expires=utcnow().replace(year=utcnow().year + 1)))
    db.commit()
    secret = app.registry["lms.auth_config"].secret_key
    app.set_cookie("sessionid", core_auth.sign(secret, key))
    app.post(SEND_ACTIVATION, headers={"X-CSRFToken": csrf_token(app)})
    registration = db.scalar(select(Registration).where(Registration.user_id == user.id))
    assert f"/activate/{registration.activation_key}" in text_of(outbox(app)[0])


def test_preference_is_not_overwritten(app, db):
    register(app)
    assert db.scalars(select(UserPreference.value)).all() == ["en"]
