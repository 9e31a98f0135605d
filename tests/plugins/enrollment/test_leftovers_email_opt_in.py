"""``email_opt_in`` on ``POST enrollment``: upstream stores the caller's marketing
consent for the course's org (``UserOrgTag`` ``email-optin``) once the enrollment is
made, and only when the field is present."""
import pytest
from sqlalchemy import select

from lms.testing import jwt_headers
from plugins.accounts import api as accounts_api
from plugins.accounts.models import UserOrgTag
from tests.plugins.enrollment.test_enrollment_views import (  # noqa: F401 - fixtures
    COURSE, LIST, alice, course, enroll_body, settings, staff)


def tags(db):
    db.expire_all()
    return [(t.user_id, t.org, t.key, t.value) for t in db.scalars(select(UserOrgTag))]


@pytest.mark.parametrize("value, stored", [
    (True, "True"), (False, "False"), ("true", "True"), ("True", "True"),
    ("false", "False"), ("yes", "False")])
def test_opt_in_is_stored_for_the_course_org(app, db, course, alice, value, stored):
    app.post_json(LIST, enroll_body(email_opt_in=value), headers=jwt_headers(app, alice))
    assert tags(db) == [(alice.id, "edX", "email-optin", stored)]


def test_absent_opt_in_stores_nothing(app, db, course, alice):
    app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice))
    assert tags(db) == []


def test_opt_in_is_updated_on_a_later_enrollment(app, db, course, alice):
    headers = jwt_headers(app, alice)
    app.post_json(LIST, enroll_body(email_opt_in=True), headers=headers)
    app.post_json(LIST, enroll_body(is_active=False), headers=headers, status="*")
    accounts_api.update_email_opt_in(db, alice, "edX", False)
    db.commit()
    assert accounts_api.get_email_opt_in(db, alice.id, "edX") == "False"


def test_already_enrolled_keeps_the_stored_value(app, db, course, alice):
    headers = jwt_headers(app, alice)
    app.post_json(LIST, enroll_body(email_opt_in=True), headers=headers)
    app.post_json(LIST, enroll_body(email_opt_in=False), headers=headers)
    assert tags(db) == [(alice.id, "edX", "email-optin", "True")]


def test_under_age_learner_is_opted_out(app, db, course, alice):
    from lms.timeutil import utcnow

    profile = accounts_api.get_profile(db, alice.id, create=True)
    profile.year_of_birth = utcnow().year - 5
    db.commit()
    app.post_json(LIST, enroll_body(email_opt_in=True), headers=jwt_headers(app, alice))
    assert tags(db) == [(alice.id, "edX", "email-optin", "False")]


def test_staff_enrolling_another_stores_the_callers_consent(app, db, course, alice, staff):
    # Upstream passes request.user, not the enrolled learner.
    app.post_json(LIST, enroll_body(user="alice", email_opt_in=True),
                  headers=jwt_headers(app, staff))
    assert tags(db) == [(staff.id, "edX", "email-optin", "True")]


def test_refused_enrollment_stores_nothing(app, db, alice):
    app.post_json(LIST, enroll_body(key="course-v1:edX+Nope+Run", email_opt_in=True),
                  headers=jwt_headers(app, alice), status=400)
    assert tags(db) == []
