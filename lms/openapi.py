"""OpenAPI document of the enabled services, the Swagger UI page, and start-up checks.

``GET /api-docs/openapi.json`` describes the Cornice services registered in
this app (so a disabled plugin's endpoints never appear); ``GET /api-docs/``
is Swagger UI, served from the ``swagger-ui-bundle`` package (no CDN).

Each operation comes from its view: the summary is the docstring's first line,
the description the rest (reST markup rendered as plain text/Markdown), the
parameters and request body come from the colander schema, and the responses
from ``responses={...}`` on the ``Service`` or the view decorator, merged over
defaults derived from the service (see :func:`default_responses` and
docs/plugins.md).
"""
import html
import http
import inspect
import re

import colander
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPMovedPermanently
from pyramid.response import Response

from lms.service import (
    colander_body_validator,
    colander_headers_validator,
    colander_path_validator,
    colander_querystring_validator,
    colander_validator,
)

OPENAPI_VERSION = "3.0.3"
SWAGGER_UI_STATIC = "api-docs/swagger-ui"
LMS_STATIC = "_lms/static"

# Which request location a service-level validator checks.
_LOCATION_VALIDATORS = {
    colander_body_validator: "body",
    colander_querystring_validator: "querystring",
    colander_path_validator: "path",
    colander_headers_validator: "headers",
}
_PARAMETER_LOCATIONS = {"querystring": "query", "path": "path", "headers": "header"}

SECURITY_SCHEMES = {
    "jwt": {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "A JWT from /oauth2/access_token (token_type=jwt): `JWT <token>`.",
    },
    "bearer": {
        "type": "http", "scheme": "bearer",
        "description": "An opaque access token from /oauth2/access_token.",
    },
    "bearer_strict": {
        "type": "http", "scheme": "bearer",
        "description": "An opaque access token from /oauth2/access_token.",
    },
    "session": {
        "type": "apiKey", "in": "cookie", "name": "sessionid",
        "description": "The browser session cookie; unsafe methods also need X-CSRFToken.",
    },
    "session_strict": {
        "type": "apiKey", "in": "cookie", "name": "sessionid",
        "description": "The browser session cookie; unsafe methods also need X-CSRFToken.",
    },
    "api_key": {
        "type": "apiKey", "in": "header", "name": "X-Edx-Api-Key",
        "description": "The server-to-server key (lms.edx_api_key).",
    },
}


def enabled_services(registry):
    """The Cornice services registered in this app (enabled plugins and core only)."""
    return list(getattr(registry, "cornice_services", {}).values())


def operations(registry):
    """Sorted ``(method, spec_path)`` pairs served by this app."""
    found = set()
    for service in enabled_services(registry):
        path = getattr(service, "spec_path", service.path)
        for method in service.defined_methods:
            if method in ("HEAD", "OPTIONS"):
                continue
            found.add((method, path))
    return sorted(found, key=lambda op: (op[1], op[0]))


def check_duplicate_operations(registry):
    owners = {}
    for service in enabled_services(registry):
        path = getattr(service, "spec_path", service.path)
        normalized = path.rstrip("/")
        for method in service.defined_methods:
            key = (method, normalized)
            if key in owners and owners[key] != service.name:
                raise ConfigurationError(
                    f"{method} {path} is served by both {owners[key]!r} and {service.name!r}"
                )
            owners[key] = service.name


# -- path templates ----------------------------------------------------------

def split_path_template(path):
    """``/a/{id:\\d{1,3}}/b`` -> ``["/a/", ("id", "\\d{1,3}"), "/b"]``.

    Placeholders are Pyramid's ``{name}`` or ``{name:regex}``; the regex may
    itself contain braces, so they are matched by depth.
    """
    parts, literal, i = [], "", 0
    while i < len(path):
        if path[i] != "{":
            literal += path[i]
            i += 1
            continue
        depth, j = 0, i
        while j < len(path):
            if path[j] == "{":
                depth += 1
            elif path[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if depth:  # unbalanced: keep the rest as text
            literal += path[i:]
            break
        if literal:
            parts.append(literal)
            literal = ""
        name, _, regex = path[i + 1:j].partition(":")
        parts.append((name.strip(), regex))
        i = j + 1
    if literal:
        parts.append(literal)
    return parts


def path_shape(path):
    """The path with every placeholder reduced to ``{}``: names are wildcards."""
    return "".join(part if isinstance(part, str) else "{}" for part in split_path_template(path))


def openapi_path(path):
    """Pyramid's ``{id:\\d+}`` -> OpenAPI's ``{id}``."""
    return "".join(part if isinstance(part, str) else "{%s}" % part[0]
                   for part in split_path_template(path))


def path_parameters(path):
    """``[(name, regex)]`` of the placeholders in ``path``."""
    return [part for part in split_path_template(path) if not isinstance(part, str)]


# -- colander to JSON Schema -------------------------------------------------

def _validator_keywords(validator, schema):
    if validator is None:
        return
    if isinstance(validator, colander.All):
        for inner in validator.validators:
            _validator_keywords(inner, schema)
    elif isinstance(validator, colander.OneOf):
        schema["enum"] = list(validator.choices)
    elif isinstance(validator, colander.Range):
        if validator.min is not None:
            schema["minimum"] = validator.min
        if validator.max is not None:
            schema["maximum"] = validator.max
    elif isinstance(validator, colander.Length):
        is_array = schema.get("type") == "array"
        if validator.min is not None:
            schema["minItems" if is_array else "minLength"] = validator.min
        if validator.max is not None:
            schema["maxItems" if is_array else "maxLength"] = validator.max
    elif isinstance(validator, colander.Regex):
        schema["pattern"] = validator.match_object.pattern


def node_schema(node):
    """A JSON Schema (OpenAPI 3.0 dialect) for one colander node."""
    typ = node.typ
    if isinstance(typ, colander.Mapping):
        properties, required = {}, []
        for child in node.children:
            properties[child.name] = node_schema(child)
            if child.required:
                required.append(child.name)
        schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        unknown = getattr(typ, "unknown", "ignore")
        if unknown == "raise":
            schema["additionalProperties"] = False
        elif unknown == "preserve":
            schema["additionalProperties"] = True
    elif isinstance(typ, (colander.Sequence, colander.List, colander.Set)):
        items = node_schema(node.children[0]) if node.children else {}
        schema = {"type": "array", "items": items}
    elif isinstance(typ, colander.Tuple):
        schema = {"type": "array", "items": {}}
    elif isinstance(typ, colander.Boolean):
        schema = {"type": "boolean"}
    elif isinstance(typ, colander.Integer):
        schema = {"type": "integer"}
    elif isinstance(typ, colander.Number):
        schema = {"type": "number"}
    elif isinstance(typ, colander.DateTime):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(typ, colander.Date):
        schema = {"type": "string", "format": "date"}
    elif isinstance(typ, colander.String):
        schema = {"type": "string"}
    else:
        schema = {}
    if node.description:
        schema["description"] = str(node.description)
    default = node.default
    if default is not colander.null and isinstance(default, (str, int, float, bool)):
        schema["default"] = default
    if node.missing is None:
        schema["nullable"] = True
    _validator_keywords(node.validator, schema)
    return schema


def _instantiate(schema):
    return schema() if inspect.isclass(schema) else schema


def _schema_locations(method, args):
    """``{location: colander node}`` for one view's declared schema."""
    schema = args.get("schema")
    if schema is None:
        return {}
    schema = _instantiate(schema)
    validators = list(args.get("validators") or ())
    for validator in validators:
        location = _LOCATION_VALIDATORS.get(validator) or getattr(validator, "location", None)
        if location:
            return {location: schema}
    children = {child.name: child for child in getattr(schema, "children", ())}
    if colander_validator in validators or any(
            getattr(v, "__name__", "") == "colander_validator" for v in validators) or set(children) & {"body", "querystring", "path"}:
        return {name: node for name, node in children.items()
                if name in ("body", "querystring", "path", "headers")}
    return {"querystring" if method in ("GET", "DELETE") else "body": schema}


# -- responses -----------------------------------------------------------------

class Body:
    """One documented body: ``Body(schema, description, media_type)``.

    ``schema`` is a JSON Schema dict, a colander schema (class or instance) or
    ``None`` (no body); ``media_type`` one type or a tuple of them.
    """

    def __init__(self, schema=None, description=None, media_type="application/json"):
        self.schema = schema
        self.description = description
        self.media_type = media_type


HTML = Body({"type": "string"}, "An HTML page.", "text/html")
# The description of a success without a body (an empty 200 or 201, as DRF's Response()).
NO_BODY = "No body."

SUCCESS_STATUSES = range(200, 400)
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
BODY_METHODS = ("POST", "PUT", "PATCH")

DEFAULT_DESCRIPTIONS = {
    400: "Invalid input: a parameter, the request body or its encoding.",
    401: "Not authenticated (no or invalid credentials).",
    403: "Permission denied (also: a restricted JWT, a missing CSRF token).",
    404: "Not found (also: a path parameter of the wrong shape).",
    409: "Conflict with the current state.",
    413: "The request body is too large.",
    415: "Unsupported media type of the request body.",
    429: "Too many requests (throttled).",
}


# Authentication classes that refuse a bad token outright (DRF's AuthenticationFailed).
TOKEN_CLASSES = frozenset({"jwt", "bearer", "bearer_strict"})
INVALID_TOKEN = "A token was sent and refused (invalid or expired credentials)."


def default_responses(method, args, locations, path_params):
    """``{status: description}`` every operation answers whatever its view does.

    - 400 when a schema validates the query string or body, and for every body method
      (an unreadable body is a 400 from :mod:`lms.request`);
    - 401 (or DRF's 403 when the first authentication class is the session) when the
      method is not open to anonymous callers; on one that is, 401 when a JWT or Bearer
      token is accepted (a refused token is an error, as in DRF);
    - 403 when a restricted JWT is refused or the session needs a CSRF token;
    - 404 when the path has parameters (a value of the wrong shape matches no route);
    - 415 for body methods (a media type the view does not parse).
    """
    responses = {}
    if set(locations) & {"querystring", "body", "headers"} or method in BODY_METHODS:
        responses[400] = DEFAULT_DESCRIPTIONS[400]
    authenticator = _authenticator(args)
    if authenticator is not None and authenticator.classes:
        classes = set(authenticator.classes)
        if not authenticator.anonymous_allowed(method):
            responses[unauthenticated_status(authenticator)] = DEFAULT_DESCRIPTIONS[401]
        elif classes & TOKEN_CLASSES:
            # Open to anonymous callers, but a token that is sent and refused is a 401.
            responses[401] = INVALID_TOKEN
        if (("jwt" in classes and not authenticator.accept_restricted)
                or (method in UNSAFE_METHODS and classes & {"session", "session_strict"})):
            responses[403] = DEFAULT_DESCRIPTIONS[403]
    if path_params:
        responses[404] = DEFAULT_DESCRIPTIONS[404]
    if method in BODY_METHODS:
        responses[415] = DEFAULT_DESCRIPTIONS[415]
    return responses


def unauthenticated_status(authenticator):
    """401 with a ``WWW-Authenticate`` challenge, or DRF's 403 when the first class has none."""
    if authenticator.style == "developer":
        return 401
    first = authenticator.classes[0] if authenticator.classes else None
    return 401 if first in ("jwt", "bearer", "bearer_strict") else 403


def requires_authentication(args, method):
    """Whether an anonymous caller is refused (``args``: a service definition's)."""
    authenticator = _authenticator(args)
    return bool(authenticator is not None and authenticator.classes
                and not authenticator.anonymous_allowed(method))


def _body_schema(schema):
    if schema is None or isinstance(schema, dict):
        return schema
    return node_schema(_instantiate(schema))


def response_object(status, value):
    """One OpenAPI response object from a declared value."""
    if isinstance(value, str):
        return {"description": value}
    if not isinstance(value, Body):
        value = Body(value)
    description = value.description or _status_phrase(status)
    response = {"description": description}
    schema = _body_schema(value.schema)
    if schema is not None:
        types = (value.media_type,) if isinstance(value.media_type, str) else value.media_type
        response["content"] = {media_type: {"schema": schema} for media_type in types}
    return response


def _status_phrase(status):
    try:
        return http.HTTPStatus(int(status)).phrase + "."
    except ValueError:
        return "Response."


def operation_responses(service, method, args, locations, path_params, declared):
    merged = dict(default_responses(method, args, locations, path_params))
    removed = set()
    for source in (getattr(service, "responses", None) or {}, declared or {}):
        for status, value in source.items():
            if value is None:
                merged.pop(int(status), None)
                removed.add(int(status))
            else:
                merged[int(status)] = value
    # An operation that never succeeds (e.g. a bare 405, as upstream) says so with
    # ``{200: None}`` or by declaring its 405.
    if not any(status in SUCCESS_STATUSES or status == 405
               for status in set(merged) | removed):
        merged[204 if method == "DELETE" else 200] = _status_phrase(
            204 if method == "DELETE" else 200)
    return {str(status): response_object(status, value)
            for status, value in sorted(merged.items())}


# -- JSON Schema shorthands for response bodies -----------------------------------

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}
ANY = {}
ANY_OBJECT = {"type": "object"}
EMPTY_OBJECT = {"type": "object", "maxProperties": 0}


def nullable(schema):
    """``schema`` or ``null``."""
    return {**schema, "nullable": True} if schema else {}


def array(items=ANY):
    """An array of ``items`` (a JSON Schema or a colander schema)."""
    return {"type": "array", "items": _body_schema(items)}


def obj(properties=None, *, required=True, **extra):
    """An object with ``properties``; all of them always present unless ``required``
    is False or a list of names."""
    schema = {"type": "object", "properties": dict(properties or {})}
    names = list(schema["properties"]) if required is True else list(required or ())
    if names:
        schema["required"] = names
    schema.update(extra)
    return schema


# ``query=`` of a view paginated by :func:`lms.pagination.page_number` without a schema.
PAGE_QUERY = {"page": "Page number (1-based, or `last`).", "page_size": "Items per page."}


def page_of(item):
    """:func:`lms.pagination.page_number`'s page of ``item``."""
    return obj({"next": nullable(STRING), "previous": nullable(STRING), "count": INTEGER,
                "num_pages": INTEGER, "current_page": INTEGER, "start": INTEGER,
                "results": array(item)})


def namespaced_page_of(item):
    """``page_number(..., namespaced=True)``: ``{"results", "pagination"}``."""
    return obj({"results": array(item), "pagination": obj({
        "next": nullable(STRING), "previous": nullable(STRING), "count": INTEGER,
        "num_pages": INTEGER})})


def cursor_page_of(item):
    """:func:`lms.pagination.cursor`'s page of ``item``."""
    return obj({"next": nullable(STRING), "previous": nullable(STRING),
                "results": array(item)})


# -- docstrings ---------------------------------------------------------------

_REST_ROLE = re.compile(r":[\w.-]+(?::[\w.-]+)?:`(~?)([^`]*)`")
_REST_LINK = re.compile(r"`([^`<]+?)\s*<([^>`]+)>`__?")
_REST_REFERENCE = re.compile(r"`([^`]+)`__?")
_REST_LITERAL = re.compile(r"``(.+?)``")
_REST_DIRECTIVE = re.compile(r"^(\s*)\.\. (\w+)::\s*", re.MULTILINE)


def _role(match):
    target = match.group(2)
    text, _, _ = target.partition(" <")
    if "<" in target and target.endswith(">"):  # :ref:`text <target>`
        return f"`{text.strip()}`" if match.group(1) else text.strip()
    if match.group(1):  # ~a.b.C shows C
        text = text.rsplit(".", 1)[-1]
    return f"`{text}`"


def plain_text(text):
    """reST inline markup as Markdown/plain text: ``x`` and :role:`x` become `x`,
    `text <url>`_ a Markdown link, `name`_ plain text, ``.. note::`` "Note:"."""
    text = _REST_ROLE.sub(_role, text)
    text = _REST_LINK.sub(lambda m: f"[{m.group(1)}]({m.group(2)})", text)
    text = _REST_LITERAL.sub(lambda m: "\x00" + m.group(1) + "\x00", text)
    text = _REST_REFERENCE.sub(lambda m: m.group(1), text)
    text = text.replace("\x00", "`")
    text = _REST_DIRECTIVE.sub(lambda m: f"{m.group(1)}{m.group(2).capitalize()}: ", text)
    return re.sub(r"(\S)::$", r"\1:", text, flags=re.MULTILINE)


def _query_declarations(query):
    """Documentation-only query parameters: a colander mapping or ``{name: description}``."""
    if query is None:
        return []
    if isinstance(query, dict):
        return [{"name": name, "in": "query", "required": False, "description": text,
                 "schema": {"type": "string"}} for name, text in query.items()]
    parameters = []
    for child in _instantiate(query).children:
        parameter = {"name": child.name, "in": "query", "required": bool(child.required),
                     "schema": node_schema(child)}
        if child.description:
            parameter["description"] = str(child.description)
        parameters.append(parameter)
    return parameters


def _authenticator(args):
    for validator in args.get("validators") or ():
        if hasattr(validator, "classes") and hasattr(validator, "anonymous"):
            return validator
    return None


def _operation(service, method, view, args, path_params):
    doc = plain_text(inspect.getdoc(view) or "")
    summary, _, description = doc.partition("\n")
    operation = {
        "operationId": f"{service.name}.{method.lower()}",
        "tags": [service.name.split(".", 1)[0]],
    }
    if summary:
        operation["summary"] = summary.strip()
    if description.strip():
        operation["description"] = description.strip()
    locations = _schema_locations(method, args)
    declared_path = {}
    if "path" in locations:
        declared_path = {child.name: child for child in locations["path"].children}
    parameters = []
    for name, regex in path_params:
        if name in declared_path:
            schema = node_schema(declared_path[name])
        else:
            schema = {"type": "integer"} if regex.strip() == r"\d+" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    for location in ("querystring", "headers"):
        node = locations.get(location)
        if node is None:
            continue
        for child in node.children:
            parameter = {"name": child.name, "in": _PARAMETER_LOCATIONS[location],
                         "required": bool(child.required), "schema": node_schema(child)}
            if child.description:
                parameter["description"] = str(child.description)
            parameters.append(parameter)
    declared = getattr(service, "openapi_declarations", {}).get(method, {})
    names = {(p["name"], p["in"]) for p in parameters}
    parameters += [p for p in _query_declarations(declared.get("query"))
                   if (p["name"], "query") not in names]
    if parameters:
        operation["parameters"] = parameters
    if "body" in locations:
        operation["requestBody"] = {
            "required": bool(locations["body"].required),
            "content": {"application/json": {"schema": node_schema(locations["body"])}},
        }
    elif declared.get("body") is not None:  # a body the view parses itself
        body = declared["body"]
        if not isinstance(body, Body):
            body = Body(body)
        operation["requestBody"] = {
            "required": False,
            "content": {body.media_type: {"schema": _body_schema(body.schema) or {}}},
        }
    authenticator = _authenticator(args)
    if authenticator is not None:
        security = [{name: []} for name in authenticator.classes]
        if authenticator.api_key:
            security.append({"api_key": []})
        anonymous = authenticator.anonymous
        if anonymous is True or method in (anonymous or ()):
            security.append({})  # anonymous callers are accepted too
        operation["security"] = security
    operation["responses"] = operation_responses(
        service, method, args, locations, path_params, declared.get("responses"))
    return operation


def build_document(registry):
    """The OpenAPI 3.0 document for the services of this app."""
    settings = registry.settings
    plugins = {info.name: info for info in registry.get("lms.enabled_plugins", ())}
    paths, tags = {}, set()
    for service in sorted(enabled_services(registry), key=lambda s: s.name):
        spec_path = getattr(service, "spec_path", service.path)
        path_params = path_parameters(spec_path)
        item = paths.setdefault(openapi_path(spec_path), {})
        for method, view, args in service.definitions:
            if method in ("HEAD", "OPTIONS") or method.lower() in item:
                continue
            operation = _operation(service, method, view, args, path_params)
            tags.update(operation["tags"])
            item[method.lower()] = operation
    tag_list = []
    for tag in sorted(tags):
        entry = {"name": tag}
        if tag in plugins:
            entry["description"] = f"Plugin {tag} {plugins[tag].version}"
        tag_list.append(entry)
    schemes = {}
    for item in paths.values():
        for operation in item.values():
            for requirement in operation.get("security", ()):
                for name in requirement:
                    scheme = dict(SECURITY_SCHEMES.get(
                        name, {"type": "apiKey", "in": "header", "name": "Authorization"}))
                    if scheme.get("in") == "cookie":
                        scheme["name"] = settings.get("session.cookie_name") or "sessionid"
                    schemes[name] = scheme
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"{settings.get('lms.platform_name') or 'openlms'} API",
            "version": _version(),
            "description": "The Open edX LMS REST API as served by openlms "
                           "(enabled plugins only).",
        },
        "paths": dict(sorted(paths.items())),
        "tags": tag_list,
    }
    if schemes:
        document["components"] = {"securitySchemes": dict(sorted(schemes.items()))}
    return document


def _version():
    from lms import __version__

    return __version__


# -- views -------------------------------------------------------------------

SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{favicon}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


def get_openapi(request):
    registry = request.registry
    document = registry.get("lms.openapi.document")
    if document is None:  # services never change after start-up
        document = registry["lms.openapi.document"] = build_document(registry)
    return document


def get_api_docs(request):
    swagger = request.registry["lms.openapi.swagger_ui_path"]
    title = f"{request.registry.settings.get('lms.platform_name') or 'openlms'} API"
    page = SWAGGER_PAGE.format(
        title=html.escape(title),
        css=html.escape(request.static_url(f"{swagger}/swagger-ui.css")),
        favicon=html.escape(request.static_url(f"{swagger}/favicon-32x32.png")),
        bundle=html.escape(request.static_url(f"{swagger}/swagger-ui-bundle.js")),
        init=html.escape(request.static_url("lms:static/api-docs.js")),
        spec_url=html.escape(request.route_path("lms.openapi.json")),
    )
    return Response(page, content_type="text/html", charset="utf-8")


def redirect_api_docs(request):
    return HTTPMovedPermanently(location=request.route_path("lms.openapi.ui"))


def swagger_ui_path():
    from swagger_ui_bundle import swagger_ui_path as path

    return str(path)


def includeme(config):
    path = swagger_ui_path()
    config.registry["lms.openapi.swagger_ui_path"] = path
    config.add_static_view(SWAGGER_UI_STATIC, path, cache_max_age=86400)
    config.add_static_view(LMS_STATIC, "lms:static", cache_max_age=3600)
    config.add_route("lms.openapi.json", "/api-docs/openapi.json")
    config.add_route("lms.openapi.ui", "/api-docs/")
    config.add_route("lms.openapi.ui_redirect", "/api-docs")
    config.add_view(get_openapi, route_name="lms.openapi.json", request_method="GET",
                    renderer="json")
    config.add_view(get_api_docs, route_name="lms.openapi.ui", request_method="GET")
    config.add_view(redirect_api_docs, route_name="lms.openapi.ui_redirect",
                    request_method="GET")
