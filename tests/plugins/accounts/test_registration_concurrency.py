"""Concurrent registrations of one username/email: exactly one account (real HTTP, threads).

Run on SQLite and on PostgreSQL (``LMS_TEST_DATABASE_URL``): the unique
constraints decide, the loser gets a 409.
"""
import threading

import requests
from sqlalchemy import func, select

from lms.models import User
from plugins.accounts.models import Registration, UserProfile

V1 = "/api/user/v1/account/registration/"


def form(username):
    return {"username": username, "email": f"{username}@example.com", "password": "s3cret-pass",
            "name": "Racer", "honor_code": "true"}


def race(base_url, data, clients=2):
    """Post ``data`` from ``clients`` threads released together; their responses."""
    start = threading.Barrier(clients)
    responses = [None] * clients

    def post(position):
        with requests.Session() as session:
            start.wait(timeout=10)
            responses[position] = session.post(base_url + V1, data=data, timeout=30)

    threads = [threading.Thread(target=post, args=(position,)) for position in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def count(db, model, **filters):
    db.expire_all()
    stmt = select(func.count()).select_from(model)
    for name, value in filters.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.scalar(stmt)


def assert_one_winner(db, responses, username):
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409], [response.text for response in responses]
    loser = next(response for response in responses if response.status_code == 409)
    assert loser.json()["error_code"].startswith("duplicate-")
    assert count(db, User, username=username) == 1
    user_id = db.scalar(select(User.id).where(User.username == username))
    assert count(db, Registration, user_id=user_id) == 1
    assert count(db, UserProfile, user_id=user_id) == 1


def test_parallel_registrations_create_one_account(app, db, live_server):
    for round_number in range(5):
        username = f"racer{round_number}"
        assert_one_winner(db, race(live_server, form(username)), username)
    assert count(db, User) == 5
    assert len(app.registry["lms.mail_outbox"]) == 5


def test_simultaneous_inserts_are_decided_by_the_unique_constraints(app, db, live_server,
                                                                   monkeypatch):
    """Both requests pass every check, then insert at the same moment."""
    from plugins.accounts import creation
    from plugins.accounts.views import registration as views

    both_checked = threading.Barrier(2)
    original_create_user = creation.create_user

    def create_user_together(*args, **kwargs):
        both_checked.wait(timeout=10)
        return original_create_user(*args, **kwargs)

    monkeypatch.setattr(views, "duplicate_error", lambda request, data: None)
    monkeypatch.setattr(creation, "create_user", create_user_together)
    responses = race(live_server, form("photo"))
    assert_one_winner(db, responses, "photo")
    loser = next(response for response in responses if response.status_code == 409)
    assert loser.json() == {
        "username": [{"user_message": "An account with the Public Username 'photo' already "
                                      "exists."}],
        "error_code": "duplicate-username",
    }
    assert len(app.registry["lms.mail_outbox"]) == 1
