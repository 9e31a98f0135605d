"""GET /api/mfe_context and /api/third_party_auth_context (the authn MFE's context)."""
import json
import re

import pytest

from lms.testing import create_user, jwt_headers

PATHS = ["/api/mfe_context", "/api/third_party_auth_context"]
EMPTY_CONTEXT = {
    "contextData": {
        "currentProvider": None,
        "platformName": "openlms",
        "providers": [],
        "secondaryProviders": [],
        "finishAuthUrl": None,
        "errorMessage": None,
        "registerFormSubmitButtonText": "Create Account",
        "autoSubmitRegForm": False,
        "syncLearnerProfileData": False,
        "countryCode": None,
        "welcomePageRedirectUrl": None,
        "pipelineUserDetails": {},
    },
    "registrationFields": {"fields": {}},
    "optionalFields": {"fields": {}, "extended_profile": []},
}
PROVIDERS = json.dumps([
    {"backend_name": "google-oauth2", "name": "Google", "visible": True,
     "icon_class": "fa-google"},
    {"type": "saml", "slug": "campus", "name": "Campus", "visible": True, "secondary": True,
     "icon_image": "https://cdn.example.com/campus.png", "skip_registration_form": True},
    {"backend_name": "github", "name": "GitHub", "visible": False,
     "skip_hinted_login_dialog": True},
])


@pytest.mark.parametrize("path", PATHS)
def test_without_providers_the_shapes_are_empty(app, path):
    response = app.get(path)
    assert response.json == EMPTY_CONTEXT


@pytest.mark.parametrize("path", PATHS)
def test_authenticated_callers_get_the_same_context(app, db, path):
    alice = create_user(db, "alice")
    assert app.get(path, headers=jwt_headers(app, alice)).json == EMPTY_CONTEXT


def test_page_flags_and_unknown_parameters_change_nothing(app):
    response = app.get(PATHS[0], {"is_register_page": "true", "is_welcome_page": "true",
                                  "whatever": "1"})
    assert response.json == EMPTY_CONTEXT


def test_configured_providers(app_factory):
    app = app_factory(**{"accounts.third_party_auth_providers": PROVIDERS})
    context = app.get(PATHS[0]).json["contextData"]
    assert context["providers"] == [{
        "id": "oa2-google-oauth2", "name": "Google", "iconClass": "fa-google", "iconImage": None,
        "skipHintedLogin": False, "skipRegistrationForm": False,
        "loginUrl": "/auth/login/google-oauth2/?auth_entry=login&next=%2Fdashboard",
        "registerUrl": "/auth/login/google-oauth2/?auth_entry=register&next=%2Fdashboard",
    }]
    assert context["secondaryProviders"] == [{
        "id": "saml-campus", "name": "Campus", "iconClass": "fa-sign-in",
        "iconImage": "https://cdn.example.com/campus.png", "skipHintedLogin": False,
        "skipRegistrationForm": True,
        "loginUrl": "/auth/login/tpa-saml/?auth_entry=login&next=%2Fdashboard&idp=campus",
        "registerUrl": "/auth/login/tpa-saml/?auth_entry=register&next=%2Fdashboard&idp=campus",
    }]


def test_tpa_hint_shows_a_hidden_provider(app_factory):
    app = app_factory(**{"accounts.third_party_auth_providers": PROVIDERS})
    names = [provider["name"] for provider in
             app.get(PATHS[1], {"tpa_hint": "oa2-github"}).json["contextData"]["providers"]]
    assert names == ["GitHub", "Google"]


@pytest.mark.parametrize("query, accept, expected", [
    ({"next": "/courses/x/about"}, "text/html", "%2Fcourses%2Fx%2Fabout"),
    ({"next": "https://evil.example/"}, "text/html", "%2Fdashboard"),
    ({"next": "/courses/x/about"}, None, "%2Fdashboard"),
])
def test_next_is_kept_only_when_safe(app_factory, query, accept, expected):
    app = app_factory(**{"accounts.third_party_auth_providers": PROVIDERS})
    headers = {"Accept": accept} if accept else {}
    provider = app.get(PATHS[0], query, headers=headers).json["contextData"]["providers"][0]
    assert provider["loginUrl"] == f"/auth/login/google-oauth2/?auth_entry=login&next={expected}"


def test_anonymous_callers_are_throttled(app_factory, db):
    app = app_factory(**{"throttle.enabled": "true", "accounts.logistration_api_rate": "2/m"})
    app.get(PATHS[0])
    app.get(PATHS[1])
    response = app.get(PATHS[0], status=429)
    assert re.fullmatch(r"Request was throttled\. Expected available in \d+ seconds\.",
                        response.json["detail"])
    assert "Retry-After" in response.headers
    alice = create_user(db, "alice")
    app.get(PATHS[0], headers=jwt_headers(app, alice))


def test_bad_credentials_are_refused(app):
    response = app.get(PATHS[0], headers={"Authorization": "JWT not-a-token"}, status=401)
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


@pytest.mark.parametrize("path", PATHS)
def test_only_get(app, path):
    assert app.post(path, status=405).headers["Allow"] == "GET, HEAD"
