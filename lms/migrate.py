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


# -- pending migrations: checked at start-up and by /heartbeat --------------------

# ScriptDirectory per set of migration folders: reading the revision files once
# per process keeps the check to one query of alembic_version.
_scripts = {}


def _script_directory(settings, installed):
    config = alembic_config(settings, installed)
    key = config.get_main_option("version_locations")
    if key not in _scripts:
        _scripts[key] = ScriptDirectory.from_config(config)
    return _scripts[key]


def _branch_head(script, branch):
    from alembic.util import CommandError

    try:
        return script.get_revision(f"{branch}@head").revision
    except CommandError:  # no such branch: `lms migrate` names the problem
        return None


def pending_branches(settings, installed, enabled, engine):
    """``(pending, migrated)``: the branches (core first, then enabled plugins) whose
    head the database has not applied, and whether it was ever migrated at all."""
    from alembic.util import CommandError

    script = _script_directory(settings, installed)
    wanted = {branch: _branch_head(script, branch) for branch in branches_to_upgrade(enabled)}
    current = current_heads(settings, installed, engine)
    if set(wanted.values()) <= current:
        return [], True
    applied = set()
    for head in current:
        try:
            applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
        except CommandError:  # a revision this code does not know (newer code ran)
            continue
    return [branch for branch, head in wanted.items() if head not in applied], bool(current)


def pending_message(registry):
    """One line naming what the database lacks, or None when it is up to date."""
    pending, migrated = pending_branches(
        registry.settings, registry["lms.plugins"], registry["lms.enabled_plugins"],
        registry["lms.engine"])
    if not pending:
        return None
    if not migrated:
        return f"the database was never migrated (pending: {', '.join(pending)})"
    return f"the database has pending migrations: {', '.join(pending)}"
