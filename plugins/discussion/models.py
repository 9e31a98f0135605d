"""discussion tables: what Open edX keeps in its separate forum service (threads,
comments, votes, flags, subscriptions, read states, edit history) and in the LMS (forum
roles, a course's discussion settings), here in one plugin.

Courses belong to the courses plugin and people to the core: rows name them by course key
string and user id. Public ids of threads and comments are 24 hex characters, as the
forum service's; the integer primary keys stay internal.
"""
import secrets
from datetime import datetime

from sqlalchemy import (JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

KEY_LENGTH = 255
TITLE_LENGTH = 1024
USER_FK = "lms_user.id"


def new_content_id():
    """A forum-service style id: 24 lowercase hex characters."""
    return secrets.token_hex(12)


class Thread(Base):
    """A post: a ``discussion`` or a ``question`` in one topic (``commentable_id``)."""

    __tablename__ = "discussion_thread"
    __table_args__ = (
        # The lists' orderings (pinned first, then activity, votes or comments), read
        # backwards from the page's start instead of sorting the course's threads.
        Index("ix_discussion_thread_course_activity", "course_key", "pinned",
              "last_activity_at", "id"),
        Index("ix_discussion_thread_course_votes", "course_key", "pinned", "vote_count", "id"),
        Index("ix_discussion_thread_course_comments", "course_key", "pinned", "comment_count",
              "id"),
        Index("ix_discussion_thread_course_topic", "course_key", "topic_id", "pinned",
              "last_activity_at", "id"),
        Index("ix_discussion_thread_author", "author_id", "course_key"),
        # text_search on PostgreSQL (plugins.discussion.search spells the same expression)
        Index("ix_discussion_thread_search",
              text("to_tsvector('english'::regconfig, (COALESCE(title, '') || ' ') "
                   "|| COALESCE(body, ''))"),
              postgresql_using="gin").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_content_id)
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    topic_id: Mapped[str] = mapped_column(String(255))
    thread_type: Mapped[str] = mapped_column(String(16), default="discussion")
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous_to_peers: Mapped[bool] = mapped_column(Boolean, default=False)
    # a cohort id, or an enrollment track's group id (see :mod:`.division`)
    group_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    close_reason_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # counters kept with every write, so that lists read them with the rows
    comment_count: Mapped[int] = mapped_column(Integer, default=0)  # responses and replies
    response_count: Mapped[int] = mapped_column(Integer, default=0)  # responses only
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    endorsed: Mapped[bool] = mapped_column(Boolean, default=False)  # has an endorsed response
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    """A response to a thread (no parent) or a reply to a response (``parent_id``)."""

    __tablename__ = "discussion_comment"
    __table_args__ = (
        Index("ix_discussion_comment_thread_parent", "thread_id", "parent_id", "created_at"),
        Index("ix_discussion_comment_author", "author_id", "course_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_content_id)
    thread_id: Mapped[int] = mapped_column(ForeignKey("discussion_thread.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_comment.id", ondelete="CASCADE"), nullable=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous_to_peers: Mapped[bool] = mapped_column(Boolean, default=False)
    endorsed: Mapped[bool] = mapped_column(Boolean, default=False)
    endorsed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    child_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Vote(Base):
    """An up-vote by a user on a thread or a comment (exactly one of the two)."""

    __tablename__ = "discussion_vote"
    __table_args__ = (
        UniqueConstraint("user_id", "thread_id", name="uq_discussion_vote_user_thread"),
        UniqueConstraint("user_id", "comment_id", name="uq_discussion_vote_user_comment"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_thread.id", ondelete="CASCADE"), nullable=True, index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_comment.id", ondelete="CASCADE"), nullable=True, index=True)


class Flag(Base):
    """An abuse flag; ``cleared`` flags (a moderator un-flagged the content) are the forum
    service's historical abuse flaggers."""

    __tablename__ = "discussion_flag"
    __table_args__ = (
        UniqueConstraint("user_id", "thread_id", name="uq_discussion_flag_user_thread"),
        UniqueConstraint("user_id", "comment_id", name="uq_discussion_flag_user_comment"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH), index=True)
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_thread.id", ondelete="CASCADE"), nullable=True, index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_comment.id", ondelete="CASCADE"), nullable=True, index=True)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscription(Base):
    """A user following a thread."""

    __tablename__ = "discussion_subscription"
    __table_args__ = (UniqueConstraint("user_id", "thread_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_thread.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadState(Base):
    """When a user last read a thread: comments created after it are unread."""

    __tablename__ = "discussion_read_state"
    __table_args__ = (UniqueConstraint("user_id", "thread_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("discussion_thread.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EditHistory(Base):
    """One edit of a thread's or comment's body: the body before it, who edited and why."""

    __tablename__ = "discussion_edit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_thread.id", ondelete="CASCADE"), nullable=True, index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_comment.id", ondelete="CASCADE"), nullable=True, index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"))
    original_body: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ForumRole(Base):
    """A forum role held by a user in a course (Administrator, Moderator, Group Moderator,
    Community TA, Student)."""

    __tablename__ = "discussion_forum_role"
    __table_args__ = (UniqueConstraint("course_key", "user_id", "name"),
                      Index("ix_discussion_forum_role_course_name", "course_key", "name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    user_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(30))


class CourseSettings(Base):
    """A course's discussion division settings (upstream ``CourseDiscussionSettings``);
    a course without a row has the defaults."""

    __tablename__ = "discussion_course_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the settings API's "id"
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    division_scheme: Mapped[str] = mapped_column(String(20), default="none")
    always_divide_inline_discussions: Mapped[bool] = mapped_column(Boolean, default=False)
    divided_discussions: Mapped[list] = mapped_column(JSON, default=list)
    reported_content_email_notifications: Mapped[bool] = mapped_column(Boolean, default=False)


class Upload(Base):
    """A file a user attached to a post, served at its ``location``."""

    __tablename__ = "discussion_upload"
    __table_args__ = (UniqueConstraint("course_key", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    name: Mapped[str] = mapped_column(String(255))  # {thread_key}/{random hex}{extension}
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
