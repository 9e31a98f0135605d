"""``custom/REV-934/`` and ``custom/userMetadata/...``: upgrade information.

Course and enrollment data come from the test-only ``testcatalog`` plugin
(``catalog.py``), standing in for the courses and enrollment plugins.
"""
from datetime import datetime, timedelta, timezone

import pytest

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from tests.plugins.experiments.conftest import NOT_AUTHENTICATED, PERMISSION_DENIED

COURSE_ID = "course-v1:edX+DemoX+2024"
REV934 = "/api/experiments/v0/custom/REV-934/"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
BASKET = "https://ecommerce.example.com/basket/add/?sku=SKU-10"
# Upstream's own test user, whose stable bucket for REV-934 is 1.
BUCKET_ONE = "robot-mue-1-6pnjv"


def days(count):
    return NOW + timedelta(days=count)


def verified(**changes):
    return dict({"slug": "verified", "min_price": 10, "currency": "usd", "sku": "SKU-10",
                 "expiration_datetime": days(10)}, **changes)


AUDIT = {"slug": "audit", "min_price": 0, "currency": "usd", "sku": None,
         "expiration_datetime": None}


def course(**changes):
    return dict({
        "id": COURSE_ID, "display_name": "Demo Course", "org": "edX",
        "start": days(-30), "end": days(30), "enrollment_start": None, "enrollment_end": None,
        "self_paced": False, "cosmetic_display_price": 0, "modes": [AUDIT, verified()],
    }, **changes)


def enrollment(mode="audit", **changes):
    return dict({"mode": mode, "is_active": True, "created": days(-3),
                 "upgrade_deadline": days(10) if mode == "audit" else None}, **changes)


@pytest.fixture
def settings(settings):
    settings.update({
        "lms.plugins": "experiments testcatalog",
        "experiments.mobile_upsell_rev934": "true",
        "experiments.ecommerce_public_url_root": "https://ecommerce.example.com",
    })
    return settings


@pytest.fixture
def app(catalog, app_factory, settings):
    return app_factory(**settings)


@pytest.fixture
def learner(db):
    return create_user(db, BUCKET_ONE, password=None)


# -- REV-934 ------------------------------------------------------------------------

def rev934(app, user_headers, course_id=COURSE_ID, **kwargs):
    params = {} if course_id is None else {"course_id": course_id}
    return app.get(REV934, params, headers=user_headers, **kwargs)


def test_rev934_anonymous_is_401(app):
    response = app.get(REV934, {"course_id": COURSE_ID}, status=401)
    assert response.json == {"developer_message": "Authentication credentials were not provided."}
    assert "WWW-Authenticate" not in response.headers


def test_rev934_flag_off_by_default(catalog, app_factory, headers, learner):
    app = app_factory(**{"lms.plugins": "experiments testcatalog"})
    response = app.get(REV934, headers=headers(learner))
    assert response.json == {"show_upsell": False, "upsell_flag": False}
    assert "csrftoken=" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("course_id", [None, "junk", ""])
def test_rev934_missing_or_invalid_course_id(app, headers, learner, course_id):
    response = rev934(app, headers(learner), course_id, status=400)
    assert response.text == "Missing or invalid course_id"
    assert response.content_type == "text/html"


def test_rev934_unknown_course(app, headers, learner):
    response = rev934(app, headers(learner), status=404)
    assert response.json == {"developer_message": "Not found."}


@pytest.mark.parametrize("dates", [{"start": days(1)}, {"end": days(-1)}, {"start": None}])
def test_rev934_course_not_running(app, catalog, headers, learner, dates):
    catalog.COURSES[COURSE_ID] = course(**dates)
    assert rev934(app, headers(learner)).json == {
        "show_upsell": False, "upsell_flag": True, "course_running": False}


def test_rev934_shows_upsell_to_a_learner_not_enrolled(app, catalog, headers, learner):
    catalog.COURSES[COURSE_ID] = course()
    assert rev934(app, headers(learner)).json == {
        "show_upsell": True, "price": "$10", "basket_url": BASKET}


def test_rev934_shows_upsell_to_an_audit_learner(app, catalog, headers, learner):
    catalog.COURSES[COURSE_ID] = course()
    catalog.ENROLLMENTS[learner.id, COURSE_ID] = enrollment("audit")
    assert rev934(app, headers(learner)).json["show_upsell"] is True


@pytest.mark.parametrize("enrolled", [
    enrollment("verified"),
    enrollment("audit", upgrade_deadline=days(-1)),
    enrollment("audit", upgrade_deadline=None),
    enrollment("audit", is_active=False),
])
def test_rev934_no_upsell_when_the_enrollment_cannot_upgrade(app, catalog, headers, learner,
                                                             enrolled):
    catalog.COURSES[COURSE_ID] = course()
    catalog.ENROLLMENTS[learner.id, COURSE_ID] = enrolled
    assert rev934(app, headers(learner)).json == {
        "show_upsell": False, "upsell_flag": True, "experiment_bucket": 1,
        "user_upsell": False, "basket_url": BASKET}


@pytest.mark.parametrize("modes", [[AUDIT], [AUDIT, verified(expiration_datetime=days(-1))]])
def test_rev934_no_upsell_without_a_verified_seat(app, catalog, headers, learner, modes):
    catalog.COURSES[COURSE_ID] = course(modes=modes)
    assert rev934(app, headers(learner)).json == {
        "show_upsell": False, "upsell_flag": True, "experiment_bucket": 1,
        "user_upsell": True, "basket_url": None}


def test_rev934_bucket_zero_sees_no_upsell(app, catalog, headers, db):
    catalog.COURSES[COURSE_ID] = course()
    alice = create_user(db, "alice", password=None)  # stable bucket 0
    assert rev934(app, headers(alice)).json == {
        "show_upsell": False, "upsell_flag": True, "experiment_bucket": 0,
        "user_upsell": True, "basket_url": BASKET}


def test_rev934_without_ecommerce_links_to_the_dashboard(catalog, app_factory, settings,
                                                         headers, learner):
    app = app_factory(**dict(settings, **{"experiments.ecommerce_public_url_root": ""}))
    catalog.COURSES[COURSE_ID] = course(modes=[verified(min_price=0)], cosmetic_display_price=49)
    assert rev934(app, headers(learner)).json == {
        "show_upsell": True, "price": "$49", "basket_url": "/dashboard"}


def test_rev934_with_the_api_key(catalog, app_factory, settings):
    app = app_factory(**dict(settings, **{"lms.edx_api_key": "server-key"}))
    catalog.COURSES[COURSE_ID] = course()
    assert rev934(app, {"X-Edx-Api-Key": "server-key"}).json == {
        "show_upsell": False, "upsell_flag": True, "experiment_bucket": 0,
        "user_upsell": True, "basket_url": BASKET}
    rev934(app, {"X-Edx-Api-Key": "wrong"}, status=401)


def test_rev934_refuses_restricted_jwts(app, learner):
    response = rev934(app, jwt_headers(app, learner, is_restricted=True), status=403)
    assert response.json == {"developer_message": PERMISSION_DENIED["detail"]}


# -- userMetadata --------------------------------------------------------------------

def metadata_url(username, course_id=COURSE_ID):
    return f"/api/experiments/v0/custom/userMetadata/{username},{course_id}"


def test_user_metadata_of_an_audit_learner(app, catalog, headers, learner):
    catalog.COURSES[COURSE_ID] = course(self_paced=True)
    catalog.ENROLLMENTS[learner.id, COURSE_ID] = enrollment(
        "audit", schedule_start=days(-2), course_duration=timedelta(weeks=4),
        audit_access_deadline=days(25))
    response = app.get(metadata_url(learner.username), headers=headers(learner))
    assert response.json == {
        "username": BUCKET_ONE,
        "user_id": learner.id,
        "course_id": COURSE_ID,
        "course_display_name": "Demo Course",
        "enrollment_mode": "audit",
        "upgrade_link": BASKET,
        "upgrade_price": "$10",
        "audit_access_deadline": days(25).isoformat(),
        "course_duration": 2419200.0,
        "pacing_type": "self_paced",
        "has_staff_access": False,
        "forum_roles": [],
        "partition_groups": {},
        "has_non_audit_enrollments": False,
        "program_key_fields": None,
        "email": learner.email,
        "schedule_start": days(-2).isoformat(),
        "enrollment_time": days(-3).isoformat(),
        "course_start": days(-30).isoformat(),
        "course_end": days(30).isoformat(),
        "dynamic_upgrade_deadline": days(10).isoformat(),
        "course_upgrade_deadline": days(10).isoformat(),
        "course_key_fields": {"org": "edX", "course": "DemoX", "run": "2024"},
    }
    assert response.json["course_start"].endswith("+00:00")


def test_user_metadata_of_a_learner_not_enrolled(app, catalog, headers, learner):
    catalog.COURSES[COURSE_ID] = course(end=None)
    body = app.get(metadata_url(learner.username), headers=headers(learner)).json
    nulls = ("enrollment_mode", "enrollment_time", "schedule_start", "upgrade_link",
             "dynamic_upgrade_deadline", "course_upgrade_deadline", "audit_access_deadline",
             "course_duration", "course_end")
    assert {key: body[key] for key in nulls} == dict.fromkeys(nulls)
    assert (body["pacing_type"], body["upgrade_price"]) == ("instructor_paced", "$10")


def test_user_metadata_of_a_verified_learner(app, catalog, headers, learner):
    catalog.COURSES[COURSE_ID] = course()
    catalog.ENROLLMENTS[learner.id, COURSE_ID] = enrollment("verified")
    body = app.get(metadata_url(learner.username), headers=headers(learner)).json
    assert (body["enrollment_mode"], body["upgrade_link"], body["dynamic_upgrade_deadline"],
            body["course_upgrade_deadline"], body["has_non_audit_enrollments"]) == (
        "verified", None, None, days(10).isoformat(), True)


def test_user_metadata_inactive_enrollment(app, catalog, headers, learner):
    catalog.COURSES[COURSE_ID] = course()
    catalog.ENROLLMENTS[learner.id, COURSE_ID] = enrollment("audit", is_active=False)
    body = app.get(metadata_url(learner.username), headers=headers(learner)).json
    assert (body["enrollment_mode"], body["enrollment_time"], body["upgrade_link"]) == (
        None, None, None)
    assert body["course_upgrade_deadline"] == days(10).isoformat()


def test_user_metadata_staff_for_another_user(app, catalog, headers, learner, staff, db):
    catalog.COURSES[COURSE_ID] = course()
    grant_role(db, learner, "staff", parse_course_key(COURSE_ID))
    db.commit()
    for lookup in (learner.username, learner.email):
        body = app.get(metadata_url(lookup), headers=headers(staff)).json
        assert (body["username"], body["user_id"], body["email"], body["course_id"]) == (
            learner.username, learner.id, learner.email, COURSE_ID)
        assert body["has_staff_access"] is True


def test_user_metadata_anonymous_is_401(app, catalog, learner):
    catalog.COURSES[COURSE_ID] = course()
    response = app.get(metadata_url(learner.username), status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_user_metadata_of_another_user_needs_staff(app, catalog, headers, learner, alice):
    catalog.COURSES[COURSE_ID] = course()
    for username in (learner.username, "nobody"):  # unknown users are hidden too
        response = app.get(metadata_url(username), headers=headers(alice), status=403)
        assert response.json == PERMISSION_DENIED


def test_user_metadata_unknown_user(app, catalog, headers, staff):
    catalog.COURSES[COURSE_ID] = course()
    response = app.get(metadata_url("nobody"), headers=headers(staff), status=404)
    assert response.json == {"message": "Provided user is not found"}


@pytest.mark.parametrize("course_id", [COURSE_ID + "_FOOBAR", "a+b+c", "not/a/course"])
def test_user_metadata_unknown_or_invalid_course(app, catalog, headers, learner, course_id):
    catalog.COURSES[COURSE_ID] = course()
    response = app.get(metadata_url(learner.username, course_id), headers=headers(learner),
                       status=404)
    assert response.json == {"message": "Provided course is not found"}


def test_user_metadata_route_needs_a_course_shaped_id(app, headers, learner):
    response = app.get(metadata_url(learner.username, "justone"), headers=headers(learner),
                       status=404)
    assert response.json == {"detail": "Not found."}


def test_without_a_course_plugin_every_course_is_unknown(app_factory, headers, learner, db):
    app = app_factory(**{"lms.plugins": "experiments",
                         "experiments.mobile_upsell_rev934": "true"})
    response = app.get(metadata_url(learner.username), headers=headers(learner), status=404)
    assert response.json == {"message": "Provided course is not found"}
    assert rev934(app, headers(learner), status=404).json == {"developer_message": "Not found."}
