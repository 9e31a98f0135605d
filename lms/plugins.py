"""Plugin discovery, selection, dependency order and the per-app plugin manager.

A plugin is a Python module (usually a package) with these attributes:

- ``name``: its one name (settings prefix, table prefix, migration branch,
  Cornice service-name prefix);
- ``version``: a string;
- ``requires``: a tuple of plugin names it depends on (optional);
- hook implementations decorated with :data:`lms.hookspecs.hookimpl`.

Built-in plugins are listed in :data:`BUILTIN_PLUGINS`; third-party ones are
found through the ``openlms.plugins`` entry-point group.
"""
import importlib
import os
import re
from dataclasses import dataclass, field
from importlib import metadata

import pluggy
from pyramid.exceptions import ConfigurationError

from lms import hookspecs
from lms.settings import as_list

ENTRY_POINT_GROUP = "openlms.plugins"

# A plugin's name is also a table prefix and an alembic branch label.
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# "lms" is the core's branch and table prefix; "builtins" is a word of lms.plugins.
RESERVED_NAMES = ("lms", "builtins")

# Dotted names of the first-party plugins, so a plain checkout runs.
BUILTIN_PLUGINS = ("plugins.experiments", "plugins.courses", "plugins.accounts",
                   "plugins.enrollment", "plugins.mobile", "plugins.grades", "plugins.teams",
                   "plugins.discussion", "plugins.bookmarks", "plugins.video")


@dataclass
class PluginInfo:
    name: str
    version: str
    requires: tuple
    module: object
    builtin: bool
    enabled: bool = False
    routes: list = field(default_factory=list)

    @property
    def migrations_path(self):
        """``<package dir>/migrations/versions`` when the plugin ships migrations."""
        module_file = getattr(self.module, "__file__", None)
        if not module_file:
            return None
        path = os.path.join(os.path.dirname(module_file), "migrations", "versions")
        return path if os.path.isdir(path) else None


def _info_from_module(module, builtin):
    try:
        name = module.name
    except AttributeError:
        raise ConfigurationError(f"plugin module {module.__name__!r} has no 'name' attribute")
    if not isinstance(name, str) or not NAME_RE.match(name) or name in RESERVED_NAMES:
        raise ConfigurationError(
            f"plugin module {module.__name__!r} has an invalid name {name!r}: use lower-case "
            f"letters, digits and '_', and neither of {', '.join(RESERVED_NAMES)}"
        )
    return PluginInfo(
        name=name,
        version=str(getattr(module, "version", "0")),
        requires=tuple(getattr(module, "requires", ())),
        module=module,
        builtin=builtin,
    )


def discover(builtins=None, entry_points=None):
    """Return ``{name: PluginInfo}`` for every installed plugin."""
    if builtins is None:
        builtins = BUILTIN_PLUGINS
    found = {}
    for dotted in builtins:
        info = _info_from_module(importlib.import_module(dotted), builtin=True)
        found[info.name] = info
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in entry_points:
        module = ep.load()
        info = _info_from_module(module, builtin=False)
        if info.name in found:
            other = found[info.name].module.__name__
            raise ConfigurationError(
                f"plugin name {info.name!r} is claimed by both {other!r} and "
                f"entry point {ep.name!r} ({module.__name__})"
            )
        found[info.name] = info
    return found


def select(installed, settings):
    """Mark the enabled plugins and check their requirements.

    Returns the enabled plugins in dependency order (requirements first).
    """
    wanted = as_list(settings, "lms.plugins")
    disabled = set(as_list(settings, "lms.plugins.disabled"))
    if not wanted:
        enabled = {n for n, p in installed.items() if p.builtin}
    else:
        enabled = set()
        for name in wanted:
            if name == "builtins":
                enabled |= {n for n, p in installed.items() if p.builtin}
            elif name not in installed:
                raise ConfigurationError(
                    f"lms.plugins names {name!r}, which is not installed "
                    f"(installed: {', '.join(sorted(installed)) or 'none'})"
                )
            else:
                enabled.add(name)
    for name in disabled:
        if name not in installed:
            raise ConfigurationError(f"lms.plugins.disabled names {name!r}, which is not installed")
    enabled -= disabled
    for info in installed.values():
        info.enabled = info.name in enabled
    for name in sorted(enabled):
        for req in installed[name].requires:
            if req not in installed:
                raise ConfigurationError(
                    f"plugin {name!r} requires plugin {req!r}, which is not installed"
                )
            if req not in enabled:
                raise ConfigurationError(
                    f"plugin {name!r} requires plugin {req!r}, which is disabled"
                )
    return topological_order({n: installed[n] for n in enabled})


def topological_order(plugins):
    ordered, state = [], {}

    def visit(name, chain):
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ConfigurationError("plugin requirement cycle: " + " -> ".join(chain + [name]))
        state[name] = "visiting"
        for req in plugins[name].requires:
            visit(req, chain + [name])
        state[name] = "done"
        ordered.append(plugins[name])

    # Built-in plugins first, then third-party ones (each group by name): a named
    # plugin comes after every built-in whatever its name, requirements first anyway.
    for name in sorted(plugins, key=lambda name: (not plugins[name].builtin, name)):
        visit(name, [])
    return ordered


def make_plugin_manager(enabled):
    """A new PluginManager holding only the enabled plugins (never at import time)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    # Historic: each plugin's lms_addhooks runs as it is registered, in dependency
    # order, so the hookspecs it publishes exist before its dependants register.
    pm.hook.lms_addhooks.call_historic(kwargs={"pluginmanager": pm})
    names = {id(info.module): info.name for info in enabled}
    try:
        for info in enabled:
            pm.register(info.module, name=info.name)
        # A hookimpl without a hookspec (a misspelt name) fails here, at start-up.
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = names.get(id(exc.plugin), getattr(exc.plugin, "__name__", exc.plugin))
        raise ConfigurationError(f"plugin {name!r}: {exc}") from exc
    if os.environ.get("LMS_TRACE_HOOKS"):
        pm.trace.root.setwriter(print)
        pm.enable_tracing()
    return pm


def hookimpl_of(info, hook_name):
    """The plugin's own implementation of ``hook_name``, or None."""
    function = getattr(info.module, hook_name, None)
    if function is None or not hasattr(function, hookspecs.PROJECT + "_impl"):
        return None
    return function


def feature_toggles(registry):
    """``[(module name, toggle dict)]``: every enabled plugin's ``lms_feature_toggles``.

    The module is the one implementing the hook (the plugin's), as upstream's
    toggle report names where each toggle is declared.
    """
    hook = registry["lms.plugin_manager"].hook.lms_feature_toggles
    found = []
    for implementation in hook.get_hookimpls():
        module = getattr(implementation.plugin, "__name__", implementation.plugin_name)
        for toggle in implementation.function(settings=registry.settings) or ():
            found.append((module, toggle))
    return found
