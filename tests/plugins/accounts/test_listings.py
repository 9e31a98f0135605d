"""Legacy API-key listings: ``users/``, ``users/{id}/``, ``user_prefs/``, ``user_prefs/{id}/``
and ``preferences/{pref_key}/users/``."""
import pytest

from lms.testing import create_user, jwt_headers
from plugins.accounts import api
from plugins.accounts.models import UserPreference
from tests.plugins.accounts.test_preferences_support import (
    API_KEY,
    NOT_AUTHENTICATED,
    PERMISSION_DENIED,
    api_key_headers,
    session_headers,
)

USERS = "/api/user/v1/users/"
USER_PREFS = "/api/user/v1/user_prefs/"
PREF_USERS = "/api/user/v1/preferences/{}/users/"
BASE = "http://localhost"
# Bodies link to the legacy mount, whichever mount answers (upstream reverses the
# router's names to legacy_urls, included last; test_legacy_user_api.py).
LEGACY_USERS = "/user_api/v1/users/"
LEGACY_USER_PREFS = "/user_api/v1/user_prefs/"
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


@pytest.fixture
def settings(settings):
    settings["lms.edx_api_key"] = API_KEY
    return settings


@pytest.fixture
def alice(db):
    user = create_user(db, "alice", name="Alice A")
    api.set_preference(db, user.id, "pref-lang", "en")
    api.set_preference(db, user.id, "time_zone", "UTC")
    db.commit()
    return user


@pytest.fixture
def bob(db):
    return create_user(db, "bob", name="Bob B")


def user_body(user, preferences):
    return {"id": user.id, "url": f"{BASE}{LEGACY_USERS}{user.id}/", "email": user.email,
            "name": user.name, "username": user.username, "preferences": preferences}


def preference_id(db, user, key):
    return db.query(UserPreference.id).filter_by(user_id=user.id, key=key).scalar()


def page(results, count, num_pages=1, current=1, start=0, next_url=None, previous=None):
    return {"next": next_url, "previous": previous, "count": count, "num_pages": num_pages,
            "current_page": current, "start": start, "results": results}


# -- who may call -------------------------------------------------------------------------

@pytest.mark.parametrize("url", [USERS, USER_PREFS, PREF_USERS.format("time_zone")])
def test_anonymous_without_the_key_is_401(app, alice, url):
    response = app.get(url, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert app.get(url, headers={"X-Edx-Api-Key": "wrong"}, status=401).json == \
        NOT_AUTHENTICATED


@pytest.mark.parametrize("url", [USERS, USER_PREFS, PREF_USERS.format("time_zone")])
def test_users_without_the_key_are_403_even_staff(app, db, alice, url):
    staff = create_user(db, "staffer", is_staff=True, is_superuser=True)
    assert app.get(url, headers=jwt_headers(app, staff), status=403).json == PERMISSION_DENIED
    assert app.get(url, headers=session_headers(app, db, alice), status=403).json == \
        PERMISSION_DENIED


def test_the_key_works_with_or_without_a_user(app, alice):
    assert app.get(USERS, headers=api_key_headers()).json["count"] == 1
    headers = dict(jwt_headers(app, alice), **api_key_headers())
    assert app.get(USERS, headers=headers).json["count"] == 1


def test_no_configured_key_refuses_everyone(app_factory, db):
    app = app_factory(**{"lms.edx_api_key": ""})
    user = create_user(db, "carol")
    assert app.get(USERS, headers=api_key_headers(), status=401).json == NOT_AUTHENTICATED
    headers = dict(jwt_headers(app, user), **{"X-Edx-Api-Key": ""})
    assert app.get(USERS, headers=headers, status=403).json == PERMISSION_DENIED


# -- users/ ------------------------------------------------------------------------------------

def test_users_list(app, alice, bob):
    body = app.get(USERS, headers=api_key_headers()).json
    assert body == page([user_body(alice, {"pref-lang": "en", "time_zone": "UTC"}),
                         user_body(bob, {})], count=2)


def test_users_pages(app, alice, bob):
    body = app.get(USERS, {"page_size": 1}, headers=api_key_headers()).json
    assert body == page([user_body(alice, {"pref-lang": "en", "time_zone": "UTC"})], count=2,
                        num_pages=2, next_url=f"{BASE}{USERS}?page_size=1&page=2")
    body = app.get(USERS, {"page_size": 1, "page": 2}, headers=api_key_headers()).json
    assert body == page([user_body(bob, {})], count=2, num_pages=2, current=2, start=1,
                        previous=f"{BASE}{USERS}?page_size=1&page=1")
    response = app.get(USERS, {"page": 3}, headers=api_key_headers(), status=404)
    assert response.json == {"detail": "Invalid page."}


def test_users_list_queries_do_not_grow(app, db, query_counter):
    first = create_user(db, "user00")
    api.set_preference(db, first.id, "k", "v")
    db.commit()
    with query_counter() as one:
        assert app.get(USERS, headers=api_key_headers()).json["count"] == 1
    for number in range(1, 15):
        user = create_user(db, f"user{number:02}")
        api.set_preference(db, user.id, "k", "v")
    db.commit()
    with query_counter() as many:
        assert len(app.get(USERS, {"page_size": 15}, headers=api_key_headers())
                   .json["results"]) == 15
    assert len(one) == len(many)


def test_user_detail(app, alice):
    body = app.get(f"{USERS}{alice.id}/", headers=api_key_headers()).json
    assert body == user_body(alice, {"pref-lang": "en", "time_zone": "UTC"})


@pytest.mark.parametrize("raw, message", [
    ("999999", "No User matches the given query."),
    ("99999999999999999999", "No User matches the given query."),
    ("abc", "Not found."),
])
def test_user_detail_not_found(app, alice, raw, message):
    response = app.get(f"{USERS}{raw}/", headers=api_key_headers(), status=404)
    assert response.json == {"detail": message}


# -- user_prefs/ ---------------------------------------------------------------------------------

def preference_body(db, user, key, value, preferences):
    pref_id = preference_id(db, user, key)
    return {"user": user_body(user, preferences), "key": key, "value": value,
            "url": f"{BASE}{LEGACY_USER_PREFS}{pref_id}/"}


def test_user_prefs_list_and_filters(app, db, alice, bob):
    api.set_preference(db, bob.id, "time_zone", "Asia/Tokyo")
    db.commit()
    alice_prefs = {"pref-lang": "en", "time_zone": "UTC"}
    bob_prefs = {"time_zone": "Asia/Tokyo"}
    everything = [preference_body(db, alice, "pref-lang", "en", alice_prefs),
                  preference_body(db, alice, "time_zone", "UTC", alice_prefs),
                  preference_body(db, bob, "time_zone", "Asia/Tokyo", bob_prefs)]
    assert app.get(USER_PREFS, headers=api_key_headers()).json == page(everything, count=3)
    assert app.get(USER_PREFS, {"key": "time_zone"}, headers=api_key_headers()).json == \
        page(everything[1:], count=2)
    assert app.get(USER_PREFS, {"user": bob.id}, headers=api_key_headers()).json == \
        page(everything[2:], count=1)
    assert app.get(USER_PREFS, {"user": alice.id, "key": "time_zone"},
                   headers=api_key_headers()).json == page(everything[1:2], count=1)
    # Empty filters filter nothing.
    assert app.get(USER_PREFS, {"user": "", "key": ""},
                   headers=api_key_headers()).json["count"] == 3


@pytest.mark.parametrize("value", ["abc", "999999", "-1", "99999999999999999999"])
def test_user_prefs_user_filter_must_name_a_user(app, db, alice, value):
    response = app.get(USER_PREFS, {"user": value}, headers=api_key_headers(), status=400)
    assert response.json == {"user": [INVALID_CHOICE]}


def test_user_prefs_queries_do_not_grow(app, db, alice, query_counter):
    with query_counter() as one:
        app.get(USER_PREFS, {"key": "pref-lang"}, headers=api_key_headers())
    for number in range(14):
        user = create_user(db, f"user{number:02}")
        api.set_preference(db, user.id, "pref-lang", "en")
    db.commit()
    with query_counter() as many:
        assert len(app.get(USER_PREFS, {"key": "pref-lang", "page_size": 20},
                           headers=api_key_headers()).json["results"]) == 15
    assert len(one) == len(many)


def test_user_pref_detail(app, db, alice):
    pref_id = preference_id(db, alice, "time_zone")
    body = app.get(f"{USER_PREFS}{pref_id}/", headers=api_key_headers()).json
    assert body == preference_body(db, alice, "time_zone", "UTC",
                                   {"pref-lang": "en", "time_zone": "UTC"})
    # The list's filters apply to the detail route too.
    response = app.get(f"{USER_PREFS}{pref_id}/", {"key": "pref-lang"},
                       headers=api_key_headers(), status=404)
    assert response.json == {"detail": "No UserPreference matches the given query."}
    response = app.get(f"{USER_PREFS}{pref_id}/", {"user": "x"}, headers=api_key_headers(),
                       status=400)
    assert list(response.json) == ["user"]
    assert app.get(f"{USER_PREFS}x/", headers=api_key_headers(), status=404).json == \
        {"detail": "Not found."}


# -- preferences/{pref_key}/users/ ------------------------------------------------------------------

def test_users_having_a_preference(app, db, alice, bob):
    api.set_preference(db, bob.id, "time_zone", "Asia/Tokyo")
    db.commit()
    body = app.get(PREF_USERS.format("time_zone"), headers=api_key_headers()).json
    assert body == page([user_body(alice, {"pref-lang": "en", "time_zone": "UTC"}),
                         user_body(bob, {"time_zone": "Asia/Tokyo"})], count=2)
    body = app.get(PREF_USERS.format("pref-lang"), headers=api_key_headers()).json
    assert [user["username"] for user in body["results"]] == ["alice"]
    assert app.get(PREF_USERS.format("nothing"), headers=api_key_headers()).json == \
        page([], count=0)


def test_users_having_a_preference_queries_do_not_grow(app, db, alice, query_counter):
    url = PREF_USERS.format("pref-lang")
    with query_counter() as one:
        app.get(url, headers=api_key_headers())
    for number in range(14):
        user = create_user(db, f"user{number:02}")
        api.set_preference(db, user.id, "pref-lang", "en")
    db.commit()
    with query_counter() as many:
        assert app.get(url, {"page_size": 15}, headers=api_key_headers()).json["count"] == 15
    assert len(one) == len(many)


def test_filters_holding_nul_match_nothing(app, alice):
    body = app.get(USER_PREFS, {"key": "a\x00b"}, headers=api_key_headers()).json
    assert body == page([], count=0)
