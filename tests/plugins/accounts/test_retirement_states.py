"""Retirement states: the seeded table, ``sync_states`` (upstream's
populate_retirement_states rules) and the ``lms populate-retirement-states`` and
``lms retire-user`` commands.

The state table is reference data kept between tests: every test that changes
it puts the default list back.
"""
import pytest
from sqlalchemy import delete, select, text

from lms.db import make_engine
from lms.testing import create_user
from plugins.accounts import DEFAULT_RETIREMENT_STATES, retirement
from plugins.accounts.models import RetirementState, UserRetirementStatus

DEFAULT = DEFAULT_RETIREMENT_STATES.split()
CUSTOM = ["PENDING", "RETIRING_CREDENTIALS", "CREDENTIALS_COMPLETE", "RETIRING_LMS",
          "LMS_COMPLETE", "ERRORED", "ABORTED", "COMPLETE"]


def table(db):
    return [(s.state_name, s.state_execution_order, s.is_dead_end_state, s.required)
            for s in db.scalars(select(RetirementState)
                                .order_by(RetirementState.state_execution_order))]


@pytest.fixture
def restore_states(db):
    yield
    db.rollback()
    db.execute(delete(UserRetirementStatus))  # statuses may point at states to remove
    retirement.sync_states(db, DEFAULT)
    db.commit()


def test_seeded_states_match_the_default_setting(app, db):
    assert [row[0] for row in table(db)] == DEFAULT
    assert retirement.configured_states(app.registry.settings) == DEFAULT


def test_sync_adds_removes_and_renumbers(app, db, restore_states):
    before = {s.state_name: s.id for s in db.scalars(select(RetirementState))}
    added, removed, kept = retirement.sync_states(db, CUSTOM)
    db.commit()
    assert added == {"RETIRING_CREDENTIALS", "CREDENTIALS_COMPLETE"}
    assert kept == {"PENDING", "RETIRING_LMS", "LMS_COMPLETE", "ERRORED", "ABORTED",
                    "COMPLETE"}
    assert "RETIRING_FORUMS" in removed and len(removed) == len(DEFAULT) - len(kept)
    assert table(db) == [
        ("PENDING", 1, False, True), ("RETIRING_CREDENTIALS", 11, False, False),
        ("CREDENTIALS_COMPLETE", 21, False, False), ("RETIRING_LMS", 31, False, False),
        ("LMS_COMPLETE", 41, False, False), ("ERRORED", 51, True, True),
        ("ABORTED", 61, True, True), ("COMPLETE", 71, True, True)]
    # Kept states keep their rows (statuses point at them).
    after = {s.state_name: s.id for s in db.scalars(select(RetirementState))}
    assert all(after[name] == before[name] for name in kept)


def test_sync_dry_run_changes_nothing(app, db):
    added, _removed, _kept = retirement.sync_states(db, CUSTOM, dry_run=True)
    db.commit()
    assert added == {"RETIRING_CREDENTIALS", "CREDENTIALS_COMPLETE"}
    assert [row[0] for row in table(db)] == DEFAULT


@pytest.mark.parametrize("names, message", [
    ([], "accounts.retirement_states is empty."),
    (["PENDING", "ERRORED", "COMPLETE"],
     ("accounts.retirement_states (['PENDING', 'ERRORED', 'COMPLETE']) does not contain all "
     "required states (PENDING,ERRORED,ABORTED,COMPLETE)")),
    (["RETIRING_LMS", "PENDING", "ERRORED", "ABORTED", "COMPLETE"],
     "PENDING must be the first state"),
    (["PENDING", "ERRORED", "ABORTED", "COMPLETE", "RETIRING_LMS"],
     "The last 3 states must be these (in this order): ['ERRORED', 'ABORTED', 'COMPLETE']"),
    (["PENDING", "ABORTED", "ERRORED", "COMPLETE"],
     "The last 3 states must be these (in this order): ['ERRORED', 'ABORTED', 'COMPLETE']"),
    (["PENDING", "RETIRING_LMS", "RETIRING_LMS", "ERRORED", "ABORTED", "COMPLETE"],
     "States are listed more than once: ['RETIRING_LMS']"),
    (["PENDING", "R" * 31, "ERRORED", "ABORTED", "COMPLETE"],
     f"State names are limited to 30 characters: ['{'R' * 31}']"),
])
def test_sync_refuses_bad_lists(app, db, names, message):
    with pytest.raises(retirement.RetirementError) as caught:
        retirement.sync_states(db, names)
    assert str(caught.value) == message
    db.rollback()
    assert [row[0] for row in table(db)] == DEFAULT


def _status(app, db, username, state):
    user = create_user(db, username)
    status = retirement.queue_retirement(db, app.registry.settings, user)
    status.current_state_id = db.scalar(select(RetirementState.id).where(
        RetirementState.state_name == state))
    db.commit()
    return status


def test_sync_refuses_while_learners_are_in_progress(app, db):
    _status(app, db, "lena", "RETIRING_FORUMS")
    with pytest.raises(retirement.RetirementError) as caught:
        retirement.sync_states(db, CUSTOM)
    assert str(caught.value) == ("Users are currently being processed. All users must be in "
                                 "one of these states to run this command: "
                                 "PENDING,ERRORED,ABORTED,COMPLETE")
    db.rollback()
    assert [row[0] for row in table(db)] == DEFAULT


def test_sync_refuses_to_remove_a_state_a_learner_came_from(app, db):
    status = _status(app, db, "lena", "ERRORED")
    status.last_state_id = db.scalar(select(RetirementState.id).where(
        RetirementState.state_name == "RETIRING_FORUMS"))
    db.commit()
    with pytest.raises(retirement.RetirementError, match="marked for deletion"):
        retirement.sync_states(db, CUSTOM)
    db.rollback()
    assert [row[0] for row in table(db)] == DEFAULT


def test_the_pipeline_uses_the_synced_states(app, db, restore_states):
    from lms.testing import jwt_headers

    retirement.sync_states(db, CUSTOM)
    db.commit()
    service = create_user(db, "retirement_service_worker", password=None, is_staff=True)
    _status(app, db, "lena", "PENDING")
    headers = jwt_headers(app, service)
    url = "/api/user/v1/accounts/update_retirement_status/"
    app.patch_json(url, {"username": "lena", "new_state": "RETIRING_CREDENTIALS",
                         "response": "go"}, headers=headers, status=204)
    response = app.patch_json(url, {"username": "lena", "new_state": "RETIRING_FORUMS",
                                    "response": "go"}, headers=headers, status=400)
    assert response.json == ("RETIRING_FORUMS does not exist or is an eariler state than "
                             "current state RETIRING_CREDENTIALS (step 11)")


# -- the commands, through click against a database of their own -------------------------

@pytest.fixture
def migrated(run_cli):
    result = run_cli("migrate")
    assert result.exit_code == 0, result.output


@pytest.fixture
def query(cli_database_url):
    engine = make_engine({"sqlalchemy.url": cli_database_url})

    def execute(sql, **params):
        with engine.begin() as conn:
            return list(conn.execute(text(sql), params))

    yield execute
    engine.dispose()


def test_populate_retirement_states_command(run_cli, write_cli_ini, migrated, query):
    custom = "accounts.retirement_states = " + " ".join(CUSTOM)
    result = run_cli("populate-retirement-states", "--dry-run", ini=write_cli_ini(custom))
    assert result.exit_code == 0, result.output
    assert "--- Dry run, no changes will be made ---" in result.output
    assert len(query("SELECT id FROM accounts_retirement_state")) == len(DEFAULT)
    result = run_cli("populate-retirement-states", ini=write_cli_ini(custom))
    assert result.exit_code == 0, result.output
    assert "Added: ['CREDENTIALS_COMPLETE', 'RETIRING_CREDENTIALS']" in result.output
    assert "RETIRING_CREDENTIALS (step 11)" in result.output
    rows = query("SELECT state_name FROM accounts_retirement_state "
                 "ORDER BY state_execution_order")
    assert [row[0] for row in rows] == CUSTOM
    bad = "accounts.retirement_states = PENDING COMPLETE"
    result = run_cli("populate-retirement-states", ini=write_cli_ini(bad))
    assert result.exit_code != 0
    assert "does not contain all required states" in result.output
    assert "Traceback" not in result.output


def test_retire_user_command(run_cli, migrated, query):
    result = run_cli("create-user", "lena", "lena@example.com", "--password", "secret-pw-1")
    assert result.exit_code == 0, result.output
    result = run_cli("retire-user", "--username", "lena", "--email", "nope@example.com")
    assert result.exit_code != 0 and "no user 'lena'" in result.output
    result = run_cli("retire-user", "--username", "lena", "--email", "LENA@example.com")
    assert result.exit_code == 0, result.output
    assert "queued 'lena' for retirement" in result.output
    [(original, state)] = query(
        "SELECT s.original_email, r.state_name FROM accounts_retirement_status s "
        "JOIN accounts_retirement_state r ON r.id = s.current_state_id")
    assert (original, state) == ("lena@example.com", "PENDING")
    [(email, password)] = query("SELECT email, password FROM lms_user WHERE username='lena'")
    assert email.startswith("retired__user_") and password.startswith("!")
    result = run_cli("retire-user", "--username", "lena", "--email", email)
    assert result.exit_code != 0
    assert "already has a retirement status row" in result.output
