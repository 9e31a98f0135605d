"""Database: declarative base, engine, and the per-request transactional session."""
import contextlib
import os
import weakref

import zope.sqlalchemy
from pyramid.exceptions import ConfigurationError
from sqlalchemy import MetaData, engine_from_config, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Base of every model, core and plugins alike (one MetaData)."""

    metadata = metadata


def _sqlite_pragmas(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_savepoint(connection, name):
    # pysqlite opens a transaction only before the first INSERT/UPDATE/DELETE.
    # A SAVEPOINT issued before that would start one itself, and releasing it
    # would commit: make sure the real transaction is open first.
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


# Engines of this process. A process forked after making one (``gunicorn --preload``,
# Celery's prefork pool) must not reuse the parent's pooled connections: two processes
# talking over one socket mix their answers. The child forgets them (without closing
# them, which would end the parent's too) and opens its own.
_engines = weakref.WeakSet()


def _forget_pooled_connections_in_child():
    for engine in list(_engines):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pooled_connections_in_child)


def make_engine(settings):
    url = settings.get("sqlalchemy.url")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(f"sqlalchemy.url {url!r} is not a valid database URL")
    options = {"sqlalchemy.url": url}
    for key, value in settings.items():
        if key.startswith("sqlalchemy.") and key != "sqlalchemy.url":
            options[key] = value
    if parsed.drivername == "postgresql":
        # psycopg 3 is the supported driver; plain postgresql:// would mean psycopg2.
        options["sqlalchemy.url"] = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        directory = os.path.dirname(os.path.abspath(parsed.database))
        os.makedirs(directory, exist_ok=True)
    try:
        engine = engine_from_config(options, "sqlalchemy.")
    except ImportError as exc:
        hint = (" (install the driver: pip install 'openlms[postgresql]')"
                if parsed.get_backend_name() == "postgresql" else "")
        raise ConfigurationError(f"cannot use database URL {url!r}: {exc}{hint}")
    except ArgumentError as exc:
        raise ConfigurationError(f"cannot use database URL {url!r}: {exc}")
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_savepoint)
    _engines.add(engine)
    return engine


def get_session_factory(engine, registry=None):
    # A session knows its instance (``session.info["lms.registry"]``): code given only a
    # session (commands, tasks) reaches the instance's settings, e.g. its password hashing.
    return sessionmaker(bind=engine, expire_on_commit=False, info={"lms.registry": registry})


# Tests run each case inside one connection's transaction, rolled back at the end
# (lms.testing): the app's sessions then join it, each commit a savepoint.
BOUND_CONNECTION_KEY = "lms.db.bound_connection"


def bind_to_connection(registry, connection):
    """Make every session of this app join ``connection``'s open transaction, its
    commits releasing savepoints (the test fixtures roll the whole case back)."""
    registry["lms.dbsession_factory"].configure(bind=connection,
                                                join_transaction_mode="create_savepoint")
    registry[BOUND_CONNECTION_KEY] = connection


def unbind(registry):
    """Undo :func:`bind_to_connection`: sessions use the engine again."""
    registry["lms.dbsession_factory"].configure(bind=registry["lms.engine"],
                                                join_transaction_mode="conditional_savepoint")
    registry.pop(BOUND_CONNECTION_KEY, None)


@contextlib.contextmanager
def separate_transaction(registry):
    """A transaction of its own, committed when the block ends whatever becomes of the
    request's (a throttle hit counts even when the request fails). Yields a connection.

    Under :func:`bind_to_connection` it is a savepoint of the test's transaction, which
    a failing request's rollback may undo: tests of such writes commit for real."""
    connection = registry.get(BOUND_CONNECTION_KEY)
    if connection is None:
        with registry["lms.engine"].begin() as conn:
            yield conn
    else:
        with connection.begin_nested():
            yield connection


def separate_session(registry):
    """A session outside the request's transaction: it reads what is committed."""
    connection = registry.get(BOUND_CONNECTION_KEY)
    if connection is None:
        return Session(registry["lms.engine"])
    return Session(bind=connection, join_transaction_mode="create_savepoint")


def get_tm_session(session_factory, transaction_manager, request=None):
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    config.include("pyramid_tm")
    engine = config.registry.get("lms.engine") or make_engine(settings)
    config.registry["lms.engine"] = engine
    session_factory = get_session_factory(engine, config.registry)
    config.registry["lms.dbsession_factory"] = session_factory

    def dbsession(request):
        # Tests may hand in a session through the environ.
        session = request.environ.get("lms.dbsession")
        if session is None:
            session = get_tm_session(session_factory, request.tm, request=request)
        return session

    config.add_request_method(dbsession, reify=True)


from datetime import timezone as _tz  # noqa: E402

from sqlalchemy import DateTime  # noqa: E402
from sqlalchemy.types import TypeDecorator  # noqa: E402


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=_tz.utc)
        value = value.astimezone(_tz.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=_tz.utc)
        return value
