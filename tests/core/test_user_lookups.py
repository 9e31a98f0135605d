"""Users are found by index searches on every password path, whatever the case typed.

The statements a login (session v1/v2) and the OAuth2 password grant send are
captured and EXPLAINed: every read of ``lms_user`` must search an index (no
sequential or full-index scan), and a case-insensitive lookup must search the
``lower()`` index of its column. A change that breaks the index use fails here
on SQLite and on PostgreSQL.
"""
import pytest
from sqlalchemy import select

from lms.models import User
from lms.testing import capture_statements, create_user, query_plan, unindexed_reads
from lms.users import equal_ignoring_case, find_by_identity

V1 = "/api/user/v1/account/login_session/"
V2 = "/api/user/v2/account/login_session/"
TOKEN_URL = "/oauth2/access_token"
LOWER_EMAIL_INDEX = "ix_lms_user_lower_email"
LOWER_USERNAME_INDEX = "ix_lms_user_lower_username"


@pytest.fixture
def alice(db):
    return create_user(db, "alice", password="s3cret-pass")


def session_login(app, url, **form):
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    return app.post(url, form, headers={"X-CSRFToken": token}, status="*")


def lower_lookups(statements, column):
    return [(sql, parameters) for sql, parameters in statements
            if f"lower(lms_user.{column})" in sql]


def assert_searches(engine, statements, index):
    assert statements
    for sql, parameters in statements:
        plan = query_plan(engine, sql, parameters)
        assert index in plan, (sql, plan)


# -- the plans of the password paths -------------------------------------------------------

@pytest.mark.parametrize("identifier", ["nobody@example.com", "ALICE@example.com"])
def test_v1_login_searches_the_lower_email_index(app, engine, alice, identifier):
    with capture_statements(engine) as statements:
        session_login(app, V1, email=identifier, password="s3cret-pass")
    assert unindexed_reads(engine, statements, "lms_user") == []
    assert len(lower_lookups(statements, "email")) == 1
    assert_searches(engine, lower_lookups(statements, "email"), LOWER_EMAIL_INDEX)


def test_v2_login_with_an_unknown_identifier_searches_both_lower_indexes(app, engine, alice):
    with capture_statements(engine) as statements:
        response = session_login(app, V2, email_or_username="Nobody", password="s3cret-pass")
    assert response.json["error_code"] == "incorrect-email-or-password"
    assert unindexed_reads(engine, statements, "lms_user") == []
    assert_searches(engine, lower_lookups(statements, "email"), LOWER_EMAIL_INDEX)
    assert_searches(engine, lower_lookups(statements, "username"), LOWER_USERNAME_INDEX)


@pytest.mark.parametrize("username", ["nobody", "alice@example.com"])
def test_password_grant_searches_indexes(app, engine, alice, mobile_client, username):
    with capture_statements(engine) as statements:
        app.post(TOKEN_URL, {"grant_type": "password", "client_id": mobile_client.client_id,
                             "username": username, "password": "s3cret-pass"}, status="*")
    reads = [sql for sql, _ in statements if "FROM lms_user" in sql]
    assert reads
    assert unindexed_reads(engine, statements, "lms_user") == []


def test_a_scan_is_reported(app, engine, alice):
    """The check itself: a lookup no index serves is caught (lower(name) has none)."""
    with capture_statements(engine) as statements, engine.connect() as connection:
        connection.execute(select(User.id).where(equal_ignoring_case(User.name, "Alice")))
    assert len(unindexed_reads(engine, statements, "lms_user")) == 1


# -- find_by_identity ----------------------------------------------------------------------

def test_find_by_identity_ignores_case(db, alice):
    assert find_by_identity(db, User.email, "ALICE@Example.com") == alice
    assert find_by_identity(db, User.username, "Alice") == alice
    assert find_by_identity(db, User.username, "bob") is None


def test_find_by_identity_prefers_the_exact_match_among_case_variants(db, alice):
    other = create_user(db, "Alice", email="Alice@example.com", password="x-pass-1")
    assert find_by_identity(db, User.username, "Alice") == other
    assert find_by_identity(db, User.username, "alice") == alice
    assert find_by_identity(db, User.email, "Alice@example.com") == other


def test_find_by_identity_refuses_an_ambiguous_case_insensitive_match(db, alice):
    create_user(db, "Alice", email="Alice@example.com", password="x-pass-1")
    assert find_by_identity(db, User.username, "ALICE") is None
    assert find_by_identity(db, User.email, "ALICE@EXAMPLE.COM") is None


@pytest.mark.parametrize("value", ["", "a\x00b", None, 42])
def test_find_by_identity_without_a_possible_match(db, alice, value):
    assert find_by_identity(db, User.email, value) is None
