"""``POST /api/edxnotes/v1/retire_user/``: the retirement pipeline's notes step."""
from lms.testing import create_user, jwt_headers

URL = "/api/edxnotes/v1/retire_user/"


def retiring(app, db, user, state):
    from plugins.accounts import retirement

    status = retirement.create_retirement(db, app.registry.settings, user)
    status.current_state_id = retirement.find_state(retirement.all_states(db), state).id
    db.commit()


def test_retire_notes(app, db):
    admin = create_user(db, "admin", is_staff=True, is_superuser=True)
    learner = create_user(db, "leaving")
    headers = jwt_headers(app, admin)
    nobody = app.post_json(URL, {"username": "leaving"}, headers=headers, status=404)
    assert nobody.body == b""
    retiring(app, db, learner, "RETIRING_NOTES")
    app.post_json(URL, {"username": "leaving"}, headers=headers, status=204)
    assert app.post_json(URL, {}, headers=headers, status=400).json == {
        "username": ["This field is required."]}
    app.post_json(URL, {"username": "leaving"}, headers=jwt_headers(app, learner), status=403)
    app.post_json(URL, {"username": "leaving"}, status=401)


def test_a_retirement_in_a_finished_state_is_405(app, db):
    admin = create_user(db, "admin", is_staff=True, is_superuser=True)
    learner = create_user(db, "done")
    retiring(app, db, learner, "COMPLETE")
    answer = app.post_json(URL, {"username": "done"}, headers=jwt_headers(app, admin),
                           status=405)
    assert isinstance(answer.json, str) and "COMPLETE" in answer.json
