"""The writable gradebook: entries, grading-info, bulk-update (overrides)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_grades, scores
from plugins.grades.models import (CourseGrade, SubsectionOverride,
                                   SubsectionOverrideHistory)
from tests.plugins.courses.factories import make_course
from tests.plugins.grades.test_recompute import KEY, POLICY, key, tree

BASE = f"/api/grades/v1/gradebook/{KEY}/"
HW1, HW2 = key("sequential", "hw1"), key("sequential", "hw2")



@pytest.fixture
def settings(settings):
    return {**settings, "grades.writable_gradebook": "true"}


@pytest.fixture
def world(app, db):
    make_course(db, tree(), course_key=KEY, grading_policy=POLICY)
    ann, bob = create_user(db, "ann"), create_user(db, "bob")
    teacher = create_user(db, "teacher")
    grant_role(db, teacher, "staff", parse_course_key(KEY))
    enrollment_api.enroll(db, ann.id, KEY)
    enrollment_api.enroll(db, bob.id, KEY, mode="masters")
    db.commit()
    scores.record_score(db, user_id=ann.id, course_key=KEY, usage_key=key("problem", "p1"),
                        earned=1, possible=1, source="test")
    db.commit()
    return dict(ann=ann, bob=bob, teacher=teacher,
                staff=create_user(db, "boss", is_staff=True))


def test_single_entry(app, world):
    body = app.get(BASE, {"username": "ann"}, headers=jwt_headers(app, world["teacher"])).json
    assert body == {"user_id": world["ann"].id, "username": "ann", "email": "", "percent": 0.5,
                    "section_breakdown": [
                        {"attempted": True, "category": "Homework", "label": "HW 01",
                         "module_id": HW1, "percent": 1.0, "score_earned": 2.0,
                         "score_possible": 2.0, "subsection_name": "HW one"},
                        {"attempted": False, "category": "Homework", "label": "HW 02",
                         "module_id": HW2, "percent": 0.0, "score_earned": 0,
                         "score_possible": 0, "subsection_name": "HW two"}]}


def test_list_filters_and_counts(app, db, world, query_counter):
    headers = jwt_headers(app, world["staff"])
    page = app.get(BASE, headers=headers).json
    assert [(e["username"], e["email"]) for e in page["results"]] == [
        ("ann", ""), ("bob", "bob@example.com")]
    assert (page["total_users_count"], page["filtered_users_count"]) == (2, 2)
    assert page["next"] is None
    only_bob = app.get(BASE, {"enrollment_mode": "masters"}, headers=headers).json
    assert [e["username"] for e in only_bob["results"]] == ["bob"]
    assert (only_bob["total_users_count"], only_bob["filtered_users_count"]) == (2, 1)
    assert [e["username"] for e in app.get(BASE, {"user_contains": "BOB@"},
                                           headers=headers).json["results"]] == ["bob"]
    assert [e["username"] for e in app.get(BASE, {"username_contains": "an"},
                                           headers=headers).json["results"]] == ["ann"]
    assert app.get(BASE, {"cohort_id": "999"}, headers=headers).json["results"] == []
    # course grade filters read stored grades; min 0 also lists learners without one
    course_grades.course_grade(app.registry, db, world["ann"].id,
                               course_grades.courses_api.get_course(db, KEY))
    db.commit()
    assert [e["username"] for e in app.get(BASE, {"course_grade_min": "40"},
                                           headers=headers).json["results"]] == ["ann"]
    assert [e["username"] for e in app.get(BASE, {"course_grade_max": "10"},
                                           headers=headers).json["results"]] == ["bob"]
    assert app.get(BASE, {"course_grade_min": "x"}, headers=headers, status=400)
    grant_role(db, world["bob"], "staff", parse_course_key(KEY))
    db.commit()
    assert [e["username"] for e in app.get(BASE, {"excluded_course_roles": "all"},
                                           headers=headers).json["results"]] == ["ann"]
    with query_counter() as two:
        app.get(BASE, headers=headers)
    for n in range(6):
        enrollment_api.enroll(db, create_user(db, f"extra{n}").id, KEY)
    db.commit()
    with query_counter() as eight:
        assert len(app.get(BASE, headers=headers).json["results"]) == 8
    assert len(two) == len(eight)


def test_gates(app, app_factory, db, world):
    app.get(BASE, status=401)
    assert app.get(BASE, headers=jwt_headers(app, world["ann"]), status=403).json == {
        "developer_message": "The requesting user does not have course author permissions.",
        "error_code": "user_permissions"}
    assert app.get("/api/grades/v1/gradebook/course-v1:edX+None+1/",
                   headers=jwt_headers(app, world["staff"]), status=404).json[
        "error_code"] == "course_does_not_exist"
    assert app.get(BASE, {"username": "ghost"}, headers=jwt_headers(app, world["staff"]),
                   status=404).json["error_code"] == "user_does_not_exist"
    assert app.get(BASE, {"username": "teacher"}, headers=jwt_headers(app, world["staff"]),
                   status=404).json["error_code"] == "user_not_enrolled"
    off = app_factory()  # the flag off
    assert off.get(BASE, headers=jwt_headers(off, world["staff"]), status=403).json == {
        "developer_message": "The writable gradebook feature is not enabled for this course.",
        "error_code": "feature_not_enabled"}
    # grading-info has no feature gate
    off.get(BASE + "grading-info", headers=jwt_headers(off, world["staff"]), status=200)


def test_grading_info(app, world):
    body = app.get(BASE + "grading-info", headers=jwt_headers(app, world["teacher"])).json
    assert body == {
        "grade_cutoffs": {"Pass": 0.5},
        "assignment_types": {"Homework": {"type": "Homework", "short_label": "HW",
                                          "min_count": 2, "drop_count": 0, "weight": 1.0}},
        "subsections": [
            {"assignment_type": "Homework", "graded": True, "short_label": "HW 01",
             "module_id": HW1, "display_name": "HW one"},
            {"assignment_type": "Homework", "graded": True, "short_label": "HW 02",
             "module_id": HW2, "display_name": "HW two"},
            {"assignment_type": None, "graded": False, "short_label": None,
             "module_id": key("sequential", "practice"), "display_name": "Practice"}],
        "grades_frozen": False, "can_see_bulk_management": False}
    graded = app.get(BASE + "grading-info", {"graded_only": "true"},
                     headers=jwt_headers(app, world["teacher"])).json
    assert [s["module_id"] for s in graded["subsections"]] == [HW1, HW2]
    app.get(BASE + "grading-info", headers=jwt_headers(app, world["ann"]), status=403)


def test_bulk_update(app, db, world):
    headers = jwt_headers(app, world["teacher"])
    ann = world["ann"]
    item = {"user_id": ann.id, "usage_id": HW2,
            "grade": {"earned_graded_override": 2, "possible_graded_override": None,
                      "earned_all_override": None, "possible_all_override": None,
                      "comment": "regraded"}}
    response = app.post_json(BASE + "bulk-update", [item], headers=headers, status=202)
    assert response.json == [{"user_id": ann.id, "usage_id": HW2, "success": True,
                              "reason": None}]
    override = db.scalar(select(SubsectionOverride))
    assert (override.earned_graded_override, override.possible_graded_override,
            override.override_reason, override.system) == (2.0, None, "regraded", "GRADEBOOK")
    # recomputed synchronously: both homeworks full
    assert db.scalar(select(CourseGrade.percent).where(CourseGrade.user_id == ann.id)) == 1.0
    mixed = [dict(item, grade={"earned_graded_override": 1}),
             {"user_id": 99999, "usage_id": HW1, "grade": {}},
             {"user_id": ann.id, "usage_id": key("sequential", "nope"), "grade": {}},
             {"user_id": world["teacher"].id, "usage_id": HW1, "grade": {}}]
    body = app.post_json(BASE + "bulk-update", mixed, headers=headers, status=422).json
    assert [(r["success"], r["reason"]) for r in body] == [
        (True, None), (False, "User matching query does not exist."),
        (False, f"usage_key {key('sequential', 'nope')} does not exist in this course."),
        (False, "CourseEnrollment matching query does not exist.")]
    history = db.scalars(select(SubsectionOverrideHistory.history_type)
                         .order_by(SubsectionOverrideHistory.history_id)).all()
    assert history == ["+", "~"]
    app.post_json(BASE + "bulk-update", {"user_id": 1}, headers=headers, status=400)
    app.post_json(BASE + "bulk-update", [{"user_id": ann.id, "usage_id": HW1,
                                          "grade": {"earned_graded_override": "x"}}],
                  headers=headers, status=400)
    app.post_json(BASE + "bulk-update", [item], status=401)
    app.post_json(BASE + "bulk-update", [item], headers=jwt_headers(app, ann), status=403)


def test_grades_frozen(app_factory, settings, db, world):
    frozen = app_factory(**{**settings, "grades.freeze_days": "30"})
    make_course(db, tree(), course_key=KEY, grading_policy=POLICY,
                end=datetime(2021, 1, 1, tzinfo=timezone.utc))
    body = frozen.post_json(BASE + "bulk-update", [], headers=jwt_headers(
        frozen, world["teacher"]), status=403).json
    assert body == {"developer_message": "Grades are frozen for this course.",
                    "error_code": "grades_frozen"}
    info = frozen.get(BASE + "grading-info", headers=jwt_headers(frozen, world["teacher"])).json
    assert info["grades_frozen"] is True
