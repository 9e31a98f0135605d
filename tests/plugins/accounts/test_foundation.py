"""Accounts foundation: seeded retirement states, preferences, retired identities."""
from sqlalchemy import select

from lms.testing import create_user
from plugins.accounts import api
from plugins.accounts.models import RetirementState


def test_retirement_states_are_seeded_in_order(app, db):
    rows = db.execute(select(RetirementState.state_name, RetirementState.state_execution_order,
                             RetirementState.required, RetirementState.is_dead_end_state)
                      .order_by(RetirementState.state_execution_order)).all()
    names = [row[0] for row in rows]
    assert names[0] == "PENDING" and names[-3:] == ["ERRORED", "ABORTED", "COMPLETE"]
    assert names.index("RETIRING_LMS_MISC") < names.index("RETIRING_LMS")
    assert [row[1] for row in rows[:3]] == [1, 11, 21]
    assert {row[0] for row in rows if row[2]} == {"PENDING", "ERRORED", "ABORTED", "COMPLETE"}
    assert {row[0] for row in rows if row[3]} == {"ERRORED", "ABORTED", "COMPLETE"}


def test_preferences_round_trip(app, db):
    user = create_user(db, "prefs")
    api.set_preference(db, user.id, "pref-lang", "en")
    api.set_preference(db, user.id, "pref-lang", "fr")
    api.set_preference(db, user.id, "time_zone", "Europe/Paris")
    db.commit()
    assert api.get_preferences(db, user.id) == {"pref-lang": "fr", "time_zone": "Europe/Paris"}
    assert api.delete_preference(db, user.id, "pref-lang") is True
    assert api.delete_preference(db, user.id, "pref-lang") is False


def test_retired_identities_are_hashed_and_detected(app, db):
    settings = app.registry.settings
    retired = api.retired_username(settings, "Alice")
    assert retired.startswith("retired__user_") and len(retired) == len("retired__user_") + 40
    assert retired == api.retired_username(settings, "alice")
    assert api.retired_email(settings, "a@example.com").endswith("@retired.invalid")
    assert not api.is_username_retired(db, settings, "alice")
    create_user(db, retired, email=api.retired_email(settings, "a@example.com"))
    assert api.is_username_retired(db, settings, "alice")
    assert api.is_email_retired(db, settings, "A@example.com")


def test_jwt_of_a_retired_identity_does_not_recreate_it(app, db):
    from lms.models import User
    from lms.testing import jwt_headers

    settings = app.registry.settings
    create_user(db, api.retired_username(settings, "gone"),
                email=api.retired_email(settings, "gone@example.com"))
    ghost = User(username="gone", email="gone@example.com", anonymous_id="b" * 32,
                 is_active=True, is_staff=False, is_superuser=False, name="Gone")
    response = app.get("/api/user/v1/me", headers=jwt_headers(app, ghost), status=401)
    assert response.json == {"detail": "Invalid token."}
    assert db.scalar(select(User.id).where(User.username == "gone")) is None


def test_jwt_for_a_new_user_with_a_taken_email_gets_a_placeholder(app, db):
    from lms.models import User
    from lms.testing import jwt_headers

    create_user(db, "owner", email="shared@example.com")
    newcomer = User(username="newcomer", email="shared@example.com", anonymous_id="c" * 32,
                    is_active=True, is_staff=False, is_superuser=False, name="")
    assert app.get("/api/user/v1/me", headers=jwt_headers(app, newcomer)).json == {
        "username": "newcomer"}
    assert db.scalar(select(User.email).where(User.username == "newcomer")) == \
        "newcomer@jwt-user.invalid"
