"""Tables of the mobile plugin.

- :class:`Position`: where a learner last was in a course, as upstream keeps the
  ``position`` user-state field of the course block and of each chapter
  (``save_positions_recursively_up``): for a parent block, the child last visited.
- :class:`UserActivity`: the days a learner used a course from the app
  (upstream ``UserActivity`` of course goals, recorded by ``record_user_activity``).

Courses belong to the courses plugin: rows name them by key string.
"""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

KEY_MAX_LENGTH = 255


class Position(Base):
    """The child of ``parent_key`` that the learner last visited in a course."""

    __tablename__ = "mobile_position"
    # The unique index serves the one look-up: every position of (user, course).
    __table_args__ = (UniqueConstraint("user_id", "course_key", "parent_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    parent_key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    child_key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserActivity(Base):
    """One row per learner, course and day of activity in the app."""

    __tablename__ = "mobile_user_activity"
    __table_args__ = (UniqueConstraint("user_id", "course_key", "date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    date: Mapped[date] = mapped_column(Date)
