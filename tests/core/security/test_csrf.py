"""CSRF over HTTPS without an Origin header: the strict Referer check of Django's
CsrfViewMiddleware (issue 7, defect 6)."""
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms import auth
from lms.models import LoginSession
from lms.timeutil import utcnow

FAKE = "/api/fake/v1/standard/"
V1 = "/api/user/v1/account/login_session/"
HTTPS = {"wsgi.url_scheme": "https"}
# Django's CsrfViewMiddleware reasons, as DRF's enforce_csrf words them.
NO_REFERER = "CSRF Failed: Referer checking failed - no Referer."
MALFORMED = "CSRF Failed: Referer checking failed - Referer is malformed."
INSECURE = "CSRF Failed: Referer checking failed - Referer is insecure while host is secure."


def bad_referer(url):
    return f"CSRF Failed: Referer checking failed - {url} does not match any trusted origins."


def bad_origin(origin):
    return f"CSRF Failed: Origin checking failed - {origin} does not match any trusted origins."


def browser_headers(app, db, user=None, **extra):
    """A browser's cookies (session when ``user``, CSRF) and a valid X-CSRFToken."""
    config = app.registry["lms.auth_config"]
    secret = auth.new_csrf_secret()
    cookies = {config.csrf_cookie_name: secret}
    if user is not None:
        key = secrets.token_urlsafe(32)
        db.add(LoginSession(key_hash=auth.token_digest(key), user_id=user.id,
                            expires=utcnow() + timedelta(hours=1)))
        db.commit()
        cookies[config.session_cookie_name] = auth.sign(config.secret_key, key)
    headers = {"X-CSRFToken": auth.mask_csrf(secret),
               "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
    headers.update(extra)
    return headers


def session_write(app, db, user, status, environ=HTTPS, **headers):
    return app.post_json(FAKE, {"number": 7}, headers=browser_headers(app, db, user, **headers),
                         extra_environ=environ, status=status)


def session_count(db):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(LoginSession))


# -- session writes (DRF's JSON 403) --------------------------------------------------------

@pytest.mark.parametrize("referer, detail", [
    (None, NO_REFERER),
    ("https://evil.example/steal", bad_referer("https://evil.example/steal")),
    ("https://localhost.evil.example/", bad_referer("https://localhost.evil.example/")),
    ("http://localhost/courses", INSECURE),
    ("localhost/courses", MALFORMED),
    ("https:///courses", MALFORMED),
    ("https://[::1/", MALFORMED),
])
def test_https_session_write_without_origin_needs_a_same_origin_referer(app, db, alice,
                                                                        referer, detail):
    headers = {} if referer is None else {"Referer": referer}
    response = session_write(app, db, alice, 403, **headers)
    assert response.json == {"detail": detail}


def test_https_session_write_with_same_origin_referer_is_accepted(app, db, alice):
    response = session_write(app, db, alice, 200, Referer="https://localhost/courses/x")
    assert response.json == {"user": "alice", "number": 7}


def test_trusted_origins_and_their_wildcards_are_trusted_referers(make_app, db, alice):
    app = make_app(**{"csrf.trusted_origins": "https://apps.example.com https://*.example.org"})
    for referer in ("https://apps.example.com/learning/", "https://learning.example.org/x",
                    "https://example.org/"):
        assert session_write(app, db, alice, 200, Referer=referer).json["user"] == "alice"
    for referer in ("https://other.example.com/", "https://example.org.evil.net/"):
        response = session_write(app, db, alice, 403, Referer=referer)
        assert response.json == {"detail": bad_referer(referer)}
    # The wildcard works for Origin headers too, scheme included.
    session_write(app, db, alice, 200, Origin="https://learning.example.org")
    response = session_write(app, db, alice, 403, Origin="http://learning.example.org")
    assert response.json == {"detail": bad_origin("http://learning.example.org")}


def test_cookie_domain_is_a_trusted_referer(make_app, db, alice):
    app = make_app(**{"session.cookie_domain": ".example.com"})
    environ = dict(HTTPS, HTTP_HOST="lms.example.com")
    session_write(app, db, alice, 200, environ, Referer="https://apps.example.com/learning")
    response = session_write(app, db, alice, 403, environ, Referer="https://example.net/")
    assert response.json == {"detail": bad_referer("https://example.net/")}


def test_origin_replaces_the_referer_check(app, db, alice):
    # A same-origin Origin header is enough (Django checks the Referer only without it).
    session_write(app, db, alice, 200, Origin="https://localhost")
    response = session_write(app, db, alice, 403, Origin="https://evil.example",
                             Referer="https://localhost/")
    assert response.json == {"detail": bad_origin("https://evil.example")}
    # An empty Origin header is an Origin that matches nothing.
    response = session_write(app, db, alice, 403, Origin="")
    assert response.json == {"detail": bad_origin("")}


def test_plain_http_does_not_check_the_referer(app, db, alice):
    assert session_write(app, db, alice, 200, environ={}).json["user"] == "alice"


def test_x_forwarded_proto_alone_does_not_make_a_request_secure(app, db, alice):
    """Only the server (waitress, from a trusted proxy) sets the scheme; the app never
    reads the header, so it cannot be used to switch checks on or off."""
    response = session_write(app, db, alice, 200, environ={}, **{"X-Forwarded-Proto": "https"})
    assert response.json["user"] == "alice"
    response = session_write(app, db, alice, 403, **{"X-Forwarded-Proto": "http"})
    assert response.json == {"detail": NO_REFERER}


def test_safe_methods_are_not_checked(app, db, alice):
    response = app.get(FAKE, headers=browser_headers(app, db, alice), extra_environ=HTTPS)
    assert response.json == {"user": "alice"}


# -- session login and logout (Django's HTML 403) -------------------------------------------

def test_https_login_with_foreign_referer_is_refused_and_logs_nobody_in(app, db, alice):
    form = {"email": "alice@example.com", "password": "s3cret-pass"}
    referer = "https://evil.example/<script>"
    response = app.post(V1, form, headers=browser_headers(app, db, Referer=referer),
                        extra_environ=HTTPS, status=403)
    assert response.content_type == "text/html"
    assert "CSRF verification failed. Request aborted." in response.text
    assert ("Referer checking failed - https://evil.example/&lt;script&gt; does not match "
            "any trusted origins.") in response.text
    assert "<script>" not in response.text
    response = app.post(V1, form, headers=browser_headers(app, db), extra_environ=HTTPS,
                        status=403)
    assert "Referer checking failed - no Referer." in response.text
    assert session_count(db) == 0
    response = app.post(V1, form, headers=browser_headers(app, db, Referer="https://localhost/"),
                        extra_environ=HTTPS)
    assert response.json["success"] is True and session_count(db) == 1


def test_https_logout_post_with_foreign_referer_keeps_the_session(app, db, alice):
    headers = browser_headers(app, db, alice, Referer="https://evil.example/")
    response = app.post("/logout", headers=headers, extra_environ=HTTPS, status=403)
    assert "Referer checking failed" in response.text
    assert session_count(db) == 1
    headers = browser_headers(app, db, alice, Referer="https://localhost/account")
    app.post("/logout", headers=headers, extra_environ=HTTPS, status=302)
    assert session_count(db) == 1  # the first session; the second one is gone

