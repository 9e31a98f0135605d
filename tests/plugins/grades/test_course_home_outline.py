"""course_home outline/{course_key} on both paths."""
import pytest

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_home
from tests.plugins.courses.factories import Node, make_course, usage_key

KEY = "course-v1:edX+Outl+2026"
BASES = ["/api/course_home/outline/", "/api/course_home/v1/outline/"]
ONE = {"xml": "<problem><multiplechoiceresponse/></problem>"}


def key(kind, block_id):
    return usage_key(KEY, kind, block_id)


def tree():
    return Node("course", "course", display_name="Outline Course", children=[
        Node("chapter", "ch1", display_name="Week 1", children=[
            Node("sequential", "hw1", display_name="HW one", graded=True, format="Homework",
                 children=[Node("vertical", "u1", children=[
                     Node("problem", "p1", data=ONE), Node("problem", "p2", data=ONE)])]),
            Node("sequential", "lesson", display_name="Lesson", children=[]),
        ])])


@pytest.fixture
def world(db):
    make_course(db, tree(), course_key=KEY, commit=False)
    ann, bob, staff = (create_user(db, name) for name in ("ann", "bob", "carol"))
    permissions.grant_role(db, staff, "staff", course_key=parse_course_key(KEY))
    admin = create_user(db, "root", is_staff=True)
    enrollment_api.enroll(db, ann.id, KEY)
    course_home.save_goal(db, ann.id, KEY, subscribed_to_reminders=True, days_per_week=4)
    db.commit()
    return {"ann": ann, "bob": bob, "staff": staff, "admin": admin}


@pytest.mark.parametrize("base", BASES)
def test_outline_enrolled(app, world, base):
    body = app.get(base + KEY, headers=jwt_headers(app, world["ann"])).json
    blocks = body["course_blocks"]["blocks"]
    assert blocks[key("course", "course")]["children"] == [key("chapter", "ch1")]
    assert blocks[key("chapter", "ch1")]["children"] == [key("sequential", "hw1"),
                                                         key("sequential", "lesson")]
    hw = blocks[key("sequential", "hw1")]
    assert (hw["display_name"], hw["icon"], hw["description"], hw["type"]) == (
        "HW one (2 Questions)", "fa-pencil-square-o", "Homework", "sequential")
    assert body["course_goals"] == {
        "selected_goal": {"days_per_week": 4, "subscribed_to_reminders": True},
        "weekly_learning_goal_enabled": True}
    assert body["dates_widget"]["dates_tab_link"] == f"http://localhost:2000/course/{KEY}/dates"


@pytest.mark.parametrize("base", BASES)
def test_outline_access(app, db, world, base):
    assert app.get(base + KEY).json["course_blocks"] is None
    assert app.get(base + KEY, headers=jwt_headers(app, world["bob"])).json[
        "course_blocks"] is None
    for viewer in (world["staff"], world["admin"]):
        body = app.get(base + KEY, headers=jwt_headers(app, viewer)).json
        assert key("sequential", "hw1") in body["course_blocks"]["blocks"]
    app.get(base + "course-v1:edX+Nope+2026", status=404)


def test_outline_public_course_anonymous(app, db):
    make_course(db, tree(), course_key=KEY, course_visibility="public")
    body = app.get(BASES[0] + KEY).json
    assert key("sequential", "lesson") in body["course_blocks"]["blocks"]
