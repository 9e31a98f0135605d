"""Tables of the enrollment plugin (upstream ``common.djangoapps.student`` enrollments
and ``common.djangoapps.course_modes``).

Courses belong to the courses plugin: rows name a course by its key string, never by
a foreign key into another plugin's tables.
"""
from datetime import datetime

from sqlalchemy import (Boolean, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

COURSE_KEY_MAX_LENGTH = 255
MODE_SLUG_MAX_LENGTH = 100
DEFAULT_MODE = "audit"


class Enrollment(Base):
    """A learner in a course run, in a mode (upstream ``CourseEnrollment``)."""

    __tablename__ = "enrollment_enrollment"
    # The unique index serves every per-user lookup; the course index serves
    # per-course lists and seat counts.
    __table_args__ = (
        UniqueConstraint("user_id", "course_key"),
        Index("ix_enrollment_enrollment_course_key_active", "course_key", "is_active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH))
    mode: Mapped[str] = mapped_column(String(MODE_SLUG_MAX_LENGTH), default=DEFAULT_MODE)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EnrollmentHistory(Base):
    """One change of an enrollment: who made it, when, and from/to what."""

    __tablename__ = "enrollment_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_enrollment.id", ondelete="CASCADE"), index=True)
    # Null when the system made the change (or the actor's account is gone).
    changed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), nullable=True, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None on the row that records the creation.
    from_mode: Mapped[str | None] = mapped_column(String(MODE_SLUG_MAX_LENGTH), nullable=True)
    from_active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    to_mode: Mapped[str] = mapped_column(String(MODE_SLUG_MAX_LENGTH))
    to_active: Mapped[bool] = mapped_column(Boolean)


class EnrollmentAttribute(Base):
    """A namespaced key/value attached to an enrollment (``CourseEnrollmentAttribute``)."""

    __tablename__ = "enrollment_attribute"
    __table_args__ = (UniqueConstraint("enrollment_id", "namespace", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_enrollment.id", ondelete="CASCADE"))
    namespace: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class CourseMode(Base):
    """A seat a course run offers (upstream ``CourseMode``); prices are whole units."""

    __tablename__ = "enrollment_course_mode"
    __table_args__ = (UniqueConstraint("course_key", "mode_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH))
    mode_slug: Mapped[str] = mapped_column(String(MODE_SLUG_MAX_LENGTH))
    mode_display_name: Mapped[str] = mapped_column(String(255))
    min_price: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(8), default="usd")
    expiration_datetime: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sku: Mapped[str | None] = mapped_column(String(255), nullable=True)
    android_sku: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ios_sku: Mapped[str | None] = mapped_column(String(255), nullable=True)
    bulk_sku: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class AllowedEnrollment(Base):
    """An email allowed into an invitation-only course (``CourseEnrollmentAllowed``)."""

    __tablename__ = "enrollment_allowed"
    __table_args__ = (
        UniqueConstraint("email", "course_key"),
        Index("ix_enrollment_allowed_course_key", "course_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased, so look-ups by a person's email use the unique index.
    email: Mapped[str] = mapped_column(String(254))
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH))
    auto_enroll: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseSeatLock(Base):
    """One row per course with a seat limit, locked (``SELECT ... FOR UPDATE``) while
    an enrollment counts the seats taken, so concurrent enrollments admit no more
    than the limit."""

    __tablename__ = "enrollment_course_seat_lock"

    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH), primary_key=True)
