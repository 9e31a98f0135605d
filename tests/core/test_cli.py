"""The ``lms`` command, run in-process with click's CliRunner against a temporary ini.

Each test gets its own database (``cli_database_url`` of lms.testing): a SQLite
file in ``tmp_path``, or, when ``LMS_TEST_DATABASE_URL`` names a PostgreSQL
database, a sibling database that is dropped and recreated (the shared test
database keeps its own migrations and data). ``run_cli`` and ``write_cli_ini`` come
from lms.testing too.
"""
import json
import os
import re
import types
from pathlib import Path

import click
import pytest
import webtest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from lms import cli
from lms.db import make_engine
from lms.hookspecs import hookimpl
from lms.models import CourseAccessRole, OAuthApplication, User
from lms.testing import verify_password
from tests.core.test_openapi import install_toy_plugin

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_CANDIDATES = [
    os.environ.get("LMS_SPEC_OPERATIONS", ""),
    str(REPO_ROOT.parent / "shared" / "spec" / "operations.tsv"),
    "/work/shared/spec/operations.tsv",
]
UNREACHABLE_POSTGRES = "postgresql+psycopg://nobody@127.0.0.1:1/x"

pytestmark = pytest.mark.usefixtures("clean_lms_environment")


@pytest.fixture
def query(cli_database_url):
    """``query(stmt)`` → list of rows from the test's database."""
    engines = []

    def execute(stmt):
        if not engines:
            engines.append(make_engine({"sqlalchemy.url": cli_database_url}))
        with engines[0].connect() as conn:
            return list(conn.execute(stmt))

    yield execute
    for engine in engines:
        engine.dispose()


@pytest.fixture
def migrated(run_cli):
    result = run_cli("migrate")
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def toy_plugin(add_plugins):
    """The ``toy`` plugin of test_openapi (3 services, 6 operations) as a built-in one."""
    install_toy_plugin(add_plugins)


def one_line_error(result):
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


# -- migrate -------------------------------------------------------------------

def test_migrate_applies_core_and_plugin_branches_once(run_cli, query):
    first = run_cli("migrate")
    assert first.exit_code == 0, first.output
    assert re.search(r"^applied lms_0001 \(lms\)", first.output, re.M)
    assert re.search(r"^\d+ migration\(s\) applied \(branches: lms", first.output, re.M)
    assert query(text("SELECT version_num FROM alembic_version"))
    assert query(select(func.count()).select_from(User.__table__)) == [(0,)]

    second = run_cli("migrate")
    assert second.exit_code == 0, second.output
    assert second.output.startswith("database is up to date (branches: lms")
    assert "applied" not in second.output


def test_migrate_skips_disabled_plugin_branch(write_cli_ini, run_cli, query):
    ini = write_cli_ini("lms.plugins = experiments\nlms.plugins.disabled = experiments")
    result = run_cli("migrate", ini=ini)
    assert result.exit_code == 0, result.output
    assert "(branches: lms)" in result.output
    versions = {row[0] for row in query(text("SELECT version_num FROM alembic_version"))}
    assert versions and all(v.startswith("lms_") for v in versions)


# -- create-user ---------------------------------------------------------------

def test_create_user(run_cli, migrated, query):
    result = run_cli("create-user", "alice", "alice@example.com", "--password", "s3cret-pw",
                     "--staff")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("created staff user 'alice'")
    [row] = query(select(User.username, User.email, User.is_staff, User.is_superuser,
                         User.is_active, User.password))
    assert row[:5] == ("alice", "alice@example.com", True, False, True)
    assert verify_password("s3cret-pw", row.password)[0]


def test_create_superuser_is_staff_too(run_cli, migrated, query):
    result = run_cli("create-user", "root", "root@example.com", "--password", "pw", "--superuser")
    assert result.exit_code == 0, result.output
    assert query(select(User.is_staff, User.is_superuser)) == [(True, True)]


def test_create_user_prompts_for_password(run_cli, migrated, query):
    result = run_cli("create-user", "bob", "bob@example.com", input="pw-123\npw-123\n")
    assert result.exit_code == 0, result.output
    [(password,)] = query(select(User.password))
    assert verify_password("pw-123", password)[0]


@pytest.mark.parametrize("args, message", [
    (("alice", "other@example.com"), "Error: a user named 'alice' already exists"),
    (("alice2", "alice@example.com"),
     "Error: a user with email 'alice@example.com' already exists"),
    (("x", "x@example.com"), "Error: Username must be between 2 and 30 characters long."),
    (("carol", "not-an-email"), "Error: 'not-an-email' is not a valid email address"),
])
def test_create_user_rejects_bad_input(run_cli, migrated, query, args, message):
    assert run_cli("create-user", "alice", "alice@example.com", "--password", "pw").exit_code == 0
    result = run_cli("create-user", *args, "--password", "pw")
    assert one_line_error(result) == message
    assert query(select(User.username)) == [("alice",)]


# -- create-oauth-client -------------------------------------------------------

def test_create_oauth_client_json_secret_works(run_cli, write_cli_ini, migrated, query):
    ini = write_cli_ini()
    assert run_cli("create-user", "svc", "svc@example.com", "--password", "pw").exit_code == 0
    result = run_cli("create-oauth-client", "reporting", "--user", "svc", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"client_id", "client_secret"}
    assert created["client_secret"]
    [row] = query(select(OAuthApplication.name, OAuthApplication.client_id,
                         OAuthApplication.grant_type, OAuthApplication.client_type,
                         OAuthApplication.client_secret_hash))
    assert row[:4] == ("reporting", created["client_id"], "client-credentials", "confidential")
    assert created["client_secret"] not in row.client_secret_hash

    from pyramid.paster import get_app

    app = webtest.TestApp(get_app(ini), extra_environ={"HTTP_HOST": "localhost"})
    try:
        response = app.post("/oauth2/access_token", {
            "grant_type": "client_credentials", "client_id": created["client_id"],
            "client_secret": created["client_secret"], "token_type": "jwt"})
        assert response.json["token_type"] == "JWT"
        assert response.json["access_token"]
        app.post("/oauth2/access_token", {
            "grant_type": "client_credentials", "client_id": created["client_id"],
            "client_secret": "wrong"}, status=401)
    finally:
        app.app.registry["lms.engine"].dispose()


def test_create_public_password_client_with_given_id(run_cli, migrated, query):
    assert run_cli("create-user", "mobile", "mobile@example.com",
                   "--password", "pw").exit_code == 0
    result = run_cli("create-oauth-client", "app", "--user", "mobile", "--grant-type",
                     "password", "--public", "--client-id", "mobile-app", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"client_id": "mobile-app", "client_secret": None}
    assert query(select(OAuthApplication.client_type, OAuthApplication.grant_type,
                        OAuthApplication.client_secret_hash)) == [("public", "password", "")]

    again = run_cli("create-oauth-client", "app2", "--user", "mobile", "--grant-type",
                    "password", "--public", "--client-id", "mobile-app")
    assert one_line_error(again) == (
        "Error: an OAuth client with client_id 'mobile-app' already exists")


def test_create_oauth_client_errors(run_cli, migrated, query):
    result = run_cli("create-oauth-client", "x", "--user", "ghost", "--json")
    assert one_line_error(result) == "Error: no user named 'ghost'"
    assert run_cli("create-user", "svc", "svc@example.com", "--password", "pw").exit_code == 0
    result = run_cli("create-oauth-client", "x", "--user", "svc", "--public")
    assert one_line_error(result) == (
        "Error: a public client cannot use the client-credentials grant")
    assert query(select(func.count()).select_from(OAuthApplication.__table__)) == [(0,)]


# -- grant-role ----------------------------------------------------------------

def test_grant_role_course_org_and_global(run_cli, migrated, query):
    assert run_cli("create-user", "teacher", "t@example.com", "--password", "pw").exit_code == 0
    course = "course-v1:edX+DemoX+Demo_Course"
    result = run_cli("grant-role", "teacher", "instructor", "--course", course)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"granted 'instructor' to 'teacher' (course {course})"
    assert run_cli("grant-role", "teacher", "instructor", "--course", course).exit_code == 0
    assert run_cli("grant-role", "teacher", "staff", "--org", "edX").exit_code == 0
    assert run_cli("grant-role", "teacher", "support").exit_code == 0
    rows = query(select(CourseAccessRole.role, CourseAccessRole.org, CourseAccessRole.course_key)
                 .order_by(CourseAccessRole.id))
    assert rows == [("instructor", "edX", course), ("staff", "edX", ""), ("support", "", "")]


@pytest.mark.parametrize("args, message", [
    (("teacher", "staff", "--course", "not a key"), "Error: 'not a key' is not a valid course key"),
    (("teacher", "wizard", "--org", "edX"), "Error: unknown role 'wizard' (one of: "),
    (("teacher", "staff"), "Error: 'staff' needs --course KEY or --org ORG"),
    (("teacher", "staff", "--org", "edX", "--course", "course-v1:a+b+c"),
     "Error: give either --course or --org, not both"),
    (("teacher", "support", "--org", "edX"), "Error: 'support' is a global role"),
    (("teacher", "org_course_creator_group"),
     "Error: 'org_course_creator_group' is an organization role: give --org"),
    (("ghost", "staff", "--org", "edX"), "Error: no user named 'ghost'"),
])
def test_grant_role_rejects_bad_input(run_cli, migrated, query, args, message):
    assert run_cli("create-user", "teacher", "t@example.com", "--password", "pw").exit_code == 0
    assert one_line_error(run_cli("grant-role", *args)).startswith(message)
    assert query(select(CourseAccessRole.id)) == []


# -- plugins -------------------------------------------------------------------

def _table(output):
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


def test_plugins_lists_enabled_plugins(run_cli, toy_plugin):
    result = run_cli("plugins")
    assert result.exit_code == 0, result.output
    table = _table(result.output)
    assert table[0] == ["NAME", "VERSION", "STATUS", "SOURCE", "REQUIRES", "ROUTES"]
    rows = {row[0]: row for row in table[1:]}
    assert rows["toy"] == ["toy", "2.0", "enabled", "built-in", "-", "3"]
    assert rows["experiments"][2] == "enabled"


def test_plugins_shows_disabled_plugins(write_cli_ini, run_cli, toy_plugin):
    result = run_cli("plugins", ini=write_cli_ini("lms.plugins.disabled = toy"))
    assert result.exit_code == 0, result.output
    rows = {row[0]: row for row in _table(result.output)[1:]}
    assert rows["toy"] == ["toy", "2.0", "disabled", "built-in", "-", "0"]


def test_plugin_requirement_missing_is_one_line(write_cli_ini, run_cli, toy_plugin, add_plugins):
    needy = types.ModuleType("needy_plugin")
    needy.name, needy.version, needy.requires = "needy", "0.1", ("toy",)
    add_plugins(needy)
    result = run_cli("plugins", ini=write_cli_ini("lms.plugins.disabled = toy"))
    assert one_line_error(result) == (
        "Error: configuration error: plugin 'needy' requires plugin 'toy', which is disabled")


def test_unknown_plugin_is_one_line(write_cli_ini, run_cli):
    result = run_cli("migrate", ini=write_cli_ini("lms.plugins = builtins nothere"))
    assert one_line_error(result).startswith(
        "Error: configuration error: lms.plugins names 'nothere', which is not installed")


# -- coverage ------------------------------------------------------------------

def test_coverage_of_a_small_operations_file(tmp_path, run_cli, toy_plugin):
    operations = tmp_path / "ops.tsv"
    operations.write_text(
        "method\tpath\tarea\n"
        "GET\t/api/toy/v1/items/\ttoy\n"
        "post\t/api/toy/v1/items/\ttoy\n"
        "PATCH\t/api/toy/v1/items/{item_id}/\ttoy\n"
        "DELETE\t/api/toy/v1/items/{item_id}/\ttoy\n"
        "GET\t/api/toy/v1/{username},{course_id}\ttoy\n"
        "GET\t/api/toy/v1/{username},{course_id}/\ttoy\n"
        "GET\t/api/toy/v1/items/\ttoy\n"
        "\n"
    )
    result = run_cli("coverage", "--operations", str(operations))
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.strip().splitlines()]
    assert lines[:6] == [
        ["served", "GET", "/api/toy/v1/items/"],
        ["served", "POST", "/api/toy/v1/items/"],
        ["missing", "PATCH", "/api/toy/v1/items/{item_id}/"],
        ["served", "DELETE", "/api/toy/v1/items/{item_id}/"],
        ["served", "GET", "/api/toy/v1/{username},{course_id}"],
        # The trailing slash is part of the spec path: no match.
        ["missing", "GET", "/api/toy/v1/{username},{course_id}/"],
    ]
    extra = [line for line in lines[6:-1] if line[2].startswith("/api/toy/")]
    assert extra == [["extra", "GET", "/api/toy/v1/items/{id}/"],
                           ["extra", "PUT", "/api/toy/v1/items/{id}/"]]
    assert lines[-1] == "4/6 operations served (66.7%)".split()

    missing_only = run_cli("coverage", "--operations", str(operations), "--show", "missing")
    assert [line.split()[0] for line in missing_only.output.strip().splitlines()] == [
        "missing", "missing", "4/6"]
    assert run_cli("coverage", "--operations", str(operations), "--show", "none").output == (
        "4/6 operations served (66.7%)\n")


def test_coverage_treats_placeholder_names_as_wildcards():
    served = [("GET", r"/api/x/v1/items/{id:\d+}/"),
              ("GET", r"/api/x/v1/{username:[\w.@+-]+},{usage_key_string:[^/]{1,9}}/")]
    wanted = [("GET", "/api/x/v1/items/{item_id}/"), ("PUT", "/api/x/v1/items/{id}/"),
              ("GET", "/api/x/v1/{username},{usage_id}/"), ("GET", "/api/x/v1/items/1/")]
    hits, missing, extra = cli.coverage_report(wanted, served)
    assert hits == [wanted[0], wanted[2]]
    assert missing == [wanted[1], wanted[3]]
    assert extra == []


def test_coverage_rejects_a_file_without_the_header(tmp_path, run_cli):
    operations = tmp_path / "ops.tsv"
    operations.write_text("GET\t/api/x/\n")
    result = run_cli("coverage", "--operations", str(operations))
    assert one_line_error(result) == (
        f"Error: '{operations}': the header must start with the columns 'method' and 'path'")


def operation_rows(path):
    """The rows of an operations TSV (header included) as tuples, in file order."""
    with open(path, encoding="utf-8") as handle:
        return [tuple(line.split("\t")) for line in handle.read().splitlines() if line]


def test_the_shipped_operations_are_the_product_spec():
    shipped = operation_rows(cli.OPEN_EDX_OPERATIONS)
    assert shipped[0] == ("method", "path", "area", "plugin")
    assert len(shipped) == 373
    assert ("GET", "/api/user/v1/accounts/{username}", "user", "accounts") in shipped
    spec = next((path for path in SPEC_CANDIDATES if path and os.path.isfile(path)), None)
    if spec is None:
        pytest.skip("shared/spec/operations.tsv is not available")
    assert set(shipped) == set(operation_rows(spec))


def test_coverage_against_the_product_spec(run_cli, write_cli_ini):
    """Without --operations, the Open edX LMS operations that openlms ships."""
    # The routes only: no migrations needed.
    ini = write_cli_ini("lms.allow_pending_migrations = true", name="routes.ini")
    wanted = {row[:2] for row in operation_rows(cli.OPEN_EDX_OPERATIONS)[1:]}
    result = run_cli("coverage")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    listed = [line.split() for line in lines[:-1] if not line.startswith("extra")]
    assert len(listed) == len(wanted)
    assert {status for status, *_ in listed} <= {"served", "missing"}
    served = sum(1 for status, *_ in listed if status == "served")
    percent = 100.0 * served / len(wanted)
    assert lines[-1] == f"{served}/{len(wanted)} operations served ({percent:.1f}%)"
    # "served" means exactly: the app serves that method on that path shape.
    from pyramid.paster import get_app

    from lms.openapi import operations, path_shape

    app = get_app(ini)
    app.registry["lms.engine"].dispose()
    shapes = {(method, path_shape(path)) for method, path in operations(app.registry)}
    for status, method, path in listed:
        assert (status == "served") == ((method, path_shape(path)) in shapes), (method, path)


# -- configuration and database errors -----------------------------------------

def test_missing_ini_is_one_line(tmp_path):
    missing = str(tmp_path / "nope.ini")
    result = CliRunner().invoke(cli.main, ["--ini", missing, "plugins"])
    assert one_line_error(result) == f"Error: configuration file '{missing}' not found"


def test_ini_comes_from_the_environment(tmp_path, write_cli_ini, monkeypatch):
    ini = write_cli_ini()
    monkeypatch.setenv("LMS_INI", ini)
    result = CliRunner().invoke(cli.main, ["plugins"])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("LMS_INI", str(tmp_path / "other.ini"))
    result = CliRunner().invoke(cli.main, ["plugins"])
    assert "other.ini' not found" in one_line_error(result)


def test_ini_without_app_section_is_one_line(tmp_path):
    path = tmp_path / "empty.ini"
    path.write_text("[server:main]\nport = 1\n")
    result = CliRunner().invoke(cli.main, ["--ini", str(path), "migrate"])
    assert one_line_error(result).startswith(
        f"Error: cannot load the application from '{path}': LookupError:")


def test_unparsable_database_url_is_one_line(write_cli_ini, run_cli):
    result = run_cli("migrate", ini=write_cli_ini("sqlalchemy.url = not a url"))
    assert one_line_error(result) == (
        "Error: configuration error: sqlalchemy.url 'not a url' is not a valid database URL")


def test_unknown_database_driver_is_one_line(write_cli_ini, run_cli):
    result = run_cli("migrate", ini=write_cli_ini("sqlalchemy.url = nosuchdb://host/db"))
    assert one_line_error(result).startswith(
        "Error: configuration error: cannot use database URL 'nosuchdb://host/db'")


def test_unreachable_database_is_one_line(write_cli_ini, run_cli):
    result = run_cli("create-user", "a1", "a1@example.com", "--password", "pw",
                     ini=write_cli_ini(f"sqlalchemy.url = {UNREACHABLE_POSTGRES}"))
    message = one_line_error(result)
    assert message.startswith(f"Error: database error ({UNREACHABLE_POSTGRES}): ")
    assert "Connection refused" in message or "connection failed" in message


def test_unmigrated_database_suggests_migrate(run_cli):
    result = run_cli("create-user", "a1", "a1@example.com", "--password", "pw")
    message = one_line_error(result)
    assert message.startswith("Error: database error (")
    assert message.endswith("(run `lms migrate` first)")


def test_database_password_is_not_printed(write_cli_ini, run_cli):
    url = "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/x"
    message = one_line_error(run_cli("migrate", ini=write_cli_ini(f"sqlalchemy.url = {url}")))
    assert "hunter2" not in message
    assert "nobody:***@127.0.0.1:1/x" in message


# -- bootstrap -----------------------------------------------------------------

def test_bootstrap_is_idempotent(run_cli, query):
    first = run_cli("bootstrap")
    assert first.exit_code == 0, first.output
    assert "applied lms_0001" in first.output
    password = re.search(r"created superuser 'admin' with password: (\S+)", first.output)[1]
    client_id = re.search(r"client_id:\s+(\S+)", first.output)[1]
    assert re.search(r"client_secret:\s+\S+", first.output)
    [user] = query(select(User.username, User.is_staff, User.is_superuser, User.password)
                   .where(User.username == "admin"))
    assert user[:3] == ("admin", True, True)
    users = query(select(func.count()).select_from(User.__table__))
    assert verify_password(password, user.password)[0]
    assert query(select(OAuthApplication.client_id, OAuthApplication.grant_type)) == [
        (client_id, "client-credentials")]

    assert run_cli("--version").output.startswith("lms, version ")
    second = run_cli("bootstrap")
    assert second.exit_code == 0, second.output
    assert "database is up to date" in second.output
    assert "superuser 'admin' exists (password unchanged)" in second.output
    assert f"OAuth client 'openlms-bootstrap' exists (client_id {client_id};" in second.output
    assert "client_secret" not in second.output
    assert query(select(func.count()).select_from(User.__table__)) == users
    assert query(select(func.count()).select_from(OAuthApplication.__table__)) == [(1,)]


# -- serve and worker (the servers themselves are replaced) --------------------

@pytest.fixture
def no_logging_setup(monkeypatch):
    monkeypatch.setattr(cli, "setup_logging", lambda ini: None)


@pytest.fixture
def fake_waitress(monkeypatch):
    """waitress' create_server replaced: records ``(app, options)``, binds nothing."""
    calls = []

    def create_server(app, **options):
        calls.append((app, options))
        return types.SimpleNamespace(effective_host=options.get("host", "127.0.0.1"),
                                     effective_port=options.get("port", 1), run=lambda: None)

    monkeypatch.setattr("waitress.server.create_server", create_server)
    return calls


def test_serve_defaults_to_localhost_18000(run_cli, migrated, fake_waitress, no_logging_setup):
    result = run_cli("serve")
    assert result.exit_code == 0, result.output
    [(app, options)] = fake_waitress
    assert options == {"host": "127.0.0.1", "port": 18000}
    assert "lms.engine" in app.registry


def test_serve_uses_server_section_then_options(write_cli_ini, run_cli, migrated, fake_waitress,
                                                no_logging_setup):
    ini = write_cli_ini("\n[server:main]\nuse = egg:waitress#main\nhost = 0.0.0.0\nport = 8111\n"
                        "threads = 8\ntrusted_proxy = 127.0.0.1\n")
    assert run_cli("serve", ini=ini).exit_code == 0
    assert run_cli("serve", "--port", "9000", "--host", "127.0.0.2", ini=ini).exit_code == 0
    common = {"threads": "8", "trusted_proxy": "127.0.0.1"}
    assert [options for _, options in fake_waitress] == [
        dict(common, host="0.0.0.0", port=8111), dict(common, host="127.0.0.2", port=9000)]


def test_serve_listen_setting_wins_unless_options_given(write_cli_ini, run_cli, migrated,
                                                        fake_waitress, no_logging_setup):
    calls = fake_waitress
    ini = write_cli_ini("\n[server:main]\nlisten = 127.0.0.1:8222 [::1]:8222\n")
    assert run_cli("serve", ini=ini).exit_code == 0
    assert run_cli("serve", "--port", "9000", ini=ini).exit_code == 0
    calls = [options for _, options in calls]
    assert calls == [{"listen": "127.0.0.1:8222 [::1]:8222"},
                     {"host": "127.0.0.1", "port": 9000}]


def test_worker_refuses_in_process_broker(run_cli):
    result = run_cli("worker")
    assert one_line_error(result).startswith(
        "Error: celery.broker_url is 'memory://', which lives inside the web process")


def test_worker_passes_arguments_to_celery(write_cli_ini, run_cli, migrated, monkeypatch,
                                           no_logging_setup):
    from celery import Celery

    calls = []
    monkeypatch.setattr(Celery, "worker_main", lambda self, argv: calls.append((self, argv)))
    ini = write_cli_ini("celery.broker_url = redis://127.0.0.1:6379/0\n"
                        "celery.task_always_eager = false")
    result = run_cli("worker", "--concurrency", "2", "-Q", "high", ini=ini)
    assert result.exit_code == 0, result.output
    [(app, argv)] = calls
    assert argv == ["worker", "--concurrency", "2", "-Q", "high", "--loglevel=INFO"]
    assert app.conf.broker_url == "redis://127.0.0.1:6379/0"
    assert app.conf.lms_registry.settings["celery.task_always_eager"] == "false"


def test_worker_warns_when_tasks_run_eagerly(write_cli_ini, run_cli, migrated, monkeypatch,
                                             no_logging_setup):
    from celery import Celery

    monkeypatch.setattr(Celery, "worker_main", lambda self, argv: None)
    ini = write_cli_ini("celery.broker_url = redis://127.0.0.1:6379/0")
    result = run_cli("worker", "-l", "DEBUG", ini=ini)
    assert result.exit_code == 0, result.output
    assert "celery.task_always_eager is true" in result.stderr


# -- the shipped ini files -----------------------------------------------------------

def _app_settings(path):
    import plaster

    return dict(plaster.get_settings(str(path), "app:main"))


def test_development_ini_documents_every_core_setting():
    from lms.settings import CORE_DEFAULTS

    settings = _app_settings(REPO_ROOT / "development.ini")
    assert set(CORE_DEFAULTS) <= set(settings)
    assert settings["sqlalchemy.url"] == f"sqlite:///{REPO_ROOT}/var/lms.sqlite"
    assert "dev-only" in settings["lms.secret_key"]
    assert "dev-only" in settings["jwt.secret_key"]
    server = dict(_server_section(REPO_ROOT / "development.ini"))
    assert (server["host"], server["port"]) == ("127.0.0.1", "18000")


def _server_section(path):
    import plaster

    return plaster.get_settings(str(path), "server:main")


def test_development_ini_bootstraps(tmp_path, monkeypatch):
    """What `make run` does before serving, on a scratch database."""
    monkeypatch.setenv("LMS_SQLALCHEMY_URL", "sqlite:///" + str(tmp_path / "dev.sqlite"))
    ini = str(REPO_ROOT / "development.ini")
    result = CliRunner().invoke(cli.main, ["--ini", ini, "bootstrap"])
    assert result.exit_code == 0, result.output
    assert "created superuser 'admin'" in result.output
    assert "curl -s -X POST http://127.0.0.1:18000/oauth2/access_token" in result.output


def test_production_ini_takes_secrets_from_the_environment(tmp_path, monkeypatch):
    from lms.settings import CORE_DEFAULTS

    ini = str(REPO_ROOT / "production.ini")
    settings = _app_settings(ini)
    assert set(CORE_DEFAULTS) <= set(settings)
    assert settings["lms.secret_key"] == settings["jwt.secret_key"] == ""
    assert settings["sqlalchemy.url"].startswith("postgresql+psycopg://")
    assert settings["celery.broker_url"].startswith("redis://")
    assert settings["celery.task_always_eager"] == "false"
    assert settings["session.cookie_secure"] == "true"

    result = CliRunner().invoke(cli.main, ["--ini", ini, "plugins"])
    assert one_line_error(result) == (
        "Error: configuration error: lms.secret_key must be set (in the .ini or LMS_SECRET_KEY)")

    monkeypatch.setenv("LMS_SECRET_KEY", "lms-secret-from-the-environment-32-bytes")
    monkeypatch.setenv("LMS_JWT_SECRET_KEY", "jwt-from-the-environment-32-bytes-long")
    monkeypatch.setenv("LMS_SQLALCHEMY_URL", "sqlite:///" + str(tmp_path / "prod.sqlite"))
    environment = cli.Environment(ini)
    try:
        assert environment.settings["lms.secret_key"] == "lms-secret-from-the-environment-32-bytes"
        from lms.tasks import celery_app

        assert celery_app(environment.registry).conf.task_always_eager is False
    finally:
        environment.close()


def _commands_plugin():
    module = types.ModuleType("commands_plugin")
    module.name, module.version, module.requires = "commandsplugin", "0.1", ()

    @click.command("say-users")
    @cli.pass_environment
    def say_users(environment):
        with environment.session() as db:
            click.echo(f"users: {db.scalar(select(func.count(User.id)))}")

    @hookimpl
    def lms_cli_commands():
        return [say_users]

    @hookimpl
    def lms_bootstrap(registry, dbsession, echo):
        if not dbsession.scalar(select(User).where(User.username == "bootstrapped")):
            dbsession.add(User(username="bootstrapped", email="b@example.com", name="",
                               password="!"))
            echo("commandsplugin: created 'bootstrapped'")

    module.lms_cli_commands, module.lms_bootstrap = lms_cli_commands, lms_bootstrap
    return module


def test_enabled_plugin_adds_commands(write_cli_ini, run_cli, add_plugins):
    add_plugins(_commands_plugin())
    ini = write_cli_ini()
    assert run_cli("migrate", ini=ini).exit_code == 0
    result = run_cli("say-users", ini=ini)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "users: 0"
    assert "say-users" in run_cli("--help", ini=ini).output


def test_disabled_plugin_commands_are_absent(write_cli_ini, run_cli, add_plugins):
    add_plugins(_commands_plugin())
    result = run_cli("say-users", ini=write_cli_ini("lms.plugins.disabled = commandsplugin"))
    assert result.exit_code == 2
    assert "No such command 'say-users'" in result.output


def test_bootstrap_runs_plugin_hooks_once(write_cli_ini, run_cli, add_plugins, query):
    add_plugins(_commands_plugin())
    ini = write_cli_ini()
    first = run_cli("bootstrap", ini=ini)
    assert first.exit_code == 0, first.output
    assert "commandsplugin: created 'bootstrapped'" in first.output
    second = run_cli("bootstrap", ini=ini)
    assert "commandsplugin: created" not in second.output
    assert len(query(select(User).where(User.username == "bootstrapped"))) == 1


# -- service accounts (lms_service_accounts) ---------------------------------------

def _service_plugin():
    module = types.ModuleType("service_plugin")
    module.name, module.version, module.requires = "serviceplugin", "0.1", ()

    @hookimpl
    def lms_service_accounts(registry):
        return {"reports": "reports_worker", "unused": ""}

    module.lms_service_accounts = lms_service_accounts
    return module


def test_bootstrap_creates_service_accounts_locked(write_cli_ini, run_cli, add_plugins, query):
    add_plugins(_service_plugin())
    ini = write_cli_ini("lms.plugins = serviceplugin")
    first = run_cli("bootstrap", ini=ini)
    assert first.exit_code == 0, first.output
    assert "created service user 'reports_worker' for reports (staff, no password;" in first.output
    [worker] = query(select(User.is_staff, User.is_superuser, User.is_active, User.password,
                            User.email).where(User.username == "reports_worker"))
    assert worker[:3] == (True, False, True)
    assert worker.password.startswith("!")  # unusable: no password ever matches
    assert not verify_password("", worker.password)[0]
    assert worker.email == "reports_worker@service.invalid"
    second = run_cli("bootstrap", ini=ini)
    assert "service user 'reports_worker' for reports exists" in second.output
    assert len(query(select(User.id).where(User.username == "reports_worker"))) == 1


def test_bootstrap_leaves_a_namesake_alone(write_cli_ini, run_cli, add_plugins, query):
    add_plugins(_service_plugin())
    ini = write_cli_ini("lms.plugins = serviceplugin")
    assert run_cli("migrate", ini=ini).exit_code == 0
    assert run_cli("create-user", "reports_worker", "squatter@example.com", "--password", "pw",
                   ini=ini).exit_code == 0
    result = run_cli("bootstrap", ini=ini)
    assert result.exit_code == 0, result.output
    assert ("warning: user 'reports_worker' exists but is not active staff, so it is not the "
            "reports service;") in result.output
    assert query(select(User.is_staff).where(User.username == "reports_worker")) == [(False,)]


def test_create_oauth_client_for_a_service(write_cli_ini, run_cli, add_plugins, query):
    add_plugins(_service_plugin())
    ini = write_cli_ini("lms.plugins = serviceplugin")
    assert run_cli("migrate", ini=ini).exit_code == 0
    result = run_cli("create-oauth-client", "reports", "--service", "reports", ini=ini)
    assert result.exit_code == 0, result.output
    assert "created service user 'reports_worker' for reports (staff, no password)" in (
        result.output)
    assert "created OAuth client 'reports' (client-credentials) for 'reports_worker'" in (
        result.output)
    [(owner, staff, password)] = query(
        select(User.username, User.is_staff, User.password)
        .join(OAuthApplication, OAuthApplication.user_id == User.id))
    assert (owner, staff, password[0]) == ("reports_worker", True, "!")
    again = run_cli("create-oauth-client", "reports2", "--service", "reports", "--json",
                    ini=ini)
    assert again.exit_code == 0, again.output
    assert len(query(select(OAuthApplication.id))) == 2
    assert len(query(select(User.id))) == 1


def test_create_oauth_client_service_errors(write_cli_ini, run_cli, add_plugins, query):
    add_plugins(_service_plugin())
    ini = write_cli_ini("lms.plugins = serviceplugin")
    assert run_cli("migrate", ini=ini).exit_code == 0
    assert one_line_error(run_cli("create-oauth-client", "x", "--service", "nope", ini=ini)) == (
        "Error: no enabled plugin declares a service 'nope' (services: reports)")
    both = run_cli("create-oauth-client", "x", "--service", "reports", "--user", "a", ini=ini)
    assert both.exit_code == 2
    assert "give either --user USERNAME or --service SERVICE" in both.output
    assert run_cli("create-user", "reports_worker", "squatter@example.com", "--password", "pw",
                   ini=ini).exit_code == 0
    refused = run_cli("create-oauth-client", "x", "--service", "reports", ini=ini)
    assert one_line_error(refused).startswith(
        "Error: user 'reports_worker' exists but is not active staff, so it is not the reports "
        "service;")
    assert query(select(OAuthApplication.id)) == []


def test_settings_lists_effective_values_and_masks_secrets(run_cli, monkeypatch):
    monkeypatch.setenv("LMS_PLATFORM_NAME", "Env Academy")
    result = run_cli("settings")
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[2:]}
    assert "Env Academy" in lines["lms.platform_name"]
    assert "LMS_PLATFORM_NAME" in lines["lms.platform_name"]
    assert "********" in lines["lms.secret_key"]
    assert "test-secret" not in result.output
    only = run_cli("settings", "--prefix", "jwt.").output.splitlines()[2:]
    assert only and all(line.startswith("jwt.") for line in only)
