"""Organizations, ``/api/organizations/v0/organizations/`` (edx-organizations v0)."""
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.auth import sign, token_digest
from lms.models import LoginSession
from lms.testing import TEST_SETTINGS, create_user, jwt_headers
from lms.timeutil import isoformat, utcnow
from plugins.courses.models import Organization
from tests.plugins.courses.factories import make_course

LIST = "/api/organizations/v0/organizations/"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
REQUIRED = ["This field is required."]


def url(short_name):
    return f"{LIST}{short_name}/"


@pytest.fixture
def learner(db):
    return create_user(db, "learner", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


@pytest.fixture
def as_learner(app, learner):
    return jwt_headers(app, learner)


@pytest.fixture
def as_staff(app, staff):
    return jwt_headers(app, staff)


def add_org(db, short_name, name=None, active=True, description=None, logo=None):
    org = Organization(short_name=short_name, name=name or short_name.title(), active=active,
                       description=description, logo=logo)
    db.add(org)
    db.commit()
    return org


def body_of(org):
    return {
        "id": org.id, "created": isoformat(org.created), "modified": isoformat(org.modified),
        "name": org.name, "short_name": org.short_name, "description": org.description,
        "logo": org.logo, "active": org.active,
    }


def stored(db, short_name):
    db.expire_all()
    return db.scalar(select(Organization).where(Organization.short_name == short_name))


def org_count(db):
    return db.scalar(select(func.count(Organization.id)))


def session_cookies(db, user, csrf=None):
    key = secrets.token_urlsafe()
    db.add(LoginSession(key_hash=token_digest(key), user_id=user.id,
                        expires=utcnow() + timedelta(hours=1)))
    db.commit()
    cookie = "sessionid=" + sign(TEST_SETTINGS["lms.secret_key"], key)
    if csrf:
        cookie += "; csrftoken=" + csrf
    return {"Cookie": cookie}


# -- GET list -------------------------------------------------------------------------------

def test_list_anonymous_is_401(app):
    response = app.get(LIST, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_list_active_organizations(app, db, as_learner):
    make_course(db)  # importing a course creates its organization
    mitx = add_org(db, "MITx", name="MIT", description="Boston")
    add_org(db, "Gone", active=False)
    edx = stored(db, "edX")
    response = app.get(LIST, headers=as_learner)
    assert response.json == {
        "next": None, "previous": None, "count": 2, "num_pages": 1, "current_page": 1,
        "start": 0, "results": [body_of(edx), body_of(mitx)],
    }
    assert response.json["results"][0]["name"] == "edX"


def test_list_pages(app, db, as_learner):
    for number in range(3):
        add_org(db, f"org{number}")
    page = app.get(LIST, {"page_size": "2", "page": "2"}, headers=as_learner).json
    assert [org["short_name"] for org in page["results"]] == ["org2"]
    assert page["previous"] == "http://localhost/api/organizations/v0/organizations/?page_size=2&page=1"
    response = app.get(LIST, {"page": "3"}, headers=as_learner, status=404)
    assert response.json == {"detail": "Invalid page."}


def test_list_queries_do_not_grow(app, db, as_learner, query_counter):
    add_org(db, "first")
    with query_counter() as one:
        app.get(LIST, headers=as_learner)
    for number in range(14):
        add_org(db, f"org{number}")
    with query_counter() as fifteen:
        assert app.get(LIST, headers=as_learner).json["count"] == 15
    assert len(one) == len(fifteen) == 3  # user, count, page


def test_list_session_auth_refuses_inactive_users(app, db):
    add_org(db, "MITx")
    active = create_user(db, "active", password=None)
    inactive = create_user(db, "inactive", password=None, is_active=False)
    assert app.get(LIST, headers=session_cookies(db, active)).json["count"] == 1
    app.get(LIST, headers=session_cookies(db, inactive), status=401)


# -- GET detail -----------------------------------------------------------------------------

def test_detail(app, db, as_learner):
    org = add_org(db, "MITx", description="Boston", logo="https://cdn.example.com/mit.png")
    assert app.get(url("MITx"), headers=as_learner).json == dict(
        body_of(org), logo="https://cdn.example.com/mit.png")
    assert app.get(url("MITx").rstrip("/"), headers=as_learner).json["short_name"] == "MITx"


def test_detail_short_name_may_hold_dots(app, db, as_learner):
    add_org(db, "Harvard.X")
    assert app.get(url("Harvard.X"), headers=as_learner).json["short_name"] == "Harvard.X"


def test_detail_inactive_or_unknown_is_404(app, db, as_learner):
    add_org(db, "Gone", active=False)
    assert app.get(url("Gone"), headers=as_learner, status=404).json == NOT_FOUND
    assert app.get(url("nope"), headers=as_learner, status=404).json == NOT_FOUND


def test_detail_anonymous_is_401(app, db):
    add_org(db, "MITx")
    assert app.get(url("MITx"), status=401).json == NOT_AUTHENTICATED


# -- PUT ------------------------------------------------------------------------------------

NEW = {"name": "example-name", "short_name": "example-short-name",
       "description": "example-description"}


def test_put_creates_an_active_organization_with_200(app, db, as_staff):
    response = app.put_json(url(NEW["short_name"]), NEW, headers=as_staff, status=200)
    org = stored(db, "example-short-name")
    assert response.json == body_of(org)
    assert (org.name, org.description, org.active, org.logo) == (
        "example-name", "example-description", True, None)


def test_put_creates_from_the_body_short_name(app, db, as_staff):
    app.put_json(url("elsewhere"), NEW, headers=as_staff)
    assert stored(db, "elsewhere") is None
    assert stored(db, "example-short-name").name == "example-name"


def test_put_updates_and_reactivates(app, db, as_staff):
    org = add_org(db, "MITx", name="MIT", description="Boston", active=False)
    response = app.put_json(url("MITx"), {"name": "  Changed  ", "short_name": "MITx"},
                            headers=as_staff)
    updated = stored(db, "MITx")
    assert updated.id == org.id
    assert (updated.name, updated.description, updated.active) == ("Changed", "Boston", True)
    assert response.json == body_of(updated)
    assert org_count(db) == 1


def test_put_may_rename(app, db, as_staff):
    org = add_org(db, "MITx")
    app.put_json(url("MITx"), {"name": "MIT", "short_name": "MITx2", "description": None},
                 headers=as_staff)
    renamed = stored(db, "MITx2")
    assert renamed.id == org.id and renamed.description is None
    assert stored(db, "MITx") is None


def test_put_superuser_may(app, db):
    root = create_user(db, "root", password=None, is_superuser=True)
    app.put_json(url(NEW["short_name"]), NEW, headers=jwt_headers(app, root))
    assert org_count(db) == 1


def test_put_learner_is_403_and_anonymous_401(app, db, as_learner):
    response = app.put_json(url(NEW["short_name"]), NEW, headers=as_learner, status=403)
    assert response.json == PERMISSION_DENIED
    assert app.put_json(url(NEW["short_name"]), NEW, status=401).json == NOT_AUTHENTICATED
    assert org_count(db) == 0


def test_put_active_is_refused(app, db, as_staff):
    add_org(db, "Gone", active=False)
    response = app.put_json(url("Gone"), {"name": "x", "short_name": "Gone", "active": True},
                            headers=as_staff, status=400)
    assert response.json == ["Value of 'active' may not be specified via Organizations HTTP API."]
    assert stored(db, "Gone").active is False
    # Checked before the other fields.
    response = app.put_json(url("Gone"), {"active": False}, headers=as_staff, status=400)
    assert response.json == ["Value of 'active' may not be specified via Organizations HTTP API."]


@pytest.mark.parametrize("body, errors", [
    ({}, {"name": REQUIRED, "short_name": REQUIRED}),
    ({"name": "", "short_name": "x"}, {"name": ["This field may not be blank."]}),
    ({"name": "   ", "short_name": "x"}, {"name": ["This field may not be blank."]}),
    ({"name": None, "short_name": "x"}, {"name": ["This field may not be null."]}),
    ({"name": ["a"], "short_name": "x"}, {"name": ["Not a valid string."]}),
    ({"name": "n" * 256, "short_name": "x"},
     {"name": ["Ensure this field has no more than 255 characters."]}),
    ({"name": "n", "short_name": "s" * 256},
     {"short_name": ["Ensure this field has no more than 255 characters."]}),
    ({"name": "n", "short_name": "x", "description": {"a": 1}},
     {"description": ["Not a valid string."]}),
    ({"name": "n", "short_name": "x", "logo_url": "ftp://example.com/a.png"},
     {"logo_url": ["Enter a valid URL."]}),
    ({"name": "n", "short_name": "x", "color": "red"},
     {"color": ["This field is not allowed."]}),
])
def test_put_validation(app, db, as_staff, body, errors):
    response = app.put_json(url("x"), body, headers=as_staff, status=400)
    assert response.json == errors
    assert org_count(db) == 0


def test_put_numbers_become_text(app, db, as_staff):
    app.put_json(url("x"), {"name": 42, "short_name": "x"}, headers=as_staff)
    assert stored(db, "x").name == "42"


def test_put_duplicate_short_name(app, db, as_staff):
    add_org(db, "MITx")
    add_org(db, "edX")
    response = app.put_json(url("edX"), {"name": "x", "short_name": "MITx"}, headers=as_staff,
                            status=400)
    assert response.json == {"short_name": ["organization with this Short Name already exists."]}
    assert stored(db, "edX").name == "Edx"


def test_put_echoed_read_only_fields_are_ignored(app, db, as_staff):
    org = add_org(db, "MITx", logo="https://cdn.example.com/old.png")
    sent = dict(body_of(org), name="New")
    del sent["active"]
    sent.update(id=999, created="2000-01-01T00:00:00Z", logo="https://evil.example.com/x.png")
    app.put_json(url("MITx"), sent, headers=as_staff)
    updated = stored(db, "MITx")
    assert (updated.id, updated.name, updated.logo) == (org.id, "New",
                                                        "https://cdn.example.com/old.png")


def test_put_logo_url_becomes_the_logo(app, db, as_staff):
    response = app.put_json(url("x"), dict(NEW, short_name="x",
                                           logo_url="https://cdn.example.com/x.png"),
                            headers=as_staff)
    assert response.json["logo"] == "https://cdn.example.com/x.png"
    assert "logo_url" not in response.json


def test_put_invalid_json(app, db, as_staff):
    response = app.put(url("x"), "{nope", headers=dict(as_staff, **{
        "Content-Type": "application/json"}), status=400)
    assert response.json["detail"].startswith("JSON parse error - ")
    assert org_count(db) == 0


def test_put_form_body(app, db, as_staff):
    app.put(url("x"), {"name": "Form", "short_name": "x"}, headers=as_staff)
    assert stored(db, "x").name == "Form"
    response = app.put(url("x"), {"name": "Form", "short_name": "x", "active": "true"},
                       headers=as_staff, status=400)
    assert response.json == ["Value of 'active' may not be specified via Organizations HTTP API."]


def test_put_with_session_needs_csrf(app, db, staff):
    csrf = "A" * 32
    cookies = session_cookies(db, staff, csrf)
    response = app.put_json(url("x"), NEW, headers=cookies, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    app.put_json(url("x"), NEW, headers=dict(cookies, **{"X-CSRFToken": csrf}))
    assert org_count(db) == 1


# -- PATCH and other methods ----------------------------------------------------------------

def test_patch_is_405_with_an_empty_body(app, db, as_learner, as_staff):
    add_org(db, "MITx")
    for headers in (as_learner, as_staff):
        response = app.patch_json(url("MITx"), {"name": "x"}, headers=headers, status=405)
        assert response.body == b""
        assert response.headers["Allow"] == "GET, PUT, PATCH, HEAD, OPTIONS"
    assert stored(db, "MITx").name == "Mitx"
    assert app.patch_json(url("MITx"), {}, status=401).json == NOT_AUTHENTICATED


def test_other_methods_are_405(app, as_staff):
    app.post_json(LIST, NEW, headers=as_staff, status=405)
    app.delete(url("MITx"), headers=as_staff, status=405)
