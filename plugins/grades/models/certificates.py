"""grades tables: certificates (upstream ``certificates.GeneratedCertificate`` and
``CertificateAllowlist``). A course's certificate configuration is not a table: it is
the course's own ``certificates`` and ``cert_html_view_enabled`` policy fields (the
courses plugin keeps them in ``Course.settings``), as upstream reads them from the
course."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

__all__ = ["GeneratedCertificate", "CertificateAllowlist"]

KEY_LENGTH = 255


class GeneratedCertificate(Base):
    """A learner's certificate in a course run (one per user and course, whatever its
    status). ``grade`` is the course percent as a string when the status was set;
    ``download_url`` stays empty for web certificates (upstream's PDF remnant)."""

    __tablename__ = "grades_generated_certificate"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH), index=True)
    verify_uuid: Mapped[str] = mapped_column(String(32), default="", index=True)
    grade: Mapped[str] = mapped_column(String(5), default="")
    status: Mapped[str] = mapped_column(String(32), default="unavailable")
    mode: Mapped[str] = mapped_column(String(32), default="honor")
    name: Mapped[str] = mapped_column(String(255), default="")
    download_uuid: Mapped[str] = mapped_column(String(32), default="")
    download_url: Mapped[str] = mapped_column(String(128), default="")
    error_reason: Mapped[str] = mapped_column(String(512), default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CertificateAllowlist(Base):
    """A learner the course team lets earn a certificate without a passing grade
    (``allowlist`` false keeps the row but switches it off, as upstream)."""

    __tablename__ = "grades_certificate_allowlist"
    __table_args__ = (UniqueConstraint("user_id", "course_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"))
    course_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    allowlist: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
