"""Concurrent ``POST /api/enrollment/v1/enrollment`` over real HTTP (PostgreSQL only).

waitress serves the app with one thread per client, and the clients are released
together; every request has its own connection and commits for real. SQLite is
skipped: it has one writer at a time (a second transaction that writes waits on the
database lock, or fails with "database is locked"), so the requests would run one
after the other and no race would be tested.
"""
import threading

import pytest
import requests
from sqlalchemy import func, select

from lms.testing import create_user, jwt_headers, serve_in_thread
from plugins.courses import api as courses_api
from plugins.enrollment import api
from plugins.enrollment.models import Enrollment, EnrollmentHistory

pytestmark = pytest.mark.commits

COURSE = "course-v1:edX+HttpRace+2026"
CLIENTS = 50
SEATS = 10
ENROLLMENT = "/api/enrollment/v1/enrollment"
# Upstream's answer when CourseEnrollment.enroll raises CourseFullError (a
# CourseEnrollmentError: 400 with this message).
FULL = ("An error occurred while creating the new course enrollment for user '{username}' "
        "in course '{course_id}'")


@pytest.fixture
def server(app, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("races need PostgreSQL's concurrent writers (set LMS_TEST_DATABASE_URL); "
                    "SQLite runs one writing transaction at a time")
    with serve_in_thread(app.app, threads=CLIENTS) as url:
        yield url


def add_course(db, max_students=None):
    settings = {}
    if max_students is not None:
        settings["max_student_enrollments_allowed"] = max_students
    courses_api.store_course(db, COURSE, {
        "display_name": "Race", "start": "2025-01-01T00:00:00Z",
        "enrollment_start": "2025-01-01T00:00:00Z", "settings": settings,
    }, [{"usage_key": "block-v1:edX+HttpRace+2026+type@course+block@course",
         "block_type": "course", "block_id": "course", "display_name": "Race",
         "children": [], "fields": {}, "data": {}}])
    db.commit()


def post_together(url, headers_of_each):
    """POST the enrollment of each client's headers, all released at once; the
    ``(status, body)`` of each, in order."""
    start = threading.Barrier(len(headers_of_each))
    answers = [None] * len(headers_of_each)

    def run(position):
        start.wait(timeout=30)
        try:
            response = requests.post(url + ENROLLMENT, json={"course_details": {
                "course_id": COURSE}}, headers=headers_of_each[position], timeout=120)
            answers[position] = (response.status_code, response.json())
        except Exception as exc:  # reported to the test
            answers[position] = (None, repr(exc))

    threads = [threading.Thread(target=run, args=(position,))
               for position in range(len(headers_of_each))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return answers


def test_50_parallel_posts_of_one_learner_end_with_one_active_enrollment(app, db, server):
    add_course(db)
    alice = create_user(db, "alice", password=None)
    headers = jwt_headers(app, alice)
    answers = post_together(server, [headers] * CLIENTS)
    # Already enrolled is 200 with the enrollment, as the first enrollment is.
    assert [status for status, _ in answers] == [200] * CLIENTS, answers
    for _, body in answers:
        assert (body["user"], body["mode"], body["is_active"]) == ("alice", "audit", True)
        assert body["course_details"]["course_id"] == COURSE
    db.rollback()
    rows = db.scalars(select(Enrollment)).all()
    assert [(row.user_id, row.course_key, row.mode, row.is_active) for row in rows] == [
        (alice.id, COURSE, "audit", True)]
    # One change: the creation.
    assert db.scalar(select(func.count()).select_from(EnrollmentHistory)) == 1


def test_50_learners_racing_for_10_seats_admit_exactly_10(app, db, server):
    add_course(db, max_students=SEATS)
    learners = [create_user(db, f"learner{number}", password=None) for number in range(CLIENTS)]
    answers = post_together(server, [jwt_headers(app, learner) for learner in learners])
    admitted = [learner.username for learner, (status, _) in zip(learners, answers)
                if status == 200]
    assert len(admitted) == SEATS, answers
    for learner, (status, body) in zip(learners, answers):
        if status == 200:
            assert (body["user"], body["is_active"]) == (learner.username, True)
        else:
            assert (status, body) == (400, {"message": FULL.format(
                username=learner.username, course_id=COURSE)}), (learner.username, body)
    db.rollback()
    assert api.count_active(db, COURSE) == SEATS
    enrolled = db.scalars(select(Enrollment.user_id).where(Enrollment.course_key == COURSE)
                          .order_by(Enrollment.user_id)).all()
    assert enrolled == sorted(learner.id for learner in learners
                              if learner.username in admitted)
