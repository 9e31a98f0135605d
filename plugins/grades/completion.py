"""Block completion (upstream ``completion``): how far a learner has completed each block,
0.0 to 1.0, kept per learner and block (:class:`~plugins.grades.models.BlockCompletion`).

- Scored blocks become complete when a score is recorded for them (upstream's
  ``scorable_block_completion`` handler); blocks completed by viewing (html, video and
  every other completable type without a score) report it through the XBlock handler
  ``publish_completion``, as upstream's JavaScript does once a block has been seen; other
  clients use ``completion-batch``.
- Containers (aggregators) are complete when every completable leaf under them that the
  learner may see is complete (upstream's ``vertical_is_complete`` and the course_home
  rule); discussions are excluded.
- The learner resumes at the block whose completion changed last.
- ``grades.completion_tracking`` is upstream's ``completion.enable_completion_tracking``
  switch: off, nothing is recorded and the APIs refuse to record.
"""
import math

from sqlalchemy import select

from lms.settings import as_bool
from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.grades.models import BlockCompletion

COMPLETABLE = "completable"
AGGREGATOR = "aggregator"


class CompletionError(ValueError):
    """A completion value outside 0.0 to 1.0 (or not a finite number)."""


def tracking_enabled(settings):
    return as_bool(settings, "grades.completion_tracking")


def checked_value(value):
    """The completion as a float; :class:`CompletionError` outside 0.0 to 1.0. Upstream
    validates the range only when an existing row changes; a new row is checked too."""
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise CompletionError(f"{value} must be between 0.0 and 1.0")
    return value


def _block_type(block_key):
    from lms.keys import parse_usage_key

    key = parse_usage_key(str(block_key))
    return getattr(key, "block_type", "") or ""


def submit_batch(db, user_id, course_key, values):
    """Store ``{block_key: completion}`` for a learner (one read, then the changed rows).
    A row's ``modified`` moves only when its value changes, so resuming follows real
    progress. Returns the rows written."""
    values = {str(key): checked_value(value) for key, value in values.items()}
    if not values:
        return []
    existing = {row.block_key: row for row in db.scalars(
        select(BlockCompletion).where(BlockCompletion.user_id == user_id,
                                      BlockCompletion.course_key == str(course_key),
                                      BlockCompletion.block_key.in_(list(values))))}
    now, written = utcnow(), []
    for block_key, value in values.items():
        row = existing.get(block_key)
        if row is None:
            row = BlockCompletion(user_id=user_id, course_key=str(course_key),
                                  block_key=block_key, block_type=_block_type(block_key),
                                  completion=value, created=now, modified=now)
            db.add(row)
        elif row.completion != value:
            row.completion, row.modified = value, now
        else:
            continue
        written.append(row)
    db.flush()
    return written


def submit(db, user_id, course_key, block_key, value):
    return submit_batch(db, user_id, course_key, {block_key: value})


def session_tracking_enabled(db):
    """:func:`tracking_enabled` for code given only a session (its instance's settings)."""
    registry = db.info.get("lms.registry")
    settings = getattr(registry, "settings", None) or {}
    return "grades.completion_tracking" not in settings or tracking_enabled(settings)


def score_recorded(db, user_id, course_key, usage_key):
    """Upstream's ``scorable_block_completion``: a completable block that got a score is
    complete (a reset problem stays complete, as upstream only un-completes a deleted
    score)."""
    block_type = _block_type(usage_key)
    if not block_type or courses_api.completion_mode(block_type) != COMPLETABLE:
        return
    if session_tracking_enabled(db):
        submit(db, user_id, course_key, usage_key, 1.0)


def completions_for(db, user_id, course_key):
    """``{block_key: completion}`` of a learner in a course (one query)."""
    return dict(db.execute(
        select(BlockCompletion.block_key, BlockCompletion.completion)
        .where(BlockCompletion.user_id == user_id,
               BlockCompletion.course_key == str(course_key))).all())


def resume_block(db, user_id, course_key):
    """The block whose completion changed last (upstream ``get_key_to_last_completed_block``),
    or None."""
    return db.scalar(
        select(BlockCompletion.block_key)
        .where(BlockCompletion.user_id == user_id,
               BlockCompletion.course_key == str(course_key))
        .order_by(BlockCompletion.modified.desc(), BlockCompletion.id.desc()).limit(1))


def completable_on_view(block_type):
    """Upstream ``can_mark_block_complete_on_view``: completable blocks without a score."""
    return (courses_api.completion_mode(block_type) == COMPLETABLE
            and block_type not in SCORED_TYPES)


# Block types that carry a score: their completion follows the score, not a view.
SCORED_TYPES = frozenset({"problem", "openassessment", "lti_consumer", "lti",
                          "drag-and-drop-v2", "staffgradedxblock"})


def block_is_complete(structure, usage_key, visible, completions):
    """A leaf: its completion is 1.0; an aggregator: every completable leaf under it the
    learner may see is complete (an aggregator with none is not complete)."""
    node = structure.blocks.get(usage_key)
    if node is None:
        return False
    if courses_api.completion_mode(node.block_type) != AGGREGATOR:
        return float(completions.get(usage_key) or 0.0) >= 1.0
    leaves = courses_api.completable_leaves(structure, usage_key, visible)
    return bool(leaves) and all(float(completions.get(leaf) or 0.0) >= 1.0
                                for leaf in leaves)


def completed_keys(structure, visible, completions):
    """Every block (leaves and containers) of ``visible`` that is complete, in one walk."""
    done = {}

    def walk(key):
        if key in done:
            return done[key]
        node = structure.blocks[key]
        mode = courses_api.completion_mode(node.block_type)
        if mode == AGGREGATOR:
            children = [child for child in node.children
                        if child in visible and child in structure.blocks]
            answers = [walk(child) for child in children]
            counted = [answer for answer in answers if answer is not None]
            result = bool(counted) and all(counted)
        elif mode == COMPLETABLE:
            result = float(completions.get(key) or 0.0) >= 1.0
        else:
            result = None  # excluded: does not count either way
        done[key] = result
        return result

    if structure.root in structure.blocks:
        walk(structure.root)
    return {key for key, value in done.items() if value}
