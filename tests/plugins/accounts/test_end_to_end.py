"""A person's whole life in openlms, over real HTTP: register → the activation email
lands in the mail folder (``var/mail/`` in development) → activate → log in → PATCH
the account → set preferences → upload a profile image → ``deactivate_logout/`` →
the retirement driver takes them to COMPLETE → nothing of the person is left.
"""
import email
import io
import json
import os
import re

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from lms.oauth import create_application
from lms.testing import configure_django_for_edx_rest_api_client, create_user
from plugins.accounts.models import UserRetirementStatus
from tests.plugins.accounts.test_retirement import (
    FAILURES,
    ORGS,
    retirement_test_plugin,
)
from tests.plugins.accounts.test_retirement_driver import Driver, retire_one_learner
from tests.plugins.accounts.test_retirement_erasure import find_person

USERNAME = "qwendolyn"
EMAIL = "qwendolyn.mail@example.com"
NAME = "Qwendolyn Vortigern"
PASSWORD = "a-fine-password-42"
ACCOUNTS = "/api/user/v1/accounts/"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def folders(tmp_path):
    return {"mail": tmp_path / "mail", "images": tmp_path / "profile-images"}


@pytest.fixture
def app(app_factory, settings, add_plugins, folders):
    add_plugins(retirement_test_plugin)
    settings.update({"mail.backend": "file", "mail.file_path": str(folders["mail"]),
                     "accounts.profile_image_dir": str(folders["images"])})
    ORGS.clear()
    FAILURES.clear()
    yield app_factory(**settings)
    ORGS.clear()


def png_bytes():
    image = Image.new("RGB", (200, 160), (30, 120, 200))
    for x in range(200):
        image.putpixel((x, x % 160), (x, 10, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def csrf_token(browser, base):
    return browser.get(base + "/csrf/api/v1/token", timeout=10).json()["csrfToken"]


def read_mail(folder):
    messages = []
    for name in sorted(os.listdir(folder)):
        with open(folder / name, "rb") as handle:
            messages.append(email.message_from_binary_file(handle,
                                                           policy=email.policy.default))
    return messages


def test_a_person_comes_and_goes(app, db, engine, live_server, folders):
    browser = requests.Session()

    # Register (form-encoded, as the authn MFE does) and get logged in.
    response = browser.post(live_server + "/api/user/v2/account/registration/", timeout=10,
                            data={"username": USERNAME, "email": EMAIL, "name": NAME,
                                  "password": PASSWORD, "honor_code": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True

    # The activation email is a file in the mail folder; its link activates the account.
    [activation] = read_mail(folders["mail"])
    assert activation["To"] == EMAIL
    link = re.search(r"https?://\S+/activate/\S+", activation.get_body(("plain",))
                     .get_content()).group(0)
    response = browser.get(live_server + link[link.index("/activate/"):], timeout=10)
    assert response.status_code == 200 and "You have activated your account." in response.text

    # Log in again from a fresh browser.
    browser = requests.Session()
    token = csrf_token(browser, live_server)
    response = browser.post(live_server + "/api/user/v1/account/login_session/", timeout=10,
                            data={"email": EMAIL, "password": PASSWORD},
                            headers={"X-CSRFToken": token})
    assert response.json()["success"] is True, response.text
    token = csrf_token(browser, live_server)
    csrf = {"X-CSRFToken": token}

    # The account, preferences and a profile image.
    response = browser.patch(live_server + ACCOUNTS + USERNAME, timeout=10,
                             data=json.dumps({"bio": f"I am {NAME}.", "city": "Avalon",
                                              "country": "GB", "year_of_birth": 1990,
                                              "goals": f"Learn like {USERNAME}"}),
                             headers=dict(csrf, **MERGE_PATCH))
    assert response.status_code == 200, response.text
    assert response.json()["bio"] == f"I am {NAME}."
    response = browser.patch(live_server + "/api/user/v1/preferences/" + USERNAME, timeout=10,
                             data='{"pref-lang": "en", "time_zone": "Europe/Paris"}',
                             headers=dict(csrf, **MERGE_PATCH))
    assert response.status_code == 204, response.text
    response = browser.post(live_server + ACCOUNTS + USERNAME + "/image", timeout=10,
                            files={"file": ("me.png", png_bytes(), "image/png")},
                            headers=csrf)
    assert response.status_code == 204, response.text
    assert len(os.listdir(folders["images"])) == 4  # one file per size
    account = browser.get(live_server + ACCOUNTS + USERNAME, timeout=10).json()
    assert account["profile_image"]["has_image"] is True
    assert account["name"] == NAME and account["is_active"] is True

    # The person leaves: password confirmation, and the browser is logged out.
    response = browser.post(live_server + ACCOUNTS + "deactivate_logout/", timeout=10,
                            data={"password": PASSWORD}, headers=csrf)
    assert response.status_code == 204, response.text
    assert browser.get(live_server + "/api/user/v1/me", timeout=10).status_code == 401
    notice = [message for message in read_mail(folders["mail"])
              if "being deleted" in message["Subject"]]
    assert [message["To"] for message in notice] == [EMAIL]

    # The retirement driver, with its client-credentials JWT, does the rest.
    configure_django_for_edx_rest_api_client()
    service = create_user(db, "retirement_service_worker", password=None, is_staff=True)
    application, secret = create_application(db, name="retirement", user=service,
                                             grant_type="client-credentials")
    db.commit()
    driver = Driver(live_server, application.client_id, secret)
    queued = driver.learners_to_retire(["PENDING", "LMS_COMPLETE"], cool_off_days=0)
    assert [learner["original_username"] for learner in queued] == [USERNAME]
    retire_one_learner(driver, USERNAME)
    assert driver.get_learner_retirement_state(USERNAME)["current_state"][
        "state_name"] == "COMPLETE"
    driver.bulk_cleanup_retirements([USERNAME])

    assert find_person(engine, (USERNAME, EMAIL, NAME)) == []
    assert db.scalar(select(UserRetirementStatus.id)) is None
    assert os.listdir(folders["images"]) == []
    # Nobody can register with the retired username or email.
    response = requests.post(live_server + "/api/user/v2/account/registration/", timeout=10,
                             data={"username": USERNAME, "email": "new@example.com",
                                   "name": "Someone", "password": PASSWORD,
                                   "honor_code": "true"})
    assert response.status_code == 409, response.text
    response = requests.post(live_server + "/api/user/v2/account/registration/", timeout=10,
                             data={"username": "someone_new", "email": EMAIL,
                                   "name": "Someone", "password": PASSWORD,
                                   "honor_code": "true"})
    assert response.status_code == 409, response.text
