"""``/api/course_modes/v1/courses/{course_id}/`` and ``.../{mode_slug}`` (upstream
``course_modes.rest_api.v1``), the ``lms_course_modes`` hook and what the courses and
experiments plugins make of it."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from plugins.enrollment import course_modes
from plugins.enrollment.models import CourseMode
from tests.plugins.courses.factories import Node, make_course

COURSE = "course-v1:edX+DemoX+Demo_Course"
OTHER = "course-v1:edX+DemoX+Other_Course"
LIST = f"/api/course_modes/v1/courses/{COURSE}/"
MERGE_PATCH = "application/merge-patch+json"
DENIED = {"detail": "You do not have permission to perform this action."}
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
NOT_FOUND = {"detail": "Not found."}
FUTURE = datetime(2031, 1, 1, 12, 30, tzinfo=timezone.utc)


def detail(slug, course=COURSE):
    return f"/api/course_modes/v1/courses/{course}/{slug}"


def upstream_object(slug, name, price, course=COURSE, **changes):
    """A mode as upstream's serializer shows it (its tests' literal shape)."""
    return dict({"course_id": course, "mode_slug": slug, "mode_display_name": name,
                 "min_price": price, "currency": "usd", "expiration_datetime": None,
                 "expiration_datetime_is_explicit": False, "description": None, "sku": None,
                 "bulk_sku": None}, **changes)


def add_mode(db, slug, name, price=0, course=COURSE, **fields):
    mode = course_modes.create_mode(db, course, slug,
                                    dict(fields, mode_display_name=name, min_price=price))
    db.commit()
    return mode


def stored(db, course=COURSE):
    db.expire_all()
    return {mode.mode_slug: mode for mode in db.scalars(
        select(CourseMode).where(CourseMode.course_key == course))}


@pytest.fixture
def courses(db):
    """Upstream's test world: two courses, audit and verified in one, one mode in the other."""
    for key in (COURSE, OTHER):
        make_course(db, Node("course", "course", display_name=key), course_key=key)
    add_mode(db, "audit", "Audit", 0)
    add_mode(db, "verified", "Verified", 25)
    add_mode(db, "other-audit", "Other Audit", 0, course=OTHER)


@pytest.fixture
def staff(app, db):
    return jwt_headers(app, create_user(db, "staffer", password=None, is_staff=True))


@pytest.fixture
def learner(db):
    return create_user(db, "learner", password=None)


@pytest.fixture
def learner_headers(app, learner):
    return jwt_headers(app, learner)


def patch(app, url, body, headers, content_type=MERGE_PATCH, **kwargs):
    return app.patch(url, json.dumps(body), headers=dict(headers, **{
        "Content-Type": content_type}), **kwargs)


# -- list ------------------------------------------------------------------------------

def test_list_happy_path(app, courses, staff):
    body = app.get(LIST, headers=staff).json
    assert sorted(body, key=lambda mode: mode["mode_slug"]) == [
        upstream_object("audit", "Audit", 0), upstream_object("verified", "Verified", 25)]
    other = app.get(f"/api/course_modes/v1/courses/{OTHER}/", headers=staff).json
    assert other == [upstream_object("other-audit", "Other Audit", 0, course=OTHER)]


def test_list_without_trailing_slash_and_of_an_unknown_course(app, courses, staff):
    assert len(app.get(LIST.rstrip("/"), headers=staff).json) == 2
    # Upstream filters the modes by the key: a course it does not know has none.
    assert app.get("/api/course_modes/v1/courses/course-v1:No+Such+Course/",
                   headers=staff).json == []


def test_list_anonymous_is_401(app, courses):
    response = app.get(LIST, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_list_learner_and_course_staff_are_403(app, db, courses, learner, learner_headers):
    assert app.get(LIST, headers=learner_headers, status=403).json == DENIED
    course_staff = create_user(db, "teacher", password=None)
    grant_role(db, course_staff, "staff", parse_course_key(COURSE))
    grant_role(db, course_staff, "instructor", parse_course_key(COURSE))
    db.commit()
    assert app.get(LIST, headers=jwt_headers(app, course_staff), status=403).json == DENIED


def test_a_learner_naming_themself_gets_no_access(app, courses, learner, learner_headers):
    # Upstream's IsUserInUrl would let them in (and set prices): openlms does not.
    app.get(LIST, {"username": "learner"}, headers=learner_headers, status=403)
    response = app.post_json(LIST + "?username=learner", {
        "course_id": COURSE, "mode_slug": "free", "mode_display_name": "Free",
        "currency": "usd"}, headers=learner_headers, status=403)
    assert response.json == DENIED


def test_list_by_session_of_global_staff(app, db, courses):
    create_user(db, "admin", password="Pa55word-long", is_staff=True)
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    app.post("/api/user/v1/account/login_session/",
             {"email": "admin@example.com", "password": "Pa55word-long"},
             headers={"X-CSRFToken": token})
    assert len(app.get(LIST).json) == 2
    # Writes by session need the CSRF token, as upstream's SessionAuthentication asks.
    app.delete(detail("audit"), status=403)
    token = app.get("/csrf/api/v1/token").json["csrfToken"]  # rotated at login
    app.delete(detail("audit"), headers={"X-CSRFToken": token}, status=204)


def test_list_invalid_course_key_is_400(app, staff):
    response = app.get("/api/course_modes/v1/courses/not-a-key+x+y/", headers=staff,
                       status=400)
    assert response.json == {"course_id": ["'not-a-key+x+y' is not a valid course key."]}


def test_list_is_one_fixed_number_of_queries(app, db, courses, staff, query_counter):
    with query_counter() as two:
        app.get(LIST, headers=staff)
    for number in range(10):
        add_mode(db, f"extra-{number}", "Extra", number)
    with query_counter() as twelve:
        assert len(app.get(LIST, headers=staff).json) == 12
    assert len(two) == len(twelve)


# -- create ------------------------------------------------------------------------------

def test_post_happy_path(app, db, courses, staff):
    response = app.post_json(LIST, {
        "course_id": COURSE, "mode_slug": "masters", "mode_display_name": "Masters",
        "currency": "usd"}, headers=staff, status=201)
    assert response.json == upstream_object("masters", "Masters", 0)
    mode = stored(db)["masters"]
    assert (mode.min_price, mode.currency, mode.mode_display_name) == (0, "usd", "Masters")


def test_post_every_field_as_a_form(app, db, courses, staff):
    # Upstream's own test posts a form; DRF's fields read its text.
    response = app.post(LIST, {
        "course_id": COURSE, "mode_slug": "professional", "mode_display_name": " Pro ",
        "min_price": "100", "currency": "EUR", "description": "For professionals",
        "sku": "SKU-1", "bulk_sku": "BULK-1", "expiration_datetime_is_explicit": "true",
        "android_sku": "ignored"}, headers=staff, status=201)
    assert response.json == upstream_object(
        "professional", "Pro", 100, currency="eur", description="For professionals",
        sku="SKU-1", bulk_sku="BULK-1", expiration_datetime_is_explicit=True)
    assert stored(db)["professional"].android_sku is None  # not a field of this API


def test_post_with_an_expiration(app, db, courses, staff):
    body = app.post_json(LIST, {
        "course_id": COURSE, "mode_slug": "honor", "mode_display_name": "Honor",
        "currency": "usd", "expiration_datetime": "2031-01-01T13:30:00+01:00"},
        headers=staff, status=201).json
    assert body["expiration_datetime"] == "2031-01-01T12:30:00Z"
    assert body["expiration_datetime_is_explicit"] is True
    assert stored(db)["honor"].expiration_datetime == FUTURE


def test_post_missing_required_fields(app, db, courses, staff):
    response = app.post_json(LIST, {"course_id": COURSE, "mode_slug": "phd"}, headers=staff,
                             status=400)
    assert response.json == {"mode_display_name": ["This field is required."],
                             "currency": ["This field is required."]}
    assert "phd" not in stored(db)


@pytest.mark.parametrize("changes, errors", [
    ({"min_price": "abc"}, {"min_price": ["A valid integer is required."]}),
    ({"min_price": 25.5}, {"min_price": ["A valid integer is required."]}),
    ({"min_price": True}, {"min_price": ["A valid integer is required."]}),
    ({"min_price": -1}, {"min_price": ["Ensure this value is greater than or equal to 0."]}),
    ({"min_price": 2**31},
     {"min_price": ["Ensure this value is less than or equal to 2147483647."]}),
    ({"min_price": None}, {"min_price": ["This field may not be null."]}),
    ({"mode_display_name": {"a": 1}}, {"mode_display_name": ["Not a valid string."]}),
    ({"mode_display_name": "  "}, {"mode_display_name": ["This field may not be blank."]}),
    ({"mode_slug": "x" * 101},
     {"mode_slug": ["Ensure this field has no more than 100 characters."]}),
    ({"currency": "dollars!!"}, {"currency": ["Ensure this field has no more than 8 characters."]}),
    ({"sku": "a\x00b"}, {"sku": ["Null characters are not allowed."]}),
    ({"expiration_datetime": "tomorrow"}, {"expiration_datetime": [
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}),
    ({"expiration_datetime": "2031-02-30T00:00"}, {"expiration_datetime": [
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}),
    ({"expiration_datetime_is_explicit": "maybe"},
     {"expiration_datetime_is_explicit": ["Must be a valid boolean."]}),
    ({"course_id": "not a key"}, {"course_id": ["'not a key' is not a valid course key."]}),
])
def test_post_bad_fields(app, db, courses, staff, changes, errors):
    body = dict({"course_id": COURSE, "mode_slug": "new", "mode_display_name": "New",
                 "currency": "usd"}, **changes)
    assert app.post_json(LIST, body, headers=staff, status=400).json == errors
    assert "new" not in stored(db) and len(stored(db)) == 2


@pytest.mark.parametrize("body, expected", [
    ("[1, 2]", {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ("null", {"non_field_errors": ["This field may not be null."]}),
])
def test_post_body_not_an_object(app, courses, staff, body, expected):
    response = app.post(LIST, body, headers=dict(staff, **{"Content-Type": "application/json"}),
                        status=400)
    assert response.json == expected


def test_post_malformed_json(app, db, courses, staff):
    response = app.post(LIST, '{"course_id": ', status=400,
                        headers=dict(staff, **{"Content-Type": "application/json"}))
    assert response.json["detail"].startswith("JSON parse error - ")
    assert len(stored(db)) == 2


def test_post_duplicate_slug_is_400(app, db, courses, staff):
    response = app.post_json(LIST, {"course_id": COURSE, "mode_slug": "verified",
                                    "mode_display_name": "Again", "currency": "usd",
                                    "min_price": 30}, headers=staff, status=400)
    assert response.json == {"non_field_errors": [
        "The fields course_id, mode_slug must make a unique set."]}
    assert stored(db)["verified"].mode_display_name == "Verified"


@pytest.mark.parametrize("slug, changes, message", [
    ("verified", {"min_price": 0}, "The Verified course mode has a minimum price of 1. "
                                   "You must set a price greater than or equal to 1."),
    ("professional", {"min_price": 10, "expiration_datetime": "2031-01-01T00:00:00Z"},
     "Professional education modes are not allowed to have expiration_datetime set."),
])
def test_post_breaking_the_model_rules(app, db, staff, slug, changes, message):
    make_course(db, Node("course", "course"), course_key=OTHER)
    body = dict({"course_id": OTHER, "mode_slug": slug, "mode_display_name": slug,
                 "currency": "usd"}, **changes)
    url = f"/api/course_modes/v1/courses/{OTHER}/"
    assert app.post_json(url, body, headers=staff, status=400).json == {
        "non_field_errors": [message]}
    assert stored(db, OTHER) == {}


def test_post_to_an_unknown_course_is_404(app, db, staff):
    url = "/api/course_modes/v1/courses/course-v1:No+Such+Course/"
    body = {"course_id": "course-v1:No+Such+Course", "mode_slug": "audit",
            "mode_display_name": "Audit", "currency": "usd"}
    assert app.post_json(url, body, headers=staff, status=404).json == NOT_FOUND
    assert stored(db, "course-v1:No+Such+Course") == {}


def test_post_uses_the_body_course(app, db, courses, staff):
    # As upstream: the serializer's course_id decides, not the URL's.
    app.post_json(LIST, {"course_id": OTHER, "mode_slug": "honor", "mode_display_name": "Honor",
                         "currency": "usd"}, headers=staff, status=201)
    assert "honor" in stored(db, OTHER) and "honor" not in stored(db)


def test_post_anonymous_and_learner(app, db, courses, learner_headers):
    body = {"course_id": COURSE, "mode_slug": "free", "mode_display_name": "Free",
            "currency": "usd"}
    assert app.post_json(LIST, body, status=401).json == NOT_AUTHENTICATED
    assert app.post_json(LIST, body, headers=learner_headers, status=403).json == DENIED
    assert "free" not in stored(db)


def test_post_wrong_media_type_is_415(app, courses, staff):
    response = app.post(LIST, "course_id=x", headers=dict(staff, **{"Content-Type": "text/plain"}),
                        status=415)
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}


# -- one mode ------------------------------------------------------------------------------

def test_get_one_mode(app, courses, staff):
    assert app.get(detail("audit"), headers=staff).json == upstream_object("audit", "Audit", 0)


def test_get_unknown_mode_is_404(app, courses, staff):
    assert app.get(detail("does-not-exist"), headers=staff, status=404).json == NOT_FOUND
    assert app.get(detail("verified", OTHER), headers=staff, status=404).json == NOT_FOUND
    app.get(detail("a%00b"), headers=staff, status=404)


def test_get_one_mode_refused(app, courses, learner_headers):
    assert app.get(detail("audit"), status=401).json == NOT_AUTHENTICATED
    assert app.get(detail("audit"), headers=learner_headers, status=403).json == DENIED


def test_get_one_mode_invalid_course_key(app, staff):
    response = app.get("/api/course_modes/v1/courses/not-a-key+x+y/audit", headers=staff,
                       status=400)
    assert response.json == {"course_id": ["'not-a-key+x+y' is not a valid course key."]}


def test_patch_happy_path(app, db, courses, staff):
    add_mode(db, "prof-ed", "Professional Education", 100, currency="jpy")
    response = patch(app, detail("prof-ed"), {"min_price": 222,
                                              "mode_display_name": "Something Else"}, staff,
                     status=204)
    assert response.body == b""
    assert response.headers["Content-Type"].startswith("application/json")
    mode = stored(db)["prof-ed"]
    assert (mode.min_price, mode.mode_display_name, mode.currency) == (222, "Something Else",
                                                                        "jpy")


def test_patch_expiration_and_its_flag(app, db, courses, staff):
    patch(app, detail("verified"), {"expiration_datetime": "2031-01-01T12:30:00Z"}, staff,
          status=204)
    mode = stored(db)["verified"]
    assert (mode.expiration_datetime, mode.expiration_datetime_is_explicit) == (FUTURE, True)
    patch(app, detail("verified"), {"expiration_datetime_is_explicit": False}, staff, status=204)
    assert app.get(detail("verified"), headers=staff).json == upstream_object(
        "verified", "Verified", 25, expiration_datetime="2031-01-01T12:30:00Z")


def test_patch_ignores_unknown_fields(app, db, courses, staff):
    patch(app, detail("audit"), {"it": "does not matter"}, staff, status=204)
    assert stored(db)["audit"].mode_display_name == "Audit"


def test_patch_static_fields_is_400(app, db, courses, staff):
    response = patch(app, detail("audit"), {"course_id": "course-v1:edX+DemoX+Demo_Course2",
                                            "mode_slug": "audit-2"}, staff, status=400)
    assert response.json == {"course_id": ["This field cannot be modified."],
                             "mode_slug": ["This field cannot be modified."]}
    assert set(stored(db)) == {"audit", "verified"}


@pytest.mark.parametrize("body, errors", [
    ({"min_price": -5}, {"min_price": ["Ensure this value is greater than or equal to 0."]}),
    ({"min_price": "ten"}, {"min_price": ["A valid integer is required."]}),
    ({"sku": None}, {"sku": ["This field may not be null."]}),
    ({"currency": ["usd"]}, {"currency": ["Not a valid string."]}),
])
def test_patch_bad_fields(app, db, courses, staff, body, errors):
    assert patch(app, detail("verified"), body, staff, status=400).json == errors
    mode = stored(db)["verified"]
    assert (mode.min_price, mode.currency, mode.sku) == (25, "usd", None)


def test_patch_breaking_a_rule_changes_nothing(app, db, courses, staff):
    response = patch(app, detail("verified"), {"min_price": 0, "mode_display_name": "Free"},
                     staff, status=400)
    assert response.json == {"non_field_errors": [
        "The Verified course mode has a minimum price of 1. You must set a price greater "
        "than or equal to 1."]}
    assert (stored(db)["verified"].min_price, stored(db)["verified"].mode_display_name) == (
        25, "Verified")


def test_patch_needs_merge_patch(app, db, courses, staff):
    response = patch(app, detail("verified"), {"min_price": 30}, staff,
                     content_type="application/json", status=415)
    assert response.json == {
        "detail": 'Unsupported media type "application/json" in request.'}
    assert stored(db)["verified"].min_price == 25


def test_patch_unknown_mode_is_404_before_the_body_is_read(app, courses, staff):
    # Upstream looks the mode up first: the media type does not matter then.
    patch(app, detail("does-not-exist"), {"it": "does not matter"}, staff, status=404)
    patch(app, detail("does-not-exist"), {}, staff, content_type="text/plain", status=404)


def test_patch_malformed_or_not_an_object(app, courses, staff):
    headers = dict(staff, **{"Content-Type": MERGE_PATCH})
    assert app.patch(detail("audit"), "{", headers=headers, status=400).json[
        "detail"].startswith("JSON parse error - ")
    assert app.patch(detail("audit"), '"text"', headers=headers, status=400).json == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}


def test_patch_refused(app, db, courses, learner_headers):
    patch(app, detail("verified"), {"min_price": 1}, {}, status=401)
    assert patch(app, detail("verified"), {"min_price": 1}, learner_headers,
                 status=403).json == DENIED
    assert stored(db)["verified"].min_price == 25


def test_delete(app, db, courses, staff):
    response = app.delete(detail("verified"), headers=staff, status=204)
    assert response.body == b""
    assert set(stored(db)) == {"audit"}
    assert app.delete(detail("verified"), headers=staff, status=404).json == NOT_FOUND


def test_delete_refused(app, db, courses, learner_headers):
    app.delete(detail("verified"), status=401)
    assert app.delete(detail("verified"), headers=learner_headers, status=403).json == DENIED
    assert set(stored(db)) == {"audit", "verified"}


# -- restricted applications ----------------------------------------------------------------

@pytest.mark.parametrize("scopes, filters, query, status", [
    (["course_modes:read"], ["content_org:edX"], {}, 200),
    (["course_modes:read"], ["content_org:Other"], {}, 403),
    (["email", "profile"], ["content_org:edX"], {}, 403),
    (["course_modes:read"], ["content_org:edX", "user:me"], {}, 403),
    (["course_modes:read"], ["content_org:edX", "user:me"], {"username": "learner"}, 200),
])
def test_restricted_application(app, courses, learner, scopes, filters, query, status):
    headers = jwt_headers(app, learner, scopes=scopes, filters=filters, is_restricted=True)
    response = app.get(LIST, query, headers=headers, status=status)
    if status == 403:
        assert response.json == DENIED


def test_restricted_application_creates_only_in_its_org(app, db, courses, learner):
    headers = jwt_headers(app, learner, scopes=["course_modes:read"],
                          filters=["content_org:edX"], is_restricted=True)
    make_course(db, Node("course", "course"), course_key="course-v1:Else+C+1")
    body = {"course_id": "course-v1:Else+C+1", "mode_slug": "audit",
            "mode_display_name": "Audit", "currency": "usd"}
    app.post_json(LIST, body, headers=headers, status=403)
    app.post_json(LIST, dict(body, course_id=COURSE, mode_slug="honor"), headers=headers,
                  status=201)


# -- the lms_course_modes hook and its users ------------------------------------------------

def test_hook_answers_every_course_in_one_query(app, db, courses, query_counter):
    hook = app.registry["lms.plugin_manager"].hook.lms_course_modes
    keys = [parse_course_key(COURSE), parse_course_key(OTHER),
            parse_course_key("course-v1:No+Modes+Here")]
    with query_counter() as queries:
        answer = hook(dbsession=db, course_keys=keys)
    assert len(queries) == 1
    assert [mode["slug"] for mode in answer[COURSE]] == ["audit", "verified"]
    assert answer[COURSE][1] == {
        "slug": "verified", "name": "Verified", "min_price": 25, "currency": "usd",
        "sku": None, "android_sku": None, "ios_sku": None, "bulk_sku": None,
        "expiration_datetime": None, "description": None}
    # A course without modes offers upstream's default mode.
    assert answer["course-v1:No+Modes+Here"] == [{
        "slug": "audit", "name": "Audit", "min_price": 0, "currency": "usd", "sku": None,
        "android_sku": None, "ios_sku": None, "bulk_sku": None, "expiration_datetime": None,
        "description": None}]


def test_lms_get_course_carries_the_modes(app, db, courses):
    course = app.registry["lms.plugin_manager"].hook.lms_get_course(
        dbsession=db, course_key=parse_course_key(COURSE))
    assert [(mode["slug"], mode["min_price"]) for mode in course["modes"]] == [
        ("audit", 0), ("verified", 25)]


def test_courses_without_the_enrollment_plugin_has_no_modes(app_factory, settings):
    alone = app_factory(**dict(settings, **{"lms.plugins": "courses"}))
    session = alone.registry["lms.dbsession_factory"]()
    try:
        make_course(session, Node("course", "course"), course_key=OTHER)
        course = alone.registry["lms.plugin_manager"].hook.lms_get_course(
            dbsession=session, course_key=parse_course_key(OTHER))
        assert course["id"] == OTHER and course["modes"] == []
    finally:
        session.rollback()
        session.close()


UPSELL = {"experiments.mobile_upsell_rev934": "true",
          "experiments.ecommerce_public_url_root": "https://ecommerce.example.com"}


def test_experiments_upsell_sees_a_verified_mode_set_through_the_api(app_factory, settings):
    app = app_factory(**dict(settings, **UPSELL))
    db = app.registry["lms.dbsession_factory"]()
    try:
        make_course(db, Node("course", "course", display_name="Demo"), course_key=COURSE)
        staff = jwt_headers(app, create_user(db, "staffer", password=None, is_staff=True))
        # Upstream's REV-934 test user: their stable experiment bucket is 1.
        learner = create_user(db, "robot-mue-1-6pnjv", password=None)
        rev934 = "/api/experiments/v0/custom/REV-934/"
        assert app.get(rev934, {"course_id": COURSE}, headers=jwt_headers(app, learner)).json[
            "show_upsell"] is False
        app.post_json(LIST, {"course_id": COURSE, "mode_slug": "verified",
                             "mode_display_name": "Verified", "currency": "usd",
                             "min_price": 49, "sku": "SKU-49",
                             "expiration_datetime": (datetime.now(timezone.utc)
                                                     + timedelta(days=10)).isoformat()},
                      headers=staff, status=201)
        assert app.get(rev934, {"course_id": COURSE}, headers=jwt_headers(app, learner)).json == {
            "show_upsell": True, "price": "$49",
            "basket_url": "https://ecommerce.example.com/basket/add/?sku=SKU-49"}
    finally:
        db.rollback()
        db.close()
