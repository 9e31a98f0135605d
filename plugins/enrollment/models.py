"""Tables of the enrollment plugin (upstream ``common.djangoapps.student`` enrollments
and ``common.djangoapps.course_modes``).

Courses belong to the courses plugin: rows name a course by its key string, never by
a foreign key into another plugin's tables.
"""
from datetime import datetime

from sqlalchemy import (Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text,
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
        # enrollments/?course_id= pages newest first within one course: without it
        # PostgreSQL walks the whole primary key backwards for a small course.
        Index("ix_enrollment_enrollment_course_key_id", "course_key", "id"),
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
    # Upstream keeps a deadline set by hand apart from one derived from the course end.
    expiration_datetime_is_explicit: Mapped[bool] = mapped_column(Boolean, default=False)
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



# -- cohorts ------------------------------------------------------------------------------
# Upstream ``openedx.core.djangoapps.course_groups`` (CourseUserGroup with CourseCohort and
# CourseUserGroupPartitionGroup folded into one row, CohortMembership,
# CourseCohortsSettings, UnregisteredLearnerCohortAssignments) and the instructor task
# that applies a cohort CSV (``cohort_students``), with its results report.

COHORT_NAME_MAX_LENGTH = 255
COHORT_MANUAL = "manual"
COHORT_RANDOM = "random"
COHORT_ASSIGNMENT_TYPES = (COHORT_MANUAL, COHORT_RANDOM)


class Cohort(Base):
    """A cohort of a course run: its name (unique in the course), how learners join
    it, and the content group it is linked to (both ids null when unlinked)."""

    __tablename__ = "enrollment_cohort_group"
    __table_args__ = (UniqueConstraint("course_key", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH))
    name: Mapped[str] = mapped_column(String(COHORT_NAME_MAX_LENGTH))
    assignment_type: Mapped[str] = mapped_column(String(20), default=COHORT_MANUAL)
    user_partition_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    group_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CohortMembership(Base):
    """A learner's one cohort in a course: the unique (user, course) pair is what keeps
    concurrent assignments from putting anyone in two cohorts."""

    __tablename__ = "enrollment_cohort_membership"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Named by hand: the conventional name passes PostgreSQL's 63-character limit.
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_cohort_group.id", ondelete="CASCADE",
                   name="fk_enrollment_cohort_membership_cohort"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH))


class CohortSettings(Base):
    """Whether a course is cohorted (``CourseCohortsSettings``); created on first use
    from the course's ``cohort_config``, its id answered by the settings API."""

    __tablename__ = "enrollment_cohort_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH), unique=True)
    is_cohorted: Mapped[bool] = mapped_column(Boolean, default=False)


class CohortPreassignment(Base):
    """An email without an account, put in a cohort: applied when that person enrolls
    (``UnregisteredLearnerCohortAssignments``)."""

    __tablename__ = "enrollment_cohort_preassignment"
    __table_args__ = (
        UniqueConstraint("course_key", "email"),
        Index("ix_enrollment_cohort_preassignment_email", "email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("enrollment_cohort_group.id", ondelete="CASCADE",
                   name="fk_enrollment_cohort_preassignment_cohort"), index=True)
    # Stored lower-cased, so a person's email finds it through the index.
    email: Mapped[str] = mapped_column(String(254))
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH))


class CohortUpload(Base):
    """One cohort CSV upload and the background task applying it (upstream's
    ``cohort_students`` instructor task): its progress while it runs, then the results
    report (CSV) kept for course staff."""

    __tablename__ = "enrollment_cohort_upload"
    __table_args__ = (Index("ix_enrollment_cohort_upload_course_key_id", "course_key", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH))
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), nullable=True, index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    # The uploaded CSV (at most 2,000,000 bytes), dropped once applied.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Upstream's task states: QUEUING, PROGRESS, SUCCESS, FAILURE.
    task_state: Mapped[str] = mapped_column(String(16), default="QUEUING")
    step: Mapped[str] = mapped_column(String(64), default="")
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempted: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    preassigned: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

# -- embargo (country access rules) and course email opt-outs ------------------------------
# Upstream ``openedx.core.djangoapps.embargo`` (RestrictedCourse, CountryAccessRule) and
# ``lms.djangoapps.bulk_email`` (Optout).

EMBARGO_WHITELIST = "whitelist"
EMBARGO_BLACKLIST = "blacklist"
EMBARGO_RULE_TYPES = (EMBARGO_WHITELIST, EMBARGO_BLACKLIST)
EMBARGO_DEFAULT_MESSAGE_KEY = "default"


class EmbargoRestrictedCourse(Base):
    """A course whose access depends on the learner's country (``RestrictedCourse``)."""

    __tablename__ = "enrollment_embargo_restricted_course"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH), unique=True)
    # Which blocked-message page a refused learner is sent to (upstream message keys).
    enroll_msg_key: Mapped[str] = mapped_column(String(255),
                                                default=EMBARGO_DEFAULT_MESSAGE_KEY)
    access_msg_key: Mapped[str] = mapped_column(String(255),
                                                default=EMBARGO_DEFAULT_MESSAGE_KEY)
    disable_access_check: Mapped[bool] = mapped_column(Boolean, default=False)


class EmbargoCountryRule(Base):
    """One country on a restricted course's whitelist or blacklist (``CountryAccessRule``).

    A country is on one list or the other for a course, never both."""

    __tablename__ = "enrollment_embargo_country_rule"
    __table_args__ = (UniqueConstraint("restricted_course_id", "country"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    restricted_course_id: Mapped[int] = mapped_column(
        # Named by hand: the conventional name passes PostgreSQL's 63-character limit.
        ForeignKey("enrollment_embargo_restricted_course.id", ondelete="CASCADE",
                   name="fk_enrollment_embargo_country_rule_restricted_course"))
    # ISO 3166-1 alpha-2, upper case.
    country: Mapped[str] = mapped_column(String(2))
    rule_type: Mapped[str] = mapped_column(String(16), default=EMBARGO_BLACKLIST)


class EmbargoIPFilter(Base):
    """Addresses always refused or always let through (upstream ``IPFilter``, a
    configuration model: each change adds a row, the newest one applies).

    ``whitelist``/``blacklist``: comma-separated IP addresses and networks (CIDR)."""

    __tablename__ = "enrollment_embargo_ip_filter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    whitelist: Mapped[str] = mapped_column(Text, default="")
    blacklist: Mapped[str] = mapped_column(Text, default="")


class CourseEmailOptout(Base):
    """A learner who does not want a course's bulk email (upstream ``Optout``)."""

    __tablename__ = "enrollment_email_optout"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_MAX_LENGTH), index=True)


# Upstream ``student.models`` transition states of a manual enrollment.
UNENROLLED_TO_ALLOWEDTOENROLL = "from unenrolled to allowed to enroll"
ALLOWEDTOENROLL_TO_ENROLLED = "from allowed to enroll to enrolled"
ENROLLED_TO_ENROLLED = "from enrolled to enrolled"
ENROLLED_TO_UNENROLLED = "from enrolled to unenrolled"
UNENROLLED_TO_ENROLLED = "from unenrolled to enrolled"
ALLOWEDTOENROLL_TO_UNENROLLED = "from allowed to enroll to unenrolled"
UNENROLLED_TO_UNENROLLED = "from unenrolled to unenrolled"
DEFAULT_TRANSITION_STATE = "N/A"


class ManualEnrollmentAudit(Base):
    """Who enrolled or unenrolled whom by hand, and why (upstream
    ``ManualEnrollmentAudit``); retirement replaces the email and blanks the reason."""

    __tablename__ = "enrollment_manual_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for an email without an account (an allowed enrollment).
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollment_enrollment.id", ondelete="CASCADE"), nullable=True, index=True)
    enrolled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL"), nullable=True, index=True)
    enrolled_email: Mapped[str] = mapped_column(String(255), index=True)
    time_stamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_transition: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)
