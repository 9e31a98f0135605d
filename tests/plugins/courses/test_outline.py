"""GET /api/learning_sequences/v1/course_outline/{course_key_str}.

Also home of ``learner_data``: a test-only plugin answering the enrollment,
completion and resume look-ups from dicts (the courseware and XBlock tests use it too).
"""
import types
from datetime import datetime, timedelta, timezone

import pytest

from lms import permissions
from lms.hookspecs import hookimpl
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from lms.timeutil import isoformat
from tests.plugins.courses.factories import (
    DEMO_KEY,
    FUTURE,
    PAST,
    Node,
    make_course,
    usage_key,
)

URL = "/api/learning_sequences/v1/course_outline/"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}


# -- the test-only learner plugin ------------------------------------------------------

def _make_learner_plugin():
    plugin = types.ModuleType("tests.plugins.courses.learner_plugin")
    plugin.name = "testlearner"
    plugin.version = "1.0"
    plugin.requires = ()
    plugin.ENROLLMENTS = {}  # (user_id, str(course_key)) -> lms_get_enrollment dict
    plugin.COMPLETIONS = {}  # (user_id, str(course_key)) -> {usage key: completion}
    plugin.RESUME = {}  # (user_id, str(course_key)) -> usage key

    @hookimpl
    def lms_get_enrollment(dbsession, user_id, course_key):
        return plugin.ENROLLMENTS.get((user_id, str(course_key)))

    @hookimpl
    def lms_block_completions(dbsession, user_id, course_key):
        return plugin.COMPLETIONS.get((user_id, str(course_key)))

    @hookimpl
    def lms_resume_block(dbsession, user_id, course_key):
        return plugin.RESUME.get((user_id, str(course_key)))

    plugin.lms_get_enrollment = lms_get_enrollment
    plugin.lms_block_completions = lms_block_completions
    plugin.lms_resume_block = lms_resume_block

    def enroll(user, course_key=DEMO_KEY, mode="audit", is_active=True, **extra):
        plugin.ENROLLMENTS[(user.id, str(course_key))] = {
            "mode": mode, "is_active": is_active, "created": PAST, **extra}

    plugin.enroll = enroll
    return plugin


@pytest.fixture
def learner_data(add_plugins):
    """Enrollment/completion/resume answers from dicts; ``learner_data.enroll(user)``."""
    plugin = _make_learner_plugin()
    add_plugins(plugin)
    return plugin


@pytest.fixture
def app(app_factory, settings, learner_data):
    """The app, built with the learner plugin installed (plugins are read at start-up)."""
    return app_factory(**settings)


# -- fixtures and helpers ---------------------------------------------------------------

@pytest.fixture
def learner(db):
    return create_user(db, "learner", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


def key(block_type, block_id, course_key=DEMO_KEY):
    return usage_key(course_key, block_type, block_id)


def get(app, course_key=DEMO_KEY, caller=None, status=200, **params):
    headers = jwt_headers(app, caller) if caller is not None else {}
    return app.get(URL + course_key, params=params, headers=headers, status=status)


def section(block_id, title, sequence_ids, start=None, effective_start=PAST):
    return {"id": key("chapter", block_id), "title": title,
            "sequence_ids": [key("sequential", s) for s in sequence_ids],
            "start": isoformat(start), "effective_start": isoformat(effective_start)}


def sequence(block_id, title, accessible=True, start=None, effective_start=PAST, due=None,
             inaccessible_after_due=False):
    return {"id": key("sequential", block_id), "title": title, "accessible": accessible,
            "inaccessible_after_due": inaccessible_after_due, "start": isoformat(start),
            "effective_start": isoformat(effective_start), "due": isoformat(due)}


DUE = datetime(2030, 6, 1, tzinfo=timezone.utc)


def demo_outline(lesson2_accessible=False):
    return {
        "sections": [section("week1", "Week 1", ["lesson1"]),
                     section("week2", "Week 2", ["lesson2"], start=FUTURE,
                             effective_start=FUTURE)],
        "sequences": {
            key("sequential", "lesson1"): sequence("lesson1", "Lesson 1", due=DUE),
            key("sequential", "lesson2"): sequence("lesson2", "Lesson 2",
                                                   accessible=lesson2_accessible,
                                                   effective_start=FUTURE),
        },
    }


def assert_envelope(body, course, user):
    at_time = body.pop("at_time")
    assert at_time.endswith("Z") and datetime.fromisoformat(at_time[:-1]).year >= 2024
    outline = body.pop("outline")
    assert body == {
        "course_key": DEMO_KEY,
        "course_start": isoformat(PAST),
        "course_end": None,
        "title": "Demo Course",
        "published_at": isoformat(course.published_at),
        "published_version": course.version,
        "entrance_exam_id": None,
        "days_early_for_beta": None,
        "self_paced": False,
        "username": user.username if user is not None else "",
        "user_id": user.id if user is not None else None,
    }
    return outline


# -- success ---------------------------------------------------------------------------------

def test_enrolled_learner_sees_released_and_unreleased_sequences(app, db, learner,
                                                                  learner_data):
    course = make_course(db)
    learner_data.enroll(learner)
    body = get(app, caller=learner).json
    assert assert_envelope(body, course, learner) == demo_outline(lesson2_accessible=False)


def test_staff_see_everything_accessible(app, db, staff):
    course = make_course(db)
    body = get(app, caller=staff).json
    assert assert_envelope(body, course, staff) == demo_outline(lesson2_accessible=True)


def test_course_staff_role_counts_but_org_role_does_not_skip_processors(app, db, learner_data):
    course = make_course(db)
    course_staff = create_user(db, "coursestaff", password=None)
    permissions.grant_role(db, course_staff, "staff", parse_course_key(DEMO_KEY))
    org_staff = create_user(db, "orgstaff", password=None)
    permissions.grant_role(db, org_staff, "staff", org="edX")
    db.commit()
    assert assert_envelope(get(app, caller=course_staff).json, course, course_staff) == \
        demo_outline(lesson2_accessible=True)
    # Org-wide staff are not "can see all content" for outlines: processors apply.
    assert assert_envelope(get(app, caller=org_staff).json, course, org_staff) == \
        {"sections": [], "sequences": {}}


def test_not_enrolled_learner_gets_an_empty_outline(app, db, learner, learner_data):
    course = make_course(db)
    body = get(app, caller=learner).json
    assert assert_envelope(body, course, learner) == {"sections": [], "sequences": {}}
    learner_data.enroll(learner, is_active=False)
    body = get(app, caller=learner).json
    assert assert_envelope(body, course, learner) == {"sections": [], "sequences": {}}


def test_public_outline_is_shown_but_inaccessible_without_enrollment(app, db, learner):
    course = make_course(db, course_visibility="public_outline")
    expected = demo_outline()
    expected["sequences"][key("sequential", "lesson1")]["accessible"] = False
    assert assert_envelope(get(app, caller=learner).json, course, learner) == expected
    assert assert_envelope(get(app).json, course, None) == expected


def test_public_course_for_the_anonymous_user(app, db):
    course = make_course(db, course_visibility="public")
    assert assert_envelope(get(app).json, course, None) == demo_outline()


def test_visibility_hide_from_toc_and_partitions_remove_items(app, db, learner, learner_data):
    tree = Node("course", "course", display_name="Demo Course", children=[
        Node("chapter", "open", display_name="Open", children=[
            Node("sequential", "shown", display_name="Shown"),
            Node("sequential", "staffonly", display_name="Staff only",
                 visible_to_staff_only=True),
            Node("sequential", "toc", display_name="Hidden from TOC", hide_from_toc=True),
            Node("sequential", "cohort", display_name="Cohort", group_access={"50": [1]}),
            Node("vertical", "stray", display_name="Not a sequence"),
        ]),
        Node("chapter", "hidden", display_name="Hidden", visible_to_staff_only=True,
             children=[Node("sequential", "inside", display_name="Inside")]),
        Node("sequential", "toplevel", display_name="Not under a chapter"),
    ])
    partitions = [{"id": 50, "scheme": "cohort", "groups": [{"id": 1}, {"id": 2}]}]
    course = make_course(db, tree, settings={"user_partitions": partitions})
    learner_data.enroll(learner)
    outline = assert_envelope(get(app, caller=learner).json, course, learner)
    assert outline == {
        "sections": [section("open", "Open", ["shown"])],
        "sequences": {key("sequential", "shown"): sequence("shown", "Shown")},
    }


def test_schedule_marks_sequences_without_hiding_them(app, db, learner, learner_data):
    past_due = datetime(2021, 1, 1, tzinfo=timezone.utc)
    later = datetime.now(timezone.utc) + timedelta(days=30)
    tree = Node("course", "course", display_name="Demo Course", children=[
        Node("chapter", "week", display_name="Week", children=[
            Node("sequential", "future", display_name="Future", start=later),
            Node("sequential", "closed", display_name="Closed", due=past_due,
                 hide_after_due=True),
            Node("sequential", "late", display_name="Late", due=past_due),
            Node("sequential", "unnamed_seq"),
        ]),
    ])
    course = make_course(db, tree)
    learner_data.enroll(learner)
    outline = assert_envelope(get(app, caller=learner).json, course, learner)
    assert outline == {
        "sections": [section("week", "Week", ["future", "closed", "late", "unnamed_seq"])],
        "sequences": {
            key("sequential", "future"): sequence("future", "Future", accessible=False,
                                                  start=later, effective_start=later),
            key("sequential", "closed"): sequence("closed", "Closed", accessible=False,
                                                  due=past_due, inaccessible_after_due=True),
            key("sequential", "late"): sequence("late", "Late", due=past_due),
            key("sequential", "unnamed_seq"): sequence("unnamed_seq", "unnamed seq"),
        },
    }


def test_unstarted_course_makes_everything_inaccessible(app, db, learner, learner_data):
    later = datetime.now(timezone.utc) + timedelta(days=3)
    course = make_course(db, start=later)
    learner_data.enroll(learner)
    body = get(app, caller=learner).json
    assert body["course_start"] == isoformat(later)
    assert [s["accessible"] for s in body["outline"]["sequences"].values()] == [False, False]
    assert course.version == body["published_version"]


def test_beta_testers_get_content_early(app, db, learner, learner_data):
    later = datetime.now(timezone.utc) + timedelta(days=3)
    tree = Node("course", "course", display_name="Demo Course", children=[
        Node("chapter", "week", display_name="Week", start=later, children=[
            Node("sequential", "beta", display_name="Beta")])])
    make_course(db, tree, days_early_for_beta=5.0)
    permissions.grant_role(db, learner, "beta_testers", parse_course_key(DEMO_KEY))
    db.commit()
    learner_data.enroll(learner)
    body = get(app, caller=learner).json
    shifted = later - timedelta(days=5)
    assert body["days_early_for_beta"] == 5
    assert body["course_start"] == isoformat(PAST - timedelta(days=5))
    assert body["outline"]["sections"][0]["start"] == isoformat(shifted)
    assert body["outline"]["sequences"][key("sequential", "beta")]["accessible"] is True


def test_self_paced_courses_have_no_block_dates(app, db, learner, learner_data):
    course = make_course(db, self_paced=True)
    learner_data.enroll(learner)
    body = get(app, caller=learner).json
    assert body["self_paced"] is True
    outline = body["outline"]
    assert [(s["start"], s["effective_start"]) for s in outline["sections"]] == \
        [(None, isoformat(PAST))] * 2
    assert [(s["start"], s["due"], s["accessible"]) for s in outline["sequences"].values()] == \
        [(None, None, True)] * 2
    assert course.self_paced


# -- the ``user`` parameter ---------------------------------------------------------------------

def test_staff_may_view_as_another_user_or_anonymous(app, db, staff, learner, learner_data):
    course = make_course(db)
    learner_data.enroll(learner)
    as_learner = get(app, caller=staff, user="learner").json
    assert assert_envelope(as_learner, course, learner) == demo_outline()
    as_anonymous = get(app, caller=staff, user="").json
    assert assert_envelope(as_anonymous, course, None) == {"sections": [], "sequences": {}}
    as_self = get(app, caller=learner, user="learner").json
    assert as_self["username"] == "learner"


def test_learner_may_not_view_as_someone_else(app, db, learner):
    make_course(db)
    create_user(db, "other", password=None)
    assert get(app, caller=learner, status=403, user="other").json == {
        "detail": f"User learner does not have permission to view course outline for "
                  f"{DEMO_KEY} as other."}
    assert get(app, caller=learner, status=403, user="").json == {
        "detail": f"User learner does not have permission to view course outline for "
                  f"{DEMO_KEY} as the anonymous user."}
    # Even a name that does not exist: the permission check comes first.
    assert get(app, caller=learner, status=403, user="ghost").status_code == 403
    assert get(app, status=403, user="learner").json == {
        "detail": f"User  does not have permission to view course outline for "
                  f"{DEMO_KEY} as learner."}


def test_staff_naming_an_unknown_user_gets_404(app, db, staff):
    make_course(db)
    assert get(app, caller=staff, status=404, user="ghost").json == {
        "detail": "User ghost does not exist."}


# -- errors -----------------------------------------------------------------------------------

def test_unknown_course_is_401_for_anonymous_and_404_otherwise(app, db, learner, staff):
    response = get(app, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert get(app, caller=learner, status=404).json == {"detail": "Not found."}
    assert get(app, caller=staff, status=404).json == {"detail": "Not found."}
    # Staff asking for the anonymous user's outline of a missing course: hidden as well.
    assert get(app, caller=staff, status=401, user="").json == NOT_AUTHENTICATED


def test_invalid_and_deprecated_keys_are_400_lists(app, db, learner):
    make_course(db)
    assert get(app, "not-a-key", caller=learner, status=400).json == \
        ["not-a-key is not a valid CourseKey"]
    assert get(app, "edX/Demo/2026", caller=learner, status=400).json == \
        ["Deprecated CourseKeys (Org/Course/Run) are not supported."]
    # The placeholder takes the rest of the path: a trailing slash spoils the key.
    assert get(app, DEMO_KEY + "/", caller=learner, status=400).json == \
        [f"{DEMO_KEY}/ is not a valid CourseKey"]


def test_bad_jwt_is_401(app, db):
    make_course(db)
    response = app.get(URL + DEMO_KEY, headers={"Authorization": "JWT nonsense"}, status=401)
    assert "detail" in response.json


def wide_course(db, course_key, sections):
    tree = Node("course", "course", display_name="Wide", children=[
        Node("chapter", f"c{i}", children=[Node("sequential", f"s{i}_{j}") for j in range(3)])
        for i in range(sections)])
    return make_course(db, tree, course_key=course_key)


def test_query_count_does_not_grow_with_the_outline(app, db, learner, learner_data,
                                                    query_counter):
    counts = []
    for course_key, sections in (("course-v1:edX+Small+1", 1), ("course-v1:edX+Large+1", 20)):
        wide_course(db, course_key, sections)
        learner_data.enroll(learner, course_key=course_key)
        get(app, course_key, caller=learner)  # builds and caches the block tree
        with query_counter() as queries:
            body = get(app, course_key, caller=learner).json
        assert len(body["outline"]["sequences"]) == 3 * sections
        counts.append(len(queries))
    # user, course, staff role, beta role, can-see-all role; content groups: cohort
    # settings and the course's cohort_config (lms_user_partition_groups)
    assert counts == [7, 7]


def test_enrolled_org_staff_get_the_learner_outline(app, db, learner_data):
    tree = Node("course", "course", display_name="Demo Course", children=[
        Node("chapter", "open", display_name="Open", children=[
            Node("sequential", "shown", display_name="Shown"),
            Node("sequential", "staffonly", display_name="Staff only",
                 visible_to_staff_only=True)])])
    course = make_course(db, tree)
    org_staff = create_user(db, "orgstaff", password=None)
    permissions.grant_role(db, org_staff, "staff", org="edX")
    db.commit()
    learner_data.enroll(org_staff)
    assert assert_envelope(get(app, caller=org_staff).json, course, org_staff) == {
        "sections": [section("open", "Open", ["shown"])],
        "sequences": {key("sequential", "shown"): sequence("shown", "Shown")},
    }
