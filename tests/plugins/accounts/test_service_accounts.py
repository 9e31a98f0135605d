"""Service identities never come from a username alone (security defect 1 of issue 7).

The retirement pipeline trusts ``accounts.retirement_service_username``. Before
the fix anyone could register that name (even inactive, with only the
registration cookies) and drive the pipeline: read queued learners' original
emails, force states, erase people. Now the name is reserved, the permission
also asks for active global staff, and the account the CLI provisions is locked.
"""
import json

import pytest
import webtest
from sqlalchemy import select

from lms.models import OAuthApplication, User
from lms.oauth import create_application
from lms.testing import create_user, jwt_headers
from plugins.accounts import retirement
from plugins.accounts.config import DEFAULT_RESERVED_USERNAMES
from plugins.accounts.models import RetirementState, UserRetirementStatus

SERVICE = "retirement_service_worker"  # the default, as in upstream's devstack
V1 = "/api/user/v1/account/registration/"
V2 = "/api/user/v2/account/registration/"
VALIDATION = "/api/user/v1/validation/registration"
QUEUE = "/api/user/v1/accounts/retirement_queue/?cool_off_days=0&states=PENDING"
STATUS = "/api/user/v1/accounts/lena/retirement_status/"
REPLACE = "/api/user/v1/accounts/replace_usernames/"
LOGIN = "/api/user/v1/account/login_session/"
TOKEN_URL = "/oauth2/access_token"
TAKEN = "It looks like this username is already taken"
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


def form(username, **overrides):
    data = {"username": username, "email": f"{username.lower()}@example.com",
            "password": "s3cret-pass", "name": "Mallory", "honor_code": "true"}
    data.update(overrides)
    return data


def assert_duplicate_username(response):
    body = response.json
    assert isinstance(body.pop("username_suggestions"), list)
    assert body == {"username": [{"user_message": TAKEN}], "error_code": "duplicate-username"}


def no_user(db, username):
    return db.scalar(select(User.id).where(User.username.ilike(username))) is None


# -- registration refuses service and reserved names -------------------------------------

@pytest.mark.parametrize("url", [V1, V2])
@pytest.mark.parametrize("username", [SERVICE, "Retirement_Service_WORKER", "admin", "ROOT"])
def test_registration_refuses_service_and_reserved_names(app, db, url, username):
    response = app.post(url, form(username), status=409)
    assert_duplicate_username(response)
    assert no_user(db, username)
    assert app.registry["lms.mail_outbox"] == []


def test_registration_refuses_every_configured_service_name(app_factory):
    app = app_factory(**{"accounts.retirement_service_username": "eraser",
                         "accounts.username_replacement_worker": "renamer",
                         "accounts.deactivation_usernames": "support_bot helpdesk",
                         "accounts.reserved_usernames": "Moderator"})
    db = app.registry["lms.dbsession_factory"]()
    for username in ("eraser", "RENAMER", "support_bot", "helpdesk", "moderator"):
        assert_duplicate_username(app.post(V2, form(username), status=409))
        assert no_user(db, username)
    # The reserved list replaced the defaults; the old default service name is free now.
    app.post(V2, form(SERVICE), status=200)
    app.post(V2, form("admin"), status=200)
    db.close()


def test_validation_endpoint_calls_reserved_names_taken(app):
    for username in (SERVICE, "Admin"):
        body = app.post_json(VALIDATION, {"username": username}).json
        assert body["validation_decisions"] == {"username": TAKEN}
        assert SERVICE not in body["username_suggestions"]
    body = app.post_json(VALIDATION, {"username": "free_name"}).json
    assert body == {"validation_decisions": {"username": ""}}


def test_default_reserved_names():
    assert DEFAULT_RESERVED_USERNAMES.split() == [
        "admin", "administrator", "root", "superuser", "system", "staff", "support",
        "anonymous"]


def test_replace_usernames_never_hands_out_a_reserved_name(app_factory):
    app = app_factory(**{"accounts.username_replacement_worker": "renamer"})
    db = app.registry["lms.dbsession_factory"]()
    worker = create_user(db, "renamer", password=None, is_staff=True)
    alice = create_user(db, "alice")
    response = app.post_json(REPLACE, {"username_mappings": [
        {"alice": SERVICE}, {"alice": "Renamer"}, {"alice": "ADMIN"}]},
        headers=jwt_headers(app, worker))
    assert response.json == {"successful_replacements": [], "failed_replacements": [
        {"alice": SERVICE}, {"alice": "Renamer"}, {"alice": "ADMIN"}]}
    db.expire_all()
    assert db.get(User, alice.id).username == "alice"
    db.close()


# -- the permission asks for active staff, not a name ------------------------------------

@pytest.fixture
def lena(db):
    return create_user(db, "lena", email="lena@example.com")


@pytest.fixture
def queued(app, db, lena):
    status = retirement.queue_retirement(db, app.registry.settings, lena)
    db.commit()
    return status


def test_a_namesake_that_is_not_staff_is_nobody(app, db, queued):
    """What an attacker got before the fix: an account with the service's name."""
    for active in (True, False):
        impostor = db.scalar(select(User).where(User.username == SERVICE)) or create_user(
            db, SERVICE)
        impostor.is_active = active
        db.commit()
        headers = jwt_headers(app, impostor)
        assert app.get(QUEUE, headers=headers, status=403).json == FORBIDDEN
        assert app.get(STATUS, headers=headers, status=403).json == FORBIDDEN
        app.patch_json("/api/user/v1/accounts/update_retirement_status/",
                       {"username": "lena", "new_state": "ERRORED", "response": "x",
                        "force": True}, headers=headers, status=403)
    db.expire_all()
    state = db.get(RetirementState, db.get(UserRetirementStatus, queued.id).current_state_id)
    assert state.state_name == "PENDING"  # untouched


def test_an_inactive_staff_service_account_is_refused(app, db, queued):
    service = create_user(db, SERVICE, password=None, is_staff=True, is_active=False)
    # Inactive users do not authenticate with the session, but JWTs are stateless.
    assert app.get(QUEUE, headers=jwt_headers(app, service), status=403).json == FORBIDDEN


def test_the_provisioned_service_account_works(app, db, queued):
    service = create_user(db, SERVICE, password=None, is_staff=True)
    [entry] = app.get(QUEUE, headers=jwt_headers(app, service)).json
    assert entry["original_username"] == "lena"
    assert entry["original_email"] == "lena@example.com"


def test_is_retirement_service_reads_the_parsed_setting(app_factory, db):
    app = app_factory(**{"accounts.retirement_service_username": ""})
    staff = create_user(db, SERVICE, password=None, is_staff=True)
    assert not retirement.is_retirement_service(app.app.registry, staff)
    app.get(QUEUE, headers=jwt_headers(app, staff), status=403)


# -- the CLI provisions the service account locked -----------------------------------------

@pytest.fixture
def cli_app(write_cli_ini, run_cli):
    """``lms bootstrap`` on an accounts-only instance, then its app (a webtest.TestApp)."""
    from pyramid.paster import get_app

    ini = write_cli_ini("lms.plugins = accounts")
    result = run_cli("bootstrap", ini=ini)
    assert result.exit_code == 0, result.output
    app = webtest.TestApp(get_app(ini), extra_environ={"HTTP_HOST": "localhost"})
    app.ini, app.bootstrap_output = ini, result.output
    yield app
    app.app.registry["lms.engine"].dispose()


def test_bootstrap_creates_the_retirement_service_locked(cli_app):
    assert (f"created service user '{SERVICE}' for retirement (staff, no password;"
            in cli_app.bootstrap_output)
    db = cli_app.app.registry["lms.dbsession_factory"]()
    user = db.scalar(select(User).where(User.username == SERVICE))
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, False, True)
    assert user.password.startswith("!")
    assert retirement.is_retirement_service(cli_app.app.registry, user)
    db.close()


def test_the_locked_service_account_cannot_log_in(cli_app):
    db = cli_app.app.registry["lms.dbsession_factory"]()
    user = db.scalar(select(User).where(User.username == SERVICE))
    stored, email = user.password, user.email
    admin = db.scalar(select(User).where(User.username == "admin"))
    mobile, _ = create_application(db, name="mobile", user=admin, grant_type="password",
                                   public=True)
    db.commit()
    client_id = mobile.client_id
    db.close()
    csrf = cli_app.get("/csrf/api/v1/token").json["csrfToken"]
    # Fewer attempts than the lockout threshold (6): each one is refused as a bad password.
    for password in ("!", stored, stored[1:]):
        cli_app.post(LOGIN, {"email": email, "password": password},
                     headers={"X-CSRFToken": csrf}, status=400)
    for password in (stored, "password"):
        response = cli_app.post(TOKEN_URL, {"grant_type": "password", "client_id": client_id,
                                            "username": SERVICE, "password": password},
                                status=400)
        assert response.json["error"] == "invalid_grant"
    assert "sessionid" not in cli_app.cookies


def test_service_client_from_the_cli_drives_the_pipeline(cli_app, run_cli):
    result = run_cli("create-oauth-client", "retirement", "--service", "retirement", "--json",
                     ini=cli_app.ini)
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    token = cli_app.post(TOKEN_URL, {"grant_type": "client_credentials", "token_type": "jwt",
                                     **created}).json["access_token"]
    assert cli_app.get(QUEUE, headers={"Authorization": f"JWT {token}"}).json == []
    db = cli_app.app.registry["lms.dbsession_factory"]()
    owner = db.scalar(select(User.username).join(
        OAuthApplication, OAuthApplication.user_id == User.id).where(
        OAuthApplication.client_id == created["client_id"]))
    assert owner == SERVICE
    db.close()
