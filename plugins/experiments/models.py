"""Tables of the experiments plugin (upstream ``lms.djangoapps.experiments``)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

# Upstream's PositiveSmallIntegerField holds 0..65535 on MySQL, which the API
# documents; smallint is signed on PostgreSQL, so the column is a full integer.
EXPERIMENT_ID_MAX = 65535
KEY_MAX_LENGTH = 255


class ExperimentData(Base):
    """One value a learner's browser stored for an experiment (``ExperimentData``)."""

    __tablename__ = "experiments_data"
    # Its index also serves every per-user lookup, so no separate user index.
    __table_args__ = (UniqueConstraint("user_id", "experiment_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A table name, not a model: plugins never import each other's classes.
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    experiment_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    value: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ExperimentKeyValue(Base):
    """A site-wide setting of an experiment, written by staff (``ExperimentKeyValue``)."""

    __tablename__ = "experiments_key_value"
    __table_args__ = (UniqueConstraint("experiment_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    value: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
