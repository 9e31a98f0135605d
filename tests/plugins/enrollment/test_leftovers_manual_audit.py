"""``ManualEnrollmentAudit``: bulk enrollment records every manual change (upstream
``students_update_enrollment``), an invitation's completion at registration
(``ALLOWEDTOENROLL_TO_ENROLLED``), and retirement scrubs the rows
(``retire_manual_enrollments``: retired email, empty reason)."""
from sqlalchemy import select

from lms.users import create_user as register_user
from plugins.enrollment.models import Enrollment, ManualEnrollmentAudit
from tests.plugins.enrollment.test_bulk_enroll import (  # noqa: F401 - fixtures
    COURSE, OTHER, alice, bob, courses, post, staff)


def audits(db):
    db.expire_all()
    return [(row.enrolled_by_id, row.enrolled_email, row.state_transition, row.reason,
             row.enrollment_id) for row in db.scalars(
                 select(ManualEnrollmentAudit).order_by(ManualEnrollmentAudit.id))]


def enrollment_id(db, user, course_key=COURSE):
    return db.scalar(select(Enrollment.id).where(Enrollment.user_id == user.id,
                                                 Enrollment.course_key == course_key))


def test_enroll_records_each_transition(app, db, courses, staff, alice, bob):
    post(app, staff, {"identifiers": "alice", "courses": COURSE, "action": "enroll"})
    post(app, staff, {"identifiers": "alice,bob@example.com,new@example.org,nobody",
                      "courses": COURSE, "action": "enroll", "reason": "Scholarship"})
    alice_row, bob_row = enrollment_id(db, alice), enrollment_id(db, bob)
    # An invalid identifier (unknown username) leaves no row.
    assert audits(db) == [
        (staff.id, "alice@example.com", "from unenrolled to enrolled", None, alice_row),
        (staff.id, "alice@example.com", "from enrolled to enrolled", "Scholarship", alice_row),
        (staff.id, "bob@example.com", "from unenrolled to enrolled", "Scholarship", bob_row),
        (staff.id, "new@example.org", "from unenrolled to allowed to enroll", "Scholarship",
         None),
    ]


def test_unenroll_records_each_transition(app, db, courses, staff, alice):
    post(app, staff, {"identifiers": "alice,new@example.org", "courses": COURSE,
                      "action": "enroll"})
    post(app, staff, {"identifiers": "alice,new@example.org,other@example.org",
                      "courses": COURSE, "action": "unenroll"})
    row = enrollment_id(db, alice)
    assert [audit[1:3] for audit in audits(db)[2:]] == [
        ("alice@example.com", "from enrolled to unenrolled"),
        ("new@example.org", "from allowed to enroll to unenrolled"),
        ("other@example.org", "from unenrolled to unenrolled"),
    ]
    assert audits(db)[2][4] == row and audits(db)[3][4] is None


def test_registration_completes_an_invitation(app, db, courses, staff):
    post(app, staff, {"identifiers": "future@example.org", "courses": COURSE,
                      "action": "enroll", "auto_enroll": True, "reason": "Invited"})
    user = register_user(db, username="future", email="future@example.org", password=None,
                         pm=app.registry["lms.plugin_manager"])
    db.commit()
    assert audits(db) == [
        (staff.id, "future@example.org", "from unenrolled to allowed to enroll", "Invited",
         None),
        (staff.id, "future@example.org", "from allowed to enroll to enrolled", "Invited",
         enrollment_id(db, user)),
    ]


def test_failed_request_records_nothing(app, db, courses, staff, alice):
    post(app, staff, {"identifiers": "alice", "courses": f"{COURSE},course-v1:No+Such+Run",
                      "action": "enroll"}, status=404)
    assert audits(db) == []


def test_retirement_scrubs_email_and_reason(app, db, courses, staff, alice, bob):
    post(app, staff, {"identifiers": "alice@example.com,bob", "courses": f"{COURSE},{OTHER}",
                      "action": "enroll", "reason": "Financial Assistance"})
    hooks = app.registry["lms.plugin_manager"].hook
    original = alice.email
    alice.email = "retired_user_x@retired.invalid"
    db.flush()
    hooks.lms_retire_user(dbsession=db, user=alice, retired_username="retired_user_x",
                          retired_email="retired_user_x@retired.invalid",
                          original_email=original)
    db.commit()
    rows = {(email, reason) for _, email, _, reason, _ in audits(db)}
    assert rows == {("retired_user_x@retired.invalid", ""),
                    ("bob@example.com", "Financial Assistance")}
    assert len(audits(db)) == 4


def test_retirement_scrubs_an_invitation_kept_by_email(app, db, courses, staff):
    post(app, staff, {"identifiers": "Later@Example.org", "courses": COURSE,
                      "action": "enroll", "reason": "VIP"})
    user = register_user(db, username="later", email="Later@Example.org", password=None,
                         pm=app.registry["lms.plugin_manager"])
    db.commit()
    hooks = app.registry["lms.plugin_manager"].hook
    hooks.lms_retire_user(dbsession=db, user=user, retired_username="retired_user_y",
                          retired_email="retired_user_y@retired.invalid",
                          original_email="Later@Example.org")
    db.commit()
    assert audits(db) == [(staff.id, "retired_user_y@retired.invalid",
                           "from unenrolled to allowed to enroll", "", None)]
