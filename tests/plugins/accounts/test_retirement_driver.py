"""Open edX's retirement driver (``scripts/user_retirement``, formerly tubular) against a
live openlms over HTTP.

``Driver`` makes the calls the driver's ``LmsApi`` makes, the way it makes them: a
client-credentials JWT from ``/oauth2/access_token`` (``token_type=jwt``) sent as
``Authorization: JWT`` by edx-rest-api-client's ``SuppliedJwtAuth``; every URL
with a trailing slash appended; ``Content-type: application/json`` on every
call, GETs without a body included; ``states`` repeated in the query; 204s not
parsed, other 2xx parsed as JSON; 404s as "does not exist"; 5xx (but 504)
retried. ``retire_one_learner`` follows ``retire_one_learner.py``: refuse end
and working states, then for each configured step PATCH the start state, call
the step, PATCH the end state; finally COMPLETE, or ERRORED with the error text.
"""
import pytest
import requests
from sqlalchemy import select

from lms.models import User
from lms.oauth import create_application
from lms.testing import configure_django_for_edx_rest_api_client, create_user, jwt_for
from plugins.accounts.models import RetirementState, UserRetirementStatus
from tests.plugins.accounts.test_retirement import (
    FAILURES,
    ORGS,
    retirement_test_plugin,
)

START_STATE = "PENDING"
END_STATES = ("ERRORED", "ABORTED", "COMPLETE")
# [START, END, SERVICE, method], as in the driver's YAML config (LMS service only).
PIPELINE = [
    ["RETIRING_FORUMS", "FORUMS_COMPLETE", "LMS", "retirement_retire_forum"],
    ["RETIRING_LMS_MISC", "LMS_MISC_COMPLETE", "LMS", "retirement_lms_retire_misc"],
    ["RETIRING_LMS", "LMS_COMPLETE", "LMS", "retirement_lms_retire"],
]


class DoesNotExist(Exception):
    """The driver's HttpDoesNotExistException."""


class Driver:
    """The retirement driver's LMS client (utils/edx_api.py ``LmsApi``)."""

    def __init__(self, base_url, client_id, client_secret, attempts=2):
        from edx_rest_api_client.auth import SuppliedJwtAuth

        response = requests.post(base_url + "/oauth2/access_token", timeout=10, data={
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": client_secret, "token_type": "jwt"},
            headers={"User-Agent": "scripts.user_retirement"})
        response.raise_for_status()
        self.auth = SuppliedJwtAuth(response.json()["access_token"])
        self.base_url = base_url
        self.attempts = attempts  # the driver backs off for up to 10 minutes; tests don't
        self.calls = []

    def url(self, path):
        return f"{self.base_url}/{path.strip('/')}/"

    def request(self, method, path, **kwargs):
        kwargs.setdefault("headers", {"Content-type": "application/json"})
        for attempt in range(self.attempts):
            response = requests.request(method, self.url(path), auth=self.auth, timeout=10,
                                        **kwargs)
            self.calls.append((method, response.request.url, response.status_code))
            retry = 500 <= response.status_code < 600 and response.status_code != 504
            if not retry or attempt == self.attempts - 1:
                break
        try:
            response.raise_for_status()
        except requests.HTTPError as exc:
            if response.status_code == 404:
                raise DoesNotExist(str(exc))
            raise
        if response.status_code != 204:
            return response.json()
        return response

    # -- LmsApi ---------------------------------------------------------------------------

    def learners_to_retire(self, states, cool_off_days=7, limit=None):
        params = {"cool_off_days": cool_off_days, "states": states}
        if limit:
            params["limit"] = limit
        return self.request("GET", "api/user/v1/accounts/retirement_queue", params=params)

    def get_learners_by_date_and_status(self, state, start_date, end_date):
        return self.request("GET", "api/user/v1/accounts/retirements_by_status_and_date",
                            params={"start_date": start_date, "end_date": end_date,
                                    "state": state})

    def get_learner_retirement_state(self, username):
        return self.request("GET", f"api/user/v1/accounts/{username}/retirement_status")

    def update_learner_retirement_state(self, username, new_state, message, force=False):
        data = {"username": username, "new_state": new_state, "response": message}
        if force:
            data["force"] = True
        return self.request("PATCH", "api/user/v1/accounts/update_retirement_status",
                            json=data)

    def retirement_retire_forum(self, learner):
        try:
            return self.request("POST", "api/discussion/v1/accounts/retire_forum",
                                json={"username": learner["original_username"]})
        except DoesNotExist:
            return True  # no forum data: done

    def retirement_lms_retire_misc(self, learner):
        return self.request("POST", "api/user/v1/accounts/retire_misc",
                            json={"username": learner["original_username"]})

    def retirement_lms_retire(self, learner):
        return self.request("POST", "api/user/v1/accounts/retire",
                            json={"username": learner["original_username"]})

    def retirement_partner_queue(self, learner):
        return self.request("PUT", "api/user/v1/accounts/retirement_partner_report",
                            json={"username": learner["original_username"]})

    def retirement_partner_report(self):
        return self.request("POST", "api/user/v1/accounts/retirement_partner_report")

    def retirement_partner_cleanup(self, usernames):
        return self.request("POST", "api/user/v1/accounts/retirement_partner_report_cleanup",
                            json=usernames)

    def bulk_cleanup_retirements(self, usernames):
        return self.request("POST", "api/user/v1/accounts/retirement_cleanup",
                            json={"usernames": usernames})


class DriverFailed(Exception):
    pass


def all_states(pipeline):
    states = [START_STATE]
    for start, end, _, _ in pipeline:
        states += [start, end]
    return states + list(END_STATES)


def retire_one_learner(driver, username, pipeline=PIPELINE):
    """retire_one_learner.py's flow; raises DriverFailed where the script exits non-zero."""
    states = all_states(pipeline)
    working = [step[0] for step in pipeline]
    try:
        learner = driver.get_learner_retirement_state(username)
    except DoesNotExist:
        raise DriverFailed(f"Learner {username} not found.")
    state = learner["current_state"]["state_name"]
    if state in END_STATES:
        raise DriverFailed(f"User already in end state: {state}")
    if state in working:
        raise DriverFailed(f"User is already in a working state! {state}")
    index = states.index(state)
    start = None
    try:
        for start, end, _, method in pipeline:
            if states.index(start) < index:
                continue
            driver.update_learner_retirement_state(username, start, f"Starting: {start}")
            response = getattr(driver, method)(learner)
            driver.update_learner_retirement_state(
                username, end, f"Ending: {end} with response:\n{response}")
        driver.update_learner_retirement_state(username, "COMPLETE",
                                               "Learner retirement complete.")
    except Exception as exc:
        driver.update_learner_retirement_state(username, "ERRORED", str(exc))
        raise DriverFailed(f'Error encountered in state "{start}"') from exc


@pytest.fixture(scope="module")
def profile_image_dir(tmp_path_factory):
    """One folder for the module, so its tests share one built app (a folder per test
    would change the settings, and build an app, every time)."""
    return str(tmp_path_factory.mktemp("profile-images"))


@pytest.fixture
def app(app_factory, settings, add_plugins, profile_image_dir):
    add_plugins(retirement_test_plugin)
    settings["accounts.profile_image_dir"] = profile_image_dir
    ORGS.clear()
    FAILURES.clear()
    yield app_factory(**settings)
    ORGS.clear()
    FAILURES.clear()


@pytest.fixture
def driver(app, db, live_server):
    configure_django_for_edx_rest_api_client()
    service = create_user(db, "retirement_service_worker", password=None, is_staff=True)
    application, secret = create_application(db, name="retirement", user=service,
                                             grant_type="client-credentials")
    db.commit()
    return Driver(live_server, application.client_id, secret)


def deactivate(app, live_server, user, password="password123"):
    """The learner's own request (the account MFE posts the password as a form)."""
    response = requests.post(live_server + "/api/user/v1/accounts/deactivate_logout/",
                             data={"password": password}, timeout=10,
                             headers={"Authorization": "JWT " + jwt_for(app, user)})
    assert response.status_code == 204, response.text
    assert response.content == b""


def status_of(db, username):
    db.expire_all()
    status = db.scalar(select(UserRetirementStatus).where(
        UserRetirementStatus.original_username == username))
    return status, db.get(RetirementState, status.current_state_id).state_name


def test_the_driver_retires_learners(app, db, live_server, driver):
    lena = create_user(db, "lena", email="lena@example.com", name="Lena Learner")
    otto = create_user(db, "otto", email="otto@example.com", name="Otto Other")
    for user in (lena, otto):
        deactivate(app, live_server, user)
    ORGS[lena.id] = ["edX"]

    # get_learners_to_retire: PENDING plus each pipeline end state, repeated in the query.
    states = ["PENDING"] + [step[1] for step in PIPELINE]
    learners = driver.learners_to_retire(states, cool_off_days=0, limit=200)
    assert [learner["original_username"] for learner in learners] == ["lena", "otto"]
    method, url, code = driver.calls[-1]
    assert (method, code) == ("GET", 200)
    assert "retirement_queue/?cool_off_days=0&states=PENDING&states=FORUMS_COMPLETE" in url
    assert all(learner["current_state"]["state_name"] == "PENDING" for learner in learners)

    # The partner queue runs as a step too in this deployment's pipeline.
    pipeline = [PIPELINE[0],
                ["RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE", "LMS",
                 "retirement_partner_queue"],
                *PIPELINE[1:]]
    for learner in learners:
        retire_one_learner(driver, learner["original_username"], pipeline)

    for username, user in (("lena", lena), ("otto", otto)):
        status, state = status_of(db, username)
        assert state == "COMPLETE"
        assert "Moved from LMS_COMPLETE (step 141) to COMPLETE (step 171):\n" \
               "Learner retirement complete.\n" in status.responses
        assert "Ending: FORUMS_COMPLETE with response:\nTrue" in status.responses
        retired = db.get(User, user.id)
        assert retired.username == status.retired_username and not retired.is_active
    # Each step answered 204 (no body), the forum step a 404 the driver takes as done.
    codes = {(method, url.split("/api/")[1], code) for method, url, code in driver.calls}
    assert ("POST", "discussion/v1/accounts/retire_forum/", 404) in codes
    for method, path in (("POST", "retire_misc/"), ("POST", "retire/"),
                         ("PUT", "retirement_partner_report/"),
                         ("PATCH", "update_retirement_status/")):
        assert (method, "user/v1/accounts/" + path, 204) in codes
    # The status is still found by the original username after the rename.
    assert driver.get_learner_retirement_state("lena")["current_state"]["state_name"] == \
        "COMPLETE"
    with pytest.raises(DriverFailed, match="User already in end state: COMPLETE"):
        retire_one_learner(driver, "lena")

    # retirement_partner_report: report, then clean up what was reported.
    report = driver.retirement_partner_report()
    assert [(row["original_username"], row["orgs"]) for row in report] == [("lena", ["edX"])]
    driver.retirement_partner_cleanup([{"original_username": row["original_username"]}
                                       for row in report])
    assert driver.retirement_partner_report() == []

    # retirement_archive_and_cleanup: COMPLETE learners since 2018, then cleanup.
    from lms.timeutil import utcnow

    complete = driver.get_learners_by_date_and_status("COMPLETE", "2018-01-01",
                                                      utcnow().date().isoformat())
    assert [row["original_username"] for row in complete] == ["lena", "otto"]
    assert {"id", "original_email", "retired_username", "created", "modified"} <= set(
        complete[0]) and complete[0]["user"]["id"] == lena.id
    driver.bulk_cleanup_retirements([row["original_username"] for row in complete])
    assert db.scalar(select(UserRetirementStatus.id)) is None
    with pytest.raises(DriverFailed, match="Learner lena not found"):
        retire_one_learner(driver, "lena")


def test_a_failing_step_is_recorded_as_errored(app, db, live_server, driver):
    lena = create_user(db, "lena", email="lena@example.com", name="Lena Learner")
    deactivate(app, live_server, lena)
    FAILURES["retire"] = RuntimeError("the notes service is unreachable")
    with pytest.raises(DriverFailed, match='Error encountered in state "RETIRING_LMS"'):
        retire_one_learner(driver, "lena")
    status, state = status_of(db, "lena")
    assert state == "ERRORED"
    # The driver retried the 500, then recorded the HTTP error it got.
    failed = [call for call in driver.calls if call[1].endswith("/accounts/retire/")]
    assert [code for _, _, code in failed] == [500, 500]
    assert "Moved from RETIRING_LMS (step 131) to ERRORED (step 151):\n" \
           "500 Server Error: Internal Server Error for url: " in status.responses
    # The failed step changed nothing; the earlier ones are done.
    db.expire_all()
    assert db.get(User, lena.id).username == "lena"
    assert status.last_state_id == db.scalar(select(RetirementState.id).where(
        RetirementState.state_name == "RETIRING_LMS"))
    # The learner is not picked up again until an operator acts.
    with pytest.raises(DriverFailed, match="User already in end state: ERRORED"):
        retire_one_learner(driver, "lena")
    # An operator moves them back (force) and the driver finishes the job.
    FAILURES.clear()
    driver.update_learner_retirement_state("lena", "LMS_MISC_COMPLETE", "retry", force=True)
    retire_one_learner(driver, "lena")
    assert status_of(db, "lena")[1] == "COMPLETE"


def test_the_driver_error_text_reaches_the_log(app, db, live_server, driver):
    """A refusal the LMS explains (400 with a message) is what the driver records."""
    lena = create_user(db, "lena", email="lena@example.com")
    deactivate(app, live_server, lena)
    driver.update_learner_retirement_state("lena", "RETIRING_LMS_MISC", "Starting")
    driver.update_learner_retirement_state("lena", "LMS_MISC_COMPLETE", "Ending")
    with pytest.raises(requests.HTTPError) as caught:
        driver.retirement_lms_retire({"original_username": "lena"})
    assert caught.value.response.status_code == 400
    assert caught.value.response.json().endswith(
        "is in LMS_MISC_COMPLETE, not a valid state to perform retirement actions on.")
    driver.update_learner_retirement_state("lena", "ERRORED", caught.value.response.text)
    status, state = status_of(db, "lena")
    assert state == "ERRORED"
    assert "not a valid state to perform retirement actions on." in status.responses
