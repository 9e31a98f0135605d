"""Bulk enrollment of a person whose account is being retired: upstream's ``enroll_email``
finds no account by the original email (``deactivate_logout`` replaced it) and, as
``is_email_retired`` says so, keeps no allowed enrollment for it either."""
from sqlalchemy import select

from plugins.accounts import api as accounts
from plugins.enrollment.models import AllowedEnrollment, ManualEnrollmentAudit
from tests.plugins.enrollment.test_bulk_enroll import (  # noqa: F401 - fixtures
    COURSE, NOTHING, alice, courses, enrollments, post, staff)


def test_retiring_email_gets_neither_enrollment_nor_invitation(app, db, courses, staff, alice):
    settings = app.registry.settings
    alice.email = accounts.retired_email(settings, "alice@example.com")
    db.commit()
    assert accounts.is_email_retired(db, settings, "alice@example.com")
    answer = post(app, staff, {"identifiers": "alice@example.com", "courses": COURSE,
                               "action": "enroll", "auto_enroll": True}).json
    assert answer["courses"][COURSE]["results"] == [
        {"identifier": "alice@example.com", "before": NOTHING, "after": NOTHING}]
    assert db.scalars(select(AllowedEnrollment)).all() == []
    assert enrollments(db) == set()
    # The audit keeps upstream's transition for a change that did not happen.
    assert db.scalars(select(ManualEnrollmentAudit.state_transition)).all() == ["N/A"]
