"""hello's tables; every one is prefixed ``hello_``."""
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

MESSAGE_MAX_LENGTH = 280


class Greeting(Base):
    __tablename__ = "hello_greeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Core tables are referred to by name, never by importing their classes
    # into a relationship().
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"),
                                         index=True)
    message: Mapped[str] = mapped_column(String(MESSAGE_MAX_LENGTH))
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
