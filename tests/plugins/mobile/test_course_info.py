"""course_info: handouts, updates and record_user_activity."""
import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.mobile.models import UserActivity
from tests.plugins.courses.factories import make_course
from tests.plugins.mobile.conftest import DEMO_KEY, VERSIONS

HANDOUTS = f"/api/mobile/{{}}/course_info/{DEMO_KEY}/handouts"
UPDATES = f"/api/mobile/{{}}/course_info/{DEMO_KEY}/updates"
ACTIVITY = "/api/mobile/{}/course_info/record_user_activity"
ASSET = "http://localhost/asset-v1:edX+Demo+2026+type@asset+block@"
ITEMS = [
    {"id": 1, "date": "January 05, 2024", "content": '<p>Welcome <img src="/static/hi.png"/></p>',
     "status": "visible"},
    {"id": 2, "date": "January 12, 2024", "content": "<p>Oops</p>", "status": "deleted"},
    {"id": 3, "date": "January 19, 2024", "content": '<a href="/jump_to_id/abc">Go</a>',
     "status": "visible"},
]


@pytest.mark.parametrize("version", VERSIONS)
def test_handouts_with_absolute_asset_urls(app, enrolled, as_alice, version):
    assert app.get(HANDOUTS.format(version), headers=as_alice).json == {
        "handouts_html": f'<p>See <a href="{ASSET}syllabus.pdf">the syllabus</a></p>'}


@pytest.mark.parametrize("html", [None, "<ol></ol>"])
def test_no_handouts_is_null(app, db, alice, as_alice, html):
    from plugins.enrollment import api as enrollment

    make_course(db, mobile_available=True, handouts_html=html)
    enrollment.enroll(db, alice.id, DEMO_KEY)
    db.commit()
    assert app.get(HANDOUTS.format("v1"), headers=as_alice).json == {"handouts_html": None}


def enrolled_in_course_with(db, user, **overview):
    from plugins.enrollment import api as enrollment

    make_course(db, mobile_available=True, **overview)
    enrollment.enroll(db, user.id, DEMO_KEY)
    db.commit()


def test_updates_newest_first_without_deleted(app, db, alice, as_alice):
    enrolled_in_course_with(db, alice, settings={"course_updates": ITEMS})
    assert app.get(UPDATES.format("v1"), headers=as_alice).json == [
        {"id": 3, "date": "January 19, 2024",
         "content": f'<a href="http://localhost/courses/{DEMO_KEY}/jump_to_id/abc">Go</a>',
         "status": "visible"},
        {"id": 1, "date": "January 05, 2024",
         "content": f'<p>Welcome <img src="{ASSET}hi.png"/></p>', "status": "visible"},
    ]


def test_legacy_updates_html(app, db, alice, as_alice):
    enrolled_in_course_with(db, alice, updates_html=(
        '<ol><li><h2>March 2, 2024</h2><p>New <a href="/course/progress">grades</a></p></li>'
        "<li><h2>March 1, 2024</h2>Hello<br>all</li></ol>"))
    assert app.get(UPDATES.format("v0.5"), headers=as_alice).json == [
        {"id": 2, "date": "March 2, 2024", "content": (
            f'<p>New <a href="http://localhost/courses/{DEMO_KEY}/progress">grades</a></p>')},
        {"id": 1, "date": "March 1, 2024", "content": "Hello<br>all"},
    ]


def test_no_updates(app, enrolled, as_alice):
    assert app.get(UPDATES.format("v1"), headers=as_alice).json == []


def test_course_info_needs_an_enrollment_or_staff(app, db, course, bob, staff):
    for url in (HANDOUTS, UPDATES):
        assert app.get(url.format("v1"), headers=jwt_headers(app, bob), status=404).json == {
            "detail": "Not found."}
        app.get(url.format("v1"), headers=jwt_headers(app, staff))
    teacher = create_user(db, "teacher")
    grant_role(db, teacher, "instructor", parse_course_key(DEMO_KEY))
    db.commit()
    app.get(HANDOUTS.format("v2"), headers=jwt_headers(app, teacher))


def test_course_info_of_unknown_or_invalid_courses(app, alice, as_alice):
    for course_id in ("course-v1:edX+Nope+2026", "a+b+c", "edX/Nope/2026"):
        app.get(f"/api/mobile/v1/course_info/{course_id}/handouts", headers=as_alice,
                status=404)
    app.get("/api/mobile/v1/course_info/nope/updates", headers=as_alice, status=404)


# -- record_user_activity -------------------------------------------------------------------

def activity(db):
    return [(row.user_id, row.course_key, row.date) for row in db.scalars(select(UserActivity))]


@pytest.mark.parametrize("version", VERSIONS)
def test_record_user_activity_once_a_day(app, db, alice, as_alice, version):
    response = app.post_json(ACTIVITY.format(version),
                             {"user_id": alice.id, "course_key": DEMO_KEY}, headers=as_alice)
    assert response.status_code == 200 and response.body == b""
    app.post(ACTIVITY.format(version), {"user_id": str(alice.id), "course_key": DEMO_KEY},
             headers=as_alice)
    assert activity(db) == [(alice.id, DEMO_KEY, utcnow().date())]


@pytest.mark.parametrize("body,message", [
    ({}, "User id and course key are required"),
    ({"user_id": 1}, "User id and course key are required"),
    ({"course_key": DEMO_KEY}, "User id and course key are required"),
    ({"user_id": "", "course_key": DEMO_KEY}, "User id and course key are required"),
    ({"user_id": [1], "course_key": DEMO_KEY}, "User id and course key are required"),
    ({"user_id": 999999, "course_key": DEMO_KEY},
     "Provided user id does not correspond to an existing user"),
    ({"user_id": "abc", "course_key": DEMO_KEY},
     "Provided user id does not correspond to an existing user"),
    ({"user_id": 2**40, "course_key": DEMO_KEY},
     "Provided user id does not correspond to an existing user"),
    ({"user_id": "{alice}", "course_key": "not a course"}, "Provided course key is not valid"),
])
def test_record_user_activity_bad_input(app, db, alice, as_alice, body, message):
    body = {k: (alice.id if v == "{alice}" else v) for k, v in body.items()}
    assert app.post_json(ACTIVITY.format("v1"), body, headers=as_alice,
                         status=400).json == message
    assert activity(db) == []


def test_record_user_activity_malformed_json(app, alice, as_alice):
    app.post(ACTIVITY.format("v1"), "{", headers={**as_alice,
                                                   "Content-Type": "application/json"},
             status=400)


def test_record_user_activity_off(app_factory, db, alice):
    app = app_factory(**{"mobile.record_user_activity": "false"})
    app.post_json(ACTIVITY.format("v1"), {"user_id": alice.id, "course_key": DEMO_KEY},
                  headers=jwt_headers(app, alice), status=200)
    assert activity(db) == []


def test_retirement_removes_the_learners_rows(app, db, enrolled, as_alice):
    from plugins.mobile import api

    app.patch_json(f"/api/mobile/v1/users/alice/course_status_info/{DEMO_KEY}",
                   {"last_visited_module_id": str(parse_course_key(DEMO_KEY).make_usage_key(
                       "sequential", "lesson1"))}, headers=as_alice)
    app.post_json(ACTIVITY.format("v1"), {"user_id": enrolled.id, "course_key": DEMO_KEY},
                  headers=as_alice)
    hook = app.registry["lms.plugin_manager"].hook
    hook.lms_retire_user(dbsession=db, user=enrolled, retired_username="retired_x",
                         retired_email="retired@x", original_email=enrolled.email)
    db.commit()
    assert activity(db) == [] and api.positions(db, enrolled.id, DEMO_KEY) == {}
