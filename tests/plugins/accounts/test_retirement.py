"""The retirement pipeline endpoints, one by one: success, anonymous, users without the
right, and bad input (upstream's bare-string and empty-body answers)."""
import os
import types
from datetime import timedelta

import pytest
from pyramid.interfaces import IRoutesMapper
from sqlalchemy import func, select, update

from lms.auth import token_digest
from lms.hookspecs import hookimpl
from lms.models import (
    LoginFailure,
    LoginSession,
    OAuthAccessToken,
    OAuthApplication,
    User,
)
from lms.oauth import create_application
from lms.passwords import is_usable
from lms.testing import create_user, jwt_headers, verify_password
from lms.timeutil import utcnow
from plugins.accounts import api, images, retirement
from plugins.accounts.models import (
    PendingEmailChange,
    PendingNameChange,
    Registration,
    RetirementState,
    SocialAuthLink,
    UserOrgTag,
    UserPreference,
    UserProfile,
    UserRetirementPartnerReport,
    UserRetirementRequest,
    UserRetirementStatus,
    VerificationAttempt,
)
from plugins.accounts.serializers import account_config, profile_image_file_names
from plugins.experiments.models import ExperimentData

PREFIX = "/api/user/v1/accounts/"
SERVICE = "retirement_service_worker"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_USERNAME = {"message": "The user was not specified."}

# -- a test plugin: enrollment orgs for the partner report, and a retire hook that can fail ---

ORGS = {}  # user id → orgs the "enrollments" of this plugin answer
FAILURES = {}  # "retire": the error lms_retire_user raises


def _orgs(dbsession, user_id):
    return ORGS.get(user_id)


def _retire_user(dbsession, user, retired_username, retired_email):
    if "retire" in FAILURES:
        raise FAILURES["retire"]


retirement_test_plugin = types.ModuleType("tests_accounts_retirement_plugin")
retirement_test_plugin.name = "retirementtest"
retirement_test_plugin.lms_enrollment_orgs = hookimpl(_orgs)
retirement_test_plugin.lms_retire_user = hookimpl(_retire_user)
retirement_test_plugin.__file__ = None


@pytest.fixture(scope="module")
def profile_image_dir(tmp_path_factory):
    """One folder for the module, so its tests share one built app (a folder per test
    would change the settings, and build an app, every time)."""
    return str(tmp_path_factory.mktemp("profile-images"))


@pytest.fixture
def app(app_factory, settings, add_plugins, profile_image_dir):
    """Every built-in plugin plus the test plugin above."""
    add_plugins(retirement_test_plugin)
    settings["accounts.profile_image_dir"] = profile_image_dir
    ORGS.clear()
    FAILURES.clear()
    yield app_factory(**settings)
    ORGS.clear()
    FAILURES.clear()


@pytest.fixture
def service(db):
    """As provisioned: global staff without a usable password."""
    return create_user(db, SERVICE, password=None, is_staff=True)


@pytest.fixture
def service_headers(app, service):
    return jwt_headers(app, service)


@pytest.fixture
def learner(db):
    user = create_user(db, "lena", email="lena@example.com", name="Lena Learner")
    api.get_profile(db, user.id, create=True)
    db.commit()
    return user


@pytest.fixture
def other(db):
    return create_user(db, "otto", name="Otto Other")


def queue(app, db, user):
    status = retirement.queue_retirement(db, app.registry.settings, user)
    db.commit()
    return status


def state_id(db, name):
    return db.scalar(select(RetirementState.id).where(RetirementState.state_name == name))


def move(db, status, name, created=None):
    values = {"current_state_id": state_id(db, name)}
    if created is not None:
        values["created"] = created
    db.execute(update(UserRetirementStatus).where(UserRetirementStatus.id == status.id)
               .values(**values))
    db.commit()
    db.expire_all()


def current_state(db, status_id):
    return db.scalar(select(RetirementState.state_name).join(
        UserRetirementStatus, UserRetirementStatus.current_state_id == RetirementState.id)
        .where(UserRetirementStatus.id == status_id))


def count(db, model):
    return db.scalar(select(func.count()).select_from(model))


# -- who may call the service endpoints --------------------------------------------------

SERVICE_OPERATIONS = [
    ("GET", "retirement_queue/?cool_off_days=0&states=PENDING"),
    ("GET", ("retirements_by_status_and_date/?start_date=2020-01-01&end_date=2020-01-02"
            "&state=PENDING")),
    ("GET", "lena/retirement_status/"),
    ("PATCH", "update_retirement_status/"),
    ("POST", "retire_misc/"),
    ("POST", "retire/"),
    ("POST", "retirement_cleanup/"),
    ("POST", "retirement_partner_report/"),
    ("PUT", "retirement_partner_report/"),
    ("POST", "retirement_partner_report_cleanup/"),
]


@pytest.mark.parametrize("method, path", SERVICE_OPERATIONS + [
    ("POST", "cancel_retirement/"), ("POST", "deactivate_logout/")])
def test_anonymous_is_401(app, method, path):
    response = app.request(PREFIX + path, method=method, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


@pytest.mark.parametrize("method, path", SERVICE_OPERATIONS + [("POST", "cancel_retirement/")])
def test_learners_and_staff_are_403(app, db, learner, method, path):
    staff = create_user(db, "stella", is_staff=True)
    for user in (learner, staff):
        response = app.request(PREFIX + path, method=method, headers=jwt_headers(app, user),
                               status=403)
        assert response.json == FORBIDDEN


def test_the_service_user_name_is_a_setting(app_factory, db, learner):
    app = app_factory(**{"accounts.retirement_service_username": "lena"})
    queue_path = PREFIX + "retirement_queue/?cool_off_days=0&states=PENDING"
    # The name alone grants nothing: the account must be active global staff.
    assert app.get(queue_path, headers=jwt_headers(app, learner), status=403).json == FORBIDDEN
    learner.is_staff = True
    db.commit()
    assert app.get(queue_path, headers=jwt_headers(app, learner), status=200).json == []
    service = create_user(db, SERVICE, password=None, is_staff=True)
    app.get(queue_path, headers=jwt_headers(app, service), status=403)


def test_superusers_may_call_the_pipeline(app, db, learner):
    admin = create_user(db, "admin", is_staff=True, is_superuser=True)
    queue(app, db, learner)
    response = app.get(PREFIX + "lena/retirement_status/", headers=jwt_headers(app, admin))
    assert response.json["original_username"] == "lena"


def test_fixed_paths_win_over_the_account_path(app):
    """accounts/{username} (optional trailing slash) would match accounts/retire/ too."""
    mapper = app.registry.queryUtility(IRoutesMapper)
    routes = mapper.get_routes()
    for name in ("deactivate_logout", "retirement_queue", "retirements_by_status_and_date",
                 "update_retirement_status", "retire_misc", "retire", "retirement_cleanup",
                 "retirement_partner_report", "retirement_partner_report_cleanup",
                 "cancel_retirement"):
        for path in (PREFIX + name + "/", PREFIX + name):
            first = next(route for route in routes if route.match(path) is not None)
            assert first.name.startswith("accounts.") and first.name.endswith(name), \
                (path, first.name)


# -- deactivate_logout/ ------------------------------------------------------------------

DEACTIVATE = PREFIX + "deactivate_logout/"


def log_in(app, email, password="password123"):
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    app.post("/api/user/v1/account/login_session/", {"email": email, "password": password},
             headers={"X-CSRFToken": token}, status=200)
    return app.get("/csrf/api/v1/token").json["csrfToken"]


def give_learner_data(db, user, service):
    """Sessions, tokens, an own OAuth client, third-party links, an activation key, a
    recovery email: everything deactivate_logout/ must take away."""
    application, _ = create_application(db, name="mobile", user=service, grant_type="password")
    own, _ = create_application(db, name="lena's client", user=user,
                                grant_type="client-credentials")
    db.add(OAuthAccessToken(token_hash="a" * 64, application_id=application.id,
                            user_id=user.id, expires=utcnow() + timedelta(hours=1)))
    db.add(SocialAuthLink(user_id=user.id, provider="google-oauth2", uid=user.email))
    db.add(Registration(user_id=user.id, activation_key="k" * 32))
    profile = api.get_profile(db, user.id, create=True)
    profile.secondary_email = "lena.recovery@example.com"
    profile.secondary_email_active = True
    db.commit()
    return own


def test_deactivate_logout_with_the_session(app, db, learner, service):
    give_learner_data(db, learner, service)
    token = log_in(app, "lena@example.com")
    assert count(db, LoginSession) == 1
    response = app.post(DEACTIVATE, {"password": "password123"},
                        headers={"X-CSRFToken": token}, status=204)
    assert response.body == b""
    cookies = response.headers.getall("Set-Cookie")
    for name in ("sessionid", "edxloggedin", "edx-user-info", "edx-jwt-cookie-header-payload",
                 "edx-jwt-cookie-signature"):
        assert any(c.startswith(f"{name}=") and "Max-Age=0" in c for c in cookies), name
    db.expire_all()
    status = db.scalar(select(UserRetirementStatus))
    assert (status.user_id, status.original_username, status.original_email,
            status.original_name) == (learner.id, "lena", "lena@example.com", "Lena Learner")
    assert status.retired_username == api.retired_username(app.registry.settings, "lena")
    assert status.retired_email == api.retired_email(app.registry.settings, "lena@example.com")
    assert current_state(db, status.id) == "PENDING"
    assert status.last_state_id == status.current_state_id
    assert status.responses == "Created in state PENDING (step 1) by create_retirement"
    assert count(db, UserRetirementRequest) == 1
    user = db.get(User, learner.id)
    assert user.email == status.retired_email
    assert user.username == "lena" and user.is_active and user.name == "Lena Learner"
    assert not is_usable(user.password)
    for model in (LoginSession, OAuthAccessToken, SocialAuthLink, Registration):
        assert count(db, model) == 0, model
    assert db.scalars(select(OAuthApplication.name)).all() == ["mobile"]
    profile = api.get_profile(db, learner.id)
    assert profile.secondary_email is None and not profile.secondary_email_active
    [message] = app.registry["lms.mail_outbox"]
    assert message["To"] == "lena@example.com"
    assert "being deleted" in message["Subject"]
    assert "Hello Lena Learner," in message.get_content()
    # The session is gone: the learner is anonymous now.
    app.post(DEACTIVATE, {"password": "password123"}, headers={"X-CSRFToken": token},
             status=401)


def test_deactivate_logout_with_a_jwt_needs_no_csrf(app, db, learner):
    app.post(DEACTIVATE, {"password": "password123"}, headers=jwt_headers(app, learner),
             status=204)
    assert current_state(db, db.scalar(select(UserRetirementStatus.id))) == "PENDING"


def test_deactivate_logout_with_a_session_needs_csrf(app, db, learner):
    log_in(app, "lena@example.com")
    response = app.post(DEACTIVATE, {"password": "password123"}, status=403)
    assert response.json == {"detail": "CSRF Failed: CSRF token missing."}
    assert count(db, UserRetirementStatus) == 0


def test_deactivate_logout_wrong_password_counts_toward_lockout(app_factory, db, learner):
    app = app_factory(**{"login.max_failed_attempts": "2"})
    headers = jwt_headers(app, learner)
    for _ in range(2):
        response = app.post(DEACTIVATE, {"password": "nope"}, headers=headers, status=403)
        assert response.json == "Email or password is incorrect."
    assert db.scalar(select(LoginFailure.failure_count)) == 2
    response = app.post(DEACTIVATE, {"password": "password123"}, headers=headers, status=403)
    assert response.json == ("This account has been temporarily locked due to excessive login "
                             "failures. Try again later.")
    assert count(db, UserRetirementStatus) == 0
    assert app.registry["lms.mail_outbox"] == []


def test_deactivate_logout_right_password_clears_failures(app, db, learner):
    headers = jwt_headers(app, learner)
    app.post(DEACTIVATE, {"password": "nope"}, headers=headers, status=403)
    assert count(db, LoginFailure) == 1
    app.post(DEACTIVATE, {"password": "password123"}, headers=headers, status=204)
    assert count(db, LoginFailure) == 0


@pytest.mark.parametrize("send", ["json", "nothing"])
def test_deactivate_logout_reads_the_password_from_the_form_only(app, db, learner, send):
    headers = jwt_headers(app, learner)
    if send == "json":
        response = app.post_json(DEACTIVATE, {"password": "password123"}, headers=headers,
                                 status=400)
    else:
        response = app.post(DEACTIVATE, headers=headers, status=400)
    assert response.json == "Could not verify user password: 'password'"
    assert count(db, UserRetirementStatus) == 0


def test_deactivate_logout_when_deletion_is_disabled(app_factory, db, learner):
    app = app_factory(**{"accounts.enable_account_deletion": "false"})
    response = app.post(DEACTIVATE, {"password": "password123"},
                        headers=jwt_headers(app, learner), status=403)
    assert response.body == b""
    assert count(db, UserRetirementStatus) == 0


def test_deactivate_logout_twice_leaves_nothing_half_done(app, db, learner):
    """A status row already there (a 500 upstream): the account stays untouched."""
    retirement.create_retirement(db, app.registry.settings, learner)
    db.commit()
    response = app.post(DEACTIVATE, {"password": "password123"},
                        headers=jwt_headers(app, learner), status=500)
    assert response.json == "User lena already has a retirement status row!"
    db.expire_all()
    user = db.get(User, learner.id)
    assert user.email == "lena@example.com" and is_usable(user.password)
    assert app.registry["lms.mail_outbox"] == []


def test_deactivate_logout_refuses_inactive_users_on_bearer(app, db, learner, service):
    application, _ = create_application(db, name="mobile", user=service, grant_type="password")
    db.add(OAuthAccessToken(token_hash=token_digest("opaque"), application_id=application.id,
                            user_id=learner.id, expires=utcnow() + timedelta(hours=1)))
    db.get(User, learner.id).is_active = False
    db.commit()
    response = app.post(DEACTIVATE, {"password": "password123"},
                        headers={"Authorization": "Bearer opaque"}, status=401)
    assert response.json["error_code"] == "user_not_active"


# -- retirement_queue/ -------------------------------------------------------------------

QUEUE = PREFIX + "retirement_queue/"


def test_retirement_queue(app, db, learner, other, service_headers, query_counter):
    first = queue(app, db, learner)
    second = queue(app, db, other)
    third_user = create_user(db, "tess")
    third = queue(app, db, third_user)
    old = utcnow() - timedelta(days=10)
    move(db, first, "PENDING", created=old)
    move(db, second, "ERRORED", created=old)
    move(db, third, "PENDING")  # queued just now: still cooling off
    url = QUEUE + "?cool_off_days=7&states=PENDING&states=ERRORED"
    with query_counter() as queries:
        response = app.get(url, headers=service_headers)
    assert [row["original_username"] for row in response.json] == ["lena", "otto"]
    row = response.json[0]
    profile_id = db.scalar(select(UserProfile.id).where(UserProfile.user_id == learner.id))
    pending = db.get(RetirementState, state_id(db, "PENDING"))
    assert row == {
        "id": first.id,
        "current_state": {"id": pending.id, "state_name": "PENDING",
                          "state_execution_order": 1},
        "last_state": {"id": pending.id, "state_name": "PENDING", "state_execution_order": 1},
        "user": {"id": learner.id, "username": "lena", "email": first.retired_email,
                 "profile": {"id": profile_id, "name": "Lena Learner"}},
        "created": row["created"],
        "modified": row["modified"],
        "original_username": "lena",
        "original_email": "lena@example.com",
        "original_name": "Lena Learner",
        "retired_username": first.retired_username,
        "retired_email": first.retired_email,
    }
    assert row["created"].endswith("Z") and row["created"].startswith(old.date().isoformat())
    assert response.json[1]["user"]["profile"] == {"id": None, "name": "Otto Other"}
    # A fixed number of queries, however many rows: auth, states, statuses.
    more = [queue(app, db, create_user(db, f"extra{i}")) for i in range(3)]
    for status in more:
        move(db, status, "PENDING", created=old)
    with query_counter() as more_queries:
        response = app.get(url, headers=service_headers)
    assert len(response.json) == 5
    assert len(more_queries) == len(queries)
    response = app.get(url + "&limit=2", headers=service_headers)
    assert [row["original_username"] for row in response.json] == ["lena", "otto"]
    assert app.get(QUEUE + "?cool_off_days=0&states=COMPLETE",
                   headers=service_headers).json == []
    assert app.get(QUEUE + "?cool_off_days=99999999999&states=PENDING",
                   headers=service_headers).json == []


def test_retirement_queue_get_with_a_json_content_type_and_no_body(app, db, learner,
                                                                  service_headers):
    status = queue(app, db, learner)
    headers = dict(service_headers, **{"Content-Type": "application/json"})
    response = app.get(QUEUE + "?cool_off_days=0&states=PENDING", headers=headers)
    assert [row["id"] for row in response.json] == [status.id]


@pytest.mark.parametrize("query, message", [
    ("states=PENDING", "Missing required parameter: 'cool_off_days'"),
    ("cool_off_days=x&states=PENDING", "Invalid cool_off_days, should be integer."),
    ("cool_off_days=-1&states=PENDING",
     "Invalid argument for cool_off_days, must be greater than 0."),
    ("cool_off_days=1", 'Param "states" required with at least one state.'),
    ("cool_off_days=1&states=PENDING&states=NOPE",
     "Unknown state. Requested: ['PENDING', 'NOPE'] Found: ['PENDING']"),
    ("cool_off_days=1&states=PENDING&states=PENDING",
     "Unknown state. Requested: ['PENDING', 'PENDING'] Found: ['PENDING']"),
    ("cool_off_days=1&states=PEN%00DING",
     "Unknown state. Requested: ['PEN\\x00DING'] Found: []"),
    ("cool_off_days=1&states=PENDING&limit=ten",
     "Limit could not be parsed: ten, please ensure this is an integer"),
    ("cool_off_days=1&states=PENDING&limit=-3",
     "Limit could not be parsed: -3, please ensure this is an integer"),
])
def test_retirement_queue_bad_parameters(app, service_headers, query, message):
    response = app.get(QUEUE + "?" + query, headers=service_headers, status=400)
    assert response.json == message


# -- retirements_by_status_and_date/ -----------------------------------------------------

BY_DATE = PREFIX + "retirements_by_status_and_date/"


def test_retirements_by_status_and_date(app, db, learner, other, service_headers,
                                        query_counter):
    now = utcnow()
    first, second = queue(app, db, learner), queue(app, db, other)
    move(db, first, "COMPLETE", created=now - timedelta(days=40))
    move(db, second, "COMPLETE", created=now - timedelta(days=2))
    start = (now - timedelta(days=41)).date().isoformat()
    end = (now - timedelta(days=40)).date().isoformat()
    url = f"{BY_DATE}?start_date={start}&end_date={end}&state=COMPLETE"
    with query_counter() as queries:
        response = app.get(url, headers=service_headers)
    assert [row["original_username"] for row in response.json] == ["lena"]
    assert response.json[0]["current_state"]["state_name"] == "COMPLETE"
    today = now.date().isoformat()
    url = f"{BY_DATE}?start_date={start}&end_date={today}&state=COMPLETE"
    with query_counter() as more_queries:
        response = app.get(url, headers=service_headers)
    assert [row["original_username"] for row in response.json] == ["lena", "otto"]
    assert len(more_queries) == len(queries)
    url = f"{BY_DATE}?start_date={today}&end_date={today}&state=PENDING"
    assert app.get(url, headers=service_headers).json == []


@pytest.mark.parametrize("query, message", [
    ("end_date=2020-01-01&state=COMPLETE", "Missing required parameter: 'start_date'"),
    ("start_date=2020-01-01&state=COMPLETE", "Missing required parameter: 'end_date'"),
    ("start_date=2020-13-01&end_date=2020-01-01&state=COMPLETE",
     "Invalid start or end date: time data '2020-13-01' does not match format '%Y-%m-%d'"),
    ("start_date=2020-01-01&end_date=2020-01-01x&state=COMPLETE",
     "Invalid start or end date: unconverted data remains: x"),
    ("start_date=2020-01-02&end_date=2020-01-01&state=COMPLETE",
     "Dates must be today or earlier, and start must be earlier than end."),
    ("start_date=2020-01-01&end_date=2999-01-01&state=COMPLETE",
     "Dates must be today or earlier, and start must be earlier than end."),
    ("start_date=2020-01-01&end_date=2020-01-02", "Missing required parameter: 'state'"),
    ("start_date=2020-01-01&end_date=2020-01-02&state=NOPE", "Unknown retirement state."),
])
def test_retirements_by_status_and_date_bad_parameters(app, service_headers, query, message):
    response = app.get(BY_DATE + "?" + query, headers=service_headers, status=400)
    assert response.json == message


# -- {username}/retirement_status/ -------------------------------------------------------

def test_retirement_status(app, db, learner, service_headers, query_counter):
    status = queue(app, db, learner)
    response = app.get(PREFIX + "lena/retirement_status/", headers=service_headers)
    assert response.json["id"] == status.id
    assert response.json["current_state"]["state_name"] == "PENDING"
    assert "responses" not in response.json
    # Without the trailing slash too, and after retire/ renamed the user.
    move(db, status, "RETIRING_LMS")
    app.post_json(PREFIX + "retire/", {"username": "lena"}, headers=service_headers,
                  status=204)
    response = app.get(PREFIX + "lena/retirement_status", headers=service_headers)
    assert response.json["id"] == status.id
    assert response.json["user"]["username"] == status.retired_username
    # The hashed name is case-blind, as upstream's.
    assert app.get(PREFIX + "LENA/retirement_status/", headers=service_headers
                   ).json["id"] == status.id


def test_retirement_status_found_by_original_name_when_salts_changed(app_factory, db,
                                                                    learner):
    app = app_factory()
    service = create_user(db, SERVICE, password=None, is_staff=True)
    status = queue(app, db, learner)
    db.get(User, learner.id).username = "someone_else"
    db.commit()
    response = app.get(PREFIX + "lena/retirement_status/", headers=jwt_headers(app, service))
    assert response.json["id"] == status.id


def test_retirement_status_not_found_is_an_empty_404(app, db, learner, service_headers):
    for path in ("nobody/retirement_status/", "lena/retirement_status/"):
        response = app.get(PREFIX + path, headers=service_headers, status=404)
        assert response.body == b""


# -- update_retirement_status/ -----------------------------------------------------------

UPDATE = PREFIX + "update_retirement_status/"


def test_update_retirement_status_moves_forward_and_logs(app, db, learner, service_headers):
    status = queue(app, db, learner)
    response = app.patch_json(UPDATE, {"username": "lena", "new_state": "RETIRING_FORUMS",
                                       "response": "Starting: RETIRING_FORUMS"},
                              headers=service_headers, status=204)
    assert response.body == b""
    db.expire_all()
    status = db.get(UserRetirementStatus, status.id)
    assert current_state(db, status.id) == "RETIRING_FORUMS"
    assert status.last_state_id == state_id(db, "PENDING")
    assert status.responses.endswith(
        "\n Moved from PENDING (step 1) to RETIRING_FORUMS (step 31):\n"
        "Starting: RETIRING_FORUMS\n")
    # ERRORED -> ABORTED -> COMPLETE: the dead-end check never fires upstream either.
    for name in ("ERRORED", "ABORTED", "COMPLETE"):
        app.patch_json(UPDATE, {"username": "lena", "new_state": name, "response": name},
                       headers=service_headers, status=204)
    assert current_state(db, status.id) == "COMPLETE"


def test_update_retirement_status_force_moves_backwards(app, db, learner, service_headers):
    status = queue(app, db, learner)
    move(db, status, "ERRORED")
    app.patch_json(UPDATE, {"username": "lena", "new_state": "PENDING", "response": "retry",
                            "force": True}, headers=service_headers, status=204)
    assert current_state(db, status.id) == "PENDING"


@pytest.mark.parametrize("body, message", [
    ({"username": "lena", "response": "x"},
     "RetirementStatus: Required key new_state missing from update"),
    ({"username": "lena", "new_state": "RETIRING_LMS"},
     "RetirementStatus: Required key response missing from update"),
    ({"username": "lena", "new_state": "RETIRING_LMS", "response": "x", "extra": 1},
     "RetirementStatus: Unknown key extra in update"),
    ({"username": "lena", "new_state": "PENDING", "response": "x"},
     ("PENDING does not exist or is an eariler state than current state "
     "RETIRING_FORUMS (step 31)")),
    ({"username": "lena", "new_state": "NOPE", "response": "x"},
     "NOPE does not exist or is an eariler state than current state RETIRING_FORUMS (step 31)"),
    ({"username": "lena", "new_state": 7, "response": "x"},
     "7 does not exist or is an eariler state than current state RETIRING_FORUMS (step 31)"),
    ({"username": "lena", "new_state": "NOPE", "response": "x", "force": True},
     "RetirementState matching query does not exist."),
])
def test_update_retirement_status_refusals(app, db, learner, service_headers, body, message):
    status = queue(app, db, learner)
    move(db, status, "RETIRING_FORUMS")
    response = app.patch_json(UPDATE, body, headers=service_headers, status=400)
    assert response.json == message
    assert current_state(db, status.id) == "RETIRING_FORUMS"


def test_update_retirement_status_bad_bodies(app, db, learner, service_headers):
    status = queue(app, db, learner)
    body = {"username": "lena", "new_state": "RETIRING_FORUMS", "response": "x"}
    response = app.patch(UPDATE, body, headers=service_headers, status=415)
    assert response.json == {"detail": 'Unsupported media type '
                                       '"application/x-www-form-urlencoded" in request.'}
    response = app.patch(UPDATE, '{"username": "lena"}', status=415, headers=dict(
        service_headers, **{"Content-Type": "application/merge-patch+json"}))
    assert response.json == {"detail": 'Unsupported media type '
                                       '"application/merge-patch+json" in request.'}
    response = app.patch(UPDATE, "{nope", status=400, headers=dict(
        service_headers, **{"Content-Type": "application/json"}))
    assert response.json["detail"].startswith("JSON parse error - ")
    for bad in ({"new_state": "RETIRING_FORUMS", "response": "x"},
                {"username": "", "new_state": "RETIRING_FORUMS", "response": "x"}, [1, 2]):
        response = app.patch_json(UPDATE, bad, headers=service_headers, status=404)
        assert response.json == NO_USERNAME
    for unknown in ("LENA", "nobody", "le\x00na", 5):
        response = app.patch_json(UPDATE, dict(body, username=unknown),
                                  headers=service_headers, status=404)
        assert response.body == b""
    assert current_state(db, status.id) == "PENDING"


# -- retire_misc/ and retire/ ------------------------------------------------------------

def test_retire_misc(app, db, learner, service_headers):
    status = queue(app, db, learner)
    move(db, status, "RETIRING_LMS_MISC")
    db.add(PendingNameChange(user_id=learner.id, new_name="Lena New", rationale="married"))
    db.add(SocialAuthLink(user_id=learner.id, provider="github", uid="lena-gh"))
    db.commit()
    response = app.post_json(PREFIX + "retire_misc/", {"username": "lena"},
                             headers=service_headers, status=204)
    assert response.body == b""
    assert count(db, PendingNameChange) == 0 and count(db, SocialAuthLink) == 0


@pytest.mark.parametrize("path", ["retire_misc/", "retire/", "retirement_partner_report/"])
def test_steps_refuse_learners_not_in_a_working_state(app, db, learner, service_headers,
                                                      path):
    status = queue(app, db, learner)
    method = app.put_json if path == "retirement_partner_report/" else app.post_json
    for state in ("PENDING", "LMS_MISC_COMPLETE", "ERRORED", "COMPLETE"):
        move(db, status, state)
        db.expire_all()
        modified = db.get(UserRetirementStatus, status.id).modified
        order = db.get(RetirementState, state_id(db, state)).state_execution_order
        response = method(PREFIX + path, {"username": "lena"}, headers=service_headers,
                          status=400)
        assert response.json == (
            f"User: {learner.id} State: {state} (step {order}) Last Updated: {modified} is in "
            f"{state}, not a valid state to perform retirement actions on.")


@pytest.mark.parametrize("path", ["retire_misc/", "retire/", "retirement_partner_report/"])
def test_steps_bad_input(app, db, learner, service_headers, path):
    status = queue(app, db, learner)
    move(db, status, "RETIRING_LMS")
    method = "PUT" if path == "retirement_partner_report/" else "POST"
    url = PREFIX + path
    response = app.request(url, method=method, body=b"username=lena", status=415,
                           headers=dict(service_headers, **{
                               "Content-Type": "application/x-www-form-urlencoded"}))
    assert response.json["detail"].startswith("Unsupported media type")
    send_json = app.put_json if method == "PUT" else app.post_json
    for body in ({}, {"username": None}, ["lena"]):
        response = send_json(url, body, headers=service_headers, status=404)
        assert response.json == NO_USERNAME
    response = app.request(url, method=method, headers=service_headers, status=404)
    assert response.json == NO_USERNAME  # no body at all reads as {}
    for unknown in ("nobody", "Lena", {"a": 1}):
        response = send_json(url, {"username": unknown}, headers=service_headers, status=404)
        assert response.body == b""
    db.expire_all()
    assert db.get(User, learner.id).username == "lena"


def give_everything(db, user):
    """Data retire/ must scrub, in the accounts plugin and another plugin."""
    profile = api.get_profile(db, user.id, create=True)
    for field, value in {"year_of_birth": 1990, "gender": "f", "level_of_education": "b",
                         "mailing_address": "1 Main St", "city": "Lyon", "state": "MA",
                         "country": "FR", "goals": "learn", "bio": "about Lena",
                         "phone_number": "+331234", "secondary_email": "l2@example.com",
                         "secondary_email_active": True, "meta": {"nick": "lenny"},
                         "social_links": [{"platform": "x", "social_link": "https://x.com/l"}],
                         "language_proficiencies": [{"code": "fr"}],
                         "profile_image_uploaded_at": utcnow()}.items():
        setattr(profile, field, value)
    api.set_preference(db, user.id, "pref-lang", "fr")
    db.add(UserOrgTag(user_id=user.id, org="edX", key="email-optin", value="True"))
    db.add(PendingEmailChange(user_id=user.id, new_email="lena.new@example.com",
                              activation_key="p" * 32))
    db.add(VerificationAttempt(user_id=user.id, verification_type="ManualVerification",
                               status="approved", name="Lena Learner"))
    db.add(ExperimentData(user_id=user.id, experiment_id=1, key="k", value="lena"))
    db.commit()


def test_retire(app, db, learner, service_headers):
    status = queue(app, db, learner)
    give_everything(db, learner)
    directory = images.image_settings(app.registry).directory
    names = profile_image_file_names(account_config(app.registry), "lena").values()
    os.makedirs(directory, exist_ok=True)
    for name in names:
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(b"jpeg")
    move(db, status, "RETIRING_LMS")
    response = app.post_json(PREFIX + "retire/", {"username": "lena"},
                             headers=service_headers, status=204)
    assert response.body == b""
    db.expire_all()
    user = db.get(User, learner.id)
    assert (user.username, user.email, user.name, user.is_active) == (
        status.retired_username, status.retired_email, "", False)
    profile = api.get_profile(db, learner.id)
    for field in ("year_of_birth", "gender", "mailing_address", "city", "state", "country",
                  "goals", "bio", "phone_number", "secondary_email",
                  "profile_image_uploaded_at"):
        assert getattr(profile, field) is None, field
    assert (profile.meta, profile.social_links, profile.secondary_email_active) == ({}, [],
                                                                                   False)
    # Not PII: kept, as upstream keeps them.
    assert profile.level_of_education == "b" and profile.language_proficiencies == [
        {"code": "fr"}]
    for model in (UserPreference, UserOrgTag, PendingEmailChange, ExperimentData):
        assert count(db, model) == 0, model
    assert db.scalar(select(VerificationAttempt.name)) == ""
    assert db.scalar(select(VerificationAttempt.status)) == "approved"
    assert not any(os.path.exists(os.path.join(directory, name)) for name in names)
    # The record keeps the original identity until retirement_cleanup/.
    kept = db.get(UserRetirementStatus, status.id)
    assert (kept.original_username, kept.original_email) == ("lena", "lena@example.com")
    # Nobody may take the retired names.
    assert api.is_username_retired(db, app.registry.settings, "lena")
    assert api.is_email_retired(db, app.registry.settings, "lena@example.com")


def test_retire_failing_plugin_rolls_everything_back(app, db, learner, service_headers):
    status = queue(app, db, learner)
    give_everything(db, learner)
    move(db, status, "RETIRING_LMS")
    FAILURES["retire"] = RuntimeError("notes service unreachable")
    response = app.post_json(PREFIX + "retire/", {"username": "lena"},
                             headers=service_headers, status=500)
    assert response.json == "notes service unreachable"
    db.expire_all()
    assert db.get(User, learner.id).username == "lena"
    assert api.get_profile(db, learner.id).city == "Lyon"
    assert count(db, ExperimentData) == 1 and count(db, UserPreference) == 1


# -- partner reporting -------------------------------------------------------------------

PARTNER = PREFIX + "retirement_partner_report/"
PARTNER_CLEANUP = PREFIX + "retirement_partner_report_cleanup/"


def test_partner_report_round_trip(app, db, learner, other, service_headers):
    first, second = queue(app, db, learner), queue(app, db, other)
    ORGS[learner.id] = ["edX", "MITx", "edX", "", "outdated_entry"]
    for status in (first, second):
        move(db, status, "RETIRING_LMS")
    for name in ("lena", "otto"):
        response = app.put_json(PARTNER, {"username": name}, headers=service_headers,
                                status=204)
        assert response.body == b""
    # Only the learner with enrollments is queued; twice is still once.
    app.put_json(PARTNER, {"username": "lena"}, headers=service_headers, status=204)
    row = db.scalar(select(UserRetirementPartnerReport))
    assert (row.user_id, row.original_username, row.original_email, row.original_name,
            row.is_being_processed) == (learner.id, "lena", "lena@example.com",
                                        "Lena Learner", False)
    assert count(db, UserRetirementPartnerReport) == 1
    report = app.post(PARTNER, headers=dict(service_headers, **{
        "Content-Type": "application/json"}), status=200).json
    assert report == [{"user_id": learner.id, "original_username": "lena",
                       "original_email": "lena@example.com", "original_name": "Lena Learner",
                       "orgs": ["MITx", "edX"], "created": report[0]["created"]}]
    assert report[0]["created"].endswith("Z")
    db.expire_all()
    assert db.scalar(select(UserRetirementPartnerReport.is_being_processed)) is True
    assert app.post(PARTNER, headers=service_headers).json == []
    response = app.post_json(PARTNER_CLEANUP, [{"original_username": "lena"}],
                             headers=service_headers, status=204)
    assert response.body == b""
    assert count(db, UserRetirementPartnerReport) == 0


def test_partner_report_cleanup_refusals(app, db, learner, service_headers):
    status = queue(app, db, learner)
    move(db, status, "RETIRING_LMS")
    ORGS[learner.id] = ["edX"]
    app.put_json(PARTNER, {"username": "lena"}, headers=service_headers, status=204)
    # Not yet being processed: not found.
    response = app.post_json(PARTNER_CLEANUP, [{"original_username": "lena"}],
                             headers=service_headers, status=400)
    assert response.json == ("1 original_usernames given, 0 found!\nGiven usernames:\n"
                             "['lena']\nFound UserRetirementReportingStatuses:\n")
    app.post(PARTNER, headers=service_headers, status=200)
    response = app.post_json(PARTNER_CLEANUP, [{"original_username": "lena"},
                                               {"original_username": "Lena"}],
                             headers=service_headers, status=400)
    assert response.json == ("2 original_usernames given, 1 found!\nGiven usernames:\n"
                             "['lena', 'Lena']\nFound UserRetirementReportingStatuses:\nlena")
    response = app.post_json(PARTNER_CLEANUP, [], headers=service_headers, status=400)
    assert response.json == "No original_usernames given."
    for bad in ({"original_username": "lena"}, [{"username": "lena"}], ["lena"]):
        response = app.post_json(PARTNER_CLEANUP, bad, headers=service_headers, status=400)
        assert response.json == 'Expected a JSON array of {"original_username": ...} objects.'
    response = app.post(PARTNER_CLEANUP, {"original_username": "lena"},
                        headers=service_headers, status=415)
    assert response.json["detail"].startswith("Unsupported media type")
    assert count(db, UserRetirementPartnerReport) == 1


# -- retirement_cleanup/ -----------------------------------------------------------------

CLEANUP = PREFIX + "retirement_cleanup/"


def test_retirement_cleanup(app, db, learner, other, service_headers):
    first, second = queue(app, db, learner), queue(app, db, other)
    move(db, first, "COMPLETE")
    move(db, second, "COMPLETE")
    response = app.post_json(CLEANUP, {"usernames": ["lena", "otto"],
                                       "redacted_username": "gone"},
                             headers=service_headers, status=204)
    assert response.body == b""
    assert count(db, UserRetirementStatus) == 0
    # The request rows stay: they mark the accounts as retired, with no PII.
    assert count(db, UserRetirementRequest) == 2
    app.post_json(CLEANUP, {"usernames": []}, headers=service_headers, status=204)


@pytest.mark.parametrize("body, message", [
    ({}, "Missing required parameter: 'usernames'"),
    ([], "Missing required parameter: 'usernames'"),
    ({"usernames": "lena"}, "Usernames should be an array."),
    ({"usernames": ["lena", "otto"]}, "Not all usernames exist in the COMPLETE state."),
    ({"usernames": ["lena", "lena"]}, "Not all usernames exist in the COMPLETE state."),
    ({"usernames": ["LENA"]}, "Not all usernames exist in the COMPLETE state."),
    ({"usernames": [3, None]}, "Not all usernames exist in the COMPLETE state."),
    ({"usernames": ["lena"], "redacted_name": 5}, "Not a valid string."),
    ({"usernames": ["lena"], "redacted_email": "x" * 255},
     "redacted_email must be at most 254 characters."),
])
def test_retirement_cleanup_refusals(app, db, learner, other, service_headers, body, message):
    first, second = queue(app, db, learner), queue(app, db, other)
    move(db, first, "COMPLETE")
    move(db, second, "LMS_COMPLETE")
    response = app.post_json(CLEANUP, body, headers=service_headers, status=400)
    assert response.json == message
    assert count(db, UserRetirementStatus) == 2
    assert db.scalar(select(UserRetirementStatus.original_username)
                     .where(UserRetirementStatus.id == first.id)) == "lena"


def test_retirement_cleanup_is_json_only(app, service_headers):
    response = app.post(CLEANUP, {"usernames": "lena"}, headers=service_headers, status=415)
    assert response.json["detail"].startswith("Unsupported media type")


# -- cancel_retirement/ ------------------------------------------------------------------

CANCEL = PREFIX + "cancel_retirement/"


@pytest.fixture
def admin(db):
    return create_user(db, "admin", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("as_form", [False, True])
def test_cancel_retirement(app, db, learner, admin, as_form):
    status = queue(app, db, learner)
    headers = jwt_headers(app, admin)
    if as_form:
        response = app.post(CANCEL, {"retirement_id": str(status.id)}, headers=headers)
    else:
        response = app.post_json(CANCEL, {"retirement_id": status.id}, headers=headers)
    assert response.status_code == 200 and response.json == {"success": True}
    db.expire_all()
    user = db.get(User, learner.id)
    assert user.email == "lena@example.com" and user.is_active
    assert is_usable(user.password) and not verify_password("password123", user.password)[0]
    assert count(db, UserRetirementStatus) == 0 and count(db, UserRetirementRequest) == 0


def test_cancel_retirement_refusals(app, db, learner, admin, service_headers):
    status = queue(app, db, learner)
    headers = jwt_headers(app, admin)
    # The retirement service is not allowed to cancel (CanCancelUserRetirement).
    app.post_json(CANCEL, {"retirement_id": status.id}, headers=service_headers, status=403)
    for body, message in (
            ({}, "retirement_id must be specified."),
            ([], "retirement_id must be specified."),
            ({"retirement_id": status.id + 1000}, "Retirement does not exist!"),
            ({"retirement_id": "abc"}, "Retirement does not exist!"),
            ({"retirement_id": None}, "Retirement does not exist!"),
            ({"retirement_id": True}, "Retirement does not exist!"),
            ({"retirement_id": 10**30}, "Retirement does not exist!")):
        response = app.post_json(CANCEL, body, headers=headers, status=400)
        assert response.json == {"message": message}
    move(db, status, "RETIRING_FORUMS")
    response = app.post_json(CANCEL, {"retirement_id": status.id}, headers=headers, status=400)
    assert response.json == {"message": "Retirement requests can only be cancelled for users "
                                        "in the PENDING state. Current request state for "
                                        "'lena': RETIRING_FORUMS"}
    response = app.post(CANCEL, "x", headers=dict(headers, **{"Content-Type": "text/plain"}),
                        status=415)
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}
    assert count(db, UserRetirementStatus) == 1
