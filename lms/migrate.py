"""Alembic, configured in code: one branch for the core (``lms``) and one per plugin."""
import os

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

CORE_BRANCH = "lms"
HERE = os.path.dirname(os.path.abspath(__file__))


def alembic_config(settings, installed, engine=None):
    """``installed``: every installed plugin, so the revision graph stays complete."""
    config = Config()
    config.set_main_option("script_location", os.path.join(HERE, "migrations"))
    locations = [os.path.join(HERE, "migrations", "versions")]
    for info in sorted(installed.values(), key=lambda p: p.name):
        if info.migrations_path:
            locations.append(info.migrations_path)
    # Alembic splits version_locations on this separator; paths may contain spaces.
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.set_main_option("sqlalchemy.url", str(settings["sqlalchemy.url"]).replace("%", "%%"))
    config.attributes["engine"] = engine
    config.attributes["installed"] = installed
    return config


def branches_to_upgrade(enabled):
    """Core first, then enabled plugins that ship migrations, in dependency order."""
    return [CORE_BRANCH] + [p.name for p in enabled if p.migrations_path]


def upgrade(settings, installed, enabled, engine=None):
    config = alembic_config(settings, installed, engine)
    script = ScriptDirectory.from_config(config)
    known = set()
    for rev in script.walk_revisions():
        known.update(rev.branch_labels or ())
    done = []
    for branch in branches_to_upgrade(enabled):
        if branch not in known:
            raise RuntimeError(f"no migration branch labelled {branch!r}")
        command.upgrade(config, f"{branch}@head")
        done.append(branch)
    return done


def current_heads(settings, installed, engine):
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
