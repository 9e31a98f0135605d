"""OpenAPI document of the enabled services, and start-up checks on them."""
from pyramid.exceptions import ConfigurationError


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


def includeme(config):
    pass
