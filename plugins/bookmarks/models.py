"""bookmarks tables: a learner's bookmark of a block (course key and usage key strings,
the owner by user id)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

KEY_LENGTH = 255


class Bookmark(Base):
    __tablename__ = "bookmarks_bookmark"
    __table_args__ = (
        UniqueConstraint("user_id", "usage_key", name="uq_bookmarks_bookmark_user_usage"),
        Index("ix_bookmarks_bookmark_user_course", "user_id", "course_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    usage_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
