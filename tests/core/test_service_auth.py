"""The Service machinery: authentication classes, 401/403 rules, error styles."""
import pytest

from lms.testing import create_user, jwt_headers


@pytest.fixture
def app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    return app_factory()


def test_anonymous_get_allowed_when_declared(app):
    assert app.get("/api/fake/v1/standard/").json == {"user": None}


def test_trailing_slash_optional(app):
    assert app.get("/api/fake/v1/standard").json == {"user": None}


def test_jwt_first_anonymous_is_401_with_www_authenticate(app):
    response = app.post_json("/api/fake/v1/standard/", {"number": 1}, status=401)
    assert response.json == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


def test_developer_style_anonymous_is_401_without_header(app):
    response = app.get("/api/fake/v1/developer", status=401)
    assert response.json == {"developer_message": "Authentication credentials were not provided."}
    assert "WWW-Authenticate" not in response.headers


def test_session_first_anonymous_is_403(app):
    response = app.get("/api/fake/v1/session-first/", status=403)
    assert response.json == {"detail": "Authentication credentials were not provided."}


def test_jwt_authenticates(app, db):
    user = create_user(db, "alice")
    response = app.post_json("/api/fake/v1/standard/", {"number": 3},
                             headers=jwt_headers(app, user))
    assert response.json == {"user": "alice", "number": 3}


def test_forged_jwt_is_401(app, db):
    user = create_user(db, "alice")
    headers = jwt_headers(app, user)
    headers["Authorization"] = headers["Authorization"][:-3] + "abc"
    response = app.get("/api/fake/v1/standard/", headers=headers, status=401)
    assert response.json == {"detail": "Invalid token."}


def test_expired_jwt_is_401(app, db):
    user = create_user(db, "alice")
    response = app.get("/api/fake/v1/standard/", status=401,
                       headers=jwt_headers(app, user, now=1000, expires_in=10))
    assert response.json == {"detail": "Token has expired."}


def test_unknown_bearer_is_401(app):
    response = app.get("/api/fake/v1/standard/", headers={"Authorization": "Bearer nope"},
                       status=401)
    assert response.json["error_code"] == "token_nonexistent"


def test_validation_errors_in_drf_shape(app, db):
    user = create_user(db, "alice")
    headers = jwt_headers(app, user)
    response = app.post_json("/api/fake/v1/standard/", {"number": "x"}, headers=headers,
                             status=400)
    assert response.json == {"number": ["A valid integer is required."]}
    response = app.post_json("/api/fake/v1/standard/", {"number": 1, "extra": 2},
                             headers=headers, status=400)
    assert "extra" in str(response.json)


def test_malformed_json_is_400(app, db):
    user = create_user(db, "alice")
    headers = dict(jwt_headers(app, user), **{"Content-Type": "application/json"})
    response = app.post("/api/fake/v1/standard/", "{not json", headers=headers, status=400)
    assert response.json["detail"].startswith("JSON parse error")


def test_method_not_allowed_has_allow(app):
    response = app.delete("/api/fake/v1/standard/", status=405)
    assert response.json == {"detail": 'Method "DELETE" not allowed.'}
    assert "GET" in response.headers["Allow"]


def test_restricted_jwt_refused(app, db):
    user = create_user(db, "alice")
    response = app.get("/api/fake/v1/developer", status=403,
                       headers=jwt_headers(app, user, is_restricted=True))
    assert "developer_message" in response.json


def test_api_key_header_is_honoured_when_configured(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    app = app_factory(**{"lms.edx_api_key": "s3cret-key"})
    response = app.get("/api/fake/v1/api-key/", headers={"X-Edx-Api-Key": "s3cret-key"})
    assert response.json == {"user": None, "api_key": True}
    app.get("/api/fake/v1/api-key/", headers={"X-Edx-Api-Key": "wrong"}, status=401)


def test_api_key_ignored_when_not_configured(app):
    app.get("/api/fake/v1/api-key/", headers={"X-Edx-Api-Key": ""}, status=401)


def test_cors_for_configured_origin(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    app = app_factory(**{"cors.origins": "http://apps.example.com"})
    response = app.options("/api/fake/v1/standard/", headers={
        "Origin": "http://apps.example.com", "Access-Control-Request-Method": "POST"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://apps.example.com"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "x-csrftoken" in response.headers["Access-Control-Allow-Headers"]
    response = app.get("/api/fake/v1/standard/", headers={"Origin": "http://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_jwt_user_unknown_is_created(app, db):
    from lms.models import User
    from lms.users import get_by_username

    ghost = User(username="ghost", email="ghost@example.com", anonymous_id="a" * 32,
                 is_active=True, is_staff=False, is_superuser=False, name="")
    response = app.post_json("/api/fake/v1/standard/", {"number": 1},
                             headers=jwt_headers(app, ghost))
    assert response.json["user"] == "ghost"
    assert get_by_username(db, "ghost").email == "ghost@example.com"


def test_inactive_user_with_jwt_is_allowed(app, db):
    user = create_user(db, "sleepy", is_active=False)
    assert app.get("/api/fake/v1/standard/", headers=jwt_headers(app, user)).json == {
        "user": "sleepy"}


def test_oversized_body_is_413(app_factory, add_plugins, db):
    add_plugins("tests.core.fakeplugin")
    app = app_factory(**{"lms.max_request_body_bytes": "100"})
    user = create_user(db, "alice")
    response = app.post_json("/api/fake/v1/standard/", {"number": 1, "pad": "x" * 200},
                             headers=jwt_headers(app, user), status=413)
    assert response.json["detail"].startswith("Request body too large")


def test_json_body_must_be_an_object(app, db):
    user = create_user(db, "alice")
    response = app.post_json("/api/fake/v1/standard/", [1, 2], headers=jwt_headers(app, user),
                             status=400)
    assert response.json


def test_undecodable_query_string_is_400(app):
    # The paginated view reads request.GET, where WebOb decodes lazily.
    response = app.get("/api/fake/v1/users-pages/?page=%ff%fe", status=400)
    assert response.json == {"detail": "The request is not valid UTF-8."}


def test_unknown_keys_reported_per_field(app, db):
    user = create_user(db, "alice")
    response = app.post_json("/api/fake/v1/standard/", {"number": 1, "zeta": 1, "alpha": 2},
                             headers=jwt_headers(app, user), status=400)
    assert response.json == {"alpha": ["This field is not allowed."],
                             "zeta": ["This field is not allowed."]}


def test_unicode_digits_are_not_integers(app, db):
    user = create_user(db, "alice")
    response = app.post_json("/api/fake/v1/standard/", {"number": "²"},
                             headers=jwt_headers(app, user), status=400)
    assert response.json == {"number": ["A valid integer is required."]}


def test_head_follows_get_rules(app):
    # anonymous=("GET",): HEAD allowed too; anonymous=True services also answer HEAD.
    assert app.head("/api/fake/v1/standard/").status_int == 200
    assert app.head("/api/fake/v1/users-pages/").status_int == 200
    app.head("/api/fake/v1/developer", status=401)


def test_developer_style_rewraps_bad_credentials(app, db):
    user = create_user(db, "alice")
    headers = jwt_headers(app, user)
    headers["Authorization"] = headers["Authorization"][:-3] + "abc"
    response = app.get("/api/fake/v1/developer", headers=headers, status=401)
    assert response.json == {"developer_message": "Invalid token."}
    assert "WWW-Authenticate" not in response.headers
    response = app.get("/api/fake/v1/developer", headers={"Authorization": "Bearer nope"},
                       status=401)
    assert response.json["developer_message"]["error_code"] == "token_nonexistent"
