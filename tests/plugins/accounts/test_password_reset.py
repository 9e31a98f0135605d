"""Password reset: request a link, validate the token, set the new password (plugins.accounts)."""
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import auth
from lms.models import LoginFailure, LoginSession, OAuthAccessToken, User
from lms.oauth import create_application
from lms.testing import create_user, jwt_headers, verify_password
from lms.timeutil import utcnow
from plugins.accounts.models import UserRetirementRequest
from plugins.accounts.config import get_config
from plugins.accounts.password_reset import int_to_base36, make_reset_token

FORM = "/api/user/v1/account/password_reset/"
VALIDATE = "/api/user/v1/account/password_reset/token/validate/"
VALIDATE_LEGACY = "/user_api/v1/account/password_reset/token/validate/"
REQUEST = "/account/password"
LEGACY_REQUEST = "/password_reset/"
LOGIN = "/api/user/v1/account/login_session/"
IN_PROGRESS = "Your previous request is in progress, please try again in a few moments."
GENERIC = "An error has occurred. Try refreshing the page, or check your internet connection."
LINK_RE = re.compile(r"http://localhost/password_reset_confirm/([0-9a-z]+)-([0-9a-z]+-[0-9a-f]+)"
                     r"/\?track=pwreset")


@pytest.fixture
def alice(db):
    return create_user(db, "alice", password="old-pass-1")


def outbox(app):
    return app.registry["lms.mail_outbox"]


def text_of(message):
    return message.get_body(("plain",)).get_content()


def csrf_token(app):
    return app.get("/csrf/api/v1/token").json["csrfToken"]


def request_reset(app, email="alice@example.com", status=200, **fields):
    data = {"email": email, **fields} if email is not None else fields
    return app.post(REQUEST, data, headers={"X-CSRFToken": csrf_token(app)}, status=status)


def token_for(app, user):
    return f"{int_to_base36(user.id)}-{make_reset_token(app.registry.settings, user)}"


def reset(app, token, password="new-pass-2", confirmation=None, status=200, headers=None):
    return app.post(f"/password/reset/{token}/", {
        "new_password1": password,
        "new_password2": password if confirmation is None else confirmation,
    }, status=status, headers=headers)


def reloaded(db, user):
    db.expire_all()
    return db.get(User, user.id)


def login(app, email, password, status=200):
    return app.post(LOGIN, {"email": email, "password": password},
                    headers={"X-CSRFToken": csrf_token(app)}, status=status)


# -- the form --------------------------------------------------------------------------

def test_form_description(app):
    response = app.get(FORM)
    assert response.json == {"method": "post", "submit_url": "/account/password", "fields": [{
        "name": "email", "label": "Email", "type": "email", "defaultValue": "",
        "placeholder": "username@domain.com",
        "instructions": "The email address you used to register with openlms",
        "exposed": True, "required": True, "restrictions": {"min_length": 3, "max_length": 254},
        "errorMessages": {}, "supplementalLink": "", "supplementalText": "",
        "loginIssueSupportLink": ""}]}
    assert "csrftoken" in response.headers["Set-Cookie"]


# -- asking for a link: /account/password ------------------------------------------------------

def test_request_mails_a_single_use_link(app, db, alice):
    response = request_reset(app)
    assert (response.status_code, response.body, response.content_type) == (200, b"", "text/html")
    [message] = outbox(app)
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Password reset on openlms"
    uidb36, token = LINK_RE.search(text_of(message)).groups()
    assert uidb36 == int_to_base36(alice.id)
    assert app.post_json(VALIDATE, {"token": f"{uidb36}-{token}"}).json == {"is_valid": True}


def test_same_answer_for_unknown_or_unusable_addresses(app, db):
    create_user(db, "sso_only", password=None)
    for email in ("nobody@example.com", "sso_only@example.com", "not an email", "x" * 300):
        response = request_reset(app, email)
        assert (response.status_code, response.body) == (200, b"")
    assert outbox(app) == []


def test_request_without_an_address(app):
    response = request_reset(app, email=None, status=400)
    assert response.text == "No email address provided."
    assert response.content_type == "text/html"


def test_request_needs_csrf(app, alice):
    response = app.post(REQUEST, {"email": "alice@example.com"}, status=403)
    assert "CSRF verification failed" in response.text
    assert outbox(app) == []


def test_request_revokes_the_accounts_oauth_tokens(app, db, alice):
    application, _ = create_application(db, name="mobile", user=alice, grant_type="password")
    db.add(OAuthAccessToken(token_hash=auth.token_digest("tok"), application_id=application.id,
                            user_id=alice.id, scopes=[], expires=utcnow() + timedelta(hours=1)))
    db.commit()
    request_reset(app)
    db.expire_all()
    assert db.scalars(select(OAuthAccessToken)).all() == []


def test_no_mail_when_the_request_fails(app, alice, monkeypatch):
    from plugins.accounts.views import password_reset as views

    def fail(*args):
        raise RuntimeError("after the mail was queued")

    monkeypatch.setattr(views, "destroy_oauth_tokens", fail)
    request_reset(app, status=500)
    assert outbox(app) == []


def test_address_case_does_not_matter(app, alice):
    request_reset(app, "ALICE@Example.com")
    assert outbox(app)[0]["To"] == "alice@example.com"


def test_logged_in_user_resets_their_own_address(app, db, alice):
    create_user(db, "bob")
    login(app, "alice@example.com", "old-pass-1")
    request_reset(app, "bob@example.com")
    assert [message["To"] for message in outbox(app)] == ["alice@example.com"]


def test_staff_support_tools_may_name_another_address(app_factory, db, alice):
    app = app_factory(**{"throttle.enabled": "true"})
    create_user(db, "staff", password="staff-pass-1", is_staff=True)
    login(app, "staff@example.com", "staff-pass-1")
    for _ in range(3):  # never rate-limited
        request_reset(app, None, email_from_support_tools="alice@example.com")
    assert [message["To"] for message in outbox(app)] == ["alice@example.com"] * 3


def test_requests_are_rate_limited_per_ip(app_factory, alice):
    app = app_factory(**{"throttle.enabled": "true"})
    request_reset(app)
    response = request_reset(app, status=403)
    assert response.text == IN_PROGRESS
    assert len(outbox(app)) == 1


def test_requests_are_rate_limited_per_address(app_factory, alice):
    app = app_factory(**{"throttle.enabled": "true", "accounts.password_reset_ip_rate": "100/m"})
    request_reset(app)
    request_reset(app, "ALICE@example.com")
    request_reset(app, status=403)
    request_reset(app, "other@example.com")
    assert len(outbox(app)) == 2


def test_reset_link_points_to_the_authn_mfe_when_configured(app_factory, alice):
    app = app_factory(**{"accounts.authn_mfe_url": "https://apps.example.com/authn"})
    request_reset(app)
    assert re.search(r"https://apps\.example\.com/authn/password_reset_confirm/[0-9a-z]+-\S+/"
                     r"\?track=pwreset", text_of(outbox(app)[0]))


# -- asking for a link: legacy /password_reset/ ---------------------------------------------------

def test_legacy_request(app, alice):
    body = app.post(LEGACY_REQUEST, {"email": "alice@example.com"}).json
    assert body["success"] is True
    assert body["value"].startswith("<header>")
    assert len(outbox(app)) == 1
    assert app.post(LEGACY_REQUEST, {"email": "nobody@example.com"}).json == body
    assert len(outbox(app)) == 1


def test_legacy_request_rate_limited(app_factory, alice):
    app = app_factory(**{"throttle.enabled": "true"})
    app.post(LEGACY_REQUEST, {"email": "alice@example.com"})
    response = app.post(LEGACY_REQUEST, {"email": "alice@example.com"}, status=403)
    assert response.json == {"success": False, "value": IN_PROGRESS}


# -- token validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [VALIDATE, VALIDATE_LEGACY])
def test_valid_token(app, alice, url):
    assert app.post_json(url, {"token": token_for(app, alice)}).json == {"is_valid": True}
    assert app.post(url, {"token": token_for(app, alice)}).json == {"is_valid": True}


@pytest.mark.parametrize("token", [None, 5, "", "nodash", "!!-abc", "zzzzzzzzzzzzzz-1-2",
                                   "zzzzzzzz-1-2", "1-abc-def", "1-", ["1-2"]])
def test_malformed_tokens_are_not_valid(app, alice, token):
    assert app.post_json(VALIDATE, {"token": token}).json == {"is_valid": False}


def test_tampered_token_is_not_valid(app, alice):
    token = token_for(app, alice)
    assert app.post_json(VALIDATE, {"token": token[:-1] + ("0" if token[-1] != "0" else "1")}
                         ).json == {"is_valid": False}
    other = create_user_for(app, "bob")
    # Alice's token does not open Bob's account.
    bob_link = f"{int_to_base36(other.id)}-{token.split('-', 1)[1]}"
    assert app.post_json(VALIDATE, {"token": bob_link}).json == {"is_valid": False}


def create_user_for(app, username):
    session = app.registry["lms.dbsession_factory"]()
    try:
        return create_user(session, username)
    finally:
        session.close()


def test_expired_token_is_not_valid(app_factory, db, alice):
    app = app_factory(**{"accounts.password_reset_timeout_seconds": "60"})
    config = get_config(app.registry)
    old = make_reset_token(app.registry.settings, alice, now=time.time() - 61)
    assert not app.post_json(VALIDATE, {"token": f"{int_to_base36(alice.id)}-{old}"}
                             ).json["is_valid"]
    assert config.reset_timeout == 60


def test_token_of_a_user_asking_for_retirement_is_not_valid(app, db, alice):
    db.add(UserRetirementRequest(user_id=alice.id))
    db.commit()
    assert app.post_json(VALIDATE, {"token": token_for(app, alice)}).json == {"is_valid": False}


def test_token_for_someone_else_than_the_caller(app, db, alice):
    bob = create_user(db, "bob")
    response = app.post_json(VALIDATE, {"token": token_for(app, alice)},
                             headers=jwt_headers(app, bob))
    assert response.json == {"is_valid": False}
    response = app.post_json(VALIDATE, {"token": token_for(app, alice)},
                             headers=jwt_headers(app, alice))
    assert response.json == {"is_valid": True}


def test_valid_token_activates_an_inactive_account(app, db):
    carol = create_user(db, "carol", is_active=False)
    assert app.post_json(VALIDATE, {"token": token_for(app, carol)}).json == {"is_valid": True}
    assert reloaded(db, carol).is_active is True


def test_token_validation_is_throttled_for_anonymous_callers(app_factory, db, alice):
    app = app_factory(**{"throttle.enabled": "true",
                         "accounts.password_reset_token_validate_rate": "2/7d"})
    for _ in range(2):
        app.post_json(VALIDATE, {"token": "x"})
    response = app.post_json(VALIDATE, {"token": "x"}, status=429)
    assert re.fullmatch(r"Request was throttled\. Expected available in \d+ seconds\.",
                        response.json["detail"])
    assert int(response.headers["Retry-After"]) > 0
    # Authenticated callers are not throttled.
    app.post_json(VALIDATE, {"token": "x"}, headers=jwt_headers(app, alice))


def test_token_validation_bad_bodies(app, alice):
    response = app.post(VALIDATE, "{", content_type="application/json", status=400)
    assert response.json["detail"].startswith("JSON parse error - ")
    app.post(VALIDATE, "token=x", content_type="text/plain", status=415)


# -- resetting: the authn MFE's API ---------------------------------------------------------------

def test_reset_sets_the_password_once(app, db, alice):
    token = token_for(app, alice)
    assert reset(app, token).json == {"reset_status": True, "err_msg": ""}
    user = reloaded(db, alice)
    assert verify_password("new-pass-2", user.password)[0]
    assert reset(app, token, "third-pass-3").json == {"reset_status": False,
                                                      "token_invalid": True}
    [notice] = outbox(app)
    assert notice["To"] == "alice@example.com"
    assert notice["Subject"] == "Password reset successful on openlms"
    login(app, "alice@example.com", "new-pass-2")


def test_reset_ends_the_other_sessions(app, db, alice):
    login(app, "alice@example.com", "old-pass-1")
    app.reset()
    login(app, "alice@example.com", "old-pass-1")  # the browser that resets
    db.expire_all()
    assert len(db.scalars(select(LoginSession)).all()) == 2
    # A logged-in browser sends its CSRF token (session authentication).
    reset(app, token_for(app, reloaded(db, alice)), headers={"X-CSRFToken": csrf_token(app)})
    db.expire_all()
    kept = db.scalars(select(LoginSession)).all()
    assert len(kept) == 1
    # The resetting browser's session still works.
    me = app.post("/api/send_account_activation_email",
                  headers={"X-CSRFToken": csrf_token(app)})
    assert me.status_code == 200


def test_anonymous_reset_ends_every_session(app, db, alice):
    login(app, "alice@example.com", "old-pass-1")
    app.reset()
    reset(app, token_for(app, reloaded(db, alice)))
    db.expire_all()
    assert db.scalars(select(LoginSession)).all() == []


def test_reset_clears_login_failures(app, db, alice):
    db.add(LoginFailure(user_id=alice.id, failure_count=5))
    db.commit()
    reset(app, token_for(app, alice))
    db.expire_all()
    assert db.scalars(select(LoginFailure)).all() == []


@pytest.mark.parametrize("password, confirmation, message", [
    ("p", None, "This password is too short. It must contain at least 2 characters."),
    ("alice", None, "The password is too similar to the username."),
    ("x" * 76, None, "This password is too long. It must contain no more than 75 characters."),
    ("good-pass-9", "other-pass-9", GENERIC),
])
def test_refused_passwords_change_nothing(app, db, alice, password, confirmation, message):
    body = reset(app, token_for(app, alice), password, confirmation).json
    assert body == {"reset_status": False, "err_msg": message}
    assert verify_password("old-pass-1", reloaded(db, alice).password)[0]
    assert outbox(app) == []


def test_missing_fields_count_as_empty(app, db, alice):
    response = app.post(f"/password/reset/{token_for(app, alice)}/", {})
    assert response.json == {
        "reset_status": False,
        "err_msg": "This password is too short. It must contain at least 2 characters."}
    response = app.post_json(f"/password/reset/{token_for(app, alice)}/",
                             {"new_password1": 12345678, "new_password2": 12345678})
    assert response.json["reset_status"] is False


def test_bad_links(app, db, alice):
    good = token_for(app, alice)
    token = good.split("-", 1)[1]
    assert reset(app, f"zzzzzzzzzzzzzz-{token}").json == {"reset_status": False,
                                                          "token_invalid": True}
    assert reset(app, f"zzzzz-{token}").json == {"reset_status": False, "err_msg": GENERIC}
    assert reset(app, f"{int_to_base36(alice.id)}-1-abc").json == {"reset_status": False,
                                                                   "token_invalid": True}
    app.post("/password/reset/nodash/", {}, status=404)
    assert verify_password("old-pass-1", reloaded(db, alice).password)[0]


def test_expired_reset_token(app_factory, db, alice):
    app = app_factory(**{"accounts.password_reset_timeout_seconds": "60"})
    old = make_reset_token(app.registry.settings, alice, now=time.time() - 61)
    body = reset(app, f"{int_to_base36(alice.id)}-{old}").json
    assert body == {"reset_status": False, "token_invalid": True}


def test_reset_api_is_throttled_for_anonymous_callers(app_factory, alice):
    app = app_factory(**{"throttle.enabled": "true", "accounts.password_reset_api_rate": "1/7d"})
    reset(app, "1-1-1")
    assert "Retry-After" in reset(app, "1-1-1", status=429).headers


def test_login_spends_the_token(app, db, alice):
    token = token_for(app, alice)
    login(app, "alice@example.com", "old-pass-1")
    app.reset()
    assert reset(app, token).json == {"reset_status": False, "token_invalid": True}


# -- resetting: the HTML pages -------------------------------------------------------------------

def test_html_reset_flow(app, db, alice):
    path = f"/password_reset_confirm/{token_for(app, alice)}/"
    page = app.get(path)
    assert page.content_type == "text/html"
    assert 'name="new_password1"' in page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page.text).group(1)
    mismatch = app.post(path, {"csrfmiddlewaretoken": csrf, "new_password1": "html-pass-1",
                               "new_password2": "other"})
    assert "The two password fields didn\u2019t match." in mismatch.text
    done = app.post(path, {"csrfmiddlewaretoken": csrf, "new_password1": "html-pass-1",
                           "new_password2": "html-pass-1"}, status=302)
    assert done.headers["Location"].endswith("/password_reset_complete/")
    assert "Password reset complete" in app.get("/password_reset_complete/").text
    assert verify_password("html-pass-1", reloaded(db, alice).password)[0]
    assert "invalid" in app.get(path).text


def test_html_reset_page_refuses_bad_links_and_csrf(app, db, alice):
    assert "invalid" in app.get("/password_reset_confirm/1-2-3/").text
    path = f"/password_reset_confirm/{token_for(app, alice)}/"
    app.post(path, {"new_password1": "x-pass-1", "new_password2": "x-pass-1"}, status=403)
    assert verify_password("old-pass-1", reloaded(db, alice).password)[0]


def test_html_reset_link_activates_and_hides_other_accounts(app, db, alice):
    carol = create_user(db, "carol", password="carol-pass-1", is_active=False)
    app.get(f"/password_reset_confirm/{token_for(app, carol)}/")
    assert reloaded(db, carol).is_active is True
    login(app, "alice@example.com", "old-pass-1")
    app.get(f"/password_reset_confirm/{token_for(app, carol)}/", status=404)


# -- end to end -----------------------------------------------------------------------------------

def test_forgot_password_end_to_end(app, db, alice):
    request_reset(app)
    uidb36, token = LINK_RE.search(text_of(outbox(app)[0])).groups()
    app.reset()
    assert app.post(VALIDATE_LEGACY, {"token": f"{uidb36}-{token}"}).json == {"is_valid": True}
    assert reset(app, f"{uidb36}-{token}", "brand-new-7").json["reset_status"] is True
    login(app, "alice@example.com", "old-pass-1", status=400)
    assert login(app, "alice@example.com", "brand-new-7").json["success"] is True
