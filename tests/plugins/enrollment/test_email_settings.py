"""``POST /api/change_email_settings``: a learner's per-course opt-out of bulk email."""
import json
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth import sign, token_digest
from lms.models import LoginSession
from lms.testing import TEST_SETTINGS, create_user, jwt_headers
from lms.timeutil import utcnow
from lms.tracking import tracker_of
from plugins.enrollment import api
from plugins.enrollment.models import CourseEmailOptout

URL = "/api/change_email_settings"
COURSE = "course-v1:MailX+M1+2026"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}


@pytest.fixture
def alice(db):
    return create_user(db, "alice", email="alice@example.com", password=None)


def optouts(db):
    db.expire_all()
    return {(row.user_id, row.course_key) for row in db.scalars(select(CourseEmailOptout))}


def events(app):
    return [json.loads(line) for line in tracker_of(app.registry).lines]


def test_opt_out_then_in(app, db, alice):
    headers = jwt_headers(app, alice)
    tracker_of(app.registry).lines.clear()
    assert app.post_json(URL, {"course_id": COURSE}, headers=headers).json == {"success": True}
    assert optouts(db) == {(alice.id, COURSE)}
    assert api.is_opted_out_of_email(db, alice.id, COURSE)
    assert api.email_optout_user_ids(db, COURSE) == {alice.id}
    # Twice is still one row.
    app.post_json(URL, {"course_id": COURSE, "receive_emails": False}, headers=headers)
    assert optouts(db) == {(alice.id, COURSE)}
    assert app.post_json(URL, {"course_id": COURSE, "receive_emails": True},
                         headers=headers).json == {"success": True}
    assert optouts(db) == set()
    recorded = [(e["event_type"], e["event"], e["page"]) for e in events(app)]
    assert recorded == [
        ("change-email-settings", {"receive_emails": "no", "course": COURSE}, "dashboard"),
        ("change-email-settings", {"receive_emails": "no", "course": COURSE}, "dashboard"),
        ("change-email-settings", {"receive_emails": "yes", "course": COURSE}, "dashboard"),
    ]


def test_form_body_reads_any_nonempty_value_as_opt_in(app, db, alice):
    headers = jwt_headers(app, alice)
    app.post(URL, {"course_id": COURSE}, headers=headers)
    assert optouts(db) == {(alice.id, COURSE)}
    # Upstream's ``if receive_emails:``: the text "false" is true.
    app.post(URL, {"course_id": COURSE, "receive_emails": "false"}, headers=headers)
    assert optouts(db) == set()
    app.post(URL, {"course_id": COURSE, "receive_emails": ""}, headers=headers)
    assert optouts(db) == {(alice.id, COURSE)}


def test_one_learner_does_not_touch_another(app, db, alice):
    bob = create_user(db, "bob", password=None)
    app.post_json(URL, {"course_id": COURSE}, headers=jwt_headers(app, bob))
    app.post_json(URL, {"course_id": COURSE, "receive_emails": True},
                  headers=jwt_headers(app, alice))
    assert optouts(db) == {(bob.id, COURSE)}


def session_cookies(db, user, csrf):
    key = secrets.token_urlsafe()
    db.add(LoginSession(key_hash=token_digest(key), user_id=user.id,
                        expires=utcnow() + timedelta(hours=1)))
    db.commit()
    return {"Cookie": f"sessionid={sign(TEST_SETTINGS['lms.secret_key'], key)}; "
                      f"csrftoken={csrf}"}


def test_session_caller_needs_csrf(app, db, alice):
    csrf = "C" * 32
    cookies = session_cookies(db, alice, csrf)
    response = app.post_json(URL, {"course_id": COURSE}, headers=cookies, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    assert optouts(db) == set()
    app.post_json(URL, {"course_id": COURSE}, headers={**cookies, "X-CSRFToken": csrf})
    assert optouts(db) == {(alice.id, COURSE)}


def test_anonymous_is_401(app, db):
    response = app.post_json(URL, {"course_id": COURSE}, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


@pytest.mark.parametrize("body, errors", [
    ({}, {"course_id": ["This field is required."]}),
    ({"course_id": "not a key"}, {"course_id": ["'not a key' is not a valid course key."]}),
    ({"course_id": 7}, {"course_id": ["'7' is not a valid course key."]}),
    (["x"], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
])
def test_bad_input_is_400(app, db, alice, body, errors):
    response = app.post_json(URL, body, headers=jwt_headers(app, alice), status=400)
    assert response.json == errors
    assert optouts(db) == set()


def test_malformed_json_is_400(app, db, alice):
    response = app.post(URL, b"{", headers={**jwt_headers(app, alice),
                                             "Content-Type": "application/json"}, status=400)
    assert response.json["detail"].startswith("JSON parse error - ")
