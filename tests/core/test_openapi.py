"""``/api-docs/openapi.json`` (generated from the enabled services) and Swagger UI."""
import ast
import inspect
import json
import re
import textwrap
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
    # Nothing declared: the defaults of a non-anonymous JSON POST.
    assert operation["responses"] == {
        "200": {"description": "OK."},
        "400": {"description": openapi.DEFAULT_DESCRIPTIONS[400]},
        "401": {"description": openapi.DEFAULT_DESCRIPTIONS[401]},
        "403": {"description": openapi.DEFAULT_DESCRIPTIONS[403]},
        "415": {"description": openapi.DEFAULT_DESCRIPTIONS[415]},
    }


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


# -- declared responses ------------------------------------------------------------

class Greeting(colander.MappingSchema):
    id = colander.SchemaNode(colander.Integer())
    note = colander.SchemaNode(colander.String(), missing=None)


toydoc_items = Service("toydoc.items", "/api/toydoc/v1/items/", auth=("session", "jwt"),
                       responses={429: "Throttled."})
toydoc_item = Service("toydoc.item", f"/api/toydoc/v1/items/{INTEGER_ID}", errors="developer",
                      accept_restricted=True)


@toydoc_items.get(query={"page": "Page number."},
                  responses={200: openapi.page_of(Greeting()), 404: "Invalid page."})
def get_toydoc_items(request):
    """List greetings (``?page=``), see :class:`~lms.service.Service` and `the guide
    <https://example.org/guide>`_ or `Open edX`_.

    .. note:: Built by :func:`lms.pagination.page_number`::

        {"results": []}
    """
    return {}


@toydoc_items.post(body=openapi.Body(Greeting, media_type="application/x-www-form-urlencoded"),
                   responses={201: Greeting, 415: None, 409: "Taken."})
def post_toydoc_items(request):
    """Create a greeting."""
    return {}


@toydoc_item.delete(responses={204: openapi.NO_BODY, 429: None})
def delete_toydoc_item(request):
    """Delete a greeting."""


@toydoc_item.patch(responses={405: "Always."})
def patch_toydoc_item(request):
    """Not allowed."""


@toydoc_item.put(responses={200: None, 404: "Always."})
def put_toydoc_item(request):
    """Never succeeds."""


@pytest.fixture
def toydoc(app_factory, add_plugins):
    add_plugins(_plugin_module("toydoc_plugin", "toydoc", (toydoc_items, toydoc_item)))
    return document(app_factory())["paths"]


def test_declared_responses_merge_with_the_defaults(toydoc):
    listing = toydoc["/api/toydoc/v1/items/"]["get"]
    # Session first: DRF answers an unauthenticated caller 403, not 401.
    assert sorted(listing["responses"]) == ["200", "403", "404", "429"]
    body = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["required"] == ["next", "previous", "count", "num_pages", "current_page",
                                "start", "results"]
    assert body["properties"]["next"] == {"type": "string", "nullable": True}
    assert body["properties"]["results"]["items"] == {
        "type": "object", "required": ["id"],
        "properties": {"id": {"type": "integer"}, "note": {"type": "string", "nullable": True}}}
    assert listing["responses"]["429"] == {"description": "Throttled."}
    assert listing["parameters"] == [{"name": "page", "in": "query", "required": False,
                                      "description": "Page number.",
                                      "schema": {"type": "string"}}]

    create = toydoc["/api/toydoc/v1/items/"]["post"]
    assert sorted(create["responses"]) == ["201", "400", "403", "409", "429"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["required"] == [
        "id"]
    assert list(create["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]

    item = toydoc["/api/toydoc/v1/items/{id}"]
    # Developer style: 401 whatever the classes; restricted JWTs accepted: no 403 for GETs.
    assert sorted(item["delete"]["responses"]) == ["204", "401", "403", "404"]
    assert "content" not in item["delete"]["responses"]["204"]
    assert sorted(item["patch"]["responses"]) == ["400", "401", "403", "404", "405", "415"]
    assert sorted(item["put"]["responses"]) == ["400", "401", "403", "404", "415"]
    assert item["put"]["responses"]["404"] == {"description": "Always."}


def test_docstrings_render_as_plain_text(toydoc):
    listing = toydoc["/api/toydoc/v1/items/"]["get"]
    assert listing["summary"] == (
        "List greetings (`?page=`), see `Service` and [the guide](https://example.org/guide) "
        "or Open edX.")
    assert listing["description"] == (
        'Note: Built by `lms.pagination.page_number`:\n\n    {"results": []}')


def test_plain_text():
    assert openapi.plain_text(":class:`x.Y` and :meth:`~a.b.c` and ``z``") == (
        "`x.Y` and `c` and `z`")
    assert openapi.plain_text(":ref:`the docs <target>`") == "the docs"
    assert openapi.plain_text("no markup: `a`_ and `b <http://x>`__") == (
        "no markup: a and [b](http://x)")


# -- the served document tells the truth ----------------------------------------------

REST_MARKUP = re.compile(r"``|:[a-z]+:`|`_|\.\. \w+::")


@pytest.fixture
def served(app_factory):
    """The whole document, every installed plugin enabled, with each operation's definition."""
    from lms.testing import installed_plugins

    app = app_factory(**{"lms.plugins": " ".join(installed_plugins())})
    doc = document(app)
    definitions = {}
    for service in openapi.enabled_services(app.registry):
        path = openapi.openapi_path(service.spec_path)
        for method, view, args in service.definitions:
            if method not in ("HEAD", "OPTIONS"):
                definitions[(method.lower(), path)] = (service, view, args)
    return doc, definitions


def test_served_document_validates(served):
    validator = pytest.importorskip("openapi_spec_validator")
    doc, definitions = served
    validator.validate(doc)
    served_operations = {(method, path) for path, item in doc["paths"].items()
                         for method in item}
    assert served_operations == set(definitions)
    assert len(served_operations) > 100


def test_every_operation_is_documented(served):
    doc, definitions = served
    problems = []
    for (method, path), (service, view, args) in sorted(definitions.items()):
        operation = doc["paths"][path][method]
        where = f"{method.upper()} {path}"
        summary = operation.get("summary", "")
        if not summary:
            problems.append(f"{where}: no summary (first docstring line)")
        for text in (summary, operation.get("description", "")):
            if REST_MARKUP.search(text):
                problems.append(f"{where}: reST markup in {text[:60]!r}")
        responses = operation["responses"]
        assert "default" not in responses, where
        successes = {status: response for status, response in responses.items()
                     if status[0] in "23"}
        if not successes and not ({"405", "404"} & set(responses)):
            problems.append(f"{where}: no success response")
        for status, response in successes.items():
            bodiless = status == "204" or status[0] == "3" or response["description"] == (
                openapi.NO_BODY)
            if not bodiless and not any(content.get("schema") for content in
                                        response.get("content", {}).values()):
                problems.append(f"{where}: {status} has no schema")
        needs_auth = openapi.requires_authentication(args, method.upper())
        authenticator = openapi._authenticator(args)
        if needs_auth and openapi.unauthenticated_status(authenticator) == 401:
            if "401" not in responses:
                problems.append(f"{where}: requires authentication but declares no 401")
        elif needs_auth:
            if "403" not in responses:
                problems.append(f"{where}: DRF answers 403 to anonymous callers, undeclared")
        elif "401" in responses and not _declared_explicitly(service, method, 401):
            if not set(authenticator.classes) & openapi.TOKEN_CLASSES:
                problems.append(f"{where}: 401 by default, but anonymous callers are served")
            elif responses["401"]["description"] != openapi.INVALID_TOKEN:
                problems.append(f"{where}: anonymous callers are served; 401 only for a "
                                "refused token")
    assert not problems, "\n".join(problems)


def _declared_explicitly(service, method, status):
    declared = service.openapi_declarations.get(method.upper(), {}).get("responses") or {}
    return declared.get(status) is not None


# The static check: the query-string keys a view (or its validators, or the project
# functions they hand the request to) read with a literal name must be declared.

QUERY_ATTRS = ("GET", "params")
READ_METHODS = ("get", "getall", "getone", "pop")
PROJECT_MODULES = ("lms", "plugins", "openlms_")


def _function_tree(func):
    try:
        node = ast.parse(textwrap.dedent(inspect.getsource(func))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _resolve(func, expr):
    scope = dict(func.__globals__)
    if func.__closure__:
        scope.update(zip(func.__code__.co_freevars,
                         (cell.cell_contents for cell in func.__closure__)))
    if isinstance(expr, ast.Name):
        return scope.get(expr.id)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        owner = scope.get(expr.value.id)
        return getattr(owner, expr.attr, None) if inspect.ismodule(owner) else None
    return None


def query_keys_read(func, bound=None, depth=4, seen=None, modules=PROJECT_MODULES):
    """Keys read from ``request.GET``, ``request.params`` or ``query_params(request)``
    (directly or through a local alias), following calls into project functions that
    receive the request or the query."""
    seen = set() if seen is None else seen
    tree = _function_tree(func)
    if tree is None or depth < 0:
        return set()
    argument_names = [argument.arg for argument in tree.args.args]
    if bound is None:
        bound = {argument_names[0]: "request"} if argument_names else {}
    key = (func, tuple(sorted(bound.items())))
    if key in seen:
        return set()
    seen.add(key)

    def kind(expr):
        if isinstance(expr, ast.Name):
            return bound.get(expr.id)
        if (isinstance(expr, ast.Attribute) and expr.attr in QUERY_ATTRS
                and kind(expr.value) == "request"):
            return "query"
        if (isinstance(expr, ast.Call) and expr.args and kind(expr.args[0]) == "request"
                and getattr(expr.func, "id", getattr(expr.func, "attr", None))
                == "query_params"):
            return "query"
        return None

    def literal(expr):
        return expr.value if isinstance(expr, ast.Constant) and isinstance(
            expr.value, str) else None

    for _ in range(2):  # aliases such as ``params = request.GET``
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and kind(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        bound[target.id] = kind(node.value)
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in READ_METHODS and kind(node.func.value) == "query"
                and node.args and literal(node.args[0])):
            found.add(literal(node.args[0]))
        elif isinstance(node, ast.Subscript) and kind(node.value) == "query" and literal(
                node.slice):
            found.add(literal(node.slice))
        elif (isinstance(node, ast.Compare) and literal(node.left)
              and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
              and any(kind(comparator) == "query" for comparator in node.comparators)):
            found.add(literal(node.left))
        if not isinstance(node, ast.Call):
            continue
        passed = {position: kind(arg) for position, arg in enumerate(node.args) if kind(arg)}
        keywords = {kw.arg: kind(kw.value) for kw in node.keywords
                    if kw.arg and kind(kw.value)}
        if not passed and not keywords:
            continue
        callee = _resolve(func, node.func)
        if not (inspect.isfunction(callee) and callee.__module__.startswith(modules)):
            continue
        callee_tree = _function_tree(callee)
        if callee_tree is None:
            continue
        names = [argument.arg for argument in callee_tree.args.args]
        callee_bound = {names[i]: k for i, k in passed.items() if i < len(names)}
        callee_bound.update(keywords)
        found |= query_keys_read(callee, callee_bound, depth - 1, seen, modules)
    return found


def test_query_check_sees_reads():
    from lms.pagination import page_number

    def view(request):
        params = request.GET
        if "flag" in request.params:
            return params.getall("tags"), helper(request)
        return page_number(request, None, None)

    def helper(req):
        return req.GET["inner"], req.GET.get(name_of_a_variable)

    name_of_a_variable = "dynamic"
    assert query_keys_read(view, modules=PROJECT_MODULES + (__name__,)) == {
        "flag", "tags", "inner", "page", "page_size"}
    assert query_keys_read(view) == {"flag", "tags", "page", "page_size"}
    assert query_keys_read(get_toy_items) == set()


def test_every_query_parameter_a_view_reads_is_declared(served):
    doc, definitions = served
    undeclared = {}
    for (method, path), (service, view, args) in sorted(definitions.items()):
        read = query_keys_read(view)
        for validator in args.get("validators") or ():
            if inspect.isfunction(validator):
                read |= query_keys_read(validator)
        declared = {parameter["name"] for parameter in
                    doc["paths"][path][method].get("parameters", ()) if parameter["in"] == "query"}
        if read - declared:
            undeclared[f"{method.upper()} {path}"] = sorted(read - declared)
    assert undeclared == {}


def test_anonymous_operation_declares_the_401_of_a_refused_token(app_factory):
    """An AllowAny view with JWT authentication still refuses a bad token (DRF)."""
    from lms.testing import installed_plugins

    app = app_factory(**{"lms.plugins": " ".join(installed_plugins())})
    doc = document(app)
    responses = doc["paths"]["/api/user/v1/preferences/time_zones/"]["get"]["responses"]
    assert responses["401"]["description"] == (
        "A token was sent and refused (invalid or expired credentials).")
    assert app.get("/api/user/v1/preferences/time_zones/", status=200)
    refused = app.get("/api/user/v1/preferences/time_zones/",
                      headers={"Authorization": "JWT not-a-token"}, status=401)
    assert refused.json == {"detail": "Error decoding token."}
