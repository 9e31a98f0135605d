"""Operator endpoints outside ``/api``: the landing page and the plugin list.

``GET /`` is a small page for whoever opens the server in a browser (and where
logout and activation links land): the platform name, the openlms version
(public in the OpenAPI document too), links to the API documentation and the
heartbeat, and the names of the enabled plugins (their tags in the OpenAPI
document), without versions. JSON when the caller prefers it.

``GET /_lms/plugins`` names every installed plugin and its version: what an
attacker would look for first, so it answers active global staff only (401 anonymous,
403 for anyone else, restricted-application JWTs included) unless
``lms.plugins_endpoint_public`` opens it to everyone.
"""
from html import escape

from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from pyramid.view import view_config

from lms import auth, permissions
from lms.errors import permission_denied
from lms.settings import as_bool


def plugin_rows(registry):
    rows = []
    for info in sorted(registry["lms.plugins"].values(), key=lambda p: p.name):
        rows.append({
            "name": info.name,
            "version": info.version,
            "enabled": info.enabled,
            "builtin": info.builtin,
            "requires": list(info.requires),
            "routes": len(info.routes),
        })
    return rows


def _require_staff(request):
    """Active global staff, behind the standard authentication classes (JWT, Bearer,
    session)."""
    authentication = auth.authenticate(request, auth.STANDARD_AUTH)
    if not authentication.is_authenticated:
        raise auth.not_authenticated(auth.STANDARD_AUTH, "drf")
    payload = authentication.jwt_payload
    if payload and payload.get("is_restricted"):
        raise permission_denied()
    if not permissions.is_staff(authentication.user):
        raise permission_denied()


@view_config(route_name="lms.operator.plugins", renderer="json", request_method="GET")
def get_plugins(request):
    if not as_bool(request.registry.settings, "lms.plugins_endpoint_public"):
        _require_staff(request)
    return {"plugins": plugin_rows(request.registry)}


HOME_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{name}</title></head>
<body>
<h1>{name}</h1>
<p>An Open edX LMS API server (openlms {version}).</p>
<ul>
<li><a href="{api_docs}">API documentation</a> (<a href="{openapi}">OpenAPI document</a>)</li>
<li><a href="{heartbeat}">Heartbeat</a></li>
</ul>
<p>Enabled plugins: {plugins}</p>
</body>
</html>
"""


def home_data(request):
    from lms import __version__

    registry = request.registry
    return {
        "name": registry.settings.get("lms.platform_name") or "openlms",
        "version": __version__,
        "links": {
            "api_docs": request.route_path("lms.openapi.ui"),
            "openapi": request.route_path("lms.openapi.json"),
            "heartbeat": request.route_path("lms.heartbeat"),
        },
        "plugins": [info.name for info in registry["lms.enabled_plugins"]],
    }


def prefers_json(request):
    """JSON when the caller ranks it above HTML, or names it and not HTML (as API
    clients' ``application/json, */*`` does); HTML for browsers and no header."""
    quality = dict(request.accept.acceptable_offers(["text/html", "application/json"]))
    json_quality, html_quality = quality.get("application/json", 0), quality.get("text/html", 0)
    if json_quality != html_quality:
        return json_quality > html_quality
    header = request.headers.get("Accept", "")
    return "application/json" in header and "text/html" not in header


@view_config(route_name="lms.home", request_method="GET")
def get_home(request):
    """The landing page: name, version, links and enabled plugins (HTML or JSON)."""
    data = home_data(request)
    if prefers_json(request):
        response = Response(json_body=data, charset="utf-8")
    else:
        links = data["links"]
        page = HOME_PAGE.format(
            name=escape(data["name"]), version=escape(data["version"]),
            api_docs=escape(links["api_docs"]), openapi=escape(links["openapi"]),
            heartbeat=escape(links["heartbeat"]),
            plugins=escape(", ".join(data["plugins"]) or "none"))
        response = Response(page, content_type="text/html", charset="utf-8")
    response.vary = ("Accept",)
    return response


@view_config(route_name="lms.dashboard", request_method="GET")
def get_dashboard(request):
    """``/dashboard``, where Open edX sends learners after login or registration when no
    ``next`` is given: the learner dashboard MFE when one is configured
    (``lms.learner_dashboard_url``, upstream ``LEARNER_HOME_MICROFRONTEND_URL``), else the
    landing page. openlms has no server-rendered dashboard of its own."""
    target = request.registry.settings.get("lms.learner_dashboard_url") or request.route_path(
        "lms.home")
    return HTTPFound(location=target)


def includeme(config):
    config.add_route("lms.home", "/")
    config.add_route("lms.dashboard", "/dashboard")
    config.add_route("lms.operator.plugins", "/_lms/plugins")
    config.scan(__name__)
