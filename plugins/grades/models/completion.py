"""grades tables: completion (upstream ``completion.BlockCompletion``): how far a learner
has completed each block, 0.0 to 1.0. The newest row of a course is where the learner
resumes."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

__all__ = ["BlockCompletion"]

KEY_LENGTH = 255


class BlockCompletion(Base):
    """One learner's completion of one block of a course."""

    __tablename__ = "grades_block_completion"
    __table_args__ = (
        UniqueConstraint("user_id", "course_key", "block_key"),
        # resume: the learner's most recently modified completion in a course
        Index("ix_grades_block_completion_resume", "user_id", "course_key", "modified"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    block_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    block_type: Mapped[str] = mapped_column(String(64))
    completion: Mapped[float] = mapped_column(Float)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
