"""Operator endpoints outside ``/api``: the plugin list."""
from pyramid.view import view_config


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


@view_config(route_name="lms.operator.plugins", renderer="json", request_method="GET")
def get_plugins(request):
    return {"plugins": plugin_rows(request.registry)}


def includeme(config):
    config.add_route("lms.operator.plugins", "/_lms/plugins")
    config.scan(__name__)
