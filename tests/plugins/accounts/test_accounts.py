"""``/api/user/v1/me``, ``accounts`` (list, detail GET), ``search_emails``, ``deactivate``,
``name_change`` (+ confirm) and ``replace_usernames``."""
import types
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.hookspecs import hookimpl
from lms.models import LoginSession, OAuthAccessToken, User
from lms.passwords import is_usable
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.accounts import api
from plugins.accounts.models import (
    PendingNameChange,
    RetirementState,
    UserRetirementStatus,
)

JWT_401 = {"detail": "Authentication credentials were not provided."}
DENIED = {"detail": "You do not have permission to perform this action."}
DEFAULT_IMAGES = {
    "has_image": False,
    "image_url_full": "http://localhost/static/images/profiles/default_500.png",
    "image_url_large": "http://localhost/static/images/profiles/default_120.png",
    "image_url_medium": "http://localhost/static/images/profiles/default_50.png",
    "image_url_small": "http://localhost/static/images/profiles/default_30.png",
}
ADMIN_KEYS = [
    "account_privacy", "profile_image", "username", "bio", "course_certificates", "country",
    "date_joined", "language_proficiencies", "level_of_education", "social_links",
    "time_zone", "name", "email", "id", "verified_name", "extended_profile", "gender",
    "state", "goals", "is_active", "last_login", "mailing_address",
    "requires_parental_consent", "secondary_email", "secondary_email_enabled",
    "year_of_birth", "phone_number", "pending_name_change",
]
PUBLIC_KEYS = ["account_privacy", "profile_image", "username"]
BULK_KEYS = PUBLIC_KEYS + ["bio", "course_certificates", "country", "date_joined",
                           "language_proficiencies", "level_of_education", "social_links",
                           "time_zone"]


def adult_year():
    return utcnow().year - 30


def make_user(db, username, year_of_birth=None, privacy=None, **profile_fields):
    """A user with a profile (an adult unless ``year_of_birth`` says otherwise)."""
    user = create_user(db, username, **{k: v for k, v in profile_fields.items()
                                        if k in ("is_staff", "is_superuser", "is_active",
                                                 "name")})
    profile = api.get_profile(db, user.id, create=True)
    profile.year_of_birth = adult_year() if year_of_birth is None else year_of_birth
    for key, value in profile_fields.items():
        if hasattr(profile, key) and key not in ("name",):
            setattr(profile, key, value)
    if privacy:
        api.set_preference(db, user.id, "account_privacy", privacy)
    db.commit()
    return user


def joined(user):
    return user.date_joined.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- me ----------------------------------------------------------------------------------

def test_me_returns_the_callers_username(app, db):
    user = create_user(db, "alice")
    assert app.get("/api/user/v1/me", headers=jwt_headers(app, user)).json == {
        "username": "alice"}


def test_me_requires_authentication(app):
    response = app.get("/api/user/v1/me", status=401)
    assert response.json == JWT_401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_me_with_an_email_query_is_staff_only(app, db):
    user = create_user(db, "alice")
    response = app.get("/api/user/v1/me?email=x@example.com", headers=jwt_headers(app, user),
                       status=403)
    assert response.json == DENIED


# -- account detail ------------------------------------------------------------------------

def test_owner_gets_every_field_in_upstream_order(app, db):
    user = make_user(db, "alice", bio="Hi", country="FR", gender="f", goals="Learn",
                     level_of_education="m", mailing_address="1 rue", state="",
                     phone_number="+3312", language_proficiencies=[{"code": "fr"},
                                                                  {"code": "en"}],
                     social_links=[{"platform": "x", "social_link": "https://www.x.com/al"}])
    db.add(PendingNameChange(user_id=user.id, new_name="Alicia"))
    db.commit()
    response = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, user))
    assert list(response.json) == ADMIN_KEYS
    assert response.json == {
        "account_privacy": "all_users", "profile_image": DEFAULT_IMAGES, "username": "alice",
        "bio": "Hi", "course_certificates": None, "country": "FR",
        "date_joined": joined(user),
        "language_proficiencies": [{"code": "en"}, {"code": "fr"}],
        "level_of_education": "m",
        "social_links": [{"platform": "x", "social_link": "https://www.x.com/al"}],
        "time_zone": None, "name": "Alice", "email": "alice@example.com", "id": user.id,
        "verified_name": None, "extended_profile": [], "gender": "f", "state": None,
        "goals": "Learn", "is_active": True, "last_login": None, "mailing_address": "1 rue",
        "requires_parental_consent": False, "secondary_email": None,
        "secondary_email_enabled": None, "year_of_birth": adult_year(),
        "phone_number": "+3312", "pending_name_change": "Alicia",
    }


def test_unknown_account_is_an_empty_404(app, db):
    user = create_user(db, "alice")
    response = app.get("/api/user/v1/accounts/nobody", headers=jwt_headers(app, user),
                       status=404)
    assert response.body == b""


def test_account_detail_requires_authentication(app, db):
    make_user(db, "alice")
    assert app.get("/api/user/v1/accounts/alice", status=401).json == JWT_401


def test_account_detail_has_no_trailing_slash(app, db):
    user = make_user(db, "alice")
    app.get("/api/user/v1/accounts/alice/", headers=jwt_headers(app, user), status=404)


def test_staff_see_everything_and_shared_view_hides(app, db):
    make_user(db, "alice", privacy="private", bio="Secret")
    staff = create_user(db, "staff", is_staff=True)
    headers = jwt_headers(app, staff)
    full = app.get("/api/user/v1/accounts/alice", headers=headers).json
    assert list(full) == ADMIN_KEYS and full["bio"] == "Secret"
    shared = app.get("/api/user/v1/accounts/alice?view=shared", headers=headers).json
    assert shared == {"account_privacy": "private", "profile_image": DEFAULT_IMAGES,
                      "username": "alice"}


def test_owner_can_see_what_others_see(app, db):
    user = make_user(db, "alice", privacy="all_users", bio="Hi")
    shared = app.get("/api/user/v1/accounts/alice?view=shared",
                     headers=jwt_headers(app, user)).json
    assert list(shared) == BULK_KEYS and shared["bio"] == "Hi"


# -- visibility matrix --------------------------------------------------------------------

@pytest.mark.parametrize("privacy, expected", [
    ("private", PUBLIC_KEYS),
    ("all_users", BULK_KEYS),
    (None, BULK_KEYS),  # the default visibility
    ("something-else", PUBLIC_KEYS),
])
def test_other_users_see_the_fields_privacy_allows(app, db, privacy, expected):
    make_user(db, "alice", privacy=privacy, bio="Hi", country="FR")
    bob = create_user(db, "bob")
    body = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, bob)).json
    assert list(body) == expected
    assert body["account_privacy"] == (privacy or "all_users")
    if "bio" in expected:
        assert body["bio"] == "Hi" and body["country"] == "FR" and body["time_zone"] is None


def test_custom_privacy_shares_chosen_fields(app, db):
    alice = make_user(db, "alice", privacy="custom", bio="Hi", country="FR")
    api.set_preference(db, alice.id, "visibility.bio", "all_users")
    api.set_preference(db, alice.id, "visibility.name", "all_users")
    api.set_preference(db, alice.id, "visibility.country", "private")
    api.set_preference(db, alice.id, "visibility.email", "all_users")  # not shareable
    db.commit()
    bob = create_user(db, "bob")
    body = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, bob)).json
    assert body == {"account_privacy": "custom", "profile_image": DEFAULT_IMAGES,
                    "username": "alice", "bio": "Hi", "name": "Alice"}


@pytest.mark.parametrize("age_offset, consent", [(13, True), (14, False), (None, True)])
def test_minors_and_unknown_ages_are_private(app, db, age_offset, consent):
    year = utcnow().year - age_offset if age_offset else None
    alice = make_user(db, "alice", privacy="all_users", bio="Hi")
    profile = api.get_profile(db, alice.id)
    profile.year_of_birth = year
    db.commit()
    bob = create_user(db, "bob")
    body = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, bob)).json
    if consent:
        assert body == {"account_privacy": "private", "profile_image": DEFAULT_IMAGES,
                        "username": "alice"}
    else:
        assert list(body) == BULK_KEYS
    own = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, alice)).json
    assert own["requires_parental_consent"] is consent


def test_coppa_mode_needs_no_year_of_birth(app_factory, db):
    app = app_factory(**{"accounts.enable_coppa_compliance": "true"})
    session = app.registry["lms.dbsession_factory"]()
    alice = make_user(session, "alice", privacy="all_users")
    api.get_profile(session, alice.id).year_of_birth = None
    session.commit()
    bob = create_user(session, "bob")
    body = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, bob)).json
    assert list(body) == BULK_KEYS
    session.close()


def test_visibility_lists_and_extended_profile_come_from_settings(app_factory):
    app = app_factory(**{"accounts.bulk_shareable_fields": "username name",
                         "accounts.admin_fields": "username email extended_profile",
                         "accounts.extended_profile_fields": "company title",
                         "accounts.enable_secondary_email": "true"})
    db = app.registry["lms.dbsession_factory"]()
    alice = make_user(db, "alice", privacy="all_users")
    profile = api.get_profile(db, alice.id)
    profile.meta = {"company": "ACME"}
    db.commit()
    bob = create_user(db, "bob")
    assert app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, bob)).json == {
        "username": "alice", "name": "Alice"}
    assert app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, alice)).json == {
        "username": "alice", "email": "alice@example.com",
        "extended_profile": [{"field_name": "company", "field_value": "ACME"},
                             {"field_name": "title", "field_value": ""}]}
    db.close()


# -- account list -----------------------------------------------------------------------------

def test_list_by_usernames_skips_unknown_ones(app, db):
    alice = make_user(db, "alice")
    make_user(db, "bob", privacy="private")
    body = app.get("/api/user/v1/accounts?username=,alice,ghost,bob,",
                   headers=jwt_headers(app, alice)).json
    assert [account["username"] for account in body] == ["alice", "bob"]
    assert list(body[0]) == ADMIN_KEYS and list(body[1]) == PUBLIC_KEYS


def test_list_without_matches_is_an_empty_404(app, db):
    alice = make_user(db, "alice")
    response = app.get("/api/user/v1/accounts?username=ghost", headers=jwt_headers(app, alice),
                       status=404)
    assert response.body == b""


def test_list_without_parameters_is_the_callers_account(app, db):
    alice = make_user(db, "alice")
    body = app.get("/api/user/v1/accounts", headers=jwt_headers(app, alice)).json
    assert len(body) == 1 and body[0]["username"] == "alice" and list(body[0]) == ADMIN_KEYS


def test_list_requires_authentication(app):
    assert app.get("/api/user/v1/accounts?username=a", status=401).json == JWT_401


@pytest.mark.parametrize("query", ["email=bob@example.com", "lms_user_id=1"])
def test_lookup_by_email_or_id_is_staff_only(app, db, query):
    alice = make_user(db, "alice")
    response = app.get(f"/api/user/v1/accounts?{query}", headers=jwt_headers(app, alice),
                       status=403)
    assert response.json == DENIED


def test_staff_look_up_by_email_and_id(app, db):
    bob = make_user(db, "bob")
    staff = create_user(db, "staff", is_staff=True)
    headers = jwt_headers(app, staff)
    by_email = app.get("/api/user/v1/accounts?email=bob@example.com", headers=headers).json
    by_id = app.get(f"/api/user/v1/accounts?lms_user_id={bob.id}", headers=headers).json
    assert by_email == by_id and by_email[0]["email"] == "bob@example.com"
    assert app.get("/api/user/v1/accounts?email=ghost@example.com", headers=headers,
                   status=404).body == b""
    assert app.get("/api/user/v1/accounts?lms_user_id=abc", headers=headers,
                   status=400).body == b""
    assert app.get("/api/user/v1/accounts?lms_user_id=99999", headers=headers,
                   status=404).body == b""
    # username wins over email
    body = app.get("/api/user/v1/accounts?username=staff&email=bob@example.com",
                   headers=headers).json
    assert [account["username"] for account in body] == ["staff"]


def test_retired_email_lookup_tells_about_the_retirement(app, db):
    settings = app.registry.settings
    staff = create_user(db, "staff", is_staff=True)
    retired = create_user(db, api.retired_username(settings, "gone"),
                          email=api.retired_email(settings, "gone@example.com"))
    state = db.scalar(select(RetirementState).where(RetirementState.state_name == "PENDING"))
    status = UserRetirementStatus(
        user_id=retired.id, original_username="gone", original_email="gone@example.com",
        retired_username=retired.username, retired_email=retired.email,
        current_state_id=state.id, last_state_id=state.id)
    db.add(status)
    db.commit()
    response = app.get("/api/user/v1/accounts?email=gone@example.com",
                       headers=jwt_headers(app, staff), status=404)
    assert response.json == {"error_msg": "This email is associated to a retired account.",
                             "can_cancel_retirement": True, "retirement_id": status.id}
    status.created = utcnow() - timedelta(days=15)
    db.commit()
    response = app.get("/api/user/v1/accounts?email=gone@example.com",
                       headers=jwt_headers(app, staff), status=404)
    assert response.json == {"error_msg": "This email is associated to a retired account.",
                             "can_cancel_retirement": False, "retirement_id": None}


def test_account_list_runs_a_fixed_number_of_queries(app, db, query_counter):
    users = [make_user(db, f"user{i}", bio=f"bio {i}") for i in range(10)]
    for user in users:
        api.set_preference(db, user.id, "account_privacy", "custom")
        api.set_preference(db, user.id, "visibility.bio", "all_users")
        db.add(PendingNameChange(user_id=user.id, new_name="New"))
    db.commit()
    viewer = create_user(db, "viewer")
    headers = jwt_headers(app, viewer)
    with query_counter() as one:
        assert len(app.get("/api/user/v1/accounts?username=user0", headers=headers).json) == 1
    names = ",".join(user.username for user in users)
    with query_counter() as ten:
        body = app.get(f"/api/user/v1/accounts?username={names}", headers=headers).json
    assert len(body) == 10 and body[3]["bio"] == "bio 3"
    assert len(one) == len(ten)


# -- search_emails ----------------------------------------------------------------------------

def test_search_emails_for_staff(app, db):
    alice = make_user(db, "alice")
    staff = create_user(db, "staff", is_staff=True)
    response = app.post_json("/api/user/v1/accounts/search_emails",
                             {"emails": ["alice@example.com", "ghost@example.com"]},
                             headers=jwt_headers(app, staff))
    assert response.json == [{"email": "alice@example.com", "id": alice.id,
                              "username": "alice"}]
    assert app.post_json("/api/user/v1/accounts/search_emails", {"emails": []},
                         headers=jwt_headers(app, staff)).json == []


def test_search_emails_hides_itself_from_non_staff(app, db):
    alice = make_user(db, "alice")
    response = app.post("/api/user/v1/accounts/search_emails", "emails=x",
                        headers=jwt_headers(app, alice), status=404)
    assert response.json == {"developer_message": "not_found", "user_message": "Not Found"}


def test_search_emails_bad_input(app, db):
    staff = create_user(db, "staff", is_staff=True)
    headers = jwt_headers(app, staff)
    message = "'emails' field is required"
    response = app.post_json("/api/user/v1/accounts/search_emails", {"email": ["a"]},
                             headers=headers, status=400)
    assert response.json == {"developer_message": message, "user_message": message}
    response = app.post("/api/user/v1/accounts/search_emails", "emails=a", headers=headers,
                        status=415)
    assert response.json == {
        "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'}
    response = app.post_json("/api/user/v1/accounts/search_emails", {"emails": 5},
                             headers=headers, status=400)
    assert set(response.json) == {"developer_message", "user_message"}
    app.post("/api/user/v1/accounts/search_emails", "{bad", headers=dict(
        headers, **{"Content-Type": "application/json"}), status=400)
    assert app.get("/api/user/v1/accounts/search_emails", headers=headers,
                   status=405).json == {"detail": 'Method "GET" not allowed.'}


def test_search_emails_requires_authentication(app):
    assert app.post_json("/api/user/v1/accounts/search_emails", {"emails": []},
                         status=401).json == JWT_401


# -- deactivate ---------------------------------------------------------------------------------

def test_superuser_deactivates_an_account(app, db):
    from lms.oauth import create_application

    alice = make_user(db, "alice")
    admin = create_user(db, "admin", is_staff=True, is_superuser=True)
    application, _ = create_application(db, name="app", user=admin, grant_type="password")
    db.add(OAuthAccessToken(token_hash="x" * 64, application_id=application.id,
                            user_id=alice.id, scopes=[], expires=utcnow() + timedelta(hours=1)))
    db.add(LoginSession(key_hash="y" * 64, user_id=alice.id,
                        expires=utcnow() + timedelta(hours=1)))
    db.commit()
    response = app.post("/api/user/v1/accounts/alice/deactivate/",
                        headers=jwt_headers(app, admin))
    assert list(response.json) == ADMIN_KEYS
    assert response.json["username"] == "alice" and response.json["is_active"] is True
    db.expire_all()
    assert not is_usable(db.scalar(select(User.password).where(User.id == alice.id)))
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 0
    assert db.scalar(select(func.count()).select_from(OAuthAccessToken)) == 0


def test_deactivation_needs_the_permission(app_factory):
    app = app_factory(**{"accounts.deactivation_usernames": "support_bot"})
    db = app.registry["lms.dbsession_factory"]()
    make_user(db, "alice")
    staff = create_user(db, "staff", is_staff=True)
    bot = create_user(db, "support_bot")
    for caller in (staff, bot):  # the bot's name alone grants nothing: it must be staff
        response = app.post("/api/user/v1/accounts/alice/deactivate/",
                            headers=jwt_headers(app, caller), status=403)
        assert response.json == DENIED
    bot.is_staff = True
    db.commit()
    db.expire_all()
    assert is_usable(db.scalar(select(User.password).where(User.username == "alice")))
    app.post("/api/user/v1/accounts/alice/deactivate/", headers=jwt_headers(app, bot))
    assert app.post("/api/user/v1/accounts/alice/deactivate/", status=401).json == JWT_401
    assert app.post("/api/user/v1/accounts/ghost/deactivate/", headers=jwt_headers(app, bot),
                    status=404).body == b""
    db.close()


# -- name change ----------------------------------------------------------------------------------

def test_name_change_request_and_confirmation(app, db):
    alice = make_user(db, "alice")
    staff = create_user(db, "staff", is_staff=True)
    response = app.post_json("/api/user/v1/accounts/name_change/", {"name": "Alice Liddell"},
                             headers=jwt_headers(app, alice), status=201)
    assert response.body == b""
    account = app.get("/api/user/v1/accounts/alice", headers=jwt_headers(app, alice)).json
    assert account["pending_name_change"] == "Alice Liddell" and account["name"] == "Alice"
    response = app.post("/api/user/v1/accounts/name_change/alice/confirm/",
                        headers=jwt_headers(app, alice), status=403)
    assert response.body == b""
    response = app.post("/api/user/v1/accounts/name_change/alice/confirm/",
                        headers=jwt_headers(app, staff), status=204)
    assert response.body == b""
    db.expire_all()
    assert db.get(User, alice.id).name == "Alice Liddell"
    assert db.scalar(select(func.count()).select_from(PendingNameChange)) == 0
    assert api.get_profile(db, alice.id).meta["old_names"][0][0] == "Alice"
    assert app.post("/api/user/v1/accounts/name_change/alice/confirm/",
                    headers=jwt_headers(app, staff), status=404).body == b""
    assert app.post("/api/user/v1/accounts/name_change/ghost/confirm/",
                    headers=jwt_headers(app, staff), status=404).body == b""


@pytest.mark.parametrize("body, errors", [
    ({}, {"new_name": ["This field may not be null."]}),
    ({"name": None}, {"new_name": ["This field may not be null."]}),
    ({"name": "  "}, {"new_name": ["This field may not be blank."]}),
    ({"name": "<b>x</b>"}, {"new_name": ["Name cannot contain the following characters: < >"]}),
    ({"name": "see http://x.y"}, {"new_name": ["Name cannot contain a URL"]}),
    ({"name": ["x"]}, {"new_name": ["Not a valid string."]}),
    ({"name": "Alice"}, {"new_name": "The profile name given was identical to the current "
                                     "name."}),
])
def test_name_change_bad_input(app, db, body, errors):
    alice = make_user(db, "alice")
    response = app.post_json("/api/user/v1/accounts/name_change/", body,
                             headers=jwt_headers(app, alice), status=400)
    assert response.json == errors
    assert db.scalar(select(func.count()).select_from(PendingNameChange)) == 0


def test_name_change_requires_authentication(app):
    assert app.post_json("/api/user/v1/accounts/name_change/", {"name": "x"},
                         status=401).json == JWT_401


# -- replace_usernames ----------------------------------------------------------------------------

renamed = []
hook_plugin = types.ModuleType("tests_accounts_rename_plugin")
hook_plugin.name = "renamewatch"
hook_plugin.version = "0"
hook_plugin.requires = ()


@hookimpl
def _username_replaced(dbsession, user_id, old_username, new_username):
    renamed.append((user_id, old_username, new_username))


_username_replaced.__name__ = "lms_username_replaced"
hook_plugin.lms_username_replaced = _username_replaced


def test_replace_usernames(app_factory, add_plugins):
    add_plugins(hook_plugin)
    renamed.clear()
    app = app_factory(**{"accounts.username_replacement_worker": "worker"})
    db = app.registry["lms.dbsession_factory"]()
    alice = make_user(db, "alice")
    make_user(db, "taken")
    worker = create_user(db, "worker", is_staff=True)  # a service account is staff
    response = app.post_json("/api/user/v1/accounts/replace_usernames/", {
        "username_mappings": [{"alice": "taken"}, {"ghost": "fresh"}]},
        headers=jwt_headers(app, worker))
    new_name = response.json["successful_replacements"][0]["alice"]
    assert new_name.startswith("taken-") and len(new_name) == len("taken-") + 4
    assert response.json == {
        "successful_replacements": [{"alice": new_name}, {"ghost": "fresh"}],
        "failed_replacements": []}
    db.expire_all()
    assert db.get(User, alice.id).username == new_name
    assert renamed == [(alice.id, "alice", new_name)]
    db.close()


def test_replace_usernames_permission_and_schema(app_factory):
    app = app_factory(**{"accounts.username_replacement_worker": "worker"})
    db = app.registry["lms.dbsession_factory"]()
    staff = create_user(db, "staff", is_staff=True, is_superuser=True)
    worker = create_user(db, "worker")
    body = {"username_mappings": [{"staff": "boss"}]}
    # The worker's name alone grants nothing: it must be active global staff.
    for caller in (staff, worker):
        assert app.post_json("/api/user/v1/accounts/replace_usernames/", body,
                             headers=jwt_headers(app, caller), status=403).json == DENIED
    worker.is_staff = True
    db.commit()
    assert app.post_json("/api/user/v1/accounts/replace_usernames/", body,
                         status=401).json == JWT_401
    for bad in ({}, {"username_mappings": {"a": "b"}},
                {"username_mappings": [{"a": "b", "c": "d"}]}, {"username_mappings": ["a"]}):
        response = app.post_json("/api/user/v1/accounts/replace_usernames/", bad,
                                 headers=jwt_headers(app, worker), status=400)
        assert response.json == ["Request data does not match schema"]
    db.expire_all()
    assert db.get(User, staff.id).username == "staff"
    db.close()
