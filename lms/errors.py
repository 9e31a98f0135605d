"""Errors shaped as Open edX / DRF shape them, and the core exception views.

Plugins raise :class:`APIError` (or use the helpers below) and never build
error responses by hand. Each Cornice service picks an *error style* that
decides how colander validation errors are rendered:

- ``drf``: ``{"<field>": ["<message>"]}`` (DRF serializers) and ``{"detail": ...}``;
- ``developer``: ``{"field_errors": {"<field>": {"developer_message": ...}}}``
  (``DeveloperErrorViewMixin`` views: course API, blocks, grades, ...);
- ``user``: ``{"field_errors": {"<field>": {"developer_message", "user_message"}}}``
  (accounts and preferences);
- ``message``: ``{"message": ...}`` (enrollment API).
"""
import logging

from pyramid.httpexceptions import HTTPException, HTTPMethodNotAllowed, HTTPNotFound
from pyramid.response import Response
from pyramid.view import exception_view_config

from lms.renderers import dumps

log = logging.getLogger(__name__)

ERROR_STYLES = ("drf", "developer", "user", "message")

NOT_AUTHENTICATED = "Authentication credentials were not provided."
PERMISSION_DENIED = "You do not have permission to perform this action."


class APIError(Exception):
    """An error response with an exact JSON body (or an exact empty/plain body)."""

    def __init__(self, status, body=None, headers=None, raw=None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        # ``raw``: a bytes body sent as-is (e.g. upstream's empty 404 body).
        self.raw = raw

    def response(self):
        if self.raw is not None:
            response = Response(body=self.raw, status=self.status)
            response.content_type = "application/json" if self.raw else None
        else:
            response = Response(
                body=dumps(self.body),
                status=self.status,
                content_type="application/json",
                charset="utf-8",
            )
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def json_error(status, body, headers=None):
    return APIError(status, body, headers).response()


def detail(status, message, headers=None):
    """DRF's ``{"detail": ...}``."""
    return APIError(status, {"detail": message}, headers)


def developer(status, message, error_code=None, **extra):
    body = {"developer_message": message}
    if error_code:
        body["error_code"] = error_code
    body.update(extra)
    return APIError(status, body)


def not_found(style="drf", message="Not found."):
    if style in ("developer", "user"):
        return developer(404, message)
    if style == "message":
        return APIError(404, {"message": message})
    return detail(404, message)


def permission_denied(style="drf", message=PERMISSION_DENIED):
    if style == "developer":
        return developer(403, message)
    return detail(403, message)


def body_error(status, message, style="drf"):
    """A body the view cannot read (400 parse error, 415 media type) in ``style``.

    DRF renders these as ``{"detail": ...}``; ``DeveloperErrorViewMixin`` views
    as ``{"developer_message": ...}``; the enrollment API as ``{"message": ...}``.
    """
    if style == "developer":
        return developer(status, message)
    if style == "message":
        return APIError(status, {"message": message})
    return detail(status, message)


def field_errors(errors, style="drf"):
    """Render ``{field: message}`` as a 400 APIError in the service's style."""
    if style == "drf":
        body = {}
        for field, message in errors.items():
            body.setdefault(field or "non_field_errors", []).append(message)
        return APIError(400, body)
    if style == "message":
        first = next(iter(errors.values()))
        return APIError(400, {"message": first, "field_errors": errors})
    rendered = {}
    non_field = None
    for field, message in errors.items():
        if not field:
            non_field = message
            continue
        entry = {"developer_message": message}
        if style == "user":
            entry["user_message"] = message
        rendered[field] = entry
    body = {"field_errors": rendered} if rendered else {}
    if non_field:
        body["developer_message"] = non_field
    return APIError(400, body)


def _cornice_errors_to_dict(request):
    errors = {}
    for error in request.errors:
        name = error.get("name") or ""
        for prefix in ("body.", "querystring.", "path.", "headers."):
            if name.startswith(prefix):
                name = name[len(prefix):]
        if name in ("body", "querystring", "path"):
            name = ""
        errors.setdefault(name, str(error.get("description")))
    return errors


def make_error_handler(style):
    """A Cornice ``error_handler`` rendering ``request.errors`` in ``style``."""

    def error_handler(request):
        # Unreadable bodies never get here: lms.request raises them in the style.
        return field_errors(_cornice_errors_to_dict(request), style).response()

    error_handler.style = style
    return error_handler


# -- exception views ---------------------------------------------------------

@exception_view_config(APIError)
def api_error_view(exc, request):
    return exc.response()


@exception_view_config(HTTPMethodNotAllowed)
def method_not_allowed_view(exc, request):
    response = json_error(405, {"detail": f'Method "{request.method}" not allowed.'})
    allow = exc.headers.get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


@exception_view_config(HTTPNotFound)
def not_found_view(exc, request):
    return json_error(404, {"detail": "Not found."})


@exception_view_config(HTTPException)
def http_exception_view(exc, request):
    if exc.code and exc.code >= 400:
        response = json_error(exc.code, {"detail": exc.explanation or exc.title})
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        return response
    return exc


@exception_view_config(UnicodeDecodeError)
def undecodable_request_view(exc, request):
    # WebOb raises this lazily for a query string or form that is not UTF-8.
    return json_error(400, {"detail": "The request is not valid UTF-8."})


@exception_view_config(Exception)
def internal_error_view(exc, request):
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return json_error(500, {"detail": "A server error occurred."})


def includeme(config):
    config.scan(__name__)
