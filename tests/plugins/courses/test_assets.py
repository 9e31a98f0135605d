"""Course static files, ``/asset-v1:…+type@asset+block@<name>`` (upstream contentserver)."""
import hashlib
import secrets
from datetime import timedelta

import pytest

from lms.auth import sign, token_digest
from lms.keys import parse_course_key
from lms.models import LoginSession
from lms.permissions import grant_role
from lms.testing import TEST_SETTINGS, create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.courses.api import store_course
from plugins.courses.serializers import asset_path
from tests.plugins.courses.factories import DEMO_KEY, Node, flatten
from tests.plugins.courses.test_catalog import enroll, enrollment_plugin

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
PDF = b"%PDF-1.4 locked handout"
IMAGE = asset_path(DEMO_KEY, "images_logo.png")
HANDOUT = asset_path(DEMO_KEY, "handout.pdf")
CODE_LIBRARY = asset_path(DEMO_KEY, "python_lib.zip")


@pytest.fixture
def enrollments(add_plugins):
    plugin = enrollment_plugin()
    add_plugins(plugin)
    return plugin


@pytest.fixture
def app(app_factory, settings, enrollments):
    return app_factory(**settings)


@pytest.fixture
def course(db):
    course = store_course(db, DEMO_KEY, {"display_name": "Demo"},
                          flatten(DEMO_KEY, Node("course", "course")), assets=[
        {"name": "images_logo.png", "content_type": "image/png", "content": PNG},
        {"name": "handout.pdf", "content_type": "application/pdf", "content": PDF,
         "locked": True},
        {"name": "python_lib.zip", "content_type": "application/zip", "content": b"PK"},
    ])
    db.commit()
    return course


@pytest.fixture
def learner(db):
    return create_user(db, "learner", password=None)


def session_cookies(db, user):
    key = secrets.token_urlsafe()
    db.add(LoginSession(key_hash=token_digest(key), user_id=user.id,
                        expires=utcnow() + timedelta(hours=1)))
    db.commit()
    return {"Cookie": "sessionid=" + sign(TEST_SETTINGS["lms.secret_key"], key)}


def etag(content):
    return '"' + hashlib.md5(content).hexdigest() + '"'


def test_asset_path_shape():
    assert IMAGE == "/asset-v1:edX+Demo+2026+type@asset+block@images_logo.png"
    assert asset_path(DEMO_KEY, "images/logo one.png") == \
        "/asset-v1:edX+Demo+2026+type@asset+block@images_logo_one.png"


def test_serves_the_file_with_its_type_and_validators(app, course):
    response = app.get(IMAGE)
    assert response.body == PNG
    assert response.content_type == "image/png"
    assert response.headers["ETag"] == etag(PNG)
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Vary"] == "Origin"
    assert response.headers["Last-Modified"].endswith(" GMT")
    assert "Cache-Control" not in response.headers  # upstream's default TTL is 0


def test_block_slash_form_is_accepted(app, course):
    assert app.get(IMAGE.replace("block@", "block/")).body == PNG


def test_cache_ttl(app_factory, course):
    cached = app_factory(**{"courses.asset_cache_ttl": "3600"})
    response = cached.get(IMAGE)
    assert response.headers["Cache-Control"] == "public, max-age=3600, s-maxage=3600"
    assert response.headers["Expires"].endswith(" GMT")


def test_conditional_requests(app, course):
    first = app.get(IMAGE)
    not_modified = app.get(IMAGE, headers={"If-None-Match": etag(PNG)}, status=304)
    assert not_modified.body == b""
    app.get(IMAGE, headers={"If-Modified-Since": first.headers["Last-Modified"]}, status=304)
    assert app.get(IMAGE, headers={"If-None-Match": '"other"'}).body == PNG


def test_byte_ranges(app, course):
    part = app.get(IMAGE, headers={"Range": "bytes=2-5"}, status=206)
    assert part.body == PNG[2:6]
    assert part.headers["Content-Range"] == f"bytes 2-5/{len(PNG)}"
    assert app.get(IMAGE, headers={"Range": "bytes=-4"}, status=206).body == PNG[-4:]
    assert app.get(IMAGE, headers={"Range": "bytes=10-"}, status=206).body == PNG[10:]
    app.get(IMAGE, headers={"Range": "bytes=900-901"}, status=416)
    # Multiple ranges or other units: the whole file.
    assert app.get(IMAGE, headers={"Range": "bytes=0-1,4-5"}, status=200).body == PNG
    assert app.get(IMAGE, headers={"Range": "lines=1-2"}, status=200).body == PNG


def test_unknown_assets_are_404(app, course):
    for path in (asset_path(DEMO_KEY, "nope.png"),
                 asset_path("course-v1:edX+Other+1", "images_logo.png"),
                 IMAGE.replace("type@asset", "type@thumbnail")):
        response = app.get(path, status=404)
        assert response.body == b""


def test_unparsable_key_is_400(app, course):
    response = app.get("/asset-v1:edX+Demo+type@asset", status=400)
    assert response.body == b""


def test_locked_asset(app, db, course, learner, enrollments):
    response = app.get(HANDOUT, status=403)
    assert response.body == b"Unauthorized"
    app.get(HANDOUT, headers=session_cookies(db, learner), status=403)
    enroll(enrollments, learner, DEMO_KEY, is_active=False)
    app.get(HANDOUT, headers=session_cookies(db, learner), status=403)
    enroll(enrollments, learner, DEMO_KEY)
    response = app.get(HANDOUT, headers=session_cookies(db, learner))
    assert response.body == PDF and response.content_type == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-cache, no-store"


def test_locked_asset_for_staff(app, db, course):
    teacher = create_user(db, "teacher", password=None)
    grant_role(db, teacher, "staff", parse_course_key(DEMO_KEY))
    db.commit()
    assert app.get(HANDOUT, headers=session_cookies(db, teacher)).body == PDF
    admin = create_user(db, "admin", password=None, is_staff=True)
    assert app.get(HANDOUT, headers=session_cookies(db, admin)).body == PDF


def test_the_browser_session_is_the_only_credential(app, db, course, learner, enrollments):
    enroll(enrollments, learner, DEMO_KEY)
    app.get(HANDOUT, headers=jwt_headers(app, learner), status=403)
    inactive = create_user(db, "inactive", password=None, is_active=False)
    enroll(enrollments, inactive, DEMO_KEY)
    app.get(HANDOUT, headers=session_cookies(db, inactive), status=403)


def test_code_library_is_for_course_staff_only(app, db, course, learner, enrollments):
    enroll(enrollments, learner, DEMO_KEY)
    app.get(CODE_LIBRARY, headers=session_cookies(db, learner), status=403)
    grant_role(db, learner, "staff", parse_course_key(DEMO_KEY))
    db.commit()
    response = app.get(CODE_LIBRARY, headers=session_cookies(db, learner))
    assert response.body == b"PK"
    assert response.headers["Cache-Control"] == "private, no-cache, no-store"


def test_only_safe_methods(app, course):
    app.post(IMAGE, status=405)
    assert app.head(IMAGE).headers["Content-Type"] == "image/png"
