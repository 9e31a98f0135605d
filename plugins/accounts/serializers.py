"""The account representation of ``/api/user/v1/accounts`` and who may see which field.

Upstream ``UserReadOnlySerializer`` + ``ACCOUNT_VISIBILITY_CONFIGURATION``:

- the owner, or global staff without ``?view=shared``, see the admin field list;
- everyone else sees the list the target's *effective* privacy selects:
  ``all_users`` → the bulk-shareable list, ``custom`` → the public fields plus
  each custom-shareable field whose ``visibility.<field>`` preference is
  ``all_users``, anything else → the public fields;
- a profile that requires parental consent (no year of birth counts, unless
  COPPA compliance is on) is always ``private``.

Keys come out in the order of the selected list (the admin list is the full
upstream order). Other plugins' helpers may import :func:`get_accounts` and
:func:`serialize_account`.
"""
import hashlib
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import select

from lms.settings import as_bool, as_int, as_list, parse_rate
from lms.timeutil import aware, isoformat, utcnow
from plugins.accounts.config import accounts_config
from plugins.accounts.models import PendingNameChange, UserPreference, UserProfile

ACCOUNT_PRIVACY = "account_privacy"
VISIBILITY_PREFIX = "visibility."
PRIVATE = "private"
ALL_USERS = "all_users"
CUSTOM = "custom"

PUBLIC_FIELDS = ("account_privacy", "profile_image", "username")
BULK_SHAREABLE_FIELDS = PUBLIC_FIELDS + (
    "bio", "course_certificates", "country", "date_joined", "language_proficiencies",
    "level_of_education", "social_links", "time_zone",
)
CUSTOM_SHAREABLE_FIELDS = BULK_SHAREABLE_FIELDS + ("name",)
ADMIN_FIELDS = CUSTOM_SHAREABLE_FIELDS + (
    "email", "id", "verified_name", "extended_profile", "gender", "state", "goals",
    "is_active", "last_login", "mailing_address", "requires_parental_consent",
    "secondary_email", "secondary_email_enabled", "year_of_birth", "phone_number",
    "pending_name_change",
)

# PROFILE_IMAGE_SIZES_MAP, in upstream order.
PROFILE_IMAGE_SIZES = (("full", 500), ("large", 120), ("medium", 50), ("small", 30))
DEFAULT_PROFILE_IMAGE_PATH = "/static/images/profiles/default_{size}.png"
PROFILE_IMAGE_EXTENSION = "jpg"

# Settings of the accounts / profile-image family (declared by the plugin).
SETTINGS = {
    # ACCOUNT_VISIBILITY_CONFIGURATION; field lists are space-separated.
    "accounts.default_visibility": ALL_USERS,
    "accounts.public_fields": " ".join(PUBLIC_FIELDS),
    "accounts.bulk_shareable_fields": " ".join(BULK_SHAREABLE_FIELDS),
    "accounts.custom_shareable_fields": " ".join(CUSTOM_SHAREABLE_FIELDS),
    "accounts.admin_fields": " ".join(ADMIN_FIELDS),
    # Site configuration ``extended_profile_fields``: names kept in the profile's meta.
    "accounts.extended_profile_fields": "",
    # ENABLE_COPPA_COMPLIANCE: when true, a missing year of birth needs no consent.
    "accounts.enable_coppa_compliance": "false",
    "accounts.parental_consent_age_limit": "13",
    # The ``enable_secondary_email_feature`` switch.
    "accounts.enable_secondary_email": "false",
    # FEATURES['ALLOW_EMAIL_ADDRESS_CHANGE'].
    "accounts.allow_email_change": "true",
    # EMAIL_CHANGE_RATE_LIMIT / SECONDARY_EMAIL_RATE_LIMIT ("<count>/<s|m|h|d>"; empty: none).
    "accounts.email_change_rate": "",
    "accounts.secondary_email_rate": "",
    # Profile images: where the resized JPEGs live and the URL they are served at
    # (an absolute URL, e.g. a CDN, is used as is; a path is served by openlms).
    "accounts.profile_image_dir": "var/profile-images",
    "accounts.profile_image_url": "/media/profile-images/",
    # PROFILE_IMAGE_HASH_SEED (file names are md5(seed + username)); empty: lms.secret_key.
    "accounts.profile_image_hash_seed": "",
    "accounts.profile_image_max_bytes": "1048576",
    "accounts.profile_image_min_bytes": "100",
    # Decoded size guard (width × height) against decompression bombs.
    "accounts.profile_image_max_pixels": "36000000",
    # USERNAME_REPLACEMENT_WORKER: the one account allowed to replace usernames.
    "accounts.username_replacement_worker": "",
    # Accounts holding ``student.can_deactivate_users`` besides superusers.
    "accounts.deactivation_usernames": "",
}

@dataclass(frozen=True)
class AccountConfig:
    default_visibility: str
    public_fields: tuple
    bulk_shareable_fields: tuple
    custom_shareable_fields: tuple
    admin_fields: tuple
    extended_profile_fields: tuple
    coppa_compliance: bool
    consent_age_limit: int
    secondary_email_enabled: bool
    profile_image_url: str
    profile_image_hash_seed: str
    allow_email_change: bool
    # EMAIL_CHANGE_RATE_LIMIT / SECONDARY_EMAIL_RATE_LIMIT; "" means no limit.
    email_change_rate: str
    secondary_email_rate: str

    @classmethod
    def from_settings(cls, settings):
        return cls(
            default_visibility=settings["accounts.default_visibility"],
            public_fields=tuple(as_list(settings, "accounts.public_fields")),
            bulk_shareable_fields=tuple(as_list(settings, "accounts.bulk_shareable_fields")),
            custom_shareable_fields=tuple(as_list(settings, "accounts.custom_shareable_fields")),
            admin_fields=tuple(as_list(settings, "accounts.admin_fields")),
            extended_profile_fields=tuple(as_list(settings, "accounts.extended_profile_fields")),
            coppa_compliance=as_bool(settings, "accounts.enable_coppa_compliance"),
            consent_age_limit=as_int(settings, "accounts.parental_consent_age_limit"),
            secondary_email_enabled=as_bool(settings, "accounts.enable_secondary_email"),
            profile_image_url=settings["accounts.profile_image_url"],
            profile_image_hash_seed=(settings["accounts.profile_image_hash_seed"]
                                     or settings["lms.secret_key"]),
            allow_email_change=as_bool(settings, "accounts.allow_email_change"),
            email_change_rate=_optional_rate(settings, "accounts.email_change_rate"),
            secondary_email_rate=_optional_rate(settings, "accounts.secondary_email_rate"),
        )


def _optional_rate(settings, key):
    rate = (settings.get(key) or "").strip()
    if rate:
        parse_rate(rate)  # a bad rate stops the start-up
    return rate


def account_config(registry):
    """The account API's settings, parsed at start-up (:mod:`plugins.accounts.config`)."""
    return accounts_config(registry).account


# -- profile rules ---------------------------------------------------------------

def requires_parental_consent(config, profile, year=None):
    """``UserProfile.requires_parental_consent``: the youngest possible age is under the limit."""
    year_of_birth = profile.year_of_birth if profile is not None else None
    if year_of_birth is None:
        return not config.coppa_compliance
    year = year if year is not None else utcnow().year
    return year - year_of_birth - 1 < config.consent_age_limit


def effective_privacy(config, profile, preferences):
    if requires_parental_consent(config, profile):
        return PRIVATE
    return preferences.get(ACCOUNT_PRIVACY) or config.default_visibility


def visible_fields(config, privacy, preferences):
    if privacy == ALL_USERS:
        return config.bulk_shareable_fields
    if privacy == CUSTOM:
        shared = [name for name in config.custom_shareable_fields
                  if preferences.get(VISIBILITY_PREFIX + name) == ALL_USERS]
        # Upstream returns a set; keep the public fields first, then the shared ones.
        return tuple(dict.fromkeys(list(config.public_fields) + shared))
    return config.public_fields


def profile_image_name(config, username):
    """The hashed stem of a user's image files (``<stem>_<size>.jpg``)."""
    return hashlib.md5((config.profile_image_hash_seed + username).encode()).hexdigest()


def profile_image_file_names(config, username):
    stem = profile_image_name(config, username)
    return {size: f"{stem}_{size}.{PROFILE_IMAGE_EXTENSION}" for _, size in PROFILE_IMAGE_SIZES}


def has_profile_image(profile):
    return profile is not None and profile.profile_image_uploaded_at is not None


def _absolute(request, url):
    if url.startswith(("http://", "https://")):
        return url
    return request.application_url + url


def profile_image(request, config, username, profile):
    """``{"has_image", "image_url_full", ...}`` with absolute URLs."""
    if has_profile_image(profile):
        names = profile_image_file_names(config, username)
        version = int(aware(profile.profile_image_uploaded_at).astimezone(timezone.utc).timestamp())
        base = config.profile_image_url.rstrip("/") + "/"
        urls = {label: f"{base}{names[size]}?v={version}" for label, size in PROFILE_IMAGE_SIZES}
    else:
        urls = {label: DEFAULT_PROFILE_IMAGE_PATH.format(size=size)
                for label, size in PROFILE_IMAGE_SIZES}
    body = {"has_image": has_profile_image(profile)}
    body.update({f"image_url_{label}": _absolute(request, url) for label, url in urls.items()})
    return body


def _empty_to_none(value):
    return None if value == "" else value


def extended_profile(config, profile):
    meta = (profile.meta if profile is not None else None) or {}
    return [{"field_name": name, "field_value": meta.get(name, "")}
            for name in config.extended_profile_fields]


# -- serialization ---------------------------------------------------------------

@dataclass
class AccountData:
    """Everything the representation needs about one user, loaded in bulk."""

    user: object
    profile: object = None
    preferences: dict = None
    pending_name_change: str | None = None


def load_account_data(db, users):
    """Profiles, privacy preferences and pending name changes: three queries for any number."""
    ids = [user.id for user in users]
    data = {user.id: AccountData(user=user, preferences={}) for user in users}
    if not ids:
        return []
    for profile in db.scalars(select(UserProfile).where(UserProfile.user_id.in_(ids))):
        data[profile.user_id].profile = profile
    rows = db.execute(select(UserPreference.user_id, UserPreference.key, UserPreference.value)
                      .where(UserPreference.user_id.in_(ids),
                             (UserPreference.key == ACCOUNT_PRIVACY)
                             | UserPreference.key.startswith(VISIBILITY_PREFIX, autoescape=True)))
    for user_id, key, value in rows:
        data[user_id].preferences[key] = value
    for user_id, new_name in db.execute(select(PendingNameChange.user_id,
                                               PendingNameChange.new_name)
                                        .where(PendingNameChange.user_id.in_(ids))):
        data[user_id].pending_name_change = new_name
    return [data[user.id] for user in users]


def full_representation(request, config, account):
    """Every field upstream computes, before the visibility filter."""
    user, profile = account.user, account.profile
    date_joined = aware(user.date_joined)
    return {
        "account_privacy": effective_privacy(config, profile, account.preferences),
        "profile_image": profile_image(request, config, user.username, profile),
        "username": user.username,
        "bio": _empty_to_none(profile.bio) if profile else None,
        # Listed in the visibility configuration but never filled upstream.
        "course_certificates": None,
        "country": _empty_to_none(profile.country) if profile else None,
        "date_joined": isoformat(date_joined.replace(microsecond=0)) if date_joined else None,
        "language_proficiencies": sorted(
            ({"code": item["code"]} for item in (profile.language_proficiencies or [])),
            key=lambda item: item["code"]) if profile else [],
        "level_of_education": _empty_to_none(profile.level_of_education) if profile else None,
        "social_links": sorted(
            ({"platform": item["platform"], "social_link": item["social_link"]}
             for item in (profile.social_links or [])),
            key=lambda item: item["platform"]) if profile else [],
        "time_zone": None,
        "name": user.name,
        "email": user.email,
        "id": user.id,
        # Name affirmation (verified names) is not part of openlms.
        "verified_name": None,
        "extended_profile": extended_profile(config, profile),
        "gender": _empty_to_none(profile.gender) if profile else None,
        "state": _empty_to_none(profile.state) if profile else None,
        "goals": profile.goals if profile else None,
        "is_active": user.is_active,
        "last_login": isoformat(user.last_login),
        "mailing_address": profile.mailing_address if profile else None,
        "requires_parental_consent": requires_parental_consent(config, profile),
        "secondary_email": (profile.secondary_email if profile else None)
        if config.secondary_email_enabled else None,
        "secondary_email_enabled": True if config.secondary_email_enabled else None,
        "year_of_birth": profile.year_of_birth if profile else None,
        "phone_number": profile.phone_number if profile else None,
        "pending_name_change": account.pending_name_change,
    }


def serialize_account(request, account, view=None, config=None):
    """One account as ``request.user`` may see it (``view="shared"``: as others see it)."""
    config = config or account_config(request.registry)
    requester = request.user
    target = account.user
    full_access = requester is not None and (
        requester.is_staff or requester.username == target.username)
    data = full_representation(request, config, account)
    if full_access and view != "shared":
        fields = config.admin_fields
    else:
        fields = visible_fields(config, data["account_privacy"], account.preferences)
    return {name: data.get(name) for name in fields}


def get_accounts(request, users, view=None):
    """Serialize ``users`` (in the given order) for ``request.user``; a fixed number of queries."""
    config = account_config(request.registry)
    return [serialize_account(request, account, view, config)
            for account in load_account_data(request.dbsession, list(users))]


def get_account(request, user, view=None):
    return get_accounts(request, [user], view)[0]
