"""grades tables: course_home (upstream ``course_goals.CourseGoal``, the welcome message
dismissal kept per user and course, and ``schedules.Schedule``: the personal start date
of a learner in a self-paced course, which relative due dates count from)."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

__all__ = ["CourseGoal", "WelcomeDismissal", "Schedule"]

KEY_LENGTH = 255


class CourseGoal(Base):
    """A learner's weekly goal in a course; the token unsubscribes from its reminders."""

    __tablename__ = "grades_course_goal"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    days_per_week: Mapped[int] = mapped_column(Integer, default=0)
    subscribed_to_reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    # upstream: a UUID, unique; here its 32-hex form
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WelcomeDismissal(Base):
    """The welcome message (a course update) a user dismissed: its content hash, so an
    edited update shows again."""

    __tablename__ = "grades_welcome_dismissal"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    content_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Schedule(Base):
    """A learner's personal schedule in a course: relative (self-paced) due dates count
    from ``start_date``; resetting deadlines moves it to today."""

    __tablename__ = "grades_schedule"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    upgrade_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
