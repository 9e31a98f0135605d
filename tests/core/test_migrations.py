"""Models and migrations agree, and every plugin keeps to its own name.

The session ``engine`` is migrated with every installed plugin (lms.testing);
the suite runs on SQLite and on PostgreSQL, so both are compared.
"""
import importlib
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, inspect, text
from sqlalchemy.schema import CreateIndex

from lms import migrate
from lms.db import make_engine, metadata
from lms.plugins import discover, select


def import_all_models(installed):
    """Put the tables of the core and of every installed plugin on the metadata."""
    importlib.import_module("lms.models")
    modules = {}
    for info in installed.values():
        name = info.module.__name__ + ".models"
        try:
            modules[info.name] = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def plugin_tables(models_module):
    """Names of the tables mapped by classes defined in ``models_module``."""
    tables = set()
    for value in vars(models_module).values():
        table = getattr(value, "__table__", None)
        if table is not None and getattr(value, "__module__", None) == models_module.__name__:
            tables.add(table.name)
    return tables


@pytest.fixture(scope="module")
def installed():
    return discover()


# SQLite cannot reflect expression indexes, so Alembic skips them there (with these
# warnings): test_expression_indexes_agree_on_sqlite compares them instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_models_and_migrations_agree(engine, installed):
    import_all_models(installed)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True,
            "render_as_batch": connection.dialect.name == "sqlite",
        })
        diff = compare_metadata(context, metadata)
    assert diff == []


def for_sqlite(index):
    """False for an index created on other databases only (``.ddl_if(dialect=...)``)."""
    condition = getattr(index, "_ddl_if", None)
    dialect = getattr(condition, "dialect", None)
    return dialect is None or dialect == "sqlite" or (
        not isinstance(dialect, str) and "sqlite" in dialect)


def test_expression_indexes_agree_on_sqlite(engine, installed):
    """Each model index on an expression exists, with the same SQL, in the migrated database."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL: compared by test_models_and_migrations_agree")
    import_all_models(installed)
    expected = {index.name: str(CreateIndex(index).compile(dialect=engine.dialect))
                for table in metadata.sorted_tables for index in table.indexes
                if any(not isinstance(expression, Column) for expression in index.expressions)
                and for_sqlite(index)}
    assert expected
    with engine.connect() as connection:
        migrated = dict(connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all())

    def normalized(sql):
        return " ".join((sql or "").replace("(", " ( ").replace(")", " ) ").split())

    for name, sql in expected.items():
        assert normalized(migrated.get(name)) == normalized(sql), name


def test_every_plugin_table_was_migrated(engine, installed):
    import_all_models(installed)
    existing = set(inspect(engine).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= existing


def test_plugin_revisions_carry_the_plugin_name_as_branch(installed):
    config = migrate.alembic_config({"sqlalchemy.url": "sqlite://"}, installed)
    script = ScriptDirectory.from_config(config)
    checked = set()
    for info in installed.values():
        if not info.migrations_path:
            continue
        directory = os.path.realpath(info.migrations_path)
        revisions = [rev for rev in script.walk_revisions()
                     if os.path.dirname(os.path.realpath(rev.path)) == directory]
        assert revisions, f"{info.name}: migrations/versions holds no revision"
        bases = [rev for rev in revisions if rev.down_revision is None]
        assert len(bases) == 1, f"{info.name}: its branch must have exactly one base"
        declared = bases[0].module.branch_labels
        declared = (declared,) if isinstance(declared, str) else tuple(declared or ())
        assert info.name in declared, \
            f"{info.name}: its first revision must declare branch_labels = ({info.name!r},)"
        for rev in revisions:
            # Alembic spreads a base's label over its descendants.
            assert info.name in rev.branch_labels, f"{rev.revision} is outside branch {info.name!r}"
        checked.add(info.name)
    if "hello" in installed:
        assert "hello" in checked


def test_core_revisions_are_on_the_lms_branch(installed):
    config = migrate.alembic_config({"sqlalchemy.url": "sqlite://"}, installed)
    script = ScriptDirectory.from_config(config)
    core_dir = os.path.realpath(os.path.join(migrate.HERE, "migrations", "versions"))
    core = [rev for rev in script.walk_revisions()
            if os.path.dirname(os.path.realpath(rev.path)) == core_dir]
    assert core and all(migrate.CORE_BRANCH in rev.branch_labels for rev in core)


def test_plugin_tables_carry_the_plugin_prefix(installed):
    for name, module in import_all_models(installed).items():
        for table in plugin_tables(module):
            assert table.startswith(name + "_"), f"table {table!r} of plugin {name!r}"


def test_plugin_branches_create_only_their_own_tables(tmp_path, installed):
    """Upgrading one plugin's branch creates tables with its prefix, and nothing else."""
    from alembic import command

    settings = {"sqlalchemy.url": "sqlite:///" + str(tmp_path / "branches.sqlite")}
    engine = make_engine(settings)
    everything = select(installed, {"lms.plugins": " ".join(installed)})
    try:
        migrate.upgrade(settings, installed, [], engine=engine)
        core_tables = set(inspect(engine).get_table_names())
        assert all(t.startswith("lms_") or t == "alembic_version" for t in core_tables)
        done = set()
        # Dependency order: a plugin's requirements are already migrated.
        for info in everything:
            if not info.migrations_path:
                continue
            before = set(inspect(engine).get_table_names())
            config = migrate.alembic_config(settings, installed, engine)
            command.upgrade(config, f"{info.name}@head")
            created = set(inspect(engine).get_table_names()) - before
            strays = {t for t in created if not t.startswith(info.name + "_")}
            assert not strays, f"plugin {info.name!r} created {sorted(strays)}"
            done.add(info.name)
        if "hello" in installed:
            assert "hello" in done
    finally:
        engine.dispose()
