"""Operator endpoints outside ``/api``: the plugin list.

``GET /_lms/plugins`` names every installed plugin and its version: what an
attacker would look for first, so it answers active global staff only (401 anonymous,
403 for anyone else, restricted-application JWTs included) unless
``lms.plugins_endpoint_public`` opens it to everyone.
"""
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


def includeme(config):
    config.add_route("lms.operator.plugins", "/_lms/plugins")
    config.scan(__name__)
