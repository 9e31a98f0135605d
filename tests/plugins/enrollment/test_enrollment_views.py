"""The enrollment API views (``/api/enrollment/v1/``): bodies, permissions, bad input,
query counts. Messages and codes are upstream's (openedx enrollments/views.py)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from lms.timeutil import isoformat, utcnow
from plugins.accounts import retirement
from plugins.accounts.models import RetirementState, UserRetirementStatus
from plugins.courses.api import store_course
from plugins.enrollment import api
from plugins.enrollment.models import (AllowedEnrollment, CourseMode, Enrollment,
                                       EnrollmentAttribute, EnrollmentHistory)

COURSE = "course-v1:edX+DemoX+Demo_Course"
OTHER = "course-v1:OtherX+C2+2026"
BASE = "/api/enrollment/v1/"
LIST = BASE + "enrollment"
API_KEY = "enrollment-test-key"
SERVICE = "retirement_service_worker"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
AUDIT = {"slug": "audit", "name": "Audit", "min_price": 0, "suggested_prices": "",
         "currency": "usd", "expiration_datetime": None, "description": None, "sku": None,
         "bulk_sku": None}


def make_course(db, key=COURSE, **overview):
    course_key = parse_course_key(key)
    usage = str(course_key.make_usage_key("course", "course"))
    settings = overview.pop("settings", {})
    store_course(db, key, {"display_name": overview.pop("display_name", "Demo Course"),
                           "start": "2020-01-01T00:00:00+00:00", "settings": settings,
                           **overview},
                 [{"usage_key": usage, "block_type": "course", "block_id": "course",
                   "display_name": "Demo", "children": [], "fields": {}, "data": {}}])
    db.commit()


def add_mode(db, slug, key=COURSE, expires=None, price=0, name=None):
    db.add(CourseMode(course_key=key, mode_slug=slug, mode_display_name=name or slug.title(),
                      min_price=price, currency="usd", expiration_datetime=expires))
    db.commit()


def details(key=COURSE, name="Demo Course", modes=(AUDIT,), **extra):
    return {"course_id": key, "course_name": name, "enrollment_start": None,
            "enrollment_end": None, "course_start": "2020-01-01T00:00:00Z", "course_end": None,
            "invite_only": False, "course_modes": list(modes),
            "pacing_type": "Instructor Paced", **extra}


def rows(db, user):
    db.expire_all()
    return [(row.course_key, row.mode, row.is_active) for row in db.scalars(
        select(Enrollment).where(Enrollment.user_id == user.id).order_by(Enrollment.id))]


def enroll_body(key=COURSE, **extra):
    return {"course_details": {"course_id": key}, **extra}


@pytest.fixture
def settings(settings):
    settings["lms.edx_api_key"] = API_KEY
    settings["accounts.retirement_service_username"] = SERVICE
    return settings


@pytest.fixture
def course(db):
    make_course(db)
    return COURSE


@pytest.fixture
def alice(db):
    return create_user(db, "alice", email="alice@example.com", password=None)


@pytest.fixture
def bob(db):
    return create_user(db, "bob", email="bob@example.com", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


@pytest.fixture
def course_staff(db):
    user = create_user(db, "teacher", password=None)
    permissions.grant_role(db, user, "staff", parse_course_key(COURSE))
    db.commit()
    return user


# -- POST enrollment ---------------------------------------------------------------------

def test_self_enrollment(app, db, course, alice):
    answer = app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice)).json
    row = db.scalar(select(Enrollment).where(Enrollment.user_id == alice.id))
    assert answer == {"created": isoformat(row.created), "mode": "audit", "is_active": True,
                      "course_details": details(), "user": "alice"}
    assert rows(db, alice) == [(COURSE, "audit", True)]
    history = db.scalars(select(EnrollmentHistory)).all()
    assert [(h.changed_by_id, h.to_mode, h.to_active) for h in history] == [
        (alice.id, "audit", True)]


def test_already_enrolled_answers_the_enrollment_unchanged(app, db, course, alice):
    add_mode(db, "audit")
    add_mode(db, "honor")
    headers = jwt_headers(app, alice)
    first = app.post_json(LIST, enroll_body(), headers=headers).json
    again = app.post_json(LIST, enroll_body(mode="honor"), headers=headers).json
    assert again == first and again["mode"] == "audit"
    assert rows(db, alice) == [(COURSE, "audit", True)]


def test_reenrolling_reactivates(app, db, course, alice):
    api.enroll(db, alice.id, COURSE)
    api.unenroll(db, alice.id, COURSE)
    db.commit()
    answer = app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice)).json
    assert answer["is_active"] is True
    assert rows(db, alice) == [(COURSE, "audit", True)]


def test_default_mode_is_honor_when_only_honor_is_offered(app, db, course, alice):
    add_mode(db, "honor")
    answer = app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice)).json
    assert answer["mode"] == "honor"


def test_anonymous_post_is_401(app, course):
    response = app.post_json(LIST, enroll_body(), status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_learner_may_not_enroll_someone_else(app, db, course, alice, bob):
    headers = jwt_headers(app, alice)
    response = app.post_json(LIST, enroll_body(user="bob"), headers=headers, status=404)
    assert response.body == b""
    response = app.post_json(LIST, enroll_body(email="bob@example.com"), headers=headers,
                             status=404)
    assert response.body == b""
    assert rows(db, bob) == []


def test_learner_may_not_choose_a_paid_mode(app, db, course, alice):
    add_mode(db, "verified", price=50)
    response = app.post_json(LIST, enroll_body(mode="verified"),
                             headers=jwt_headers(app, alice), status=403)
    assert response.json == {
        "message": "User does not have permission to create enrollment with mode [verified]."}
    assert rows(db, alice) == []


def test_course_staff_is_a_learner_for_others(app, db, course, course_staff, alice):
    app.post_json(LIST, enroll_body(user="alice"), headers=jwt_headers(app, course_staff),
                  status=404)
    assert rows(db, alice) == []


def test_global_staff_enrolls_others_in_any_mode(app, db, course, staff, alice):
    add_mode(db, "audit")
    add_mode(db, "verified", price=50, name="Verified Certificate")
    answer = app.post_json(LIST, enroll_body(user="alice", mode="verified"),
                           headers=jwt_headers(app, staff)).json
    assert answer["user"] == "alice" and answer["mode"] == "verified"
    assert [mode["slug"] for mode in answer["course_details"]["course_modes"]] == [
        "audit", "verified"]
    assert rows(db, alice) == [(COURSE, "verified", True)]
    # Changing the mode of an existing enrollment, then deactivating it.
    app.post_json(LIST, enroll_body(user="alice", mode="audit"), headers=jwt_headers(app, staff))
    assert rows(db, alice) == [(COURSE, "audit", True)]
    answer = app.post_json(LIST, enroll_body(user="alice", is_active=False),
                           headers=jwt_headers(app, staff)).json
    assert answer["is_active"] is False
    assert rows(db, alice) == [(COURSE, "audit", False)]
    history = db.scalars(select(EnrollmentHistory).order_by(EnrollmentHistory.id)).all()
    assert [(h.changed_by_id, h.from_mode, h.to_mode, h.to_active) for h in history] == [
        (staff.id, None, "verified", True), (staff.id, "verified", "audit", True),
        (staff.id, "audit", "audit", False)]


def test_deactivating_with_a_stale_mode_changes_nothing(app, db, course, staff, alice):
    add_mode(db, "audit")
    add_mode(db, "verified")
    api.enroll(db, alice.id, COURSE, mode="verified")
    db.commit()
    response = app.post_json(LIST, enroll_body(user="alice", mode="audit", is_active=False),
                             headers=jwt_headers(app, staff), status=400)
    assert response.json == {"message": "Enrollment mode mismatch: active mode=verified, "
                                        "requested mode=audit. Won't deactivate."}
    assert rows(db, alice) == [(COURSE, "verified", True)]


def test_credit_mode_requires_its_provider_attribute(app, db, course, staff, alice):
    add_mode(db, "audit")
    add_mode(db, "credit")
    api.enroll(db, alice.id, COURSE)
    db.commit()
    body = enroll_body(user="alice", mode="credit", enrollment_attributes=[
        {"namespace": "order", "name": "order_number", "value": "1"}])
    response = app.post_json(LIST, body, headers=jwt_headers(app, staff), status=400)
    assert response.json == {"message": "Missing enrollment attributes: requested mode=credit "
                                        "required attributes=['credit:provider_id']"}
    body["enrollment_attributes"].append(
        {"namespace": "credit", "name": "provider_id", "value": "hogwarts"})
    app.post_json(LIST, body, headers=jwt_headers(app, staff))
    assert rows(db, alice) == [(COURSE, "credit", True)]
    assert sorted((a.namespace, a.name, a.value) for a in db.scalars(
        select(EnrollmentAttribute))) == [("credit", "provider_id", "hogwarts"),
                                          ("order", "order_number", "1")]


def test_api_key_enrolls_by_email(app, db, course, alice):
    add_mode(db, "audit")
    add_mode(db, "verified")
    answer = app.post_json(LIST, enroll_body(email="alice@example.com", mode="verified"),
                           headers={"X-Edx-Api-Key": API_KEY}).json
    assert answer["user"] == "alice" and answer["mode"] == "verified"
    assert rows(db, alice) == [(COURSE, "verified", True)]
    response = app.post_json(LIST, enroll_body(email="nobody@example.com"),
                             headers={"X-Edx-Api-Key": API_KEY}, status=406)
    assert response.json == {
        "message": "The user with the email address nobody@example.com does not exist."}
    app.post_json(LIST, enroll_body(), headers={"X-Edx-Api-Key": "wrong"}, status=401)


def test_unknown_user_is_406(app, db, course, staff):
    response = app.post_json(LIST, enroll_body(user="ghost"), headers=jwt_headers(app, staff),
                             status=406)
    assert response.json == {"message": "The user ghost does not exist."}


@pytest.mark.parametrize("body, message", [
    ({}, "Course ID must be specified to create a new enrollment."),
    ({"course_details": {}}, "Course ID must be specified to create a new enrollment."),
    ({"course_details": "course-v1:edX+DemoX+Demo_Course"},
     "Course ID must be specified to create a new enrollment."),
    (["course_details"], "Course ID must be specified to create a new enrollment."),
    ({"course_details": {"course_id": "not a key"}},
     "No course 'not a key' found for enrollment"),
    ({"course_details": {"course_id": 5}}, "No course '5' found for enrollment"),
    ({"course_details": {"course_id": "course-v1:Nope+N1+2026"}},
     "No course 'course-v1:Nope+N1+2026' found for enrollment"),
    (enroll_body(is_active="yes"), "'yes' is an invalid enrollment activation status."),
    (enroll_body(is_active=1), "'1' is an invalid enrollment activation status."),
    (enroll_body(force_enrollment="no"), "'no' is an invalid force enrollment status."),
    (enroll_body(mode="nosuchmode"),
     "The [nosuchmode] course mode is expired or otherwise unavailable for course run "
     "[course-v1:edX+DemoX+Demo_Course]."),
    (enroll_body(mode=["verified"]),
     "The [['verified']] course mode is expired or otherwise unavailable for course run "
     "[course-v1:edX+DemoX+Demo_Course]."),
])
def test_bad_input(app, db, course, staff, alice, body, message):
    response = app.post_json(LIST, body, headers=jwt_headers(app, staff), status=400)
    assert response.json["message"] == message
    assert rows(db, staff) == []


def test_unavailable_mode_answers_the_course_details(app, db, course, staff):
    response = app.post_json(LIST, enroll_body(mode="verified"),
                             headers=jwt_headers(app, staff), status=400)
    assert response.json == {
        "message": "The [verified] course mode is expired or otherwise unavailable for "
                   "course run [course-v1:edX+DemoX+Demo_Course].",
        "course_details": details()}


def test_expired_mode_is_unavailable(app, db, course, staff, alice):
    add_mode(db, "audit")
    add_mode(db, "verified", expires=utcnow() - timedelta(days=1))
    response = app.post_json(LIST, enroll_body(user="alice", mode="verified"),
                             headers=jwt_headers(app, staff), status=400)
    assert [m["slug"] for m in response.json["course_details"]["course_modes"]] == ["audit"]
    assert rows(db, alice) == []


@pytest.mark.parametrize("attributes, message", [
    ({"namespace": "credit"}, "'namespace' not in enrollment attribute"),
    ([{"name": "provider_id", "value": "x"}], "'namespace' not in enrollment attribute"),
    ([{"namespace": "credit", "value": "x"}], "'name' not in enrollment attribute"),
    ([{"namespace": "credit", "name": "provider_id"}], "'value' not in enrollment attribute"),
    (["credit"], "'namespace' not in enrollment attribute"),
])
def test_malformed_attributes(app, db, course, alice, attributes, message):
    response = app.post_json(LIST, enroll_body(enrollment_attributes=attributes),
                             headers=jwt_headers(app, alice), status=400)
    assert response.json == {"message": message, "localizedMessage": message}
    assert rows(db, alice) == []


def test_malformed_json(app, db, course, alice):
    response = app.post(LIST, b'{"course_details": ', headers={
        **jwt_headers(app, alice), "Content-Type": "application/json"}, status=400)
    assert response.json["detail"].startswith("JSON parse error - ")
    assert rows(db, alice) == []


CREATE_FAILED = ("An error occurred while creating the new course enrollment for user "
                 "'alice' in course 'course-v1:edX+DemoX+Demo_Course'")


def test_closed_enrollment(app, db, alice, staff):
    make_course(db, enrollment_end=utcnow() - timedelta(days=1))
    response = app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice), status=400)
    assert response.json == {"message": CREATE_FAILED}
    make_course(db, enrollment_start=utcnow() + timedelta(days=1))
    app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice), status=400)
    assert rows(db, alice) == []
    # Global staff may force it (and staff may always enroll themselves).
    app.post_json(LIST, enroll_body(user="alice", force_enrollment=True),
                  headers=jwt_headers(app, staff))
    assert rows(db, alice) == [(COURSE, "audit", True)]
    app.post_json(LIST, enroll_body(), headers=jwt_headers(app, staff))


def test_force_enrollment_is_ignored_for_learners(app, db, alice):
    make_course(db, enrollment_end=utcnow() - timedelta(days=1))
    app.post_json(LIST, enroll_body(force_enrollment=True), headers=jwt_headers(app, alice),
                  status=400)
    assert rows(db, alice) == []


def test_invitation_only(app, db, alice, bob):
    make_course(db, invitation_only=True)
    response = app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice), status=400)
    assert response.json == {"message": CREATE_FAILED}
    db.add(AllowedEnrollment(email="alice@example.com", course_key=COURSE))
    db.commit()
    answer = app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice)).json
    assert answer["course_details"]["invite_only"] is True
    assert rows(db, alice) == [(COURSE, "audit", True)]
    app.post_json(LIST, enroll_body(), headers=jwt_headers(app, bob), status=400)


def test_full_course(app, db, alice, bob):
    make_course(db, settings={"max_student_enrollments_allowed": 1})
    app.post_json(LIST, enroll_body(), headers=jwt_headers(app, bob))
    response = app.post_json(LIST, enroll_body(), headers=jwt_headers(app, alice), status=400)
    assert response.json == {"message": CREATE_FAILED}
    assert rows(db, alice) == []


# -- GET enrollment ----------------------------------------------------------------------

def test_list_is_the_active_enrollments_oldest_first(app, db, course, alice):
    make_course(db, OTHER, display_name="Other", self_paced=True)
    api.enroll(db, alice.id, OTHER)
    api.enroll(db, alice.id, COURSE)
    api.enroll(db, alice.id, "course-v1:Gone+G1+2026")  # a deleted course is skipped
    db.commit()
    headers = jwt_headers(app, alice)
    found = app.get(LIST, headers=headers).json
    assert [(e["course_details"]["course_id"], e["user"]) for e in found] == [
        (OTHER, "alice"), (COURSE, "alice")]
    assert found[0]["course_details"]["pacing_type"] == "Self Paced"
    api.unenroll(db, alice.id, OTHER)
    db.commit()
    assert [e["course_details"]["course_id"] for e in app.get(LIST, headers=headers).json] == [
        COURSE]


def test_list_anonymous_is_401(app):
    response = app.get(LIST, status=401)
    assert response.json == NOT_AUTHENTICATED


def test_list_of_another_user(app, db, course, alice, bob, staff, course_staff):
    make_course(db, OTHER)
    api.enroll(db, alice.id, COURSE)
    api.enroll(db, alice.id, OTHER)
    db.commit()
    courses = lambda answer: [e["course_details"]["course_id"] for e in answer]  # noqa: E731
    assert app.get(LIST, {"user": "alice"}, headers=jwt_headers(app, bob)).json == []
    # Course staff see the enrollments in their own courses only.
    assert courses(app.get(LIST, {"user": "alice"},
                           headers=jwt_headers(app, course_staff)).json) == [COURSE]
    assert courses(app.get(LIST, {"user": "alice"}, headers=jwt_headers(app, staff)).json) == [
        COURSE, OTHER]
    assert courses(app.get(LIST, {"user": "alice"},
                           headers={"X-Edx-Api-Key": API_KEY}).json) == [COURSE, OTHER]
    assert app.get(LIST, {"user": "ghost"}, headers=jwt_headers(app, staff)).json == []


def test_list_of_500_enrollments_is_a_fixed_number_of_queries(app, db, alice, query_counter):
    keys = [f"course-v1:Bulk+C{n}+2026" for n in range(500)]
    for key in keys[:3]:
        make_course(db, key)
    headers = jwt_headers(app, alice)
    api.enroll(db, alice.id, keys[0])
    db.commit()
    with query_counter() as one:
        assert len(app.get(LIST, headers=headers).json) == 1
    for key in keys[3:]:
        make_course(db, key)
    for key in keys[1:]:
        db.add(Enrollment(user_id=alice.id, course_key=key, mode="audit", is_active=True,
                          created=utcnow()))
        db.add(CourseMode(course_key=key, mode_slug="audit", mode_display_name="Audit"))
    db.commit()
    with query_counter() as many:
        assert len(app.get(LIST, headers=headers).json) == 500
    assert len(one) == len(many)


# -- GET enrollment/{course_id} and enrollment/{username},{course_id} -----------------------

def test_detail(app, db, course, alice, bob, staff):
    headers = jwt_headers(app, alice)
    response = app.get(BASE + f"enrollment/{COURSE}", headers=headers)
    assert response.status_code == 200 and response.body == b""
    row = api.enroll(db, alice.id, COURSE)
    api.unenroll(db, alice.id, COURSE)
    db.commit()
    expected = {"created": isoformat(row.created), "mode": "audit", "is_active": False,
                "course_details": details(), "user": "alice"}
    assert app.get(BASE + f"enrollment/{COURSE}", headers=headers).json == expected
    assert app.get(BASE + f"enrollment/alice,{COURSE}", headers=headers).json == expected
    assert app.get(BASE + f"enrollment/alice,{COURSE}",
                   headers=jwt_headers(app, staff)).json == expected
    assert app.get(BASE + f"enrollment/alice,{COURSE}",
                   headers={"X-Edx-Api-Key": API_KEY}).json == expected
    response = app.get(BASE + f"enrollment/alice,{COURSE}", headers=jwt_headers(app, bob),
                       status=404)
    assert response.body == b""
    app.get(BASE + f"enrollment/{COURSE}", status=401)
    app.get(BASE + f"enrollment/alice,{COURSE}", status=401)
    response = app.get(BASE + "enrollment/alice,nota+course+key:",
                       headers=headers, status=400)
    assert response.json == {"message": "An error occurred while retrieving enrollments for "
                                        "user 'alice' in course 'nota+course+key:'"}


# -- GET course/{course_id} --------------------------------------------------------------

def test_course_details(app, db, course):
    assert app.get(BASE + f"course/{COURSE}").json == details()
    add_mode(db, "audit")
    add_mode(db, "verified", expires=utcnow() - timedelta(days=1), price=49,
             name="Verified Certificate")
    assert [m["slug"] for m in app.get(BASE + f"course/{COURSE}").json["course_modes"]] == [
        "audit"]
    modes = app.get(BASE + f"course/{COURSE}", {"include_expired": "1"}).json["course_modes"]
    assert modes[1]["slug"] == "verified" and modes[1]["min_price"] == 49
    assert modes[1]["name"] == "Verified Certificate"
    assert modes[1]["expiration_datetime"].endswith("Z")


@pytest.mark.parametrize("course_id", ["course-v1:Nope+N1+2026", "bad+key+run"])
def test_course_details_of_an_unknown_course(app, course_id):
    response = app.get(BASE + f"course/{course_id}", status=400)
    assert response.json == {"message": f"No course found for course ID '{course_id}'"}


# -- GET enrollments/ --------------------------------------------------------------------

ENROLLMENTS = BASE + "enrollments/"


def test_enrollments_for_global_staff_only(app, db, alice, course_staff):
    response = app.get(ENROLLMENTS, status=401)
    assert response.json == {"developer_message": NOT_AUTHENTICATED["detail"]}
    for user in (alice, course_staff):
        response = app.get(ENROLLMENTS, headers=jwt_headers(app, user), status=403)
        assert response.json == {
            "developer_message": "You do not have permission to perform this action."}
    app.get(ENROLLMENTS, headers={"X-Edx-Api-Key": API_KEY}, status=401)


def test_enrollments_filters_and_pages(app, db, alice, bob, staff, query_counter):
    headers = jwt_headers(app, staff)
    first = api.enroll(db, alice.id, COURSE)
    api.enroll(db, bob.id, COURSE)
    api.enroll(db, alice.id, OTHER)
    db.commit()
    page = app.get(ENROLLMENTS, headers=headers).json
    assert page["next"] is None and page["previous"] is None
    assert [(e["user"], e["course_id"]) for e in page["results"]] == [
        ("alice", OTHER), ("bob", COURSE), ("alice", COURSE)]
    assert page["results"][2] == {"created": isoformat(first.created), "mode": "audit",
                                  "is_active": True, "user": "alice", "course_id": COURSE}
    by = lambda **query: [(e["user"], e["course_id"]) for e in app.get(  # noqa: E731
        ENROLLMENTS, query, headers=headers).json["results"]]
    assert by(course_id=COURSE) == [("bob", COURSE), ("alice", COURSE)]
    assert by(username="alice") == [("alice", OTHER), ("alice", COURSE)]
    assert by(username="alice,bob", course_id=COURSE) == [("bob", COURSE), ("alice", COURSE)]
    assert by(email="bob@example.com") == [("bob", COURSE)]
    assert by(course_ids=f"{OTHER},nonsense") == [("alice", OTHER)]
    assert by(username="ghost") == []
    # Cursor pages of 100, in a fixed number of queries.
    with query_counter() as small:
        app.get(ENROLLMENTS, headers=headers)
    for n in range(150):
        db.add(Enrollment(user_id=alice.id, course_key=f"course-v1:Many+C{n}+2026",
                          mode="audit", is_active=True, created=utcnow()))
    db.commit()
    with query_counter() as big:
        page = app.get(ENROLLMENTS, headers=headers).json
    assert len(small) == len(big)
    assert len(page["results"]) == 100 and page["previous"] is None
    following = app.get(page["next"], headers=headers).json
    assert len(following["results"]) == 53 and following["next"] is None
    assert following["previous"] is not None
    # page_size is honoured up to upstream's max_page_size of 100; the cursor keeps it.
    small_page = app.get(ENROLLMENTS, {"page_size": "20"}, headers=headers).json
    assert len(small_page["results"]) == 20 and "page_size=20" in small_page["next"]
    second = app.get(small_page["next"], headers=headers).json
    assert len(second["results"]) == 20
    assert second["results"][0]["course_id"] != small_page["results"][-1]["course_id"]
    capped = app.get(ENROLLMENTS, {"page_size": "1000"}, headers=headers).json
    assert len(capped["results"]) == 100
    app.get(ENROLLMENTS, {"cursor": "!!"}, headers=headers, status=404)


@pytest.mark.parametrize("query, field, message", [
    ({"course_id": "not-a-key"}, "course_id", "'not-a-key' is not a valid course id."),
    ({"username": ",".join(f"u{n}" for n in range(101))}, "username",
     "Too many usernames in a single request - 101. A maximum of 100 is allowed"),
    ({"username": "bad name!"}, "username",
     "Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores (_), "
     "and hyphens (-)."),
    ({"email": ",".join(f"u{n}@x.org" for n in range(101))}, "email",
     "Too many emails in a single request - 101. A maximum of 100 is allowed"),
])
def test_enrollments_bad_filters(app, staff, query, field, message):
    response = app.get(ENROLLMENTS, query, headers=jwt_headers(app, staff), status=400)
    assert response.json == {"field_errors": {field: {"developer_message": message}}}


# -- GET roles/ --------------------------------------------------------------------------

def test_roles(app, db, alice, staff, course_staff):
    permissions.grant_role(db, course_staff, "instructor", parse_course_key(OTHER))
    permissions.grant_role(db, course_staff, "staff", org="edX")
    db.commit()
    roles = app.get(BASE + "roles/", headers=jwt_headers(app, course_staff)).json
    assert roles == {"roles": [
        {"org": "edX", "course_id": COURSE, "role": "staff"},
        {"org": "OtherX", "course_id": OTHER, "role": "instructor"},
        {"org": "edX", "course_id": "None", "role": "staff"}], "is_staff": False}
    assert app.get(BASE + "roles/", {"course_id": OTHER},
                   headers=jwt_headers(app, course_staff)).json == {
        "roles": [{"org": "OtherX", "course_id": OTHER, "role": "instructor"}],
        "is_staff": False}
    assert app.get(BASE + "roles/", headers=jwt_headers(app, alice)).json == {
        "roles": [], "is_staff": False}
    assert app.get(BASE + "roles/", headers=jwt_headers(app, staff)).json["is_staff"] is True
    app.get(BASE + "roles/", status=401)
    response = app.get(BASE + "roles/", headers={"X-Edx-Api-Key": API_KEY}, status=400)
    assert response.json == {"message": "An error occurred while retrieving roles for user '"}


# -- POST unenroll/ ----------------------------------------------------------------------

UNENROLL = BASE + "unenroll/"


@pytest.fixture
def service(db):
    return create_user(db, SERVICE, password=None, is_staff=True)


def retiring(app, db, user, state="RETIRING_ENROLLMENTS"):
    status = retirement.queue_retirement(db, app.registry.settings, user)
    db.commit()
    state_id = db.scalar(select(RetirementState.id).where(RetirementState.state_name == state))
    db.execute(update(UserRetirementStatus).where(UserRetirementStatus.id == status.id)
               .values(current_state_id=state_id))
    db.commit()
    return status


def test_unenroll_for_the_retirement_service(app, db, alice, bob, service):
    make_course(db, OTHER)
    api.enroll(db, alice.id, COURSE)
    api.enroll(db, alice.id, OTHER)
    api.enroll(db, alice.id, "course-v1:Third+T1+2026")
    api.unenroll(db, alice.id, "course-v1:Third+T1+2026")
    api.enroll(db, bob.id, COURSE)
    db.commit()
    retiring(app, db, alice)
    headers = jwt_headers(app, service)
    answer = app.post_json(UNENROLL, {"username": "alice"}, headers=headers).json
    assert answer == ["OtherX", "Third", "edX"]
    assert [active for _, _, active in rows(db, alice)] == [False, False, False]
    assert rows(db, bob) == [(COURSE, "audit", True)]
    response = app.post_json(UNENROLL, {"username": "alice"}, headers=headers, status=204)
    assert response.body == b""


def test_unenroll_refusals(app, db, alice, staff, service):
    api.enroll(db, alice.id, COURSE)
    db.commit()
    response = app.post_json(UNENROLL, {"username": "alice"}, status=401)
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    for user in (alice, staff):
        app.post_json(UNENROLL, {"username": "alice"}, headers=jwt_headers(app, user),
                      status=403)
    headers = jwt_headers(app, service)
    assert app.post_json(UNENROLL, {}, headers=headers, status=404).json == (
        "Username not specified.")
    assert app.post_json(UNENROLL, {"username": "alice"}, headers=headers, status=404).json == (
        "No retirement request status for username.")
    assert app.post_json(UNENROLL, {"username": 5}, headers=headers, status=404).json == (
        "No retirement request status for username.")
    retiring(app, db, alice, state="PENDING")
    response = app.post_json(UNENROLL, {"username": "alice"}, headers=headers, status=400)
    assert "is in PENDING, not a valid state to perform retirement actions on." in response.json
    app.post(UNENROLL, b"{", headers={**headers, "Content-Type": "application/json"},
             status=400)
    assert rows(db, alice) == [(COURSE, "audit", True)]


def test_superuser_may_unenroll(app, db, alice):
    admin = create_user(db, "admin", password=None, is_staff=True, is_superuser=True)
    api.enroll(db, alice.id, COURSE)
    db.commit()
    retiring(app, db, alice)
    assert app.post_json(UNENROLL, {"username": "alice"},
                         headers=jwt_headers(app, admin)).json == ["edX"]


# -- throttling --------------------------------------------------------------------------

@pytest.mark.commits  # throttle hits commit apart from the request
def test_throttle(app_factory, settings, db, alice, staff):
    make_course(db)
    throttled = app_factory(**{**settings, "throttle.enabled": "true",
                               "enrollment.throttle_rate": "2/d",
                               "enrollment.throttle_staff_rate": "3/d"})
    for _ in range(2):
        throttled.get(LIST, headers=jwt_headers(throttled, alice))
    response = throttled.get(BASE + f"course/{COURSE}", headers=jwt_headers(throttled, alice))
    response = throttled.get(LIST, headers=jwt_headers(throttled, alice), status=429)
    assert response.json["detail"].startswith("Request was throttled. Expected available in ")
    assert int(response.headers["Retry-After"]) >= 1
    for _ in range(3):
        throttled.get(LIST, headers=jwt_headers(throttled, staff))
    throttled.get(LIST, headers=jwt_headers(throttled, staff), status=429)
    for _ in range(5):  # API-key callers are never throttled
        throttled.get(LIST, headers={"X-Edx-Api-Key": API_KEY})


def test_bad_throttle_rate_stops_the_start_up(app_factory, settings):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError):
        app_factory(**{**settings, "enrollment.throttle_rate": "lots"})


def test_history_count_unchanged_by_reads(app, db, course, alice):
    api.enroll(db, alice.id, COURSE)
    db.commit()
    app.get(LIST, headers=jwt_headers(app, alice))
    assert db.scalar(select(func.count()).select_from(EnrollmentHistory)) == 1


def test_enrolling_into_a_cohort(app, db, course, alice):
    from plugins.enrollment import cohorts

    cohorts.set_course_cohorted(db, parse_course_key(COURSE), True)
    cohort = cohorts.add_cohort(db, parse_course_key(COURSE), "Blue")
    db.commit()
    headers = jwt_headers(app, alice)
    response = app.post_json(LIST, enroll_body(cohort="Green"), headers=headers, status=400)
    assert response.json == {"message": "An error occured while adding to cohort [Green]"}
    assert rows(db, alice) == []
    app.post_json(LIST, enroll_body(cohort="Blue"), headers=headers)
    assert rows(db, alice) == [(COURSE, "audit", True)]
    assert cohorts.membership_of(db, alice.id, COURSE).cohort_id == cohort.id
