"""``/api/third_party_auth/v0/``: providers/user_status, providers/{id}/users, users/."""
import json

import pytest
from pyramid.exceptions import ConfigurationError

from lms.testing import create_user, jwt_headers
from plugins.accounts.models import SocialAuthLink
from tests.plugins.accounts.test_preferences_support import (
    API_KEY,
    NOT_AUTHENTICATED,
    PERMISSION_DENIED,
    api_key_headers,
    bearer_headers,
    session_headers,
)

STATUS = "/api/third_party_auth/v0/providers/user_status"
MAPPING = "/api/third_party_auth/v0/providers/{}/users"
USERS = "/api/third_party_auth/v0/users/"
PROVIDERS = [
    {"backend_name": "google-oauth2", "name": "Google", "visible": True},
    {"type": "saml", "slug": "uni", "name": "University"},
    {"type": "lti", "consumer_key": "lms1", "name": "Campus LTI"},
    {"backend_name": "github", "name": "GitHub", "visible": True, "enabled": False},
]


@pytest.fixture
def settings(settings):
    settings["accounts.third_party_auth_providers"] = json.dumps(PROVIDERS)
    settings["lms.edx_api_key"] = API_KEY
    return settings


@pytest.fixture
def alice(db):
    return create_user(db, "alice")


@pytest.fixture
def bob(db):
    return create_user(db, "bob")


def link(db, user, provider, uid, **extra_data):
    row = SocialAuthLink(user_id=user.id, provider=provider, uid=uid, extra_data=extra_data)
    db.add(row)
    db.commit()
    return row


# -- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ("{not json", "is not JSON"),
    ('{"a": 1}', "must be a JSON list"),
    ('["google"]', "must be a JSON object"),
    ('[{"backend_name": "x", "colour": "red"}]', "unknown keys: colour"),
    ('[{"name": "No backend"}]', "backend_name is required"),
    ('[{"type": "oidc", "backend_name": "x"}]', "type must be one of"),
    ('[{"backend_name": "x", "visible": "yes"}]', "visible must be true or false"),
    ('[{"backend_name": "x"}, {"backend_name": "x"}]', "names oa2-x twice"),
])
def test_bad_provider_settings_stop_the_start_up(app_factory, value, message):
    with pytest.raises(ConfigurationError, match=message):
        app_factory(**{"accounts.third_party_auth_providers": value})


# -- providers/user_status -----------------------------------------------------------------------

def test_user_status(app, db, alice):
    saml = link(db, alice, "tpa-saml", "uni:alice-7")
    body = app.get(STATUS, headers=jwt_headers(app, alice)).json
    assert body == [
        {"id": "oa2-google-oauth2", "name": "Google", "connected": False,
         "connect_url": "/auth/login/google-oauth2/?auth_entry=account_settings",
         "accepts_logins": True, "disconnect_url": "/auth/disconnect/google-oauth2/?"},
        # Not shown at login, but listed because it is linked.
        {"id": "saml-uni", "name": "University", "connected": True,
         "connect_url": "/auth/login/tpa-saml/?auth_entry=account_settings&idp=uni",
         "accepts_logins": True, "disconnect_url": f"/auth/disconnect/tpa-saml/{saml.id}/?"},
    ]
    assert app.get(STATUS, headers=bearer_headers(db, alice)).json == body
    assert app.get(STATUS, headers=session_headers(app, db, alice)).json == body


def test_user_status_next_url_and_linked_lti(app_factory, db):
    app = app_factory(**{"accounts.third_party_auth_providers": json.dumps(PROVIDERS),
                         "accounts.account_microfrontend_url": "http://apps.local/account"})
    carol = create_user(db, "carol")
    lti = link(db, carol, "lti", "lms1:carol-lti")
    body = app.get(STATUS, headers=jwt_headers(app, carol)).json
    assert [entry["id"] for entry in body] == ["lti-lms1", "oa2-google-oauth2"]
    assert body[0] == {
        "id": "lti-lms1", "name": "Campus LTI", "connected": True,
        "connect_url": "/auth/login/lti/?auth_entry=account_settings"
                       "&next=http%3A%2F%2Fapps.local%2Faccount",
        "accepts_logins": False, "disconnect_url": f"/auth/disconnect/lti/{lti.id}/?"}


def test_user_status_without_providers_and_anonymous(app_factory, db):
    app = app_factory()
    carol = create_user(db, "carol")
    assert app.get(STATUS, headers=jwt_headers(app, carol)).json == []
    response = app.get(STATUS, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


# -- providers/{provider_id}/users -----------------------------------------------------------------

@pytest.fixture
def linked(db, alice, bob):
    link(db, alice, "tpa-saml", "uni:a-1", employee_id=["E-100"])
    link(db, bob, "tpa-saml", "uni:b-2")
    link(db, bob, "google-oauth2", "bob@gmail.example")
    link(db, alice, "tpa-saml", "other:a-9")  # another IdP of the same backend


def mapping_page(results):
    return {"next": None, "previous": None, "count": len(results), "num_pages": 1,
            "current_page": 1, "start": 0, "results": results}


def test_mapping_for_staff(app, db, linked):
    staff = create_user(db, "staffer", is_staff=True)
    body = app.get(MAPPING.format("saml-uni"), headers=jwt_headers(app, staff)).json
    assert body == mapping_page([{"username": "alice", "remote_id": "a-1"},
                                 {"username": "bob", "remote_id": "b-2"}])
    # An IdP slug after the id is accepted and ignored, as upstream.
    assert app.get(MAPPING.format("saml-uni:whatever"), headers=jwt_headers(app, staff)).json \
        == body
    body = app.get(MAPPING.format("oa2-google-oauth2"), headers=bearer_headers(db, staff)).json
    assert body == mapping_page([{"username": "bob", "remote_id": "bob@gmail.example"}])


def test_mapping_filters(app, db, linked):
    headers = api_key_headers()
    url = MAPPING.format("saml-uni")
    both = [{"username": "alice", "remote_id": "a-1"}, {"username": "bob", "remote_id": "b-2"}]
    assert app.get(url, {"username": "alice"}, headers=headers).json == mapping_page(both[:1])
    assert app.get(url + "?username=alice,bob", headers=headers).json == mapping_page(both)
    assert app.get(url + "?username=alice&username=bob", headers=headers).json == \
        mapping_page(both)
    assert app.get(url, {"remote_id": "b-2"}, headers=headers).json == mapping_page(both[1:])
    # Filters are OR-ed together.
    assert app.get(url + "?username=alice&remote_id=b-2", headers=headers).json == \
        mapping_page(both)
    assert app.get(url, {"username": "nobody"}, headers=headers).json == mapping_page([])
    assert app.get(url, {"username": ""}, headers=headers).json == mapping_page(both)
    body = app.get(url, {"remote_id_field_name": "employee_id"}, headers=headers).json
    assert body == mapping_page([{"username": "alice", "remote_id": "E-100"},
                                 {"username": "bob", "remote_id": None}])


def test_mapping_pages_and_queries(app, db, query_counter):
    headers = api_key_headers()
    url = MAPPING.format("oa2-google-oauth2")
    link(db, create_user(db, "user00"), "google-oauth2", "r00")
    with query_counter() as one:
        assert app.get(url, headers=headers).json["count"] == 1
    for number in range(1, 15):
        link(db, create_user(db, f"user{number:02}"), "google-oauth2", f"r{number:02}")
    with query_counter() as many:
        assert len(app.get(url, {"page_size": 15}, headers=headers).json["results"]) == 15
    assert len(one) == len(many)
    body = app.get(url, {"page": 2}, headers=headers).json
    assert body["count"] == 15 and body["current_page"] == 2 and len(body["results"]) == 5
    assert app.get(url, {"page": 3}, headers=headers, status=404).json == \
        {"detail": "Invalid page."}


@pytest.mark.parametrize("provider_id", ["oa2-github", "saml-nope", "google", "lti-"])
def test_mapping_unknown_or_disabled_provider_is_404(app, provider_id):
    response = app.get(MAPPING.format(provider_id), headers=api_key_headers(), status=404)
    assert response.json == {"detail": "Not found."}


def test_mapping_permissions(app, db, alice, linked):
    url = MAPPING.format("saml-uni")
    response = app.get(url, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert app.get(url, headers=jwt_headers(app, alice), status=403).json == PERMISSION_DENIED
    # Session authentication is not accepted here: a browser is anonymous.
    assert app.get(url, headers=session_headers(app, db, alice), status=401).json == \
        NOT_AUTHENTICATED
    superuser = create_user(db, "root", is_superuser=True)
    assert app.get(url, headers=jwt_headers(app, superuser)).json["count"] == 2
    # A learner holding the API key passes too (ApiKeyHeaderPermission).
    assert app.get(url, headers=dict(jwt_headers(app, alice), **api_key_headers())).json[
        "count"] == 2


def test_mapping_restricted_jwts(app, db, alice, linked):
    url = MAPPING.format("saml-uni")

    def restricted(scopes, filters):
        return jwt_headers(app, alice, scopes=scopes, filters=filters, is_restricted=True)

    assert app.get(url, headers=restricted(["tpa:read"], ["tpa_provider:saml-uni"])).json[
        "count"] == 2
    response = app.get(url, headers=restricted(["tpa:read"], ["tpa_provider:oa2-google-oauth2"]),
                       status=403)
    assert response.json == {"detail": "JWT missing required tpa_provider filter."}
    response = app.get(url, headers=restricted(["email"], ["tpa_provider:saml-uni"]), status=403)
    assert response.json == {"detail": "JWT missing required scopes."}


# -- users/ and users/{username} -------------------------------------------------------------------

def test_own_links(app, db, alice, linked):
    expected = {"active": [{"provider_id": "saml-uni", "name": "University",
                            "remote_id": "a-1"}]}
    headers = jwt_headers(app, alice)
    assert app.get(USERS, {"username": "alice"}, headers=headers).json == expected
    assert app.get(USERS, {"email": "alice@example.com"}, headers=headers).json == expected
    assert app.get(USERS + "alice", headers=headers).json == expected
    assert app.get(USERS + "alice@example.com", headers=headers).json == expected


def test_privileged_callers_see_anyone(app, db, alice, bob, linked):
    expected = {"active": [
        {"provider_id": "oa2-google-oauth2", "name": "Google", "remote_id": "bob@gmail.example"},
        {"provider_id": "saml-uni", "name": "University", "remote_id": "b-2"}]}
    superuser = create_user(db, "root", is_superuser=True)
    assert app.get(USERS, {"username": "bob"}, headers=jwt_headers(app, superuser)).json == \
        expected
    assert app.get(USERS, {"username": "bob"}, headers=api_key_headers()).json == expected
    assert app.get(USERS + "bob", headers=api_key_headers()).json == expected
    assert app.get(USERS, {"username": "ghost"}, headers=api_key_headers(),
                   status=404).body == b""
    assert app.get(USERS, {"username": "alice"}, headers=api_key_headers()).json == {
        "active": [{"provider_id": "saml-uni", "name": "University", "remote_id": "a-1"}]}
    create_user(db, "carol")
    assert app.get(USERS, {"username": "carol"}, headers=jwt_headers(app, superuser)).json == \
        {"active": []}


def test_unprivileged_queries_are_refused(app, db, alice, bob, linked):
    # Staff is not enough: only superusers and API-key holders are privileged.
    staff = create_user(db, "staffer", is_staff=True)
    for headers in (jwt_headers(app, alice), jwt_headers(app, staff), {}):
        response = app.get(USERS, {"username": "bob"}, headers=headers, status=403)
        assert response.body == b""
        assert app.get(USERS + "bob@example.com", headers=headers, status=403).body == b""


def test_email_wins_over_username(app, db, alice, bob, linked):
    body = app.get(USERS, {"username": "bob", "email": "alice@example.com"},
                   headers=jwt_headers(app, alice)).json
    assert body["active"][0]["remote_id"] == "a-1"


def test_a_parameter_is_required(app, alice):
    response = app.get(USERS, {"user": "alice"}, headers=jwt_headers(app, alice), status=400)
    assert response.json == ["Must provide one of ['email', 'username']"]


def test_unprivileged_queries_when_allowed(app_factory, db):
    app = app_factory(**{"accounts.third_party_auth_providers": json.dumps(PROVIDERS),
                         "accounts.allow_unprivileged_sso_provider_query": "true"})
    bob = create_user(db, "bob")
    link(db, bob, "google-oauth2", "bob-remote")
    expected = {"active": [{"provider_id": "oa2-google-oauth2", "name": "Google"}]}
    assert app.get(USERS, {"username": "bob"}).json == expected
    assert app.get(USERS + "bob").json == expected
    assert app.get(USERS, {"username": "nobody"}, status=404).body == b""


@pytest.mark.commits  # throttle hits commit apart from the request
def test_unprivileged_queries_are_throttled(app_factory, db):
    app = app_factory(**{"accounts.third_party_auth_providers": json.dumps(PROVIDERS),
                         "accounts.allow_unprivileged_sso_provider_query": "true",
                         "throttle.enabled": "true",
                         "accounts.tpa_provider_burst_throttle": "3/m"})
    alice = create_user(db, "alice")
    create_user(db, "bob")
    headers = jwt_headers(app, alice)
    for _ in range(3):
        app.get(USERS, {"username": "bob"}, headers=headers)
    response = app.get(USERS, {"username": "bob"}, headers=headers, status=429)
    assert response.json["detail"].startswith("Request was throttled. Expected available in ")
    assert int(response.headers["Retry-After"]) > 0
    # Asking about yourself is never throttled.
    for _ in range(5):
        app.get(USERS, {"username": "alice"}, headers=headers)


def test_values_holding_nul_match_nothing(app, db, alice, linked):
    url = MAPPING.format("saml-uni")
    assert app.get(url, {"username": "a\x00"}, headers=api_key_headers()).json == \
        mapping_page([])
    assert app.get(url + "?remote_id=a-1%00,b-2", headers=api_key_headers()).json == \
        mapping_page([{"username": "bob", "remote_id": "b-2"}])
    assert app.get(USERS, {"username": "x\x00"}, headers=api_key_headers(), status=404).body == b""
