"""Alembic, configured in code: one branch for the core (``lms``) and one per plugin.

Alembic (about 10 MB with what it imports) is imported only to migrate or to name
pending migrations: the start-up check of an up-to-date database reads the revision
files' ids itself (:func:`_linear_branch_heads`).
"""
import ast
import os

CORE_BRANCH = "lms"
HERE = os.path.dirname(os.path.abspath(__file__))


def version_locations(installed):
    locations = [os.path.join(HERE, "migrations", "versions")]
    for info in sorted(installed.values(), key=lambda p: p.name):
        if info.migrations_path:
            locations.append(info.migrations_path)
    return locations


def alembic_config(settings, installed, engine=None):
    """``installed``: every installed plugin, so the revision graph stays complete."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", os.path.join(HERE, "migrations"))
    locations = version_locations(installed)
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
    from alembic import command
    from alembic.script import ScriptDirectory

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
    from alembic.script import ScriptDirectory

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


# version_locations -> {branch: head}, or None when the graph is not simple enough.
_linear_heads = {}
_REVISION_KEYS = ("revision", "down_revision", "branch_labels")


def _revision_ids(path):
    """The literal ``revision``, ``down_revision`` and ``branch_labels`` of a revision file."""
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    found = {}
    for statement in tree.body:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and statement.targets[0].id in _REVISION_KEYS):
            found[statement.targets[0].id] = ast.literal_eval(statement.value)
    return found


def _linear_branch_heads(installed):
    """``{branch label: head revision}`` read from the revision files without Alembic,
    when every branch is a straight line (one parent, at most one child); None
    otherwise, and Alembic decides."""
    locations = version_locations(installed)
    key = os.pathsep.join(locations)
    if key not in _linear_heads:
        _linear_heads[key] = _read_linear_heads(locations)
    return _linear_heads[key]


def _read_linear_heads(locations):
    try:
        revisions = [_revision_ids(os.path.join(location, name))
                     for location in locations for name in sorted(os.listdir(location))
                     if name.endswith(".py") and not name.startswith("_")]
    except (OSError, SyntaxError, ValueError):
        return None
    children, labelled = {}, {}
    for revision in revisions:
        parent = revision.get("down_revision")
        if not isinstance(revision.get("revision"), str) or not (
                parent is None or isinstance(parent, str)):
            return None  # merges, or a file that is not a plain revision
        children.setdefault(parent, []).append(revision["revision"])
        for label in revision.get("branch_labels") or ():
            labelled[label] = revision["revision"]
    heads = {}
    for label, revision in labelled.items():
        while children.get(revision):
            if len(children[revision]) > 1:
                return None  # a fork: another branch grows from this one
            revision = children[revision][0]
        heads[label] = revision
    return heads


def _up_to_date_without_alembic(registry):
    """True when the database has applied every wanted head, checked without Alembic;
    False when that cannot be told so cheaply (Alembic then answers)."""
    heads = _linear_branch_heads(registry["lms.plugins"])
    if heads is None:
        return False
    wanted = {heads.get(branch) for branch in branches_to_upgrade(registry["lms.enabled_plugins"])}
    if None in wanted:
        return False
    from sqlalchemy import text

    try:
        with registry["lms.engine"].connect() as connection:
            current = {row[0] for row in connection.execute(
                text("SELECT version_num FROM alembic_version"))}
    except Exception:  # no table yet, or no database: Alembic reports it
        return False
    return wanted <= current


def pending_message(registry):
    """One line naming what the database lacks, or None when it is up to date."""
    if _up_to_date_without_alembic(registry):
        return None
    pending, migrated = pending_branches(
        registry.settings, registry["lms.plugins"], registry["lms.enabled_plugins"],
        registry["lms.engine"])
    if not pending:
        return None
    if not migrated:
        return f"the database was never migrated (pending: {', '.join(pending)})"
    return f"the database has pending migrations: {', '.join(pending)}"
