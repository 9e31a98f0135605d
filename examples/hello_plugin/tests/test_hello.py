"""hello's own tests, written as any plugin author would write them.

Run them from the openlms checkout: ``pytest examples/hello_plugin/tests``.
"""
import pytest
from sqlalchemy import select

from lms.testing import create_user, jwt_headers
from openlms_hello.models import Greeting

GREETINGS = "/api/hello/v1/greetings/"


@pytest.fixture
def settings(settings):
    # lms.testing's ``app`` fixture builds its app from these settings.
    settings["lms.plugins"] = "builtins hello"
    return settings


def test_anonymous_is_401(app):
    assert app.get(GREETINGS, status=401).json == {
        "detail": "Authentication credentials were not provided."}


def test_create_then_list(app, db):
    alice = create_user(db, "alice")
    headers = jwt_headers(app, alice)
    created = app.post_json(GREETINGS, {"message": "Hi"}, headers=headers, status=201).json
    assert db.scalars(select(Greeting.message)).all() == ["Hi"]
    listed = app.get(GREETINGS, headers=headers).json
    assert listed["count"] == 1 and listed["results"] == [created]


def test_bad_input_writes_nothing(app, db):
    alice = create_user(db, "alice")
    response = app.post_json(GREETINGS, {"message": ["Hi"]}, headers=jwt_headers(app, alice),
                             status=400)
    assert response.json == {"message": ["Not a valid string."]}
    assert db.scalars(select(Greeting)).all() == []


def test_list_is_three_queries_whatever_the_page_holds(app, db, query_counter):
    alice = create_user(db, "alice")
    db.add_all(Greeting(user_id=alice.id, message=str(i)) for i in range(12))
    db.commit()
    with query_counter() as queries:
        app.get(GREETINGS, headers=jwt_headers(app, alice))
    assert len(queries) == 3


def test_setting_override(app_factory, db):
    alice = create_user(db, "alice")
    app = app_factory(**{"lms.plugins": "builtins hello", "hello.greeting": "Hi"})
    response = app.post_json(GREETINGS, {}, headers=jwt_headers(app, alice), status=201)
    assert response.json["message"] == "Hi, Alice!"
