"""``POST /api/bulk_enroll/v1/bulk_enroll``: global staff enroll or unenroll many people
(by username or email) in several courses; unregistered emails become allowed
enrollments applied at registration."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import permissions
from lms.auth import token_digest
from lms.keys import parse_course_key
from lms.models import OAuthAccessToken, OAuthApplication
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from lms.users import create_user as register_user
from plugins.courses.api import store_course
from plugins.enrollment.models import AllowedEnrollment, CourseMode, Enrollment, EnrollmentHistory

URL = "/api/bulk_enroll/v1/bulk_enroll"
COURSE = "course-v1:BulkX+B1+2026"
OTHER = "course-v1:BulkX+B2+2026"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOTHING = {"user": False, "enrollment": False, "allowed": False, "auto_enroll": False}
REGISTERED = {"user": True, "enrollment": False, "allowed": False, "auto_enroll": False}
ENROLLED = {"user": True, "enrollment": True, "allowed": False, "auto_enroll": False}


def make_course(db, key, name="Bulk Course"):
    usage = str(parse_course_key(key).make_usage_key("course", "course"))
    store_course(db, key, {"display_name": name, "start": "2020-01-01T00:00:00+00:00"},
                 [{"usage_key": usage, "block_type": "course", "block_id": "course",
                   "display_name": name, "children": [], "fields": {}, "data": {}}])
    db.commit()


def enrollments(db, course_key=COURSE):
    db.expire_all()
    return {(row.user_id, row.mode, row.is_active) for row in db.scalars(
        select(Enrollment).where(Enrollment.course_key == course_key))}


def allowed(db, course_key=COURSE):
    db.expire_all()
    return {(row.email, row.auto_enroll) for row in db.scalars(
        select(AllowedEnrollment).where(AllowedEnrollment.course_key == course_key))}


@pytest.fixture
def courses(db):
    make_course(db, COURSE)
    make_course(db, OTHER, name="Other Course")
    return COURSE, OTHER


@pytest.fixture
def alice(db):
    return create_user(db, "alice", email="alice@example.com", password=None)


@pytest.fixture
def bob(db):
    return create_user(db, "bob", email="bob@example.com", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True, name="Stella Staff")


@pytest.fixture
def outbox(app):
    box = app.registry["lms.mail_outbox"]
    box.clear()
    return box


def post(app, user, body, status=200, **kwargs):
    return app.post_json(URL, body, headers=jwt_headers(app, user), status=status, **kwargs)


def test_enroll_by_username_and_email_in_two_courses(app, db, courses, staff, alice, bob,
                                                      outbox):
    body = {"identifiers": "alice, bob@example.com\nnew.person@example.org",
            "courses": f"{COURSE},{OTHER}", "action": "enroll"}
    answer = post(app, staff, body).json
    results = [
        {"identifier": "alice", "before": REGISTERED, "after": ENROLLED},
        {"identifier": "bob@example.com", "before": REGISTERED, "after": ENROLLED},
        {"identifier": "new.person@example.org", "before": NOTHING,
         "after": {**NOTHING, "allowed": True}},
    ]
    assert answer == {
        "auto_enroll": False, "email_students": False, "action": "enroll",
        "courses": {key: {"action": "enroll", "results": results, "auto_enroll": False}
                    for key in (COURSE, OTHER)},
    }
    for key in (COURSE, OTHER):
        assert enrollments(db, key) == {(alice.id, "audit", True), (bob.id, "audit", True)}
        assert allowed(db, key) == {("new.person@example.org", False)}
    # The staff member is recorded as the author of each change.
    assert set(db.scalars(select(EnrollmentHistory.changed_by_id))) == {staff.id}
    assert outbox == []


def test_enrolled_learner_keeps_their_mode_and_an_unenrolled_one_gets_the_default(
        app, db, courses, staff, alice, bob):
    db.add_all([Enrollment(user_id=alice.id, course_key=COURSE, mode="verified",
                           is_active=True),
                Enrollment(user_id=bob.id, course_key=COURSE, mode="verified",
                           is_active=False),
                CourseMode(course_key=COURSE, mode_slug="honor", mode_display_name="Honor"),
                CourseMode(course_key=COURSE, mode_slug="verified", mode_display_name="V",
                           min_price=10)])
    db.commit()
    answer = post(app, staff, {"identifiers": "alice,bob", "courses": COURSE,
                               "action": "enroll"}).json
    assert [r["before"]["enrollment"] for r in answer["courses"][COURSE]["results"]] == [
        True, False]
    # No audit mode offered, honor is: the default mode is honor (upstream).
    assert enrollments(db) == {(alice.id, "verified", True), (bob.id, "honor", True)}


def test_unenroll_deactivates_and_removes_allowed_enrollments(app, db, courses, staff, alice,
                                                              outbox):
    db.add_all([Enrollment(user_id=alice.id, course_key=COURSE, mode="audit", is_active=True),
                AllowedEnrollment(email="later@example.org", course_key=COURSE,
                                  auto_enroll=True)])
    db.commit()
    body = {"identifiers": "alice\nlater@example.org\nnobody@example.org", "courses": COURSE,
            "action": "unenroll", "email_students": True}
    answer = post(app, staff, body).json
    assert answer["courses"][COURSE] == {"action": "unenroll", "auto_enroll": False, "results": [
        {"identifier": "alice", "before": ENROLLED, "after": REGISTERED},
        {"identifier": "later@example.org",
         "before": {**NOTHING, "allowed": True, "auto_enroll": True}, "after": NOTHING},
        {"identifier": "nobody@example.org", "before": NOTHING, "after": NOTHING},
    ]}
    assert enrollments(db) == {(alice.id, "audit", False)}
    assert allowed(db) == set()
    assert sorted((m["To"], m["Subject"]) for m in outbox) == [
        ("alice@example.com", "You have been unenrolled from Bulk Course"),
        ("later@example.org", "You have been unenrolled from Bulk Course"),
    ]


def test_email_students_sends_after_commit(app, db, courses, staff, alice, outbox):
    body = {"identifiers": "alice,invitee@example.org", "courses": COURSE,
            "action": "enroll", "email_students": True, "auto_enroll": True}
    answer = post(app, staff, body).json
    assert answer["email_students"] is True and answer["auto_enroll"] is True
    result = answer["courses"][COURSE]["results"][1]
    assert result["after"] == {**NOTHING, "allowed": True, "auto_enroll": True}
    messages = {m["To"]: m for m in outbox}
    assert messages["alice@example.com"]["Subject"] == "You have been enrolled in Bulk Course"
    assert messages["invitee@example.org"]["Subject"] == (
        "You have been invited to register for Bulk Course")
    assert "Stella Staff" in messages["invitee@example.org"].get_content()


def test_no_mail_when_the_request_fails(app, db, courses, staff, alice, outbox):
    # An unknown second course: 404, nothing written, nothing sent.
    post(app, staff, {"identifiers": "alice", "courses": f"{COURSE},course-v1:No+Such+Run",
                      "action": "enroll", "email_students": True}, status=404)
    assert enrollments(db) == set() and outbox == []


def test_unknown_and_malformed_identifiers(app, db, courses, staff, alice):
    answer = post(app, staff, {"identifiers": "ghost,not-an-email@,alice", "courses": COURSE,
                               "action": "enroll"}).json
    assert answer["courses"][COURSE]["results"] == [
        {"identifier": "ghost", "invalidIdentifier": True},
        {"identifier": "not-an-email@", "invalidIdentifier": True},
        {"identifier": "alice", "before": REGISTERED, "after": ENROLLED},
    ]
    assert allowed(db) == set()


def test_identifier_naming_two_people_is_an_error(app, db, courses, staff, alice):
    # Someone's username is another person's email address.
    create_user(db, "alice@example.com", email="other@example.com", password=None)
    answer = post(app, staff, {"identifiers": "alice@example.com", "courses": COURSE,
                               "action": "enroll"}).json
    assert answer["courses"][COURSE]["results"] == [
        {"identifier": "alice@example.com", "error": True}]
    assert enrollments(db) == set()


def test_per_course_flags_read_the_raw_body_as_upstream(app, db, courses, staff):
    # The serializer takes "1" as true; the per-course reading only "true"/"True"/true.
    answer = post(app, staff, {"identifiers": "x@example.org", "courses": COURSE,
                               "action": "enroll", "auto_enroll": "1"}).json
    assert answer["auto_enroll"] is True
    assert answer["courses"][COURSE]["auto_enroll"] is False
    assert allowed(db) == {("x@example.org", False)}


def test_form_body_and_repeated_courses_read_the_first_value(app, db, courses, staff, alice):
    response = app.post(URL, [("identifiers", "alice"), ("courses", COURSE),
                              ("courses", OTHER), ("action", "enroll"),
                              ("auto_enroll", "true")],
                        headers=jwt_headers(app, staff))
    assert list(response.json["courses"]) == [COURSE]
    assert response.json["courses"][COURSE]["auto_enroll"] is True
    assert enrollments(db, OTHER) == set()


def test_allowed_enrollment_applies_at_registration(app, db, courses, staff):
    post(app, staff, {"identifiers": "Future@Example.org", "courses": f"{COURSE},{OTHER}",
                      "action": "enroll", "auto_enroll": True})
    post(app, staff, {"identifiers": "future@example.org", "courses": OTHER,
                      "action": "enroll", "auto_enroll": False})
    user = register_user(db, username="future", email="future@example.org", password=None,
                         pm=app.registry["lms.plugin_manager"])
    db.commit()
    # Only the auto-enrolling allowance enrolls; both allowances stay.
    assert enrollments(db, COURSE) == {(user.id, "audit", True)}
    assert enrollments(db, OTHER) == set()
    assert allowed(db, COURSE) == {("future@example.org", True)}


def test_anonymous_is_401(app, courses):
    response = app.post_json(URL, {"identifiers": "a", "courses": COURSE, "action": "enroll"},
                             status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_session_is_not_accepted(app, db, courses, staff):
    # Upstream: JWT and Bearer only; a session-only caller is anonymous.
    response = app.post_json(URL, {}, status=401)
    assert response.json == NOT_AUTHENTICATED


def test_learner_and_course_staff_are_403(app, db, courses, alice):
    teacher = create_user(db, "teacher", password=None)
    permissions.grant_role(db, teacher, "staff", parse_course_key(COURSE))
    permissions.grant_role(db, teacher, "instructor", parse_course_key(COURSE))
    db.commit()
    body = {"identifiers": "alice", "courses": COURSE, "action": "enroll"}
    for user in (alice, teacher):
        assert post(app, user, body, status=403).json == FORBIDDEN
    assert enrollments(db) == set()


@pytest.mark.parametrize("body, errors", [
    ({}, {"identifiers": ["This field is required."], "courses": ["This field is required."],
          "action": ["This field is required."]}),
    ({"identifiers": "", "courses": COURSE, "action": "enroll"},
     {"identifiers": ["This field may not be blank."]}),
    ({"identifiers": "a", "courses": "not-a-key", "action": "enroll"},
     {"courses": ["Course key not valid: not-a-key"]}),
    ({"identifiers": "a", "courses": f"{COURSE},{OTHER},bad", "action": "enroll"},
     {"courses": ["Course key not valid: bad"]}),
    ({"identifiers": "a", "courses": 5, "action": "enroll"},
     {"courses": ['Expected a list of items but got type "int".']}),
    ({"identifiers": "a", "courses": COURSE, "action": "delete"},
     {"action": ['"delete" is not a valid choice.']}),
    ({"identifiers": "a", "courses": COURSE, "action": "enroll", "auto_enroll": "maybe"},
     {"auto_enroll": ["Must be a valid boolean."]}),
    ({"identifiers": "a", "courses": COURSE, "action": "enroll", "email_students": None},
     {"email_students": ["This field may not be null."]}),
    ({"identifiers": ["a"], "courses": COURSE, "action": "enroll"},
     {"identifiers": ["Not a valid string."]}),
    ({"identifiers": "a", "courses": COURSE, "action": "unenroll", "cohorts": "A"},
     {"non_field_errors": ["Cohorts can only be used for enrollments."]}),
    ({"identifiers": "a", "courses": f"{COURSE},{OTHER}", "action": "enroll", "cohorts": "A"},
     {"non_field_errors": [
         "If provided, the cohorts and courses should have equal number of items."]}),
    ([1, 2], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
])
def test_bad_input_is_400_and_changes_nothing(app, db, courses, staff, body, errors):
    assert post(app, staff, body, status=400).json == errors
    assert enrollments(db) == set() and allowed(db) == set()


def test_malformed_json_is_400(app, courses, staff):
    response = app.post(URL, b'{"identifiers": ', headers={
        **jwt_headers(app, staff), "Content-Type": "application/json"}, status=400)
    assert response.json["detail"].startswith("JSON parse error - ")


def test_empty_courses_answers_no_course(app, db, courses, staff):
    answer = post(app, staff, {"identifiers": "a@example.org", "courses": "",
                               "action": "enroll"}).json
    assert answer["courses"] == {}


def test_unknown_course_is_404(app, db, courses, staff, alice):
    response = post(app, staff, {"identifiers": "alice", "courses": "course-v1:No+Such+Run",
                                 "action": "enroll"}, status=404)
    assert response.json == {"detail": "Not found."}


def bearer(db, user):
    application = OAuthApplication(name="ops", client_id="ops-client", grant_type="password",
                                   user_id=user.id)
    db.add(application)
    db.flush()
    db.add(OAuthAccessToken(token_hash=token_digest("bulk-token"),
                            application_id=application.id, user_id=user.id, scopes=["read"],
                            expires=utcnow() + timedelta(hours=1)))
    db.commit()
    return {"Authorization": "Bearer bulk-token"}


def test_global_staff_by_bearer_token(app, db, courses, staff, alice):
    response = app.post_json(URL, {"identifiers": "alice", "courses": COURSE,
                                   "action": "enroll"}, headers=bearer(db, staff))
    assert response.json["courses"][COURSE]["results"][0]["after"] == ENROLLED


# -- cohorts (the cohort module's add_user_to_cohort) ---------------------------------------

def test_cohorts_place_enrolled_and_allowed_people(app, db, courses, staff, alice, bob):
    from plugins.enrollment import cohorts
    from plugins.enrollment.models import CohortMembership, CohortPreassignment

    group_a = cohorts.add_cohort(db, parse_course_key(COURSE), "Group A")
    group_b = cohorts.add_cohort(db, parse_course_key(OTHER), "Group B")
    cohorts.assign(db, cohorts.add_cohort(db, parse_course_key(COURSE), "Old"), bob.id)
    db.commit()
    body = {"identifiers": "alice,bob,ghost,guest@example.org", "action": "enroll",
            "courses": f"{COURSE},{OTHER}", "cohorts": "Group A,Group B"}
    answer = post(app, staff, body).json
    assert answer["courses"][COURSE]["results"] == [
        {"identifier": "alice", "before": {**REGISTERED, "cohort": None},
         "after": {**ENROLLED, "cohort": "Group A"}},
        {"identifier": "bob", "before": {**REGISTERED, "cohort": "Old"},
         "after": {**ENROLLED, "cohort": "Group A"}},
        {"identifier": "ghost", "invalidIdentifier": True},
        {"identifier": "guest@example.org", "before": {**NOTHING, "cohort": None},
         "after": {**NOTHING, "allowed": True, "cohort": "Group A"}},
    ]
    db.expire_all()
    members = {(row.user_id, row.cohort_id) for row in db.scalars(select(CohortMembership))}
    assert {(alice.id, group_a.id), (bob.id, group_a.id), (alice.id, group_b.id),
            (bob.id, group_b.id)} <= members
    assert {(row.email, row.cohort_id) for row in db.scalars(select(CohortPreassignment))} == {
        ("guest@example.org", group_a.id), ("guest@example.org", group_b.id)}
    # Again: already in the cohort, so the previous cohort is that one (upstream).
    again = post(app, staff, {**body, "identifiers": "alice"}).json
    assert again["courses"][OTHER]["results"][0]["before"]["cohort"] == "Group B"


def test_unknown_cohort_is_400(app, db, courses, staff, alice):
    from plugins.enrollment import cohorts

    cohorts.add_cohort(db, parse_course_key(COURSE), "Group A")
    db.commit()
    response = post(app, staff, {"identifiers": "alice", "action": "enroll",
                                 "courses": f"{COURSE},{OTHER}", "cohorts": "Group A,Nope"},
                    status=400)
    assert response.json == {"non_field_errors": [f"cohort Nope not found in course {OTHER}."]}
    assert enrollments(db) == set()


@pytest.mark.commits
def test_staff_throttle(app_factory, db, courses, staff):
    throttled = app_factory(**{"throttle.enabled": "true",
                               "enrollment.throttle_staff_rate": "1/m"})
    body = {"identifiers": "x@example.org", "courses": COURSE, "action": "enroll"}
    throttled.post_json(URL, body, headers=jwt_headers(throttled, staff))
    response = throttled.post_json(URL, body, headers=jwt_headers(throttled, staff), status=429)
    assert response.json["detail"].startswith("Request was throttled. Expected available in ")
    assert int(response.headers["Retry-After"]) >= 1
