"""POST /api/user/v1/validation/registration: per-field decisions, nothing created."""
import re

import pytest
from sqlalchemy import func, select

from lms.models import User
from lms.testing import create_user
from plugins.accounts import api

URL = "/api/user/v1/validation/registration"
VALID = {"name": "Dan the Validator", "username": "dan_v", "email": "dan@example.com",
         "confirm_email": "dan@example.com", "password": "password123", "country": "PK"}


def decide(app, body, status=200, **kw):
    return app.post_json(URL, body, status=status, **kw)


def user_count(db):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(User))


def test_valid_fields_get_empty_decisions_and_name_suggestions(app, db):
    body = decide(app, VALID).json
    assert body["validation_decisions"] == {name: "" for name in VALID}
    suggestions = body["username_suggestions"]
    assert suggestions[:2] == ["danvalidator", "d-validator"]
    assert len(suggestions) == 3 and re.fullmatch(r"dan_\d", suggestions[2])
    assert user_count(db) == 0


def test_empty_body_decides_nothing(app):
    assert app.post(URL).json == {"validation_decisions": {}}
    assert decide(app, {}).json == {"validation_decisions": {}}


def test_only_present_fields_are_decided_in_handler_order(app):
    body = decide(app, {"password": "p", "email": "bad", "unknown": "x"}).json
    assert list(body["validation_decisions"]) == ["email", "password"]
    assert body == {"validation_decisions": {
        "email": "Enter a valid email address",
        "password": "This password is too short. It must contain at least 2 characters.",
    }}


def test_form_field_key_picks_one_field(app):
    body = decide(app, {"form_field_key": "username", "username": "a", "email": "bad"}).json
    assert body == {"validation_decisions": {
        "username": "Username must be between 2 and 30 characters long."}}
    # A field key of a missing field still decides it (with no value).
    assert decide(app, {"form_field_key": "email"}).json == {
        "validation_decisions": {"email": "Input not valid unicode"}}
    # An unknown key falls back to every present field.
    assert decide(app, {"form_field_key": "nope", "country": "--"}).json == {
        "validation_decisions": {"country": "Select your country or region of residence"}}


@pytest.mark.parametrize("name, decision", [
    ("", "Enter your surname and name"),
    (None, "Enter your surname and name"),
    ("<script>", "Enter a valid name"),
    ("Visit https://spam.example", "Enter a valid name"),
    ("A" * 256, "Full name can't be longer than 255 symbols"),
    (42, "Enter a valid name"),
])
def test_name_decisions(app, name, decision):
    body = decide(app, {"name": name}).json
    assert body == {"validation_decisions": {"name": decision}}


@pytest.mark.parametrize("username, decision", [
    ("a", "Username must be between 2 and 30 characters long."),
    ("x" * 31, "Username must be between 2 and 30 characters long."),
    ("no spaces", ("Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores "
                  "(_), and hyphens (-).")),
    (123, "Input not valid unicode"),
    (None, "Input not valid unicode"),
    (["dan"], "Input not valid unicode"),
])
def test_username_decisions(app, username, decision):
    assert decide(app, {"username": username}).json == {
        "validation_decisions": {"username": decision}}


def test_taken_username_gets_suggestions(app, db):
    create_user(db, "taken_name")
    body = decide(app, {"username": "taken_name"}).json
    assert body["validation_decisions"] == {
        "username": "It looks like this username is already taken"}
    assert len(body["username_suggestions"]) == 3
    assert all(re.fullmatch(r"takenname_\d+", name) for name in body["username_suggestions"])


def test_invalid_beats_taken(app, db):
    create_user(db, "ab")
    assert decide(app, {"username": "ab "}).json["validation_decisions"] == {
        "username": "Usernames can only contain letters (A-Z, a-z), numerals (0-9), "
                    "underscores (_), and hyphens (-)."}


@pytest.mark.parametrize("email, decision", [
    ("a@", "Enter a valid email address that contains at least 3 characters."),
    ("x" * 250 + "@example.com", ("Enter a valid email address that contains at least 3 "
                                 "characters.")),
    ("no-at-sign", "Enter a valid email address"),
    ("dan@localhost", ""),
    ("dan@[127.0.0.1]", ""),
    ("dan@bücher.example", ""),
    ("dan@-bad-.example", "Enter a valid email address"),
    (7, "Input not valid unicode"),
])
def test_email_decisions(app, email, decision):
    assert decide(app, {"email": email}).json == {"validation_decisions": {"email": decision}}


def test_taken_and_retired_emails(app, db):
    create_user(db, "someone", email="someone@example.com")
    settings = app.registry.settings
    create_user(db, "retired_one", email=api.retired_email(settings, "gone@example.com"))
    taken = "This email is already associated with an existing account"
    for email in ("someone@example.com", "SOMEONE@example.com", "gone@example.com"):
        assert decide(app, {"email": email}).json == {"validation_decisions": {"email": taken}}


@pytest.mark.parametrize("body, decision", [
    ({"confirm_email": "a@example.com", "email": "b@example.com"},
     "The email addresses do not match"),
    ({"confirm_email": ""}, "The email addresses do not match"),
    ({"confirm_email": "a@example.com", "email": "a@example.com"}, ""),
])
def test_confirm_email(app, body, decision):
    assert decide(app, body).json["validation_decisions"]["confirm_email"] == decision


@pytest.mark.parametrize("body, decision", [
    ({"password": "p"}, "This password is too short. It must contain at least 2 characters."),
    ({"password": "x" * 76},
     "This password is too long. It must contain no more than 75 characters."),
    ({"password": "dan_vdan", "username": "dan_vdan"},
     "The password is too similar to the username."),
    ({"password": "dansmith", "username": "zz", "email": "dansmith@example.com"},
     "The password is too similar to the email address."),
    # Without a username there is nobody to be similar to.
    ({"password": "dansmith", "email": "dansmith@example.com"}, ""),
    ({"password": 12345678}, "Password must be a string"),
    ({"password": None}, "Password must be a string"),
])
def test_password_decisions(app, body, decision):
    assert decide(app, body).json["validation_decisions"]["password"] == decision


def test_password_messages_are_joined(app_factory):
    app = app_factory(**{"accounts.password_validators":
                         "minimum_length:min_length=10 numeric:min_numeric=1 entirely_numeric"})
    assert decide(app, {"password": "abc"}).json["validation_decisions"]["password"] == (
        "This password is too short. It must contain at least 10 characters. "
        "This password must contain at least 1 number.")
    assert decide(app, {"password": "1234567890"}).json["validation_decisions"]["password"] == (
        "This password is entirely numeric.")


@pytest.mark.parametrize("country, decision", [
    ("", "Select your country or region of residence"),
    ("--", "Select your country or region of residence"),
    ("XX", ""),  # no ISO check here, as upstream
    ("FR", ""),
])
def test_country(app, country, decision):
    assert decide(app, {"country": country}).json == {
        "validation_decisions": {"country": decision}}


def test_form_encoded_body(app):
    body = app.post(URL, {"username": "a", "password": "pw-ok"}).json
    assert body == {"validation_decisions": {
        "username": "Username must be between 2 and 30 characters long.", "password": ""}}


def test_malformed_bodies(app):
    response = app.post(URL, "{not json", content_type="application/json", status=400)
    assert response.json == {"detail": "JSON parse error - Expecting property name enclosed in "
                                       "double quotes: line 1 column 2 (char 1)"}
    response = app.post(URL, "username=x", content_type="text/plain", status=415)
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}
    # A JSON array carries no fields.
    assert decide(app, ["username"]).json == {"validation_decisions": {}}


def test_validation_requests_per_ip_are_limited(app_factory):
    app = app_factory(**{"throttle.enabled": "true",
                         "accounts.registration_validation_rate": "2/7d"})
    decide(app, {"username": "dan"})
    decide(app, {"username": "dan"})
    response = decide(app, {"username": "dan"}, status=403)
    assert response.json == {"detail": "You do not have permission to perform this action."}


def test_get_is_not_allowed(app):
    response = app.get(URL, status=405)
    assert response.headers["Allow"] == "POST"
