"""grades tables: problems (learner state per block with its history, scores with theirs).
Upstream: ``StudentModule``/``StudentModuleHistory`` and the score fields of
``PersistentSubsectionGrade``'s visible blocks, kept here per block."""
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

__all__ = ["StudentState", "StudentStateHistory", "Score", "ScoreHistory"]

KEY_LENGTH = 255


class StudentState(Base):
    """A learner's state on one block (capa: answers, correct_map, attempts...)."""

    __tablename__ = "grades_student_state"
    __table_args__ = (
        UniqueConstraint("user_id", "usage_key"),
        Index("ix_grades_student_state_course_key_user_id", "course_key", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    usage_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    block_type: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StudentStateHistory(Base):
    """Each saved state, with the grade it had (upstream submission_history)."""

    __tablename__ = "grades_student_state_history"
    __table_args__ = (Index("ix_grades_student_state_history_state_id", "state_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_id: Mapped[int] = mapped_column(
        ForeignKey("grades_student_state.id", ondelete="CASCADE"))
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    grade: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_grade: Mapped[float | None] = mapped_column(Float, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Score(Base):
    """A learner's current raw score on one block (weight not applied)."""

    __tablename__ = "grades_score"
    __table_args__ = (
        UniqueConstraint("user_id", "usage_key"),
        Index("ix_grades_score_course_key_user_id", "course_key", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    usage_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    earned: Mapped[float] = mapped_column(Float, default=0.0)
    possible: Mapped[float] = mapped_column(Float, default=0.0)
    first_attempted: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    source: Mapped[str] = mapped_column(String(64), default="")
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScoreHistory(Base):
    """Every change of a score."""

    __tablename__ = "grades_score_history"
    __table_args__ = (Index("ix_grades_score_history_score_id", "score_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("grades_score.id", ondelete="CASCADE"))
    earned: Mapped[float] = mapped_column(Float, default=0.0)
    possible: Mapped[float] = mapped_column(Float, default=0.0)
    source: Mapped[str] = mapped_column(String(64), default="")
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
