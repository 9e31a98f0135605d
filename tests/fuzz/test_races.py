"""Conflicting concurrent writes from 50 threads against a live server (PostgreSQL only).

Each race sends the same write 50 times at once and must end with exactly one effect
(one row) and no 5xx: the losers get upstream's conflict answer (409/400) or the
idempotent success. SQLite serialises every writer, so the races run on PostgreSQL
only (``LMS_TEST_DATABASE_URL``, as ``make test`` sets it for its second run).
"""
import secrets
import threading
from collections import Counter
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, text

from lms import auth
from lms.models import OAuthAccessToken, User
from lms.oauth import create_application
from lms.testing import create_user, jwt_headers, serve_in_thread
from lms.timeutil import utcnow

# Served from many threads at once: real commits, not the tests' one connection.
pytestmark = pytest.mark.commits

CLIENTS = 50
SERVER_THREADS = 16


@pytest.fixture
def race_server(app, engine):
    """The ``app`` on waitress with enough worker threads for requests to overlap."""
    if engine.dialect.name != "postgresql":
        pytest.skip("races need PostgreSQL's concurrent writers (set LMS_TEST_DATABASE_URL)")
    with serve_in_thread(app.app, threads=SERVER_THREADS) as url:
        yield url


def race(method, url, clients=CLIENTS, **kwargs):
    """Send the same request from ``clients`` threads released together; their responses."""
    start = threading.Barrier(clients)
    responses = [None] * clients

    def send(position):
        with requests.Session() as session:
            start.wait(timeout=30)
            responses[position] = session.request(method, url, timeout=60, **kwargs)

    threads = [threading.Thread(target=send, args=(position,)) for position in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses), "a client got no answer"
    return responses


def statuses(responses):
    return Counter(response.status_code for response in responses)


def assert_no_server_error(responses):
    errors = [f"{r.status_code} {r.text[:300]}" for r in responses if r.status_code >= 500]
    assert not errors, errors


def count(db, table, **where):
    db.rollback()
    clause = " AND ".join(f"{name} = :{name}" for name in where)
    return db.scalar(text(f"SELECT count(*) FROM {table}" + (f" WHERE {clause}" if clause
                                                                else "")), where)


def test_registering_one_username_and_email_from_50_clients_creates_one_account(
        race_server, db):
    form = {"username": "racer", "email": "racer@example.com", "password": "s3cret-pass",
            "name": "Racer", "honor_code": "true"}
    responses = race("POST", race_server + "/api/user/v1/account/registration/", data=form)
    assert_no_server_error(responses)
    assert statuses(responses) == {200: 1, 409: CLIENTS - 1}, statuses(responses)
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.json()["error_code"] in ("duplicate-username", "duplicate-email",
                                              "duplicate-email-username")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(User).where(
        User.username == "racer")) == 1
    assert db.scalar(select(func.count()).select_from(User).where(
        User.email == "racer@example.com")) == 1


def bearer_headers(db, user):
    """A fresh opaque access token of ``user`` (the preference API takes no JWT)."""
    application, _ = create_application(db, name="race-client", user=user,
                                        grant_type="password")
    token = secrets.token_urlsafe(30)
    db.add(OAuthAccessToken(token_hash=auth.token_digest(token), application_id=application.id,
                            user_id=user.id, scopes=["read", "write"],
                            expires=utcnow() + timedelta(hours=1)))
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_upserting_one_preference_from_50_clients_stores_one_row(race_server, db):
    learner = create_user(db, "racing_learner")
    responses = race("PUT", race_server + "/api/user/v1/preferences/racing_learner/race_key",
                     json="eo", headers=bearer_headers(db, learner))
    assert_no_server_error(responses)
    assert statuses(responses) == {204: CLIENTS}, (statuses(responses), responses[0].text)
    assert count(db, "accounts_preference", user_id=learner.id) == 1
    assert db.scalar(text("SELECT value FROM accounts_preference WHERE user_id = :id"),
                     {"id": learner.id}) == "eo"


def test_creating_one_organization_from_50_clients_stores_one_row(app, race_server, db):
    staff = create_user(db, "racing_staff", is_staff=True)
    body = {"short_name": "RaceX", "name": "Race University", "description": "d"}
    responses = race("PUT", race_server + "/api/organizations/v0/organizations/RaceX/",
                     json=body, headers=jwt_headers(app, staff))
    assert_no_server_error(responses)
    # The winner creates, the others update the same row (PUT is an upsert) or, when
    # their insert loses to the winner's, get the serializer's duplicate answer (400).
    assert set(statuses(responses)) <= {200, 400}, statuses(responses)
    assert statuses(responses)[200] >= 1
    for loser in (r for r in responses if r.status_code == 400):
        assert "short_name" in loser.json(), loser.text
    assert count(db, "courses_organization", short_name="RaceX") == 1
