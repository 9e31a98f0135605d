"""Bad request bodies on real accounts endpoints: 400 with the parser's message, nothing
stored; and the legacy registration paths upstream still routes (lms.request)."""
import pytest
from sqlalchemy import func, select

from lms.models import User
from lms.testing import jwt_headers
from plugins.accounts import api
from tests.plugins.accounts.test_accounts import make_user
from tests.plugins.accounts.test_registration import V1, V2, valid_form

VALIDATION = "/api/user/v1/validation/registration"
MERGE_PATCH = "application/merge-patch+json"
NO_BOUNDARY = "Multipart form parse error - Invalid boundary in multipart: None"
SURROGATE = ("JSON parse error - 'utf-8' codec can't encode character '\\ud800' in position 0: "
             "surrogates not allowed")
NAN = "JSON parse error - Out of range float values are not JSON compliant: 'NaN'"
INFINITY = "JSON parse error - Out of range float values are not JSON compliant: 'Infinity'"
# b'{"name": "\xff"}': the byte after the opening quote.
BAD_UTF8 = ("JSON parse error - 'utf-8' codec can't decode byte 0xff in position 10: "
            "invalid start byte")
DEEP = b"[" * 100_000 + b"]" * 100_000

# (content type, body, expected message; None: a recursion-depth parse error)
BAD_BODIES = {
    "multipart-without-boundary": ("multipart/form-data", b"username=mallory", NO_BOUNDARY),
    "json-nested-100000-levels": ("application/json", DEEP, None),
    "json-lone-surrogate": ("application/json", b'{"name": "\\ud800"}', SURROGATE),
    "json-nan": ("application/json", b'{"name": NaN}', NAN),
    "json-infinity": ("application/json", b'{"name": Infinity}', INFINITY),
    "json-invalid-utf8": ("application/json", b'{"name": "\xff"}', BAD_UTF8),
}


def assert_parse_error(response, message):
    assert list(response.json) == ["detail"]
    if message is None:
        assert response.json["detail"].startswith(
            "JSON parse error - maximum recursion depth exceeded")
    else:
        assert response.json == {"detail": message}


def user_count(db):
    return db.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize("url", [V1, V2, VALIDATION])
@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_anonymous_registration_endpoints_refuse_bad_bodies(app, db, url, kind):
    content_type, body, message = BAD_BODIES[kind]
    response = app.post(url, body, headers={"Content-Type": content_type}, status=400)
    assert_parse_error(response, message)
    assert user_count(db) == 0


@pytest.mark.parametrize("kind", list(BAD_BODIES))
def test_account_patch_refuses_bad_bodies(app, db, kind):
    content_type, body, message = BAD_BODIES[kind]
    if content_type == "application/json":
        content_type = MERGE_PATCH
    alice = make_user(db, "alice")
    headers = dict(jwt_headers(app, alice), **{"Content-Type": content_type})
    if kind == "multipart-without-boundary":
        # The view parses merge-patch only: any other type is a 415 before parsing.
        response = app.patch("/api/user/v1/accounts/alice", body, headers=headers, status=415)
        assert response.json == {
            "detail": 'Unsupported media type "multipart/form-data" in request.'}
    else:
        response = app.patch("/api/user/v1/accounts/alice", body, headers=headers, status=400)
        assert_parse_error(response, message)
    db.expire_all()
    assert db.get(User, alice.id).name == "Alice"
    profile = api.get_profile(db, alice.id)
    assert profile is None or profile.bio is None


def test_registration_reads_a_multipart_form(app, db):
    boundary = "xyzzy"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n" for name, value in valid_form().items())
    body = (parts + f"--{boundary}--\r\n").encode()
    app.post(V2, body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert db.scalars(select(User.username)).all() == ["alice"]


def test_registration_refuses_unsupported_media_types(app, db):
    response = app.post(V1, b"username=x", headers={"Content-Type": "text/plain"}, status=415)
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}
    assert user_count(db) == 0


# -- legacy paths -------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/user_api/v1/account/registration/", "/create_account"])
def test_legacy_registration_paths_create_accounts(app, db, url):
    response = app.post(url, valid_form())
    assert response.json["success"] is True
    assert response.json["authenticated_user"]["username"] == "alice"
    assert db.scalars(select(User.username)).all() == ["alice"]
    # The same view: a duplicate is the same 409.
    response = app.post(url, valid_form(), status=409)
    assert response.json["error_code"] == "duplicate-email-username"


def test_legacy_paths_keep_their_api_version(app_factory, db):
    app = app_factory(**{"accounts.registration_extra_fields":
                         "confirm_email=required honor_code=required"})
    # /user_api/v1/ is v1, which never asks for confirm_email ...
    app.post("/user_api/v1/account/registration/", valid_form())
    # ... /create_account is not a v1 path (upstream is_registration_api_v1).
    response = app.post("/create_account", valid_form(username="bob", email="bob@example.com"),
                        status=400)
    assert response.json["error_code"] == "validation-error"
    assert "confirm_email" in response.json
    assert db.scalars(select(User.username)).all() == ["alice"]


def test_legacy_paths_refuse_bad_bodies(app, db):
    for url in ("/user_api/v1/account/registration/", "/create_account"):
        response = app.post(url, b"x=1", headers={"Content-Type": "multipart/form-data"},
                            status=400)
        assert response.json == {"detail": NO_BOUNDARY}
    assert user_count(db) == 0
