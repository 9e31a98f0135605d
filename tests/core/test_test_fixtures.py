"""The fixtures' own promises (lms.testing): each test's writes are rolled back, real
commits are noticed and emptied, built apps are reused with their process state
cleared. Checked by running a small suite in a separate pytest process, in order."""
import os
import subprocess
import sys

from sqlalchemy.engine import make_url

INNER_SUITE = '''
import pytest
from sqlalchemy import func, insert, select

from lms.models import User
from lms.testing import create_user

REGISTRIES = []


def users(db):
    return db.scalar(select(func.count()).select_from(User))


def test_1_writes_through_the_app_and_db(app, db):
    create_user(db, "alice")
    app.post("/api/user/v1/account/registration/", {
        "username": "bob", "email": "bob@example.com", "password": "a-good-password-1",
        "name": "Bob", "honor_code": "true", "terms_of_service": "true"}, status=200)
    assert users(db) == 2
    assert len(app.registry["lms.mail_outbox"]) == 1  # sent after the (savepoint) commit
    REGISTRIES.append(app.registry)


def test_2_sees_nothing_of_them_and_reuses_the_app(app, db):
    assert users(db) == 0
    assert app.registry is REGISTRIES[0]
    assert app.registry["lms.mail_outbox"] == []


def test_3_other_connections_do_not_see_uncommitted_rows(app, db, engine):
    create_user(db, "carol")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.commits
def test_4_commits_for_real(app, db, engine):
    create_user(db, "dave")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(User)) == 1


def test_5_real_commits_were_emptied(db):
    assert users(db) == 0


def test_6_a_raw_engine_commit(app, engine):
    with engine.begin() as connection:
        connection.execute(insert(User).values(
            username="erin", email="erin@example.com", name="Erin", password="!",
            is_active=True, is_staff=False, is_superuser=False, anonymous_id="e" * 32))


def test_7_is_noticed_and_emptied(db):
    assert users(db) == 0


@pytest.mark.fresh_app
def test_8_fresh_app(app):
    assert app.registry is not REGISTRIES[0]
'''


def test_rollback_commit_and_app_reuse_promises(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["lms.testing"]\n')
    (tmp_path / "test_inner.py").write_text(INNER_SUITE)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("LMS_", "PYTEST_"))}
    shared = os.environ.get("LMS_TEST_DATABASE_URL")
    if shared:  # a database of its own: the inner session drops and recreates it
        parsed = make_url(shared)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        env["LMS_TEST_DATABASE_URL"] = parsed.set(
            database=f"{parsed.database}_fixtures_{worker}"[:63]).render_as_string(
            hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "no:randomly", str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout
