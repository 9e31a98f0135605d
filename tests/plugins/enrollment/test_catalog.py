"""The courses plugin's catalog answered by the real enrollment plugin."""
from datetime import UTC, datetime, timedelta

from lms.testing import create_user, jwt_headers
from plugins.enrollment import api
from tests.plugins.courses.factories import Node, make_course

LIST = "/api/courses/v1/courses/"
CLOSED = {"enrollment_end": datetime.now(UTC) - timedelta(days=1)}


def closed_course(db, course_key):
    return make_course(db, Node("course", "course"), course_key=course_key,
                       display_name=course_key, **CLOSED)


def ids(response):
    return [course["id"] for course in response.json["results"]]


def test_a_closed_course_the_learner_is_enrolled_in_is_listed(app, db):
    learner = create_user(db, "learner", password=None)
    closed_course(db, "course-v1:edX+Closed+1")
    closed_course(db, "course-v1:edX+Mine+1")
    api.enroll(db, learner.id, "course-v1:edX+Mine+1")
    db.commit()
    response = app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, learner))
    assert "course-v1:edX+Mine+1" in ids(response)


def test_catalog_asks_enrollments_in_a_fixed_number_of_queries(app, db, query_counter):
    learner = create_user(db, "learner", password=None)
    closed_course(db, "course-v1:edX+C00+1")
    api.enroll(db, learner.id, "course-v1:edX+C00+1")
    db.commit()
    headers = jwt_headers(app, learner)
    params = {"username": "learner", "page_size": 20}
    with query_counter() as one:
        app.get(LIST, params, headers=headers)
    for number in range(1, 15):
        closed_course(db, f"course-v1:edX+C{number:02}+1")
        api.enroll(db, learner.id, f"course-v1:edX+C{number:02}+1")
    db.commit()
    with query_counter() as fifteen:
        assert len(ids(app.get(LIST, params, headers=headers))) == 15
    assert len(one) == len(fifteen)


def test_course_ids_asks_enrollments_in_a_fixed_number_of_queries(app, db, query_counter):
    learner = create_user(db, "learner", password=None)
    closed_course(db, "course-v1:edX+C00+1")
    api.enroll(db, learner.id, "course-v1:edX+C00+1")
    db.commit()
    headers = jwt_headers(app, learner)
    params = {"username": "learner", "role": "load", "page_size": 20}
    with query_counter() as one:
        app.get("/api/courses/v1/course_ids/", params, headers=headers)
    for number in range(1, 15):
        closed_course(db, f"course-v1:edX+C{number:02}+1")
        api.enroll(db, learner.id, f"course-v1:edX+C{number:02}+1")
    db.commit()
    with query_counter() as fifteen:
        body = app.get("/api/courses/v1/course_ids/", params, headers=headers).json
    assert len(body["results"]) == 15
    assert len(one) == len(fifteen)
