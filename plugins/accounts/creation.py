"""Account creation and activation (upstream ``create_account`` and ``Registration``).

After :mod:`plugins.accounts.validation` has accepted the form,
:func:`create_account` creates the inactive user with its profile, activation
key, tour and language preference; the activation mail and link activate it.
"""
import uuid
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.db import separate_session
from lms.mail import send_mail
from lms.timeutil import utcnow
from lms.users import create_user
from plugins.accounts import api
from plugins.accounts.availability import email_exists_or_retired, username_exists_or_retired
from plugins.accounts.config import get_config
from plugins.accounts.fields import EMAIL_EXISTS, PROFILE_FIELDS, USERNAME_EXISTS
from plugins.accounts.forms import escape
from plugins.accounts.models import Registration, UserProfile, UserTour
from plugins.accounts.passwords import normalize_password

LANGUAGE_KEY = "pref-lang"
DEFAULT_LANGUAGE = "en"
NEW_USER_TOUR = "show-new-user-tour"

class AccountConflict(Exception):
    """A concurrent registration won the username or email (upstream AccountValidationError)."""

    def __init__(self, message, field_name, error_code):
        super().__init__(message)
        self.field_name = field_name
        self.error_code = error_code


def create_account(request, form, data):
    """Create the inactive user, profile, activation key, tour and language preference.

    Returns ``(user, registration)``. Unique constraints decide concurrent
    registrations: the loser gets :class:`AccountConflict`.
    """
    config = get_config(request.registry)
    db = request.dbsession
    cleaned = form.cleaned
    try:
        user = create_user(request, username=cleaned["username"], email=cleaned["email"],
                           password=normalize_password(cleaned["password"]),
                           name=cleaned["name"], is_active=False)
    except IntegrityError:
        # The request's transaction is spent (it will be aborted); ask another
        # connection what the winner committed. (No savepoint: pysqlite would
        # commit at its release when it opened the transaction.)
        conflict = _conflict_with_committed_account(request, cleaned)
        if conflict is None:
            raise
        raise conflict
    registration = Registration(user_id=user.id, activation_key=uuid.uuid4().hex)
    db.add(registration)
    meta = dict(form.extended_profile)
    if config.marketing_emails_opt_in:
        is_marketable = data.get("marketing_emails_opt_in") in ("true", "1")
        meta["is_marketable"] = str(is_marketable).lower()
    profile = UserProfile(user_id=user.id, language_proficiencies=[], social_links=[], meta=meta,
                          **{name: cleaned.get(name) or None for name in PROFILE_FIELDS})
    db.add(profile)
    if db.scalar(select(UserTour.id).where(UserTour.user_id == user.id)) is None:
        db.add(UserTour(user_id=user.id, course_home_tour_status=NEW_USER_TOUR,
                        show_courseware_tour=True))
    db.flush()
    if api.get_preference(db, user.id, LANGUAGE_KEY) is None:
        api.set_preference(db, user.id, LANGUAGE_KEY, DEFAULT_LANGUAGE)
    return user, registration


def _conflict_with_committed_account(request, cleaned):
    registry = request.registry
    with separate_session(registry) as db:
        if username_exists_or_retired(db, registry, cleaned["username"]):
            return AccountConflict(USERNAME_EXISTS.format(username=cleaned["username"]),
                                   "username", "duplicate-username")
        if email_exists_or_retired(db, registry, cleaned["email"]):
            return AccountConflict(EMAIL_EXISTS.format(email=cleaned["email"]), "email",
                                   "duplicate-email")
    return None


def activate(db, registration, user):
    """Registration.activate(): the account becomes active, the key records when."""
    user.is_active = True
    registration.activation_timestamp = utcnow()
    db.flush()


def activation_link(config, activation_key, redirect_url=None):
    link = f"{config.base_url}/activate/{activation_key}"
    if redirect_url:
        link += "?" + urlencode({"next": redirect_url})
    return link


def send_activation_email(request, user, registration, redirect_url=None):
    """The "activate your account" mail; it leaves only if the request commits."""
    config = get_config(request.registry)
    platform = config.platform_name
    link = activation_link(config, registration.activation_key, redirect_url)
    text = (
        f"You're almost there! Use the link below to activate your {platform} account. "
        "You will not be able to sign in again until your account is activated.\n\n"
        f"{link}\n\n"
        f"Enjoy learning with {platform}.\n\n"
        f"This message was sent automatically by {config.base_url} because someone created "
        f"an account on {platform} with this email address.\n"
    )
    html_body = (
        f"<p>You're almost there! Use the link below to activate your {escape(platform)} "
        "account. You will not be able to sign in again until your account is activated.</p>"
        f"<p><a href=\"{escape(link)}\">Activate your account</a></p>"
        f"<p>Enjoy learning with {escape(platform)}.</p>"
    )
    return send_mail(request, user.email, f"Action Required: Activate your {platform} account",
                     text, html_body)


def registration_for(db, user):
    """The user's activation key, created when the account never had one."""
    registration = db.scalar(select(Registration).where(Registration.user_id == user.id))
    if registration is None:
        registration = Registration(user_id=user.id, activation_key=uuid.uuid4().hex)
        db.add(registration)
        db.flush()
    return registration
