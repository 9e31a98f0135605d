"""The courseware BFF: /api/courseware/course|sequence|resume|celebration."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from lms.timeutil import isoformat
from plugins.courses.models import Celebration
from tests.plugins.courses.factories import (
    DEMO_KEY,
    FUTURE,
    Node,
    make_course,
    usage_key,
)
from tests.plugins.courses.test_outline import learner_data  # noqa: F401  (fixture)

COURSE_URL = "/api/courseware/course/"
SEQUENCE_URL = "/api/courseware/sequence/"
RESUME_URL = "/api/courseware/resume/"
CELEBRATION_URL = "/api/courseware/celebration/"
IMAGE = "/asset-v1:edX+Demo+2026+type@asset+block@images_course_image.jpg"
NOT_AUTHENTICATED = {"developer_message": "Authentication credentials were not provided."}


@pytest.fixture
def app(app_factory, settings, learner_data):  # noqa: F811
    # The learner_data plugin is the completion source; the grades plugin's is left out.
    return app_factory(**dict(settings, **{"lms.plugins.disabled": "grades"}))


@pytest.fixture
def learner(db):
    return create_user(db, "learner", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


def key(block_type, block_id, course_key=DEMO_KEY):
    return usage_key(course_key, block_type, block_id)


def headers(app, user):
    return jwt_headers(app, user) if user is not None else {}


# -- GET /api/courseware/course/{course_key_string} ---------------------------------------

def course_body(**changes):
    image = "http://localhost" + IMAGE
    body = {
        "access_expiration": None,
        "content_type_gating_enabled": False,
        "course_goals": {"selected_goal": None, "weekly_learning_goal_enabled": False},
        "effort": None,
        "end": None,
        "enrollment": {"mode": None, "is_active": False},
        "enrollment_start": None,
        "enrollment_end": None,
        "entrance_exam_data": {
            "entrance_exam_current_score": 0.0, "entrance_exam_enabled": False,
            "entrance_exam_id": "", "entrance_exam_minimum_score_pct": 0.65,
            "entrance_exam_passed": True,
        },
        "id": DEMO_KEY,
        "license": None,
        "language": None,
        "media": {"course_image": {"uri": IMAGE}, "course_video": {"uri": None},
                  "image": {"raw": image, "small": image, "large": image}},
        "name": "Demo Course",
        "offer": None,
        "related_programs": None,
        "short_description": None,
        "start": "2020-01-01T00:00:00Z",
        "start_display": "Jan. 1, 2020",
        "start_type": "timestamp",
        "pacing": "instructor",
        "user_timezone": None,
        "show_calculator": False,
        "can_access_proctored_exams": False,
        "notes": {"enabled": False, "visible": True},
        "marketing_url": None,
        "celebrations": {"first_section": False, "streak_length_to_celebrate": None,
                         "streak_discount_enabled": False, "weekly_goal": False},
        "user_has_passing_grade": False,
        "course_exit_page_is_active": False,
        "certificate_data": None,
        "verify_identity_url": None,
        "verification_status": "none",
        "linkedin_add_to_profile_url": None,
        "is_integrity_signature_enabled": False,
        "user_needs_integrity_signature": False,
        "learning_assistant_enabled": False,
        "show_courseware_link": True,
        "is_course_full": False,
        "can_enroll": True,
        "invitation_only": False,
        "is_shib_course": False,
        "allow_anonymous": False,
        "ecommerce_checkout": False,
        "single_paid_mode": {},
        "ecommerce_checkout_link": None,
        "course_image_urls": [image, image, image],
        "start_date_is_still_default": False,
        "advertised_start": None,
        "course_price": "Free",
        "pre_requisite_courses": [],
        "about_sidebar_html": None,
        "display_number_with_default": "Demo",
        "display_org_with_default": "edX",
        "overview": None,
    }
    body.update(changes)
    return body


def test_course_for_an_enrolled_learner(app, db, learner, learner_data):  # noqa: F811
    make_course(db, effort="4 hours", language="en", short_description="Learn things")
    learner_data.enroll(learner, mode="verified")
    db.add(Celebration(user_id=learner.id, course_key=DEMO_KEY, celebrate_first_section=True))
    db.commit()
    response = app.get(COURSE_URL + DEMO_KEY, headers=headers(app, learner))
    assert response.json == course_body(
        effort="4 hours", language="en", short_description="Learn things",
        enrollment={"mode": "verified", "is_active": True},
        can_access_proctored_exams=True,
        celebrations={"first_section": True, "streak_length_to_celebrate": None,
                      "streak_discount_enabled": False, "weekly_goal": False})
    assert list(response.json) == list(course_body())  # upstream's field order
    assert response.headers["Access-Control-Expose-Headers"] == "Date"


def test_course_for_anonymous_and_unenrolled_users(app, db, learner):
    make_course(db, course_visibility="public")
    assert app.get(COURSE_URL + DEMO_KEY).json == course_body(allow_anonymous=True)
    assert app.get(COURSE_URL + DEMO_KEY, headers=headers(app, learner)).json == \
        course_body(allow_anonymous=True)


def test_course_fields_from_settings_and_enrollment(app, db, learner, learner_data):  # noqa: F811
    deadline = datetime.now(timezone.utc) + timedelta(days=20)
    upgrade = datetime.now(timezone.utc) + timedelta(days=5)
    make_course(db, self_paced=True, invitation_only=True, advertised_start="Spring",
                overview='<p onclick="x()">About</p><script>alert(1)</script>',
                settings={"license": "all-rights-reserved", "show_calculator": True,
                          "entrance_exam_id": key("chapter", "exam"),
                          "entrance_exam_minimum_score_pct": 0.7,
                          "cosmetic_display_price": 50, "edxnotes_visibility": False,
                          "enrollment_domain": "shib:https://idp.example.com"})
    learner_data.enroll(learner, audit_access_deadline=deadline, upgrade_deadline=upgrade)
    body = app.get(COURSE_URL + DEMO_KEY, headers=headers(app, learner)).json
    assert body == course_body(
        access_expiration={"expiration_date": isoformat(deadline),
                           "masquerading_expired_course": False,
                           "upgrade_deadline": isoformat(upgrade),
                           "upgrade_url": f"/course_modes/choose/{DEMO_KEY}/"},
        enrollment={"mode": "audit", "is_active": True},
        entrance_exam_data={"entrance_exam_current_score": 0.0, "entrance_exam_enabled": False,
                            "entrance_exam_id": key("chapter", "exam"),
                            "entrance_exam_minimum_score_pct": 0.7,
                            "entrance_exam_passed": True},
        license="all-rights-reserved", start_display="Spring", start_type="string",
        pacing="self", show_calculator=True, notes={"enabled": False, "visible": False},
        can_enroll=False, invitation_only=True, is_shib_course=True, advertised_start="Spring",
        course_price="$50", overview="<p>About</p>")


def test_requested_fields_limit_the_body(app, db):
    make_course(db)
    url = COURSE_URL + DEMO_KEY
    assert app.get(url, params={"requested_fields": "id,name,nope"}).json == \
        {"id": DEMO_KEY, "name": "Demo Course"}
    assert app.get(url, params={"requested_fields": ""}).json == {}


def test_course_the_user_may_not_see_is_404(app, db, learner, staff):
    make_course(db, start=FUTURE, invitation_only=True)
    assert app.get(COURSE_URL + DEMO_KEY, headers=headers(app, learner), status=404).json == \
        {"detail": "Not found."}
    assert app.get(COURSE_URL + DEMO_KEY, status=404).json == {"detail": "Not found."}
    # Staff see it, but not when asking as the learner.
    assert app.get(COURSE_URL + DEMO_KEY, headers=headers(app, staff)).json["id"] == DEMO_KEY
    assert app.get(COURSE_URL + DEMO_KEY, params={"username": "learner"},
                   headers=headers(app, staff), status=404).json == {"detail": "Not found."}
    assert app.get(COURSE_URL + DEMO_KEY, params={"username": "ghost"},
                   headers=headers(app, staff), status=404).json == {"detail": "Not found."}


def test_username_is_ignored_for_non_staff(app, db, learner, staff):
    make_course(db, start=FUTURE, invitation_only=True)
    # A learner cannot borrow staff's view of the course.
    app.get(COURSE_URL + DEMO_KEY, params={"username": "staffer"},
            headers=headers(app, learner), status=404)


def test_course_staff_role_sees_unreleased_course(app, db, learner):
    make_course(db, start=FUTURE, invitation_only=True)
    permissions.grant_role(db, learner, "staff", parse_course_key(DEMO_KEY))
    db.commit()
    body = app.get(COURSE_URL + DEMO_KEY, headers=headers(app, learner)).json
    assert body["show_courseware_link"] is True and body["can_enroll"] is True


def test_course_unknown_and_invalid_keys_are_404(app, db, learner):
    make_course(db)
    for raw in ("course-v1:edX+Nope+2026", "not+a+key!", "edX/Nope/2026"):
        assert app.get(COURSE_URL + raw, headers=headers(app, learner), status=404).json == \
            {"detail": "Not found."}
    app.get(COURSE_URL + "course-v1:edX+Demo", status=404)  # does not route


# -- GET /api/courseware/sequence/{usage_key_string} -----------------------------------------

def item(unit_id, title, icon, path_prefix="Week 1 > Lesson 1", **extra):
    return {"content": "", "page_title": title, "type": icon, "id": key("vertical", unit_id),
            "bookmarked": False, "path": f"{path_prefix} > {title}", "graded": False,
            "contains_content_type_gated_content": False, "href": "", **extra}


def sequence_body(items, public=False, **changes):
    body = {
        "items": items,
        "element_id": "lesson1",
        "item_id": key("sequential", "lesson1"),
        "is_time_limited": False,
        "is_proctored": False,
        "position": None,
        "tag": "sequential",
        "next_url": None,
        "prev_url": None,
        "banner_text": None,
        "save_position": not public,
        "show_completion": not public,
        "gated_content": {"prereq_id": None, "prereq_url": None, "prereq_section_name": None,
                          "gated": False, "gated_section_name": "Lesson 1"},
        "sequence_name": "Lesson 1",
        "exclude_units": True,
        "gated_sequence_paywall": None,
        "display_name": "Lesson 1",
        "format": "Homework",
        "is_hidden_after_due": False,
        "navigation_disabled": False,
    }
    body.update(changes)
    return body


LESSON1 = SEQUENCE_URL + key("sequential", "lesson1")


def test_sequence_for_a_learner_hides_staff_only_units(app, db, learner,
                                                       learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    body = app.get(LESSON1, headers=headers(app, learner)).json
    # The unit holds an html, a problem and a video: "problem" has the highest priority.
    assert body == sequence_body([item("unit1", "Unit 1", "problem")])


def test_sequence_for_staff_shows_every_unit(app, db, staff):
    make_course(db)
    body = app.get(LESSON1, headers=headers(app, staff)).json
    assert body == sequence_body([item("unit1", "Unit 1", "problem"),
                                  item("staffnotes", "Staff notes", "other")])


def test_sequence_completion_comes_from_the_completion_hook(app, db, learner,
                                                            learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    completions = {key("html", "intro"): 1.0, key("problem", "quiz"): 1.0}
    learner_data.COMPLETIONS[(learner.id, DEMO_KEY)] = completions
    body = app.get(LESSON1, headers=headers(app, learner)).json
    assert body["items"] == [item("unit1", "Unit 1", "problem", complete=False)]
    completions[key("video", "welcome")] = 1.0
    body = app.get(LESSON1, headers=headers(app, learner)).json
    assert body["items"] == [item("unit1", "Unit 1", "problem", complete=True)]


def test_sequence_public_view_for_anonymous_users(app, db):
    make_course(db, course_visibility="public")
    assert app.get(LESSON1).json == sequence_body([item("unit1", "Unit 1", "problem")],
                                                  public=True)


def test_sequence_of_a_private_course_is_hidden_from_anonymous_users(app, db):
    make_course(db)
    assert app.get(LESSON1, status=404).json == {"developer_message": "Not found."}


def test_sequence_the_learner_may_not_see_is_404(app, db, learner):
    make_course(db)
    url = SEQUENCE_URL + key("sequential", "lesson2")  # in a chapter released next year
    assert app.get(url, headers=headers(app, learner), status=404).json == \
        {"developer_message": "Not found."}


def test_chapters_have_sequence_metadata_units_do_not(app, db, learner,
                                                       learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    body = app.get(SEQUENCE_URL + key("chapter", "week1"), headers=headers(app, learner)).json
    assert body["items"] == [{
        "content": "", "page_title": "Lesson 1", "type": "problem",
        "id": key("sequential", "lesson1"), "bookmarked": False,
        "path": "Demo Course > Week 1 > Lesson 1", "graded": True,
        "contains_content_type_gated_content": False, "href": ""}]
    assert (body["tag"], body["element_id"], body["format"]) == ("chapter", "week1", None)
    for unit in (key("vertical", "unit1"), key("html", "intro"), key("course", "course")):
        response = app.get(SEQUENCE_URL + unit, headers=headers(app, learner), status=422)
        assert response.body == b""


def test_sequence_hidden_after_due(app, db, learner, staff, learner_data):  # noqa: F811
    tree = Node("course", "course", display_name="Demo Course", children=[
        Node("chapter", "week1", display_name="Week 1", children=[
            Node("sequential", "lesson1", display_name="Lesson 1", hide_after_due=True,
                 due=datetime(2021, 1, 1, tzinfo=timezone.utc), hide_from_toc=True,
                 is_time_limited=True, children=[Node("vertical", "unit1", display_name="U")]),
        ]),
    ])
    make_course(db, tree)
    learner_data.enroll(learner)
    body = app.get(LESSON1, headers=headers(app, learner)).json
    assert (body["is_hidden_after_due"], body["navigation_disabled"], body["format"],
            body["is_time_limited"]) == (True, True, None, True)
    assert body["items"] == []  # the sequence is described, its units are not
    staff_body = app.get(LESSON1, headers=headers(app, staff)).json
    assert staff_body["is_hidden_after_due"] is False
    assert [entry["page_title"] for entry in staff_body["items"]] == ["U"]


def test_sequence_bad_and_unknown_keys(app, db, learner):
    make_course(db)
    assert app.get(SEQUENCE_URL + "not-a-key", headers=headers(app, learner),
                   status=404).json == {"developer_message": "Invalid usage key: 'not-a-key'."}
    for unknown in (key("sequential", "nope"), key("sequential", "x", "course-v1:A+B+C"),
                    "lb:Org:LIB:html:abc"):
        assert app.get(SEQUENCE_URL + unknown, headers=headers(app, learner),
                       status=404).json == {"developer_message": "Not found."}


# -- GET /api/courseware/resume/{course_key_string} ----------------------------------------------

NOTHING = {"block_id": None, "section_id": None, "unit_id": None}


def test_resume_needs_authentication(app, db):
    make_course(db)
    response = app.get(RESUME_URL + DEMO_KEY, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert "WWW-Authenticate" not in response.headers


def test_resume_without_completion_data(app, db, learner):
    make_course(db)
    assert app.get(RESUME_URL + DEMO_KEY, headers=headers(app, learner)).json == NOTHING
    # Upstream answers the same for a course it does not know.
    assert app.get(RESUME_URL + "course-v1:edX+Nope+1", headers=headers(app, learner)).json \
        == NOTHING


def test_resume_at_the_last_completed_block(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    learner_data.RESUME[(learner.id, DEMO_KEY)] = key("html", "intro")
    assert app.get(RESUME_URL + DEMO_KEY, headers=headers(app, learner)).json == {
        "block_id": key("html", "intro"), "section_id": key("sequential", "lesson1"),
        "unit_id": key("vertical", "unit1")}


def test_resume_block_gone_or_too_shallow(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    for block in (key("html", "removed"), key("chapter", "week1")):
        learner_data.RESUME[(learner.id, DEMO_KEY)] = block
        assert app.get(RESUME_URL + DEMO_KEY, headers=headers(app, learner)).json == NOTHING


def test_resume_invalid_key_is_404(app, db, learner):
    assert app.get(RESUME_URL + "not+a+key!", headers=headers(app, learner),
                   status=404).json == {"developer_message": "Not found."}


# -- POST /api/courseware/celebration/{course_key_string} ------------------------------------------

def celebration_rows(db):
    db.expire_all()
    return [(row.user_id, row.course_key, row.celebrate_first_section, row.celebrate_weekly_goal)
            for row in db.scalars(select(Celebration))]


def post(app, user, body, status, course_key=DEMO_KEY):
    response = app.post_json(CELEBRATION_URL + course_key, body, headers=headers(app, user),
                             status=status)
    assert response.body == b""
    return response


def test_celebration_needs_authentication(app, db):
    make_course(db)
    response = app.post_json(CELEBRATION_URL + DEMO_KEY, {"first_section": True}, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert celebration_rows(db) == []


def test_celebration_needs_an_enrollment(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    post(app, learner, {"first_section": True}, 404)
    learner_data.enroll(learner, is_active=False)  # any enrollment will do
    post(app, learner, {"first_section": True}, 201)


def test_celebration_created_then_updated(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    post(app, learner, {"first_section": True}, 201)
    assert celebration_rows(db) == [(learner.id, DEMO_KEY, True, False)]
    post(app, learner, {"weekly_goal": True, "first_section": None}, 200)
    assert celebration_rows(db) == [(learner.id, DEMO_KEY, True, True)]
    post(app, learner, {}, 200)
    post(app, learner, {"first_section": False}, 200)
    assert celebration_rows(db) == [(learner.id, DEMO_KEY, False, True)]
    body = app.get(COURSE_URL + DEMO_KEY, headers=headers(app, learner)).json
    assert body["celebrations"] == {"first_section": False, "streak_length_to_celebrate": None,
                                    "streak_discount_enabled": False, "weekly_goal": True}


def test_celebration_bad_bodies_are_empty_400s(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    post(app, learner, {"first_section": True, "confetti": True}, 400)
    post(app, learner, {"first_section": "yes"}, 400)
    post(app, learner, {"weekly_goal": 1}, 400)
    post(app, learner, [True], 400)
    response = app.post(CELEBRATION_URL + DEMO_KEY, "{not json", headers={
        **headers(app, learner), "Content-Type": "application/json"}, status=400)
    assert response.json["developer_message"].startswith("JSON parse error")
    assert celebration_rows(db) == []


def test_celebration_key_errors_and_methods(app, db, learner):
    make_course(db)
    assert app.post_json(CELEBRATION_URL + "not+a+key!", {}, headers=headers(app, learner),
                         status=404).json == {"developer_message": "Not found."}
    app.get(CELEBRATION_URL + DEMO_KEY, headers=headers(app, learner), status=405)


def test_celebration_with_a_session_needs_csrf(app, db, learner_data):  # noqa: F811
    make_course(db)
    user = create_user(db, "alice", password="s3cret-pass")
    learner_data.enroll(user)
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    app.post("/api/user/v1/account/login_session/",
             {"email": "alice@example.com", "password": "s3cret-pass"},
             headers={"X-CSRFToken": token})
    response = app.post_json(CELEBRATION_URL + DEMO_KEY, {"first_section": True}, status=403)
    assert response.json["detail"].startswith("CSRF Failed")
    token = app.get("/csrf/api/v1/token").json["csrfToken"]  # login rotated it
    app.post_json(CELEBRATION_URL + DEMO_KEY, {"first_section": True},
                  headers={"X-CSRFToken": token}, status=201)
    assert celebration_rows(db) == [(user.id, DEMO_KEY, True, False)]


def test_sequence_query_count_does_not_grow_with_its_units(app, db, learner, learner_data,  # noqa: F811
                                                           query_counter):
    counts = []
    for course_key, units in (("course-v1:edX+Small+1", 1), ("course-v1:edX+Large+1", 30)):
        make_course(db, Node("course", "course", display_name="C", children=[
            Node("chapter", "c", children=[Node("sequential", "s", children=[
                Node("vertical", f"u{i}", children=[Node("html", f"h{i}")])
                for i in range(units)])])]), course_key=course_key)
        learner_data.COMPLETIONS[(learner.id, course_key)] = {}
        learner_data.enroll(learner, course_key)
        sequence_url = SEQUENCE_URL + usage_key(course_key, "sequential", "s")
        app.get(sequence_url, headers=headers(app, learner))  # warm the block tree cache
        with query_counter() as queries:
            body = app.get(sequence_url, headers=headers(app, learner)).json
        assert [i["complete"] for i in body["items"]] == [False] * units
        counts.append(len(queries))
    # user, course, staff role, beta role; content groups: cohort settings, cohort_config
    assert counts == [6, 6]
