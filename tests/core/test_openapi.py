"""``/api-docs/openapi.json`` (generated from the enabled services) and Swagger UI."""
import json
import re
import types

import colander
import pytest
from pyramid.exceptions import ConfigurationError

from lms import openapi
from lms.hookspecs import hookimpl
from lms.routing import INTEGER_ID, USERNAME
from lms.schemas import StrictInteger, StrictMapping, StrictString
from lms.service import (
    Service,
    colander_body_validator,
    colander_querystring_validator,
    colander_validator,
)

# -- a small plugin whose services exercise every kind of schema -----------------


class ItemBody(StrictMapping):
    name = colander.SchemaNode(StrictString(), validator=colander.Length(1, 40),
                               description="Display name.")
    kind = colander.SchemaNode(colander.String(), validator=colander.OneOf(["a", "b"]),
                               missing="a", default="a")
    tags = colander.SchemaNode(colander.Sequence(), colander.SchemaNode(colander.String()),
                               missing=colander.drop)
    score = colander.SchemaNode(colander.Float(), validator=colander.Range(0, 1), missing=None)


class ListQuery(colander.MappingSchema):
    page = colander.SchemaNode(StrictInteger(), missing=colander.drop)
    username = colander.SchemaNode(colander.String(), description="Whose items.")


class ItemPath(colander.MappingSchema):
    id = colander.SchemaNode(colander.Integer())


class ItemQuery(colander.MappingSchema):
    include_tags = colander.SchemaNode(colander.Boolean(), missing=colander.drop)


class ItemRequest(colander.MappingSchema):
    path = ItemPath()
    querystring = ItemQuery()
    body = ItemBody()


toy_items = Service("toy.items", "/api/toy/v1/items/", anonymous=("GET",))
toy_item = Service("toy.item", f"/api/toy/v1/items/{INTEGER_ID}/", api_key=True)
toy_by_user = Service("toy.by_user", "/api/toy/v1/" + USERNAME + r",{code:[a-z]{2,4}}",
                      anonymous=True)
toy_clash = Service("toyclash.items", "/api/toy/v1/items")


@toy_items.get(schema=ListQuery(), validators=(colander_querystring_validator,))
def get_toy_items(request):
    """List items.

    Only the caller's items, newest first.
    """
    return {"results": []}


@toy_items.post(schema=ItemBody(), validators=(colander_body_validator,))
def post_toy_items(request):
    return request.validated


@toy_item.get()
def get_toy_item(request):
    return {"id": int(request.matchdict["id"])}


@toy_item.put(schema=ItemRequest(), validators=(colander_validator,))
def put_toy_item(request):
    return request.validated["body"]


@toy_item.delete()
def delete_toy_item(request):
    return {}


@toy_by_user.get()
def get_toy_by_user(request):
    return dict(request.matchdict)


@toy_clash.get()
def get_toy_clash(request):
    return {}


def _plugin_module(module_name, plugin_name, services, version="2.0"):
    module = types.ModuleType(module_name)
    module.name, module.version, module.requires = plugin_name, version, ()

    @hookimpl
    def lms_includeme(config):
        for service in services:
            config.add_cornice_service(service)

    module.lms_includeme = lms_includeme
    return module


TOY_SERVICES = (toy_items, toy_item, toy_by_user)


def install_toy_plugin(add_plugins):
    add_plugins(_plugin_module("toy_plugin", "toy", TOY_SERVICES))


@pytest.fixture
def toy_app(app_factory, add_plugins):
    install_toy_plugin(add_plugins)
    return app_factory()


def document(app):
    response = app.get("/api-docs/openapi.json")
    assert response.content_type == "application/json"
    return response.json


# -- the document ----------------------------------------------------------------

def test_document_lists_plugin_services(toy_app):
    doc = document(toy_app)
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] == "openlms API"
    assert doc["info"]["version"]
    toy_paths = sorted(path for path in doc["paths"] if path.startswith("/api/toy/"))
    assert toy_paths == ["/api/toy/v1/items/", "/api/toy/v1/items/{id}/",
                         "/api/toy/v1/{username},{code}"]
    assert sorted(doc["paths"]["/api/toy/v1/items/"]) == ["get", "post"]
    assert sorted(doc["paths"]["/api/toy/v1/items/{id}/"]) == ["delete", "get", "put"]
    assert {"name": "toy", "description": "Plugin toy 2.0"} in doc["tags"]


def test_querystring_schema_becomes_query_parameters(toy_app):
    operation = document(toy_app)["paths"]["/api/toy/v1/items/"]["get"]
    assert operation["operationId"] == "toy.items.get"
    assert operation["tags"] == ["toy"]
    assert operation["summary"] == "List items."
    assert operation["description"] == "Only the caller's items, newest first."
    assert operation["parameters"] == [
        {"name": "page", "in": "query", "required": False, "schema": {"type": "integer"}},
        {"name": "username", "in": "query", "required": True, "description": "Whose items.",
         "schema": {"type": "string", "description": "Whose items."}},
    ]
    assert "requestBody" not in operation
    # Anonymous GET: the empty requirement says "no credentials needed".
    assert operation["security"] == [{"jwt": []}, {"bearer": []}, {"session": []}, {}]


ITEM_BODY_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Display name.", "minLength": 1,
                 "maxLength": 40},
        "kind": {"type": "string", "default": "a", "enum": ["a", "b"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "score": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1},
    },
    "required": ["name"],
    "additionalProperties": False,
}


def test_body_schema_becomes_request_body(toy_app):
    operation = document(toy_app)["paths"]["/api/toy/v1/items/"]["post"]
    assert "parameters" not in operation
    assert operation["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": ITEM_BODY_SCHEMA}},
    }
    assert operation["security"] == [{"jwt": []}, {"bearer": []}, {"session": []}]
    assert operation["responses"] == {
        "default": {"description": "The Open edX response for this operation."}}


def test_full_request_schema_and_path_parameters(toy_app):
    item = document(toy_app)["paths"]["/api/toy/v1/items/{id}/"]
    assert item["put"]["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
        {"name": "include_tags", "in": "query", "required": False,
         "schema": {"type": "boolean"}},
    ]
    assert item["put"]["requestBody"]["content"]["application/json"]["schema"] == (
        ITEM_BODY_SCHEMA)
    # No schema: the path parameter still comes from the path (\d+ → integer).
    assert item["delete"]["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    assert {"api_key": []} in item["get"]["security"]
    by_user = document(toy_app)["paths"]["/api/toy/v1/{username},{code}"]["get"]
    assert [(p["name"], p["in"], p["schema"]) for p in by_user["parameters"]] == [
        ("username", "path", {"type": "string"}), ("code", "path", {"type": "string"})]
    assert by_user["security"][-1] == {}


def test_document_is_structurally_valid(toy_app):
    doc = document(toy_app)
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        template_names = re.findall(r"{([^}]+)}", path)
        for method, operation in item.items():
            assert method in ("get", "put", "post", "delete", "patch")
            assert operation["responses"]
            operation_ids.append(operation["operationId"])
            declared = [p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"]
            assert declared == template_names, (path, method)
            for requirement in operation.get("security", ()):
                for scheme in requirement:
                    assert scheme in doc["components"]["securitySchemes"]
    assert len(operation_ids) == len(set(operation_ids))
    json.dumps(doc)


def test_document_passes_an_openapi_validator_when_available(toy_app):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document(toy_app))


def test_disabled_plugin_is_absent(app_factory, add_plugins):
    install_toy_plugin(add_plugins)
    doc = document(app_factory(**{"lms.plugins.disabled": "toy"}))
    assert not [path for path in doc["paths"] if path.startswith("/api/toy/")]
    assert "toy" not in {tag["name"] for tag in doc["tags"]}


def test_experiments_paths_follow_the_plugin(app_factory):
    enabled = document(app_factory())["paths"]
    assert "/api/experiments/v0/data/" in enabled
    assert "/api/experiments/v0/data/{id}/" in enabled
    disabled = document(app_factory(**{"lms.plugins.disabled": "experiments"}))["paths"]
    assert not [path for path in disabled if path.startswith("/api/experiments/")]


def test_operations_and_duplicate_check(app_factory, add_plugins):
    install_toy_plugin(add_plugins)
    app = app_factory()
    served = openapi.operations(app.registry)
    assert ("GET", "/api/toy/v1/items/") in served
    assert ("PUT", f"/api/toy/v1/items/{INTEGER_ID}/") in served
    assert not [op for op in served if op[0] in ("HEAD", "OPTIONS")]
    assert served == sorted(served, key=lambda op: (op[1], op[0]))

    add_plugins(_plugin_module("toyclash_plugin", "toyclash", (toy_clash,)))
    # Same method and path (trailing slash aside) in two plugins: a start-up error.
    with pytest.raises(ConfigurationError, match=r"/api/toy/v1/items.*'toyclash.items'"):
        app_factory()


# -- path templates and schemas ---------------------------------------------------

def test_split_path_template_handles_nested_braces():
    assert openapi.split_path_template(r"/a/{id:\d{1,3}}/b/{name}") == [
        "/a/", ("id", r"\d{1,3}"), "/b/", ("name", "")]
    assert openapi.openapi_path(r"/a/{id:\d{1,3}}/{x:[a-z]+},{y}") == "/a/{id}/{x},{y}"
    assert openapi.path_shape(r"/a/{id:\d+}/") == openapi.path_shape("/a/{pk}/") == "/a/{}/"
    assert openapi.path_shape("/a/{unbalanced") == "/a/{unbalanced"


def test_node_schema_types():
    class Schema(colander.MappingSchema):
        when = colander.SchemaNode(colander.DateTime())
        day = colander.SchemaNode(colander.Date(), missing=colander.drop)
        flag = colander.SchemaNode(colander.Boolean(), missing=False)
        code = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^[A-Z]+$"))
        pair = colander.SchemaNode(colander.Tuple(), colander.SchemaNode(colander.Int()),
                                   missing=colander.drop)

    schema = openapi.node_schema(Schema())
    assert schema == {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "flag": {"type": "boolean"},
            "code": {"type": "string", "pattern": "^[A-Z]+$"},
            "pair": {"type": "array", "items": {}},
        },
        "required": ["when", "code"],
    }


# -- Swagger UI --------------------------------------------------------------------

def test_swagger_ui_page_uses_packaged_assets(app):
    response = app.get("/api-docs/")
    assert response.content_type == "text/html"
    assert 'data-spec-url="/api-docs/openapi.json"' in response.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert len(assets) == 4
    assert any(url.endswith("/swagger-ui-bundle.js") for url in assets)
    assert any(url.endswith("/swagger-ui.css") for url in assets)
    assert not [url for url in assets if not url.startswith("http://localhost/")]
    for url in assets:
        asset = app.get(url[len("http://localhost"):])
        assert asset.status_int == 200
        assert len(asset.body) > 0
    script = app.get("/_lms/static/api-docs.js")
    assert "SwaggerUIBundle" in script.text
    assert "data-spec-url" in script.text


def test_api_docs_without_slash_redirects(app):
    response = app.get("/api-docs", status=301)
    assert response.location.endswith("/api-docs/")
