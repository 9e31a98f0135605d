"""The ``lms`` command: run, migrate and administer an openlms instance.

Every command reads the application from an ``.ini`` file (``--ini``, the
``LMS_INI`` environment variable, or ``development.ini``). Errors an operator
can fix (missing file, bad database URL, unreachable database, plugin
configuration, unknown user) are reported on one line with a non-zero exit.
"""
import contextlib
import csv
import json
import os
import secrets

import click
from pyramid.exceptions import ConfigurationError, ConfigurationExecutionError
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.engine import make_url

DEFAULT_INI = "development.ini"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 18000
GRANT_TYPES = ("client-credentials", "password", "authorization-code")
BOOTSTRAP_CLIENT_NAME = "openlms-bootstrap"


def one_line(text):
    return " ".join(str(text).split())


def configuration_message(exc):
    """Pyramid wraps errors raised inside config actions; show the cause."""
    if isinstance(exc, ConfigurationExecutionError):
        return f"{exc.etype.__name__}: {exc.evalue}"
    return str(exc)


class Environment:
    """The application an ``.ini`` file describes, loaded on first use."""

    def __init__(self, ini):
        self.ini = ini
        self.path = ini.split("#", 1)[0]
        self._app = None

    def load(self):
        if self._app is None:
            if not os.path.isfile(self.path):
                raise click.ClickException(f"configuration file {self.path!r} not found")
            from pyramid.paster import get_app

            from lms import CLI_LOADING

            try:
                # Commands check migrations where it matters (`serve`) or run them.
                self._app = get_app(self.ini, options={CLI_LOADING: "true"})
            except (ConfigurationError, click.ClickException):
                raise
            except Exception as exc:  # a broken .ini or plugin import: say which, briefly
                raise click.ClickException(
                    f"cannot load the application from {self.path!r}: "
                    f"{type(exc).__name__}: {one_line(exc)}")
        return self._app

    @property
    def app(self):
        return self.load()

    @property
    def registry(self):
        return self.load().registry

    @property
    def settings(self):
        return self.registry.settings

    @contextlib.contextmanager
    def session(self):
        """A database session committed at the end, rolled back on any error."""
        db = self.registry["lms.dbsession_factory"]()
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()

    def close(self):
        if self._app is not None:
            self.registry["lms.engine"].dispose()

    def database_label(self):
        url = self.settings.get("sqlalchemy.url", "")
        try:
            return make_url(url).render_as_string(hide_password=True)
        except sa_exc.ArgumentError:
            return url


def missing_table(error):
    """True when the driver says a table does not exist (SQLite or PostgreSQL)."""
    return "no such table" in str(error) or type(error).__name__ == "UndefinedTable"


class LMSGroup(click.Group):
    """Turns the errors an operator can fix into one line and exit status 1.

    Also offers the commands of the instance's enabled plugins (the
    ``lms_cli_commands`` hook), found from the ``--ini`` file.
    """

    def plugin_commands(self, ctx):
        if "lms.plugin_commands" in ctx.meta:
            return ctx.meta["lms.plugin_commands"]
        commands = {}
        ini = (ctx.params.get("ini") or DEFAULT_INI).split("#", 1)[0]
        if os.path.isfile(ini):
            import plaster

            from lms import load_settings
            from lms.plugins import hookimpl_of

            settings = dict(plaster.get_settings(ini, "app:main"))
            _, _, enabled = load_settings(settings)
            for info in enabled:
                hook = hookimpl_of(info, "lms_cli_commands")
                for command in (hook() if hook else None) or ():
                    if command.name in self.commands or command.name in commands:
                        raise ConfigurationError(
                            f"plugin {info.name!r} adds a command {command.name!r} that exists")
                    commands[command.name] = command
        ctx.meta["lms.plugin_commands"] = commands
        return commands

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        try:
            return self.plugin_commands(ctx).get(name)
        except ConfigurationError as exc:
            raise click.ClickException(
                "configuration error: " + one_line(configuration_message(exc)))

    def list_commands(self, ctx):
        names = list(super().list_commands(ctx))
        try:
            names += sorted(self.plugin_commands(ctx))
        except Exception:  # help must work even when the .ini is broken
            pass
        return names

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            raise click.ClickException(
                "configuration error: " + one_line(configuration_message(exc)))
        except sa_exc.DBAPIError as exc:
            environment = ctx.obj
            where = environment.database_label() if environment else "the database"
            cause = exc.orig if exc.orig is not None else exc
            hint = " (run `lms migrate` first)" if missing_table(cause) else ""
            raise click.ClickException(f"database error ({where}): {one_line(cause)}{hint}")
        except sa_exc.SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {one_line(exc)}")


pass_environment = click.make_pass_decorator(Environment)


@click.group(cls=LMSGroup)
@click.option("--ini", envvar="LMS_INI", default=DEFAULT_INI, show_default=True,
              help="The .ini file of the instance (env: LMS_INI).")
@click.version_option(package_name="openlms", prog_name="lms")
@click.pass_context
def main(ctx, ini):
    """Operate an openlms instance."""
    environment = Environment(ini)
    ctx.obj = environment
    ctx.call_on_close(environment.close)


def setup_logging(ini):
    from pyramid.paster import setup_logging as paster_setup_logging

    paster_setup_logging(ini)


# -- serve / worker ----------------------------------------------------------

ALLOW_PENDING_HELP = ("Start even though the database lacks migrations (experts: calls "
                      "that need the missing tables fail, and /heartbeat says so).")


def refuse_pending_migrations(environment, allow_pending, how):
    """One line naming the pending branches, unless --allow-pending or
    lms.allow_pending_migrations; ``how`` completes "or ... with --allow-pending"."""
    from lms.migrate import pending_message
    from lms.settings import as_bool

    if allow_pending or as_bool(environment.settings, "lms.allow_pending_migrations"):
        return
    message = pending_message(environment.registry)
    if message:
        raise click.ClickException(
            f"{message}: run `lms --ini {environment.path} migrate` first "
            f"(or {how} with --allow-pending)")


def server_settings(environment):
    """The ``[server:main]`` section of the ini, if there is one."""
    import plaster

    try:
        return dict(plaster.get_settings(environment.ini.split("#", 1)[0], "server:main"))
    except Exception:  # no such section: use the defaults
        return {}


def listen_options(environment, host, port):
    """waitress settings: ``[server:main]`` (waitress parses its strings), then the options."""
    from waitress.adjustments import Adjustments

    known = {name for name, _ in Adjustments._params}
    options = {key: value for key, value in server_settings(environment).items()
               if key in known}
    if host or port:
        options.pop("listen", None)
    if host or "listen" not in options:
        options["host"] = host or options.get("host") or DEFAULT_HOST
    if port or "listen" not in options:
        try:
            options["port"] = port or int(options.get("port") or DEFAULT_PORT)
        except ValueError:
            raise click.ClickException(
                f"[server:main] port {options['port']!r} is not a port number")
    return options


def create_server(app, options):
    """Bind the sockets now, so that a busy port or a bad host is one line."""
    from waitress.server import create_server as waitress_server

    where = options.get("listen") or f"{options.get('host')}:{options.get('port')}"
    try:
        return waitress_server(app, **options)
    except OSError as exc:  # port in use, address not on this machine, no permission
        raise click.ClickException(f"cannot listen on {where}: {exc.strerror or exc}")
    except ValueError as exc:  # waitress cannot resolve the host or refuses a setting
        raise click.ClickException(f"cannot listen on {where}: {one_line(exc)}")


def server_urls(server):
    """The addresses the server really listens on (a multi-socket server has several)."""
    addresses = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)]
    urls = []
    for host, port in addresses:
        if host == "unix":
            urls.append(f"unix:{port}")
        else:
            urls.append(f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}")
    return urls


@main.command()
@click.option("--host", help=f"Interface to listen on [default: ini or {DEFAULT_HOST}].")
@click.option("--port", type=click.IntRange(1, 65535),
              help=f"Port to listen on [default: ini or {DEFAULT_PORT}].")
@click.option("--allow-pending", is_flag=True, help=ALLOW_PENDING_HELP)
@pass_environment
def serve(environment, host, port, allow_pending):
    """Serve the application with waitress.

    Refuses a database with pending migrations (run `lms migrate`) unless
    --allow-pending or lms.allow_pending_migrations is set.
    """
    import logging

    app = environment.app
    refuse_pending_migrations(environment, allow_pending, "serve")
    setup_logging(environment.ini)
    server = create_server(app, listen_options(environment, host, port))
    log = logging.getLogger(__name__)
    for url in server_urls(server):
        if log.isEnabledFor(logging.INFO):
            log.info("openlms serving on %s", url)
        else:  # an .ini whose logging hides it: the operator still learns the address
            click.echo(f"openlms serving on {url}", err=True)
    server.run()


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--allow-pending", is_flag=True, help=ALLOW_PENDING_HELP)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_environment
def worker(environment, allow_pending, celery_args):
    """Run a Celery worker for this instance; extra arguments go to Celery.

    Refuses a database with pending migrations (run `lms migrate`) unless
    --allow-pending or lms.allow_pending_migrations is set.

    Example: lms worker --concurrency 4 -Q celery
    """
    from lms.heartbeat import broker_url
    from lms.settings import as_bool

    settings = environment.settings
    if broker_url(settings) is None:
        raise click.ClickException(
            f"celery.broker_url is {settings.get('celery.broker_url')!r}, which lives inside "
            "the web process; point it at a real broker (e.g. redis://127.0.0.1:6379/0)")
    refuse_pending_migrations(environment, allow_pending, "start the worker")
    if as_bool(settings, "celery.task_always_eager"):
        click.echo("warning: celery.task_always_eager is true, so the web process runs "
                   "tasks itself and this worker will receive none", err=True)
    setup_logging(environment.ini)
    argv = ["worker"] + list(celery_args)
    if not any(arg in ("-l", "--loglevel") or arg.startswith("--loglevel=")
               for arg in celery_args):
        argv.append("--loglevel=INFO")
    from lms.tasks import celery_app

    celery_app(environment.registry).worker_main(argv)


# -- database ----------------------------------------------------------------

def _applied_revisions(script, heads):
    """Every revision at or below ``heads`` (what the database has applied)."""
    applied = set()
    for head in heads:
        for revision in script.iterate_revisions(head, "base"):
            applied.add(revision.revision)
    return applied


def run_migrations(environment):
    """Upgrade the core and enabled plugins; return the revisions that ran, oldest first."""
    from alembic.script import ScriptDirectory

    from lms import migrate

    registry = environment.registry
    settings, installed = registry.settings, registry["lms.plugins"]
    enabled, engine = registry["lms.enabled_plugins"], registry["lms.engine"]
    script = ScriptDirectory.from_config(migrate.alembic_config(settings, installed, engine))
    before = _applied_revisions(script, migrate.current_heads(settings, installed, engine))
    branches = migrate.upgrade(settings, installed, enabled, engine=engine)
    after = _applied_revisions(script, migrate.current_heads(settings, installed, engine))
    ran = [rev for rev in reversed(list(script.walk_revisions()))
           if rev.revision in after - before]
    return branches, ran


def report_migrations(branches, ran):
    for revision in ran:
        label = ",".join(sorted(revision.branch_labels or ())) or "-"
        doc = one_line(revision.doc or "")
        click.echo(f"applied {revision.revision} ({label}) {doc}".rstrip())
    if not ran:
        click.echo(f"database is up to date (branches: {', '.join(branches)})")
    else:
        click.echo(f"{len(ran)} migration(s) applied (branches: {', '.join(branches)})")


@main.command()
@pass_environment
def migrate(environment):
    """Upgrade the database: the core, then each enabled plugin's branch."""
    report_migrations(*run_migrations(environment))


# -- users, roles, OAuth clients ----------------------------------------------

def find_user(db, username):
    from lms.users import get_by_username

    user = get_by_username(db, username)
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


def make_user(environment, db, username, email, password, staff=False, superuser=False):
    from lms.models import User
    from lms.users import UserError, create_user, validate_username

    try:
        validate_username(username)
    except UserError as exc:
        raise click.ClickException(str(exc))
    if "@" not in email:
        raise click.ClickException(f"{email!r} is not a valid email address")
    clash = db.scalar(select(User).where((User.username == username) | (User.email == email)))
    if clash is not None:
        if clash.username == username:
            raise click.ClickException(f"a user named {username!r} already exists")
        raise click.ClickException(f"a user with email {email!r} already exists")
    return create_user(db, username=username, email=email, password=password,
                       is_staff=staff or superuser, is_superuser=superuser,
                       pm=environment.registry["lms.plugin_manager"])


@main.command("create-user")
@click.argument("username")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when omitted.")
@click.option("--staff", is_flag=True, help="Global staff (is_staff).")
@click.option("--superuser", is_flag=True, help="Superuser (implies --staff).")
@pass_environment
def create_user_command(environment, username, email, password, staff, superuser):
    """Create a user account."""
    with environment.session() as db:
        user = make_user(environment, db, username, email, password, staff, superuser)
        kind = "superuser" if superuser else "staff user" if staff else "user"
        message = f"created {kind} {user.username!r} (id {user.id})"
    click.echo(message)


SERVICE_EMAIL_DOMAIN = "service.invalid"  # reserved TLD: no mail ever reaches it


def service_accounts(environment):
    """``{service: username}`` declared by the enabled plugins (``lms_service_accounts``)."""
    found = {}
    hook = environment.registry["lms.plugin_manager"].hook.lms_service_accounts
    for answer in hook(registry=environment.registry):
        found.update({service: username for service, username in (answer or {}).items()
                      if username})
    return found


def service_user(environment, db, service, username):
    """``(user, created)``: the locked service account, created when missing.

    An existing account is used only when it is active staff: a namesake someone
    registered must not receive the service's credentials.
    """
    from lms.users import get_by_username

    user = get_by_username(db, username)
    if user is None:
        email = f"{username}@{SERVICE_EMAIL_DOMAIN}"
        return make_user(environment, db, username, email, password=None, staff=True), True
    if not (user.is_active and user.is_staff):
        raise click.ClickException(
            f"user {username!r} exists but is not active staff, so it is not the {service} "
            "service; check who created it (rename or delete it), then run this again")
    return user, False


def make_oauth_client(db, *, name, user, grant_type, client_id=None, client_secret=None,
                      public=False, scopes=None, redirect_uris=""):
    from lms.models import OAuthApplication
    from lms.oauth import create_application

    if client_id and db.scalar(select(OAuthApplication.id)
                               .where(OAuthApplication.client_id == client_id)):
        raise click.ClickException(f"an OAuth client with client_id {client_id!r} already exists")
    try:
        application, secret = create_application(
            db, name=name, user=user, grant_type=grant_type, client_id=client_id,
            client_secret=client_secret, scopes=scopes, public=public,
            redirect_uris=redirect_uris)
    except ValueError as exc:
        raise click.ClickException(one_line(exc))
    return application, secret


@main.command("create-oauth-client")
@click.argument("name")
@click.option("--user", "username", help="The user who owns the client.")
@click.option("--service", help="Or a service account declared by a plugin (e.g. retirement): "
                                "created locked (staff, no password) when missing.")
@click.option("--grant-type", type=click.Choice(GRANT_TYPES), default="client-credentials",
              show_default=True)
@click.option("--client-id", help="Default: generated.")
@click.option("--client-secret", help="Default: generated (confidential clients).")
@click.option("--public", is_flag=True, help="A public client (no secret), e.g. mobile apps.")
@click.option("--scope", "scopes", multiple=True, help="An allowed scope (repeatable).")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="A redirect URI (repeatable; authorization-code clients).")
@click.option("--json", "as_json", is_flag=True, help="Print {client_id, client_secret} as JSON.")
@pass_environment
def create_oauth_client(environment, name, username, service, grant_type, client_id,
                        client_secret, public, scopes, redirect_uris, as_json):
    """Create an OAuth2 client; its secret is shown only now."""
    if bool(username) == bool(service):
        raise click.UsageError("give either --user USERNAME or --service SERVICE")
    services = service_accounts(environment) if service else {}
    if service and service not in services:
        raise click.ClickException(
            f"no enabled plugin declares a service {service!r} "
            f"(services: {', '.join(sorted(services)) or 'none'})")
    created = False
    with environment.session() as db:
        if service:
            username = services[service]
            user, created = service_user(environment, db, service, username)
        else:
            user = find_user(db, username)
        application, secret = make_oauth_client(
            db, name=name, user=user, grant_type=grant_type, client_id=client_id,
            client_secret=client_secret, public=public, scopes=list(scopes) or None,
            redirect_uris=" ".join(redirect_uris))
        result = {"client_id": application.client_id, "client_secret": secret}
    if as_json:
        click.echo(json.dumps(result))
        return
    if created:
        click.echo(f"created service user {username!r} for {service} (staff, no password)")
    click.echo(f"created OAuth client {name!r} ({grant_type}) for {username!r}")
    click.echo(f"client_id:     {result['client_id']}")
    if secret:
        click.echo(f"client_secret: {secret}")
        click.echo("(the secret is shown only now: only its hash is stored)")


@main.command("grant-role")
@click.argument("username")
@click.argument("role")
@click.option("--course", "course", help="A course key, e.g. course-v1:edX+DemoX+Demo_Course.")
@click.option("--org", help="An organization: the role covers all its courses.")
@pass_environment
def grant_role_command(environment, username, role, course, org):
    """Grant a course, organization or global role to a user."""
    from lms.keys import parse_course_key
    from lms.permissions import ALL_ROLES, GLOBAL_ROLES, ORG_ROLES, grant_role

    if role not in ALL_ROLES:
        raise click.ClickException(
            f"unknown role {role!r} (one of: {', '.join(ALL_ROLES)})")
    if course and org:
        raise click.ClickException("give either --course or --org, not both")
    if role in GLOBAL_ROLES and (course or org):
        raise click.ClickException(f"{role!r} is a global role: give neither --course nor --org")
    if role in ORG_ROLES and not org:
        raise click.ClickException(f"{role!r} is an organization role: give --org")
    if role not in GLOBAL_ROLES and not (course or org):
        raise click.ClickException(f"{role!r} needs --course KEY or --org ORG")
    course_key = None
    if course:
        course_key = parse_course_key(course)
        if course_key is None:
            raise click.ClickException(f"{course!r} is not a valid course key")
    with environment.session() as db:
        user = find_user(db, username)
        grant_role(db, user, role, course_key=course_key, org=org)
    scope = (f"course {course_key}" if course_key else f"org {org}" if org else "global")
    click.echo(f"granted {role!r} to {username!r} ({scope})")


# -- plugins and spec coverage -------------------------------------------------

def format_table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = []
    for row in [headers] + rows:
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    return "\n".join(lines)


@main.command()
@pass_environment
def plugins(environment):
    """List installed plugins: version, enabled or not, requirements, routes."""
    from lms.operator import plugin_rows

    rows = [[row["name"], row["version"], "enabled" if row["enabled"] else "disabled",
             "built-in" if row["builtin"] else "entry point",
             ", ".join(row["requires"]) or "-", row["routes"]]
            for row in plugin_rows(environment.registry)]
    click.echo(format_table(["NAME", "VERSION", "STATUS", "SOURCE", "REQUIRES", "ROUTES"], rows))


SECRET_WORDS = ("secret", "password", "api_key", "private")


@main.command("settings")
@click.option("--prefix", default="", help="Only keys starting with this, e.g. 'accounts.'.")
@pass_environment
def settings_command(environment, prefix):
    """Print every effective setting (defaults, .ini, environment); secrets masked."""
    from lms.settings import env_name

    settings = environment.settings
    rows = []
    for key in sorted(settings):
        if "." not in key or not key.startswith(prefix):
            continue  # Pyramid's own keys (debug_*, reload_*) carry no dot
        value = str(settings[key])
        if value and any(word in key for word in SECRET_WORDS):
            value = "********"
        rows.append([key, value.replace("\n", " "), env_name(key)])
    click.echo(format_table(["SETTING", "VALUE", "ENVIRONMENT VARIABLE"], rows))


def read_operations(path):
    """``[(METHOD, path)]`` from a TSV whose header's first two columns are method and path."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if row and any(row)]
    if not rows:
        raise click.ClickException(f"{path!r} is empty")
    header = [cell.strip().lower() for cell in rows[0][:2]]
    if header != ["method", "path"]:
        raise click.ClickException(
            f"{path!r}: the header must start with the columns 'method' and 'path'")
    found, seen = [], set()
    for number, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise click.ClickException(f"{path!r} line {number}: expected a method and a path")
        operation = (row[0].strip().upper(), row[1].strip())
        if operation not in seen:
            seen.add(operation)
            found.append(operation)
    return found


def coverage_report(wanted, served):
    """``(served_wanted, missing, extra)`` where placeholder names are wildcards."""
    from lms.openapi import path_shape

    served_shapes = {(method, path_shape(path)) for method, path in served}
    wanted_shapes = {(method, path_shape(path)) for method, path in wanted}
    hits = [op for op in wanted if (op[0], path_shape(op[1])) in served_shapes]
    missing = [op for op in wanted if (op[0], path_shape(op[1])) not in served_shapes]
    extra = [op for op in served if (op[0], path_shape(op[1])) not in wanted_shapes]
    return hits, missing, extra


# The Open edX LMS REST API's operations (method, path, area, plugin), shipped as package data.
OPEN_EDX_OPERATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "data", "operations.tsv")


@main.command()
@click.option("--operations", "operations_file", type=click.Path(exists=True, dir_okay=False),
              help="TSV of the operations to serve (header: method, path, ...); "
                   "default: the Open edX LMS operations that openlms ships.")
@click.option("--show", type=click.Choice(["all", "served", "missing", "none"]), default="all",
              show_default=True, help="Which operations to list before the total.")
@pass_environment
def coverage(environment, operations_file, show):
    """How many of the Open edX LMS operations (or the listed ones) the enabled plugins serve."""
    from lms.openapi import openapi_path, operations

    wanted = read_operations(operations_file or OPEN_EDX_OPERATIONS)
    served = operations(environment.registry)
    hits, missing, extra = coverage_report(wanted, served)
    hit_set = set(hits)
    width = max([len(method) for method, _ in wanted] + [6])
    for method, path in wanted:
        status = "served" if (method, path) in hit_set else "missing"
        if show in ("all", status):
            click.echo(f"{status:<8}{method:<{width + 1}}{path}")
    if show == "all":
        for method, path in extra:
            if path.startswith("/api/"):
                click.echo(f"{'extra':<8}{method:<{width + 1}}{openapi_path(path)}")
    total = len(wanted)
    percent = 100.0 * len(hits) / total if total else 0.0
    click.echo(f"{len(hits)}/{total} operations served ({percent:.1f}%)")


# -- bootstrap -----------------------------------------------------------------

@main.command()
@click.option("--username", default="admin", show_default=True)
@click.option("--email", default="admin@example.com", show_default=True)
@click.option("--sample-course/--no-sample-course", default=None,
              help="Let plugins import their sample content (the courses plugin's sample "
                   "course) [default: the lms.bootstrap_sample_course setting].")
@pass_environment
def bootstrap(environment, username, email, sample_course):
    """Migrate, then create an admin superuser and an OAuth client (first run only),
    and the plugins' service accounts, locked (staff, no password); with
    --sample-course, plugins import their sample content."""
    from lms.models import OAuthApplication
    from lms.settings import as_bool
    from lms.users import get_by_username

    if sample_course is None:
        sample_course = as_bool(environment.settings, "lms.bootstrap_sample_course")

    report_migrations(*run_migrations(environment))
    base_url = environment.settings.get("lms.base_url", "").rstrip("/")
    with environment.session() as db:
        user = get_by_username(db, username)
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = make_user(environment, db, username, email, password, superuser=True)
        client = db.scalar(select(OAuthApplication).where(
            OAuthApplication.name == BOOTSTRAP_CLIENT_NAME, OAuthApplication.user_id == user.id))
        secret = None
        if client is None:
            client, secret = make_oauth_client(db, name=BOOTSTRAP_CLIENT_NAME, user=user,
                                               grant_type="client-credentials")
        client_id, is_superuser = client.client_id, user.is_superuser
    if password:
        click.echo(f"created superuser {username!r} with password: {password}")
    elif is_superuser:
        click.echo(f"superuser {username!r} exists (password unchanged)")
    else:
        click.echo(f"user {username!r} exists but is not a superuser (left unchanged)")
    if secret:
        click.echo(f"created OAuth client {BOOTSTRAP_CLIENT_NAME!r} (client-credentials):")
        click.echo(f"  client_id:     {client_id}")
        click.echo(f"  client_secret: {secret}")
        click.echo("get a token:")
        click.echo(f"  curl -s -X POST {base_url}/oauth2/access_token"
                   f" -d grant_type=client_credentials -d client_id={client_id}"
                   f" -d client_secret={secret} -d token_type=jwt")
    else:
        click.echo(f"OAuth client {BOOTSTRAP_CLIENT_NAME!r} exists (client_id {client_id}; "
                   "its secret was shown when it was created)")
    bootstrap_service_accounts(environment)
    with environment.session() as db:
        environment.registry["lms.plugin_manager"].hook.lms_bootstrap(
            registry=environment.registry, dbsession=db, echo=click.echo,
            sample_course=sample_course)


def bootstrap_service_accounts(environment):
    """Create the plugins' missing service accounts, locked (staff, no password)."""
    for service, username in sorted(service_accounts(environment).items()):
        try:
            with environment.session() as db:
                _, created = service_user(environment, db, service, username)
        except click.ClickException as exc:  # a namesake: report it, change nothing
            click.echo(f"warning: {exc.message}")
            continue
        if created:
            click.echo(f"created service user {username!r} for {service} (staff, no password; "
                       f"give it a client with `lms create-oauth-client NAME --service "
                       f"{service}`)")
        else:
            click.echo(f"service user {username!r} for {service} exists")


if __name__ == "__main__":  # pragma: no cover
    main()
