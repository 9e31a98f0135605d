"""Accounts: profiles, preferences, activation, identity, tours, retirement.

The core owns the user row (``lms_user``: username, email, name, password,
flags); everything else a person has is here, keyed by ``user_id``.
"""
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow


def _user_fk(**kw):
    return mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), **kw)


class UserProfile(Base):
    """Open edX ``UserProfile`` (the full name is the core user's ``name``)."""

    __tablename__ = "accounts_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    year_of_birth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gender: Mapped[str | None] = mapped_column(String(6), nullable=True)
    level_of_education: Mapped[str | None] = mapped_column(String(6), nullable=True)
    mailing_address: Mapped[str | None] = mapped_column(Text, nullable=True)
    city: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str | None] = mapped_column(String(2), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    goals: Mapped[str | None] = mapped_column(Text, nullable=True)
    bio: Mapped[str | None] = mapped_column(String(3000), nullable=True)
    phone_number: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # [{"code": "en"}, ...] and [{"platform": "x", "social_link": "https://..."}, ...]
    language_proficiencies: Mapped[list] = mapped_column(JSON, default=list)
    social_links: Mapped[list] = mapped_column(JSON, default=list)
    # Extended profile fields configured by the operator: {"field_name": "value"}.
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    profile_image_uploaded_at: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    secondary_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    secondary_email_active: Mapped[bool] = mapped_column(Boolean, default=False)


class UserPreference(Base):
    __tablename__ = "accounts_preference"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        # The listings by key page on these alone (index-only): a key's users in id
        # order (preferences/{key}/users/), a key's rows in id order (user_prefs/?key=).
        Index("ix_accounts_preference_key_user_id", "key", "user_id"),
        Index("ix_accounts_preference_key_id", "key", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(index=True)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)


class Registration(Base):
    """The activation key sent to a new account (``Registration`` upstream)."""

    __tablename__ = "accounts_registration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    activation_key: Mapped[str] = mapped_column(String(64), unique=True)
    activation_timestamp: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class PendingEmailChange(Base):
    __tablename__ = "accounts_pending_email_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    new_email: Mapped[str] = mapped_column(String(254))
    activation_key: Mapped[str] = mapped_column(String(64), unique=True)
    # "primary" or "secondary" (recovery) address.
    kind: Mapped[str] = mapped_column(String(16), default="primary")
    updated: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PendingNameChange(Base):
    __tablename__ = "accounts_pending_name_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    new_name: Mapped[str] = mapped_column(String(255))
    rationale: Mapped[str] = mapped_column(String(1024), default="")
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class VerificationAttempt(Base):
    """An identity verification (photo, SSO or manual), as verify_student records them."""

    __tablename__ = "accounts_verification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(index=True)
    # SoftwareSecurePhotoVerification, SSOVerification or ManualVerification.
    verification_type: Mapped[str] = mapped_column(String(64))
    # created, ready, submitted, must_retry, approved, denied, expired
    status: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255), default="")
    error_msg: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    expiration_datetime: Mapped[object | None] = mapped_column(UTCDateTime, nullable=True)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SocialAuthLink(Base):
    """A link between a user and a third-party identity (``UserSocialAuth``)."""

    __tablename__ = "accounts_social_auth"
    __table_args__ = (
        UniqueConstraint("provider", "uid"),
        # The provider's user mapping pages its links in id order from this index.
        Index("ix_accounts_social_auth_provider_id", "provider", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(index=True)
    provider: Mapped[str] = mapped_column(String(64))
    uid: Mapped[str] = mapped_column(String(255))
    extra_data: Mapped[dict] = mapped_column(JSON, default=dict)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class UserOrgTag(Base):
    """Per-organization user tags; ``email-optin`` records marketing consent per org."""

    __tablename__ = "accounts_user_org_tag"
    __table_args__ = (UniqueConstraint("user_id", "org", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(index=True)
    org: Mapped[str] = mapped_column(String(255), index=True)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UserTour(Base):
    __tablename__ = "accounts_user_tour"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    # show-existing-user-tour, show-new-user-tour or no-tour
    course_home_tour_status: Mapped[str] = mapped_column(String(64))
    show_courseware_tour: Mapped[bool] = mapped_column(Boolean, default=True)


class DiscussionTour(Base):
    __tablename__ = "accounts_discussion_tour"
    __table_args__ = (UniqueConstraint("user_id", "tour_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(index=True)
    tour_type: Mapped[str] = mapped_column(String(255))
    show_tour: Mapped[bool] = mapped_column(Boolean, default=True)


class Demographics(Base):
    __tablename__ = "accounts_demographics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    show_call_to_action: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RetirementState(Base):
    __tablename__ = "accounts_retirement_state"
    # Seeded by migration: tests keep its rows between tests.
    __table_args__ = {"info": {"reference_data": True}}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_name: Mapped[str] = mapped_column(String(30), unique=True)
    state_execution_order: Mapped[int] = mapped_column(Integer, unique=True)
    is_dead_end_state: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)


class UserRetirementRequest(Base):
    """A learner asked to be forgotten (kept until the retirement is cleaned up)."""

    __tablename__ = "accounts_retirement_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class UserRetirementStatus(Base):
    __tablename__ = "accounts_retirement_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    original_username: Mapped[str] = mapped_column(String(150), index=True)
    original_email: Mapped[str] = mapped_column(String(254), index=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    retired_username: Mapped[str] = mapped_column(String(150), index=True)
    retired_email: Mapped[str] = mapped_column(String(254), index=True)
    current_state_id: Mapped[int] = mapped_column(ForeignKey("accounts_retirement_state.id"))
    last_state_id: Mapped[int] = mapped_column(ForeignKey("accounts_retirement_state.id"))
    # Append-only log of what each step said; never serialized.
    responses: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UserRetirementPartnerReport(Base):
    """A retired learner to report to partners (orgs they were enrolled with)."""

    __tablename__ = "accounts_retirement_partner_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = _user_fk(unique=True)
    original_username: Mapped[str] = mapped_column(String(150))
    original_email: Mapped[str] = mapped_column(String(254))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    orgs: Mapped[list] = mapped_column(JSON, default=list)
    is_being_processed: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
