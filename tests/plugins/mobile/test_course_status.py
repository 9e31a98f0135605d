"""users/{username}/course_status_info/{course_id}: the module last visited."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.enrollment import api as enrollment
from plugins.mobile.models import Position
from tests.plugins.courses.factories import FUTURE, make_course
from tests.plugins.mobile.conftest import DEMO_KEY, VERSIONS

URL = f"/api/mobile/{{}}/users/alice/course_status_info/{DEMO_KEY}"
KEY = parse_course_key(DEMO_KEY)
COURSE = str(KEY.make_usage_key("course", "course"))
WEEK1 = str(KEY.make_usage_key("chapter", "week1"))
LESSON1 = str(KEY.make_usage_key("sequential", "lesson1"))
UNIT1 = str(KEY.make_usage_key("vertical", "unit1"))
INTRO = str(KEY.make_usage_key("html", "intro"))
STAFF_NOTES = str(KEY.make_usage_key("vertical", "staffnotes"))
WEEK2 = str(KEY.make_usage_key("chapter", "week2"))
INVALID_DATE = {"errors": [{"code": "invalid-modification-date",
                            "message": "Could not parse modification_date"}]}
INVALID_MODULE = {"errors": [{"code": "invalid-module-id",
                              "message": "Could not find module for module_id"}]}
FIRST_PATH = {"last_visited_module_id": LESSON1,
              "last_visited_module_path": [LESSON1, WEEK1, COURSE]}


def saved(db, user_id):
    return sorted((row.parent_key, row.child_key) for row in db.scalars(
        select(Position).where(Position.user_id == user_id)))


@pytest.mark.parametrize("version", VERSIONS)
def test_get_starts_at_the_first_visible_module(app, enrolled, as_alice, version):
    body = app.get(URL.format(version), headers=as_alice).json
    expected = dict(FIRST_PATH)
    if version == "v1":
        expected["last_visited_block_id"] = ""  # nothing completed (no completion source)
    assert body == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_patch_saves_positions_up_the_tree(app, db, enrolled, as_alice, version):
    body = app.patch_json(URL.format(version), {"last_visited_module_id": INTRO},
                          headers=as_alice).json
    assert body == FIRST_PATH  # PATCH answers without last_visited_block_id
    assert saved(db, enrolled.id) == sorted([(COURSE, WEEK1), (WEEK1, LESSON1),
                                             (LESSON1, UNIT1), (UNIT1, INTRO)])


def test_patch_with_a_form_body(app, db, enrolled, as_alice):
    app.patch(URL.format("v1"), {"last_visited_module_id": LESSON1}, headers=as_alice)
    assert (COURSE, WEEK1) in saved(db, enrolled.id)


def test_saved_chapter_is_followed_while_visible(app, db, enrolled, as_alice):
    # Week 2 has not started: a saved visit there falls back to the first visible chapter.
    from plugins.mobile import api

    api.save_positions(db, enrolled.id, DEMO_KEY, [(COURSE, WEEK2)])
    db.commit()
    assert app.get(URL.format("v0.5"), headers=as_alice).json == FIRST_PATH


def test_staff_see_saved_positions_in_unreleased_chapters(app, db, course, staff):
    headers = jwt_headers(app, staff)
    url = f"/api/mobile/v1/users/staffer/course_status_info/{DEMO_KEY}"
    body = app.patch_json(url, {"last_visited_module_id": WEEK2}, headers=headers).json
    lesson2 = str(KEY.make_usage_key("sequential", "lesson2"))
    assert body == {"last_visited_module_id": lesson2,
                    "last_visited_module_path": [lesson2, WEEK2, COURSE]}


def test_modification_date_older_than_the_saved_visit_is_ignored(app, db, enrolled, as_alice):
    app.patch_json(URL.format("v1"), {"last_visited_module_id": LESSON1}, headers=as_alice)
    before = saved(db, enrolled.id)
    old = (utcnow() - timedelta(days=1)).isoformat()
    app.patch_json(URL.format("v1"), {"last_visited_module_id": UNIT1,
                                      "modification_date": old}, headers=as_alice)
    assert saved(db, enrolled.id) == before
    newer = (utcnow() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    app.patch_json(URL.format("v1"), {"last_visited_module_id": UNIT1,
                                      "modification_date": newer}, headers=as_alice)
    assert (LESSON1, UNIT1) in saved(db, enrolled.id)


def test_empty_patch_changes_nothing(app, db, enrolled, as_alice):
    assert app.patch_json(URL.format("v1"), {}, headers=as_alice).json == FIRST_PATH
    assert app.patch_json(URL.format("v1"), {"last_visited_module_id": ""},
                          headers=as_alice).json == FIRST_PATH
    assert saved(db, enrolled.id) == []


@pytest.mark.parametrize("body,error", [
    ({"modification_date": "yesterday"}, INVALID_DATE),
    ({"modification_date": "2024-01-01T10:00:00"}, INVALID_DATE),  # no time zone
    ({"modification_date": 5}, INVALID_DATE),
    ({"last_visited_module_id": "not a key"}, INVALID_MODULE),
    ({"last_visited_module_id": ["x"]}, INVALID_MODULE),
    ({"last_visited_module_id": str(KEY.make_usage_key("html", "missing"))}, INVALID_MODULE),
    ({"last_visited_module_id": STAFF_NOTES}, INVALID_MODULE),
    ({"last_visited_module_id": "block-v1:edX+Other+2026+type@html+block@intro"},
     INVALID_MODULE),
])
def test_bad_patch_bodies(app, db, enrolled, as_alice, body, error):
    assert app.patch_json(URL.format("v1"), body, headers=as_alice, status=400).json == error
    assert saved(db, enrolled.id) == []


@pytest.mark.parametrize("raw,kind", [(b"[]", "list"), (b"null", "NoneType"), (b"7", "int")])
def test_a_json_body_that_is_not_an_object_is_400(app, db, enrolled, as_alice, raw, kind):
    response = app.patch(URL.format("v1"), raw, headers={
        **as_alice, "Content-Type": "application/json"}, status=400)
    assert response.json == {"non_field_errors": [
        f"Invalid data. Expected a dictionary, but got {kind}."]}
    assert saved(db, enrolled.id) == []


def test_malformed_json(app, enrolled, as_alice):
    response = app.patch(URL.format("v1"), "{nope", headers={
        **as_alice, "Content-Type": "application/json"}, status=400)
    assert "detail" in response.json


def test_not_enrolled_unknown_and_invalid_courses_are_404(app, db, course, alice, as_alice):
    assert app.get(URL.format("v1"), headers=as_alice, status=404).json == {
        "detail": "Not found."}
    app.patch_json(URL.format("v1"), {"last_visited_module_id": LESSON1}, headers=as_alice,
                   status=404)
    for course_id in ("course-v1:edX+Nope+2026", "edX/Nope/2026", "a+b+c"):
        assert app.get(f"/api/mobile/v1/users/alice/course_status_info/{course_id}",
                       headers=as_alice, status=404).json == {"detail": "Not found."}


def test_access_errors_are_404_with_the_access_response(app, db, alice, as_alice):
    make_course(db, mobile_available=False)
    enrollment.enroll(db, alice.id, DEMO_KEY)
    db.commit()
    assert app.get(URL.format("v1"), headers=as_alice, status=404).json == {
        "has_access": False, "error_code": "mobile_unavailable",
        "developer_message": "Course is not available on mobile for this user",
        "user_message": "You do not have access to this course on a mobile device",
        "additional_context_user_message": None, "user_fragment": None}
    make_course(db, mobile_available=True, start=FUTURE)
    body = app.get(URL.format("v1"), headers=as_alice, status=404).json
    assert body["error_code"] == "course_not_started"
    assert body["developer_message"] == f"Course does not start until {FUTURE}"


def test_course_staff_need_no_enrollment_nor_mobile_flag(app, db, course):
    teacher = create_user(db, "teacher")
    grant_role(db, teacher, "staff", KEY)
    make_course(db, mobile_available=False)
    db.commit()
    url = f"/api/mobile/v1/users/teacher/course_status_info/{DEMO_KEY}"
    assert app.get(url, headers=jwt_headers(app, teacher)).json["last_visited_module_id"] == LESSON1


def test_other_learner_and_staff_on_anothers_status(app, enrolled, bob, staff):
    app.get(URL.format("v1"), headers=jwt_headers(app, bob), status=404)
    app.patch_json(URL.format("v1"), {}, headers=jwt_headers(app, bob), status=404)
    app.get(URL.format("v1"), headers=jwt_headers(app, staff), status=403)
    app.patch_json(URL.format("v1"), {}, headers=jwt_headers(app, staff), status=403)
