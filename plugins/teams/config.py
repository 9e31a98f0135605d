"""A course's ``teams_configuration`` (upstream ``openedx.core.lib.teams_config``), read
from the course's policy through the courses plugin's public api.

- ``{"enabled"?, "max_team_size"?, "team_sets": [...]}`` (the legacy ``topics`` when
  ``team_sets`` is absent); without ``enabled``, teams are on when a teamset is valid.
- A teamset whose ``id`` is not ``[A-Za-z0-9_. -]+`` is dropped, as are later duplicates.
- Types ``open`` (also for unknown values), ``public_managed``, ``private_managed``,
  ``open_managed``; only the two ``*_managed`` besides ``open_managed`` are managed by
  instructors.
- A course's default team size is its positive ``max_team_size``, else 50; a teamset's
  is its own for open types, 200 for the others.
"""
import re
from dataclasses import dataclass

TEAMSET_ID = re.compile(r"^[A-Za-z0-9_. -]+$")
OPEN, PUBLIC_MANAGED, PRIVATE_MANAGED, OPEN_MANAGED = (
    "open", "public_managed", "private_managed", "open_managed")
TYPES = (OPEN, PUBLIC_MANAGED, PRIVATE_MANAGED, OPEN_MANAGED)
MANAGED_TYPES = (PUBLIC_MANAGED, PRIVATE_MANAGED)
DEFAULT_MAX_TEAM_SIZE = 50
MANAGED_MAX_TEAM_SIZE = 200


def _positive_int(value):
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 and str(number) == str(value).strip() else None


@dataclass(frozen=True)
class Teamset:
    teamset_id: str
    name: str
    description: str
    teamset_type: str
    max_team_size: int | None  # as configured (None: the course's default)
    user_partition_id: int | None = None

    @property
    def is_managed(self):
        return self.teamset_type in MANAGED_TYPES

    @property
    def is_private(self):
        return self.teamset_type == PRIVATE_MANAGED


@dataclass(frozen=True)
class TeamsConfig:
    enabled: bool
    default_max_team_size: int
    teamsets: tuple

    def teamset(self, teamset_id):
        return next((t for t in self.teamsets if t.teamset_id == teamset_id), None)

    def max_team_size(self, teamset):
        """``calc_max_team_size``: 200 for managed types, else the teamset's or the
        course's size."""
        if teamset.teamset_type != OPEN and teamset.teamset_type != OPEN_MANAGED:
            return MANAGED_MAX_TEAM_SIZE
        if teamset.max_team_size is not None:
            return teamset.max_team_size
        return self.default_max_team_size


def _teamset(raw):
    if not isinstance(raw, dict):
        return None
    teamset_id = raw.get("id")
    if not isinstance(teamset_id, str) or not TEAMSET_ID.match(teamset_id):
        return None
    kind = raw.get("type") if raw.get("type") in TYPES else OPEN
    partition = raw.get("user_partition_id")
    return Teamset(
        teamset_id=teamset_id,
        name=str(raw.get("name") or teamset_id),
        description=str(raw.get("description") or ""),
        teamset_type=kind,
        max_team_size=_positive_int(raw.get("max_team_size")),
        user_partition_id=partition if isinstance(partition, int) else None)


def parse(raw):
    """A :class:`TeamsConfig` from the policy's ``teams_configuration`` (any JSON)."""
    raw = raw if isinstance(raw, dict) else {}
    entries = raw.get("team_sets")
    if entries is None:
        entries = raw.get("topics")
    teamsets, seen = [], set()
    for entry in entries if isinstance(entries, list) else ():
        teamset = _teamset(entry)
        if teamset is None or teamset.teamset_id in seen:
            continue
        seen.add(teamset.teamset_id)
        teamsets.append(teamset)
    size = _positive_int(raw.get("max_team_size"))
    enabled = raw.get("enabled")
    return TeamsConfig(
        enabled=bool(enabled) if isinstance(enabled, bool) else bool(teamsets),
        default_max_team_size=size if size else DEFAULT_MAX_TEAM_SIZE,
        teamsets=tuple(teamsets))


def for_course(course):
    from plugins.courses import api as courses_api

    return parse(courses_api.teams_configuration(course))
