"""The experiments plugin's public Python API: the only module other plugins may import.

A plugin that uses it lists ``"experiments"`` in its ``requires``::

    from plugins.experiments import api

    api.set_user_value(dbsession, user.id, experiment_id=12, key="seen_banner", value="yes")
    api.get_user_value(dbsession, user.id, 12, "seen_banner")         # -> "yes"
    api.get_site_value(dbsession, 12, "banner_text", default="")      # staff-managed value
    api.stable_bucket("new_banner", user.username, group_count=2)     # -> 0 or 1

Writes only flush: the caller's transaction commits or rolls them back.
"""
import hashlib

from sqlalchemy import delete, select

from lms.timeutil import utcnow
from plugins.experiments.models import ExperimentData, ExperimentKeyValue

# Upstream's unique_together, with the field names DRF's error message uses.
UNIQUE_TOGETHER = {
    ExperimentData: {
        "user": ExperimentData.user_id,
        "experiment_id": ExperimentData.experiment_id,
        "key": ExperimentData.key,
    },
    ExperimentKeyValue: {
        "experiment_id": ExperimentKeyValue.experiment_id,
        "key": ExperimentKeyValue.key,
    },
}


class NotUnique(ValueError):
    """Another row already has this row's unique fields."""


def get_user_value(dbsession, user_id, experiment_id, key, default=None):
    """The value a user stored for ``(experiment_id, key)``, or ``default``."""
    value = dbsession.scalar(select(ExperimentData.value).where(
        ExperimentData.user_id == user_id, ExperimentData.experiment_id == experiment_id,
        ExperimentData.key == key))
    return default if value is None else value


def set_user_value(dbsession, user_id, experiment_id, key, value):
    """Store a user's value for ``(experiment_id, key)``, replacing any previous one."""
    row = dbsession.scalar(select(ExperimentData).where(
        ExperimentData.user_id == user_id, ExperimentData.experiment_id == experiment_id,
        ExperimentData.key == key))
    if row is None:
        row = ExperimentData(user_id=user_id, experiment_id=experiment_id, key=key)
    return save(dbsession, row, value=value)


def delete_user_data(dbsession, user_id):
    """Forget everything a user stored (account retirement); returns the row count."""
    result = dbsession.execute(delete(ExperimentData).where(ExperimentData.user_id == user_id))
    return result.rowcount


def get_site_value(dbsession, experiment_id, key, default=None):
    """The staff-managed key-value of an experiment, or ``default``."""
    value = dbsession.scalar(select(ExperimentKeyValue.value).where(
        ExperimentKeyValue.experiment_id == experiment_id, ExperimentKeyValue.key == key))
    return default if value is None else value


def stable_bucket(experiment_name, username, group_count):
    """The group (``0 .. group_count - 1``) a user always falls in for an experiment.

    Upstream's ``stable_bucketing_hash_group``, so users keep the buckets the
    edX front ends and data warehouse computed for them.
    """
    digest = hashlib.md5((experiment_name + username).encode()).hexdigest()
    # Each hex digit becomes one bit: 0-7 -> 0, 8-f -> 1.
    bits = "".join("1" if int(digit, 16) >= 8 else "0" for digit in digest)
    return int(bits, 2) % group_count


def save(dbsession, row, **fields):
    """Set ``fields`` on a new or loaded row and flush, as a DRF serializer saves.

    Raises :class:`NotUnique` (with DRF's message) instead of letting the
    database refuse a duplicate. ``modified`` moves on every save, even when
    nothing changed, as upstream's ``TimeStampedModel`` does.
    """
    for name, value in fields.items():
        setattr(row, name, value)
    model, unique = type(row), UNIQUE_TOGETHER[type(row)]
    clash = select(model.id).where(
        *(column == getattr(row, column.key) for column in unique.values()))
    if row.id is not None:
        clash = clash.where(model.id != row.id)
    with dbsession.no_autoflush:  # the pending change must not reach the table first
        if dbsession.scalar(clash.limit(1)) is not None:
            raise NotUnique(f"The fields {', '.join(unique)} must make a unique set.")
    if row.id is None:
        dbsession.add(row)
    else:
        row.modified = utcnow()
    dbsession.flush()
    return row
