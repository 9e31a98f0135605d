"""A course's discussion configuration: what its policy says (imported by the courses
plugin) and its division settings (this plugin's table).

- ``discussion_topics``: the course-wide topics, ``{name: {"id", "sort_key"?}}``;
- inline topics: the course's ``discussion`` blocks (``discussion_id``,
  ``discussion_category``, ``discussion_target``);
- ``discussion_blackouts``: ``[[start, end], ...]`` when learners may not post;
- ``allow_anonymous`` (default true), ``allow_anonymous_to_peers`` (default false);
- the discussion tab: a course whose ``tabs`` are listed without a visible
  ``discussion`` tab has its discussions off;
- division: upstream ``CourseDiscussionSettings``, defaulting from the legacy
  ``cohort_config`` (``cohorted_discussions``, ``always_cohort_inline_discussions``).
"""
from dataclasses import dataclass

from sqlalchemy import select

from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.discussion.models import CourseSettings

NONE, COHORT, ENROLLMENT_TRACK = "none", "cohort", "enrollment_track"
DIVISION_SCHEMES = (NONE, COHORT, ENROLLMENT_TRACK)


def policy(course):
    return course.settings or {}


def is_enabled(course):
    """Upstream's ``DiscussionTab.is_enabled``: off when the course lists its tabs and no
    visible discussion tab is among them."""
    tabs = policy(course).get("tabs")
    if not isinstance(tabs, list) or not tabs:
        return True
    return any(isinstance(tab, dict) and tab.get("type") == "discussion"
               and not tab.get("is_hidden") for tab in tabs)


def allow_anonymous(course):
    value = policy(course).get("allow_anonymous", True)
    return value if isinstance(value, bool) else True


def allow_anonymous_to_peers(course):
    value = policy(course).get("allow_anonymous_to_peers", False)
    return value if isinstance(value, bool) else False


def blackouts(course):
    """The valid ``(start, end)`` blackout periods (aware datetimes), as upstream's
    ``get_discussion_blackout_datetimes`` (unparsable entries are skipped)."""
    periods = []
    for entry in policy(course).get("discussion_blackouts") or ():
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            continue
        start, end = (courses_api.parse_date(value) if isinstance(value, str) else None
                      for value in entry)
        if start is not None and end is not None:
            periods.append((start, end))
    return periods


def in_blackout(course, now=None):
    now = now or utcnow()
    return any(start <= now <= end for start, end in blackouts(course))


@dataclass(frozen=True)
class CourseWideTopic:
    topic_id: str
    name: str
    sort_key: str | None


# A course whose policy names no topic has upstream's default one.
DEFAULT_TOPICS = {"General": {"id": "course"}}


def course_wide_topics(course):
    """The policy's ``discussion_topics`` in stored order (upstream's ``General`` topic
    when the policy has none)."""
    topics = policy(course).get("discussion_topics") or DEFAULT_TOPICS
    found = []
    for name, entry in (topics.items() if isinstance(topics, dict) else ()):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        sort_key = entry.get("sort_key")
        found.append(CourseWideTopic(entry["id"], str(name),
                                     sort_key if isinstance(sort_key, str) else None))
    return found


@dataclass(frozen=True)
class InlineTopic:
    topic_id: str
    usage_key: str
    category: str
    target: str
    sort_key: str | None
    start: object  # aware datetime or None
    ancestors: tuple  # usage keys, nearest first (vertical, sequential, chapter, course)


def inline_topics(structure, visible=None):
    """The course's discussion blocks (``visible``: only those usage keys), in course
    order; a block without a ``discussion_id`` is no topic."""
    found = []
    for key, node in structure.blocks.items():
        if node.block_type != "discussion" or (visible is not None and key not in visible):
            continue
        topic_id = node.get("discussion_id")
        if not isinstance(topic_id, str) or not topic_id:
            continue
        # the discussion block's field defaults upstream
        category = node.get("discussion_category", "Week 1")
        target = node.get("discussion_target", "Topic-Level Student-Visible Label")
        sort_key = node.get("sort_key")
        found.append(InlineTopic(
            topic_id=topic_id, usage_key=key,
            category=category if isinstance(category, str) else "",
            target=target if isinstance(target, str) else "",
            sort_key=sort_key if isinstance(sort_key, str) else None,
            start=node.get("start"), ancestors=tuple(structure.ancestors(key))))
    return found


# -- division ---------------------------------------------------------------------------------

def default_settings(course):
    """A course's settings before anyone saved them, from its legacy ``cohort_config``."""
    legacy = policy(course).get("cohort_config")
    legacy = legacy if isinstance(legacy, dict) else {}
    divided = [topic for topic in legacy.get("cohorted_discussions") or ()
               if isinstance(topic, str)]
    return CourseSettings(
        course_key=course.course_key,
        division_scheme=COHORT if legacy.get("cohorted") is True else NONE,
        always_divide_inline_discussions=legacy.get("always_cohort_inline_discussions") is True,
        divided_discussions=divided, reported_content_email_notifications=False)


def get_settings(db, course):
    """The stored settings, or the defaults (not stored until changed)."""
    row = db.scalar(select(CourseSettings).where(CourseSettings.course_key == course.course_key))
    return row if row is not None else default_settings(course)


def save_settings(db, course, **changes):
    row = db.scalar(select(CourseSettings).where(CourseSettings.course_key == course.course_key))
    if row is None:
        row = default_settings(course)
        db.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    db.flush()
    return row
