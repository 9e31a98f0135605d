"""grades/v1/courses/ (+ {course_id}/) and policy/courses/{course_id}/."""
import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades import scores
from plugins.grades.models import CourseGrade
from tests.plugins.grades.test_recompute import KEY, POLICY, key, tree
from tests.plugins.courses.factories import make_course

BASE = "/api/grades/v1/"
DETAIL = BASE + f"courses/{KEY}/"



@pytest.fixture
def world(app, db):
    make_course(db, tree(), course_key=KEY, grading_policy=POLICY)
    ann, bob = create_user(db, "ann"), create_user(db, "bob")
    staff = create_user(db, "boss", is_staff=True)
    course_staff = create_user(db, "teacher")
    grant_role(db, course_staff, "staff", parse_course_key(KEY))
    enrollment_api.enroll(db, ann.id, KEY)
    enrollment_api.enroll(db, bob.id, KEY, mode="masters")
    db.commit()
    scores.record_score(db, user_id=ann.id, course_key=KEY, usage_key=key("problem", "p1"),
                        earned=1, possible=1, source="test")
    db.commit()
    return dict(ann=ann, bob=bob, staff=staff, course_staff=course_staff)


def test_own_grade_and_staff_list(app, db, world):
    ann = world["ann"]
    body = app.get(DETAIL, {"username": "ann"}, headers=jwt_headers(app, ann)).json
    assert body == [{"username": "ann", "email": "", "course_id": KEY, "passed": True,
                     "percent": 0.5, "letter_grade": "Pass"}]
    assert db.scalar(select(CourseGrade.percent).where(CourseGrade.user_id == ann.id)) == 0.5
    page = app.get(DETAIL, headers=jwt_headers(app, world["staff"])).json
    assert page["previous"] is None and page["next"] is None
    assert page["results"] == [
        {"username": "ann", "email": "", "course_id": KEY, "passed": True, "percent": 0.5,
         "letter_grade": "Pass"},
        {"username": "bob", "email": "bob@example.com", "course_id": KEY, "passed": False,
         "percent": 0.0, "letter_grade": None}]
    listed = app.get(BASE + "courses/", {"course_id": KEY, "page_size": 1},
                     headers=jwt_headers(app, world["staff"])).json
    assert [r["username"] for r in listed["results"]] == ["ann"] and listed["next"]
    second = app.get(listed["next"], headers=jwt_headers(app, world["staff"])).json
    assert [r["username"] for r in second["results"]] == ["bob"] and second["previous"]


def test_who_may_read(app, db, world):
    app.get(DETAIL, {"username": "ann"}, status=401)
    # another learner, course staff: IsStaff | IsUserInUrl only
    for role in ("bob", "course_staff"):
        response = app.get(DETAIL, {"username": "ann"},
                           headers=jwt_headers(app, world[role]), status=403)
        assert "developer_message" in response.json
    app.get(DETAIL, headers=jwt_headers(app, world["ann"]), status=403)
    # a restricted application: the scope, the org filter and the user filter
    restricted = dict(is_restricted=True, scopes=["grades:read"],
                      filters=["content_org:edX", "user:me"])
    assert app.get(DETAIL, {"username": "ann"},
                   headers=jwt_headers(app, world["ann"], **restricted)).json[0]["percent"] == 0.5
    app.get(DETAIL, {"username": "bob"}, headers=jwt_headers(app, world["ann"], **restricted),
            status=403)
    app.get(DETAIL, {"username": "ann"}, status=403, headers=jwt_headers(
        app, world["ann"], is_restricted=True, scopes=["grades:read"], filters=["user:me"]))
    app.get(DETAIL, {"username": "ann"}, status=403, headers=jwt_headers(
        app, world["ann"], is_restricted=True, filters=["content_org:edX", "user:me"]))


def test_bad_input(app, db, world):
    headers = jwt_headers(app, world["staff"])
    assert app.get(BASE + "courses/", headers=headers, status=400).json == {
        "developer_message": "The provided course key cannot be parsed.",
        "error_code": "invalid_course_key"}
    assert app.get(BASE + "courses/", {"course_id": "nope"}, headers=headers,
                   status=400).json["error_code"] == "invalid_course_key"
    assert app.get(BASE + "courses/course-v1:edX+None+2026/", headers=headers,
                   status=404).json == {
        "developer_message": "Requested grade for unknown course course-v1:edX+None+2026",
        "error_code": "course_does_not_exist"}
    assert app.get(DETAIL, {"username": "ghost"}, headers=headers,
                   status=404).json["error_code"] == "user_does_not_exist"
    assert app.get(DETAIL, {"username": "teacher"}, headers=headers,
                   status=404).json["error_code"] == "user_not_enrolled"
    assert app.get(DETAIL, {"cursor": "!!"}, headers=headers, status=404)


def test_list_is_a_fixed_number_of_queries(app, db, world, query_counter):
    headers = jwt_headers(app, world["staff"])
    app.get(DETAIL, headers=headers)  # stores the missing grades
    with query_counter() as two:
        assert len(app.get(DETAIL, headers=headers).json["results"]) == 2
    for n in range(8):
        enrollment_api.enroll(db, create_user(db, f"extra{n}").id, KEY)
    db.commit()
    app.get(DETAIL, headers=headers)
    with query_counter() as ten:
        assert len(app.get(DETAIL, headers=headers).json["results"]) == 10
    assert len(two) == len(ten)


def test_grading_policy(app, db, world):
    url = BASE + f"policy/courses/{KEY}/"
    expected = [{"assignment_type": "Homework", "count": 2, "dropped": 0, "weight": 1.0}]
    assert app.get(url, headers=jwt_headers(app, world["course_staff"])).json == expected
    assert app.get(url, headers=jwt_headers(app, world["staff"])).json == expected
    app.get(url, status=401)
    assert app.get(url, headers=jwt_headers(app, world["ann"]), status=403).json == {
        "developer_message": "The course does not exist.",
        "error_code": "user_or_course_does_not_exist"}
    assert app.get(BASE + "policy/courses/course-v1:edX+None+2026/",
                   headers=jwt_headers(app, world["staff"]), status=404).json[
        "error_code"] == "user_or_course_does_not_exist"
    assert app.get(BASE + "policy/courses/bad/", headers=jwt_headers(app, world["staff"]),
                   status=(400, 404)).status_code in (400, 404)


def test_default_policy(app, db, world):
    make_course(db, tree(), course_key="course-v1:edX+Plain+2026")
    body = app.get(BASE + "policy/courses/course-v1:edX+Plain+2026/",
                   headers=jwt_headers(app, world["staff"])).json
    assert body == [
        {"assignment_type": "Homework", "count": 12, "dropped": 2, "weight": 0.15},
        {"assignment_type": "Lab", "count": 12, "dropped": 2, "weight": 0.15},
        {"assignment_type": "Midterm Exam", "count": 1, "dropped": 0, "weight": 0.3},
        {"assignment_type": "Final Exam", "count": 1, "dropped": 0, "weight": 0.4}]


# -- subsection/, section_grades_breakdown/, submission_history/ ----------------------------

def test_subsection_grade_with_override_history(app, db, world):
    from tests.plugins.grades.test_gradebook import BASE as GRADEBOOK
    teacher, ann = world["course_staff"], world["ann"]
    hw2 = key("sequential", "hw2")
    url = BASE + f"subsection/{hw2}/"
    # never stored: computed on the fly
    body = app.get(url, {"user_id": ann.id}, headers=jwt_headers(app, teacher)).json
    assert body == {"success": True, "subsection_id": hw2, "user_id": ann.id, "course_id": KEY,
                    "original_grade": {"earned_all": 0.0, "possible_all": 2.0,
                                       "earned_graded": 0.0, "possible_graded": 2.0},
                    "override": None, "history": []}
    settings = dict(app.registry.settings)
    app.registry.settings["grades.writable_gradebook"] = "true"
    try:
        for earned in (1, 2):
            app.post_json(f"{BASE}gradebook/{KEY}/bulk-update", [
                {"user_id": ann.id, "usage_id": hw2,
                 "grade": {"earned_graded_override": earned, "comment": f"c{earned}"}}],
                headers=jwt_headers(app, teacher), status=202)
    finally:
        app.registry.settings.clear()
        app.registry.settings.update(settings)
    body = app.get(url, {"user_id": ann.id}, headers=jwt_headers(app, teacher)).json
    assert body["override"] == {"earned_all_override": None, "possible_all_override": None,
                                "earned_graded_override": 2.0,
                                "possible_graded_override": None}
    assert [(h["history_type"], h["override_reason"], h["history_user"], h["system"])
            for h in body["history"]] == [("+", "c1", "teacher", "GRADEBOOK"),
                                          ("~", "c2", "teacher", "GRADEBOOK")]
    limited = app.get(url, {"user_id": ann.id, "history_record_limit": "1"},
                      headers=jwt_headers(app, teacher)).json
    assert [h["override_reason"] for h in limited["history"]] == ["c2"]
    assert GRADEBOOK
    # gates and bad input
    app.get(url, {"user_id": ann.id}, status=401)
    assert app.get(url, {"user_id": ann.id}, headers=jwt_headers(app, ann),
                   status=403).json["error_code"] == "user_permissions"
    assert app.get(url, {"user_id": "x"}, headers=jwt_headers(app, teacher),
                   status=404).json == {"developer_message": "Invalid UserID",
                                        "error_code": "invalid_user_id"}
    assert app.get(BASE + "subsection/nonsense/", {"user_id": ann.id},
                   headers=jwt_headers(app, teacher), status=404).json[
        "error_code"] == "invalid_usage_key"
    hidden = app.get(url, {"user_id": world["course_staff"].id + 999},
                     headers=jwt_headers(app, teacher)).json
    assert hidden["success"] is False and hidden["error_message"] == (
        "Cannot override subsection grade: subsection is not available for target learner.")


def test_section_grades_breakdown(app, db, world):
    url = BASE + "section_grades_breakdown/"
    body = app.get(url, {"course_id": KEY}, headers=jwt_headers(app, world["staff"])).json
    assert [(r["username"], r["passed"], r["current_grade"]) for r in body["results"]] == [
        ("ann", True, 50), ("bob", False, 0)]
    assert [e["label"] for e in body["results"][0]["section_breakdown"]] == [
        "HW 01", "HW 02", "HW Avg"]
    only = app.get(url, {"username": "bob"}, headers=jwt_headers(app, world["staff"])).json
    assert [r["username"] for r in only["results"]] == ["bob"]
    app.get(url, status=401)
    app.get(url, headers=jwt_headers(app, world["course_staff"]), status=403)
    app.get(url, headers=jwt_headers(app, world["ann"]), status=403)
    assert app.get(url, {"course_id": "bad"}, headers=jwt_headers(app, world["staff"]),
                   status=400).json["error_code"] == "invalid_course_key"


def test_submission_history(app, db, world):
    url = BASE + f"submission_history/{KEY}/"
    body = app.get(url, {"username": "ann"}, headers=jwt_headers(app, world["staff"])).json
    (entry,) = body["results"]
    assert (entry["course_id"], entry["course_name"], entry["user"]) == (
        KEY, "Grades Course", "ann")
    assert [p["location"] for p in entry["problems"]] == [
        key("problem", "p1"), key("problem", "p2"), key("problem", "p3")]
    assert entry["problems"][0]["name"] == "P1"
    app.get(url, status=401)
    app.get(url, headers=jwt_headers(app, world["ann"]), status=403)
    app.get(url, headers=jwt_headers(app, world["course_staff"]), status=403)
    assert app.get(BASE + "submission_history/course-v1:edX+None+1/",
                   headers=jwt_headers(app, world["staff"]), status=404)


@pytest.mark.commits  # throttle hits commit apart from the request
def test_submission_history_is_throttled_per_user(app_factory, db, world):
    throttled = app_factory(**{"throttle.enabled": "true",
                               "grades.submission_history_rate": "2/m"})
    url = BASE + f"submission_history/{KEY}/"
    headers = jwt_headers(throttled, world["staff"])
    for _ in range(2):
        assert throttled.get(url, headers=headers).json["results"]
    response = throttled.get(url, headers=headers, status=429)
    assert response.json["detail"].startswith("Request was throttled.")
    assert int(response.headers["Retry-After"]) >= 1
    # another staff user has their own allowance
    other = create_user(db, "other_boss", is_staff=True)
    db.commit()
    throttled.get(url, headers=jwt_headers(throttled, other))
