"""users/{username}/course_enrollments/: the caller's courses, per version."""
from datetime import timedelta

import pytest

from lms.permissions import grant_role
from lms.keys import parse_course_key
from lms.testing import jwt_headers
from lms.timeutil import utcnow
from plugins.accounts import api as accounts
from plugins.enrollment import api as enrollment
from plugins.enrollment.models import CourseMode, Enrollment
from plugins.mobile import api as mobile
from tests.plugins.courses.factories import FUTURE, make_course
from tests.plugins.mobile.conftest import DEMO_KEY

URL = "/api/mobile/{}/users/alice/course_enrollments/"
ACCESS_GRANTED = {"has_access": True, "error_code": None, "developer_message": None,
                  "user_message": None, "additional_context_user_message": None,
                  "user_fragment": None}


def expected_course(version, key=DEMO_KEY, name="Demo Course", number="Demo", org="edX"):
    slug = key.split(":", 1)[1]
    return {
        "id": key, "name": name, "number": number, "org": org, "org_logo": "",
        "start": "2020-01-01T00:00:00Z", "start_display": "Jan. 1, 2020",
        "start_type": "timestamp", "end": None, "dynamic_upgrade_deadline": None,
        "subscription_id": key.replace(":", "_").replace("+", "_").replace("-", "_"),
        "courseware_access": ACCESS_GRANTED,
        "media": {"course_image": {
            "uri": f"/asset-v1:{slug}+type@asset+block@images_course_image.jpg",
            "name": "Course Image"}},
        "course_image": f"/asset-v1:{slug}+type@asset+block@images_course_image.jpg",
        "course_about": f"http://localhost/courses/{key}/about",
        "course_sharing_utm_parameters": {
            "facebook": "utm_medium=social&utm_campaign=social-sharing-db&utm_source=facebook",
            "twitter": "utm_medium=social&utm_campaign=social-sharing-db&utm_source=twitter"},
        "course_updates": f"http://localhost/api/mobile/{version}/course_info/{key}/updates",
        "course_handouts": f"http://localhost/api/mobile/{version}/course_info/{key}/handouts",
        "discussion_url": None, "video_outline": None, "is_self_paced": False,
    }


def created_of(db, user_id, key=DEMO_KEY):
    row = db.query(Enrollment).filter_by(user_id=user_id, course_key=key).one()
    return row.created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def enroll_in(db, user, key, **overview):
    make_course(db, course_key=key, mobile_available=True, **overview)
    row = enrollment.enroll(db, user.id, key)
    db.commit()
    return row


def test_v05_items(app, db, enrolled, as_alice):
    body = app.get(URL.format("v0.5"), headers=as_alice).json
    assert body == [{"created": created_of(db, enrolled.id), "mode": "audit", "is_active": True,
                     "course": expected_course("v0.5"), "certificate": {}}]


def test_v1_items_carry_modes_and_audit_expiry(app, db, enrolled, as_alice):
    db.add(CourseMode(course_key=DEMO_KEY, mode_slug="verified", mode_display_name="Verified",
                      min_price=49, sku="SKU1", android_sku="and.sku", ios_sku="ios.sku"))
    db.add(CourseMode(course_key=DEMO_KEY, mode_slug="audit", mode_display_name="Audit"))
    db.commit()
    body = app.get(URL.format("v1"), headers=as_alice).json
    assert body == [{
        "audit_access_expires": None, "created": created_of(db, enrolled.id), "mode": "audit",
        "is_active": True, "course": expected_course("v1"), "certificate": {},
        "course_modes": [
            {"slug": "audit", "sku": None, "android_sku": None, "ios_sku": None,
             "min_price": 0},
            {"slug": "verified", "sku": "SKU1", "android_sku": "and.sku",
             "ios_sku": "ios.sku", "min_price": 49}],
    }]


def test_org_logo_is_an_absolute_url(app, db, enrolled, as_alice):
    from plugins.courses import api as courses

    courses.ensure_organization(db, "edX").logo = "organization_logos/edx.png"
    db.commit()
    item = app.get(URL.format("v1"), headers=as_alice).json[0]
    assert item["course"]["org_logo"] == "http://localhost/organization_logos/edx.png"


def test_v2_wraps_with_configs_and_time_zone(app, db, enrolled, as_alice):
    accounts.set_preference(db, enrolled.id, "time_zone", "Europe/Paris")
    db.commit()
    body = app.get(URL.format("v2"), headers=as_alice).json
    assert list(body) == ["configs", "user_timezone", "enrollments"]
    assert body["configs"] == {"iap_configs": {}}
    assert body["user_timezone"] == "Europe/Paris"
    assert [item["course"]["id"] for item in body["enrollments"]] == [DEMO_KEY]


def test_time_zone_defaults_to_utc(app, enrolled, as_alice):
    assert app.get(URL.format("v2"), headers=as_alice).json["user_timezone"] == "UTC"


def test_list_is_newest_first_active_mobile_and_by_org(app, db, enrolled, as_alice):
    later = enroll_in(db, enrolled, "course-v1:OtherX+Two+2026", display_name="Two")
    later.created = utcnow() + timedelta(minutes=1)
    make_course(db, course_key="course-v1:edX+Hidden+2026", mobile_available=False)
    enrollment.enroll(db, enrolled.id, "course-v1:edX+Hidden+2026")
    enroll_in(db, enrolled, "course-v1:edX+Gone+2026")
    enrollment.unenroll(db, enrolled.id, "course-v1:edX+Gone+2026")
    enrollment.enroll(db, enrolled.id, "course-v1:edX+NoSuchCourse+2026")  # not imported
    db.commit()
    ids = [item["course"]["id"] for item in app.get(URL.format("v1"), headers=as_alice).json]
    assert ids == ["course-v1:OtherX+Two+2026", DEMO_KEY]
    by_org = app.get(URL.format("v1"), {"org": "otherx"}, headers=as_alice).json
    assert [item["course"]["id"] for item in by_org] == ["course-v1:OtherX+Two+2026"]
    assert app.get(URL.format("v1"), {"org": "nope"}, headers=as_alice).json == []


def test_staff_see_their_courses_not_on_mobile(app, db, staff):
    make_course(db, course_key="course-v1:edX+Hidden+2026", mobile_available=False)
    enrollment.enroll(db, staff.id, "course-v1:edX+Hidden+2026")
    db.commit()
    body = app.get("/api/mobile/v1/users/staffer/course_enrollments/",
                   headers=jwt_headers(app, staff)).json
    assert [item["course"]["id"] for item in body] == ["course-v1:edX+Hidden+2026"]


def test_beta_testers_see_courses_not_on_mobile(app, db, alice, as_alice):
    enroll_in(db, alice, "course-v1:edX+Beta+2026")
    from tests.plugins.courses.factories import make_course as remake

    remake(db, course_key="course-v1:edX+Beta+2026", mobile_available=False)
    assert app.get(URL.format("v1"), headers=as_alice).json == []
    grant_role(db, alice, "beta_testers", parse_course_key("course-v1:edX+Beta+2026"))
    db.commit()
    assert len(app.get(URL.format("v1"), headers=as_alice).json) == 1


def test_a_course_not_started_is_listed_with_its_access_error(app, db, alice, as_alice):
    enroll_in(db, alice, "course-v1:edX+Later+2030", start=FUTURE)
    item = app.get(URL.format("v1"), headers=as_alice).json[0]
    access = item["course"]["courseware_access"]
    assert access["has_access"] is False and access["error_code"] == "course_not_started"
    assert access["user_message"] == f"Course does not start until {FUTURE:%B %d, %Y}"


def test_v3_pages_by_ten(app, db, alice, as_alice):
    for number in range(12):
        enroll_in(db, alice, f"course-v1:edX+C{number:02d}+2026")
    page = app.get(URL.format("v3"), headers=as_alice).json["enrollments"]
    assert (page["count"], page["num_pages"], page["current_page"], page["start"]) == (12, 2, 1, 0)
    assert page["next"] == "http://localhost" + URL.format("v3") + "?page=2"
    assert page["previous"] is None and len(page["results"]) == 10
    second = app.get(URL.format("v3"), {"page": 2}, headers=as_alice).json["enrollments"]
    assert len(second["results"]) == 2 and second["next"] is None
    small = app.get(URL.format("v3"), {"page_size": 5}, headers=as_alice).json["enrollments"]
    assert small["num_pages"] == 3
    for bad in ("3", "0", "x"):
        assert app.get(URL.format("v3"), {"page": bad}, headers=as_alice,
                       status=404).json == {"detail": "Invalid page."}


def test_v4_pages_by_five_and_separates_the_primary(app, db, alice, as_alice):
    for number in range(7):
        row = enroll_in(db, alice, f"course-v1:edX+C{number:02d}+2026")
        row.created = utcnow() + timedelta(minutes=number)
    db.commit()
    body = app.get(URL.format("v4"), headers=as_alice).json
    assert body["primary"]["course"]["id"] == "course-v1:edX+C06+2026"
    assert body["primary"]["course_status"] is None
    page = body["enrollments"]
    assert page["count"] == 6 and len(page["results"]) == 5
    assert "course-v1:edX+C06+2026" not in [item["course"]["id"] for item in page["results"]]
    assert app.get(URL.format("v4"), {"page_size": 500}, headers=as_alice
                   ).json["enrollments"]["num_pages"] == 1
    # A valid status: filtered, no primary.
    everything = app.get(URL.format("v4"), {"status": "all"}, headers=as_alice).json
    assert "primary" not in everything and everything["enrollments"]["count"] == 7
    assert app.get(URL.format("v4"), {"status": "completed"}, headers=as_alice
                   ).json["enrollments"]["count"] == 0
    assert app.get(URL.format("v4"), {"status": "in_progress"}, headers=as_alice
                   ).json["enrollments"]["count"] == 7


def test_v4_expired_status(app, db, alice, as_alice):
    enroll_in(db, alice, "course-v1:edX+Old+2020", end=utcnow() - timedelta(days=1))
    enroll_in(db, alice, "course-v1:edX+Now+2026")
    expired = app.get(URL.format("v4"), {"status": "expired"}, headers=as_alice).json
    assert [i["course"]["id"] for i in expired["enrollments"]["results"]] == [
        "course-v1:edX+Old+2020"]


def test_v4_primary_is_the_course_visited_last(app, db, alice, as_alice):
    enroll_in(db, alice, "course-v1:edX+First+2026")
    newest = enroll_in(db, alice, "course-v1:edX+Second+2026")
    newest.created = utcnow() - timedelta(hours=1)
    first = enrollment.get_enrollment_row(db, alice.id, "course-v1:edX+First+2026")
    first.created = utcnow() - timedelta(hours=2)
    key = parse_course_key("course-v1:edX+First+2026")
    chapter = str(key.make_usage_key("chapter", "week1"))
    sequential = str(key.make_usage_key("sequential", "lesson1"))
    course_block = str(key.make_usage_key("course", "course"))
    mobile.save_positions(db, alice.id, str(key), [(chapter, sequential), (course_block, chapter)])
    db.commit()
    primary = app.get(URL.format("v4"), headers=as_alice).json["primary"]
    assert primary["course"]["id"] == "course-v1:edX+First+2026"
    assert primary["course_status"] == {
        "last_visited_module_id": sequential,
        "last_visited_module_path": [course_block, chapter, sequential],
        "last_visited_block_id": "",
        "last_visited_unit_display_name": "Lesson 1",
    }
    assert primary["course_progress"] == {"total_assignments_count": 1,
                                          "assignments_completed": 0}
    assert [a["title"] for a in primary["course_assignments"]["future_assignments"]] == [
        "Lesson 1"]


def test_v4_requested_course_progress(app, db, alice, as_alice):
    enroll_in(db, alice, "course-v1:edX+A+2026")
    enroll_in(db, alice, "course-v1:edX+B+2026")
    body = app.get(URL.format("v4"), {"requested_fields": "course_progress"},
                   headers=as_alice).json
    assert body["enrollments"]["results"][0]["course_progress"] == {
        "total_assignments_count": 1, "assignments_completed": 0}
    plain = app.get(URL.format("v4"), headers=as_alice).json
    assert "course_progress" not in plain["enrollments"]["results"][0]


def test_other_learners_and_staff(app, enrolled, bob, staff):
    assert app.get(URL.format("v1"), headers=jwt_headers(app, bob), status=404).json == {
        "detail": "Not found."}
    app.get(URL.format("v1"), headers=jwt_headers(app, staff), status=403)


# user, enrollments, courses, roles, enrollments with the verified modes (upgrade
# deadlines), course modes, organization logos, certificates (the grades plugin: none here,
# so no course read); v2+ add the time zone preference.
@pytest.mark.parametrize("version,query,expected", [
    ("v1", {}, 9), ("v3", {}, 10), ("v4", {"status": "all"}, 10), ("v4", {}, None)])
def test_query_count_does_not_grow_with_enrollments(app, db, alice, as_alice, query_counter,
                                                    version, query, expected):
    enroll_in(db, alice, "course-v1:edX+C000+2026")
    app.get(URL.format(version), query, headers=as_alice)  # warm the structure cache
    with query_counter() as one:
        app.get(URL.format(version), query, headers=as_alice)
    for number in range(1, 50):
        enroll_in(db, alice, f"course-v1:edX+C{number:03d}+2026")
    app.get(URL.format(version), query, headers=as_alice)
    with query_counter() as fifty:
        body = app.get(URL.format(version), query, headers=as_alice).json
    if version == "v1":
        assert len(body) == 50
    else:
        assert body["enrollments"]["count"] == (49 if version == "v4" and not query else 50)
    assert len(one) == len(fifty)
    if expected is not None:
        assert len(fifty) == expected


def test_a_downloadable_certificate_is_linked(app, db, alice, as_alice):
    from datetime import datetime, timezone

    from plugins.grades import certificates

    ended = "course-v1:edX+Ended+2024"
    enroll_in(db, alice, ended, end=datetime(2024, 6, 1, tzinfo=timezone.utc))
    enroll_in(db, alice, "course-v1:edX+Running+2026")  # no end: not viewable yet
    cert = certificates.save_certificate(db, alice.id, ended, status="downloadable",
                                         mode="verified", grade="0.9")
    certificates.save_certificate(db, alice.id, "course-v1:edX+Running+2026",
                                  status="downloadable", mode="verified", grade="0.8")
    db.commit()
    for version in ("v0.5", "v1", "v4"):
        body = app.get(URL.format(version), headers=as_alice).json
        items = body if isinstance(body, list) else (
            body["enrollments"]["results"] + ([body["primary"]] if body.get("primary") else []))
        found = {item["course"]["id"]: item["certificate"] for item in items}
        assert found == {ended: {"url": f"http://localhost/certificates/{cert.verify_uuid}"},
                         "course-v1:edX+Running+2026": {}}, version
    # notpassing is not downloadable
    certificates.save_certificate(db, alice.id, ended, status="notpassing", mode="verified",
                                  grade="0.1")
    db.commit()
    body = app.get(URL.format("v1"), headers=as_alice).json
    assert all(item["certificate"] == {} for item in body)
