"""my_user_info and users/{username}: who the caller is, per version."""
import pytest
import requests

from lms.models import User
from lms.oauth import create_application
from lms.testing import create_user, jwt_headers
from tests.plugins.mobile.conftest import DEMO_KEY, VERSIONS

ENDPOINTS = (
    ("GET", "/api/mobile/v1/my_user_info"),
    ("GET", "/api/mobile/v1/users/alice"),
    ("GET", "/api/mobile/v1/users/alice/course_enrollments/"),
    ("GET", f"/api/mobile/v1/users/alice/course_status_info/{DEMO_KEY}"),
    ("PATCH", f"/api/mobile/v1/users/alice/course_status_info/{DEMO_KEY}"),
    ("POST", "/api/mobile/v1/course_info/record_user_activity"),
    ("GET", f"/api/mobile/v1/course_info/{DEMO_KEY}/handouts"),
    ("GET", f"/api/mobile/v1/course_info/{DEMO_KEY}/updates"),
)


@pytest.mark.parametrize("version", VERSIONS)
def test_my_user_info_redirects_to_the_callers_resource(app, db, alice, as_alice, version):
    response = app.get(f"/api/mobile/{version}/my_user_info", headers=as_alice, status=302)
    assert response.headers["Location"].endswith(f"/api/mobile/{version}/users/alice")
    db.expire_all()
    assert db.get(User, alice.id).last_login is not None  # the user_logged_in signal


@pytest.mark.parametrize("version", VERSIONS)
def test_user_detail(app, alice, as_alice, version):
    body = app.get(f"/api/mobile/{version}/users/alice", headers=as_alice).json
    assert body == {
        "id": alice.id, "username": "alice", "email": "alice@example.com",
        "name": "Alice Liddell",
        "course_enrollments": f"http://localhost/api/mobile/{version}/users/alice/"
                              "course_enrollments/",
    }


def test_user_in_url_ignores_case(app, alice, as_alice):
    assert app.get("/api/mobile/v1/users/ALICE", headers=as_alice).json["username"] == "alice"


def test_another_learner_is_hidden_and_staff_refused(app, alice, bob, staff):
    assert app.get("/api/mobile/v1/users/alice", headers=jwt_headers(app, bob),
                   status=404).json == {"detail": "Not found."}
    assert app.get("/api/mobile/v1/users/nobody", headers=jwt_headers(app, bob),
                   status=404).json == {"detail": "Not found."}
    assert app.get("/api/mobile/v1/users/alice", headers=jwt_headers(app, staff),
                   status=403).json == {
        "detail": "You do not have permission to perform this action."}


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_anonymous_callers_get_401(app, method, path):
    response = app.request(path, method=method, status=401, expect_errors=True)
    assert response.json == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


@pytest.mark.parametrize("version", ("v0.4", "v5", "v1.0", "latest"))
def test_unknown_versions_are_not_served(app, alice, as_alice, version):
    app.get(f"/api/mobile/{version}/users/alice", headers=as_alice, status=404)
    app.get(f"/api/mobile/{version}/my_user_info", headers=as_alice, status=404)


@pytest.mark.commits
def test_a_bearer_client_follows_the_redirect(app, db, live_server):
    """The apps log in with the password grant, then follow my_user_info's redirect
    with the same Bearer token."""
    owner = create_user(db, "svc", is_staff=True)
    application, _ = create_application(db, name="mobile", user=owner, grant_type="password",
                                        public=True)
    create_user(db, "carol", password="s3cret-pass", name="Carol Danvers")
    db.commit()
    token = requests.post(live_server + "/oauth2/access_token", data={
        "grant_type": "password", "client_id": application.client_id, "username": "carol",
        "password": "s3cret-pass"}, timeout=10).json()["access_token"]
    response = requests.get(live_server + "/api/mobile/v1/my_user_info", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [302]
    assert response.json()["name"] == "Carol Danvers"
    assert response.json()["course_enrollments"] == (
        f"{live_server}/api/mobile/v1/users/carol/course_enrollments/")
