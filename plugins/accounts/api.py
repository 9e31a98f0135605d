"""The accounts plugin's public Python API: the only module other plugins may import."""
import hashlib

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lms.models import User
from lms.settings import as_list
from plugins.accounts.models import UserPreference, UserProfile


def get_profile(db, user_id, create=False):
    """The user's profile row; created (and flushed) on demand when ``create``."""
    profile = db.scalar(select(UserProfile).where(UserProfile.user_id == user_id))
    if profile is None and create:
        profile = UserProfile(user_id=user_id, language_proficiencies=[], social_links=[],
                              meta={})
        db.add(profile)
        db.flush()
    return profile


def get_preferences(db, user_id):
    """All of a user's preferences as ``{key: value}``."""
    rows = db.execute(select(UserPreference.key, UserPreference.value)
                      .where(UserPreference.user_id == user_id))
    return dict(rows.all())


def get_preference(db, user_id, key):
    return db.scalar(select(UserPreference.value).where(
        UserPreference.user_id == user_id, UserPreference.key == key))


def set_preference(db, user_id, key, value):
    """Insert or update one preference; a concurrent insert of the key wins, then is updated."""
    query = select(UserPreference).where(UserPreference.user_id == user_id,
                                         UserPreference.key == key)
    row = db.scalar(query)
    if row is None:
        try:
            with db.begin_nested():
                db.add(UserPreference(user_id=user_id, key=key, value=value))
            return
        except IntegrityError:
            row = db.scalar(query)
    row.value = value
    db.flush()


def delete_preference(db, user_id, key):
    """Delete one preference; True when it existed."""
    result = db.execute(delete(UserPreference).where(
        UserPreference.user_id == user_id, UserPreference.key == key))
    return result.rowcount > 0


def _salts(settings):
    return as_list(settings, "accounts.retired_user_salts")


def _retired_hash(salt, value):
    return hashlib.sha1((salt + value.lower()).encode()).hexdigest()


def retired_username(settings, username, salt=None):
    """``retired__user_<sha1(salt + lowercased username)>``, as upstream."""
    salt = salt if salt is not None else _salts(settings)[-1]
    return settings["accounts.retired_username_prefix"] + _retired_hash(salt, username)


def retired_email(settings, email, salt=None):
    salt = salt if salt is not None else _salts(settings)[-1]
    return (settings["accounts.retired_email_prefix"] + _retired_hash(salt, email) + "@"
            + settings["accounts.retired_email_domain"])


def is_username_retired(db, settings, username):
    """True when an account once had this username (any salt) and was retired."""
    candidates = [retired_username(settings, username, salt) for salt in _salts(settings)]
    return db.scalar(select(User.id).where(User.username.in_(candidates)).limit(1)) is not None


def is_email_retired(db, settings, email):
    candidates = [retired_email(settings, email, salt) for salt in _salts(settings)]
    return db.scalar(select(User.id).where(User.email.in_(candidates)).limit(1)) is not None


# -- retirement steps served by other plugins (enrollment's unenroll/) ---------------------

class RetirementStateError(Exception):
    """The learner's retirement is not in a state a retirement step may act on; the
    message is upstream's."""


def may_retire_users(registry, user):
    """``CanRetireUser``: a superuser, or the configured retirement service account."""
    from lms import permissions
    from plugins.accounts import retirement

    return permissions.is_superuser(user) or retirement.is_retirement_service(registry, user)


def may_replace_usernames(registry, user):
    """``CanReplaceUsername``: the configured username-replacement worker, while it is
    active global staff (a username alone grants nothing)."""
    from lms import permissions
    from plugins.accounts.config import accounts_config

    worker = accounts_config(registry).services.username_replacement_worker
    return bool(worker) and user is not None and user.username == worker and (
        permissions.is_staff(user))


def retirement_user_id_for_action(db, username):
    """Upstream ``UserRetirementStatus.get_retirement_for_retirement_action``: the id of
    the user whose retirement (by original username) is in a working state, or None
    when there is no retirement; raises :class:`RetirementStateError` for a wrong state."""
    from plugins.accounts import retirement

    try:
        status = retirement.status_for_action(db, username)
    except retirement.RetirementError as exc:
        raise RetirementStateError(str(exc)) from exc
    return None if status is None else status.user_id


def update_email_opt_in(db, user, org, opt_in):
    """Upstream ``preferences.api.update_email_opt_in``: store the user's marketing
    consent for ``org`` (``UserOrgTag`` ``email-optin``, "True"/"False"); a learner
    young enough to need parental consent is always stored as opted out."""
    from plugins.accounts.views.preferences import (EMAIL_OPTIN_MINIMUM_AGE,
                                                    requires_parental_consent,
                                                    set_email_opt_in)

    if requires_parental_consent(get_profile(db, user.id), EMAIL_OPTIN_MINIMUM_AGE):
        opt_in = False
    set_email_opt_in(db, user, org, bool(opt_in))


def get_email_opt_in(db, user_id, org):
    """The stored ``email-optin`` tag value for ``org`` ("True"/"False"), or None."""
    from plugins.accounts.models import UserOrgTag

    return db.scalar(select(UserOrgTag.value).where(
        UserOrgTag.user_id == user_id, UserOrgTag.org == org, UserOrgTag.key == "email-optin"))


def is_country_code(code):
    """An ISO 3166-1 alpha-2 code of the maintained list accounts validate against."""
    from plugins.accounts.schemas import COUNTRIES

    return isinstance(code, str) and code in COUNTRIES


def is_language_code(code):
    """An ISO 639-1 code of the maintained list accounts validate against."""
    from plugins.accounts.schemas import LANGUAGES

    return isinstance(code, str) and code in LANGUAGES


def account_representations(request, users):
    """``{username: account}`` of ``users`` as ``request.user`` may see them (the accounts
    API's representation, visibility applied), in a fixed number of queries."""
    from plugins.accounts.serializers import get_accounts

    users = list(users)
    return {user.username: account
            for user, account in zip(users, get_accounts(request, users))}


def listed_users(request, users):
    """``users`` as upstream's user_api ``UserSerializer`` shows them to API-key holders:
    ``{"id", "url", "email", "name", "username", "preferences"}`` (one query for all)."""
    from plugins.accounts.views.listings import serialize_users

    return serialize_users(request, list(users))
