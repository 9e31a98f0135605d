"""course_home course_metadata/{course_key} on both paths."""
import pytest

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from tests.plugins.courses.factories import make_course

KEY = "course-v1:edX+Meta+2026"
BASES = ["/api/course_home/course_metadata/", "/api/course_home/v1/course_metadata/"]


@pytest.fixture
def world(db):
    make_course(db, course_key=KEY, display_name="Meta Course", commit=False)
    ann, bob, staff = (create_user(db, name) for name in ("ann", "bob", "carol"))
    permissions.grant_role(db, staff, "staff", course_key=parse_course_key(KEY))
    admin = create_user(db, "root", is_staff=True)
    enrollment_api.enroll(db, ann.id, KEY)
    db.commit()
    return {"ann": ann, "bob": bob, "staff": staff, "admin": admin}


@pytest.mark.parametrize("base", BASES)
def test_metadata(app, world, base):
    body = app.get(base + KEY, headers=jwt_headers(app, world["ann"])).json
    assert (body["course_id"], body["username"], body["title"], body["is_enrolled"],
            body["is_staff"]) == (KEY, "ann", "Meta Course", True, False)
    assert body["course_access"]["has_access"] is True
    assert [tab["tab_id"] for tab in body["tabs"]] == ["courseware", "progress", "dates"]
    assert body["tabs"][2]["url"] == f"http://localhost:2000/course/{KEY}/dates"


@pytest.mark.parametrize("base", BASES)
def test_metadata_access(app, world, base):
    anonymous = app.get(base + KEY).json
    assert (anonymous["username"], anonymous["course_access"]["error_code"]) == (
        None, "authentication_required")
    other = app.get(base + KEY, headers=jwt_headers(app, world["bob"])).json
    assert (other["is_enrolled"], other["course_access"]["error_code"]) == (
        False, "enrollment_required")
    for viewer in (world["staff"], world["admin"]):
        body = app.get(base + KEY, headers=jwt_headers(app, viewer)).json
        assert (body["is_staff"], body["course_access"]["has_access"]) == (True, True)
    app.get(base + "course-v1:edX+Nope+2026", status=404)
