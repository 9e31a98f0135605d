"""POST /i18n/setlang/ (Django's set_language, called by the account MFE) and /dashboard."""
import pytest

from lms import auth

MFE = "http://localhost:1997"
COOKIE = "openedx-language-preference"


def csrf_headers(app, **extra):
    secret = auth.new_csrf_secret()
    app.set_cookie(app.registry["lms.auth_config"].csrf_cookie_name, secret)
    return {"X-CSRFToken": auth.mask_csrf(secret), **extra}


def language_cookies(response):
    return [value for name, value in response.headerlist
            if name == "Set-Cookie" and value.startswith(COOKIE + "=")]


@pytest.fixture
def mfe_app(app_factory):
    return app_factory(**{"cors.origins": MFE, "csrf.trusted_origins": MFE,
                          "session.cookie_domain": ".example.com"})


def test_account_mfe_post_sets_the_cookie_and_answers_204(mfe_app):
    # What the account MFE sends: multipart FormData, Accept: application/json.
    headers = csrf_headers(mfe_app, Origin=MFE, Accept="application/json",
                           **{"X-Requested-With": "XMLHttpRequest"})
    response = mfe_app.post("/i18n/setlang/", {"language": "fr"}, headers=headers,
                            content_type="multipart/form-data", status=204)
    assert response.body == b""
    [cookie] = language_cookies(response)
    assert cookie == f"{COOKIE}=fr; Domain=.example.com; Path=/; SameSite=Lax"
    assert response.headers["Access-Control-Allow-Origin"] == MFE


def test_without_trailing_slash_and_regional_code(mfe_app):
    headers = csrf_headers(mfe_app, Accept="application/json")
    response = mfe_app.post("/i18n/setlang", {"language": "pt-br"}, headers=headers, status=204)
    assert language_cookies(response)[0].startswith(f"{COOKIE}=pt-br;")


@pytest.mark.parametrize("language", ["", "xx", "not a language", "fr/../../", "q" * 30])
def test_unknown_language_sets_nothing(mfe_app, language):
    headers = csrf_headers(mfe_app, Accept="application/json")
    response = mfe_app.post("/i18n/setlang/", {"language": language}, headers=headers,
                            status=204)
    assert language_cookies(response) == []


def test_html_caller_is_redirected_to_next_or_referer(mfe_app):
    headers = csrf_headers(mfe_app, Accept="text/html")
    response = mfe_app.post("/i18n/setlang/", {"language": "es", "next": "/api-docs/"},
                            headers=headers, status=302)
    assert response.location.endswith("/api-docs/")
    assert language_cookies(response)[0].startswith(f"{COOKIE}=es;")
    response = mfe_app.post("/i18n/setlang/", {"language": "es"},
                            headers={**headers, "Referer": MFE + "/account/"}, status=302)
    assert response.location == MFE + "/account/"
    # An unsafe next or referer falls back to /.
    response = mfe_app.post("/i18n/setlang/", {"language": "es", "next": "https://evil.test/"},
                            headers={**headers, "Referer": "https://evil.test/x"}, status=302)
    assert response.location.endswith("/") and "evil" not in response.location


def test_csrf_is_required_even_anonymous(mfe_app):
    response = mfe_app.post("/i18n/setlang/", {"language": "fr"},
                            headers={"Accept": "application/json"}, status=403)
    assert language_cookies(response) == []


def test_get_only_redirects(mfe_app):
    response = mfe_app.get("/i18n/setlang/?language=fr&next=/heartbeat",
                           headers={"Accept": "text/html"}, status=302)
    assert response.location.endswith("/heartbeat")
    assert language_cookies(response) == []
    response = mfe_app.get("/i18n/setlang/", headers={"Accept": "application/json"}, status=204)
    assert language_cookies(response) == []


def test_malformed_body_is_a_4xx(mfe_app):
    # Multipart without a boundary (webtest's post would add one).
    headers = csrf_headers(mfe_app, Accept="application/json")
    response = mfe_app.request("/i18n/setlang/", method="POST", body=b"--x\r\n",
                               headers={**headers, "Content-Type": "multipart/form-data"},
                               expect_errors=True)
    assert response.status_int == 400
    assert response.json == {"detail": "Multipart form parse error - Invalid boundary in "
                                       "multipart: None"}
    assert language_cookies(response) == []


def test_dashboard_goes_to_the_landing_page_or_the_learner_dashboard(app_factory):
    app = app_factory()
    assert app.get("/dashboard", status=302).location.endswith("/")
    assert app.get("/dashboard", status=302).location.rstrip("/").count("/") == 2
    configured = app_factory(**{"lms.learner_dashboard_url": "https://apps.example.com/learner-dashboard/"})
    response = configured.get("/dashboard", status=302)
    assert response.location == "https://apps.example.com/learner-dashboard/"
