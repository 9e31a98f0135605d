"""``GET /_lms/plugins`` answers global staff only, unless opened by a setting
(issue 7, defect 8)."""
import secrets
from datetime import timedelta

from lms import auth
from lms.models import LoginSession
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow

PLUGINS = "/_lms/plugins"


def test_anonymous_callers_are_401(app):
    response = app.get(PLUGINS, status=401)
    assert response.json == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert "fake" not in response.text and "version" not in response.text


def test_non_staff_callers_are_403(app, db):
    learner = create_user(db, "learner")
    response = app.get(PLUGINS, headers=jwt_headers(app, learner), status=403)
    assert response.json == {"detail": "You do not have permission to perform this action."}
    assert "version" not in response.text


def test_inactive_staff_is_403(app, db):
    staff = create_user(db, "former", is_staff=True, is_active=False)
    response = app.get(PLUGINS, headers=jwt_headers(app, staff), status=403)
    assert response.json == {"detail": "You do not have permission to perform this action."}


def test_restricted_application_jwt_is_403_even_for_staff(app, db):
    staff = create_user(db, "operator", is_staff=True)
    response = app.get(PLUGINS, status=403,
                       headers=jwt_headers(app, staff, is_restricted=True, filters=["user:me"]))
    assert response.json == {"detail": "You do not have permission to perform this action."}


def test_bad_credentials_are_401(app):
    response = app.get(PLUGINS, headers={"Authorization": "JWT not.a.token"}, status=401)
    assert response.json == {"detail": "Error decoding token."}


def test_global_staff_get_the_list(app, db):
    staff = create_user(db, "operator", is_staff=True)
    body = app.get(PLUGINS, headers=jwt_headers(app, staff)).json
    fake = [row for row in body["plugins"] if row["name"] == "fake"]
    assert len(fake) == 1
    assert {key: fake[0][key] for key in ("name", "version", "enabled", "builtin", "requires")} \
        == {"name": "fake", "version": "1.0", "enabled": True, "builtin": True, "requires": []}


def test_staff_browser_session_gets_the_list(app, db):
    staff = create_user(db, "operator", is_staff=True)
    config = app.registry["lms.auth_config"]
    key = secrets.token_urlsafe(32)
    db.add(LoginSession(key_hash=auth.token_digest(key), user_id=staff.id,
                        expires=utcnow() + timedelta(hours=1)))
    db.commit()
    cookie = f"{config.session_cookie_name}={auth.sign(config.secret_key, key)}"
    names = [row["name"] for row in app.get(PLUGINS, headers={"Cookie": cookie}).json["plugins"]]
    assert "fake" in names


def test_setting_opens_the_list_to_everyone(make_app, db):
    app = make_app(**{"lms.plugins_endpoint_public": "true"})
    names = [row["name"] for row in app.get(PLUGINS).json["plugins"]]
    assert "fake" in names


def test_setting_is_a_documented_core_default():
    from lms.settings import CORE_DEFAULTS

    assert CORE_DEFAULTS["lms.plugins_endpoint_public"] == "false"
