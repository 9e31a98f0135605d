"""The plugin as a whole: enabling, disabling, hooks, the Python API, auth classes."""
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth import sign, token_digest
from lms.models import LoginSession, OAuthAccessToken, OAuthApplication
from lms.testing import TEST_SETTINGS, create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.experiments import api
from plugins.experiments.models import ExperimentData, ExperimentKeyValue
from tests.plugins.experiments.conftest import NOT_AUTHENTICATED, add_data, add_key_value

DATA = "/api/experiments/v0/data/"
BODY = {"experiment_id": 1, "key": "color", "value": "blue"}
OPERATIONS = [
    ("GET", "/api/experiments/v0/data/"), ("POST", "/api/experiments/v0/data/"),
    ("PUT", "/api/experiments/v0/data/"), ("GET", "/api/experiments/v0/data/1/"),
    ("PUT", "/api/experiments/v0/data/1/"), ("PATCH", "/api/experiments/v0/data/1/"),
    ("DELETE", "/api/experiments/v0/data/1/"), ("GET", "/api/experiments/v0/key-value/"),
    ("POST", "/api/experiments/v0/key-value/"), ("GET", "/api/experiments/v0/key-value/1/"),
    ("PUT", "/api/experiments/v0/key-value/1/"), ("PATCH", "/api/experiments/v0/key-value/1/"),
    ("DELETE", "/api/experiments/v0/key-value/1/"),
    ("GET", "/api/experiments/v0/custom/REV-934/?course_id=course-v1:a+b+c"),
    ("GET", "/api/experiments/v0/custom/userMetadata/alice,course-v1:a+b+c"),
]


def test_works_with_only_itself_enabled(app_factory, db):
    app = app_factory(**{"lms.plugins": "experiments"})
    assert [info.name for info in app.registry["lms.enabled_plugins"]] == ["experiments"]
    alice = create_user(db, "alice", password=None)
    app.post_json(DATA, BODY, headers=jwt_headers(app, alice), status=201)
    assert app.get(DATA, headers=jwt_headers(app, alice)).json["count"] == 1


@pytest.mark.parametrize("method, url", OPERATIONS)
def test_disabled_plugin_serves_nothing(app_factory, db, method, url):
    app = app_factory(**{"lms.plugins.disabled": "experiments"})
    staff = create_user(db, "staffer", password=None, is_staff=True)
    response = app.request(url, method=method, headers=jwt_headers(app, staff), status=404)
    assert response.json == {"detail": "Not found."}


def test_operations_are_registered(app):
    from lms.openapi import operations

    served = {(method, path.split("{username")[0]) for method, path in
              operations(app.registry) if "/experiments/" in path}
    expected = {(method, url.split("?")[0].replace("/1/", "/{id}/").split("alice,")[0])
                for method, url in OPERATIONS}
    assert served == expected


def test_settings_and_feature_toggle(app, app_factory):
    settings = app.registry.settings
    assert settings["experiments.mobile_upsell_rev934"] == "false"
    toggles = app.registry["lms.plugin_manager"].hook.lms_feature_toggles(settings=settings)
    assert {"name": "experiments.mobile_upsell_rev934", "type": "setting_toggle",
            "is_active": False, "note": "REV-934: offer the verified upgrade in the mobile app."
            } in [toggle for answer in toggles for toggle in answer]
    on = app_factory(**{"experiments.mobile_upsell_rev934": "true"}).registry
    assert on["experiments.upsell_config"].mobile_upsell_rev934 is True


def test_retire_user_deletes_only_that_users_rows(app, db, alice, bob):
    add_data(db, alice, 1, "a")
    add_data(db, alice, 2, "b")
    kept = add_data(db, bob, 1, "a")
    add_key_value(db)
    app.registry["lms.plugin_manager"].hook.lms_retire_user(
        dbsession=db, user=alice, retired_username="retired__x", retired_email="x@retired.invalid",
        original_email=alice.email)
    db.commit()
    assert db.scalars(select(ExperimentData.id)).all() == [kept.id]
    assert len(db.scalars(select(ExperimentKeyValue)).all()) == 1


def test_deleting_a_user_deletes_their_rows(db, alice):
    add_data(db, alice)
    db.delete(alice)
    db.commit()
    assert db.scalars(select(ExperimentData)).all() == []


def test_python_api(db, alice):
    assert api.get_user_value(db, alice.id, 5, "seen", default="no") == "no"
    first = api.set_user_value(db, alice.id, 5, "seen", "yes")
    second = api.set_user_value(db, alice.id, 5, "seen", "twice")
    db.commit()
    assert first.id == second.id
    assert api.get_user_value(db, alice.id, 5, "seen") == "twice"
    add_key_value(db, 5, "banner", "on")
    assert api.get_site_value(db, 5, "banner") == "on"
    assert api.get_site_value(db, 5, "other", default="") == ""
    assert api.delete_user_data(db, alice.id) == 1
    # Upstream's stable bucketing (its test user is in bucket 1 of REV-934).
    assert api.stable_bucket("mobile_upsell_experiment", "robot-mue-1-6pnjv", 2) == 1
    assert {api.stable_bucket("exp", f"user{n}", 3) for n in range(50)} == {0, 1, 2}


def test_save_refuses_duplicates(db, alice):
    api.set_user_value(db, alice.id, 1, "a", "x")
    duplicate = ExperimentData(user_id=alice.id, experiment_id=1, key="a")
    with pytest.raises(api.NotUnique, match="user, experiment_id, key must make a unique set"):
        api.save(db, duplicate, value="y")


# -- authentication classes -----------------------------------------------------------

def session_cookies(db, user, csrf=None):
    key = secrets.token_urlsafe()
    db.add(LoginSession(key_hash=token_digest(key), user_id=user.id,
                        expires=utcnow() + timedelta(hours=1)))
    db.commit()
    cookie = "sessionid=" + sign(TEST_SETTINGS["lms.secret_key"], key)
    if csrf:
        cookie += "; csrftoken=" + csrf
    return {"Cookie": cookie}


def test_session_reads_and_writes_with_csrf(app, db):
    # Upstream's session class lets inactive users in.
    carol = create_user(db, "carol", password=None, is_active=False)
    assert app.get(DATA, headers=session_cookies(db, carol)).json["count"] == 0
    csrf = "A" * 32
    cookies = session_cookies(db, carol, csrf)
    response = app.post_json(DATA, BODY, headers=cookies, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    response = app.post_json(DATA, BODY, headers=dict(cookies, **{"X-CSRFToken": "B" * 32}),
                             status=403)
    assert response.json["detail"].startswith("CSRF Failed")
    assert db.scalars(select(ExperimentData)).all() == []
    response = app.post_json(DATA, BODY, headers=dict(cookies, **{"X-CSRFToken": csrf}),
                             status=201)
    assert response.json["user"] == "carol"


def bearer(db, user):
    application = OAuthApplication(name="mobile", client_id="mobile-app", grant_type="password",
                                   user_id=user.id)
    db.add(application)
    db.flush()
    db.add(OAuthAccessToken(token_hash=token_digest("opaque-token"),
                            application_id=application.id, user_id=user.id, scopes=["read"],
                            expires=utcnow() + timedelta(hours=1)))
    db.commit()
    return {"Authorization": "Bearer opaque-token"}


def test_bearer_tokens_work_only_on_rev934(app, db, alice):
    headers = bearer(db, alice)
    assert app.get("/api/experiments/v0/custom/REV-934/", headers=headers).json == {
        "show_upsell": False, "upsell_flag": False}
    # data/ authenticates with a JWT or the session only, as upstream.
    response = app.get(DATA, headers=headers, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
