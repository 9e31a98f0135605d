"""course_home progress/{course_key}[/{student_id}] on both paths, through the grades
computed by course_grades (a real score recorded for one problem)."""
import pytest

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades import scores
from tests.plugins.courses.factories import Node, make_course, usage_key

KEY = "course-v1:edX+Prog+2026"
POLICY = {"GRADER": [{"type": "Homework", "short_label": "HW", "min_count": 2,
                      "drop_count": 0, "weight": 1.0}],
          "GRADE_CUTOFFS": {"Pass": 0.5}}
ONE = {"xml": "<problem><multiplechoiceresponse/></problem>"}
BASES = ["/api/course_home/progress/", "/api/course_home/v1/progress/"]


def key(kind, block_id):
    return usage_key(KEY, kind, block_id)


@pytest.fixture
def world(app, db):
    tree = Node("course", "course", display_name="Progress Course", children=[
        Node("chapter", "ch1", display_name="Week 1", children=[
            Node("sequential", "hw1", display_name="HW one", graded=True, format="Homework",
                 children=[Node("vertical", "u1", children=[
                     Node("problem", "p1", display_name="P1", data=ONE)])]),
            Node("sequential", "hw2", display_name="HW two", graded=True, format="Homework",
                 children=[Node("vertical", "u2", children=[
                     Node("problem", "p2", display_name="P2", data=ONE)])]),
        ])])
    make_course(db, tree, course_key=KEY, grading_policy=POLICY, commit=False)
    ann = create_user(db, "ann")
    bob = create_user(db, "bob")
    staff = create_user(db, "carol")
    permissions.grant_role(db, staff, "staff", course_key=parse_course_key(KEY))
    admin = create_user(db, "root", is_staff=True)
    enrollment_api.enroll(db, ann.id, KEY)
    scores.record_score(db, user_id=ann.id, course_key=KEY, usage_key=key("problem", "p1"),
                        earned=1, possible=1, source="test")
    db.commit()
    return {"ann": ann, "bob": bob, "staff": staff, "admin": admin}


@pytest.mark.parametrize("base", BASES)
def test_progress_of_the_learner(app, world, base):
    body = app.get(base + KEY, headers=jwt_headers(app, world["ann"])).json
    assert body["course_grade"] == {"letter_grade": "Pass", "percent": 0.5, "is_passing": True}
    assert body["user_has_passing_grade"] is True
    assert body["username"] == "ann"
    assert body["enrollment_mode"] == "audit"
    assert body["grading_policy"] == {
        "assignment_policies": [{"num_droppable": 0, "num_total": 2.0, "short_label": "HW",
                                 "type": "Homework", "weight": 1.0}],
        "grade_range": {"Pass": 0.5}}
    [section] = body["section_scores"]
    assert section["display_name"] == "Week 1"
    hw1, hw2 = section["subsections"]
    assert (hw1["block_key"], hw1["num_points_earned"], hw1["num_points_possible"],
            hw1["problem_scores"], hw1["has_graded_assignment"]) == (
        key("sequential", "hw1"), 1.0, 1.0, [{"earned": 1.0, "possible": 1.0}], True)
    assert (hw2["num_points_earned"], hw2["percent_graded"]) == (0.0, 0.0)


@pytest.mark.parametrize("base", BASES)
def test_progress_access(app, world, base):
    ann, bob, staff, admin = world["ann"], world["bob"], world["staff"], world["admin"]
    app.get(base + KEY, status=401)
    assert app.get(base + KEY, headers=jwt_headers(app, bob), status=401).json == (
        "User not enrolled.")
    app.get(base + "course-v1:edX+Nope+2026", headers=jwt_headers(app, ann), status=404)
    app.get(base + f"{KEY}/{ann.id}", headers=jwt_headers(app, bob), status=404)
    app.get(base + f"{KEY}/abc", headers=jwt_headers(app, ann), status=404)
    for viewer in (ann, staff, admin):
        body = app.get(base + f"{KEY}/{ann.id}", headers=jwt_headers(app, viewer)).json
        assert (body["username"], body["course_grade"]["percent"]) == ("ann", 0.5)
    app.get(base + f"{KEY}/999999", headers=jwt_headers(app, staff), status=404)
