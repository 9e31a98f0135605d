"""Small core units: settings, keys, datetimes, passwords, tokens."""
import base64
import hashlib
from datetime import datetime, timedelta, timezone

import colander
import pytest
from pyramid.exceptions import ConfigurationError

from lms import passwords
from lms.keys import CourseKeyType, UsageKeyType, parse_course_key
from lms.settings import apply_env_overrides, env_name, parse_rate
from lms.timeutil import isoformat


def test_env_names():
    assert env_name("sqlalchemy.url") == "LMS_SQLALCHEMY_URL"
    assert env_name("lms.plugins") == "LMS_PLUGINS"
    assert env_name("experiments.page_size") == "LMS_EXPERIMENTS_PAGE_SIZE"


def test_env_overrides_known_keys_only():
    settings = {"sqlalchemy.url": "sqlite://", "lms.plugins": ""}
    apply_env_overrides(settings, {"LMS_SQLALCHEMY_URL": "postgresql://x/y",
                                   "LMS_PLUGINS": "experiments", "LMS_UNKNOWN": "1"})
    assert settings == {"sqlalchemy.url": "postgresql://x/y", "lms.plugins": "experiments"}


def test_env_override_reaches_the_app(app_factory, monkeypatch):
    monkeypatch.setenv("LMS_PLATFORM_NAME", "Env Academy")
    app = app_factory()
    assert app.registry.settings["lms.platform_name"] == "Env Academy"


def test_missing_secret_key_is_a_clear_error(app_factory):
    with pytest.raises(ConfigurationError, match="lms.secret_key"):
        app_factory(**{"lms.secret_key": ""})


def test_parse_rate():
    assert parse_rate("120/m") == (120, 60)
    assert parse_rate("5/hour") == (5, 3600)
    with pytest.raises(ConfigurationError):
        parse_rate("many")


def test_course_keys_new_and_deprecated():
    assert str(parse_course_key("course-v1:edX+DemoX+2026")) == "course-v1:edX+DemoX+2026"
    old = parse_course_key("edX/DemoX/2026")
    assert old.deprecated and str(old) == "edX/DemoX/2026"
    assert parse_course_key("not a key") is None


def test_key_colander_types():
    node = colander.SchemaNode(CourseKeyType(), name="course_id")
    with pytest.raises(colander.Invalid) as info:
        node.deserialize("garbage")
    assert info.value.asdict() == {"course_id": "'garbage' is not a valid course key."}
    usage = colander.SchemaNode(UsageKeyType(), name="usage_key")
    key = usage.deserialize("block-v1:edX+DemoX+2026+type@course+block@course")
    assert key.block_type == "course"


def test_isoformat_uses_z():
    moment = datetime(2014, 8, 26, 17, 52, 11, tzinfo=timezone.utc)
    assert isoformat(moment) == "2014-08-26T17:52:11Z"
    assert isoformat(moment.replace(microsecond=123456)) == "2014-08-26T17:52:11.123456Z"
    paris = moment.astimezone(timezone(timedelta(hours=2)))
    assert isoformat(paris) == "2014-08-26T17:52:11Z"
    assert isoformat(None) is None


CHEAP_PASSWORDS = passwords.Passwords(time_cost=1, memory_cost=1024, parallelism=1)


def test_argon2_round_trip():
    encoded = CHEAP_PASSWORDS.hash("s3cret!")
    assert encoded.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert CHEAP_PASSWORDS.verify("s3cret!", encoded) == (True, False)
    assert CHEAP_PASSWORDS.verify("wrong", encoded) == (False, False)


def test_django_pbkdf2_hash_verifies_and_asks_for_rehash():
    salt, iterations = "saltsalt", 1000
    digest = hashlib.pbkdf2_hmac("sha256", b"edx-pass", salt.encode(), iterations)
    encoded = f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"
    assert CHEAP_PASSWORDS.verify("edx-pass", encoded) == (True, True)
    assert CHEAP_PASSWORDS.verify("nope", encoded) == (False, True)


def test_unusable_password_never_verifies():
    assert CHEAP_PASSWORDS.verify("", passwords.make_unusable()) == (False, False)


def test_sqlite_savepoint_release_does_not_commit(tmp_path):
    from sqlalchemy import text

    from lms.db import make_engine

    engine = make_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/sp.sqlite"})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as conn:
        transaction = conn.begin()
        with conn.begin_nested():
            conn.execute(text("INSERT INTO t VALUES (1)"))
        transaction.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()
