"""``/api/user/v1/preferences/{username}`` and ``.../{username}/{preference_key}``."""
import pytest
from sqlalchemy import select

from lms.testing import create_user, jwt_headers
from plugins.accounts import api
from plugins.accounts.models import UserPreference
from tests.plugins.accounts.test_preferences_support import (
    NOT_AUTHENTICATED,
    PERMISSION_DENIED,
    bearer_headers,
    merge_patch,
    session_headers,
)

URL = "/api/user/v1/preferences/{}"
DETAIL = "/api/user/v1/preferences/{}/{}"
NO_DATA = {"developer_message": "No data provided for user preference update",
           "user_message": "No data provided for user preference update"}


@pytest.fixture
def alice(db):
    return create_user(db, "alice")


@pytest.fixture
def bob(db):
    return create_user(db, "bob")


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", is_staff=True)


def stored(db, user):
    db.expire_all()
    return dict(db.execute(select(UserPreference.key, UserPreference.value)
                           .where(UserPreference.user_id == user.id)).all())


def preset(db, user, **values):
    for key, value in values.items():
        api.set_preference(db, user.id, key.replace("__", "-"), value)
    db.commit()


# -- GET preferences/{username} ------------------------------------------------------

def test_get_own_preferences_with_each_credential(app, db, alice):
    assert app.get(URL.format("alice"), headers=jwt_headers(app, alice)).json == {}
    preset(db, alice, pref__lang="en", time_zone="Europe/Paris")
    expected = {"pref-lang": "en", "time_zone": "Europe/Paris"}
    assert app.get(URL.format("alice"), headers=jwt_headers(app, alice)).json == expected
    assert app.get(URL.format("alice"), headers=bearer_headers(db, alice)).json == expected
    assert app.get(URL.format("alice"), headers=session_headers(app, db, alice)).json == expected


def test_get_preferences_anonymous_is_401(app, alice):
    response = app.get(URL.format("alice"), status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_get_preferences_of_another_user_is_403(app, alice, bob):
    response = app.get(URL.format("alice"), headers=jwt_headers(app, bob), status=403)
    assert response.json == PERMISSION_DENIED


def test_staff_reads_anyone_and_unknown_user_is_empty_404(app, db, alice, staff):
    preset(db, alice, account_privacy="private")
    headers = jwt_headers(app, staff)
    assert app.get(URL.format("alice"), headers=headers).json == {"account_privacy": "private"}
    response = app.get(URL.format("nobody"), headers=headers, status=404)
    assert response.body == b""


def test_username_in_another_case_passes_permission_but_not_ownership(app, alice):
    # IsUserInUrl ignores case; the preferences API compares usernames exactly.
    response = app.get(URL.format("ALICE"), headers=jwt_headers(app, alice), status=403)
    assert response.body == b""


# -- PATCH preferences/{username} -------------------------------------------------------

def test_patch_sets_stringifies_and_deletes(app, db, alice):
    preset(db, alice, old="x", keep="y")
    response = merge_patch(app, URL.format("alice"), {
        "pref-lang": "en", "time_zone": "Europe/Paris", "count": 5, "flag": True,
        "spaced": "  padded  ", "old": None, "never_set": None,
    }, jwt_headers(app, alice))
    assert response.body == b"" and "Content-Type" not in response.headers
    assert stored(db, alice) == {"pref-lang": "en", "time_zone": "Europe/Paris", "count": "5",
                                 "flag": "True", "spaced": "padded", "keep": "y"}


def test_patch_objects_are_stored_as_python_text(app, db, alice):
    merge_patch(app, URL.format("alice"), {"obj": {"a": [1, None]}}, jwt_headers(app, alice))
    assert stored(db, alice) == {"obj": "{'a': [1, None]}"}


def test_patch_by_session_needs_csrf(app, db, alice):
    headers = session_headers(app, db, alice)
    merge_patch(app, URL.format("alice"), {"a": "1"}, headers)
    del headers["X-CSRFToken"]
    response = merge_patch(app, URL.format("alice"), {"a": "2"}, headers, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    assert stored(db, alice) == {"a": "1"}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=utf-8"])
def test_patch_needs_merge_patch_content_type(app, db, alice, content_type):
    response = merge_patch(app, URL.format("alice"), {"a": "1"}, jwt_headers(app, alice),
                           status=415, content_type=content_type)
    assert response.json == {"detail": f'Unsupported media type "{content_type}" in request.'}
    assert stored(db, alice) == {}


@pytest.mark.parametrize("body", [b"", b"{}", b"[]", b"[1]", b'"text"', b"0", b"null"])
def test_patch_without_an_object_is_no_data(app, alice, body):
    response = merge_patch(app, URL.format("alice"), body, jwt_headers(app, alice), status=400)
    assert response.json == NO_DATA


def test_patch_malformed_json_is_a_parse_error(app, alice):
    response = merge_patch(app, URL.format("alice"), b"{nope", jwt_headers(app, alice),
                           status=400)
    assert response.json == {"detail": "JSON parse error - Expecting property name enclosed "
                                       "in double quotes: line 1 column 2 (char 1)"}


def test_patch_anonymous_and_other_users(app, db, alice, bob, staff):
    response = merge_patch(app, URL.format("alice"), {"a": "1"}, {}, status=401)
    assert response.json == NOT_AUTHENTICATED
    response = merge_patch(app, URL.format("alice"), {"a": "1"}, jwt_headers(app, bob),
                           status=403)
    assert response.json == PERMISSION_DENIED
    # Staff may read but never write someone else's preferences: an empty 403.
    response = merge_patch(app, URL.format("alice"), {"a": "1"}, jwt_headers(app, staff),
                           status=403)
    assert response.body == b""
    assert stored(db, alice) == {}


def test_patch_validation_reports_every_key_and_writes_nothing(app, db, alice):
    long_key = "k" * 256
    response = merge_patch(app, URL.format("alice"), {
        "fine": "yes",
        "time_zone": "Mars/Olympus",
        "empty": "",
        "blank": "   ",
        "!!": "value",
        long_key: "value",
        "nul": "a\x00b",
        "pref-lang": "xx",
    }, jwt_headers(app, alice), status=400)
    assert response.json == {"field_errors": {
        "time_zone": {
            "developer_message": "Value 'Mars/Olympus' not valid for preference 'time_zone': "
                                 "Not in timezone set.",
            "user_message": "Value 'Mars/Olympus' is not a valid time zone selection."},
        "empty": {"developer_message": "Preference 'empty' cannot be set to an empty value.",
                  "user_message": "Preference 'empty' cannot be set to an empty value."},
        "blank": {"developer_message": "Preference 'blank' cannot be set to an empty value.",
                  "user_message": "Preference 'blank' cannot be set to an empty value."},
        "!!": {"developer_message": "Value 'value' not valid for preference '!!': "
                                    "{'key': ['Enter a valid value.']}",
               "user_message": "Invalid user preference key '!!'."},
        long_key: {"developer_message": f"Value 'value' not valid for preference '{long_key}': "
                                        "{'key': ['Ensure this field has no more than 255 "
                                        "characters.']}",
                   "user_message": f"Invalid user preference key '{long_key}'."},
        "nul": {"developer_message": "Value 'a\x00b' not valid for preference 'nul': "
                                     "{'value': ['Null characters are not allowed.']}",
                "user_message": "Value 'a\x00b' is not valid for user preference 'nul'."},
        "pref-lang": {"developer_message": "Value 'xx' not valid for preference 'pref-lang': "
                                           "Not a released language.",
                      "user_message": "Value 'xx' is not a valid language selection."},
    }}
    assert stored(db, alice) == {}


def test_patch_key_regex_is_unanchored_as_upstream(app, db, alice):
    # Upstream's RegexValidator searches: one valid character is enough.
    merge_patch(app, URL.format("alice"), {"a b": "1"}, jwt_headers(app, alice))
    assert stored(db, alice) == {"a b": "1"}


def test_patch_surrogates_are_refused(app, db, alice):
    body = b'{"k": "\\ud800"}'
    response = merge_patch(app, URL.format("alice"), body, jwt_headers(app, alice), status=400)
    assert response.json["field_errors"]["k"]["developer_message"].endswith(
        "{'value': ['Surrogate characters are not allowed: U+D800.']}")
    assert stored(db, alice) == {}


def test_patch_deleting_an_impossible_key_is_harmless(app, db, alice):
    merge_patch(app, URL.format("alice"), {"a\x00": None, "\ud800": None},
                jwt_headers(app, alice))


def test_pref_lang_follows_the_released_languages(app_factory, db):
    app = app_factory(**{"accounts.released_languages": "en, fr pt-br"})
    carol = create_user(db, "carol")
    merge_patch(app, URL.format("carol"), {"pref-lang": "PT-BR"}, jwt_headers(app, carol))
    merge_patch(app, URL.format("carol"), {"pref-lang": "fr"}, jwt_headers(app, carol))
    assert stored(db, carol) == {"pref-lang": "fr"}
    response = merge_patch(app, URL.format("carol"), {"pref-lang": "de"},
                           jwt_headers(app, carol), status=400)
    assert response.json["field_errors"]["pref-lang"]["user_message"] == \
        "Value 'de' is not a valid language selection."


def test_get_preferences_query_count_does_not_grow(app, db, alice, query_counter):
    headers = jwt_headers(app, alice)
    app.get(URL.format("alice"), headers=headers)
    with query_counter() as one:
        app.get(URL.format("alice"), headers=headers)
    preset(db, alice, **{f"k{n}": "v" for n in range(15)})
    with query_counter() as many:
        assert len(app.get(URL.format("alice"), headers=headers).json) == 15
    assert len(one) == len(many)


# -- preferences/{username}/{preference_key} -------------------------------------------------

def test_detail_get_returns_the_bare_string(app, db, alice):
    preset(db, alice, time_zone="Europe/Paris")
    response = app.get(DETAIL.format("alice", "time_zone"), headers=bearer_headers(db, alice))
    assert response.body == b'"Europe/Paris"'
    response = app.get(DETAIL.format("alice", "time_zone"),
                       headers=session_headers(app, db, alice))
    assert response.json == "Europe/Paris"


def test_detail_ignores_jwt(app, db, alice):
    response = app.get(DETAIL.format("alice", "time_zone"), headers=jwt_headers(app, alice),
                       status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_detail_get_unset_unknown_and_others(app, db, alice, bob, staff):
    preset(db, alice, time_zone="UTC")
    assert app.get(DETAIL.format("alice", "nope"), headers=bearer_headers(db, alice),
                   status=404).body == b""
    assert app.get(DETAIL.format("alice", "time_zone"), headers=bearer_headers(db, bob),
                   status=403).json == PERMISSION_DENIED
    staff_headers = bearer_headers(db, staff)
    assert app.get(DETAIL.format("alice", "time_zone"), headers=staff_headers).json == "UTC"
    assert app.get(DETAIL.format("ghost", "time_zone"), headers=staff_headers,
                   status=404).body == b""


def test_detail_route_keys_have_no_dash(app, db, alice):
    preset(db, alice, pref__lang="en")
    response = app.get(DETAIL.format("alice", "pref-lang"), headers=bearer_headers(db, alice),
                       status=404)
    assert response.json == {"detail": "Not found."}


def test_detail_put_json_values(app, db, alice):
    headers = bearer_headers(db, alice)
    response = app.put_json(DETAIL.format("alice", "time_zone"), "America/New_York",
                            headers=headers, status=204)
    assert response.body == b""
    app.put_json(DETAIL.format("alice", "count"), 7, headers=headers, status=204)
    app.put_json(DETAIL.format("alice", "obj"), {"a": True}, headers=headers, status=204)
    assert stored(db, alice) == {"time_zone": "America/New_York", "count": "7",
                                 "obj": "{'a': True}"}


def test_detail_put_form_is_stored_as_upstream_does(app, db, alice):
    app.put(DETAIL.format("alice", "form"), {"value": "x"}, headers=bearer_headers(db, alice),
            status=204)
    assert stored(db, alice) == {"form": "<QueryDict: {'value': ['x']}>"}


@pytest.mark.parametrize("body, key, expected", [
    (None, "k", {"developer_message": "Preference 'k' cannot be set to an empty value.",
                 "user_message": "Preference 'k' cannot be set to an empty value."}),
    ("  ", "k", {"developer_message": "Preference 'k' cannot be set to an empty value.",
                 "user_message": "Preference 'k' cannot be set to an empty value."}),
    ("Nowhere/City", "time_zone", {
        "developer_message": "Value 'Nowhere/City' not valid for preference 'time_zone': "
                             "Not in timezone set.",
        "user_message": "Value 'Nowhere/City' is not a valid time zone selection."}),
    ("v", "k" * 256, {
        "developer_message": f"Value 'v' not valid for preference '{'k' * 256}': "
                             "{'key': ['Ensure this field has no more than 255 characters.']}",
        "user_message": f"Invalid user preference key '{'k' * 256}'."}),
])
def test_detail_put_validation_is_flat(app, db, alice, body, key, expected):
    response = app.put_json(DETAIL.format("alice", key), body, headers=bearer_headers(db, alice),
                            status=400)
    assert response.json == expected
    assert stored(db, alice) == {}


def test_detail_put_bad_bodies(app, db, alice):
    headers = bearer_headers(db, alice)
    url = DETAIL.format("alice", "k")
    response = app.put(url, b"", headers=headers, status=400)
    assert response.json == {"developer_message": "Preference 'k' cannot be set to an empty value.",
                             "user_message": "Preference 'k' cannot be set to an empty value."}
    response = app.put(url, b"x", headers=dict(headers, **{"Content-Type": "text/plain"}),
                       status=415)
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}
    response = app.put(url, b"[1,", headers=dict(headers, **{"Content-Type": "application/json"}),
                       status=400)
    assert response.json["detail"].startswith("JSON parse error - ")
    assert stored(db, alice) == {}


def test_detail_put_and_delete_are_owner_only(app, db, alice, bob, staff):
    preset(db, alice, k="v")
    url = DETAIL.format("alice", "k")
    assert app.put_json(url, "x", headers=bearer_headers(db, bob), status=403).json == \
        PERMISSION_DENIED
    assert app.put_json(url, "x", headers=bearer_headers(db, staff), status=403).body == b""
    assert app.delete(url, headers=bearer_headers(db, staff), status=403).body == b""
    assert app.delete(url, headers=bearer_headers(db, bob), status=403).json == PERMISSION_DENIED
    assert app.put_json(url, "x", status=401).json == NOT_AUTHENTICATED
    assert app.delete(url, status=401).json == NOT_AUTHENTICATED
    assert stored(db, alice) == {"k": "v"}


def test_detail_delete(app, db, alice):
    preset(db, alice, k="v", other="w")
    headers = session_headers(app, db, alice)
    response = app.delete(DETAIL.format("alice", "k"), headers=headers, status=204)
    assert response.body == b""
    assert app.delete(DETAIL.format("alice", "k"), headers=headers, status=404).body == b""
    assert stored(db, alice) == {"other": "w"}


def test_detail_delete_by_session_needs_csrf(app, db, alice):
    preset(db, alice, k="v")
    headers = session_headers(app, db, alice)
    del headers["X-CSRFToken"]
    app.delete(DETAIL.format("alice", "k"), headers=headers, status=403)
    assert stored(db, alice) == {"k": "v"}


def test_a_preference_named_users_stays_reachable(app, db, alice):
    # preferences/{pref_key}/users/ (with its slash) is the legacy listing.
    headers = bearer_headers(db, alice)
    app.put_json(DETAIL.format("alice", "users"), "some", headers=headers, status=204)
    assert app.get(DETAIL.format("alice", "users"), headers=headers).json == "some"
    app.delete(DETAIL.format("alice", "users"), headers=headers, status=204)
