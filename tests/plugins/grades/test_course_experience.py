"""course_experience: course_deadlines_info and reset_course_deadlines."""
from datetime import datetime, timezone

import pytest

from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_home
from tests.plugins.courses.factories import make_course

KEY = "course-v1:edX+Pace+2026"
INFO = "/api/course_experience/v1/course_deadlines_info/"
RESET = "/api/course_experience/v1/reset_course_deadlines"
BANNER = {"missed_deadlines": False, "missed_gated_content": False,
          "content_type_gating_enabled": False, "verified_upgrade_link": None}


@pytest.fixture
def learner(db):
    make_course(db, course_key=KEY, self_paced=True, commit=False)
    user = create_user(db, "ann")
    enrollment_api.enroll(db, user.id, KEY)
    db.commit()
    return user


def test_deadlines_info(app, db, learner):
    headers = jwt_headers(app, learner)
    assert app.get(INFO + KEY, headers=headers).json == {"dates_banner_info": BANNER}
    app.get(INFO + KEY, status=401)
    app.get(INFO + "course-v1:edX+Nope+2026", headers=headers, status=404)
    staff = create_user(db, "root", is_staff=True)
    db.commit()
    app.get(INFO + KEY, headers=jwt_headers(app, staff), status=200)


def test_reset_deadlines_moves_schedule_start(app, db, learner):
    response = app.post_json(RESET, {"course_key": KEY}, headers=jwt_headers(app, learner))
    link = "http://localhost:2000/course/course-v1:edX+Pace+2026/dates"
    assert response.json == {
        "body": f'<a href="{link}">View all dates</a>',
        "header": "Your due dates have been successfully shifted to help you stay on track.",
        "link": link, "link_text": "View all dates", "message": "Deadlines successfully reset."}
    db.expire_all()
    schedule = course_home.get_schedule(db, learner.id, KEY)
    assert (datetime.now(timezone.utc) - schedule.start_date).total_seconds() < 60


def test_reset_deadlines_bad_input(app, db, learner):
    headers = jwt_headers(app, learner)
    assert app.post_json(RESET, {}, headers=headers, status=400).json == {
        "detail": "'course_key' is required."}
    assert app.post_json(RESET, {"course_key": "junk"}, headers=headers, status=400).json == {
        "detail": "Unable to reset deadlines."}
    app.post_json(RESET, {"course_key": KEY}, status=401)
