"""argon2id parameters come from the settings; outdated stored hashes are upgraded at login."""
import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from lms.models import User
from lms.passwords import Passwords
from lms.settings import CORE_DEFAULTS
from lms.testing import TEST_SETTINGS, create_user

V1 = "/api/user/v1/account/login_session/"
V2 = "/api/user/v2/account/login_session/"
TOKEN_URL = "/oauth2/access_token"
OTHER_PARAMETERS = Passwords(time_cost=2, memory_cost=512, parallelism=2)


def costs(encoded):
    parameters = extract_parameters(encoded)
    return parameters.type, parameters.time_cost, parameters.memory_cost, parameters.parallelism


TEST_COSTS = (Type.ID, 1, 1024, 1)


def session_login(app, url, identifier, password):
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    field = "email" if url == V1 else "email_or_username"
    return app.post(url, {field: identifier, "password": password},
                    headers={"X-CSRFToken": token}, status="*")


def password_grant(app, client, username, password):
    return app.post(TOKEN_URL, {"grant_type": "password", "client_id": client.client_id,
                                "username": username, "password": password}, status="*")


def log_in(app, path, client, password):
    if path == "grant":
        return password_grant(app, client, "alice", password).status_int == 200
    identifier = "alice@example.com" if path == V1 else "alice"
    return session_login(app, path, identifier, password).json.get("success") is True


def stored_password(db, username="alice"):
    db.expire_all()
    return db.scalar(select(User.password).where(User.username == username))


# -- the parameters ----------------------------------------------------------------------

def test_defaults_are_owasps_argon2id_minimum():
    hasher = Passwords.from_settings(CORE_DEFAULTS).hasher
    assert (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        Type.ID, 2, 19456, 1)


def test_new_hashes_and_the_dummy_use_the_settings(app_factory):
    app = app_factory(**{"passwords.argon2_time_cost": "2",
                         "passwords.argon2_memory_cost": "2048",
                         "passwords.argon2_parallelism": "2"})
    db = app.registry["lms.dbsession_factory"]()
    try:
        user = create_user(db, "alice", password="s3cret-pass")
        assert costs(user.password) == (Type.ID, 2, 2048, 2)
    finally:
        db.close()
    assert costs(app.registry["lms.passwords"].dummy_hash) == (Type.ID, 2, 2048, 2)


def test_the_environment_sets_the_parameters(app_factory, monkeypatch):
    monkeypatch.setenv("LMS_PASSWORDS_ARGON2_MEMORY_COST", "4096")
    app = app_factory()
    assert app.registry["lms.passwords"].hasher.memory_cost == 4096


def test_apps_keep_their_own_parameters(app, app_factory):
    other = app_factory(**{"passwords.argon2_time_cost": "3"})
    assert app.registry["lms.passwords"].hasher.time_cost == 1
    assert other.registry["lms.passwords"].hasher.time_cost == 3


@pytest.mark.parametrize("key, value, message", [
    ("passwords.argon2_time_cost", "fast", "must be an integer"),
    ("passwords.argon2_time_cost", "0", "'passwords.argon2_time_cost' must be at least 1"),
    ("passwords.argon2_parallelism", "0", "'passwords.argon2_parallelism' must be at least 1"),
    ("passwords.argon2_memory_cost", "7", "'passwords.argon2_memory_cost' must be at least 8"),
])
def test_bad_parameters_stop_start_up(key, value, message):
    with pytest.raises(ConfigurationError, match=message):
        Passwords.from_settings({**TEST_SETTINGS, key: value})


def test_memory_must_cover_the_lanes():
    with pytest.raises(ConfigurationError, match="must be at least 32, got 16"):
        Passwords.from_settings({**TEST_SETTINGS, "passwords.argon2_parallelism": "4",
                                 "passwords.argon2_memory_cost": "16"})


# -- upgrades at login ---------------------------------------------------------------------

@pytest.mark.parametrize("path", [V1, V2, "grant"])
def test_login_upgrades_a_hash_made_with_other_parameters(app, db, mobile_client, path):
    alice = create_user(db, "alice")
    alice.password = OTHER_PARAMETERS.hash("s3cret-pass")
    db.commit()
    assert log_in(app, path, mobile_client, "s3cret-pass")
    upgraded = stored_password(db)
    assert costs(upgraded) == TEST_COSTS
    assert app.registry["lms.passwords"].verify("s3cret-pass", upgraded) == (True, False)
    assert log_in(app, path, mobile_client, "s3cret-pass")
    assert stored_password(db) == upgraded  # up to date: left alone


@pytest.mark.parametrize("path", [V1, V2, "grant"])
def test_a_wrong_password_keeps_the_outdated_hash(app, db, mobile_client, path):
    alice = create_user(db, "alice")
    alice.password = outdated = OTHER_PARAMETERS.hash("s3cret-pass")
    db.commit()
    assert not log_in(app, path, mobile_client, "wrong-pass")
    assert stored_password(db) == outdated


@pytest.mark.parametrize("path", [V1, "grant"])
def test_a_django_argon2_hash_is_upgraded_even_with_the_same_parameters(app, db,
                                                                         mobile_client, path):
    alice = create_user(db, "alice")
    alice.password = "argon2" + app.registry["lms.passwords"].hash("s3cret-pass")
    db.commit()
    assert log_in(app, path, mobile_client, "s3cret-pass")
    upgraded = stored_password(db)
    assert upgraded.startswith("$argon2id$") and costs(upgraded) == TEST_COSTS


def test_an_unknown_account_costs_a_check_with_the_instances_parameters(app, db,
                                                                        monkeypatch):
    checked = []
    original = PasswordHasher.verify

    def verify(hasher, hash, password):  # noqa: A002 (argon2's parameter name)
        checked.append(costs(hash))
        return original(hasher, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    body = session_login(app, V1, "nobody@example.com", "s3cret-pass").json
    assert body["error_code"] == "incorrect-email-or-password"
    assert checked == [TEST_COSTS]
