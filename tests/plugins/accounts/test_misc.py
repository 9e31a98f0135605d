"""mfe_config, toggles, user_tours, discussion tours, demographics and skill_level."""
import json
import types

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from lms.hookspecs import hookimpl
from lms.models import User
from lms.testing import create_user, jwt_headers
from lms.users import create_user as create_user_with_hooks
from plugins.accounts.models import Demographics, DiscussionTour, UserTour
from tests.plugins.accounts.test_preferences_support import (
    NOT_AUTHENTICATED,
    PERMISSION_DENIED,
    bearer_headers,
    session_headers,
)

MFE_CONFIG = "/api/mfe_config/v1"
TOGGLES = "/api/toggles/v0/state/"
USER_TOURS = "/api/user_tours/v1/{}"
DISCUSSION_TOURS = "/api/user_tours/discussion_tours/"
DEMOGRAPHICS = "/api/demographics/v1/demographics/status/"
SKILL_LEVEL = "/api/user/v1/skill_level/{}/"
LEGACY = {
    "ENABLE_COURSE_SORTING_BY_START_DATE": True,
    "HOMEPAGE_PROMO_VIDEO_YOUTUBE_ID": None,
    "HOMEPAGE_COURSE_MAX": None,
    "COURSE_ABOUT_TWITTER_ACCOUNT": "@YourPlatformTwitterAccount",
    "NON_BROWSABLE_COURSES": False,
    "ENABLE_COURSE_DISCOVERY": False,
}


@pytest.fixture
def alice(db):
    return create_user(db, "alice")


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", is_staff=True)


# -- mfe_config ---------------------------------------------------------------------------------

def test_mfe_config_defaults(app):
    response = app.get(MFE_CONFIG)
    assert response.json == LEGACY
    assert list(response.json) == list(LEGACY)
    assert response.headers["Cache-Control"] == "max-age=300"
    assert "Expires" in response.headers
    assert app.get(MFE_CONFIG + "/").json == LEGACY


def test_mfe_config_common_and_overrides(app_factory):
    app = app_factory(**{
        "accounts.mfe_config": json.dumps({"LMS_BASE_URL": "http://lms", "SITE_NAME": "A",
                                           "PARAGON_THEME_URLS": {"core": {"url": "x.css"}}}),
        "accounts.mfe_config.SITE_NAME": "openlms",
        "accounts.mfe_config.ENABLE_ACCOUNT_DELETION": "true",
        "accounts.mfe_config.HOMEPAGE_COURSE_MAX": "8",
        "accounts.mfe_config_overrides": json.dumps({"learning": {"SITE_NAME": "Learning"}}),
        "accounts.mfe_config_overrides.learning.LOGO_URL": "http://lms/logo.png",
        "accounts.mfe_config_overrides.learner-dashboard.SUPPORT_URL": '"https://help"',
        "accounts.mfe_config_api_cache_timeout": "1",
    })
    common = dict(LEGACY, LMS_BASE_URL="http://lms", SITE_NAME="openlms",
                  PARAGON_THEME_URLS={"core": {"url": "x.css"}}, ENABLE_ACCOUNT_DELETION=True,
                  HOMEPAGE_COURSE_MAX=8)
    response = app.get(MFE_CONFIG)
    assert response.json == common
    assert response.headers["Cache-Control"] == "max-age=1"
    assert app.get(MFE_CONFIG, {"mfe": "learning"}).json == dict(
        common, SITE_NAME="Learning", LOGO_URL="http://lms/logo.png")
    assert app.get(MFE_CONFIG, {"mfe": "learner-dashboard"}).json == dict(
        common, SUPPORT_URL="https://help")
    assert app.get(MFE_CONFIG, {"mfe": "unknown"}).json == common
    assert app.get(MFE_CONFIG, {"mfe": ""}).json == common


def test_mfe_config_ignores_credentials_but_rejects_bad_ones(app, alice):
    assert app.get(MFE_CONFIG, headers=jwt_headers(app, alice)).json == LEGACY
    assert app.get(MFE_CONFIG, headers={"Authorization": "JWT bad"}, status=401).json == \
        {"detail": "Error decoding token."}


def test_mfe_config_disabled_is_an_empty_404(app_factory):
    app = app_factory(**{"accounts.enable_mfe_config_api": "false"})
    response = app.get(MFE_CONFIG, status=404)
    assert response.body == b"" and response.content_type == "text/html"
    assert "Cache-Control" not in response.headers


@pytest.mark.parametrize("key, value, message", [
    ("accounts.mfe_config", "{bad", "accounts.mfe_config is not JSON"),
    ("accounts.mfe_config", "[1]", "accounts.mfe_config must be a JSON object"),
    ("accounts.mfe_config_overrides", '{"learning": 1}', "must be a JSON object"),
    ("accounts.mfe_config_overrides.NOKEY", "x", "expected accounts.mfe_config_overrides"),
])
def test_bad_mfe_config_stops_the_start_up(app_factory, key, value, message):
    with pytest.raises(ConfigurationError, match=message):
        app_factory(**{key: value})


def test_mfe_config_is_get_only(app):
    app.post_json(MFE_CONFIG, {}, status=405)


# -- toggles ------------------------------------------------------------------------------------------

toggle_plugin = types.ModuleType("toggleplugin")
toggle_plugin.name = "toggleplugin"
toggle_plugin.version = "1"


@hookimpl
def _toggles(settings):
    return [
        {"name": "zeta.flag", "type": "waffle_flag", "is_active": True, "note": "Z"},
        {"name": "alpha.flag", "type": "waffle_flag", "is_active": False, "note": ""},
        {"name": "beta.switch", "type": "waffle_switch", "is_active": True, "note": "B"},
        {"name": "SETTING_X", "type": "setting_toggle", "is_active": False, "note": "X"},
    ]


toggle_plugin.lms_feature_toggles = _toggles


@pytest.fixture
def toggles_app(add_plugins, app_factory):
    add_plugins(toggle_plugin)
    return app_factory(**{"lms.plugins": "accounts toggleplugin",
                          "accounts.user_tours_disabled": "true"})


def test_toggle_state_for_staff(toggles_app, staff):
    body = toggles_app.get(TOGGLES, headers=jwt_headers(toggles_app, staff)).json
    assert body == {
        "waffle_flags": [
            {"name": "alpha.flag", "class": "WaffleFlag", "module": "toggleplugin",
             "everyone": "no", "computed_status": "off"},
            {"name": "user_tours.tours_disabled", "class": "WaffleFlag",
             "module": "plugins.accounts", "everyone": "yes",
             "note": "Disables the product tours (accounts.user_tours_disabled).",
             "computed_status": "on"},
            {"name": "zeta.flag", "class": "WaffleFlag", "module": "toggleplugin",
             "everyone": "yes", "note": "Z", "computed_status": "on"},
        ],
        "waffle_switches": [
            {"name": "beta.switch", "class": "WaffleSwitch", "module": "toggleplugin",
             "is_active": "true", "note": "B", "computed_status": "on"},
        ],
        "django_settings": [
            {"name": "ALLOW_UNPRIVILEGED_SSO_PROVIDER_QUERY", "is_active": False,
             "class": "SettingToggle", "module": "plugins.accounts"},
            {"name": "ENABLE_MFE_CONFIG_API", "is_active": True, "class": "SettingToggle",
             "module": "plugins.accounts"},
            {"name": "SETTING_X", "is_active": False, "class": "SettingToggle",
             "module": "toggleplugin"},
        ],
    }


def test_toggle_state_includes_every_enabled_plugin(app, staff):
    body = app.get(TOGGLES, headers=jwt_headers(app, staff)).json
    names = {entry["name"] for entries in body.values() for entry in entries}
    assert {"experiments.mobile_upsell_rev934", "user_tours.tours_disabled"} <= names


def test_the_core_gathers_toggles_from_every_plugin(toggles_app):
    from lms.plugins import feature_toggles

    found = feature_toggles(toggles_app.app.registry)
    assert {module for module, _ in found} == {"plugins.accounts", "toggleplugin"}
    assert ("toggleplugin", {"name": "SETTING_X", "type": "setting_toggle",
                             "is_active": False, "note": "X"}) in found


def test_toggle_state_needs_staff(app, db, alice):
    response = app.get(TOGGLES, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert app.get(TOGGLES, headers=jwt_headers(app, alice), status=403).json == \
        PERMISSION_DENIED
    assert app.get(TOGGLES, headers=session_headers(app, db, alice), status=403).json == \
        PERMISSION_DENIED
    # Bearer tokens are not accepted by this view.
    assert app.get(TOGGLES, headers=bearer_headers(db, alice), status=401).json == \
        NOT_AUTHENTICATED


def test_toggle_state_by_staff_session(app, db, staff):
    assert "waffle_flags" in app.get(TOGGLES, headers=session_headers(app, db, staff)).json


# -- user_tours/v1/{username} --------------------------------------------------------------------

@pytest.fixture
def toured(app, db):
    """A user created through lms.users, so the accounts plugin's hook gave them a tour row."""
    user = create_user_with_hooks(db, username="toured", email="toured@example.com",
                                  password=None, pm=app.registry["lms.plugin_manager"])
    db.commit()
    return user


def tour_row(db, user):
    db.expire_all()
    row = db.scalar(select(UserTour).where(UserTour.user_id == user.id))
    return None if row is None else (row.course_home_tour_status, row.show_courseware_tour)


def test_new_users_get_a_tour_row(app, db, toured):
    assert tour_row(db, toured) == ("show-new-user-tour", True)
    body = app.get(USER_TOURS.format("toured"), headers=jwt_headers(app, toured)).json
    assert body == {"course_home_tour_status": "show-new-user-tour",
                    "show_courseware_tour": True}


def test_jwt_created_users_get_a_tour_row(app, db):
    # JwtAuthentication get-or-creates an unknown user: the hook runs for them too.
    newcomer = types.SimpleNamespace(username="newcomer", email="newcomer@example.com", name="",
                                     anonymous_id="0" * 32, is_active=True, is_staff=False,
                                     is_superuser=False, id=0)
    body = app.get(USER_TOURS.format("newcomer"), headers=jwt_headers(app, newcomer)).json
    assert body == {"course_home_tour_status": "show-new-user-tour",
                    "show_courseware_tour": True}
    db.expire_all()
    assert db.scalar(select(UserTour.course_home_tour_status).join(User, User.id == UserTour.user_id)
                     .where(User.username == "newcomer")) == "show-new-user-tour"


def test_user_tour_get_rules(app, db, toured, alice, staff):
    assert app.get(USER_TOURS.format("toured"), headers=jwt_headers(app, alice),
                   status=400).body == b""
    assert app.get(USER_TOURS.format("toured"), headers=jwt_headers(app, staff)).json[
        "show_courseware_tour"] is True
    assert app.get(USER_TOURS.format("alice"), headers=jwt_headers(app, alice),
                   status=404).body == b""
    assert app.get(USER_TOURS.format("nobody"), headers=jwt_headers(app, staff),
                   status=404).body == b""
    response = app.get(USER_TOURS.format("toured"), status=401)
    assert response.json == NOT_AUTHENTICATED


def test_user_tour_patch(app, db, toured):
    headers = jwt_headers(app, toured)
    response = app.patch_json(USER_TOURS.format("toured"),
                              {"course_home_tour_status": "no-tour"}, headers=headers)
    assert response.status_code == 200 and response.body == b""
    assert tour_row(db, toured) == ("no-tour", True)
    app.patch_json(USER_TOURS.format("toured"), {"show_courseware_tour": "false"},
                   headers=headers)
    assert tour_row(db, toured) == ("no-tour", False)
    app.patch(USER_TOURS.format("toured"), {"show_courseware_tour": "on"},
              headers=session_headers(app, db, toured))
    assert tour_row(db, toured) == ("no-tour", True)


@pytest.mark.parametrize("body, errors", [
    ({"course_home_tour_status": "bogus"},
     {"course_home_tour_status": ['"bogus" is not a valid choice.']}),
    ({"course_home_tour_status": None},
     {"course_home_tour_status": ["This field may not be null."]}),
    ({"show_courseware_tour": "maybe"}, {"show_courseware_tour": ["Must be a valid boolean."]}),
    ({"show_courseware_tour": [True]}, {"show_courseware_tour": ["Must be a valid boolean."]}),
    ({"extra": 1}, {"extra": ["This field is not allowed."]}),
    ([1], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
])
def test_user_tour_patch_bad_input(app, db, toured, body, errors):
    response = app.patch_json(USER_TOURS.format("toured"), body,
                              headers=jwt_headers(app, toured), status=400)
    assert response.json == errors
    assert tour_row(db, toured) == ("show-new-user-tour", True)


def test_user_tour_patch_nothing_to_update_is_an_empty_400(app, db, toured, alice):
    headers = jwt_headers(app, toured)
    assert app.patch_json(USER_TOURS.format("toured"), {}, headers=headers,
                          status=400).body == b""
    assert app.patch(USER_TOURS.format("toured"), b"", headers=headers, status=400).body == b""
    # A user without a tour row has nothing to update either.
    assert app.patch_json(USER_TOURS.format("alice"), {"show_courseware_tour": False},
                          headers=jwt_headers(app, alice), status=400).body == b""


def test_user_tour_patch_is_owner_only(app, db, toured, staff):
    response = app.patch_json(USER_TOURS.format("toured"), {"show_courseware_tour": False},
                              headers=jwt_headers(app, staff), status=400)
    assert response.body == b""
    assert tour_row(db, toured) == ("show-new-user-tour", True)
    response = app.patch(USER_TOURS.format("toured"), b"x", status=401)
    assert response.json == NOT_AUTHENTICATED


def test_user_tour_patch_content_types(app, toured):
    headers = dict(jwt_headers(app, toured), **{"Content-Type": "text/plain"})
    response = app.patch(USER_TOURS.format("toured"), b"x", headers=headers, status=415)
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}
    headers["Content-Type"] = "application/json"
    response = app.patch(USER_TOURS.format("toured"), b"{", headers=headers, status=400)
    assert response.json["detail"].startswith("JSON parse error - ")


def test_user_tour_put_is_an_empty_405(app, toured):
    response = app.put_json(USER_TOURS.format("toured"), {}, headers=jwt_headers(app, toured),
                            status=405)
    assert response.body == b""


def test_user_tours_disabled(app_factory, db):
    app = app_factory(**{"accounts.user_tours_disabled": "true"})
    user = create_user(db, "carol")
    headers = jwt_headers(app, user)
    assert app.get(USER_TOURS.format("carol"), headers=headers, status=403).body == b""
    assert app.patch_json(USER_TOURS.format("carol"), {}, headers=headers,
                          status=403).body == b""
    assert app.get(DISCUSSION_TOURS, headers=headers, status=403).body == b""
    assert app.put_json(DISCUSSION_TOURS + "1/", {}, headers=headers, status=403).body == b""


# -- discussion_tours ----------------------------------------------------------------------------

@pytest.fixture
def tours_app(app_factory):
    return app_factory(**{"accounts.available_discussion_tours": "not_responded_filter other"})


def tour_rows(db, user):
    db.expire_all()
    return [(row.tour_type, row.show_tour) for row in db.scalars(
        select(DiscussionTour).where(DiscussionTour.user_id == user.id)
        .order_by(DiscussionTour.id))]


def test_discussion_tours_are_created_on_first_read(tours_app, db, alice):
    headers = jwt_headers(tours_app, alice)
    body = tours_app.get(DISCUSSION_TOURS, headers=headers).json
    ids = [row.id for row in db.scalars(select(DiscussionTour).order_by(DiscussionTour.id))]
    assert body == [
        {"id": ids[0], "tour_name": "not_responded_filter", "show_tour": True, "user": alice.id},
        {"id": ids[1], "tour_name": "other", "show_tour": True, "user": alice.id},
    ]
    # The id in the path is ignored by GET, and is optional.
    assert tours_app.get(DISCUSSION_TOURS + "12345/", headers=headers).json == body
    assert tours_app.get(DISCUSSION_TOURS.rstrip("/"), headers=headers).json == body
    assert tour_rows(db, alice) == [("not_responded_filter", True), ("other", True)]


def test_discussion_tours_without_configuration(app, alice):
    assert app.get(DISCUSSION_TOURS, headers=jwt_headers(app, alice)).json == []


def test_discussion_tours_read_queries_do_not_grow(app_factory, db, alice, query_counter):
    one_app = app_factory(**{"accounts.available_discussion_tours": "t00"})
    headers = jwt_headers(one_app, alice)
    one_app.get(DISCUSSION_TOURS, headers=headers)
    with query_counter() as one:
        assert len(one_app.get(DISCUSSION_TOURS, headers=headers).json) == 1
    names = " ".join(f"t{number:02}" for number in range(15))
    many_app = app_factory(**{"accounts.available_discussion_tours": names})
    many_app.get(DISCUSSION_TOURS, headers=headers)
    with query_counter() as many:
        assert len(many_app.get(DISCUSSION_TOURS, headers=headers).json) == 15
    assert len(one) == len(many)


def test_discussion_tour_put(tours_app, db, alice):
    headers = jwt_headers(tours_app, alice)
    first = tours_app.get(DISCUSSION_TOURS, headers=headers).json[0]
    body = tours_app.put_json(f"{DISCUSSION_TOURS}{first['id']}/",
                              {"show_tour": False, "id": 999, "tour_name": "x", "user": 5},
                              headers=headers).json
    assert body == dict(first, show_tour=False)
    assert tour_rows(db, alice) == [("not_responded_filter", False), ("other", True)]
    # Without the slash, and by a session.
    tours_app.put(f"{DISCUSSION_TOURS}{first['id']}", {"show_tour": "true"},
                  headers=session_headers(tours_app, db, alice))
    assert tour_rows(db, alice)[0] == ("not_responded_filter", True)


def test_discussion_tour_put_errors(tours_app, db, alice):
    other = create_user(db, "other")
    others_tour = tours_app.get(DISCUSSION_TOURS, headers=jwt_headers(tours_app, other)).json[0]
    headers = jwt_headers(tours_app, alice)
    assert tours_app.put_json(f"{DISCUSSION_TOURS}{others_tour['id']}/", {"show_tour": False},
                              headers=headers, status=403).body == b""
    missing = {"detail": "No UserDiscussionsTours matches the given query."}
    assert tours_app.put_json(f"{DISCUSSION_TOURS}999999/", {"show_tour": False},
                              headers=headers, status=404).json == missing
    assert tours_app.put_json(DISCUSSION_TOURS, {"show_tour": False}, headers=headers,
                              status=404).json == missing
    own = tours_app.get(DISCUSSION_TOURS, headers=headers).json[0]
    response = tours_app.put_json(f"{DISCUSSION_TOURS}{own['id']}/", {"show_tour": "sure"},
                                  headers=headers, status=400)
    assert response.json == {"show_tour": ["Must be a valid boolean."]}
    response = tours_app.put_json(f"{DISCUSSION_TOURS}{own['id']}/", {"colour": "red"},
                                  headers=headers, status=400)
    assert response.json == {"colour": ["This field is not allowed."]}
    assert tour_rows(db, other) == [("not_responded_filter", True), ("other", True)]
    assert tours_app.put_json(f"{DISCUSSION_TOURS}{own['id']}/", {}, status=401).json == \
        NOT_AUTHENTICATED


# -- demographics ----------------------------------------------------------------------------------

def demographics_row(db, user):
    db.expire_all()
    return db.scalar(select(Demographics.show_call_to_action)
                     .where(Demographics.user_id == user.id))


def test_demographics_default_and_patch(app, db, alice):
    headers = jwt_headers(app, alice)
    assert app.get(DEMOGRAPHICS, headers=headers).json == {"display": False,
                                                           "show_call_to_action": True}
    body = app.patch_json(DEMOGRAPHICS, {"show_call_to_action": False}, headers=headers).json
    assert body == {"display": False, "show_call_to_action": False}
    assert demographics_row(db, alice) is False
    assert app.get(DEMOGRAPHICS, headers=headers).json["show_call_to_action"] is False
    app.patch_json(DEMOGRAPHICS, {"show_call_to_action": True},
                   headers=session_headers(app, db, alice))
    assert demographics_row(db, alice) is True


@pytest.mark.parametrize("body, errors", [
    ({"show_call_to_action": "false"}, {"show_call_to_action": ["Must be a valid boolean."]}),
    ({"show_call_to_action": 0}, {"show_call_to_action": ["Must be a valid boolean."]}),
    ({"show_call_to_action": None}, {"show_call_to_action": ["Must be a valid boolean."]}),
    ({}, {"show_call_to_action": ["This field is required."]}),
    ({"show_call_to_action": True, "x": 1}, {"x": ["This field is not allowed."]}),
    ("yes", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
])
def test_demographics_patch_bad_input(app, db, alice, body, errors):
    response = app.patch_json(DEMOGRAPHICS, body, headers=jwt_headers(app, alice), status=400)
    assert response.json == errors
    assert demographics_row(db, alice) is None


def test_demographics_needs_a_user(app, db, alice):
    response = app.get(DEMOGRAPHICS, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert app.patch_json(DEMOGRAPHICS, {"show_call_to_action": False}, status=401).json == \
        NOT_AUTHENTICATED
    # Bearer tokens are not among this view's classes.
    assert app.get(DEMOGRAPHICS, headers=bearer_headers(db, alice), status=401).json == \
        NOT_AUTHENTICATED


# -- skill_level -----------------------------------------------------------------------------------

def test_skill_level_has_no_taxonomy(app, db, alice):
    expected = {"message": "The job id doesn't exist, enter a valid job id."}
    assert app.get(SKILL_LEVEL.format(1), headers=jwt_headers(app, alice),
                   status=404).json == expected
    assert app.get(SKILL_LEVEL.format(42), headers=bearer_headers(db, alice),
                   status=404).json == expected
    assert app.get(SKILL_LEVEL.format(1), status=401).json == NOT_AUTHENTICATED
    assert app.get(SKILL_LEVEL.format("abc"), headers=jwt_headers(app, alice),
                   status=404).json == {"detail": "Not found."}
