"""Test fixtures and helpers for openlms and its plugins.

Plugin authors opt in from their ``conftest.py``::

    pytest_plugins = ["lms.testing"]

The database is SQLite by default; set ``LMS_TEST_DATABASE_URL`` to a
PostgreSQL URL to run the same tests there (the database is dropped and
recreated; under pytest-xdist one per worker, see :func:`postgres_test_url`).
Migrations run once per session (the real ones); every test then starts from
empty tables. Apps are built once per settings and reused by later tests with
their process state cleared (``app_factory``; ``@pytest.mark.fresh_app`` opts out).

For the ``lms`` command, run in-process against a temporary ``.ini``:

``cli_database_url``
    A database of the test's own: a SQLite file in ``tmp_path``, or, with
    ``LMS_TEST_DATABASE_URL`` set, a sibling PostgreSQL database
    ``<name>_cli_<test module>`` (at most 63 characters) that is dropped and
    recreated, so tests of different modules never share one. It depends on
    ``clean_lms_environment``, which removes every ``LMS_*`` variable but
    ``LMS_TEST_DATABASE_URL`` so that settings come from the ``.ini`` only.
``write_cli_ini``
    ``write(extra="", name="lms.ini")`` writes an ``.ini`` in ``tmp_path`` for
    that database (test secrets, throttling off, ``mail.backend = memory``, eager
    Celery) and returns its path. ``extra`` is appended; its ``key = value``
    lines before any ``[section]`` replace the template's value of that key
    (``"sqlalchemy.url = not a url"`` works).
``run_cli``
    ``invoke(*args, ini=None, input=None)`` runs ``lms --ini <ini> *args`` with
    click's ``CliRunner`` and returns the ``Result``; without ``ini`` it uses a
    default ``write_cli_ini()`` (``lms.ini``), written on first use.
"""
import collections
import contextlib
import functools
import os
import re

import pytest
import webtest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from lms import make_config
from lms.db import make_engine, metadata

TEST_SETTINGS = {
    "lms.secret_key": "test-secret-key-not-for-production",
    "jwt.secret_key": "test-jwt-secret-at-least-32-bytes-long",
    "jwt.issuer": "http://localhost/oauth2",
    "jwt.audience": "lms-key",
    "lms.base_url": "http://localhost",
    "throttle.enabled": "false",
    "celery.task_always_eager": "true",
    "celery.broker_url": "memory://",
    "mail.backend": "memory",
    "tracking.backend": "memory",
    # Cheap argon2 (as Django projects use a fast hasher in tests).
    "passwords.argon2_time_cost": "1",
    "passwords.argon2_memory_cost": "1024",
    "passwords.argon2_parallelism": "1",
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fresh_app: build this test's apps anew instead of reusing built ones")
    config.addinivalue_line(
        "markers", "commits: this test's apps commit for real instead of into the test's "
        "rolled-back transaction (threads serving the app, other connections reading)")


def recreate_postgres_database(url):
    """Drop and create the PostgreSQL database named in ``url``."""
    parsed = make_url(url)
    admin = make_engine({"sqlalchemy.url": str(parsed.set(database="postgres"))})
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def postgres_test_url():
    """``LMS_TEST_DATABASE_URL`` for this test process, or None: under pytest-xdist each
    worker gets its own database (the name suffixed with ``_gw0``, ``_gw1``...), and
    the databases the fixtures derive from it (``_cli_``, ``_alone_``) follow."""
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(
        hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = postgres_test_url()
    if url:
        recreate_postgres_database(url)
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "lms-test.sqlite")


@pytest.fixture
def clean_lms_environment(monkeypatch):
    """No ``LMS_*`` variable but ``LMS_TEST_DATABASE_URL`` for this test."""
    for name in list(os.environ):
        if name.startswith("LMS_") and name != "LMS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def cli_database_url(request, tmp_path, clean_lms_environment):
    """A database for ``lms`` commands: SQLite in ``tmp_path``, or a recreated sibling
    PostgreSQL database ``<name>_cli_<test module>``."""
    shared = postgres_test_url()
    if not shared:
        return "sqlite:///" + str(tmp_path / "cli.sqlite")
    parsed = make_url(shared)
    module = re.sub(r"[^a-z0-9_]", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    name = f"{parsed.database}_cli_{module}"[:63]
    url = parsed.set(database=name).render_as_string(hide_password=False)
    recreate_postgres_database(url)
    return url


CLI_INI_KEYS = ("lms.secret_key", "jwt.secret_key", "jwt.issuer", "jwt.audience",
                "lms.base_url", "throttle.enabled", "mail.backend", "celery.task_always_eager",
                "passwords.argon2_time_cost", "passwords.argon2_memory_cost",
                "passwords.argon2_parallelism")


def _ini_overrides(extra):
    """Keys that ``extra`` sets in ``[app:main]`` (its lines before any section)."""
    keys = set()
    for line in extra.splitlines():
        line = line.strip()
        if line.startswith("["):
            break
        if line and not line.startswith(("#", ";")) and "=" in line:
            keys.add(line.split("=", 1)[0].strip())
    return keys


@pytest.fixture
def write_cli_ini(tmp_path, cli_database_url):
    """``write(extra="", name="lms.ini")`` → path of an ``.ini`` for ``cli_database_url``."""

    def write(extra="", name="lms.ini"):
        values = {"use": "egg:openlms", "sqlalchemy.url": cli_database_url}
        values.update((key, TEST_SETTINGS[key]) for key in CLI_INI_KEYS)
        overridden = _ini_overrides(extra)
        lines = ["[app:main]"] + [f"{key} = {value}" for key, value in values.items()
                                  if key not in overridden]
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n" + extra + "\n")
        return str(path)

    return write


@pytest.fixture
def run_cli(write_cli_ini):
    """``invoke(*args, ini=None, input=None)`` → click ``Result`` of ``lms --ini <ini> args``."""
    from click.testing import CliRunner

    from lms import cli

    default = []

    def invoke(*args, ini=None, input=None):
        if ini is None:
            if not default:
                default.append(write_cli_ini())
            ini = default[0]
        return CliRunner().invoke(cli.main, ["--ini", ini, *args], input=input)

    return invoke


def installed_plugins():
    from lms.plugins import discover

    return discover()


@pytest.fixture(scope="session")
def engine(database_url):
    from lms import migrate
    from lms.plugins import select

    engine = make_engine({"sqlalchemy.url": database_url})
    installed = installed_plugins()
    # Migrate every installed plugin so that any plugin set can be tested.
    everything = select(installed, {"lms.plugins": " ".join(installed)})
    migrate.upgrade({"sqlalchemy.url": database_url}, installed, everything, engine=engine)
    yield engine
    engine.dispose()


def _truncate(engine):
    """Empty every table but reference data that migrations seed
    (tables marked ``info={"reference_data": True}``)."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if not table.info.get("reference_data"):
                conn.execute(table.delete())


@pytest.fixture
def settings():
    """Settings for this test's app; tests may change them before ``app``."""
    return dict(TEST_SETTINGS)


@pytest.fixture
def add_plugins(monkeypatch):
    """``add_plugins(*plugins)``: extra built-in plugins for the apps this test builds.

    Each item is a dotted module name or a module object (which is put in
    ``sys.modules`` for the test's duration).
    """
    import sys

    import lms.plugins

    def add(*plugins):
        names = []
        for plugin in plugins:
            if not isinstance(plugin, str):
                monkeypatch.setitem(sys.modules, plugin.__name__, plugin)
                plugin = plugin.__name__
            names.append(plugin)
        monkeypatch.setattr(lms.plugins, "BUILTIN_PLUGINS",
                            lms.plugins.BUILTIN_PLUGINS + tuple(names))

    return add


# Built apps reused across tests (building one with every plugin costs more than most
# tests): keyed by everything that shapes an app, least recently used dropped first.
_BUILT_APPS = collections.OrderedDict()
BUILT_APPS_KEPT = 16


def _app_key(engine, settings):
    """What a built app depends on: its settings, the ``LMS_*`` environment (read into
    settings), the plugin discovery code and plugin modules (tests swap both) and the
    engine."""
    import sys

    import lms.plugins

    environment = tuple(sorted((name, value) for name, value in os.environ.items()
                               if name.startswith("LMS_")))
    # Tuples of names (BUILTIN_PLUGINS, which add_plugins rebuilds for every test) by
    # value, so equal plugin sets reuse one app; anything else (code) by identity.
    discovery = tuple(sorted(
        (name, value if isinstance(value, tuple) and all(isinstance(v, str) for v in value)
         else id(value))
        for name, value in vars(lms.plugins).items()))
    modules = tuple((name, id(sys.modules.get(name))) for name in lms.plugins.BUILTIN_PLUGINS)
    return (tuple(sorted(settings.items())), environment, discovery, modules, id(engine))


def _built_app(engine, settings, reuse):
    key = _app_key(engine, settings) if reuse else None
    built = _BUILT_APPS.get(key) if reuse else None
    if built is None:
        config = make_config(settings, engine=engine)
        built = (config.make_wsgi_app(), config.registry)
        if reuse:
            _BUILT_APPS[key] = built
            while len(_BUILT_APPS) > BUILT_APPS_KEPT:
                _BUILT_APPS.popitem(last=False)
    elif reuse:
        _BUILT_APPS.move_to_end(key)
    return built


class _CommitWatch:
    """Whether any connection of ``engine`` committed for real while a test ran."""

    def __init__(self, engine):
        self.engine = engine
        self.committed = False

    def _commit(self, connection):
        self.committed = True

    def __enter__(self):
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "commit", self._commit)


@pytest.fixture
def app_factory(engine, request):
    """``app_factory(**settings)`` → a webtest.TestApp (own cookies) over an LMS app.

    The test runs in one database transaction rolled back at its end: the apps'
    sessions join it and their commits release savepoints
    (:func:`lms.db.bind_to_connection`). A test whose app must commit for real
    (it serves from other threads, or checks what other connections see) is marked
    ``@pytest.mark.commits`` (tests using ``live_server`` are); whatever commits for real (such a test, an app built
    outside this factory, a separate connection) is emptied from every table
    afterwards.

    An app built with the same settings, environment and plugins by an earlier test
    is reused, its process state (:mod:`lms.process_state`: caches, mail outbox,
    tracking lines) emptied after each test. Mark a test ``@pytest.mark.fresh_app``
    when it must build its own (it patches code that runs while an app is
    configured)."""
    from lms import db as lms_db
    from lms import process_state

    reuse = request.node.get_closest_marker("fresh_app") is None
    # live_server serves the app from other threads: they cannot share one connection.
    rolled_back = (request.node.get_closest_marker("commits") is None
                   and "live_server" not in request.fixturenames)
    registries = []
    connection = engine.connect() if rolled_back else None
    outer = connection.begin() if rolled_back else None

    def factory(**overrides):
        merged = dict(TEST_SETTINGS)
        merged["sqlalchemy.url"] = str(engine.url)
        merged.update(overrides)
        wsgi_app, registry = _built_app(engine, merged, reuse)
        if rolled_back:
            lms_db.bind_to_connection(registry, connection)
        app = webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
        app.registry = registry
        registries.append(registry)
        return app

    with _CommitWatch(engine) as watch:
        yield factory
        for registry in registries:
            if rolled_back:
                lms_db.unbind(registry)
            process_state.clear(registry)
        if rolled_back:
            outer.rollback()
            connection.close()
    if watch.committed or not rolled_back:
        _truncate(engine)


@pytest.fixture
def app(app_factory, settings):
    return app_factory(**settings)


@pytest.fixture
def db(app):
    """A plain session on the test database (commits are real)."""
    session = app.registry["lms.dbsession_factory"]()
    yield session
    session.rollback()
    session.close()


@functools.cache
def _test_passwords():
    from lms.passwords import Passwords

    return Passwords.from_settings(TEST_SETTINGS)


def verify_password(raw, encoded):
    """``(ok, needs_rehash)`` of a stored hash, against the tests' argon2 parameters."""
    return _test_passwords().verify(raw, encoded)


def create_user(db, username="learner", email=None, password="password123", **kw):
    from lms.users import create_user as _create

    user = _create(db, username=username, email=email or f"{username}@example.com",
                   password=password, name=kw.pop("name", username.title()), **kw)
    db.commit()
    return user


def jwt_for(app, user, scopes=("email", "profile"), **kw):
    """A JWT for ``user`` as the LMS would mint it."""
    from lms import tokens

    config = app.registry["lms.jwt_config"]
    return tokens.encode(config, tokens.build_payload(config, user, list(scopes), **kw))


def jwt_headers(app, user, **kw):
    return {"Authorization": "JWT " + jwt_for(app, user, **kw)}


SAVEPOINT_STATEMENT = re.compile(r"(RELEASE |ROLLBACK TO )?SAVEPOINT ", re.IGNORECASE)


@contextlib.contextmanager
def count_queries(engine):
    """``with count_queries(engine) as queries: ...``; ``len(queries)`` statements ran."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        # Transaction control is not a query; savepoints come from the tests' rolled-back
        # transaction (lms.db.bind_to_connection), not from the code under test.
        if statement != "BEGIN" and not SAVEPOINT_STATEMENT.match(statement):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def query_counter(engine):
    return lambda: count_queries(engine)


@contextlib.contextmanager
def capture_statements(engine):
    """``with capture_statements(engine) as statements: ...``: each ``(sql, parameters)``
    the engine sent, as the driver got them (for :func:`query_plan`)."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement != "BEGIN" and not SAVEPOINT_STATEMENT.match(statement):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def query_plan(engine, statement, parameters=()):
    """The database's plan for a captured statement: ``EXPLAIN`` on PostgreSQL,
    ``EXPLAIN QUERY PLAN`` on SQLite, as text."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # A test's few rows are cheaper to scan than to look up: with scans off (for
            # this transaction), a scan remains only where no index serves the statement.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            return "\n".join(row[0] for row in rows)
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(row[-1] for row in rows)


def searches_an_index(plan, table):
    """True when ``plan`` (:func:`query_plan`) reads ``table`` only through index searches:
    no sequential scan and no full index scan."""
    if re.search(rf"\bSCAN {table}\b", plan) or f"Seq Scan on {table}" in plan:
        return False
    return bool(re.search(rf"\bSEARCH {table} USING\b", plan) or "Index Cond:" in plan)


def unindexed_reads(engine, statements, table):
    """The captured ``SELECT ... FROM table`` statements whose plan does not search one
    of its indexes, as ``[(sql, plan)]``: empty when every lookup is an index search."""
    found = []
    for statement, parameters in statements:
        if not re.match(r"\s*SELECT\b", statement) or not re.search(rf"\bFROM {table}\b",
                                                                      statement):
            continue
        plan = query_plan(engine, statement, parameters)
        if not searches_an_index(plan, table):
            found.append((statement, plan))
    return found


@pytest.fixture
def live_server(app):
    """The ``app`` served by waitress on 127.0.0.1 in a background thread; its base URL.

    For real HTTP clients (``requests``, ``edx-rest-api-client``).
    """
    with serve_in_thread(app.app) as url:
        yield url


@contextlib.contextmanager
def serve_in_thread(wsgi_app, threads=2):
    """Serve ``wsgi_app`` with waitress on 127.0.0.1 (a free port) in a daemon thread;
    yields its base URL and stops the server on exit."""
    import threading

    from waitress.server import create_server

    server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        def close_channels():
            # In the server's own loop: closing sockets from this thread while the loop
            # waits in select() on them raises EBADF there.
            for channel in list(server._map.values()):
                channel.close()

        try:
            server.trigger.pull_trigger(close_channels)
        except OSError:
            # The loop has already stopped and closed its trigger: nothing to wake.
            pass
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


def configure_django_for_edx_rest_api_client():
    """edx-rest-api-client imports Django settings; configure a minimal Django once."""
    import django
    from django.conf import settings as django_settings

    if not django_settings.configured:
        django_settings.configure(OPENEDX_TELEMETRY=[], CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
        django.setup()


__all__ = ["TEST_SETTINGS", "create_user", "jwt_for", "jwt_headers", "count_queries",
           "configure_django_for_edx_rest_api_client"]


# -- the permission matrix (lms.matrix) ---------------------------------------------
# Every test module that imports ``test_permission_matrix`` runs it once per
# operation served by the app of ``permission_matrix_settings`` (a module-level
# dict, e.g. ``{"lms.plugins": "builtins hello"}``; default: every installed
# plugin). The core's suite does this for every installed plugin, so a new
# plugin is covered without wiring; a third-party plugin's suite opts in with:
#
#     from lms.testing import test_permission_matrix  # noqa: F401

def _matrix_settings(module):
    merged = dict(TEST_SETTINGS)
    merged["lms.plugins"] = " ".join(installed_plugins())
    merged.update(getattr(module, "permission_matrix_settings", {}))
    return merged


def _served_operations(settings):
    from lms.matrix import served_operations

    config = make_config(dict(settings, **{"sqlalchemy.url": "sqlite://"}))
    config.commit()
    return served_operations(config.registry)


def pytest_generate_tests(metafunc):
    if "permission_matrix_operation" in metafunc.fixturenames:
        operations = _served_operations(_matrix_settings(metafunc.module))
        metafunc.parametrize("permission_matrix_operation", operations,
                             ids=[f"{method} {route}" for route, method in operations])


def _matrix_credentials(app, world, role, auth_classes, registry, session=False):
    """Request headers that make the caller ``role``. Every caller, anonymous too,
    carries a CSRF cookie and token as a browser client does: the matrix is about
    who may call, not about CSRF."""
    import secrets
    from datetime import timedelta

    from lms import auth
    from lms.models import LoginSession
    from lms.timeutil import utcnow

    config = registry["lms.auth_config"]
    secret = auth.new_csrf_secret()
    cookies = {config.csrf_cookie_name: secret}
    headers = {"X-CSRFToken": auth.mask_csrf(secret), "Referer": "http://localhost/"}
    user = world.user(role)
    session_only = {auth.SESSION, auth.SESSION_STRICT} & set(auth_classes) and (
        auth.JWT not in auth_classes)
    if role == "restricted_jwt":
        headers.update(jwt_headers(app, user, is_restricted=True, filters=["user:me"]))
    elif role != "anonymous" and not (session or session_only):
        headers.update(jwt_headers(app, user))
    elif role != "anonymous":
        # A browser session, as the endpoint takes no JWT (or the row asks for one).
        key = secrets.token_urlsafe(32)
        world.db.add(LoginSession(key_hash=auth.token_digest(key), user_id=user.id,
                                  expires=utcnow() + timedelta(hours=1)))
        world.db.commit()
        cookies[config.session_cookie_name] = auth.sign(config.secret_key, key)
    headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return headers


def _matrix_call(app, row, world, role, template, auth_classes):
    from urllib.parse import urlencode

    from lms.matrix import fill_path

    world.role = role
    path = world.resolve(row.path) or {}
    query = world.resolve(row.query)
    body = world.resolve(row.body)
    url = fill_path(template, path)
    if query:
        url += "?" + urlencode(query, doseq=True)
    headers = dict(world.format(row.headers))
    headers.update(_matrix_credentials(app, world, role, auth_classes, app.registry,
                                       session=row.session))
    app.reset()  # no cookie from an earlier cell
    method = row.method.lower()
    if row.method in ("GET", "HEAD"):
        return app.get(url, headers=headers, expect_errors=True)
    if row.upload is not None:
        return getattr(app, method)(url, params=body or {}, headers=headers,
                                    upload_files=list(row.upload), expect_errors=True)
    if body is None:
        return getattr(app, method)(url, headers=headers, expect_errors=True)
    if row.content_type:
        import json

        return getattr(app, method)(url, params=json.dumps(body), headers=headers,
                                    content_type=row.content_type, expect_errors=True)
    if row.form:
        return getattr(app, method)(url, params=body, headers=headers, expect_errors=True)
    return getattr(app, method + "_json")(url, params=body, headers=headers,
                                          expect_errors=True)


@pytest.fixture
def permission_matrix_settings(request):
    return _matrix_settings(request.module)


def _matrix_app(engine, settings):
    """An app per settings and plugin set, built once and reused (as ``app_factory``
    reuses them): building an app with every plugin takes longer than checking an
    operation. Its sessions use the engine: what a check writes is committed, and
    emptied after the test."""
    merged = dict(settings, **{"sqlalchemy.url": str(engine.url)})
    wsgi_app, registry = _built_app(engine, merged, reuse=True)
    app = webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    app.registry = registry
    return app


def test_permission_matrix(permission_matrix_operation, permission_matrix_settings, app_factory,
                           engine):
    """Every role gets its expected answer class; no refused body leaks private data."""
    from lms import matrix, process_state

    route, method = permission_matrix_operation
    # app_factory (requested for its teardown) empties the tables after the test.
    app, contributed = matrix.app_with_matrix_settings(
        lambda settings: _matrix_app(engine, settings), permission_matrix_settings)
    row = matrix.rows_by_operation(contributed).get((route, method))
    if row is None:
        pytest.fail(f"{method} {route} has no permission matrix row: add one to the "
                    "lms_permission_matrix answer of the plugin serving it "
                    "(docs/plugins.md, 'Permission matrix')", pytrace=False)
    auth_classes = matrix.operation_auth_classes(app.registry, route)
    template = matrix.route_template(app.registry, route)
    db = app.registry["lms.dbsession_factory"]()
    failures = []
    try:
        world = matrix.build_world(app.registry, db, contributed)
        for index, role in enumerate(matrix.ROLES):
            if row.isolated and index:
                db.close()
                _truncate(engine)
                world = matrix.build_world(app.registry, db, contributed)
            response = _matrix_call(app, row, world, role, template, auth_classes)
            db.rollback()  # see what the request committed
            observed = matrix.classify(response.status_int)
            if observed not in row.accepted(role):
                failures.append(f"{role}: expected {row.expected(role)}, got "
                                f"{matrix.describe(response)}")
            if response.status_int >= 400 or role == "anonymous" or role in row.scan:
                text = response.body.decode("utf-8", "replace")
                leaked = matrix.leaked_values(text, world.forbidden_values(role))
                if leaked:
                    failures.append(f"{role}: {response.status} body discloses {leaked}")
    finally:
        db.close()
        # The app may be handed to a later test (app_factory reuses built apps).
        process_state.clear(app.registry)
    if failures:
        pytest.fail(f"{method} {route}:\n  " + "\n  ".join(failures), pytrace=False)


# -- each plugin alone ------------------------------------------------------------------
# ``plugin_alone_problems(name, database_url)`` proves a plugin has no hidden coupling:
# over a fresh database holding only the core's migrations and those of the plugin and
# its requirements, an app with exactly those plugins enabled serves every operation of
# the plugin and of the core (parameters from the permission matrix rows, or sample
# values where an operation has none) to an anonymous caller and to global staff; the
# requirements' own operations are requested when each of them runs alone. It returns what went wrong: a 5xx
# (a table of a plugin it does not require...), an error answered without a JSON body,
# a world that cannot be built. ``alone_database_url`` gives each call its own database.

ALONE_ROLES = ("anonymous", "global_staff")
SAMPLE_USAGE_KEY = "block-v1:MatrixX+PM101+2026_T1+type@vertical+block@sample"


def with_requirements(installed, name):
    """``name`` and every plugin it requires, directly or not."""
    found, pending = [], [name]
    while pending:
        current = pending.pop()
        if current not in found:
            found.append(current)
            pending.extend(installed[current].requires)
    return found


@pytest.fixture
def alone_database_url(request, tmp_path):
    """``url(label)``: a fresh database for one plugin-alone check: a SQLite file in
    ``tmp_path``, or a PostgreSQL sibling ``<name>_alone_<label>`` of
    ``LMS_TEST_DATABASE_URL``, dropped after the test."""
    shared = postgres_test_url()
    created = []

    def url(label):
        label = re.sub(r"[^a-z0-9_]", "_", label.lower())
        if not shared:
            return "sqlite:///" + str(tmp_path / f"alone-{label}.sqlite")
        parsed = make_url(shared)
        name = f"{parsed.database}_alone_{label}"[:63]
        made = parsed.set(database=name).render_as_string(hide_password=False)
        recreate_postgres_database(made)
        created.append(made)
        return made

    yield url
    for made in created:
        parsed = make_url(made)
        admin = make_engine({"sqlalchemy.url": str(parsed.set(database="postgres"))})
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()


def sample_path_values(template, world):
    """Plausible values for a path's placeholders, by name, for operations without a
    matrix row: the world's values, course keys, usage keys, usernames, numeric ids."""
    from lms.openapi import split_path_template

    values = {}
    for part in split_path_template(template):
        if isinstance(part, str):
            continue
        name = part[0]
        if name == "trailing_slash":  # fill_path's default
            continue
        if name in world.values:
            values[name] = world.values[name]
        elif "usage" in name or "block" in name:
            values[name] = SAMPLE_USAGE_KEY
        elif "course" in name:
            values[name] = world.values["course_key"]
        elif "user" in name:
            values[name] = world.values["learner"]
        elif name in ("id", "pk") or name.endswith(("_id", "_pk")):
            values[name] = 1
        else:
            values[name] = "sample"
    return values


def _empty_existing_tables(engine, existing=None):
    """``_truncate`` for a database holding only some plugins' tables (``existing``:
    their names, when the caller already knows them)."""
    from sqlalchemy import inspect

    if existing is None:
        existing = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name in existing and not table.info.get("reference_data"):
                conn.execute(table.delete())


class _LoggedErrors:
    """Collects the messages of exceptions the error views log (the cause of a 500)."""

    def __init__(self):
        import logging

        self.messages = []
        self.handler = logging.Handler()
        self.handler.emit = lambda record: self.messages.append(
            f"{record.exc_info[0].__name__}: {record.exc_info[1]}".splitlines()[0]
            if record.exc_info else record.getMessage())

    def __enter__(self):
        import logging

        logging.getLogger("lms.errors").addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        import logging

        logging.getLogger("lms.errors").removeHandler(self.handler)


def _is_json(response):
    import json

    if "json" not in (response.content_type or ""):
        return False
    try:
        json.loads(response.body)
    except ValueError:
        return False
    return True


def _declared_body(declared, response):
    """Whether the OpenAPI operation ``declared`` (or None) gives this error answer's
    shape: its status without content (DRF's empty ``Response(status=...)``, a plain
    text message), or with the answer's media type."""
    if declared is None:
        return False
    found = declared["responses"].get(str(response.status_int))
    if found is None:
        return False
    return "content" not in found or response.content_type in found["content"]


def _alone_check(response, row, role, errors, declared):
    """What is wrong with one answer, or None."""
    from lms import matrix

    status = response.status_int
    if status >= 500 and not (status == 503 and row and "unavailable" in row.accepted(role)):
        cause = f" ({'; '.join(errors)})" if errors else ""
        return f"{matrix.describe(response)}{cause}"
    if status >= 400 and not (_is_json(response) or _declared_body(declared, response)):
        return f"{response.status} neither JSON nor declared: {matrix.describe(response)}"
    return None


def plugin_alone_problems(name, database_url, settings=None):
    """Every problem of plugin ``name`` served alone (see the section comment)."""
    import dataclasses

    from sqlalchemy import inspect as sa_inspect

    from lms import matrix, migrate
    from lms.openapi import build_document, openapi_path
    from lms.plugins import select

    installed = installed_plugins()
    names = " ".join(with_requirements(installed, name))
    migrate_settings = {"sqlalchemy.url": database_url}
    engine = make_engine(migrate_settings)
    try:
        migrate.upgrade(migrate_settings, installed,
                        select(installed, {"lms.plugins": names}), engine=engine)

        def make_app(overrides):
            merged = dict(TEST_SETTINGS, **{"sqlalchemy.url": database_url})
            merged.update(overrides)
            config = make_config(merged, engine=engine)
            app = webtest.TestApp(config.make_wsgi_app(),
                                  extra_environ={"HTTP_HOST": "localhost"})
            app.registry = config.registry
            return app

        app, contributed = matrix.app_with_matrix_settings(
            make_app, dict(settings or {}, **{"lms.plugins": names}))
        rows = matrix.rows_by_operation(contributed)
        document = build_document(app.registry)
        problems = []
        db = app.registry["lms.dbsession_factory"]()
        existing_tables = set(sa_inspect(engine).get_table_names())
        try:
            owners = {"lms", *names.split()}
            for route, method in matrix.served_operations(app.registry):
                owner = route.split(".")[0]
                if owner not in owners:
                    problems.append(f"{method} {route}: served, but not by the core nor "
                                    f"by {names}")
                if owner not in ("lms", name):
                    # A requirement's own operations are requested when it runs alone
                    # (its tables are here too); requesting them again for every plugin
                    # that requires it would make the suite grow with the square of
                    # the plugins.
                    continue
                template = matrix.route_template(app.registry, route)
                auth_classes = matrix.operation_auth_classes(app.registry, route)
                row = rows.get((route, method))
                declared = document["paths"].get(openapi_path(template), {}).get(
                    method.lower())
                for role in ALONE_ROLES:
                    db.close()
                    _empty_existing_tables(engine, existing_tables)
                    label = f"{method} {template} as {role}"
                    with _LoggedErrors() as logged:
                        try:
                            world = matrix.build_world(app.registry, db, contributed)
                        except Exception as exc:
                            problems.append(f"{label}: building the world failed: {exc!r}"
                                            .splitlines()[0])
                            db.rollback()
                            continue
                        call_row = row or matrix.Row(route, method, {})
                        if call_row.path is None:
                            call_row = dataclasses.replace(
                                call_row, path=lambda w, t=template: sample_path_values(t, w))
                        response = _matrix_call(app, call_row, world, role, template,
                                                auth_classes)
                    db.rollback()
                    problem = _alone_check(response, row, role, logged.messages, declared)
                    if problem:
                        problems.append(f"{label}: {problem}")
        finally:
            db.close()
        return problems
    finally:
        engine.dispose()
