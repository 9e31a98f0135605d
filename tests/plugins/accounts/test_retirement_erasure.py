"""Nothing of a retired person is left: a learner with data in every installed plugin's
tables (and the core's) goes through the whole pipeline over HTTP, then every column of
every table in the database is scanned for their username, email and name.

The scan runs after ``retirement_cleanup/`` and the partner report's cleanup:
until then upstream keeps the original identity in those two queues on purpose
(the driver archives it, partners are told). Just before the cleanups the scan
finds the person only there.
"""
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, select

from lms.models import (
    CourseAccessRole,
    LoginFailure,
    OAuthAccessToken,
    OAuthRefreshToken,
)
from lms.oauth import create_application
from lms.plugins import discover
from lms.testing import create_user, jwt_headers
from lms.timeutil import utcnow
from plugins.accounts import api
from plugins.accounts.models import (
    Demographics,
    DiscussionTour,
    PendingEmailChange,
    PendingNameChange,
    Registration,
    SocialAuthLink,
    UserOrgTag,
    UserRetirementPartnerReport,
    UserRetirementStatus,
    UserTour,
    VerificationAttempt,
)
from plugins.courses.models import Celebration
from plugins.experiments.models import ExperimentData
from tests.plugins.accounts.test_retirement import ORGS, retirement_test_plugin

PREFIX = "/api/user/v1/accounts/"
USERNAME = "zyxquorth"
EMAIL = "Zyx.Quorth.Mail@example.com"
NAME = "Zyxanna Quorthwaite"
PASSWORD = "a-long-password-1"
# The pipeline an operator's driver would run against openlms (its LMS steps). The
# default states have no partner-queue pair: the PUT only needs a working state.
STEPS = [("RETIRING_FORUMS", "FORUMS_COMPLETE", []),
         ("RETIRING_ENROLLMENTS", "ENROLLMENTS_COMPLETE", []),
         ("RETIRING_LMS_MISC", "LMS_MISC_COMPLETE",
          [("PUT", "retirement_partner_report/"), ("POST", "retire_misc/")]),
         ("RETIRING_LMS", "LMS_COMPLETE", [("POST", "retire/")])]


@pytest.fixture(scope="module")
def profile_image_dir(tmp_path_factory):
    """One folder for the module, so its tests share one built app (a folder per test
    would change the settings, and build an app, every time)."""
    return str(tmp_path_factory.mktemp("profile-images"))


@pytest.fixture
def app(app_factory, settings, add_plugins, profile_image_dir):
    """Every installed plugin enabled (the hello example too, when installed), plus the
    test plugin answering enrollment orgs."""
    add_plugins(retirement_test_plugin)
    settings["accounts.profile_image_dir"] = profile_image_dir
    installed = discover()
    extra = [name for name, info in installed.items() if not info.builtin]
    settings["lms.plugins"] = " ".join(["builtins", *extra])
    ORGS.clear()
    yield app_factory(**settings)
    ORGS.clear()


def enabled(app):
    return [info.name for info in app.registry["lms.enabled_plugins"]]


def give_data_everywhere(app, db, user, service):
    """A row in every table that holds something of a person."""
    profile = api.get_profile(db, user.id, create=True)
    profile.bio = f"I am {NAME}, {USERNAME} everywhere."
    profile.goals = f"{NAME} wants to learn"
    profile.mailing_address = f"{NAME}\n1 Main Street"
    profile.city, profile.country, profile.year_of_birth = "Lyon", "FR", 1990
    profile.phone_number = "+33123456"
    profile.meta = {"nickname": USERNAME}
    profile.social_links = [{"platform": "github",
                             "social_link": f"https://github.com/{USERNAME}"}]
    profile.secondary_email = f"{USERNAME}.recovery@example.com"
    profile.profile_image_uploaded_at = utcnow()
    api.set_preference(db, user.id, "pref-lang", "fr")
    api.set_preference(db, user.id, "signature", f"-- {NAME}")
    db.add_all([
        Registration(user_id=user.id, activation_key="r" * 32),
        PendingEmailChange(user_id=user.id, new_email=f"{USERNAME}.new@example.com",
                           activation_key="e" * 32),
        PendingNameChange(user_id=user.id, new_name=f"{NAME} Jr", rationale="typo"),
        VerificationAttempt(user_id=user.id, verification_type="SSOVerification",
                            status="approved", name=NAME),
        SocialAuthLink(user_id=user.id, provider="google-oauth2", uid=EMAIL.lower(),
                       extra_data={"email": EMAIL, "name": NAME}),
        UserOrgTag(user_id=user.id, org="edX", key="email-optin", value="True"),
        UserTour(user_id=user.id, course_home_tour_status="show-new-user-tour"),
        DiscussionTour(user_id=user.id, tour_type="not_responded_filter"),
        Demographics(user_id=user.id),
        ExperimentData(user_id=user.id, experiment_id=7, key="greeting",
                       value=f"hello {USERNAME}"),
        Celebration(user_id=user.id, course_key="course-v1:edX+Demo+2024",
                    celebrate_first_section=True),
        CourseAccessRole(user_id=user.id, org="edX", course_key="course-v1:edX+Demo+2024",
                         role="beta_testers"),
        LoginFailure(user_id=user.id, failure_count=1),
    ])
    mobile, _ = create_application(db, name="mobile", user=service, grant_type="password")
    create_application(db, name=f"{USERNAME}'s script", user=user,
                       grant_type="client-credentials")
    token = OAuthAccessToken(token_hash="t" * 64, application_id=mobile.id, user_id=user.id,
                             expires=utcnow() + timedelta(hours=1))
    db.add(token)
    db.flush()
    db.add(OAuthRefreshToken(token_hash="f" * 64, application_id=mobile.id, user_id=user.id,
                             access_token_id=token.id, expires=utcnow() + timedelta(days=9)))
    if "hello" in enabled(app):
        from openlms_hello.api import create_greeting

        create_greeting(db, user, f"Welcome, {NAME} ({USERNAME})!")
    db.commit()


def find_person(engine, needles):
    """``[(table, column, value)]`` of every stored value containing a needle."""
    metadata = MetaData()
    metadata.reflect(bind=engine)
    lowered = [needle.lower() for needle in needles]
    found = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns.keys(), row):
                    if value is None:
                        continue
                    text = (value.decode("utf-8", "replace") if isinstance(value, bytes)
                            else str(value)).lower()
                    if any(needle in text for needle in lowered):
                        found.append((table.name, column, str(value)))
    return found


@pytest.mark.commits  # reads every table through its own connection
def test_nothing_of_a_retired_person_is_left(app, db, engine):
    service = create_user(db, "retirement_service_worker", password=None, is_staff=True)
    person = create_user(db, USERNAME, email=EMAIL, name=NAME, password=PASSWORD)
    give_data_everywhere(app, db, person, service)
    ORGS[person.id] = ["edX"]
    needles = (USERNAME, EMAIL, NAME)
    tables_before = {table for table, _, _ in find_person(engine, needles)}
    assert {"lms_user", "accounts_profile", "accounts_preference", "accounts_social_auth",
            "accounts_verification", "accounts_pending_name_change",
            "accounts_pending_email_change", "experiments_data",
            "lms_oauth_application"} <= tables_before
    assert set(enabled(app)) >= set(discover())  # every installed plugin takes part
    if "hello" in enabled(app):
        assert "hello_greeting" in tables_before

    # The learner asks, with their password.
    app.post(PREFIX + "deactivate_logout/", {"password": PASSWORD},
             headers=jwt_headers(app, person), status=204)

    # The driver: queue, then each step between its two states.
    headers = jwt_headers(app, service)
    queued = app.get(PREFIX + "retirement_queue/?cool_off_days=0&states=PENDING",
                     headers=headers).json
    assert [row["original_username"] for row in queued] == [USERNAME]

    def move(state, message):
        app.patch_json(PREFIX + "update_retirement_status/",
                       {"username": USERNAME, "new_state": state, "response": message},
                       headers=headers, status=204)

    for start, end, calls in STEPS:
        move(start, f"Starting: {start}")
        for method, path in calls:
            send = app.put_json if method == "PUT" else app.post_json
            send(PREFIX + path, {"username": USERNAME}, headers=headers, status=204)
        move(end, f"Ending: {end} with response:\nNone")
    move("COMPLETE", "Learner retirement complete.")

    # Before the cleanups, the person is only in the two queues meant to hold them.
    db.expire_all()
    left = find_person(engine, needles)
    assert {table for table, _, _ in left} == {"accounts_retirement_status",
                                               "accounts_retirement_partner_report"}, left

    # The partner report job, then the archive-and-cleanup job.
    report = app.post(PREFIX + "retirement_partner_report/", headers=headers).json
    assert [(row["original_username"], row["orgs"]) for row in report] == [(USERNAME, ["edX"])]
    app.post_json(PREFIX + "retirement_partner_report_cleanup/",
                  [{"original_username": USERNAME}], headers=headers, status=204)
    today = utcnow().date().isoformat()
    complete = app.get(PREFIX + "retirements_by_status_and_date/?start_date=2018-01-01"
                       f"&end_date={today}&state=COMPLETE", headers=headers).json
    assert [row["original_username"] for row in complete] == [USERNAME]
    app.post_json(PREFIX + "retirement_cleanup/", {"usernames": [USERNAME]}, headers=headers,
                  status=204)

    assert find_person(engine, needles) == []
    assert db.scalar(select(UserRetirementStatus.id)) is None
    assert db.scalar(select(UserRetirementPartnerReport.id)) is None
    # The account itself remains, renamed and inactive: the names stay taken.
    settings = app.registry.settings
    assert api.is_username_retired(db, settings, USERNAME)
    assert api.is_email_retired(db, settings, EMAIL)
