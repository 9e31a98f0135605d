"""grades tables: grading (persisted subsection and course grades, gradebook overrides,
course-wide recompute jobs). Upstream: ``PersistentSubsectionGrade``,
``PersistentSubsectionGradeOverride`` (+ its simple-history table) and
``PersistentCourseGrade``."""
from datetime import datetime

from sqlalchemy import (Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

__all__ = ["SubsectionGrade", "SubsectionOverride", "SubsectionOverrideHistory",
           "CourseGrade", "RecomputeJob"]

KEY_LENGTH = 255


class SubsectionGrade(Base):
    """A learner's computed totals on one subsection (weights applied, override not)."""

    __tablename__ = "grades_subsection_grade"
    __table_args__ = (
        UniqueConstraint("user_id", "usage_key"),
        Index("ix_grades_subsection_grade_course_key_user_id", "course_key", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    usage_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    earned_all: Mapped[float] = mapped_column(Float, default=0.0)
    possible_all: Mapped[float] = mapped_column(Float, default=0.0)
    earned_graded: Mapped[float] = mapped_column(Float, default=0.0)
    possible_graded: Mapped[float] = mapped_column(Float, default=0.0)
    first_attempted: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubsectionOverride(Base):
    """A gradebook override of a subsection grade (any field null = keep the computed)."""

    __tablename__ = "grades_subsection_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grade_id: Mapped[int] = mapped_column(
        ForeignKey("grades_subsection_grade.id", ondelete="CASCADE"), unique=True)
    earned_all_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    possible_all_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    earned_graded_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    possible_graded_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    override_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # the feature that made it: "GRADEBOOK", "PROCTORING"
    system: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubsectionOverrideHistory(Base):
    """Each state of an override ("+" created, "~" changed, "-" deleted), as upstream's
    simple-history table; kept when the override goes."""

    __tablename__ = "grades_subsection_override_history"

    history_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[int] = mapped_column(Integer, index=True)  # the override's id
    grade_id: Mapped[int] = mapped_column(
        ForeignKey("grades_subsection_grade.id", ondelete="CASCADE"), index=True)
    earned_all_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    possible_all_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    earned_graded_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    possible_graded_override: Mapped[float | None] = mapped_column(Float, nullable=True)
    override_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    system: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    history_date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    history_type: Mapped[str] = mapped_column(String(1))
    history_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), nullable=True)


class CourseGrade(Base):
    """A learner's course grade as last computed (reads are one query)."""

    __tablename__ = "grades_course_grade"
    __table_args__ = (
        UniqueConstraint("user_id", "course_key"),
        Index("ix_grades_course_grade_course_key_percent", "course_key", "percent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    letter_grade: Mapped[str] = mapped_column(String(255), default="")
    passed_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    course_version: Mapped[str] = mapped_column(String(255), default="")
    grading_policy_hash: Mapped[str] = mapped_column(String(255), default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def passed(self):
        return self.passed_timestamp is not None


class RecomputeJob(Base):
    """A course-wide recompute of every enrolled learner's grades, with its progress."""

    __tablename__ = "grades_recompute_job"
    __table_args__ = (Index("ix_grades_recompute_job_course_key", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    # queued, running, succeeded, failed
    status: Mapped[str] = mapped_column(String(32), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
