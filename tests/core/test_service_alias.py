"""``Service.alias``: one service's operations served again at another path (upstream's
legacy twins), answering exactly as the target, documented and permission-checked."""
import pytest

from lms import make_config, matrix, openapi
from lms.matrix import EVERYONE, PluginMatrix, Row
from lms.testing import TEST_SETTINGS, create_user, jwt_headers
from tests.core import alias_plugin

TARGET = "/api/aliastest/v1/items/books/"
ALIASES = ("/aliastest_api/v1/items/books/", "/aliastest_api/v0/items/books/")


@pytest.fixture
def app(app_factory, add_plugins):
    add_plugins("tests.core.alias_plugin")
    return app_factory(**{"lms.plugins": "aliastest"})


def answer(response):
    return (response.status_int, response.content_type, response.json,
            response.headers.get("WWW-Authenticate"))


def same_answers(app, method, *, paths=(TARGET,) + ALIASES, **kwargs):
    """The answers to one request sent to the target and to each alias; all equal."""
    answers = [answer(app.request(path, method=method, expect_errors=True, **kwargs))
               for path in paths]
    assert all(other == answers[0] for other in answers[1:]), answers
    return answers[0]


def test_an_alias_answers_exactly_as_its_target(app, db):
    alice = create_user(db, "alice")
    assert same_answers(app, "GET") == (200, "application/json",
                                        {"kind": "books", "user": None}, None)
    assert same_answers(app, "GET", headers=jwt_headers(app, alice))[2] == {
        "kind": "books", "user": "alice"}
    body = b'{"number": 7}'
    json_type = {"Content-Type": "application/json"}
    assert same_answers(app, "POST", body=body, headers=dict(
        jwt_headers(app, alice), **json_type)) == (
        201, "application/json", {"number": 7, "user": "alice"}, None)
    # The same authentication, error style and validation.
    assert same_answers(app, "POST", body=body, headers=json_type) == (
        401, "application/json", {"detail": "Authentication credentials were not provided."},
        'JWT realm="api"')
    assert same_answers(app, "POST", body=b'{"number": "seven"}', headers=dict(
        jwt_headers(app, alice), **json_type))[:3] == (
        400, "application/json", {"number": ["A valid integer is required."]})
    # The same route predicates and placeholders, with or without the trailing slash.
    assert same_answers(app, "GET", paths=[path.rstrip("/") for path in (TARGET,) + ALIASES])[0] \
        == 200
    assert same_answers(app, "GET", paths=[path.replace("books", "BOOKS")
                                           for path in (TARGET,) + ALIASES])[0] == 404
    assert same_answers(app, "PUT")[0] == 405


def test_an_alias_shares_the_views_and_cannot_be_decorated():
    target, alias = alias_plugin.items, alias_plugin.items_legacy
    assert alias.name == "aliastest.items_legacy" and alias.alias_of == "aliastest.items"
    assert alias.spec_path == "/aliastest_api/v1/items/{kind:[a-z]+}/"
    assert alias.definitions is target.definitions  # one authenticator, one set of views
    assert alias.error_style == target.error_style and alias.auth_classes == target.auth_classes
    with pytest.raises(TypeError, match="alias of aliastest.items"):
        alias.get()(lambda request: {})
    # An alias of an alias serves the first target.
    assert target.alias("x.y", "/x/y").alias("x.z", "/x/z").alias_of == "aliastest.items"


def test_aliases_are_operations_of_the_openapi_document(app):
    document = app.get("/api-docs/openapi.json").json
    target = document["paths"]["/api/aliastest/v1/items/{kind}/"]
    for path, name in (("/aliastest_api/v1/items/{kind}/", "aliastest.items_legacy"),
                       ("/aliastest_api/v0/items/{kind}/", "aliastest.items_older")):
        served = document["paths"][path]
        assert set(served) == {"get", "post"}
        for method in ("get", "post"):
            assert served[method]["operationId"] == f"{name}.{method}"
            expected = {key: value for key, value in target[method].items()
                        if key != "operationId"}
            assert {key: value for key, value in served[method].items()
                    if key != "operationId"} == expected
    assert ("POST", "/aliastest_api/v1/items/{kind:[a-z]+}/") in openapi.operations(app.registry)


def test_aliases_inherit_their_targets_permission_rows(app):
    registry = app.registry
    assert matrix.alias_targets(registry) == {"aliastest.items_legacy": "aliastest.items",
                                              "aliastest.items_older": "aliastest.items",
                                              "lms.login_session_legacy": "lms.login_session"}
    get_row = Row("aliastest.items", "GET", EVERYONE, path={"kind": "books"}, note="AllowAny")
    own_row = Row("aliastest.items_older", "GET", {"*": "hidden"}, path={"kind": "books"})
    inherited = matrix.inherited_rows(registry, [PluginMatrix(rows=[get_row, own_row])])
    # The v1 alias gets a copy of the target's row; the v0 alias keeps its own.
    assert inherited == [Row("aliastest.items_legacy", "GET", EVERYONE, path={"kind": "books"},
                             note="AllowAny")]


def test_an_operation_without_a_row_fails_for_its_aliases_too(app, monkeypatch):
    monkeypatch.setattr(matrix, "CORE_ROWS", matrix.CORE_ROWS + [
        Row("aliastest.items", "GET", EVERYONE, path={"kind": "books"})])
    assert matrix.missing_rows(app.registry) == [
        ("aliastest.items", "POST"), ("aliastest.items_legacy", "POST"),
        ("aliastest.items_older", "POST")]
    assert matrix.stale_rows(app.registry) == []
