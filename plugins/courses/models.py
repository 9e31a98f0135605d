"""Course content: organizations, course overviews, the published block tree, assets.

A course's blocks belong to one *version* (a 24-hex id, Open edX's
``published_version``). Re-importing writes a new version and removes the old
one in the same transaction, so readers see either the old or the new course,
never a mix; caches keyed by version never go stale.
"""
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow


class Organization(Base):
    __tablename__ = "courses_organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    logo: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Course(Base):
    """The course overview (what catalog and course APIs show) and its current version."""

    __tablename__ = "courses_course"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(255), unique=True)
    org: Mapped[str] = mapped_column(String(255), index=True)
    number: Mapped[str] = mapped_column(String(255))
    run: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(24))
    published_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    display_number: Mapped[str | None] = mapped_column(String(255), nullable=True)
    display_org: Mapped[str | None] = mapped_column(String(255), nullable=True)
    start: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    end: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    enrollment_start: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    enrollment_end: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    advertised_start: Mapped[str | None] = mapped_column(String(255), nullable=True)
    certificate_available_date: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    self_paced: Mapped[bool] = mapped_column(Boolean, default=False)
    invitation_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # "both", "about" or "none" (Open edX catalog_visibility).
    catalog_visibility: Mapped[str] = mapped_column(String(32), default="both")
    # "private", "public_outline" or "public" (Open edX course_visibility).
    course_visibility: Mapped[str] = mapped_column(String(32), default="private")
    mobile_available: Mapped[bool] = mapped_column(Boolean, default=False)
    days_early_for_beta: Mapped[float | None] = mapped_column(Float, nullable=True)
    language: Mapped[str | None] = mapped_column(String(64), nullable=True)
    effort: Mapped[str | None] = mapped_column(String(255), nullable=True)
    short_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    overview: Mapped[str | None] = mapped_column(Text, nullable=True)
    course_image: Mapped[str | None] = mapped_column(String(255), nullable=True)
    banner_image: Mapped[str | None] = mapped_column(String(255), nullable=True)
    course_video_youtube_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    handouts_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    updates_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    # {"GRADER": [...], "GRADE_CUTOFFS": {...}} as in grading_policy.json.
    grading_policy: Mapped[dict] = mapped_column(JSON, default=dict)
    # Every other course-level field (tabs, discussion_topics, teams_configuration,
    # user_partitions, entrance exam, license, about pages, ...), JSON-decoded.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Block(Base):
    """One block of a course version; ``children`` keeps the OLX order."""

    __tablename__ = "courses_block"
    __table_args__ = (
        UniqueConstraint("version", "usage_key"),
        Index("ix_courses_block_course_key_usage_key", "course_key", "usage_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True)
    course_key: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(24), index=True)
    usage_key: Mapped[str] = mapped_column(String(255))
    block_type: Mapped[str] = mapped_column(String(64))
    block_id: Mapped[str] = mapped_column(String(255))
    # Document order (pre-order from the root): the order blocks are listed in.
    position: Mapped[int] = mapped_column(Integer)
    display_name: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    children: Mapped[list] = mapped_column(JSON, default=list)
    # Settings-scope fields (start, due, graded, format, group_access, ...), JSON-decoded.
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    # Content: html body, problem XML, video sources, raw OLX of unknown blocks.
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Asset(Base):
    """A file of the course's ``static/`` folder (``asset-v1:...+type@asset+block@name``)."""

    __tablename__ = "courses_asset"
    __table_args__ = (UniqueConstraint("course_key", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses_course.id", ondelete="CASCADE"), index=True)
    course_key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Celebration(Base):
    """Which courseware celebrations a learner has seen (first section, weekly goal)."""

    __tablename__ = "courses_celebration"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(255), index=True)
    celebrate_first_section: Mapped[bool] = mapped_column(Boolean, default=False)
    celebrate_weekly_goal: Mapped[bool] = mapped_column(Boolean, default=False)

