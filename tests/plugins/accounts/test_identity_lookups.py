"""Registration, its validation endpoint and password reset find accounts by index
searches, and registration asks about each identity once.

The statements each path sends are captured and EXPLAINed (lms.testing): every
read of ``lms_user`` must search an index, and a case-insensitive lookup the
``lower()`` index of its column, on SQLite and on PostgreSQL.
"""
from sqlalchemy import select

from lms.models import User
from lms.testing import capture_statements, create_user, query_plan, unindexed_reads

REGISTRATION = "/api/user/v1/account/registration/"
VALIDATION = "/api/user/v1/validation/registration"
RESET_REQUEST = "/account/password"
INDEXES = {"email": "ix_lms_user_lower_email", "username": "ix_lms_user_lower_username"}


def form(**overrides):
    return {"username": "alice", "email": "alice@example.com", "password": "s3cret-pass",
            "name": "Alice Liddell", "honor_code": "true", **overrides}


def lower_lookups(statements, column):
    return [(sql, parameters) for sql, parameters in statements
            if f"lower(lms_user.{column})" in sql]


def assert_index_searches(engine, statements, **expected_counts):
    """No scan of lms_user; ``column=n``: n lower(column) lookups, each on its index."""
    assert unindexed_reads(engine, statements, "lms_user") == []
    for column, count in expected_counts.items():
        lookups = lower_lookups(statements, column)
        assert len(lookups) == count, [sql for sql, _ in lookups]
        for sql, parameters in lookups:
            plan = query_plan(engine, sql, parameters)
            assert INDEXES[column] in plan, (sql, plan)


def test_registration_asks_about_each_identity_once(app, db, engine):
    with capture_statements(engine) as statements:
        app.post(REGISTRATION, form(), status=200)
    assert db.scalar(select(User.username)) == "alice"
    assert_index_searches(engine, statements, email=1, username=1)


def test_a_taken_identity_is_found_by_index_searches(app, db, engine):
    create_user(db, "alice")
    with capture_statements(engine) as statements:
        body = app.post(REGISTRATION, form(username="ALICE", email="Alice@Example.com"),
                        status=409).json
    assert body["error_code"] == "duplicate-email-username"
    # The username suggestions are lookups too (one per candidate).
    username_lookups = len(lower_lookups(statements, "username"))
    assert username_lookups >= 4
    assert_index_searches(engine, statements, email=1, username=username_lookups)


def test_a_taken_email_with_surrounding_spaces_is_a_conflict(app, db):
    """The duplicate check sees the address the form would store (stripped)."""
    create_user(db, "alice")
    body = app.post(REGISTRATION, form(username="alice2", email=" Alice@example.com "),
                    status=409).json
    assert body == {"email": [{"user_message": "This email is already associated with an "
                                               "existing account"}],
                    "error_code": "duplicate-email"}
    assert db.scalar(select(User.username)) == "alice"


def test_validation_asks_about_each_identity_once(app, db, engine):
    with capture_statements(engine) as statements:
        body = app.post_json(VALIDATION, {"username": "dan_v", "email": "dan@example.com"}).json
    assert body["validation_decisions"] == {"username": "", "email": ""}
    assert_index_searches(engine, statements, email=1, username=1)


def test_password_reset_finds_the_account_by_an_index_search(app, db, engine):
    create_user(db, "alice")
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    with capture_statements(engine) as statements:
        app.post(RESET_REQUEST, {"email": "ALICE@example.com"}, headers={"X-CSRFToken": token},
                 status=200)
    assert len(app.registry["lms.mail_outbox"]) == 1
    assert_index_searches(engine, statements, email=1)
