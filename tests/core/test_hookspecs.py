"""Meta-tests of the plugin contract: hooks documented, hooks valid, no clashing endpoints."""
import inspect
import itertools
import os
import re
import sys
import types
from importlib import metadata

import pytest
from pyramid.exceptions import ConfigurationError

from lms import hookspecs, make_config
from lms.openapi import check_duplicate_operations, enabled_services, operations
from lms.plugins import ENTRY_POINT_GROUP, discover, make_plugin_manager, select
from lms.service import Service
from lms.testing import TEST_SETTINGS

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "plugins.md")


def all_hookspecs():
    """``{name: function}`` of every hookspec the core declares."""
    marker = hookspecs.PROJECT + "_spec"
    return {name: value for name, value in vars(hookspecs).items()
            if inspect.isfunction(value) and hasattr(value, marker)}


def documented_sections():
    """``{hook name: section text}`` of the ``### lms_xxx`` headings of docs/plugins.md."""
    with open(DOCS, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    sections, current, in_code = {}, None, False
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            # A section ends at the next heading of any level (comments in code don't count).
            match = re.match(r"^### (lms_\w+)\s*$", line)
            current = match.group(1) if match else None
            if current is not None:
                sections[current] = ""
            continue
        if current is not None:
            sections[current] += line + "\n"
    return sections


def test_core_declares_hookspecs():
    specs = all_hookspecs()
    assert {"lms_addhooks", "lms_default_settings", "lms_includeme"} <= set(specs)
    assert all(name.startswith("lms_") for name in specs)


@pytest.mark.parametrize("name", sorted(all_hookspecs()))
def test_hookspec_has_a_docstring(name):
    assert (all_hookspecs()[name].__doc__ or "").strip(), f"hookspec {name} has no docstring"


@pytest.mark.parametrize("name", sorted(all_hookspecs()))
def test_hookspec_is_documented_with_an_example(name):
    sections = documented_sections()
    assert name in sections, f"docs/plugins.md has no '### {name}' section"
    body = sections[name]
    assert "```python" in body and "@hookimpl" in body, \
        f"the '### {name}' section of docs/plugins.md has no example hookimpl"
    assert f"def {name}(" in body, f"the example of {name} does not implement it"


def test_documented_example_signatures_match_the_hookspecs():
    """An example whose arguments the hookspec lacks would fail at start-up."""
    specs = all_hookspecs()
    for name, body in documented_sections().items():
        for match in re.finditer(rf"def {name}\(([^)]*)\)", body):
            arguments = [a.strip() for a in match.group(1).split(",") if a.strip()]
            expected = list(inspect.signature(specs[name]).parameters)
            assert set(arguments) <= set(expected), f"{name}({', '.join(arguments)})"


def test_no_documented_hook_is_stale():
    assert set(documented_sections()) <= set(all_hookspecs())


def test_check_pending_passes_with_every_builtin_plugin():
    installed = discover()
    enabled = select(installed, {})
    assert {p.name for p in enabled} == {n for n, p in installed.items() if p.builtin}
    make_plugin_manager(enabled).check_pending()


def test_check_pending_passes_with_every_installed_plugin():
    installed = discover()
    pm = make_plugin_manager(select(installed, {"lms.plugins": " ".join(installed)}))
    pm.check_pending()
    assert {name for name, _ in pm.list_name_plugin()} == set(installed)


@pytest.fixture
def everything_app(app_factory):
    return app_factory(**{"lms.plugins": " ".join(discover())})


def test_no_duplicate_operations_with_every_plugin(everything_app):
    registry = everything_app.registry
    check_duplicate_operations(registry)
    served = operations(registry)
    assert len(served) == len(set(served))
    if "hello" in registry["lms.plugins"]:
        assert ("GET", "/api/hello/v1/greetings/") in served
        assert ("POST", "/api/hello/v1/greetings/") in served


def test_service_names_carry_their_plugin_prefix(everything_app):
    registry = everything_app.registry
    owners = {name for name in registry["lms.plugins"]}
    for info in registry["lms.enabled_plugins"]:
        for route in info.routes:
            assert route.startswith(info.name + "."), f"route {route!r} of plugin {info.name!r}"
    services = [s.name for s in enabled_services(registry)]
    for name in services:
        prefix = name.split(".", 1)[0]
        assert prefix == "lms" or prefix in owners, f"service {name!r} has no owner prefix"


# -- clashing endpoints are start-up errors ------------------------------------

_ids = itertools.count()


def _serving_plugin(monkeypatch, name, *paths):
    """A throwaway plugin serving ``GET`` on each of ``paths``."""
    module = types.ModuleType(f"tests_throwaway_serving_{name}_{next(_ids)}")
    module.name = name

    def lms_includeme(config):
        for index, path in enumerate(paths):
            service = Service(f"{name}.thing{index}", path, anonymous=True)
            service.add_view("GET", lambda request: {"plugin": name})
            config.add_cornice_service(service)

    module.lms_includeme = hookspecs.hookimpl(lms_includeme)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def _installed_with(*modules):
    entry_points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    entry_points += [metadata.EntryPoint(name=m.name, value=m.__name__, group=ENTRY_POINT_GROUP)
                     for m in modules]
    return discover(entry_points=entry_points)


def _build(engine, installed, plugins):
    settings = dict(TEST_SETTINGS, **{"sqlalchemy.url": str(engine.url), "lms.plugins": plugins})
    return make_config(settings, installed=installed, engine=engine)


def test_two_plugins_on_one_path_is_an_error(engine, monkeypatch):
    first = _serving_plugin(monkeypatch, "first", "/api/clash/v1/things/")
    second = _serving_plugin(monkeypatch, "second", "/api/clash/v1/things")
    installed = _installed_with(first, second)
    with pytest.raises(ConfigurationError) as caught:
        _build(engine, installed, "builtins first second")
    message = str(caught.value)
    assert "first.thing0" in message and "second.thing0" in message
    # Each alone is fine.
    _build(engine, _installed_with(first, second), "builtins first")


def test_one_plugin_serving_a_path_twice_is_an_error(engine, monkeypatch):
    twice = _serving_plugin(monkeypatch, "twice", "/api/twice/v1/x/", "/api/twice/v1/x/")
    with pytest.raises(ConfigurationError, match="twice.thing0"):
        _build(engine, _installed_with(twice), "builtins twice")


def test_plugin_may_not_take_a_core_path(engine, monkeypatch):
    squatter = _serving_plugin(monkeypatch, "squatter", "/_lms/plugins")
    with pytest.raises(ConfigurationError, match="lms.operator.plugins"):
        _build(engine, _installed_with(squatter), "builtins squatter")


def test_guide_examples_are_valid_python():
    with open(DOCS, encoding="utf-8") as handle:
        text = handle.read()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) >= len(all_hookspecs())
    for block in blocks:
        compile(block, "docs/plugins.md", "exec")


def test_guide_quotes_the_hello_plugin_verbatim():
    """Blocks headed ``# openlms_hello/<file>.py`` are copies of the example's code."""
    with open(DOCS, encoding="utf-8") as handle:
        text = handle.read()
    package = os.path.join(os.path.dirname(DOCS), "..", "examples", "hello_plugin")
    quoted = 0
    for block in re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        first, _, body = block.partition("\n")
        match = re.fullmatch(r"# (openlms_hello/[\w/]+\.py)", first.strip())
        if not match:
            continue
        with open(os.path.join(package, match.group(1)), encoding="utf-8") as handle:
            assert body.strip() in handle.read(), f"docs/plugins.md misquotes {match.group(1)}"
        quoted += 1
    assert quoted >= 5
