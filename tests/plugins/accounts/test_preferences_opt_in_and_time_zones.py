"""``/api/user/v1/preferences/email_opt_in/`` and ``/api/user/v1/preferences/time_zones/``."""
from datetime import datetime

import pytest
import pytz
from sqlalchemy import select

from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.accounts import api
from plugins.accounts.models import UserOrgTag
from tests.plugins.accounts.test_preferences_support import (
    NOT_AUTHENTICATED,
    session_headers,
)

OPT_IN = "/api/user/v1/preferences/email_opt_in/"
TIME_ZONES = "/api/user/v1/preferences/time_zones/"
COURSE_ID = "course-v1:edX+DemoX+Demo_Course"


@pytest.fixture
def alice(db):
    user = create_user(db, "alice")
    api.get_profile(db, user.id, create=True).year_of_birth = utcnow().year - 30
    db.commit()
    return user


def tags(db, user):
    db.expire_all()
    return {(row.org, row.key): row.value for row in db.scalars(
        select(UserOrgTag).where(UserOrgTag.user_id == user.id))}


# -- email_opt_in ---------------------------------------------------------------------

def test_opt_in_and_out_per_org(app, db, alice):
    headers = session_headers(app, db, alice)
    response = app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "True"},
                        headers=headers)
    assert response.status_code == 200 and response.body == b""
    assert response.content_type == "text/html"
    assert tags(db, alice) == {("edX", "email-optin"): "True"}
    app.post(OPT_IN, {"course_id": "MITx/6.002x/2012_Fall", "email_opt_in": "true"},
             headers=headers)
    # Anything but "true" (any case) opts out.
    app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "yes"}, headers=headers)
    assert tags(db, alice) == {("edX", "email-optin"): "False", ("MITx", "email-optin"): "True"}


def test_opt_in_keeps_the_existing_csrf_cookie(app, db, alice):
    # ensure_csrf_cookie only sets a missing cookie; a session request (CSRF) has one.
    response = app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "true"},
                        headers=session_headers(app, db, alice))
    assert "csrftoken=" not in response.headers.get("Set-Cookie", "")


def test_children_cannot_opt_in(app, db):
    child = create_user(db, "child")
    api.get_profile(db, child.id, create=True).year_of_birth = utcnow().year - 12
    db.commit()
    app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "true"},
             headers=session_headers(app, db, child))
    assert tags(db, child) == {("edX", "email-optin"): "False"}


def test_missing_year_of_birth_or_profile_does_not_require_consent(app, db):
    nobody = create_user(db, "noprofile")
    app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "true"},
             headers=session_headers(app, db, nobody))
    assert tags(db, nobody) == {("edX", "email-optin"): "True"}


@pytest.mark.parametrize("form, missing", [
    ({}, "course_id, email_opt_in"),
    ({"email_opt_in": "true"}, "course_id"),
    ({"course_id": COURSE_ID}, "email_opt_in"),
])
def test_missing_fields_are_plain_400(app, db, alice, form, missing):
    response = app.post(OPT_IN, form, headers=session_headers(app, db, alice), status=400)
    assert response.text == f"Missing POST parameters: {missing}"
    assert response.content_type == "text/html"
    assert tags(db, alice) == {}


def test_json_body_is_not_read(app, db, alice):
    response = app.post_json(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "true"},
                             headers=session_headers(app, db, alice), status=400)
    assert response.text == "Missing POST parameters: course_id, email_opt_in"


@pytest.mark.parametrize("course_id", ["not a course", "", "course-v1:" + "o" * 300 + "+c+r"])
def test_unparsable_course_is_plain_400(app, db, alice, course_id):
    response = app.post(OPT_IN, {"course_id": course_id, "email_opt_in": "true"},
                        headers=session_headers(app, db, alice), status=400)
    assert response.text == f"No course '{course_id}' found"
    assert response.content_type == "text/plain"
    assert tags(db, alice) == {}


def test_opt_in_is_session_only(app, db, alice):
    response = app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "true"}, status=403)
    assert response.json == NOT_AUTHENTICATED
    # A JWT is not an accepted credential here.
    response = app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "true"},
                        headers=jwt_headers(app, alice), status=403)
    assert response.json == NOT_AUTHENTICATED
    headers = session_headers(app, db, alice)
    del headers["X-CSRFToken"]
    response = app.post(OPT_IN, {"course_id": COURSE_ID, "email_opt_in": "true"},
                        headers=headers, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    assert tags(db, alice) == {}


def test_opt_in_is_post_only(app, db, alice):
    response = app.get(OPT_IN, headers=session_headers(app, db, alice), status=405)
    assert response.json == {"detail": 'Method "GET" not allowed.'}


# -- time_zones -----------------------------------------------------------------------

def expected_zones(names):
    now = datetime.now(pytz.utc)
    entries = []
    for name in names:
        local = now.astimezone(pytz.timezone(name))
        description = f"{name} ({local.strftime('%Z')}, UTC{local.strftime('%z')})"
        entries.append({"time_zone": name, "description": description.replace("_", " ")})
    return sorted(entries, key=lambda entry: entry["description"])


def test_all_common_time_zones_for_anyone(app):
    body = app.get(TIME_ZONES).json
    assert body == expected_zones(pytz.common_timezones)
    assert len(body) == len(pytz.common_timezones)
    assert app.get(TIME_ZONES.rstrip("/")).json == body


@pytest.mark.parametrize("code, names", [
    ("FR", ["Europe/Paris"]),
    ("fr", ["Europe/Paris"]),
    ("us", pytz.country_timezones["US"]),
])
def test_country_time_zones(app, code, names):
    body = app.get(TIME_ZONES, {"country_code": code}).json
    assert body == expected_zones(names)


def test_underscores_read_as_spaces(app):
    body = app.get(TIME_ZONES, {"country_code": "US"}).json
    new_york = next(entry for entry in body if entry["time_zone"] == "America/New_York")
    assert new_york["description"].startswith("America/New York (E")


@pytest.mark.parametrize("code", ["", "XX", "zz", "FRA", "BV", "HM", "\x00"])
def test_unknown_or_zoneless_countries_get_every_zone(app, code):
    assert len(app.get(TIME_ZONES, {"country_code": code}).json) == len(pytz.common_timezones)


def test_time_zones_with_a_bad_jwt_is_401(app):
    response = app.get(TIME_ZONES, headers={"Authorization": "JWT nope"}, status=401)
    assert response.json == {"detail": "Error decoding token."}


def test_time_zones_are_get_only(app):
    app.post_json(TIME_ZONES, {}, status=405)
