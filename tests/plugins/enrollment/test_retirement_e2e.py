"""A learner's enrollments through retirement, over real HTTP: register → activate →
enroll (their own POST, and the ecommerce service's with an order attribute) →
``deactivate_logout/`` → Open edX's retirement driver runs RETIRING_ENROLLMENTS
(``enrollment/v1/unenroll/``), RETIRING_LMS_MISC (``retire_misc/``) and RETIRING_LMS
(``retire/``) with the service user's client-credentials JWT → no row of the
enrollment tables leads back to the person.
"""
import email
import os
import re

import pytest
import requests
from sqlalchemy import select

from lms.models import User
from lms.oauth import create_application
from lms.testing import configure_django_for_edx_rest_api_client, create_user, jwt_headers
from plugins.accounts.models import UserRetirementStatus
from plugins.courses import api as courses_api
from plugins.enrollment.models import (AllowedEnrollment, CourseMode, Enrollment,
                                       EnrollmentAttribute, EnrollmentHistory)
from tests.plugins.accounts.test_retirement_driver import PIPELINE, Driver, retire_one_learner
from tests.plugins.accounts.test_retirement_erasure import find_person

USERNAME = "pelagia"
EMAIL = "pelagia.mail@example.com"
NAME = "Pelagia Quenby"
PASSWORD = "a-fine-password-42"
API_KEY = "test-edx-api-key"
COURSE = "course-v1:edX+Retire+2026"
PAID_COURSE = "course-v1:OtherOrg+Paid+2026"
INVITED_COURSE = "course-v1:edX+Invited+2026"
ENROLLMENT = "/api/enrollment/v1/enrollment"
# The driver's pipeline with the enrollment step first, as in Open edX's sample config.
ENROLLMENT_STEP = ["RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE", "LMS", "retirement_unenroll"]


class EnrollmentDriver(Driver):
    """The driver's ``LmsApi`` with its enrollment step."""

    def retirement_unenroll(self, learner):
        return self.request("POST", "api/enrollment/v1/unenroll",
                            json={"username": learner["original_username"]})


@pytest.fixture
def mail_folder(tmp_path):
    return tmp_path / "mail"


@pytest.fixture
def app(app_factory, settings, mail_folder, tmp_path):
    settings.update({"mail.backend": "file", "mail.file_path": str(mail_folder),
                     "accounts.profile_image_dir": str(tmp_path / "profile-images"),
                     "lms.edx_api_key": API_KEY})
    return app_factory(**settings)


def add_course(db, key):
    block = key.replace("course-v1:", "block-v1:") + "+type@course+block@course"
    courses_api.store_course(db, key, {
        "display_name": key, "start": "2025-01-01T00:00:00Z",
        "enrollment_start": "2025-01-01T00:00:00Z",
    }, [{"usage_key": block, "block_type": "course", "block_id": "course",
         "display_name": key, "children": [], "fields": {}, "data": {}}])


def activation_path(mail_folder):
    [name] = os.listdir(mail_folder)
    with open(mail_folder / name, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    assert message["To"] == EMAIL
    link = re.search(r"https?://\S+/activate/\S+",
                     message.get_body(("plain",)).get_content()).group(0)
    return link[link.index("/activate/"):]


def test_a_retired_learner_leaves_no_enrollment_linked_to_them(app, db, engine, live_server,
                                                               mail_folder):
    for key in (COURSE, PAID_COURSE, INVITED_COURSE):
        add_course(db, key)
    db.add_all([CourseMode(course_key=PAID_COURSE, mode_slug="audit", mode_display_name="Audit"),
                CourseMode(course_key=PAID_COURSE, mode_slug="verified",
                           mode_display_name="Verified Certificate", min_price=49)])
    db.commit()

    # Register (form-encoded, as the authn MFE does) and activate.
    response = requests.post(live_server + "/api/user/v2/account/registration/", timeout=10,
                             data={"username": USERNAME, "email": EMAIL, "name": NAME,
                                   "password": PASSWORD, "honor_code": "true"})
    assert response.status_code == 200, response.text
    response = requests.get(live_server + activation_path(mail_folder), timeout=10)
    assert response.status_code == 200, response.text
    learner = db.scalar(select(User).where(User.username == USERNAME))
    learner_jwt = jwt_headers(app, learner)

    # The learner enrolls; ecommerce (API key) enrolls them in a paid seat with its order.
    response = requests.post(live_server + ENROLLMENT, timeout=10, headers=learner_jwt,
                             json={"course_details": {"course_id": COURSE}})
    assert response.status_code == 200, response.text
    assert (response.json()["user"], response.json()["mode"]) == (USERNAME, "audit")
    response = requests.post(live_server + ENROLLMENT, timeout=10,
                             headers={"X-Edx-Api-Key": API_KEY}, json={
                                 "user": USERNAME, "mode": "verified",
                                 "course_details": {"course_id": PAID_COURSE},
                                 "enrollment_attributes": [{"namespace": "order",
                                                            "name": "order_number",
                                                            "value": f"EDX-{USERNAME}-1"}]})
    assert response.status_code == 200, response.text
    assert response.json()["mode"] == "verified"
    # An invitation kept by email (bulk enrollment writes these).
    db.add(AllowedEnrollment(email=EMAIL.lower(), course_key=INVITED_COURSE))
    db.commit()
    ids = db.scalars(select(Enrollment.id).where(Enrollment.user_id == learner.id)).all()
    assert len(ids) == 2
    assert db.scalars(select(EnrollmentAttribute.value).where(
        EnrollmentAttribute.enrollment_id.in_(ids))).all() == [f"EDX-{USERNAME}-1"]
    assert {table for table, _, _ in find_person(engine, (USERNAME, EMAIL, NAME))
            if table.startswith("enrollment_")} == {"enrollment_attribute", "enrollment_allowed"}

    # The learner asks to be forgotten, with their password.
    response = requests.post(live_server + "/api/user/v1/accounts/deactivate_logout/",
                             timeout=10, data={"password": PASSWORD}, headers=learner_jwt)
    assert response.status_code == 204, response.text

    # The driver, with its client-credentials JWT.
    configure_django_for_edx_rest_api_client()
    service = create_user(db, "retirement_service_worker", password=None, is_staff=True)
    application, secret = create_application(db, name="retirement", user=service,
                                             grant_type="client-credentials")
    db.commit()
    driver = EnrollmentDriver(live_server, application.client_id, secret)
    queued = driver.learners_to_retire(["PENDING", "ENROLLMENTS_COMPLETE", "LMS_COMPLETE"],
                                       cool_off_days=0)
    assert [item["original_username"] for item in queued] == [USERNAME]
    retire_one_learner(driver, USERNAME, [ENROLLMENT_STEP] + PIPELINE[1:])
    assert driver.get_learner_retirement_state(USERNAME)["current_state"][
        "state_name"] == "COMPLETE"
    # unenroll/ answered 200 with the orgs of the courses left (upstream: a set of orgs).
    unenroll = [call for call in driver.calls if "/enrollment/v1/unenroll/" in call[1]]
    assert [(method, status) for method, _, status in unenroll] == [("POST", 200)]
    db.expire_all()
    responses = db.scalar(select(UserRetirementStatus.responses))
    assert "Ending: ENROLLMENTS_COMPLETE with response:\n['OtherOrg', 'edX']" in responses \
        or "Ending: ENROLLMENTS_COMPLETE with response:\n['edX', 'OtherOrg']" in responses, \
        responses
    driver.bulk_cleanup_retirements([USERNAME])

    # The enrollments stay (course statistics), inactive, on the retired user row.
    db.expire_all()
    retired = db.get(User, learner.id)
    assert USERNAME not in retired.username and EMAIL not in retired.email
    assert retired.name == "" and not retired.is_active
    rows = db.scalars(select(Enrollment).where(Enrollment.user_id == learner.id)
                      .order_by(Enrollment.course_key)).all()
    assert [(row.course_key, row.mode, row.is_active) for row in rows] == [
        (PAID_COURSE, "verified", False), (COURSE, "audit", False)]
    assert db.scalars(select(EnrollmentAttribute.id).where(
        EnrollmentAttribute.enrollment_id.in_(ids))).all() == []
    # History: created, then deactivated by the retirement, for each enrollment; only
    # the retired user row (or nobody) is named as the one who changed them.
    history = db.scalars(select(EnrollmentHistory).where(
        EnrollmentHistory.enrollment_id.in_(ids))).all()
    assert sorted((row.from_active, row.to_active) for row in history
                  if row.from_active is not None) == [(True, False), (True, False)]
    assert {row.changed_by_id for row in history} <= {None, learner.id, service.id}
    # The invitation by email goes too (upstream's retire_misc deletes it by the
    # original email), and nothing stored anywhere holds the username, email or name.
    assert db.scalars(select(AllowedEnrollment.email)).all() == []
    assert find_person(engine, (USERNAME, EMAIL, NAME)) == []
