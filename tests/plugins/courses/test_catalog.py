"""Course list, course detail and course ids (``/api/courses/v1/…``).

Enrollments come from a test-only plugin (:func:`enrollment_plugin`) standing
in for the enrollment plugin, which does not exist yet.
"""
import types
from datetime import UTC, datetime, timedelta

import pytest

from lms.auth import token_digest
from lms.hookspecs import hookimpl
from lms.keys import parse_course_key
from lms.models import OAuthAccessToken, OAuthApplication
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from tests.plugins.courses.factories import Node, make_course

LIST = "/api/courses/v1/courses/"
IDS = "/api/courses/v1/course_ids/"
TOY = "course-v1:edX+toy+2012_Fall"
NOW = datetime.now(UTC)
NOT_AUTHENTICATED = {"developer_message": "Authentication credentials were not provided."}
PERMISSION_DENIED = {"developer_message": "You do not have permission to perform this action."}
COURSE_NOT_FOUND = {"developer_message": "Course not found."}
USER_NOT_FOUND = {"developer_message": "User matching query does not exist."}
EMPTY_PAGE = {"results": [], "pagination": {"next": None, "previous": None, "count": 0,
                                            "num_pages": 1}}


def days(count):
    return NOW + timedelta(days=count)


# -- a test-only enrollment plugin ----------------------------------------------------------

def enrollment_plugin():
    """A plugin module answering ``lms_get_enrollment`` from its ``ENROLLMENTS`` dict.

    Keys are ``(user_id, course_key_string)``; values the hook's dicts.
    """
    module = types.ModuleType("tests.plugins.courses.testenrollments")
    module.name, module.version, module.requires = "testenrollments", "1.0", ()
    module.ENROLLMENTS = {}
    module.calls = []

    @hookimpl
    def lms_get_enrollment(dbsession, user_id, course_key):
        module.calls.append((user_id, str(course_key)))
        return module.ENROLLMENTS.get((user_id, str(course_key)))

    module.lms_get_enrollment = lms_get_enrollment
    return module


def enroll(plugin, user, course_key, **changes):
    plugin.ENROLLMENTS[(user.id, course_key)] = dict(
        {"mode": "audit", "is_active": True, "created": days(-1)}, **changes)


@pytest.fixture
def enrollments(add_plugins):
    plugin = enrollment_plugin()
    add_plugins(plugin)
    return plugin


@pytest.fixture
def app(app_factory, settings, enrollments):
    # The stand-in is these tests' only enrollment source: the real plugin's batch
    # answer (lms_get_enrollments) would hide it (tests/plugins/enrollment covers
    # the catalog with the real plugin).
    return app_factory(**dict(settings, **{
        "lms.plugins.disabled": "enrollment mobile grades teams discussion bookmarks"}))


# -- users and courses ----------------------------------------------------------------------

@pytest.fixture
def learner(db):
    return create_user(db, "learner", password=None)


@pytest.fixture
def other(db):
    return create_user(db, "other", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


def toy(db, course_key=TOY, **overview):
    """The course of upstream's serializer tests (dates long past)."""
    values = {
        "display_name": "Toy Course", "short_description": "A course about toys.",
        "start": datetime(2015, 7, 17, 12, tzinfo=UTC),
        "end": datetime(2015, 9, 19, 18, tzinfo=UTC),
        "enrollment_start": datetime(2015, 6, 15, tzinfo=UTC),
        "enrollment_end": datetime(2015, 7, 15, tzinfo=UTC),
        "certificate_available_date": datetime(2015, 8, 14, tzinfo=UTC),
        "effort": "6 hours", "course_image": "just_a_test.jpg",
        "course_video_youtube_id": "test_youtube_id", "mobile_available": True,
        "overview": "<p>A verbose description of the toys.</p>",
    }
    values.update(overview)
    return make_course(db, Node("course", "course", display_name=values["display_name"]),
                       course_key=course_key, **values)


def small(db, course_key, **overview):
    """A one-block course; started in 2020 with no enrollment window unless told."""
    overview.setdefault("display_name", course_key.split(":")[-1])
    return make_course(db, Node("course", "course"), course_key=course_key, **overview)


def toy_body(course_key=TOY):
    image = "/asset-v1:edX+toy+2012_Fall+type@asset+block@just_a_test.jpg"
    banner = "/asset-v1:edX+toy+2012_Fall+type@asset+block@images_course_image.jpg"
    return {
        "blocks_url": "http://localhost/api/courses/v2/blocks/"
                      "?course_id=course-v1%3AedX%2Btoy%2B2012_Fall",
        "effort": "6 hours",
        "end": "2015-09-19T18:00:00Z",
        "enrollment_start": "2015-06-15T00:00:00Z",
        "enrollment_end": "2015-07-15T00:00:00Z",
        "id": course_key,
        "media": {
            "banner_image": {"uri": banner, "uri_absolute": "http://localhost" + banner},
            "course_image": {"uri": image},
            "course_video": {"uri": "http://www.youtube.com/watch?v=test_youtube_id"},
            "image": {"raw": "http://localhost" + image, "small": "http://localhost" + image,
                      "large": "http://localhost" + image},
        },
        "name": "Toy Course",
        "number": "toy",
        "org": "edX",
        "short_description": "A course about toys.",
        "start": "2015-07-17T12:00:00Z",
        "start_display": "July 17, 2015",
        "start_type": "timestamp",
        "pacing": "instructor",
        "mobile_available": True,
        "hidden": False,
        "invitation_only": False,
        "course_id": course_key,
    }


def ids(response):
    return [course["id"] for course in response.json["results"]]


# -- GET /api/courses/v1/courses/ -----------------------------------------------------------

def test_list_anonymous_exact_body(app, db):
    toy(db)
    response = app.get(LIST)
    assert response.json == {
        "results": [toy_body()],
        "pagination": {"next": None, "previous": None, "count": 1, "num_pages": 1},
    }


def test_list_trailing_slash_is_optional(app, db):
    toy(db)
    assert ids(app.get(LIST.rstrip("/"))) == [TOY]


def test_list_course_object_derived_fields(app, db):
    small(db, "course-v1:edX+Adv+1", display_name="<b>Tags</b> & more",
          advertised_start="The Ides of March", self_paced=True, catalog_visibility="about",
          course_image="", display_number="ADV-101", display_org="EDX Org")
    small(db, "course-v1:edX+Empty+1", start=None, enrollment_start=days(-1))
    first, second = app.get(LIST, {"username": ""}).json["results"]
    assert first["name"] == "&lt;b&gt;Tags&lt;/b&gt; & more"
    assert (first["start_type"], first["start_display"]) == ("string", "The Ides of March")
    assert first["pacing"] == "self"
    assert first["hidden"] is True
    assert first["number"] == "ADV-101" and first["org"] == "EDX Org"
    assert first["media"]["course_image"] == {"uri": "/static/images/pencils.jpg"}
    assert first["media"]["image"]["raw"] == "http://localhost/static/images/pencils.jpg"
    assert first["media"]["course_video"] == {"uri": None}
    # A course without a start begins at Open edX's default start (enrollable: visible).
    assert second["start"] == "2030-01-01T00:00:00Z"
    assert (second["start_type"], second["start_display"]) == ("empty", None)


def test_list_start_display_uses_django_month_names(app, db):
    small(db, "course-v1:edX+A+1", start=datetime(2022, 9, 5, tzinfo=UTC))
    small(db, "course-v1:edX+B+1", start=datetime(2022, 4, 9, tzinfo=UTC))
    small(db, "course-v1:edX+C+1", start=datetime(2023, 1, 31, tzinfo=UTC))
    displays = [course["start_display"] for course in app.get(LIST).json["results"]]
    assert displays == ["Sept. 5, 2022", "April 9, 2022", "Jan. 31, 2023"]


def test_list_visibility_for_anonymous_and_learners(app, db, learner):
    small(db, "course-v1:edX+Started+1")
    # Not started, but enrollment is open: can enroll, so the course exists for them.
    small(db, "course-v1:edX+Enrollable+1", start=days(30), enrollment_start=days(-1))
    # Not started, enrollment closed: invisible.
    small(db, "course-v1:edX+Future+1", start=days(30), enrollment_start=days(10))
    # Open enrollment but invitation only, not started: invisible.
    small(db, "course-v1:edX+Invite+1", start=days(30), invitation_only=True)
    # Started but staff only, enrollment closed: invisible.
    small(db, "course-v1:edX+Hidden+1", enrollment_end=days(-1),
          settings={"visible_to_staff_only": True})
    expected = ["course-v1:edX+Enrollable+1", "course-v1:edX+Started+1"]
    assert ids(app.get(LIST)) == expected
    assert ids(app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, learner))) \
        == expected


def test_list_course_staff_and_global_staff_see_everything(app, db, learner, staff):
    small(db, "course-v1:edX+Started+1")
    small(db, "course-v1:edX+Future+1", start=days(30), enrollment_start=days(10))
    small(db, "course-v1:Other+Future+1", start=days(30), enrollment_start=days(10))
    grant_role(db, learner, "staff", parse_course_key("course-v1:edX+Future+1"))
    db.commit()
    mine = app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, learner))
    assert ids(mine) == ["course-v1:edX+Future+1", "course-v1:edX+Started+1"]
    everything = app.get(LIST, {"username": "staffer"}, headers=jwt_headers(app, staff))
    assert ids(everything) == ["course-v1:Other+Future+1", "course-v1:edX+Future+1",
                               "course-v1:edX+Started+1"]


def test_list_without_username_is_the_anonymous_view(app, db, staff):
    small(db, "course-v1:edX+Started+1")
    small(db, "course-v1:edX+Future+1", start=days(30), enrollment_start=days(10))
    response = app.get(LIST, headers=jwt_headers(app, staff))
    assert ids(response) == ["course-v1:edX+Started+1"]


def test_list_org_level_staff_and_beta_testers(app, db, learner, other):
    small(db, "course-v1:edX+Future+1", start=days(30), enrollment_start=days(10))
    small(db, "course-v1:edX+Soon+1", start=days(2), enrollment_start=days(10),
          days_early_for_beta=5)
    grant_role(db, learner, "instructor", org="edX")
    grant_role(db, other, "beta_testers", parse_course_key("course-v1:edX+Soon+1"))
    db.commit()
    assert ids(app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, learner))) == [
        "course-v1:edX+Future+1", "course-v1:edX+Soon+1"]
    assert ids(app.get(LIST, {"username": "other"}, headers=jwt_headers(app, other))) == [
        "course-v1:edX+Soon+1"]


def test_list_expired_audit_access_hides_closed_courses(app, db, learner, enrollments):
    small(db, "course-v1:edX+Expired+1", enrollment_end=days(-1))
    small(db, "course-v1:edX+Current+1", enrollment_end=days(-1))
    enroll(enrollments, learner, "course-v1:edX+Expired+1", audit_access_deadline=days(-2))
    enroll(enrollments, learner, "course-v1:edX+Current+1", audit_access_deadline=days(2))
    response = app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, learner))
    assert ids(response) == ["course-v1:edX+Current+1"]


def test_list_asks_enrollments_only_for_courses_closed_to_enrollment(app, db, learner,
                                                                     enrollments):
    small(db, "course-v1:edX+Open+1")
    small(db, "course-v1:edX+Closed+1", enrollment_end=days(-1))
    app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, learner))
    assert enrollments.calls == [(learner.id, "course-v1:edX+Closed+1")]


def test_list_other_username(app, db, learner, other, staff):
    small(db, "course-v1:edX+Future+1", start=days(30), enrollment_start=days(10))
    grant_role(db, other, "staff", parse_course_key("course-v1:edX+Future+1"))
    db.commit()
    denied = app.get(LIST, {"username": "other"}, headers=jwt_headers(app, learner), status=403)
    assert denied.json == PERMISSION_DENIED
    anonymous = app.get(LIST, {"username": "other"}, status=403)
    assert anonymous.json == PERMISSION_DENIED
    # Staff see the catalog as the named user sees it.
    as_other = app.get(LIST, {"username": "other"}, headers=jwt_headers(app, staff))
    assert ids(as_other) == ["course-v1:edX+Future+1"]
    as_learner = app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, staff))
    assert ids(as_learner) == []
    unknown = app.get(LIST, {"username": "nobody"}, headers=jwt_headers(app, staff), status=404)
    assert unknown.json == USER_NOT_FOUND


def test_list_superuser_alone_may_not_name_others(app, db, learner):
    root = create_user(db, "root", password=None, is_superuser=True)
    response = app.get(LIST, {"username": "learner"}, headers=jwt_headers(app, root), status=403)
    assert response.json == PERMISSION_DENIED


def test_list_filters(app, db):
    small(db, "course-v1:edX+Mobile+1", mobile_available=True, display_name="Robots 101",
          short_description="Build robots")
    small(db, "course-v1:edX+Ended+1", end=days(-1), display_name="Poetry")
    small(db, "course-v1:MITx+Open+1", end=days(10), catalog_visibility="none",
          display_name="Open Robotics")
    assert ids(app.get(LIST, {"org": "EDX"})) == ["course-v1:edX+Ended+1",
                                                   "course-v1:edX+Mobile+1"]
    assert ids(app.get(LIST, {"org": "mitx"})) == ["course-v1:MITx+Open+1"]
    assert ids(app.get(LIST, {"mobile": "true"})) == ["course-v1:edX+Mobile+1"]
    assert ids(app.get(LIST, {"mobile": "False"})) == ["course-v1:MITx+Open+1",
                                                        "course-v1:edX+Ended+1"]
    assert ids(app.get(LIST, {"mobile": ""})) == ids(app.get(LIST))
    assert ids(app.get(LIST, {"active_only": "1"})) == ["course-v1:MITx+Open+1",
                                                         "course-v1:edX+Mobile+1"]
    keys = app.get(LIST + "?course_keys=course-v1:edX%2BEnded%2B1,course-v1:MITx%2BOpen%2B1"
                   "&course_keys=course-v1:edX%2BGone%2B1")
    assert ids(keys) == ["course-v1:MITx+Open+1", "course-v1:edX+Ended+1"]
    assert ids(app.get(LIST, {"permissions": "see_in_catalog"})) == [
        "course-v1:edX+Ended+1", "course-v1:edX+Mobile+1"]
    assert ids(app.get(LIST, {"permissions": "staff"})) == []


def test_list_search_term_matches_name_description_org_and_number(app, db):
    small(db, "course-v1:edX+Mobile+1", display_name="Robots 101")
    small(db, "course-v1:edX+Poetry+1", display_name="Poetry", short_description="ROBOTS too")
    small(db, "course-v1:MITx+Other+1", display_name="Other")
    assert ids(app.get(LIST, {"search_term": "robots"})) == [
        "course-v1:edX+Mobile+1", "course-v1:edX+Poetry+1"]
    assert ids(app.get(LIST, {"search_term": "mit"})) == ["course-v1:MITx+Other+1"]
    assert ids(app.get(LIST, {"search_term": "poetry"})) == ["course-v1:edX+Poetry+1"]
    assert ids(app.get(LIST, {"search_term": "nothing"})) == []


@pytest.mark.parametrize("params, field, message", [
    ({"mobile": "maybe"}, "mobile", "Invalid Boolean Value."),
    ({"active_only": "yes"}, "active_only", "Invalid Boolean Value."),
    ({"mobile_search": "2"}, "mobile_search", "Invalid Boolean Value."),
    ({"permissions": "see_exists,,staff"}, "permissions", "This field cannot be empty."),
    ({"permissions": "fly"}, "permissions", "'fly' is not a valid permission."),
    ({"course_keys": "not-a-key"}, "course_keys", "'not-a-key' is not a valid course key."),
    ({"course_keys": ","}, "course_keys", "This field cannot be empty."),
])
def test_list_bad_parameters(app, db, params, field, message):
    toy(db)
    response = app.get(LIST, params, status=400)
    assert response.json == {"field_errors": {field: {"developer_message": message}}}


def test_list_several_bad_parameters_reported_together(app):
    response = app.get(LIST, {"mobile": "x", "course_keys": "bad"}, status=400)
    assert response.json == {"field_errors": {
        "mobile": {"developer_message": "Invalid Boolean Value."},
        "course_keys": {"developer_message": "'bad' is not a valid course key."}}}


def test_list_pages(app, db):
    for number in range(3):
        small(db, f"course-v1:edX+C{number}+1")
    first = app.get(LIST, {"page_size": "2"}).json
    assert [c["id"] for c in first["results"]] == ["course-v1:edX+C0+1", "course-v1:edX+C1+1"]
    assert first["pagination"] == {
        "next": "http://localhost/api/courses/v1/courses/?page_size=2&page=2",
        "previous": None, "count": 3, "num_pages": 2}
    last = app.get(LIST, {"page_size": "2", "page": "last"}).json
    assert [c["id"] for c in last["results"]] == ["course-v1:edX+C2+1"]
    assert last["pagination"]["previous"] == \
        "http://localhost/api/courses/v1/courses/?page_size=2&page=1"
    for page in ("3", "0", "abc"):
        response = app.get(LIST, {"page_size": "2", "page": page}, status=404)
        assert response.json == {"developer_message": "Invalid page."}


def test_list_repeated_page_parameters_use_the_last_value(app, db):
    for number in range(3):
        small(db, f"course-v1:edX+C{number}+1")
    page = app.get(LIST + "?page_size=5&page_size=2&page=9&page=2").json
    assert [c["id"] for c in page["results"]] == ["course-v1:edX+C2+1"]
    assert page["pagination"]["count"] == 3
    assert page["pagination"]["num_pages"] == 2


def test_list_page_size_is_capped_at_100(app, db):
    for number in range(101):
        small(db, f"course-v1:edX+C{number:03}+1")
    response = app.get(LIST, {"page_size": "500"}).json
    assert len(response["results"]) == 100
    assert response["pagination"]["num_pages"] == 2


def test_list_empty(app):
    assert app.get(LIST).json == EMPTY_PAGE


def test_list_and_detail_answer_head(app, db):
    toy(db)
    assert app.head(LIST).status_int == 200
    assert app.head(detail_url()).status_int == 200


@pytest.mark.parametrize("as_user", [False, True])
def test_list_queries_do_not_grow_with_courses(app, db, learner, query_counter, as_user):
    headers = jwt_headers(app, learner) if as_user else {}
    params = {"username": "learner"} if as_user else {}
    small(db, "course-v1:edX+C00+1")
    with query_counter() as one:
        assert len(ids(app.get(LIST, params, headers=headers))) == 1
    for number in range(1, 15):
        small(db, f"course-v1:edX+C{number:02}+1", enrollment_end=days(-1) if number % 2 else None)
    with query_counter() as fifteen:
        assert app.get(LIST, dict(params, page_size=20), headers=headers).json[
            "pagination"]["count"] == 15
    # (the caller and their roles,) the page's count and rows (the catalog is not loaded)
    assert len(one) == len(fifteen) == (4 if as_user else 2)


@pytest.mark.commits  # throttle hits commit apart from the request
def test_list_throttle(app_factory, db, learner, staff):
    throttled = app_factory(**{"throttle.enabled": "true", "courses.course_list_rate": "2/d",
                               "courses.course_list_staff_rate": "3/d"})
    for _ in range(2):
        throttled.get(LIST, headers=jwt_headers(throttled, learner))
    response = throttled.get(LIST, headers=jwt_headers(throttled, learner), status=429)
    assert response.json["developer_message"].startswith(
        "Request was throttled. Expected available in ")
    assert int(response.headers["Retry-After"]) >= 1
    # Staff have their own, larger bucket; anonymous callers are counted by address.
    for _ in range(3):
        throttled.get(LIST, headers=jwt_headers(throttled, staff))
    throttled.get(LIST, headers=jwt_headers(throttled, staff), status=429)
    throttled.get(LIST)
    throttled.get(LIST)
    throttled.get(LIST, status=429)
    # The course detail is not throttled.
    throttled.get(LIST + TOY, headers=jwt_headers(throttled, learner), status=404)


@pytest.mark.commits  # throttle hits commit apart from the request
def test_list_service_users_get_their_own_rate(app_factory, db, staff):
    throttled = app_factory(**{"throttle.enabled": "true", "courses.course_list_staff_rate": "1/d",
                               "courses.course_list_service_user_rate": "2/d"})
    service = jwt_headers(throttled, staff, grant_type="client-credentials")
    throttled.get(LIST, headers=service)
    throttled.get(LIST, headers=service)
    throttled.get(LIST, headers=service, status=429)
    throttled.get(LIST, headers=jwt_headers(throttled, staff))


@pytest.mark.commits  # throttle hits commit apart from the request
def test_list_service_user_rate_with_a_client_credentials_bearer_token(app_factory, db, staff):
    throttled = app_factory(**{"throttle.enabled": "true", "courses.course_list_staff_rate": "1/d",
                               "courses.course_list_service_user_rate": "2/d"})
    application = OAuthApplication(name="service", client_id="service-app", user_id=staff.id,
                                   grant_type="client-credentials")
    db.add(application)
    db.flush()
    db.add(OAuthAccessToken(token_hash=token_digest("service-token"), user_id=staff.id,
                            application_id=application.id, scopes=["read"],
                            expires=utcnow() + timedelta(hours=1)))
    db.commit()
    bearer = {"Authorization": "Bearer service-token"}
    throttled.get(LIST, headers=bearer)
    throttled.get(LIST, headers=bearer)
    throttled.get(LIST, headers=bearer, status=429)


# -- GET /api/courses/v1/courses/{course_key_string} ----------------------------------------

def detail_url(course_key=TOY):
    return LIST + course_key


def test_detail_anonymous_exact_body(app, db):
    toy(db)
    response = app.get(detail_url())
    assert response.json == dict(toy_body(),
                                 overview="<p>A verbose description of the toys.</p>")
    assert app.get(detail_url() + "/").json == response.json


def test_detail_overview_is_null_without_about_page(app, db):
    small(db, "course-v1:edX+Plain+1")
    assert app.get(detail_url("course-v1:edX+Plain+1")).json["overview"] is None


def test_detail_invalid_key(app):
    response = app.get(LIST + "edX+toy+bad!", status=400)
    assert response.json == {"field_errors": {"course_key": {
        "developer_message": "'edX+toy+bad!' is not a valid course key."}}}


def test_detail_unknown_course(app):
    response = app.get(detail_url("course-v1:edX+Nope+1"), status=404)
    assert response.json == COURSE_NOT_FOUND


def test_detail_invisible_course_is_404_except_for_course_staff(app, db, learner, other):
    key = "course-v1:edX+Future+1"
    small(db, key, start=days(30), enrollment_start=days(10))
    grant_role(db, other, "staff", parse_course_key(key))
    db.commit()
    assert app.get(detail_url(key), status=404).json == COURSE_NOT_FOUND
    response = app.get(detail_url(key), {"username": "learner"},
                       headers=jwt_headers(app, learner), status=404)
    assert response.json == COURSE_NOT_FOUND
    # Without ?username= the view is the anonymous one, even for course staff.
    app.get(detail_url(key), headers=jwt_headers(app, other), status=404)
    seen = app.get(detail_url(key), {"username": "other"}, headers=jwt_headers(app, other))
    assert seen.json["id"] == key and seen.json["is_enrolled"] is False


def test_detail_is_enrolled(app, db, learner, staff, enrollments):
    toy(db)
    enroll(enrollments, learner, TOY)
    mine = app.get(detail_url(), {"username": "learner"}, headers=jwt_headers(app, learner))
    assert mine.json == dict(toy_body(), overview="<p>A verbose description of the toys.</p>",
                             is_enrolled=True)
    assert app.get(detail_url(), {"username": "staffer"},
                   headers=jwt_headers(app, staff)).json["is_enrolled"] is False
    assert app.get(detail_url(), {"username": "learner"},
                   headers=jwt_headers(app, staff)).json["is_enrolled"] is True
    assert "is_enrolled" not in app.get(detail_url(), headers=jwt_headers(app, learner)).json
    enroll(enrollments, learner, TOY, is_active=False)
    assert app.get(detail_url(), {"username": "learner"},
                   headers=jwt_headers(app, learner)).json["is_enrolled"] is False


def test_detail_other_username(app, db, learner, staff):
    toy(db)
    response = app.get(detail_url(), {"username": "staffer"}, headers=jwt_headers(app, learner),
                       status=403)
    assert response.json == PERMISSION_DENIED
    assert app.get(detail_url(), {"username": "learner"}, status=403).json == PERMISSION_DENIED
    unknown = app.get(detail_url(), {"username": "ghost"}, headers=jwt_headers(app, staff),
                      status=404)
    assert unknown.json == USER_NOT_FOUND


def test_detail_certificate_available_date_when_auto_generation_is_on(app_factory, db):
    toy(db)
    small(db, "course-v1:edX+Self+1", self_paced=True,
          certificate_available_date=datetime(2015, 8, 14, tzinfo=UTC))
    plain = app_factory()
    assert "certificate_available_date" not in plain.get(detail_url()).json
    switched = app_factory(**{"courses.auto_certificate_generation": "true"})
    assert switched.get(detail_url()).json["certificate_available_date"] == \
        "2015-08-14T00:00:00Z"
    assert "certificate_available_date" not in switched.get(
        detail_url("course-v1:edX+Self+1")).json


def test_detail_old_style_key(app, db):
    key = "edX/Old/2012"
    small(db, key, enrollment_start=days(-1))
    body = app.get(detail_url(key)).json
    assert body["id"] == key and body["hidden"] is True
    assert body["media"]["course_image"] == {"uri": "/c4x/edX/Old/asset/images_course_image.jpg"}
    assert body["blocks_url"] == "http://localhost/api/courses/v2/blocks/?course_id=edX%2FOld%2F2012"


def test_detail_old_style_key_is_never_loadable(app, db):
    small(db, "edX/Old/2012", enrollment_end=days(-1))
    app.get(detail_url("edX/Old/2012"), status=404)


# -- GET /api/courses/v1/course_ids/ --------------------------------------------------------

@pytest.fixture
def keyed(db, learner):
    """Three courses; learner is course staff of one, instructor of another, org staff of MITx."""
    for key in ("course-v1:edX+A+1", "course-v1:edX+B+1", "course-v1:MITx+C+1"):
        small(db, key)
    grant_role(db, learner, "staff", parse_course_key("course-v1:edX+B+1"))
    grant_role(db, learner, "instructor", parse_course_key("course-v1:edX+A+1"))
    grant_role(db, learner, "staff", org="MITx")
    grant_role(db, learner, "beta_testers", parse_course_key("course-v1:MITx+C+1"))
    db.commit()


def test_course_ids_anonymous_is_401(app):
    assert app.get(IDS, {"role": "staff"}, status=401).json == NOT_AUTHENTICATED


def test_course_ids_staff_role_uses_course_level_roles_only(app, keyed, learner):
    response = app.get(IDS, {"role": "staff", "username": "learner"},
                       headers=jwt_headers(app, learner))
    assert response.json == {
        "results": ["course-v1:edX+A+1", "course-v1:edX+B+1"],
        "pagination": {"next": None, "previous": None, "count": 2, "num_pages": 1},
    }


def test_course_ids_other_roles_use_has_access(app, keyed, learner):
    instructor = app.get(IDS, {"role": "instructor", "username": "learner"},
                         headers=jwt_headers(app, learner))
    assert instructor.json["results"] == ["course-v1:edX+A+1"]
    # Org-level staff counts through has_access.
    load = app.get(IDS, {"role": "see_exists", "username": "learner"},
                   headers=jwt_headers(app, learner))
    assert load.json["results"] == ["course-v1:MITx+C+1", "course-v1:edX+A+1",
                                    "course-v1:edX+B+1"]


def test_course_ids_role_is_case_sensitive(app, keyed, learner):
    response = app.get(IDS, {"role": "Staff", "username": "learner"},
                       headers=jwt_headers(app, learner), status=400)
    assert response.json == {"field_errors": {"role": {
        "developer_message": "'Staff' is not a valid role."}}}


def test_course_ids_role_is_required(app, learner):
    for params in ({}, {"role": ""}, {"role": "  "}):
        response = app.get(IDS, params, headers=jwt_headers(app, learner), status=400)
        assert response.json == {"field_errors": {"role": {
            "developer_message": "This field is required."}}}


def test_course_ids_without_username_is_the_anonymous_user(app, keyed, learner):
    assert app.get(IDS, {"role": "staff"}, headers=jwt_headers(app, learner)).json == EMPTY_PAGE
    anonymous_view = app.get(IDS, {"role": "see_exists"}, headers=jwt_headers(app, learner))
    assert anonymous_view.json["pagination"]["count"] == 3


def test_course_ids_global_staff_get_every_course(app, keyed, staff, learner):
    mine = app.get(IDS, {"role": "instructor", "username": "staffer"},
                   headers=jwt_headers(app, staff))
    assert mine.json["results"] == ["course-v1:MITx+C+1", "course-v1:edX+A+1",
                                     "course-v1:edX+B+1"]
    theirs = app.get(IDS, {"role": "staff", "username": "learner"},
                     headers=jwt_headers(app, staff))
    assert theirs.json["results"] == ["course-v1:edX+A+1", "course-v1:edX+B+1"]


def test_course_ids_other_username(app, keyed, learner, other, staff):
    response = app.get(IDS, {"role": "staff", "username": "learner"},
                       headers=jwt_headers(app, other), status=403)
    assert response.json == PERMISSION_DENIED
    response = app.get(IDS, {"role": "staff", "username": "ghost"},
                       headers=jwt_headers(app, staff), status=404)
    assert response.json == USER_NOT_FOUND


def test_course_ids_pages_up_to_1000(app, db, staff):
    for number in range(3):
        small(db, f"course-v1:edX+C{number}+1")
    page = app.get(IDS, {"role": "staff", "username": "staffer", "page_size": "2", "page": "2"},
                   headers=jwt_headers(app, staff)).json
    assert page == {"results": ["course-v1:edX+C2+1"], "pagination": {
        "next": None, "count": 3, "num_pages": 2,
        "previous": "http://localhost/api/courses/v1/course_ids/"
                    "?role=staff&username=staffer&page_size=2&page=1"}}
    app.get(IDS, {"role": "staff", "username": "staffer", "page": "9"},
            headers=jwt_headers(app, staff), status=404)
    assert len(app.get(IDS, {"role": "staff", "username": "staffer", "page_size": "5000"},
                       headers=jwt_headers(app, staff)).json["results"]) == 3


@pytest.mark.parametrize("role", ["staff", "see_exists"])
def test_course_ids_queries_do_not_grow_with_courses(app, db, learner, query_counter, role):
    headers = jwt_headers(app, learner)
    params = {"role": role, "username": "learner"}

    def add(number):
        key = f"course-v1:edX+C{number:02}+1"
        small(db, key)
        grant_role(db, learner, "staff", parse_course_key(key))
        db.commit()

    add(0)
    with query_counter() as one:
        assert app.get(IDS, params, headers=headers).json["pagination"]["count"] == 1
    for number in range(1, 15):
        add(number)
    with query_counter() as fifteen:
        assert app.get(IDS, params, headers=headers).json["pagination"]["count"] == 15
    assert len(one) == len(fifteen) == (3 if role == "staff" else 4)


@pytest.mark.commits  # throttle hits commit apart from the request
def test_course_ids_throttle(app_factory, db, learner):
    throttled = app_factory(**{"throttle.enabled": "true", "courses.course_list_rate": "1/d"})
    throttled.get(IDS, {"role": "staff"}, headers=jwt_headers(throttled, learner))
    throttled.get(IDS, {"role": "staff"}, headers=jwt_headers(throttled, learner), status=429)
    # Its bucket is not the course list's.
    throttled.get(LIST, headers=jwt_headers(throttled, learner))


def test_list_asks_enrollments_in_one_batch_when_answered(app, db, learner, enrollments):
    """With ``lms_get_enrollments`` answered, no per-course enrollment question is asked."""
    batch_calls = []

    @hookimpl
    def lms_get_enrollments(dbsession, user_id, course_keys):
        batch_calls.append([str(key) for key in course_keys])
        return {str(key): enrollments.ENROLLMENTS.get((user_id, str(key)))
                for key in course_keys}

    enrollments.lms_get_enrollments = lms_get_enrollments
    # Re-register the module so pluggy sees the hook implementation added above.
    app.registry["lms.plugin_manager"].unregister(name="testenrollments")
    app.registry["lms.plugin_manager"].register(enrollments, name="testenrollments")
    for number in range(4):
        small(db, f"course-v1:edX+B{number}+1", enrollment_end=days(-1))
    body = app.get(LIST, {"username": "learner"},
                         headers=jwt_headers(app, learner)).json
    assert body["pagination"]["count"] == 4
    assert len(batch_calls) == 1 and len(batch_calls[0]) == 4
    assert enrollments.calls == []
