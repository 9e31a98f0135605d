"""Cohort tracking events, as upstream's ``course_groups`` signals and
``add_user_to_cohort`` emit them: ``edx.cohort.created``, ``edx.cohort.user_added``,
``edx.cohort.user_removed`` and ``edx.cohort.user_add_requested``."""
import json

from lms.tracking import tracker_of
from plugins.enrollment import cohorts
from tests.plugins.enrollment.test_cohorts import (  # noqa: F401 - fixtures
    COURSE, LIST, as_staff, cohorted_course, course, learner, make_cohort, staff, users)
from tests.plugins.enrollment.test_enrollment_views import LIST as ENROLL


def events(app, prefix="edx.cohort."):
    tracker = tracker_of(app.registry)
    found = [json.loads(line) for line in tracker.lines]
    tracker.lines.clear()
    return [(e["event_type"], e["event"], e["event_source"], e["context"]["course_id"])
            for e in found if e["event_type"].startswith(prefix)]


def test_created_event(app, db, course, as_staff):
    events(app)
    cohort_id = app.post_json(LIST, {"name": "Alpha", "assignment_type": "manual"},
                              headers=as_staff).json["id"]
    assert events(app) == [("edx.cohort.created",
                            {"cohort_id": cohort_id, "cohort_name": "Alpha"}, "server", COURSE)]


def test_add_move_and_remove_events(app, db, course, as_staff, learner):
    a, b = make_cohort(db, "A"), make_cohort(db, "B")
    events(app)
    app.post_json(users(a.id), {"users": ["learner", "ghost", "new@example.com"]},
                  headers=as_staff)
    assert events(app) == [
        ("edx.cohort.user_added", {"cohort_id": a.id, "cohort_name": "A",
                                   "user_id": learner.id}, "server", COURSE),
        ("edx.cohort.user_add_requested",
         {"user_id": learner.id, "cohort_id": a.id, "cohort_name": "A",
          "previous_cohort_id": None, "previous_cohort_name": None}, "server", COURSE),
    ]
    app.post_json(users(b.id, "learner"), {}, headers=as_staff)
    assert events(app) == [
        ("edx.cohort.user_removed", {"cohort_id": a.id, "cohort_name": "A",
                                     "user_id": learner.id}, "server", COURSE),
        ("edx.cohort.user_added", {"cohort_id": b.id, "cohort_name": "B",
                                   "user_id": learner.id}, "server", COURSE),
        ("edx.cohort.user_add_requested",
         {"user_id": learner.id, "cohort_id": b.id, "cohort_name": "B",
          "previous_cohort_id": a.id, "previous_cohort_name": "A"}, "server", COURSE),
    ]
    # Already present: nothing changes, nothing is emitted.
    app.post_json(users(b.id, "learner"), {}, headers=as_staff)
    assert events(app) == []
    app.delete(users(b.id, "learner"), headers=as_staff, status=204)
    assert events(app) == [
        ("edx.cohort.user_removed", {"cohort_id": b.id, "cohort_name": "B",
                                     "user_id": learner.id}, "server", COURSE)]


def test_enrollment_placement_creates_the_default_cohort(app, db, learner):
    from lms.testing import jwt_headers

    cohorted_course(db)
    events(app)
    app.post_json(ENROLL, {"course_details": {"course_id": COURSE}},
                  headers=jwt_headers(app, learner))
    cohort = db.get(cohorts.Cohort, cohorts.membership_of(db, learner.id, COURSE).cohort_id)
    assert events(app) == [
        ("edx.cohort.created", {"cohort_id": cohort.id, "cohort_name": "Default Group"},
         "server", COURSE),
        ("edx.cohort.user_added", {"cohort_id": cohort.id, "cohort_name": "Default Group",
                                   "user_id": learner.id}, "server", COURSE),
    ]


def test_enrollment_with_a_cohort_name_requests_the_add(app, db, course, learner):
    from lms.testing import jwt_headers

    make_cohort(db, "Named")
    events(app)
    app.post_json(ENROLL, {"course_details": {"course_id": COURSE}, "cohort": "Named"},
                  headers=jwt_headers(app, learner))
    assert [name for name, *_ in events(app)] == ["edx.cohort.user_added",
                                                  "edx.cohort.user_add_requested"]
