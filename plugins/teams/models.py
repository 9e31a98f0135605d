"""teams tables (upstream ``lms.djangoapps.teams.models``): teams of a course's teamsets
and their members. Courses belong to the courses plugin and people to the core: rows name
them by key string and user id."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

KEY_LENGTH = 255


class CourseTeam(Base):
    """A team in one teamset (``topic_id``) of a course."""

    __tablename__ = "teams_course_team"
    __table_args__ = (Index("ix_teams_course_team_course_key_topic_id", "course_key", "topic_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # slugified name (20 characters) + "-" + 32 hex: unique
    team_id: Mapped[str] = mapped_column(String(100), unique=True)
    discussion_topic_id: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    topic_id: Mapped[str] = mapped_column(String(255), default="")
    date_created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    description: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    team_size: Mapped[int] = mapped_column(Integer, default=0)
    organization_protected: Mapped[bool] = mapped_column(Boolean, default=False)


class CourseTeamMembership(Base):
    """A user's membership of a team."""

    __tablename__ = "teams_membership"
    __table_args__ = (UniqueConstraint("user_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams_course_team.id", ondelete="CASCADE"),
                                         index=True)
    date_joined: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
