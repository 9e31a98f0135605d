"""The Cornice ``Service`` every plugin uses (never ``cornice.Service`` directly).

It adds to Cornice:

- the exact upstream path, served with *and* without its trailing slash;
- per-service authentication classes, run before any other validator, that
  set ``request.authentication`` and ``request.user``;
- anonymous access per method (``anonymous=("GET",)``) or service-wide;
- the service's Open edX error style for validation errors;
- Cornice's colander validators fed by :mod:`lms.request`, so bodies and query
  strings are read as DRF reads them (never by Cornice's own JSON parsing);
- :meth:`Service.alias`: the same operations served at another path too (upstream's
  legacy twins, such as ``/user_api/v1/...`` for ``/api/user/v1/...``).
"""
import copy

import cornice
import venusian
from cornice.validators import _colander as cornice_colander
from cornice.validators import (  # noqa: F401  (re-exported for plugins)
    colander_headers_validator,
    colander_path_validator,
)

from lms import auth
from lms.errors import ERROR_STYLES, APIError, make_error_handler
from lms.request import DEFAULT_MEDIA_TYPES, query_params, request_data

TRAILING_SLASH_MARKER = "{trailing_slash:/?}"


def route_pattern(path):
    """The Pyramid pattern of an upstream path: served with and without its trailing slash."""
    if path.endswith("/") and path != "/":
        return path[:-1] + TRAILING_SLASH_MARKER
    return path + TRAILING_SLASH_MARKER


# -- colander validators (Cornice's, reading the request through lms.request) -----------

def _body_cstruct(request, accept):
    data = request_data(request, accept)
    if data is None:
        request.errors.add("body", "", "This field may not be null.")
    elif not isinstance(data, (dict, list)):
        request.errors.add("body", "", "Invalid data. Expected a dictionary, but got "
                                       f"{type(data).__name__}.")
    return data if isinstance(data, (dict, list)) else {}


def _cstruct(request, accept=None):
    """Cornice's ``extract_cstruct``; the body is parsed only when ``accept`` is given."""
    return {
        "method": request.method,
        "url": request.url,
        "path": request.matchdict,
        "body": _body_cstruct(request, accept) if accept is not None else {},
        "querystring": query_params(request),
        "header": dict(request.headers),
        "cookies": dict(request.cookies),
    }


def body_validator(accept=DEFAULT_MEDIA_TYPES):
    """Cornice's ``colander_body_validator`` for a view whose parsers accept ``accept``."""

    def colander_body_validator(request, schema=None, **kwargs):
        if schema is None:
            request_data(request, accept)  # still refuse an unreadable body
            return
        kwargs["deserializer"] = lambda request: _cstruct(request, accept)
        cornice_colander.body_validator(request, schema=schema, **kwargs)

    colander_body_validator.location = "body"
    return colander_body_validator


def full_validator(accept=DEFAULT_MEDIA_TYPES):
    """Cornice's ``colander_validator`` (``body``/``querystring``/``path`` children)."""

    def colander_validator(request, schema=None, **kwargs):
        kwargs["deserializer"] = lambda request: _cstruct(request, accept)
        cornice_colander.validator(request, schema=schema, **kwargs)

    colander_validator.location = None
    return colander_validator


def _multi_value_names(schema):
    """Query fields whose colander type sets ``multi_value = True`` (Django's ``getlist``)."""
    if schema is None:
        return ()
    node = schema() if isinstance(schema, type) else schema
    return {child.name for child in node.children if getattr(child.typ, "multi_value", False)}


def colander_querystring_validator(request, schema=None, **kwargs):
    """Cornice's querystring validator: a repeated parameter's last value wins, except for
    fields whose type has ``multi_value = True``, which get every value as a list."""
    multi = _multi_value_names(schema)

    def deserializer(request):
        cstruct = _cstruct(request)
        if multi:
            query = dict(cstruct["querystring"])
            for name in multi:
                values = cstruct["querystring"].getall(name)
                if values:
                    query[name] = values
            cstruct["querystring"] = query
        return cstruct

    kwargs["deserializer"] = deserializer
    cornice_colander.querystring_validator(request, schema=schema, **kwargs)


colander_querystring_validator.location = "querystring"
colander_body_validator = body_validator()
colander_validator = full_validator()


class Authenticator:
    """First validator of every service: who is calling, and may they at all?"""

    def __init__(self, classes, style, anonymous, api_key, accept_restricted):
        self.classes = tuple(classes)
        self.style = style
        self.anonymous = anonymous
        self.api_key = api_key
        self.accept_restricted = accept_restricted

    def anonymous_allowed(self, method):
        if self.anonymous is True:
            return True
        methods = tuple(self.anonymous or ())
        # HEAD is GET without a body: it follows GET's rule.
        return method in methods or (method == "HEAD" and "GET" in methods)

    def __call__(self, request, **kwargs):
        request.error_style = self.style
        request.auth_classes = self.classes
        try:
            result = auth.authenticate(request, self.classes)
        except APIError as error:
            if self.style == "developer" and error.status == 401:
                # DeveloperErrorViewMixin re-wraps authentication failures.
                message = error.body.get("detail", error.body) if isinstance(
                    error.body, dict) else error.body
                raise APIError(401, {"developer_message": message})
            raise
        if not result.is_authenticated and self.api_key and auth.has_api_key(request):
            result = auth.Authentication(api_key=True, method="api_key")
        request.authentication = result
        request.user = result.user
        if (result.jwt_payload and result.jwt_payload.get("is_restricted")
                and not self.accept_restricted):
            # NotJwtRestrictedApplication: implied by every JwtAuthentication view.
            from lms.errors import permission_denied

            raise permission_denied(self.style)
        anonymous_ok = self.anonymous_allowed(request.method)
        if not anonymous_ok and not result.is_authenticated and not result.api_key:
            raise auth.not_authenticated(self.classes, self.style)


class Service(cornice.Service):
    """``Service(name, path, auth=STANDARD_AUTH, errors="drf", anonymous=(), ...)``.

    - ``name``: ``<plugin>.<resource>`` (it becomes the Pyramid route name);
    - ``path``: the upstream path, including ``/api`` and its trailing slash;
    - ``auth``: authentication classes in upstream order (see :mod:`lms.auth`);
    - ``errors``: the error style of the endpoint family (see :mod:`lms.errors`);
    - ``anonymous``: ``True`` or the methods that anonymous callers may use;
    - ``api_key``: honour ``X-Edx-Api-Key`` as an alternative to a user;
    - ``accept_restricted``: accept restricted-application JWTs;
    - ``responses``: OpenAPI responses of every method (see :mod:`lms.openapi`); each view
      adds its own with ``@service.get(responses={200: Schema, 404: "..."})``, and
      ``query=``/``body=`` document what a view reads outside its colander schema.
    """

    renderer = "json"
    alias_of = None  # the name of the service an alias serves again (see alias())

    def __init__(self, name, path, *, auth=auth.STANDARD_AUTH, errors="drf", anonymous=(),
                 api_key=False, accept_restricted=False, depth=2, responses=None, **kw):
        if errors not in ERROR_STYLES:
            raise ValueError(f"unknown error style {errors!r}")
        self.spec_path = path
        self.responses = dict(responses or {})
        self.openapi_declarations = {}  # method -> {"responses", "query", "body"}
        self.error_style = errors
        self.auth_classes = tuple(auth)
        authenticator = Authenticator(auth, errors, anonymous, api_key, accept_restricted)
        kw["validators"] = [authenticator] + list(cornice.util.to_list(kw.get("validators", [])))
        kw.setdefault("error_handler", make_error_handler(errors))
        super().__init__(name, path=route_pattern(path), depth=depth, **kw)

    def add_view(self, method, view, **kwargs):
        if self.alias_of is not None:
            raise TypeError(f"{self.name} is an alias of {self.alias_of}: decorate the "
                            "service it serves")
        # Documentation only (read by lms.openapi): never passed on to Pyramid.
        declared = {key: kwargs.pop(key) for key in ("responses", "query", "body")
                    if key in kwargs}
        super().add_view(method, view, **kwargs)
        self.openapi_declarations[method.upper()] = declared

    def alias(self, name, path, *, depth=1):
        """This service's operations, served again at ``path`` as the service ``name``.

        For upstream's legacy twins: ``/user_api/v1/...`` routed to the same view as
        ``/api/user/v1/...``. The alias shares everything but its name and path: the
        views, the validators (the authenticator first, so the same authentication,
        anonymous rule and error style), the route predicates and the OpenAPI
        declarations, so it answers exactly as its target. It is its own operation in
        the OpenAPI document, and it inherits its target's permission matrix rows.

        Bind the result to a module-level name of a scanned module (venusian registers
        it when ``config.scan`` finds it there, as any service)::

            time_zones_legacy = time_zones.alias(
                "accounts.preferences_time_zones_legacy", "/user_api/v1/preferences/time_zones/")

        The lists of views are shared, not copied: a view added to the target later is
        served at both paths, and the alias itself cannot be decorated. ``depth`` counts
        the frames between the module and this call (more when a helper calls it).
        """
        twin = copy.copy(self)
        twin.__dict__.pop(venusian.ATTACH_ATTR, None)  # the target's scan callback
        twin.name = name
        twin.path = route_pattern(path)
        twin.spec_path = path
        twin.alias_of = self.alias_of or self.name
        cornice.service.SERVICES.append(twin)

        def callback(context, name, ob):
            config = context.config.with_package(info.module)
            config.add_cornice_service(twin)

        info = venusian.attach(twin, callback, category="pyramid", depth=depth)
        return twin


def includeme(config):
    # Our exception views (lms.errors) render every error; Cornice's must not.
    config.get_settings()["handle_exceptions"] = False
    config.include("cornice")
