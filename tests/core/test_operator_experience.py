"""What an operator meets first: ``lms serve`` errors on one line, pending
migrations refused at start-up and reported by /heartbeat, the signing-secret
rule of production, ``lms bootstrap --sample-course`` and the landing page ``GET /``.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import webtest
from click.testing import CliRunner
from pyramid.exceptions import ConfigurationError

import lms
from lms import cli, make_config, migrate
from lms.plugins import discover, select
from lms.testing import TEST_SETTINGS

REPO_ROOT = Path(__file__).resolve().parents[2]
ALL_BRANCHES = ("lms, accounts, courses, enrollment, bookmarks, discussion, experiments, grades, "
                "mobile, teams, video")
STRONG_SECRET = "a-production-secret-of-forty-bytes-long!"

pytestmark = pytest.mark.usefixtures("clean_lms_environment")


def one_line_error(result):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def no_logging_setup(monkeypatch):
    monkeypatch.setattr(cli, "setup_logging", lambda ini: None)


@pytest.fixture
def bound_servers(monkeypatch):
    """The real waitress server binds its sockets, then ``run`` closes it at once."""
    from waitress.server import create_server

    servers = []

    def create_and_stop(app, **options):
        server = create_server(app, **options)
        server.run = server.close
        servers.append(server)
        return server

    monkeypatch.setattr("waitress.server.create_server", create_and_stop)
    return servers


# -- lms serve: where it listens (on an unmigrated database: --allow-pending) ---------------

def test_busy_port_is_one_line(run_cli, no_logging_setup):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--allow-pending", "--port", str(port))
    assert one_line_error(result) == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use")


def test_address_not_on_this_machine_is_one_line(run_cli, no_logging_setup):
    # 192.0.2.1 is TEST-NET-1: never an address of this machine.
    result = run_cli("serve", "--allow-pending", "--host", "192.0.2.1", "--port", "18999")
    assert one_line_error(result) == (
        "Error: cannot listen on 192.0.2.1:18999: Cannot assign requested address")


def test_unresolvable_host_is_one_line(run_cli, no_logging_setup):
    result = run_cli("serve", "--allow-pending", "--host", "[not-an-address", "--port", "18999")
    assert one_line_error(result) == (
        "Error: cannot listen on [not-an-address:18999: Invalid host/port specified.")


def test_bad_port_in_the_ini_is_one_line(write_cli_ini, run_cli, no_logging_setup):
    ini = write_cli_ini("\n[server:main]\nport = http\n", name="port.ini")
    assert one_line_error(run_cli("serve", "--allow-pending", ini=ini)) == (
        "Error: [server:main] port 'http' is not a port number")


@pytest.mark.parametrize("port", ["0", "65536", "-1", "x"])
def test_port_option_is_range_checked(run_cli, port):
    result = run_cli("serve", "--port", port)
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output
    assert "Traceback" not in result.output


def test_serve_logs_the_address_it_listens_on(run_cli, no_logging_setup,
                                              bound_servers, caplog):
    port = free_port()
    caplog.set_level("INFO", logger="lms")
    result = run_cli("serve", "--allow-pending", "--port", str(port))
    assert result.exit_code == 0, result.output
    assert [int(bound.effective_port) for bound in bound_servers] == [port]
    assert [record.getMessage() for record in caplog.records if record.name == "lms.cli"] == [
        f"openlms serving on http://127.0.0.1:{port}"]


def test_serve_prints_the_address_when_logging_hides_it(run_cli, no_logging_setup,
                                                        bound_servers, caplog):
    port = free_port()
    caplog.set_level("WARNING", logger="lms")
    result = run_cli("serve", "--allow-pending", "--port", str(port))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [f"openlms serving on http://127.0.0.1:{port}"]


def test_make_run_passes_port_and_host_to_serve():
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    # Under `make test` the parent make's flags would print "Entering directory" lines.
    env = {key: value for key, value in os.environ.items()
           if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    run = subprocess.run(["make", "--no-print-directory", "-n", "run", "PORT=18123",
                          "HOST=0.0.0.0"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, check=True)
    lines = run.stdout.strip().splitlines()
    assert lines[-2:] == [
        'LMS_BASE_URL="${LMS_BASE_URL:-http://127.0.0.1:18123}" '
        ".venv/bin/lms --ini development.ini bootstrap",
        'LMS_BASE_URL="${LMS_BASE_URL:-http://127.0.0.1:18123}" '
        ".venv/bin/lms --ini development.ini serve --host '0.0.0.0' --port '18123'"]
    plain = subprocess.run(["make", "--no-print-directory", "-n", "run"], cwd=REPO_ROOT,
                           env=env, capture_output=True, text=True, check=True)
    assert plain.stdout.strip().splitlines()[-1].split() == [
        ".venv/bin/lms", "--ini", "development.ini", "serve"]


# -- pending migrations ------------------------------------------------------------------------

def test_serve_refuses_a_database_never_migrated(run_cli, write_cli_ini, bound_servers):
    ini = write_cli_ini()
    assert one_line_error(run_cli("serve", ini=ini)) == (
        f"Error: the database was never migrated (pending: {ALL_BRANCHES}): "
        f"run `lms --ini {ini} migrate` first (or serve with --allow-pending)")
    assert bound_servers == []


def test_serve_refuses_a_newly_enabled_plugin_branch(write_cli_ini, run_cli, bound_servers,
                                                     no_logging_setup):
    before = write_cli_ini("lms.plugins = experiments", name="before.ini")
    assert run_cli("migrate", ini=before).exit_code == 0
    assert run_cli("serve", "--port", str(free_port()), ini=before).exit_code == 0
    after = write_cli_ini("lms.plugins = experiments courses", name="after.ini")
    assert one_line_error(run_cli("serve", ini=after)) == (
        "Error: the database has pending migrations: courses: "
        f"run `lms --ini {after} migrate` first (or serve with --allow-pending)")
    assert len(bound_servers) == 1


def test_allow_pending_serves_anyway(write_cli_ini, run_cli, bound_servers, no_logging_setup):
    result = run_cli("serve", "--allow-pending", "--port", str(free_port()))
    assert result.exit_code == 0, result.output
    ini = write_cli_ini("lms.allow_pending_migrations = true", name="expert.ini")
    result = run_cli("serve", "--port", str(free_port()), ini=ini)
    assert result.exit_code == 0, result.output
    assert len(bound_servers) == 2


@pytest.fixture
def fake_celery_worker(monkeypatch):
    """Celery's worker_main replaced: records its argv, starts nothing."""
    from celery import Celery

    started = []
    monkeypatch.setattr(Celery, "worker_main", lambda self, argv: started.append(argv))
    return started


REDIS_BROKER = "celery.broker_url = redis://127.0.0.1:6379/0\ncelery.task_always_eager = false\n"


def test_worker_refuses_a_database_never_migrated(write_cli_ini, run_cli, fake_celery_worker,
                                                  no_logging_setup):
    ini = write_cli_ini(REDIS_BROKER)
    assert one_line_error(run_cli("worker", "--concurrency", "2", ini=ini)) == (
        f"Error: the database was never migrated (pending: {ALL_BRANCHES}): "
        f"run `lms --ini {ini} migrate` first (or start the worker with --allow-pending)")
    assert fake_celery_worker == []


def test_worker_refuses_a_newly_enabled_plugin_branch(write_cli_ini, run_cli,
                                                      fake_celery_worker, no_logging_setup):
    before = write_cli_ini(REDIS_BROKER + "lms.plugins = experiments", name="before.ini")
    assert run_cli("migrate", ini=before).exit_code == 0
    assert run_cli("worker", ini=before).exit_code == 0
    after = write_cli_ini(REDIS_BROKER + "lms.plugins = experiments courses", name="after.ini")
    assert one_line_error(run_cli("worker", ini=after)) == (
        "Error: the database has pending migrations: courses: "
        f"run `lms --ini {after} migrate` first (or start the worker with --allow-pending)")
    assert fake_celery_worker == [["worker", "--loglevel=INFO"]]


def test_worker_allow_pending_starts_anyway(write_cli_ini, run_cli, fake_celery_worker,
                                            no_logging_setup):
    ini = write_cli_ini(REDIS_BROKER)
    result = run_cli("worker", "--allow-pending", "--concurrency", "2", ini=ini)
    assert result.exit_code == 0, result.output
    expert = write_cli_ini(REDIS_BROKER + "lms.allow_pending_migrations = true",
                           name="expert.ini")
    result = run_cli("worker", ini=expert)
    assert result.exit_code == 0, result.output
    # --allow-pending is the command's own option, never passed on to Celery.
    assert fake_celery_worker == [["worker", "--concurrency", "2", "--loglevel=INFO"],
                                  ["worker", "--loglevel=INFO"]]


def test_other_commands_load_an_unmigrated_database(run_cli):
    result = run_cli("plugins")
    assert result.exit_code == 0, result.output
    assert "experiments" in result.output


@pytest.fixture
def scratch_settings(tmp_path):
    """Settings for an app on a database of its own (not migrated)."""
    engines = []
    settings = dict(TEST_SETTINGS, **{"sqlalchemy.url": f"sqlite:///{tmp_path}/scratch.sqlite"})
    yield settings, engines
    for engine in engines:
        engine.dispose()


def test_app_factory_refuses_pending_migrations(scratch_settings):
    settings, engines = scratch_settings
    with pytest.raises(ConfigurationError) as refused:
        lms.main({}, **settings)
    assert str(refused.value) == (
        f"the database was never migrated (pending: {ALL_BRANCHES}): run `lms migrate` first "
        "(lms.allow_pending_migrations = true serves anyway)")
    app = lms.main({}, **dict(settings, **{"lms.allow_pending_migrations": "true"}))
    engines.append(app.registry["lms.engine"])


def test_app_factory_refuses_through_paste_deploy(write_cli_ini):
    from pyramid.paster import get_app

    with pytest.raises(ConfigurationError, match="the database was never migrated"):
        get_app(write_cli_ini())


def test_heartbeat_fails_while_migrations_are_pending(scratch_settings):
    settings, engines = scratch_settings
    config = make_config(settings)
    registry = config.registry
    engines.append(registry["lms.engine"])
    app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    response = app.get("/heartbeat", status=503)
    assert response.json == {"sql": {"status": False, "message": (
        f"the database was never migrated (pending: {ALL_BRANCHES}) (run `lms migrate`)")}}

    installed = registry["lms.plugins"]
    core_and_accounts = select(installed, {"lms.plugins": "accounts"})
    migrate.upgrade(settings, installed, core_and_accounts, engine=registry["lms.engine"])
    response = app.get("/heartbeat", status=503)
    assert response.json == {"sql": {"status": False, "message": (
        "the database has pending migrations: courses, enrollment, bookmarks, discussion, "
        "experiments, grades, mobile, teams, video (run `lms migrate`)")}}

    migrate.upgrade(settings, installed, registry["lms.enabled_plugins"],
                    engine=registry["lms.engine"])
    assert app.get("/heartbeat", status=200).json == {"sql": {"status": True, "message": "OK"}}


def test_pending_check_reads_the_revision_files_once(engine, monkeypatch):
    from alembic.script import ScriptDirectory

    installed = discover()
    enabled = select(installed, {"lms.plugins": ""})
    settings = {"sqlalchemy.url": str(engine.url)}
    assert migrate.pending_branches(settings, installed, enabled, engine) == ([], True)
    monkeypatch.setattr(ScriptDirectory, "from_config",
                        classmethod(lambda cls, config: pytest.fail("read again")))
    assert migrate.pending_branches(settings, installed, enabled, engine) == ([], True)


# -- the signing secrets -----------------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"jwt.secret_key": "short-jwt-secret"},
     "jwt.secret_key is too weak for production (lms.environment = production): 16 bytes, "
     "at least 32 needed (in the .ini or LMS_JWT_SECRET_KEY)"),
    ({"lms.secret_key": "dev-only-insecure-lms-secret-key-do-not-use-in-production"},
     "lms.secret_key is a development value; in production (lms.environment = production) "
     "set a random secret of your own (in the .ini or LMS_SECRET_KEY)"),
    ({"jwt.secret_key": "dev-only-insecure-jwt-secret-key-at-least-32-bytes"},
     "jwt.secret_key is a development value; in production (lms.environment = production) "
     "set a random secret of your own (in the .ini or LMS_JWT_SECRET_KEY)"),
    ({"lms.secret_key": "x" * 31},
     "lms.secret_key is too weak for production (lms.environment = production): 31 bytes, "
     "at least 32 needed (in the .ini or LMS_SECRET_KEY)"),
    ({"jwt.secret_key": ""}, "jwt.secret_key must be set (in the .ini or LMS_JWT_SECRET_KEY)"),
    ({"jwt.secret_key": "", "lms.environment": "development"},
     "jwt.secret_key must be set (in the .ini or LMS_JWT_SECRET_KEY)"),
    ({"lms.environment": "staging"},
     "lms.environment must be one of production, development, got 'staging'"),
])
def test_weak_or_missing_secrets_stop_start_up(app_factory, overrides, message):
    with pytest.raises(ConfigurationError) as refused:
        app_factory(**overrides)
    assert str(refused.value) == message


def test_production_is_the_default_and_development_allows_short_secrets(app_factory):
    assert app_factory().registry.settings["lms.environment"] == "production"
    app = app_factory(**{"lms.environment": "development", "jwt.secret_key": "short",
                         "lms.secret_key": "dev-only-short"})
    assert app.registry["lms.jwt_config"].secret_key == "short"


def test_jwt_secret_never_falls_back_to_the_session_secret():
    from lms.tokens import JWTConfig

    with pytest.raises(ConfigurationError, match="^jwt.secret_key must be set"):
        JWTConfig.from_settings(dict(TEST_SETTINGS, **{"jwt.secret_key": ""}))


def test_development_ini_refused_as_production(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_ENVIRONMENT", "production")
    monkeypatch.setenv("LMS_SQLALCHEMY_URL", f"sqlite:///{tmp_path}/dev.sqlite")
    result = CliRunner().invoke(
        cli.main, ["--ini", str(REPO_ROOT / "development.ini"), "serve"])
    assert one_line_error(result) == (
        "Error: configuration error: lms.secret_key is a development value; in production "
        "(lms.environment = production) set a random secret of your own "
        "(in the .ini or LMS_SECRET_KEY)")


def test_production_ini_refuses_a_weak_jwt_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("LMS_JWT_SECRET_KEY", "too-short")
    monkeypatch.setenv("LMS_SQLALCHEMY_URL", f"sqlite:///{tmp_path}/prod.sqlite")
    result = CliRunner().invoke(
        cli.main, ["--ini", str(REPO_ROOT / "production.ini"), "migrate"])
    assert one_line_error(result) == (
        "Error: configuration error: jwt.secret_key is too weak for production "
        "(lms.environment = production): 9 bytes, at least 32 needed "
        "(in the .ini or LMS_JWT_SECRET_KEY)")


def test_shipped_ini_files_state_their_environment():
    import plaster

    development = dict(plaster.get_settings(str(REPO_ROOT / "development.ini"), "app:main"))
    production = dict(plaster.get_settings(str(REPO_ROOT / "production.ini"), "app:main"))
    assert (development["lms.environment"], development["lms.bootstrap_sample_course"],
            development["lms.allow_pending_migrations"]) == ("development", "true", "false")
    assert (production["lms.environment"], production["lms.bootstrap_sample_course"],
            production["lms.allow_pending_migrations"]) == ("production", "false", "false")


# -- production.ini end to end: migrate, serve, log the address, answer --------------------------

def test_production_ini_serves_and_logs_its_address(tmp_path, monkeypatch):
    import urllib.request

    environ = {"LMS_SECRET_KEY": STRONG_SECRET, "LMS_JWT_SECRET_KEY": STRONG_SECRET[::-1],
               "LMS_SQLALCHEMY_URL": f"sqlite:///{tmp_path}/prod.sqlite",
               "LMS_CELERY_BROKER_URL": "memory://", "LMS_HEARTBEAT_CHECK_BROKER": "false"}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    ini = str(REPO_ROOT / "production.ini")
    assert CliRunner().invoke(cli.main, ["--ini", ini, "migrate"]).exit_code == 0
    port = free_port()
    lms_command = str(Path(sys.executable).with_name("lms"))
    server = subprocess.Popen([lms_command, "--ini", ini, "serve", "--port", str(port)],
                              env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    try:
        first_line = json.loads(server.stderr.readline())  # production.ini logs JSON
        assert {key: first_line[key] for key in ("level", "logger", "message", "request_id")} \
            == {"level": "INFO", "logger": "lms.cli", "request_id": "-",
                "message": f"openlms serving on http://127.0.0.1:{port}"}
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                with urllib.request.urlopen(base + "/heartbeat") as answer:
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(base + "/", headers={"Accept": "text/html"})
        with urllib.request.urlopen(request) as answer:
            assert b"<h1>openlms</h1>" in answer.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()


# -- lms bootstrap: sample content only where asked ---------------------------------------------

def _sample_plugin(seen):
    module = types.ModuleType("sample_plugin")
    module.name, module.version, module.requires = "sampleplugin", "0.1", ()

    from lms.hookspecs import hookimpl

    @hookimpl
    def lms_bootstrap(registry, dbsession, echo, sample_course):
        seen.append(sample_course)

    module.lms_bootstrap = lms_bootstrap
    return module


def test_bootstrap_passes_the_sample_course_choice(write_cli_ini, run_cli, add_plugins):
    seen = []
    add_plugins(_sample_plugin(seen))
    plain = write_cli_ini("lms.plugins = sampleplugin", name="plain.ini")
    wanted = write_cli_ini("lms.plugins = sampleplugin\nlms.bootstrap_sample_course = true",
                           name="wanted.ini")
    for args, ini in [((), plain), (("--sample-course",), plain), ((), wanted),
                      (("--no-sample-course",), wanted)]:
        result = run_cli("bootstrap", *args, ini=ini)
        assert result.exit_code == 0, result.output
    assert seen == [False, True, True, False]


# -- the landing page ------------------------------------------------------------------------

def test_landing_page_is_html_for_browsers(app):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for headers in ({}, {"Accept": browser}, {"Accept": "*/*"}):
        response = app.get("/", headers=headers, status=200)
        assert response.content_type == "text/html"
        assert "Accept" in response.headers["Vary"].split(", ")
        page = response.text
        assert "<h1>openlms</h1>" in page
        assert f"openlms {lms.__version__}" in page
        for link in ('href="/api-docs/"', 'href="/api-docs/openapi.json"', 'href="/heartbeat"'):
            assert link in page
        assert ("Enabled plugins: accounts, courses, enrollment, bookmarks, discussion, "
                "experiments, grades, mobile, teams, video") in page


def test_landing_page_is_json_when_asked(app):
    expected = {
        "name": "openlms",
        "version": lms.__version__,
        "links": {"api_docs": "/api-docs/", "openapi": "/api-docs/openapi.json",
                  "heartbeat": "/heartbeat"},
        "plugins": ["accounts", "courses", "enrollment", "bookmarks", "discussion",
                    "experiments", "grades", "mobile", "teams", "video"],
    }
    for accept in ("application/json", "application/json, text/plain, */*",
                   "text/html;q=0.5, application/json"):
        response = app.get("/", headers={"Accept": accept}, status=200)
        assert response.content_type == "application/json"
        assert response.json == expected


def test_landing_page_escapes_the_platform_name(app_factory):
    app = app_factory(**{"lms.platform_name": "<script>x</script>", "lms.plugins": "experiments"})
    page = app.get("/", status=200).text
    assert "<h1>&lt;script&gt;x&lt;/script&gt;</h1>" in page
    assert "<script>" not in page
    assert "Enabled plugins: experiments" in page


def test_landing_page_is_get_only(app):
    app.post("/", status=404)


def test_logout_lands_on_the_landing_page(app):
    response = app.get("/logout", status=302)
    assert response.headers["Location"] == "http://localhost/"
    assert response.follow(status=200).content_type == "text/html"
