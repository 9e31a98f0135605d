"""Alembic environment: one version table, several branches (core + plugins)."""
from alembic import context
from sqlalchemy import text

import lms.models  # noqa: F401  (core tables on the metadata)
from lms.db import metadata

config = context.config


def _load_plugin_models():
    installed = config.attributes.get("installed") or {}
    import importlib

    for info in installed.values():
        try:
            importlib.import_module(info.module.__name__ + ".models")
        except ModuleNotFoundError as exc:
            if exc.name != info.module.__name__ + ".models":
                raise


def run_migrations_online():
    _load_plugin_models()
    engine = config.attributes.get("engine")
    if engine is None:
        from lms.db import make_engine

        engine = make_engine({"sqlalchemy.url": config.get_main_option("sqlalchemy.url")})
    with engine.connect() as connection:
        is_postgres = connection.dialect.name == "postgresql"
        if is_postgres:
            # Several workers may start at once: one migrates, the others wait.
            connection.execute(text("SELECT pg_advisory_lock(4201867)"))
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if is_postgres:
                connection.execute(text("SELECT pg_advisory_unlock(4201867)"))
                connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `lms migrate`")
run_migrations_online()
