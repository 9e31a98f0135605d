"""openlms: an open-source server for the Open edX LMS REST API."""
import logging

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import IRoutesMapper

from lms import plugins as plugin_machinery
from lms.settings import (CORE_DEFAULTS, apply_env_overrides, as_bool, check_no_conflicts,
                          check_secrets)

log = logging.getLogger(__name__)

__version__ = "0.1.0"

# Core modules included before any plugin (each has an ``includeme``).
CORE_INCLUDES = (
    "lms.db",
    "lms.passwords",
    "lms.errors",
    "lms.service",
    "lms.pagination",
    "lms.renderers",
    "lms.proxies",
    "lms.cors",
    "lms.request_ids",
    "lms.limits",
    "lms.security",
    "lms.oauth",
    "lms.session",
    "lms.heartbeat",
    "lms.tracking",
    "lms.i18n",
    "lms.openapi",
    "lms.tasks",
    "lms.mail",
    "lms.operator",
)


def load_settings(settings, installed=None):
    """Core + plugin defaults, then the given settings, then the environment.

    Returns ``(settings, installed, enabled)``.
    """
    settings = dict(settings)
    for key, value in CORE_DEFAULTS.items():
        settings.setdefault(key, value)
    apply_env_overrides(settings)  # lms.plugins may come from LMS_PLUGINS
    if installed is None:
        installed = plugin_machinery.discover()
    enabled = plugin_machinery.select(installed, settings)
    declared = [("lms", CORE_DEFAULTS)]
    for info in enabled:
        hook = plugin_machinery.hookimpl_of(info, "lms_default_settings")
        if hook is not None:
            defaults = hook() or {}
            bad = [k for k in defaults if not k.startswith(info.name + ".")]
            if bad:
                raise ConfigurationError(
                    f"plugin {info.name!r} declares settings outside its prefix: {', '.join(bad)}"
                )
            declared.append((info.name, defaults))
            for key, value in defaults.items():
                settings.setdefault(key, value)
    check_no_conflicts(declared)
    apply_env_overrides(settings)
    return settings, installed, enabled


def _route_names(config):
    mapper = config.registry.queryUtility(IRoutesMapper)
    return [route.name for route in mapper.get_routes()] if mapper else []


def check_shared_paths(config):
    """Fail when a Cornice service shares its path with another route.

    Pyramid matches routes in order, so the later one would never be reached;
    and Cornice keys ``registry.cornice_services`` by path, so the earlier
    service would silently vanish from it (and from the duplicate-operation
    check and the OpenAPI document).
    """
    from lms.openapi import enabled_services
    from lms.service import TRAILING_SLASH_MARKER

    mapper = config.registry.queryUtility(IRoutesMapper)
    if mapper is None:
        return
    service_names = {service.name for service in enabled_services(config.registry)}
    by_path = {}
    for route in mapper.get_routes():
        path = route.pattern.replace(TRAILING_SLASH_MARKER, "").rstrip("/") or "/"
        by_path.setdefault(path, []).append(route.name)
    for path, names in sorted(by_path.items()):
        if len(names) > 1 and service_names.intersection(names):
            raise ConfigurationError(
                f"path {path} is routed by more than one service or route: "
                + ", ".join(repr(name) for name in names)
            )


def make_config(settings, installed=None, engine=None):
    settings, installed, enabled = load_settings(settings, installed)
    check_secrets(settings)
    config = Configurator(settings=settings)
    pm = plugin_machinery.make_plugin_manager(enabled)
    config.registry["lms.plugin_manager"] = pm
    config.registry["lms.plugins"] = installed
    config.registry["lms.enabled_plugins"] = enabled
    if engine is not None:
        config.registry["lms.engine"] = engine
    for name in CORE_INCLUDES:
        config.include(name)
    config.commit()  # core directives exist before plugins run
    for info in enabled:
        hook = plugin_machinery.hookimpl_of(info, "lms_includeme")
        if hook is None:
            continue
        before = set(_route_names(config))
        config.include(hook)
        config.commit()
        info.routes = [name for name in _route_names(config) if name not in before]
    from lms.openapi import check_duplicate_operations

    check_duplicate_operations(config.registry)
    check_shared_paths(config)
    return config


# A PasteDeploy global option the ``lms`` command sets when it loads the app:
# its commands migrate or check the database themselves (``lms serve`` does).
CLI_LOADING = "openlms_cli"


def refuse_pending_migrations(registry):
    """Stop start-up while the database lacks migrations of the core or an enabled
    plugin: every API call would fail (``no such table``)."""
    from lms.migrate import pending_message

    message = pending_message(registry)
    if message:
        raise ConfigurationError(
            f"{message}: run `lms migrate` first (lms.allow_pending_migrations = true "
            "serves anyway)")


def main(global_config=None, **settings):
    """The paste ``app_factory``: build the WSGI application.

    It refuses a database with pending migrations unless
    ``lms.allow_pending_migrations`` is true.
    """
    config = make_config(settings)
    registry = config.registry
    if not (global_config or {}).get(CLI_LOADING) and not as_bool(
            registry.settings, "lms.allow_pending_migrations"):
        try:
            refuse_pending_migrations(registry)
        except Exception:
            registry["lms.engine"].dispose()
            raise
    return config.make_wsgi_app()
