"""The mobile plugin's Python API: last visited positions and days of activity.

A *position* is what upstream keeps in the ``position`` user-state field of a
course block and of each chapter: which child the learner last visited. PATCHing
``course_status_info`` saves one per ancestor of the visited block; reading it
walks course → chapter → sequential.
"""
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lms.timeutil import aware, utcnow
from plugins.mobile.models import Position, UserActivity


def positions(db, user_id, course_key):
    """``{parent usage key: Position}`` of the user in the course (one query)."""
    rows = db.scalars(select(Position).where(Position.user_id == user_id,
                                             Position.course_key == str(course_key)))
    return {row.parent_key: row for row in rows}


def latest_positions(db, user_id, course_keys):
    """``{course key: last modification}`` of the user's positions in these courses
    (one query): where the learner made progress last."""
    keys = [str(key) for key in course_keys]
    if not keys:
        return {}
    latest = {}
    for course_key, modified in db.execute(
            select(Position.course_key, Position.modified).where(
                Position.user_id == user_id, Position.course_key.in_(keys))):
        modified = aware(modified)
        if course_key not in latest or modified > latest[course_key]:
            latest[course_key] = modified
    return latest


def save_positions(db, user_id, course_key, pairs, now=None):
    """Record ``[(parent key, child key), ...]`` (the visited block up to the course).

    Concurrent saves of one position end with one row: an insert that loses the race
    to the unique constraint becomes an update.
    """
    now = now or utcnow()
    existing = positions(db, user_id, course_key)
    for parent_key, child_key in pairs:
        row = existing.get(parent_key)
        if row is None:
            row = Position(user_id=user_id, course_key=str(course_key), parent_key=parent_key,
                           child_key=child_key, modified=now)
            try:
                with db.begin_nested():
                    db.add(row)
                    db.flush()
                continue
            except IntegrityError:
                row = db.scalar(select(Position).where(
                    Position.user_id == user_id, Position.course_key == str(course_key),
                    Position.parent_key == parent_key))
        row.child_key, row.modified = child_key, now
    db.flush()


def record_activity(db, user_id, course_key, day):
    """One row per user, course and day; True when this call added it."""
    if db.scalar(select(UserActivity.id).where(
            UserActivity.user_id == user_id, UserActivity.course_key == str(course_key),
            UserActivity.date == day)) is not None:
        return False
    try:
        with db.begin_nested():
            db.add(UserActivity(user_id=user_id, course_key=str(course_key), date=day))
            db.flush()
    except IntegrityError:
        return False  # recorded by a concurrent request
    return True


def delete_user_data(db, user_id):
    """Retirement: nothing of the learner's course visits remains."""
    db.execute(delete(Position).where(Position.user_id == user_id))
    db.execute(delete(UserActivity).where(UserActivity.user_id == user_id))
