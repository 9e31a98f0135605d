"""Core models: users, course access roles, OAuth2 clients and tokens, sessions.

Core tables carry the ``lms_`` prefix; plugin tables carry the plugin's name.
"""
import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow


def _anonymous_id():
    return uuid.uuid4().hex


class User(Base):
    __tablename__ = "lms_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    password: Mapped[str] = mapped_column(String(255), default="!")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    date_joined: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    last_login: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    # The JWT ``sub``: stable, opaque, 32 lowercase hex characters.
    anonymous_id: Mapped[str] = mapped_column(String(32), unique=True, default=_anonymous_id)

    def __repr__(self):
        return f"<User {self.username}>"


# Case-insensitive lookups (lms.users.equal_ignoring_case, the same expression) search
# these. Not unique: imported accounts may differ only by case.
Index("ix_lms_user_lower_username", func.lower(User.username))
Index("ix_lms_user_lower_email", func.lower(User.email))


class CourseAccessRole(Base):
    """A role in a course (org + course_key), in a whole org (course_key ''), or global."""

    __tablename__ = "lms_course_access_role"
    __table_args__ = (UniqueConstraint("user_id", "org", "course_key", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    org: Mapped[str] = mapped_column(String(64), default="", index=True)
    course_key: Mapped[str] = mapped_column(String(255), default="", index=True)
    role: Mapped[str] = mapped_column(String(64))


class OAuthApplication(Base):
    __tablename__ = "lms_oauth_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(100), unique=True)
    # Hash of the secret; public clients (password grant, mobile) have none.
    client_secret_hash: Mapped[str] = mapped_column(String(255), default="")
    client_type: Mapped[str] = mapped_column(String(32), default="confidential")
    # django-oauth-toolkit spelling: password, client-credentials, authorization-code.
    grant_type: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    allowed_scopes: Mapped[list] = mapped_column(JSON, default=list)
    redirect_uris: Mapped[str] = mapped_column(Text, default="")
    is_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    # JWT ``filters`` for restricted applications, e.g. ["content_org:edX"].
    filters: Mapped[list] = mapped_column(JSON, default=list)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class OAuthAccessToken(Base):
    __tablename__ = "lms_oauth_access_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the opaque token: the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("lms_oauth_application.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    expires: Mapped[object] = mapped_column(UTCDateTime)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class OAuthRefreshToken(Base):
    __tablename__ = "lms_oauth_refresh_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("lms_oauth_application.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    access_token_id: Mapped[int] = mapped_column(
        ForeignKey("lms_oauth_access_token.id", ondelete="SET NULL"), nullable=True
    )
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    expires: Mapped[object] = mapped_column(UTCDateTime)
    revoked: Mapped[object] = mapped_column(UTCDateTime, nullable=True)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(Base):
    """Server-side browser session; the cookie carries only a signed random key."""

    __tablename__ = "lms_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    expires: Mapped[object] = mapped_column(UTCDateTime)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """Failed-login counter per user (MAX_FAILED_LOGIN_ATTEMPTS lockout)."""

    __tablename__ = "lms_login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), unique=True
    )
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    lockout_until: Mapped[object] = mapped_column(UTCDateTime, nullable=True)


class ThrottleHit(Base):
    """Fixed-window request counters shared by every worker (throttling)."""

    __tablename__ = "lms_throttle"
    __table_args__ = (UniqueConstraint("scope", "ident", "window_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    ident: Mapped[str] = mapped_column(String(255))
    window_start: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
