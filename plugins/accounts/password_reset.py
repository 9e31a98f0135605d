"""Password reset: tokens, links, mails and setting the new password (upstream
``password_reset`` views and Django's ``PasswordResetTokenGenerator``).

A token is ``<base36 timestamp>-<HMAC>`` over the account as it is now (its
password hash and last login), so a reset or a login spends it.
"""
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime

from sqlalchemy import delete, select

from lms import auth
from lms.mail import send_mail
from lms.models import LoginFailure, LoginSession, OAuthAccessToken, OAuthRefreshToken, User
from lms.passwords import hash_password, is_usable
from lms.users import equal_ignoring_case
from plugins.accounts.availability import storable
from plugins.accounts.config import get_config
from plugins.accounts.fields import MAX_DB_INTEGER
from plugins.accounts.forms import escape
from plugins.accounts.models import UserRetirementRequest
from plugins.accounts.passwords import normalize_password

TOKEN_EPOCH = datetime(2001, 1, 1, tzinfo=UTC).timestamp()
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
RESET_TOKEN_PURPOSE = b"openlms.accounts.password_reset"


def int_to_base36(number):
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = BASE36[remainder] + digits
        if not number:
            return digits


def base36_to_int(text):
    """Raises ValueError; like Django, refuses more than 13 digits (beyond 64 bits)."""
    if len(text) > 13 or not re.fullmatch(r"[0-9A-Za-z]+", text):
        raise ValueError(text)
    return int(text, 36)


def _token_digest(settings, user, timestamp):
    # The password hash and last login are in the message: a reset (new hash)
    # or a login spends the token, so each link works once.
    last_login = user.last_login.isoformat() if user.last_login else ""
    message = f"{user.id}|{user.password}|{last_login}|{timestamp}|{user.email}".encode()
    key = hashlib.sha256(RESET_TOKEN_PURPOSE + settings["lms.secret_key"].encode()).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[::2]


def make_reset_token(settings, user, now=None):
    timestamp = int((time.time() if now is None else now) - TOKEN_EPOCH)
    return f"{int_to_base36(timestamp)}-{_token_digest(settings, user, timestamp)}"


def check_reset_token(registry, user, token, now=None):
    """The token was made for this account as it is now, within the timeout."""
    if not user or not isinstance(token, str):
        return False
    stamp, _, digest = token.partition("-")
    try:
        timestamp = base36_to_int(stamp)
    except ValueError:
        return False
    config = get_config(registry)
    expected = _token_digest(registry.settings, user, timestamp)
    if not hmac.compare_digest(expected.encode(), digest.encode()):
        return False
    elapsed = (time.time() if now is None else now) - TOKEN_EPOCH - timestamp
    return elapsed <= config.reset_timeout


def user_for_uidb36(db, uidb36):
    """The user a reset link names, or None (malformed, out of range, unknown)."""
    try:
        user_id = base36_to_int(uidb36)
    except ValueError:
        return None
    if not 0 < user_id <= MAX_DB_INTEGER:
        return None
    return db.get(User, user_id)


def has_requested_retirement(db, user):
    return db.scalar(select(UserRetirementRequest.id)
                     .where(UserRetirementRequest.user_id == user.id)) is not None


def reset_link(config, settings, user):
    base = config.authn_mfe_url or config.base_url
    token = make_reset_token(settings, user)
    return f"{base}/password_reset_confirm/{int_to_base36(user.id)}-{token}/?track=pwreset"


def users_for_reset(db, email):
    """Accounts a reset mail goes to; none when any of them cannot have a password."""
    if not storable(email):
        return []
    users = db.scalars(select(User).where(equal_ignoring_case(User.email, email))
                       .order_by(User.id)).all()
    if any(not is_usable(user.password) for user in users):
        return []
    return users


def send_reset_email(request, user):
    config = get_config(request.registry)
    settings = request.registry.settings
    platform = config.platform_name
    link = reset_link(config, settings, user)
    text = (
        "You're receiving this email because a password reset was requested for your user "
        f"account at {platform}.\n\n"
        "Go to the following page and choose a new password:\n\n"
        f"{link}\n\n"
        "If you didn't request this change, you can ignore this email: your password has not "
        "been changed.\n\n"
        f"The {platform} Team\n"
    )
    html_body = (
        "<p>You're receiving this email because a password reset was requested for your user "
        f"account at {escape(platform)}.</p>"
        f"<p><a href=\"{escape(link)}\">Choose a new password</a></p>"
        "<p>If you didn't request this change, you can ignore this email: your password has "
        "not been changed.</p>"
    )
    return send_mail(request, user.email, f"Password reset on {platform}", text, html_body)


def send_reset_success_email(request, user):
    config = get_config(request.registry)
    platform = config.platform_name
    text = (
        f"Your password for {platform} has been reset. You can now sign in with your new "
        f"password at {config.base_url}/login\n\n"
        "If you did not make this change, contact us right away.\n\n"
        f"The {platform} Team\n"
    )
    return send_mail(request, user.email, f"Password reset successful on {platform}", text)


def destroy_oauth_tokens(db, user_id):
    """Upstream revokes a user's OAuth tokens when a reset is requested."""
    db.execute(delete(OAuthRefreshToken).where(OAuthRefreshToken.user_id == user_id))
    db.execute(delete(OAuthAccessToken).where(OAuthAccessToken.user_id == user_id))


def set_new_password(request, user, password):
    """Store the new password; every other session of the user ends (the current one stays)."""
    db = request.dbsession
    user.password = hash_password(request, normalize_password(password))
    db.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
    current = auth.session_user(request)
    keep = None
    if current is not None and current.id == user.id:
        keep = request.environ.get("lms.session_row")
    stmt = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep.id)
    db.execute(stmt)
    db.flush()
    send_reset_success_email(request, user)
