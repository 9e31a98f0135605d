"""Dynamic registration fields: /api/mfe_context, the form description and registration agree.

``accounts.enable_dynamic_registration_fields`` (upstream ENABLE_DYNAMIC_REGISTRATION_FIELDS)
lists the extra fields of ``accounts.registration_extra_fields`` in the authn MFE's
context, with upstream's field shapes (``user_authn.api.form_fields``).
"""
from pathlib import Path
from urllib.parse import urlencode

import plaster
import pytest
from sqlalchemy import select

from lms.models import User
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.accounts.models import UserProfile

CONTEXT = "/api/mfe_context"
V2 = "/api/user/v2/account/registration/"
VALIDATION = "/api/user/v1/validation/registration"
HTML = {"Accept": "text/html"}
DYNAMIC = {"accounts.enable_dynamic_registration_fields": "true"}
DEVELOPMENT_INI = Path(__file__).resolve().parents[3] / "development.ini"

# Upstream's descriptions, as the MFE receives them.
TOS_AND_HONOR_CODE = {"name": "honor_code", "type": "tos_and_honor_code", "error_message": ""}
GENDER = {"name": "gender", "type": "select", "label": "Gender", "error_message": "",
          "options": [["m", "Male"], ["f", "Female"], ["o", "Other/Prefer Not to Say"]]}
LEVEL_OF_EDUCATION = {
    "name": "level_of_education", "type": "select",
    "label": "Highest level of education completed", "error_message": "",
    "options": [["p", "Doctorate"], ["m", "Master's or professional degree"],
                ["b", "Bachelor's degree"], ["a", "Associate degree"],
                ["hs", "Secondary/high school"],
                ["jhs", "Junior secondary/junior high/middle school"],
                ["el", "Elementary/primary school"], ["none", "No formal education"],
                ["other", "Other education"]],
}
MAILING_ADDRESS = {"name": "mailing_address", "type": "textarea",
                   "label": "Educational institution", "error_message": ""}
GOALS = {"name": "goals", "type": "textarea",
         "label": "Tell us why you're interested in openlms", "error_message": ""}
EMPTY_OPTIONAL = {"fields": {}, "extended_profile": []}


def context(app, **query):
    return app.get(CONTEXT, query, headers=HTML).json


def register_page(app, **query):
    return context(app, is_register_page="true", **query)


def described_required(app):
    """Extra fields the v2 form description marks required/optional (name -> required)."""
    defaults = {"name", "username", "email", "password"}
    return {field["name"]: field["required"] for field in app.get(V2).json["fields"]
            if field["name"] not in defaults}


def mfe_form(**fields):
    form = {"name": "Alice Liddell", "email": "alice@example.com", "username": "alice",
            "password": "Secret-pass-123"}
    form.update(fields)
    return {name: value for name, value in form.items() if value is not None}


def users(db):
    db.expire_all()
    return db.scalars(select(User).order_by(User.id)).all()


def profile(db):
    db.expire_all()
    return db.scalar(select(UserProfile))


# -- the MFE context ---------------------------------------------------------------------------

def test_off_by_default_even_on_the_register_page(app):
    body = register_page(app)
    assert body["registrationFields"] == {"fields": {}}
    assert body["optionalFields"] == EMPTY_OPTIONAL


def test_register_page_with_the_default_extra_fields(app_factory):
    body = register_page(app_factory(**DYNAMIC))
    assert body["registrationFields"] == {"fields": {"honor_code": TOS_AND_HONOR_CODE}}
    optional = body["optionalFields"]
    assert optional["extended_profile"] == []
    assert list(optional["fields"]) == ["gender", "year_of_birth", "level_of_education",
                                        "mailing_address", "goals"]
    assert optional["fields"]["gender"] == GENDER
    assert optional["fields"]["level_of_education"] == LEVEL_OF_EDUCATION
    assert optional["fields"]["mailing_address"] == MAILING_ADDRESS
    assert optional["fields"]["goals"] == GOALS
    year = utcnow().year
    year_of_birth = optional["fields"]["year_of_birth"]
    assert {key: value for key, value in year_of_birth.items() if key != "options"} == {
        "name": "year_of_birth", "type": "select", "label": "Year of birth",
        "error_message": ""}
    assert len(year_of_birth["options"]) == 120
    assert year_of_birth["options"][0] == [str(year), str(year)]
    assert year_of_birth["options"][-1] == [str(year - 119), str(year - 119)]


def test_the_context_data_is_unchanged(app_factory):
    plain = context(app_factory())
    dynamic = register_page(app_factory(**DYNAMIC))
    assert dynamic["contextData"] == plain["contextData"]


def test_required_agreements_country_and_select_fields(app_factory):
    app = app_factory(**DYNAMIC, **{"accounts.registration_extra_fields":
                                    "honor_code=required terms_of_service=required "
                                    "country=required gender=required"})
    assert register_page(app) == {
        "contextData": context(app)["contextData"],
        "registrationFields": {"fields": {
            "country": {"name": "country",
                        "error_message": "Select your country or region of residence"},
            "gender": dict(GENDER, error_message="Select your gender"),
            "honor_code": {"name": "honor_code", "type": "honor_code",
                           "error_message": "You must agree to the openlms Honor Code"},
            "terms_of_service": {"name": "terms_of_service",
                                 "error_message": "You must agree to the openlms Terms of "
                                                  "Service"},
        }},
        "optionalFields": EMPTY_OPTIONAL,
    }


def test_only_fields_a_profile_can_store_are_listed(app_factory):
    app = app_factory(**DYNAMIC, **{
        "accounts.registration_extra_fields":
            "first_name=required profession=required state=required confirm_email=required "
            "company=optional job_title=optional city=optional",
        "accounts.extended_profile_fields": "company profession",
    })
    body = register_page(app)
    # honor_code left out is required, as in the form description.
    assert body["registrationFields"]["fields"] == {
        "state": {"name": "state", "type": "text", "label": "State/Province/Region",
                  "error_message": "Enter your state"},
        "honor_code": TOS_AND_HONOR_CODE,
        "profession": {"name": "profession", "label": "Profession",
                       "error_message": "Enter your profession", "type": "text"},
    }
    assert body["optionalFields"] == {
        "fields": {
            "city": {"name": "city", "type": "text", "label": "City", "error_message": ""},
            "company": {"name": "company", "label": "Company", "error_message": "",
                        "type": "text"},
        },
        "extended_profile": ["company", "profession"],
    }


def test_confirm_email_is_listed_only_when_required_and_storable(app_factory):
    app = app_factory(**DYNAMIC, **{
        "accounts.registration_extra_fields": "confirm_email=required honor_code=hidden",
        "accounts.extended_profile_fields": "confirm_email",
    })
    assert register_page(app)["registrationFields"]["fields"] == {"confirm_email": {
        "name": "confirm_email", "type": "text", "label": "Confirm Email",
        "error_message": "Enter your confirm email"}}
    app = app_factory(**DYNAMIC, **{
        "accounts.registration_extra_fields": "confirm_email=optional honor_code=hidden",
        "accounts.extended_profile_fields": "confirm_email",
    })
    assert register_page(app)["optionalFields"] == EMPTY_OPTIONAL


@pytest.mark.parametrize("order, expected", [
    ("goals city", ["goals", "city"]),
    ("city goals", ["city", "goals"]),
    ("", ["city", "goals"]),  # not in the order: sorted by name
])
def test_field_order_is_the_form_descriptions(app_factory, order, expected):
    app = app_factory(**DYNAMIC, **{
        "accounts.registration_extra_fields": "goals=optional city=optional honor_code=hidden",
        "accounts.registration_field_order": order,
    })
    assert list(register_page(app)["optionalFields"]["fields"]) == expected
    assert list(described_required(app)) == expected


def test_welcome_page_gets_only_the_optional_fields(app_factory):
    app = app_factory(**DYNAMIC)
    body = context(app, is_welcome_page="true", next="/courses/x/about")
    assert body["registrationFields"] == {"fields": {}}
    assert list(body["optionalFields"]["fields"]) == [
        "gender", "year_of_birth", "level_of_education", "mailing_address", "goals"]
    assert body["contextData"]["welcomePageRedirectUrl"] == "/courses/x/about"
    # The redirect is kept only when it is the (safe) next that was asked for.
    for query in ({}, {"next": "https://evil.example/"}):
        body = context(app, is_welcome_page="true", **query)
        assert body["contextData"]["welcomePageRedirectUrl"] is None
    # Off, the welcome page is like any other.
    body = context(app_factory(), is_welcome_page="true", next="/courses/x/about")
    assert body["contextData"]["welcomePageRedirectUrl"] is None
    assert body["optionalFields"] == EMPTY_OPTIONAL


@pytest.mark.parametrize("query", [{}, {"is_register_page": ""}])
def test_other_pages_get_no_fields(app_factory, query):
    body = context(app_factory(**DYNAMIC), **query)
    assert body["registrationFields"] == {"fields": {}}
    assert body["optionalFields"] == EMPTY_OPTIONAL


def test_authenticated_callers_get_the_same_fields(app_factory, db):
    app = app_factory(**DYNAMIC)
    alice = create_user(db, "alice")
    response = app.get(CONTEXT, {"is_register_page": "true"}, headers=jwt_headers(app, alice))
    assert response.json["registrationFields"] == {"fields": {"honor_code": TOS_AND_HONOR_CODE}}


# -- one policy for the context, the form description and registration ---------------------

# Settings without fields a profile cannot store, so the context lists them all.
POLICIES = [
    "honor_code=required terms_of_service=hidden",
    "honor_code=required terms_of_service=required",
    "honor_code=hidden terms_of_service=required country=required",
    "honor_code=required country=required gender=required level_of_education=required "
    "year_of_birth=required city=optional goals=optional",
    "honor_code=hidden terms_of_service=hidden mailing_address=required state=optional",
]
# What the MFE sends for each required field.
ANSWERS = {"honor_code": "true", "terms_of_service": "true", "country": "FR",
           "gender": "f", "level_of_education": "b", "year_of_birth": "1990",
           "mailing_address": "Oxford", "city": "Paris", "state": "IDF", "goals": "Learn"}
# Registration's message when one is missing (country is checked before the form).
MISSING = {"honor_code": "To enroll, you must follow the honor code.",
           "terms_of_service": "You must accept the terms of service.",
           "gender": "Your gender is required",
           "level_of_education": "A level of education is required",
           "year_of_birth": "Your year of birth is required",
           "mailing_address": "Your mailing address is required"}


@pytest.mark.parametrize("policies", POLICIES)
def test_context_and_form_description_agree(app_factory, policies):
    app = app_factory(**DYNAMIC, **{"accounts.registration_extra_fields": policies})
    body = register_page(app)
    described = described_required(app)
    assert set(body["registrationFields"]["fields"]) == {
        name for name, required in described.items() if required}
    assert set(body["optionalFields"]["fields"]) == {
        name for name, required in described.items() if not required}


@pytest.mark.parametrize("policies", POLICIES)
def test_registration_asks_for_exactly_the_required_fields(app_factory, db, policies):
    app = app_factory(**DYNAMIC, **{"accounts.registration_extra_fields": policies})
    required = list(register_page(app)["registrationFields"]["fields"])
    answers = {name: ANSWERS[name] for name in required}
    for name in required:
        # honor_code=true also answers the terms of service (upstream's copy).
        if name == "terms_of_service" and "honor_code" in required:
            continue
        response = app.post(V2, mfe_form(**dict(answers, **{name: None})), status=400)
        if name == "country":
            assert response.json == {"country": [{"user_message": "Select your country or "
                                                                  "region of residence"}],
                                     "error_code": "invalid-country"}
            continue
        expected = {name: [{"user_message": MISSING[name]}]}
        if name == "honor_code" and "terms_of_service" not in answers:
            # Nothing left to copy: the terms of service are unanswered too.
            expected["terms_of_service"] = [{"user_message": MISSING["terms_of_service"]}]
        assert response.json == dict(expected, error_code="validation-error")
        assert users(db) == []
    app.post(V2, mfe_form(**answers))
    assert [user.username for user in users(db)] == ["alice"]


def test_missing_agreements_are_refused_with_upstreams_messages(app_factory, db):
    app = app_factory(**DYNAMIC, **{"accounts.registration_extra_fields":
                                    "honor_code=required terms_of_service=required"})
    assert app.post(V2, mfe_form(), status=400).json == {
        "terms_of_service": [{"user_message": "You must accept the terms of service."}],
        "honor_code": [{"user_message": "To enroll, you must follow the honor code."}],
        "error_code": "validation-error"}
    assert app.post(V2, mfe_form(terms_of_service="true"), status=400).json == {
        "honor_code": [{"user_message": "To enroll, you must follow the honor code."}],
        "error_code": "validation-error"}
    assert users(db) == []


def test_optional_fields_are_stored_and_hidden_ones_ignored(app_factory, db):
    app = app_factory(**DYNAMIC, **{"accounts.registration_extra_fields":
                                    "honor_code=required gender=optional goals=optional "
                                    "city=hidden"})
    app.post(V2, mfe_form(honor_code="true", gender="f", goals="", city="Paris",
                          level_of_education="b", state="XY"))
    stored = profile(db)
    # A hidden field that is configured is still accepted (upstream's form has it);
    # fields the setting does not name are ignored.
    assert (stored.gender, stored.goals, stored.city, stored.level_of_education,
            stored.state) == ("f", None, "Paris", None, None)
    assert stored.meta == {}


def test_extended_profile_fields_are_stored_in_the_profile_meta(app_factory, db):
    app = app_factory(**DYNAMIC, **{
        "accounts.registration_extra_fields": "honor_code=required company=optional "
                                              "profession=required",
        "accounts.extended_profile_fields": "company profession specialty",
    })
    optional = register_page(app)["optionalFields"]
    assert optional["extended_profile"] == ["company", "profession", "specialty"]
    response = app.post(V2, mfe_form(honor_code="true", company="  "), status=400)
    assert response.json == {"profession": [{"user_message": "You are missing one or more "
                                                             "required fields"}],
                             "error_code": "validation-error"}
    app.post(V2, mfe_form(honor_code="true", profession=" Teacher ", company="ACME"))
    # cleaned_extended_profile upstream: every extended field, "" when not sent.
    assert profile(db).meta == {"company": "ACME", "profession": "Teacher", "specialty": ""}
    alice = db.scalar(select(User).where(User.username == "alice"))
    account = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, alice)).json
    assert account["extended_profile"] == [
        {"field_name": "company", "field_value": "ACME"},
        {"field_name": "profession", "field_value": "Teacher"},
        {"field_name": "specialty", "field_value": ""}]


def test_extended_profile_and_marketing_opt_in_share_the_meta(app_factory, db):
    app = app_factory(**{"accounts.extended_profile_fields": "company",
                         "accounts.marketing_emails_opt_in": "true"})
    app.post(V2, mfe_form(honor_code="true", company="ACME", marketing_emails_opt_in="true"))
    assert profile(db).meta == {"company": "ACME", "is_marketable": "true"}


def test_null_characters_in_an_extended_field_are_refused(app_factory, db):
    app = app_factory(**{"accounts.extended_profile_fields": "company"})
    response = app.post(V2, mfe_form(honor_code="true", company="A\x00B"), status=400)
    assert response.json == {"company": [{"user_message": "Null characters are not allowed."}],
                             "error_code": "validation-error"}
    assert users(db) == []


# -- end to end: the authn MFE's default form with the documented settings --------------------

def documented_settings():
    """The accounts settings development.ini (``make run``) sets."""
    settings = plaster.get_settings(str(DEVELOPMENT_INI), "app:main")
    return {key: value for key, value in settings.items() if key.startswith("accounts.")}


def mfe_payload(fields, next_url=None):
    """What frontend-app-authn's RegistrationPage posts (prepareRegistrationPayload).

    The form's own fields, then the configurable ones: the combined terms notice
    sets honor_code to true by itself; the marketing opt-in is dropped while the
    MFE's MARKETING_EMAILS_OPT_IN is off; the elapsed time; the page's query.
    """
    payload = {"name": "Alice Liddell", "email": "alice@example.com", "username": "alice",
               "password": "Secret-pass-123"}
    if fields.get("honor_code", {}).get("type") == "tos_and_honor_code":
        payload["honor_code"] = "true"
    payload["total_registration_time"] = "12.345"
    if next_url:
        payload["next"] = next_url
    # query-string's stringify sorts the keys.
    return urlencode(sorted(payload.items()))


def test_documented_settings_are_on_in_development_ini():
    settings = documented_settings()
    assert settings["accounts.enable_dynamic_registration_fields"] == "true"
    assert settings["accounts.mfe_config.ENABLE_DYNAMIC_REGISTRATION_FIELDS"] == "true"


def test_the_mfes_default_form_registers_with_the_documented_settings(app_factory, db):
    app = app_factory(**documented_settings())
    # The MFE reads its runtime configuration, then the register page's context.
    config = app.get("/api/mfe_config/v1", {"mfe": "authn"}).json
    assert config["ENABLE_DYNAMIC_REGISTRATION_FIELDS"] is True
    fields = register_page(app, next="/courses/x/about")["registrationFields"]["fields"]
    assert fields == {"honor_code": TOS_AND_HONOR_CODE}
    # Each field is checked on blur, one at a time.
    for name, value in (("name", "Alice Liddell"), ("email", "alice@example.com"),
                        ("username", "alice"), ("password", "Secret-pass-123")):
        decisions = app.post(VALIDATION, {name: value}).json["validation_decisions"]
        assert decisions == {name: ""}
    response = app.post(V2, mfe_payload(fields, next_url="/courses/x/about"),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Accept": "application/json, text/plain, */*"})
    assert response.status_code == 200
    assert response.json["success"] is True
    assert response.json["authenticated_user"]["username"] == "alice"
    [alice] = users(db)
    assert (alice.username, alice.email, alice.name, alice.is_active) == (
        "alice", "alice@example.com", "Alice Liddell", False)
    assert profile(db).user_id == alice.id


def test_the_older_mfe_payload_registers_too(app_factory, db):
    """The class-based RegistrationPage always sent honor_code and is_authn_mfe."""
    app = app_factory(**documented_settings())
    app.post(V2, {"name": "Alice Liddell", "username": "alice", "email": "alice@example.com",
                  "country": "", "honor_code": "true", "is_authn_mfe": "true",
                  "password": "Secret-pass-123", "totalRegistrationTime": "9.5"})
    assert [user.username for user in users(db)] == ["alice"]


def test_without_dynamic_fields_the_default_form_is_refused(app, db):
    """Upstream's defaults: the MFE gets no fields, sends no honor_code, and fails."""
    fields = register_page(app)["registrationFields"]["fields"]
    response = app.post(V2, mfe_payload(fields),
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                        status=400)
    assert response.json == {
        "terms_of_service": [{"user_message": "You must accept the terms of service."}],
        "honor_code": [{"user_message": "To enroll, you must follow the honor code."}],
        "error_code": "validation-error"}
    assert users(db) == []


def test_the_mfe_sends_the_country_code_when_the_country_is_required(app_factory, db):
    app = app_factory(**documented_settings(), **{
        "accounts.registration_extra_fields": "honor_code=required country=required"})
    fields = register_page(app)["registrationFields"]["fields"]
    assert list(fields) == ["country", "honor_code"]
    payload = mfe_payload(fields) + "&" + urlencode({"country": "FR"})
    app.post(V2, payload, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert profile(db).country == "FR"
