"""The core paginators, through a test-only service listing users."""
from urllib.parse import urlparse

import pytest

from lms.testing import create_user


@pytest.fixture
def app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    return app_factory()


@pytest.fixture
def users(db):
    return [create_user(db, f"user{i:02d}") for i in range(5)]


def _relative(url):
    parsed = urlparse(url)
    return parsed.path + "?" + parsed.query


def test_page_number_default_style(app, users):
    body = app.get("/api/fake/v1/users-pages/?page_size=2&page=2").json
    assert body["results"] == ["user02", "user03"]
    assert body["count"] == 5 and body["num_pages"] == 3
    assert body["current_page"] == 2 and body["start"] == 2
    assert body["next"] == "http://localhost/api/fake/v1/users-pages/?page_size=2&page=3"
    assert body["previous"] == "http://localhost/api/fake/v1/users-pages/?page_size=2&page=1"


def test_page_number_last_and_invalid(app, users):
    assert app.get("/api/fake/v1/users-pages/?page_size=2&page=last").json["results"] == ["user04"]
    assert app.get("/api/fake/v1/users-pages/?page=9", status=404).json == {
        "detail": "Invalid page."}
    assert app.get("/api/fake/v1/users-pages/?page=abc", status=404).json == {
        "detail": "Invalid page."}


def test_page_size_capped_and_invalid_ignored(app, db):
    for i in range(12):
        create_user(db, f"many{i:02d}")
    assert len(app.get("/api/fake/v1/users-pages/?page_size=abc").json["results"]) == 10
    assert len(app.get("/api/fake/v1/users-pages/?page_size=1000").json["results"]) == 12


def test_namespaced_style(app, users):
    body = app.get("/api/fake/v1/users-pages/?ns=1&page_size=4").json
    assert body["results"] == ["user00", "user01", "user02", "user03"]
    assert body["pagination"]["count"] == 5 and body["pagination"]["num_pages"] == 2
    assert body["pagination"]["previous"] is None
    assert body["pagination"]["next"].endswith("page=2")


def test_cursor_walks_forward_and_back(app, users):
    first = app.get("/api/fake/v1/users-cursor/").json
    assert first["results"] == ["user00", "user01"] and first["previous"] is None
    second = app.get(_relative(first["next"])).json
    assert second["results"] == ["user02", "user03"]
    third = app.get(_relative(second["next"])).json
    assert third["results"] == ["user04"] and third["next"] is None
    back = app.get(_relative(third["previous"])).json
    assert back["results"] == ["user02", "user03"]


def test_cursor_descending(app, users):
    body = app.get("/api/fake/v1/users-cursor/?desc=1").json
    assert body["results"] == ["user04", "user03"]


def test_invalid_cursor_is_404(app):
    assert app.get("/api/fake/v1/users-cursor/?cursor=%%%", status=404).json == {
        "detail": "Invalid cursor"}


def test_fixed_query_count(app, db, query_counter):
    create_user(db, "only")
    with query_counter() as few:
        app.get("/api/fake/v1/users-pages/")
    for i in range(9):
        create_user(db, f"more{i}")
    with query_counter() as many:
        app.get("/api/fake/v1/users-pages/")
    assert len(few) == len(many)
