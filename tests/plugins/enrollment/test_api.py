"""The enrollment plugin's Python API and the hooks it answers."""
import threading
import types
from datetime import timedelta

import pytest
from opaque_keys.edx.keys import CourseKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.hookspecs import hookimpl
from lms.testing import create_user
from lms.timeutil import utcnow
from plugins.enrollment import api
from plugins.enrollment.models import (AllowedEnrollment, CourseMode, Enrollment,
                                       EnrollmentAttribute, EnrollmentHistory)

COURSE = "course-v1:edX+DemoX+Demo_Course"
OTHER = "course-v1:OtherOrg+C1+2026"


def history(db, user_id, course_key=COURSE):
    rows = db.scalars(select(EnrollmentHistory).join(
        Enrollment, Enrollment.id == EnrollmentHistory.enrollment_id).where(
        Enrollment.user_id == user_id, Enrollment.course_key == course_key)
        .order_by(EnrollmentHistory.id)).all()
    return [(row.changed_by_id, row.from_mode, row.from_active, row.to_mode, row.to_active)
            for row in rows]


@pytest.fixture
def alice(db):
    return create_user(db, "alice", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


@pytest.fixture
def hooks(app):
    return app.registry["lms.plugin_manager"].hook


def listener_plugin():
    """A plugin module recording ``lms_enrollment_changed`` in its ``calls``."""
    module = types.ModuleType("tests.plugins.enrollment.listener")
    module.name, module.version, module.requires = "enrollmentlistener", "1.0", ()
    module.calls = []

    @hookimpl
    def lms_enrollment_changed(dbsession, user_id, course_key, mode, is_active):
        # Called after commit, with a session that sees the committed change.
        row = dbsession.scalar(select(Enrollment).where(Enrollment.user_id == user_id,
                                                        Enrollment.course_key == str(course_key)))
        module.calls.append((user_id, str(course_key), mode, is_active,
                             (row.mode, row.is_active)))

    module.lms_enrollment_changed = lms_enrollment_changed
    return module


@pytest.mark.fresh_app
def test_changed_hook_runs_after_commit_only(add_plugins, app_factory, settings):
    listener = listener_plugin()
    add_plugins(listener)
    app = app_factory(**settings)
    db = app.registry["lms.dbsession_factory"]()
    alice = create_user(db, "alice", password=None)
    api.enroll(db, alice.id, COURSE)
    api.enroll(db, alice.id, COURSE, mode="verified")
    assert listener.calls == []
    db.commit()
    key = str(CourseKey.from_string(COURSE))
    assert listener.calls == [(alice.id, key, "audit", True, ("verified", True)),
                              (alice.id, key, "verified", True, ("verified", True))]
    api.unenroll(db, alice.id, COURSE)
    db.rollback()
    db.commit()
    assert len(listener.calls) == 2
    api.unenroll(db, alice.id, COURSE)
    db.commit()
    assert listener.calls[-1] == (alice.id, key, "verified", False, ("verified", False))
    db.close()


def test_enroll_creates_one_row_and_history(db, alice, staff):
    row = api.enroll(db, alice.id, COURSE, changed_by_id=staff.id)
    db.commit()
    assert (row.user_id, row.course_key, row.mode, row.is_active) == (alice.id, COURSE,
                                                                     "audit", True)
    assert history(db, alice.id) == [(staff.id, None, None, "audit", True)]


def test_enrolling_again_in_the_same_mode_changes_nothing(db, alice):
    first = api.enroll(db, alice.id, COURSE)
    again = api.enroll(db, alice.id, COURSE)
    assert again.id == first.id
    assert db.scalar(select(func.count()).select_from(Enrollment)) == 1
    assert history(db, alice.id) == [(None, None, None, "audit", True)]


def test_mode_change_and_unenroll_are_recorded(db, alice, staff):
    api.enroll(db, alice.id, COURSE)
    api.enroll(db, alice.id, COURSE, mode="verified", changed_by_id=staff.id)
    api.unenroll(db, alice.id, COURSE, changed_by_id=alice.id)
    api.enroll(db, alice.id, COURSE, mode="verified")
    assert history(db, alice.id) == [
        (None, None, None, "audit", True),
        (staff.id, "audit", True, "verified", True),
        (alice.id, "verified", True, "verified", False),
        (None, "verified", False, "verified", True),
    ]
    assert api.unenroll(db, alice.id, OTHER) is None


def test_unenroll_all(db, alice):
    api.enroll(db, alice.id, COURSE)
    api.enroll(db, alice.id, OTHER, mode="verified")
    assert api.unenroll_all(db, alice.id) == sorted([COURSE, OTHER])
    assert db.scalars(select(Enrollment.is_active)).all() == [False, False]
    assert api.unenroll_all(db, alice.id) == []


def test_seat_limit(db, alice, staff):
    bob = create_user(db, "bob", password=None)
    api.enroll(db, alice.id, COURSE, max_students=1)
    with pytest.raises(api.CourseFull):
        api.enroll(db, bob.id, COURSE, max_students=1)
    # Alice is already in: enrolling her again is no new seat.
    assert api.enroll(db, alice.id, COURSE, mode="verified", max_students=1).mode == "verified"
    api.unenroll(db, alice.id, COURSE)
    assert api.enroll(db, bob.id, COURSE, max_students=1).is_active
    with pytest.raises(api.CourseFull):
        api.enroll(db, alice.id, COURSE, max_students=1)
    assert api.count_active(db, COURSE) == 1


def test_lms_get_enrollment_hook(db, hooks, alice):
    key = CourseKey.from_string(COURSE)
    assert hooks.lms_get_enrollment(dbsession=db, user_id=alice.id, course_key=key) is None
    row = api.enroll(db, alice.id, COURSE)
    db.add(CourseMode(course_key=COURSE, mode_slug="verified", mode_display_name="Verified",
                      min_price=49, currency="usd",
                      expiration_datetime=utcnow() + timedelta(days=10)))
    db.flush()
    answer = hooks.lms_get_enrollment(dbsession=db, user_id=alice.id, course_key=key)
    assert answer == {"mode": "audit", "is_active": True, "created": row.created,
                      "upgrade_deadline": db.scalar(select(CourseMode.expiration_datetime)),
                      "schedule_start": None, "course_duration": None,
                      "audit_access_deadline": None}
    api.enroll(db, alice.id, COURSE, mode="verified")
    answer = hooks.lms_get_enrollment(dbsession=db, user_id=alice.id, course_key=key)
    assert (answer["mode"], answer["upgrade_deadline"]) == ("verified", None)


def test_expired_verified_mode_gives_no_upgrade_deadline(db, alice):
    api.enroll(db, alice.id, COURSE)
    db.add(CourseMode(course_key=COURSE, mode_slug="verified", mode_display_name="Verified",
                      min_price=49, expiration_datetime=utcnow() - timedelta(days=1)))
    db.flush()
    assert api.get_enrollment(db, alice.id, COURSE)["upgrade_deadline"] is None


def test_batch_enrollments_use_a_fixed_number_of_queries(db, hooks, alice, query_counter):
    keys = [CourseKey.from_string(f"course-v1:Org+C{i}+Run") for i in range(30)]
    for key in keys[:20]:
        api.enroll(db, alice.id, key)
    db.add_all(CourseMode(course_key=str(key), mode_slug="verified",
                          mode_display_name="Verified", min_price=10) for key in keys[:20])
    db.commit()
    with query_counter() as one:
        hooks.lms_get_enrollments(dbsession=db, user_id=alice.id, course_keys=keys[:1])
    with query_counter() as many:
        answer = hooks.lms_get_enrollments(dbsession=db, user_id=alice.id, course_keys=keys)
    assert len(one) == len(many) == 2
    assert sorted(answer) == sorted(str(key) for key in keys)
    assert [answer[str(key)] is None for key in keys] == [False] * 20 + [True] * 10
    assert hooks.lms_get_enrollments(dbsession=db, user_id=alice.id, course_keys=[]) == {}


def test_orgs_and_non_audit(db, hooks, alice):
    assert hooks.lms_enrollment_orgs(dbsession=db, user_id=alice.id) == [[]]
    assert hooks.lms_has_non_audit_enrollments(dbsession=db, user_id=alice.id) == [False]
    api.enroll(db, alice.id, COURSE)
    api.enroll(db, alice.id, OTHER, mode="honor")
    assert hooks.lms_has_non_audit_enrollments(dbsession=db, user_id=alice.id) == [False]
    api.enroll(db, alice.id, OTHER, mode="verified", is_active=False)
    assert hooks.lms_enrollment_orgs(dbsession=db, user_id=alice.id) == [["OtherOrg", "edX"]]
    assert hooks.lms_has_non_audit_enrollments(dbsession=db, user_id=alice.id) == [True]


def test_retire_user_scrubs_attributes_allowed_emails_and_authorship(db, hooks, alice, staff):
    bob = create_user(db, "bob", password=None)
    row = api.enroll(db, alice.id, COURSE)
    api.set_attributes(db, row, [{"namespace": "credit", "name": "provider_id",
                                  "value": "asu"}])
    api.enroll(db, bob.id, COURSE, changed_by_id=alice.id)
    db.add(AllowedEnrollment(email=alice.email.lower(), course_key=OTHER))
    db.add(AllowedEnrollment(email=bob.email.lower(), course_key=OTHER))
    original_email = alice.email
    # deactivate_logout has already replaced the address by the time retire runs.
    alice.email = "retired_user_1@retired.invalid"
    db.flush()
    hooks.lms_retire_user(dbsession=db, user=alice, retired_username="retired_user_1",
                          retired_email="retired_user_1@retired.invalid",
                          original_email=original_email)
    assert db.scalars(select(EnrollmentAttribute)).all() == []
    assert db.scalars(select(AllowedEnrollment.email)).all() == [bob.email.lower()]
    assert history(db, bob.id) == [(None, None, None, "audit", True)]
    # The enrollment itself stays, on the renamed account (upstream's unenroll/ step
    # deactivates it).
    assert api.get_enrollment(db, alice.id, COURSE)["is_active"] is True


def test_set_attributes_replaces_values(db, alice):
    row = api.enroll(db, alice.id, COURSE)
    api.set_attributes(db, row, [{"namespace": "credit", "name": "provider_id", "value": "a"}])
    api.set_attributes(db, row, [{"namespace": "credit", "name": "provider_id", "value": "b"}])
    assert db.scalars(select(EnrollmentAttribute.value)).all() == ["b"]


def test_username_replaced_is_answered(db, hooks, alice):
    assert hooks.lms_username_replaced(dbsession=db, user_id=alice.id, old_username="alice",
                                       new_username="alicia") == []


def test_course_modes_hide_expired_unless_asked(db):
    db.add_all([
        CourseMode(course_key=COURSE, mode_slug="audit", mode_display_name="Audit"),
        CourseMode(course_key=COURSE, mode_slug="verified", mode_display_name="Verified",
                   min_price=49, expiration_datetime=utcnow() - timedelta(days=1)),
    ])
    db.flush()
    assert [m.mode_slug for m in api.course_modes(db, COURSE)] == ["audit"]
    assert [m.mode_slug for m in api.course_modes(db, COURSE, include_expired=True)] == [
        "audit", "verified"]
