"""PATCH /api/user/v1/accounts/{username} (merge-patch) and the email-change links."""
import json

import pytest
from sqlalchemy import func, select

from lms.models import User
from lms.testing import create_user, jwt_headers
from plugins.accounts import api
from plugins.accounts.models import PendingEmailChange
from tests.plugins.accounts.test_accounts import ADMIN_KEYS, JWT_401, adult_year, make_user

MERGE_PATCH = "application/merge-patch+json"


def patch(app, user, body, status=200, content_type=MERGE_PATCH, username=None):
    headers = dict(jwt_headers(app, user), **{"Content-Type": content_type})
    return app.patch(f"/api/user/v1/accounts/{username or user.username}",
                     json.dumps(body), headers=headers, status=status)


def profile_of(db, user):
    db.expire_all()
    return api.get_profile(db, user.id)


def test_patch_updates_and_returns_the_full_account(app, db):
    alice = make_user(db, "alice")
    response = patch(app, alice, {
        "name": "Alice L", "bio": "About me", "gender": "f", "goals": "Learn",
        "level_of_education": "b", "country": "US", "state": "MA", "city": "Boston",
        "mailing_address": "1 Main St", "year_of_birth": "1990", "phone_number": "+1 (555) 12-34",
        "language_proficiencies": [{"code": "fr"}, {"code": "en"}],
        "social_links": [{"platform": "facebook", "social_link": "alice"},
                         {"platform": "linkedin",
                          "social_link": "https://www.linkedin.com/in/alice/"}],
        "account_privacy": "private", "time_zone": "Europe/Paris", "foo": "ignored",
    })
    body = response.json
    assert list(body) == ADMIN_KEYS
    assert {key: body[key] for key in ("name", "bio", "gender", "goals", "level_of_education",
                                       "country", "state", "mailing_address", "year_of_birth",
                                       "phone_number", "account_privacy", "time_zone")} == {
        "name": "Alice L", "bio": "About me", "gender": "f", "goals": "Learn",
        "level_of_education": "b", "country": "US", "state": "MA",
        "mailing_address": "1 Main St", "year_of_birth": 1990, "phone_number": "+15551234",
        "account_privacy": "private", "time_zone": None}
    assert body["language_proficiencies"] == [{"code": "en"}, {"code": "fr"}]
    assert body["social_links"] == [
        {"platform": "facebook", "social_link": "https://www.facebook.com/alice"},
        {"platform": "linkedin", "social_link": "https://www.linkedin.com/in/alice"}]
    profile = profile_of(db, alice)
    assert profile.city == "Boston"
    assert profile.meta["old_names"][0][:2] == [
        "Alice", "Name change requested through account API by alice"]
    assert api.get_preference(db, alice.id, "account_privacy") == "private"
    assert api.get_preference(db, alice.id, "time_zone") is None


def test_social_links_merge_per_platform(app, db):
    alice = make_user(db, "alice", social_links=[
        {"platform": "facebook", "social_link": "https://www.facebook.com/old"},
        {"platform": "x", "social_link": "https://www.x.com/al"}])
    body = patch(app, alice, {"social_links": [
        {"platform": "facebook", "social_link": "https://facebook.com/new"},
        {"platform": "x", "social_link": ""},
        {"platform": "linkedin", "social_link": "al"}]}).json
    assert body["social_links"] == [
        {"platform": "facebook", "social_link": "https://www.facebook.com/new"},
        {"platform": "linkedin", "social_link": "https://www.linkedin.com/in/al"}]


def test_a_bad_social_link_is_refused(app, db):
    alice = make_user(db, "alice")
    response = patch(app, alice, {"bio": "changed", "social_links": [
        {"platform": "facebook", "social_link": "https://facebook.com/a/b"}]}, status=400)
    message = ('Make sure that you are providing a valid username or a URL that contains '
               '"facebook.com/". To remove the link from your Facebook profile, leave this '
               'field blank.')
    assert response.json == {"field_errors": {"social_links": {
        "developer_message": f"Error when adding new social link: '{message}'",
        "user_message": message}}}
    assert profile_of(db, alice).bio is None


def test_leaving_the_us_clears_the_state(app, db):
    alice = make_user(db, "alice", country="US", state="MA")
    body = patch(app, alice, {"country": "FR"}).json
    assert body["country"] == "FR" and body["state"] is None


def test_extended_profile_is_merged(app_factory):
    app = app_factory(**{"accounts.extended_profile_fields": "company title"})
    db = app.registry["lms.dbsession_factory"]()
    alice = make_user(db, "alice", meta={"title": "Dr"})
    body = patch(app, alice, {"extended_profile": [
        {"field_name": "company", "field_value": "ACME"},
        {"field_name": "old_names", "field_value": "not a configured field"}]}).json
    assert body["extended_profile"] == [{"field_name": "company", "field_value": "ACME"},
                                        {"field_name": "title", "field_value": "Dr"}]
    assert "old_names" not in profile_of(db, alice).meta
    response = patch(app, alice, {"extended_profile": "nope"}, status=400)
    assert response.json == {"field_errors": {"extended_profile": {
        "developer_message": "extended_profile must be a list",
        "user_message": "Invalid extended profile format"}}}
    db.close()


def test_patch_needs_merge_patch_before_anything_else(app, db):
    alice = make_user(db, "alice")
    bob = make_user(db, "bob")
    response = patch(app, alice, {"bio": "x"}, status=415, content_type="application/json")
    assert response.json == {"detail": 'Unsupported media type "application/json" in request.'}
    response = patch(app, bob, {"bio": "x"}, status=415, content_type="text/plain",
                     username="alice")
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}


def test_patch_of_another_account_is_an_empty_403(app, db):
    make_user(db, "alice")
    bob = make_user(db, "bob")
    staff = create_user(db, "staff", is_staff=True)
    for caller, target in ((bob, "alice"), (staff, "alice"), (bob, "ghost")):
        response = patch(app, caller, {"bio": "x"}, status=403, username=target)
        assert response.body == b""
    assert profile_of(db, db.scalar(select(User).where(User.username == "alice"))).bio is None


def test_patch_requires_authentication(app, db):
    make_user(db, "alice")
    response = app.patch("/api/user/v1/accounts/alice", json.dumps({"bio": "x"}),
                         headers={"Content-Type": MERGE_PATCH}, status=401)
    assert response.json == JWT_401


def test_read_only_fields_are_refused_one_by_one(app, db):
    alice = make_user(db, "alice")
    response = patch(app, alice, {"username": "al", "is_active": False, "bio": "x",
                                  "date_joined": "2020-01-01", "profile_image": {},
                                  "requires_parental_consent": False}, status=400)
    assert response.json == {"field_errors": {
        name: {"developer_message": "This field is not editable via this API",
               "user_message": f"The '{name}' field cannot be edited."}
        for name in ("username", "date_joined", "is_active", "profile_image",
                     "requires_parental_consent")}}
    assert profile_of(db, alice).bio is None


INVALID = "This value is invalid."


@pytest.mark.parametrize("field, value, developer, user_message", [
    ("gender", "x", "Value 'x' is not valid for field 'gender': ['\"x\" is not a valid "
                    "choice.']", INVALID),
    ("level_of_education", "phd", "Value 'phd' is not valid for field 'level_of_education': "
                                  "['\"phd\" is not a valid choice.']", INVALID),
    ("country", "ZZ", "Value 'ZZ' is not valid for field 'country': ['\"ZZ\" is not a valid "
                      "choice.']", INVALID),
    ("year_of_birth", "abc", "Value 'abc' is not valid for field 'year_of_birth': ['A valid "
                             "integer is required.']", INVALID),
    ("year_of_birth", True, "Value 'True' is not valid for field 'year_of_birth': ['A valid "
                            "integer is required.']", INVALID),
    ("bio", "b" * 301, "Value '" + "b" * 301 + "' is not valid for field 'bio': ['The about "
                       "me field must be at most 300 characters long.']",
     "The about me field must be at most 300 characters long."),
    ("name", "", "Value '' is not valid for field 'name': ['The name field must be at least "
                 "1 character long.']", INVALID),
    ("name", None, "Value 'None' is not valid for field 'name': ['This field may not be "
                   "null.']", INVALID),
    ("goals", ["x"], "Value '['x']' is not valid for field 'goals': ['Not a valid string.']",
     INVALID),
    ("state", "Massachusetts", "Value 'Massachusetts' is not valid for field 'state': "
                               "['Ensure this field has no more than 2 characters.']", INVALID),
    ("language_proficiencies", [{"code": "en"}, {"code": "en"}],
     "Value '[{'code': 'en'}, {'code': 'en'}]' is not valid for field "
     "'language_proficiencies': ['The language_proficiencies field must consist of unique "
     "languages.']", INVALID),
    ("language_proficiencies", [{"code": "zz"}],
     "Value '[{'code': 'zz'}]' is not valid for field 'language_proficiencies': "
     "[{'code': ['\"zz\" is not a valid choice.']}]", INVALID),
    ("language_proficiencies", "en",
     "Value 'en' is not valid for field 'language_proficiencies': {'non_field_errors': "
     "['Expected a list of items but got type \"str\".']}", INVALID),
    ("social_links", [{"platform": "myspace", "social_link": "a"}],
     "Value '[{'platform': 'myspace', 'social_link': 'a'}]' is not valid for field "
     "'social_links': [{'platform': ['The social platform must be facebook, x or "
     "linkedin']}]", INVALID),
    ("phone_number", 5, "Value '5' is not valid for field 'phone_number': ['Not a valid "
                        "string.']", INVALID),
    # DRF's nested shapes, as plugins.accounts.schemas keeps them.
    ("social_links", [{"social_link": "a"}, "x", {"platform": "x", "social_link": None}],
     "Value '[{'social_link': 'a'}, 'x', {'platform': 'x', 'social_link': None}]' is not "
     "valid for field 'social_links': [{'platform': ['This field is required.']}, "
     "{'non_field_errors': ['Invalid data. Expected a dictionary, but got str.']}, "
     "{'social_link': ['This field may not be null.']}]", INVALID),
    ("language_proficiencies", [{"code": "en"}, {}, {"code": None}],
     "Value '[{'code': 'en'}, {}, {'code': None}]' is not valid for field "
     "'language_proficiencies': [{}, {'code': ['This field is required.']}, "
     "{'code': ['This field may not be null.']}]", INVALID),
    ("year_of_birth", 2**31, "Value '2147483648' is not valid for field 'year_of_birth': "
                             "['Ensure this value is less than or equal to 2147483647.']",
     INVALID),
    ("year_of_birth", 1.5, "Value '1.5' is not valid for field 'year_of_birth': ['A valid "
                           "integer is required.']", INVALID),
    ("social_links", None, "Value 'None' is not valid for field 'social_links': ['This field "
                           "may not be null.']", INVALID),
])
def test_invalid_values_are_refused_per_field(app, db, field, value, developer, user_message):
    alice = make_user(db, "alice")
    response = patch(app, alice, {field: value, "goals": "kept?"} if field != "goals"
                     else {field: value}, status=400)
    assert response.json == {"field_errors": {field: {"developer_message": developer,
                                                      "user_message": user_message}}}
    profile = profile_of(db, alice)
    assert profile.goals is None and profile.year_of_birth == adult_year()


@pytest.mark.parametrize("name, message", [
    ("A <b>", "Full Name cannot contain the following characters: < >"),
    ("see https://evil.example", "Enter a valid name"),
])
def test_names_with_html_or_urls_are_refused(app, db, name, message):
    alice = make_user(db, "alice")
    response = patch(app, alice, {"name": name}, status=400)
    assert response.json == {"field_errors": {"name": {
        "developer_message": f"Error thrown from validate_name: '{message}'",
        "user_message": message}}}


def test_empty_account_privacy_is_refused(app, db):
    alice = make_user(db, "alice")
    response = patch(app, alice, {"account_privacy": ""}, status=400)
    message = "Preference 'account_privacy' cannot be set to an empty value."
    assert response.json == {"field_errors": {"account_privacy": {
        "developer_message": message, "user_message": message}}}


def test_bad_json_and_non_objects(app, db):
    alice = make_user(db, "alice")
    headers = dict(jwt_headers(app, alice), **{"Content-Type": MERGE_PATCH})
    response = app.patch("/api/user/v1/accounts/alice", "{oops", headers=headers, status=400)
    assert response.json["detail"].startswith("JSON parse error - ")
    response = patch(app, alice, ["bio"], status=400)
    assert response.json == {"non_field_errors": [
        "Invalid data. Expected a dictionary, but got list."]}


def test_a_minor_loses_the_profile_image(app, db):
    from lms.timeutil import utcnow

    alice = make_user(db, "alice")
    profile = api.get_profile(db, alice.id)
    profile.profile_image_uploaded_at = utcnow()
    db.commit()
    body = patch(app, alice, {"year_of_birth": utcnow().year - 5}).json
    assert body["requires_parental_consent"] is True
    assert body["profile_image"]["has_image"] is False and body["account_privacy"] == "private"


# -- email changes ---------------------------------------------------------------------------

def test_email_change_sends_a_confirmation_and_the_link_applies_it(app, db):
    alice = make_user(db, "alice")
    outbox = app.registry["lms.mail_outbox"]
    body = patch(app, alice, {"email": "new@example.com"}).json
    assert body["email"] == "alice@example.com"
    pending = db.scalar(select(PendingEmailChange))
    assert pending.new_email == "new@example.com" and pending.kind == "primary"
    key = pending.activation_key
    assert len(outbox) == 1 and outbox[0]["To"] == "new@example.com"
    assert f"http://localhost/email_confirm/{key}" in outbox[0].get_content()
    page = app.get(f"/email_confirm/{key}")
    assert "text/html" in page.content_type and "new@example.com" in page.text
    db.expire_all()
    assert db.get(User, alice.id).email == "new@example.com"
    assert api.get_profile(db, alice.id).meta["old_emails"][0][0] == "alice@example.com"
    assert db.scalar(select(func.count()).select_from(PendingEmailChange)) == 0
    assert sorted(message["To"] for message in outbox[1:]) == ["alice@example.com",
                                                               "new@example.com"]
    assert "not valid" in app.get(f"/email_confirm/{key}").text


def test_an_address_in_use_is_silently_dropped(app, db):
    alice = make_user(db, "alice")
    make_user(db, "bob")
    patch(app, alice, {"email": "bob@example.com"})
    assert db.scalar(select(func.count()).select_from(PendingEmailChange)) == 0
    assert app.registry["lms.mail_outbox"] == []


@pytest.mark.parametrize("email, message", [
    ("not-an-email", "Valid e-mail address required."),
    (5, "Valid e-mail address required."),
    ("alice@example.com", "Old email is the same as the new email."),
])
def test_invalid_email_changes(app, db, email, message):
    alice = make_user(db, "alice")
    response = patch(app, alice, {"email": email}, status=400)
    assert response.json == {"field_errors": {"email": {
        "developer_message": f"Error thrown from validate_new_email: '{message}'",
        "user_message": message}}}


def test_email_changes_can_be_disabled(app_factory):
    app = app_factory(**{"accounts.allow_email_change": "false"})
    db = app.registry["lms.dbsession_factory"]()
    alice = make_user(db, "alice")
    response = patch(app, alice, {"email": "new@example.com"}, status=400)
    assert response.json == {"developer_message": "Email address changes have been disabled "
                                                  "by the site operators.",
                             "user_message": None}
    db.close()


def test_secondary_email_is_confirmed_through_its_own_link(app_factory):
    app = app_factory(**{"accounts.enable_secondary_email": "true"})
    db = app.registry["lms.dbsession_factory"]()
    alice = make_user(db, "alice")
    response = patch(app, alice, {"secondary_email": "alice@example.com"}, status=400)
    assert response.json["field_errors"]["secondary_email"]["user_message"] == (
        "Cannot be same as your sign in email address.")
    patch(app, alice, {"secondary_email": "backup@example.com"})
    pending = db.scalar(select(PendingEmailChange))
    assert pending.kind == "secondary"
    app.get(f"/activate_secondary_email/{pending.activation_key}")
    body = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, alice)).json
    assert body["secondary_email"] == "backup@example.com"
    assert body["secondary_email_enabled"] is True
    db.close()


def test_email_change_rate_limit(app_factory):
    app = app_factory(**{"throttle.enabled": "true", "accounts.email_change_rate": "1/h"})
    db = app.registry["lms.dbsession_factory"]()
    alice = make_user(db, "alice")
    patch(app, alice, {"email": "one@example.com"})
    response = patch(app, alice, {"email": "two@example.com"}, status=429)
    assert response.json == {"error": "Too many requests"}
    patch(app, alice, {"bio": "no email, no limit"})
    db.close()
