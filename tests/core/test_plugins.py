"""The plugin system, proven with a real third-party plugin (examples/hello_plugin).

The ``hello`` plugin is found through its installed ``openlms.plugins`` entry
point, exactly as an operator's plugin would be. Throwaway plugins built in
the tests (modules registered in ``sys.modules`` and offered through fake entry
points) cover the error paths: missing requirements, unknown names, setting
clashes, misspelt hooks. They never define tables, so the shared metadata only
holds migrated tables.
"""
import itertools
import sys
import types
from importlib import metadata

import pytest
import webtest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import func, inspect, select

from lms import make_config, migrate
from lms.errors import PERMISSION_DENIED
from lms.hookspecs import PROJECT, hookimpl
from lms.openapi import enabled_services
from lms.plugins import ENTRY_POINT_GROUP, discover, select as select_plugins
from lms.testing import TEST_SETTINGS, create_user, jwt_headers

HELLO_INSTALLED = any(ep.name == "hello" for ep in metadata.entry_points(group=ENTRY_POINT_GROUP))
requires_hello = pytest.mark.skipif(
    not HELLO_INSTALLED,
    reason="the example plugin is not installed: .venv/bin/pip install -e examples/hello_plugin",
)

GREETINGS = "/api/hello/v1/greetings/"
WITH_HELLO = {"lms.plugins": "builtins hello"}


# -- helpers -------------------------------------------------------------------

_module_ids = itertools.count()


@pytest.fixture
def make_plugin(monkeypatch):
    """``make_plugin(name, requires=(), **hookimpls)`` → a throwaway plugin module.

    Functions passed as keyword arguments become module attributes, decorated
    with ``hookimpl`` (so a misspelt name stays misspelt).
    """

    def factory(name, requires=(), version="1.0", **functions):
        module_name = f"tests_throwaway_plugin_{name}_{next(_module_ids)}"
        module = types.ModuleType(module_name)
        module.name = name
        module.version = version
        module.requires = tuple(requires)
        for attr, function in functions.items():
            setattr(module, attr, hookimpl(function))
        monkeypatch.setitem(sys.modules, module_name, module)
        return module

    return factory


def installed_with(*modules):
    """Every really installed plugin plus ``modules``, offered as entry points."""
    entry_points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    for module in modules:
        entry_points.append(metadata.EntryPoint(
            name=module.name, value=module.__name__, group=ENTRY_POINT_GROUP))
    return discover(entry_points=entry_points)


@pytest.fixture
def build(engine):
    """``build(installed, **settings)`` → a Pyramid Configurator (raises on bad config)."""

    def factory(installed, **settings):
        merged = dict(TEST_SETTINGS, **{"sqlalchemy.url": str(engine.url)})
        merged.update(settings)
        return make_config(merged, installed=installed, engine=engine)

    return factory


def test_app(config):
    app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    app.registry = config.registry
    return app


test_app.__test__ = False  # a helper, not a test


@pytest.fixture
def hello_app(app_factory):
    return app_factory(**WITH_HELLO)


@pytest.fixture
def db(hello_app):
    """A plain session (commits are real) on the app that has hello enabled."""
    session = hello_app.registry["lms.dbsession_factory"]()
    yield session
    session.rollback()
    session.close()


def service_names(registry):
    return {service.name for service in enabled_services(registry)}


def greeting_rows(db):
    from openlms_hello.models import Greeting

    db.expire_all()
    return db.execute(select(Greeting.user_id, Greeting.message).order_by(Greeting.id)).all()


def add_greetings(db, user, count):
    from openlms_hello.models import Greeting

    db.add_all(Greeting(user_id=user.id, message=f"greeting {i}") for i in range(count))
    db.commit()


# -- discovery and enabling ----------------------------------------------------

@requires_hello
def test_hello_is_discovered_through_its_entry_point():
    import openlms_hello

    info = discover()["hello"]
    assert info.module is openlms_hello
    assert info.builtin is False
    assert info.version == "0.1.0"
    assert info.requires == ()
    assert info.migrations_path.endswith("openlms_hello/migrations/versions")


@requires_hello
@pytest.mark.parametrize("plugins", ["", "builtins"])
def test_installed_plugin_is_not_enabled_unless_named(app_factory, plugins):
    app = app_factory(**{"lms.plugins": plugins})
    assert app.registry["lms.plugins"]["hello"].enabled is False
    assert app.registry["lms.plugin_manager"].get_plugin("hello") is None
    assert "hello.greeting" not in app.registry.settings
    assert app.get(GREETINGS, status=404).json == {"detail": "Not found."}


@requires_hello
def test_named_plugin_is_enabled_after_the_builtins(hello_app, db):
    registry = hello_app.registry
    enabled = [info.name for info in registry["lms.enabled_plugins"]]
    assert enabled[-1] == "hello"
    assert {n for n, p in registry["lms.plugins"].items() if p.builtin} <= set(enabled)
    assert registry["lms.plugin_manager"].get_plugin("hello") is registry["lms.plugins"]["hello"].module
    assert registry["lms.plugins"]["hello"].routes == ["hello.greetings"]
    staff = create_user(db, "operator", is_staff=True)  # /_lms/plugins is staff only
    rows = hello_app.get("/_lms/plugins", headers=jwt_headers(hello_app, staff)).json["plugins"]
    assert {"name": "hello", "version": "0.1.0", "enabled": True, "builtin": False,
            "requires": [], "routes": 1} in rows


@requires_hello
def test_hello_runs_alone(app_factory, db):
    """Only the core and hello: no hidden dependency on a built-in plugin."""
    app = app_factory(**{"lms.plugins": "hello"})
    assert [info.name for info in app.registry["lms.enabled_plugins"]] == ["hello"]
    alice = create_user(db, "alice")
    app.post_json(GREETINGS, {"message": "alone"}, headers=jwt_headers(app, alice), status=201)
    assert greeting_rows(db) == [(alice.id, "alone")]


# -- the hello service, enabled ------------------------------------------------

@requires_hello
def test_greetings_anonymous_is_401(hello_app):
    response = hello_app.get(GREETINGS, status=401)
    assert response.json == {"detail": "Authentication credentials were not provided."}
    hello_app.post_json(GREETINGS, {"message": "hi"}, status=401)


@requires_hello
def test_create_greeting_writes_a_row(hello_app, db):
    alice = create_user(db, "alice")
    response = hello_app.post_json(GREETINGS, {"message": "Hi there"},
                                   headers=jwt_headers(hello_app, alice), status=201)
    body = response.json
    assert body["username"] == "alice" and body["message"] == "Hi there"
    assert body["created"].endswith("Z")
    assert greeting_rows(db) == [(alice.id, "Hi there")]
    from openlms_hello.models import Greeting

    assert db.scalar(select(Greeting.id)) == body["id"]


@requires_hello
def test_create_without_message_uses_the_greeting_setting(hello_app, db):
    alice = create_user(db, "alice")
    response = hello_app.post_json(GREETINGS, {}, headers=jwt_headers(hello_app, alice),
                                   status=201)
    assert response.json["message"] == "Hello, Alice!"
    assert greeting_rows(db) == [(alice.id, "Hello, Alice!")]


@requires_hello
@pytest.mark.parametrize("body, errors", [
    ({"message": 5}, {"message": ["Not a valid string."]}),
    ({"message": ""}, {"message": ["This field may not be blank."]}),
    ({"message": "x" * 281}, {"message": ["Ensure this field has no more than 280 characters."]}),
])
def test_create_bad_input_is_400_and_writes_nothing(hello_app, db, body, errors):
    alice = create_user(db, "alice")
    response = hello_app.post_json(GREETINGS, body, headers=jwt_headers(hello_app, alice),
                                   status=400)
    assert response.json == errors
    assert greeting_rows(db) == []


@requires_hello
def test_create_unknown_field_is_400(hello_app, db):
    alice = create_user(db, "alice")
    response = hello_app.post_json(GREETINGS, {"message": "hi", "mood": "happy"},
                                   headers=jwt_headers(hello_app, alice), status=400)
    assert "mood" in str(response.json)
    assert greeting_rows(db) == []


@requires_hello
def test_list_shows_own_greetings_newest_first(hello_app, db):
    alice, bob = create_user(db, "alice"), create_user(db, "bob")
    headers = jwt_headers(hello_app, alice)
    hello_app.post_json(GREETINGS, {"message": "first"}, headers=headers, status=201)
    hello_app.post_json(GREETINGS, {"message": "second"}, headers=headers, status=201)
    hello_app.post_json(GREETINGS, {"message": "bob's"}, headers=jwt_headers(hello_app, bob),
                        status=201)
    body = hello_app.get(GREETINGS, headers=headers).json
    assert [g["message"] for g in body["results"]] == ["second", "first"]
    assert {g["username"] for g in body["results"]} == {"alice"}
    assert (body["count"], body["num_pages"], body["current_page"], body["start"]) == (2, 1, 1, 0)
    assert body["next"] is None and body["previous"] is None


@requires_hello
def test_list_is_paginated(hello_app, db):
    alice = create_user(db, "alice")
    add_greetings(db, alice, 15)
    headers = jwt_headers(hello_app, alice)
    first = hello_app.get(GREETINGS, headers=headers).json
    assert (first["count"], first["num_pages"], len(first["results"])) == (15, 2, 10)
    assert first["next"] == "http://localhost/api/hello/v1/greetings/?page=2"
    second = hello_app.get(GREETINGS, {"page": "2"}, headers=headers).json
    assert len(second["results"]) == 5 and second["start"] == 10
    assert second["results"][-1]["message"] == "greeting 0"
    response = hello_app.get(GREETINGS, {"page": "3"}, headers=headers, status=404)
    assert response.json == {"detail": "Invalid page."}


@requires_hello
def test_list_of_another_user_is_403_for_a_learner(hello_app, db):
    alice, bob = create_user(db, "alice"), create_user(db, "bob")
    add_greetings(db, alice, 1)
    response = hello_app.get(GREETINGS, {"username": "alice"},
                             headers=jwt_headers(hello_app, bob), status=403)
    assert response.json == {"detail": PERMISSION_DENIED}


@requires_hello
def test_staff_lists_anyone_and_unknown_user_is_404(hello_app, db):
    alice, staff = create_user(db, "alice"), create_user(db, "staff", is_staff=True)
    add_greetings(db, alice, 2)
    headers = jwt_headers(hello_app, staff)
    body = hello_app.get(GREETINGS, {"username": "alice"}, headers=headers).json
    assert body["count"] == 2 and {g["username"] for g in body["results"]} == {"alice"}
    response = hello_app.get(GREETINGS, {"username": "nobody"}, headers=headers, status=404)
    assert response.json == {"detail": "Not found."}


@requires_hello
def test_list_query_count_does_not_grow_with_rows(hello_app, db, query_counter):
    counts = []
    for username, rows in (("one", 1), ("fifteen", 15)):
        user = create_user(db, username)
        add_greetings(db, user, rows)
        headers = jwt_headers(hello_app, user)
        with query_counter() as queries:
            body = hello_app.get(GREETINGS, {"page_size": "20"}, headers=headers).json
        assert len(body["results"]) == rows
        counts.append(len(queries))
    # The JWT user, the count, the page (the owner's name comes with the page).
    assert counts == [3, 3]


@requires_hello
def test_retire_user_hook_removes_only_that_users_greetings(hello_app, db):
    alice, bob = create_user(db, "alice"), create_user(db, "bob")
    add_greetings(db, alice, 2)
    add_greetings(db, bob, 1)
    pm = hello_app.registry["lms.plugin_manager"]
    pm.hook.lms_retire_user(dbsession=db, user=alice, retired_username="retired_user_x",
                            retired_email="retired_user_x@retired.invalid",
                            original_email=alice.email)
    db.commit()
    assert greeting_rows(db) == [(bob.id, "greeting 0")]


# -- the hello plugin, disabled ------------------------------------------------

@requires_hello
def test_disabled_plugin_has_no_routes_settings_or_hooks(app_factory, db):
    app = app_factory(**{"lms.plugins": "builtins hello", "lms.plugins.disabled": "hello"})
    registry = app.registry
    assert registry["lms.plugins"]["hello"].enabled is False
    assert "hello.greeting" not in registry.settings
    assert "hello.greeting" not in registry
    assert app.get(GREETINGS, status=404).json == {"detail": "Not found."}
    assert app.post_json(GREETINGS, {"message": "hi"}, status=404).json == {"detail": "Not found."}
    assert "hello.greetings" not in service_names(registry)
    # Its hooks are not called: retiring a user leaves hello's rows alone.
    alice = create_user(db, "alice")
    add_greetings(db, alice, 1)
    pm = registry["lms.plugin_manager"]
    assert pm.get_plugin("hello") is None
    pm.hook.lms_retire_user(dbsession=db, user=alice, retired_username="retired_user_x",
                            retired_email="retired_user_x@retired.invalid",
                            original_email=alice.email)
    db.commit()
    assert greeting_rows(db) == [(alice.id, "greeting 0")]


# -- settings ------------------------------------------------------------------

@requires_hello
def test_plugin_defaults_land_in_settings(hello_app):
    assert hello_app.registry.settings["hello.greeting"] == "Hello"
    assert hello_app.registry["hello.greeting"] == "Hello"


@requires_hello
def test_ini_and_environment_override_plugin_defaults(app_factory, db, monkeypatch):
    alice = create_user(db, "alice")
    app = app_factory(**WITH_HELLO, **{"hello.greeting": "Howdy"})
    assert app.registry.settings["hello.greeting"] == "Howdy"
    monkeypatch.setenv("LMS_HELLO_GREETING", "Bonjour")
    app = app_factory(**WITH_HELLO, **{"hello.greeting": "Howdy"})
    assert app.registry.settings["hello.greeting"] == "Bonjour"
    response = app.post_json(GREETINGS, {}, headers=jwt_headers(app, alice), status=201)
    assert response.json["message"] == "Bonjour, Alice!"


@requires_hello
def test_plugins_can_be_enabled_from_the_environment(app_factory, monkeypatch):
    monkeypatch.setenv("LMS_PLUGINS", "builtins hello")
    app = app_factory()
    assert app.registry["lms.plugins"]["hello"].enabled is True
    assert app.get(GREETINGS, status=401).json["detail"].startswith("Authentication")


@requires_hello
def test_invalid_plugin_setting_fails_at_startup(app_factory):
    with pytest.raises(ConfigurationError, match="hello.greeting"):
        app_factory(**WITH_HELLO, **{"hello.greeting": "  "})


def test_plugin_may_not_declare_another_plugins_setting(make_plugin, build):
    one = make_plugin("one", lms_default_settings=lambda: {"two.size": "1"})
    two = make_plugin("two", lms_default_settings=lambda: {"two.size": "2"})
    with pytest.raises(ConfigurationError) as caught:
        build(installed_with(one, two), **{"lms.plugins": "builtins one two"})
    assert "'one'" in str(caught.value) and "two.size" in str(caught.value)


def test_plugin_may_not_declare_a_core_setting(make_plugin, build):
    # A plugin named after a core settings group cannot take over its keys.
    jwt = make_plugin("jwt", lms_default_settings=lambda: {"jwt.secret_key": "mine"})
    with pytest.raises(ConfigurationError) as caught:
        build(installed_with(jwt), **{"lms.plugins": "builtins jwt"})
    message = str(caught.value)
    assert "jwt.secret_key" in message and "'lms'" in message and "'jwt'" in message


# -- selection errors ----------------------------------------------------------

def test_unknown_plugin_name_is_an_error(build):
    with pytest.raises(ConfigurationError, match="'nosuchplugin', which is not installed"):
        build(discover(), **{"lms.plugins": "builtins nosuchplugin"})
    with pytest.raises(ConfigurationError, match="lms.plugins.disabled names 'nosuchplugin'"):
        build(discover(), **{"lms.plugins.disabled": "nosuchplugin"})


def test_requirement_not_installed_names_both_plugins(make_plugin, build):
    needy = make_plugin("needy", requires=("ghost",))
    with pytest.raises(ConfigurationError,
                       match="plugin 'needy' requires plugin 'ghost', which is not installed"):
        build(installed_with(needy), **{"lms.plugins": "builtins needy"})


def test_requirement_not_enabled_names_both_plugins(make_plugin, build):
    base, needy = make_plugin("base"), make_plugin("needy", requires=("base",))
    installed = installed_with(base, needy)
    with pytest.raises(ConfigurationError,
                       match="plugin 'needy' requires plugin 'base', which is disabled"):
        build(installed, **{"lms.plugins": "builtins needy"})
    with pytest.raises(ConfigurationError,
                       match="plugin 'needy' requires plugin 'base', which is disabled"):
        build(installed_with(base, needy),
              **{"lms.plugins": "builtins base needy", "lms.plugins.disabled": "base"})


def test_named_requirement_is_enabled_first(make_plugin, build):
    base, needy = make_plugin("base"), make_plugin("needy", requires=("base",))
    config = build(installed_with(base, needy), **{"lms.plugins": "builtins needy base"})
    names = [p.name for p in config.registry["lms.enabled_plugins"]]
    assert names.index("base") < names.index("needy")


def test_requirement_cycle_is_an_error(make_plugin, build):
    one, two = make_plugin("one", requires=("two",)), make_plugin("two", requires=("one",))
    with pytest.raises(ConfigurationError, match="cycle"):
        build(installed_with(one, two), **{"lms.plugins": "one two"})


@pytest.mark.parametrize("bad_name", ["Hello", "hello-world", "lms", "builtins", "", "9lives"])
def test_plugin_name_must_fit_tables_and_branches(make_plugin, bad_name):
    plugin = make_plugin("placeholder")
    plugin.name = bad_name
    with pytest.raises(ConfigurationError, match="invalid name"):
        installed_with(plugin)


@requires_hello
def test_name_claimed_twice_is_an_error(make_plugin):
    impostor = make_plugin("hello")
    with pytest.raises(ConfigurationError, match="'hello' is claimed by both"):
        installed_with(impostor)


# -- hooks ---------------------------------------------------------------------

def test_misspelt_hookimpl_fails_at_startup(make_plugin, build):
    typo = make_plugin("typo", lms_includme=lambda config: None)
    installed = installed_with(typo)
    with pytest.raises(ConfigurationError) as caught:
        build(installed, **{"lms.plugins": "builtins typo"})
    assert "'typo'" in str(caught.value) and "lms_includme" in str(caught.value)
    # Installed but not enabled: never registered, so never checked.
    build(installed_with(typo), **{"lms.plugins": "builtins"})


def test_hookimpl_with_unknown_argument_fails_at_startup(make_plugin, build):
    bad = make_plugin("bad", lms_includeme=lambda config, extra: None)
    with pytest.raises(ConfigurationError, match="(?s)'bad'.*extra"):
        build(installed_with(bad), **{"lms.plugins": "builtins bad"})


def test_dependency_order_requirements_first(make_plugin, build):
    calls = []

    def recorder(label):
        def lms_includeme(config):
            calls.append(("includeme", label))

        def lms_default_settings():
            calls.append(("settings", label))
            return {}

        return {"lms_includeme": lms_includeme, "lms_default_settings": lms_default_settings}

    # Alphabetical order would be alpha, mid, zeta; dependencies say zeta, alpha, mid.
    zeta = make_plugin("zeta", **recorder("zeta"))
    alpha = make_plugin("alpha", requires=("zeta",), **recorder("alpha"))
    mid = make_plugin("mid", requires=("alpha", "zeta"), **recorder("mid"))
    installed = installed_with(mid, alpha, zeta)
    enabled = select_plugins(installed, {"lms.plugins": "mid alpha zeta"})
    assert [p.name for p in enabled] == ["zeta", "alpha", "mid"]
    build(installed, **{"lms.plugins": "mid alpha zeta"})
    assert [label for kind, label in calls if kind == "settings"] == ["zeta", "alpha", "mid"]
    assert [label for kind, label in calls if kind == "includeme"] == ["zeta", "alpha", "mid"]


def test_plugin_manager_is_per_app(make_plugin, build):
    def includeme(config):
        config.add_route("solo.ping", "/_solo/ping")
        config.add_view(lambda request: {"pong": True}, route_name="solo.ping",
                        renderer="json")

    solo = make_plugin("solo", lms_includeme=includeme)
    with_solo = test_app(build(installed_with(solo), **{"lms.plugins": "builtins solo"}))
    without_solo = test_app(build(installed_with(solo), **{"lms.plugins": "builtins"}))
    assert with_solo.registry["lms.plugin_manager"] is not without_solo.registry["lms.plugin_manager"]
    assert with_solo.registry["lms.plugin_manager"].get_plugin("solo") is solo
    assert without_solo.registry["lms.plugin_manager"].get_plugin("solo") is None
    # Building the second app changed nothing in the first.
    assert with_solo.get("/_solo/ping").json == {"pong": True}
    assert without_solo.get("/_solo/ping", status=404).json == {"detail": "Not found."}
    assert with_solo.registry["lms.plugins"]["solo"].routes == ["solo.ping"]


@requires_hello
def test_two_apps_with_different_plugin_sets_serve_side_by_side(app_factory, db):
    with_hello = app_factory(**WITH_HELLO)
    without_hello = app_factory()
    alice = create_user(db, "alice")
    with_hello.post_json(GREETINGS, {"message": "hi"}, headers=jwt_headers(with_hello, alice),
                         status=201)
    without_hello.get(GREETINGS, headers=jwt_headers(without_hello, alice), status=404)
    assert "hello.greetings" in service_names(with_hello.registry)
    assert "hello.greetings" not in service_names(without_hello.registry)
    assert with_hello.get(GREETINGS, headers=jwt_headers(with_hello, alice)).json["count"] == 1


def test_addhooks_publishes_hooks_for_dependants(make_plugin, build):
    from lms.hookspecs import hookspec

    published = types.ModuleType("publisher_hookspecs")

    @hookspec
    def publisher_thing_happened(value):
        """Published by the throwaway plugin ``publisher``."""

    published.publisher_thing_happened = publisher_thing_happened

    publisher = make_plugin(
        "publisher", lms_addhooks=lambda pluginmanager: pluginmanager.add_hookspecs(published))
    listener = make_plugin("listener", requires=("publisher",),
                           publisher_thing_happened=lambda value: value * 2)
    stray = make_plugin("stray", publisher_thing_happened=lambda value: value)
    installed = installed_with(publisher, listener, stray)
    config = build(installed, **{"lms.plugins": "builtins publisher listener"})
    pm = config.registry["lms.plugin_manager"]
    assert pm.hook.publisher_thing_happened(value=21) == [42]
    # Without the publisher enabled, an implementation of its hook is a misspelling.
    with pytest.raises(ConfigurationError, match="(?s)'stray'.*publisher_thing_happened"):
        build(installed, **{"lms.plugins": "builtins stray"})


def test_hookimpl_marker_is_the_lms_project():
    assert PROJECT == "lms"

    @hookimpl
    def lms_includeme(config):
        pass

    assert hasattr(lms_includeme, "lms_impl")


# -- migrations follow the enabled set -----------------------------------------

@requires_hello
def test_branches_to_upgrade_skip_disabled_plugins():
    installed = discover()
    without = migrate.branches_to_upgrade(select_plugins(installed, {"lms.plugins": "builtins"}))
    assert without[0] == "lms" and "hello" not in without
    with_hello = migrate.branches_to_upgrade(select_plugins(installed, WITH_HELLO))
    assert with_hello == without + ["hello"]
    disabled = migrate.branches_to_upgrade(select_plugins(
        installed, {**WITH_HELLO, "lms.plugins.disabled": "hello"}))
    assert "hello" not in disabled


@requires_hello
def test_disabled_plugins_migrations_do_not_run(tmp_path):
    from lms.db import make_engine

    installed = discover()
    settings = {"sqlalchemy.url": "sqlite:///" + str(tmp_path / "scratch.sqlite")}
    engine = make_engine(settings)
    try:
        done = migrate.upgrade(settings, installed,
                               select_plugins(installed, {"lms.plugins": "builtins"}),
                               engine=engine)
        assert "hello" not in done
        assert "hello_greeting" not in inspect(engine).get_table_names()
        assert "hello_0001" not in migrate.current_heads(settings, installed, engine)
        # Enabling it later migrates just its branch.
        done = migrate.upgrade(settings, installed, select_plugins(installed, WITH_HELLO),
                               engine=engine)
        assert done[-1] == "hello"
        assert "hello_greeting" in inspect(engine).get_table_names()
        assert "hello_0001" in migrate.current_heads(settings, installed, engine)
        with engine.connect() as conn:
            from openlms_hello.models import Greeting

            assert conn.scalar(select(func.count()).select_from(Greeting)) == 0
    finally:
        engine.dispose()

