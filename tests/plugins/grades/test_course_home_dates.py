"""course_home dates/{course_key} on both paths."""
import pytest

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from tests.plugins.courses.factories import Node, make_course, usage_key

KEY = "course-v1:edX+Dates+2026"
BASES = ["/api/course_home/dates/", "/api/course_home/v1/dates/"]
END_PAST = ("This course is archived, which means you can review course content but it is no "
            "longer active.")


@pytest.fixture
def world(db):
    tree = Node("course", "course", display_name="Dates Course", children=[
        Node("chapter", "ch1", display_name="Week 1", children=[
            Node("sequential", "hw1", display_name="HW one", graded=True, format="Homework",
                 due="2021-03-01T00:00:00+00:00",
                 children=[Node("vertical", "u1", children=[])]),
            Node("sequential", "lesson", display_name="Lesson", children=[]),
        ])])
    make_course(db, tree, course_key=KEY, start="2021-01-01T00:00:00+00:00",
                end="2021-06-01T00:00:00+00:00", commit=False)
    ann, bob, staff = (create_user(db, name) for name in ("ann", "bob", "carol"))
    permissions.grant_role(db, staff, "staff", course_key=parse_course_key(KEY))
    admin = create_user(db, "root", is_staff=True)
    enrollment_api.enroll(db, ann.id, KEY)
    db.commit()
    return {"ann": ann, "bob": bob, "staff": staff, "admin": admin}


@pytest.mark.parametrize("base", BASES)
def test_dates(app, world, base):
    body = app.get(base + KEY, headers=jwt_headers(app, world["ann"])).json
    assert body["has_ended"] is True
    assert body["learner_is_full_access"] is True
    assert [(b["date_type"], b["date"], b["title"]) for b in body["course_date_blocks"]] == [
        ("course-start-date", "2021-01-01T00:00:00Z", "Course starts"),
        ("assignment-due-date", "2021-03-01T00:00:00Z", "HW one"),
        ("course-end-date", "2021-06-01T00:00:00Z", "Course ends")]
    hw = body["course_date_blocks"][1]
    assert hw["assignment_type"] == "Homework"
    assert hw["link"].endswith(f"/courses/{KEY}/jump_to/{usage_key(KEY, 'sequential', 'hw1')}")
    assert hw["first_component_block_id"] == usage_key(KEY, "vertical", "u1")
    assert body["course_date_blocks"][2]["description"] == END_PAST


@pytest.mark.parametrize("base", BASES)
def test_dates_access(app, world, base):
    app.get(base + KEY, status=401)
    assert app.get(base + KEY, headers=jwt_headers(app, world["bob"]),
                   status=401).json == "User not enrolled."
    app.get(base + "course-v1:edX+Nope+2026", headers=jwt_headers(app, world["ann"]), status=404)
    for viewer in (world["staff"], world["admin"]):
        app.get(base + KEY, headers=jwt_headers(app, viewer), status=200)


CERTIFICATES = {"certificates": [{"id": 1, "name": "Cert", "is_active": True}]}


def test_certificate_available_date_block(app, db):
    from plugins.enrollment.models import CourseMode

    key = "course-v1:edX+CertDates+2026"
    make_course(db, Node("course", "course", children=[]), course_key=key,
                start="2021-01-01T00:00:00+00:00", end="2021-06-01T00:00:00+00:00",
                certificate_available_date="2021-07-01T00:00:00+00:00",
                settings={"certificates": CERTIFICATES}, commit=False)
    learner = create_user(db, "certdates")
    enrollment_api.enroll(db, learner.id, key)
    db.commit()
    url = BASES[0] + key

    def types():
        body = app.get(url, headers=jwt_headers(app, learner)).json
        return [(b["date_type"], b["date"]) for b in body["course_date_blocks"]]

    # audit only: no certificate to wait for
    assert ("certificate-available-date", "2021-07-01T00:00:00Z") not in types()
    db.add(CourseMode(course_key=key, mode_slug="verified", mode_display_name="Verified",
                      min_price=10))
    db.commit()
    assert types() == [("course-start-date", "2021-01-01T00:00:00Z"),
                       ("course-end-date", "2021-06-01T00:00:00Z"),
                       ("certificate-available-date", "2021-07-01T00:00:00Z")]
    body = app.get(url, headers=jwt_headers(app, learner)).json
    block = body["course_date_blocks"][2]
    assert (block["title"], block["description"]) == (
        "Certificate Available",
        "Day certificates will become available for passing verified learners.")
