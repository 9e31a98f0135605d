"""User creation and the rules Open edX applies to usernames."""
import re

from sqlalchemy import func, select

from lms.models import User
from lms.passwords import hash_password, make_unusable

# Django's username validator: what an existing (possibly imported) account may be named.
USERNAME_RE = re.compile(r"^[\w.@+-]+$")
USERNAME_STORED_MAX = 150  # the column, as Django's
USERNAME_MIN, USERNAME_MAX = 2, 30
EMAIL_MIN_LENGTH, EMAIL_MAX_LENGTH = 3, 254
NAME_MAX_LENGTH = 255
# One "@", no whitespace or control characters, a dot in the domain (or localhost).
_EMAIL_SHAPE = re.compile(r"[^@\s\x00-\x1f\x7f]+@(?:[^@\s\x00-\x1f\x7f.]+\.)+[^@\s\x00-\x1f\x7f.]+"
                          r"|[^@\s\x00-\x1f\x7f]+@localhost", re.IGNORECASE)


class UserError(ValueError):
    pass


def validate_username(username):
    """Registration's rules for a new username (raises UserError)."""
    if not isinstance(username, str):
        raise UserError("Username must be a string.")
    if not (USERNAME_MIN <= len(username) <= USERNAME_MAX):
        raise UserError(f"Username must be between {USERNAME_MIN} and {USERNAME_MAX} "
                        "characters long.")
    if not re.fullmatch(r"[\w-]+", username, re.ASCII):
        raise UserError("Usernames can only contain letters (A-Z, a-z), numerals (0-9), "
                        "underscores (_), and hyphens (-).")


def is_storable_username(value):
    """True when ``value`` could name an existing account (a lookup is meaningful)."""
    return (isinstance(value, str) and 0 < len(value) <= USERNAME_STORED_MAX
            and USERNAME_RE.fullmatch(value) is not None)


def is_storable_text(value, max_length):
    """A string a text column takes: within ``max_length``, no NUL, no lone surrogate."""
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_plausible_email(value):
    """A string shaped like an address, within registration's length limits (no NUL)."""
    return (is_storable_text(value, EMAIL_MAX_LENGTH) and len(value) >= EMAIL_MIN_LENGTH
            and _EMAIL_SHAPE.fullmatch(value) is not None)


def create_user(request_or_db, *, username, email, password, name="", is_staff=False,
                is_superuser=False, is_active=True, pm=None):
    """Create and flush a user; fire ``lms_user_created``."""
    db = getattr(request_or_db, "dbsession", request_or_db)
    if pm is None and hasattr(request_or_db, "registry"):
        pm = request_or_db.registry["lms.plugin_manager"]
    user = User(
        username=username, email=email, name=name,
        password=hash_password(request_or_db, password) if password else make_unusable(),
        is_staff=is_staff, is_superuser=is_superuser, is_active=is_active,
    )
    db.add(user)
    db.flush()
    if pm is not None:
        pm.hook.lms_user_created(dbsession=db, user=user)
    return user


def get_by_username(db, username):
    return db.scalar(select(User).where(User.username == username))


def equal_ignoring_case(column, value):
    """``lower(column) = lower(value)``: how usernames and emails are compared ignoring case.

    Exactly the expression of the ``lower(username)`` and ``lower(email)`` indexes
    (lms.models), so the lookup is an index search; any other spelling scans the
    table. Both sides are folded by the database, so they always agree (SQLite
    folds ASCII letters only).
    """
    return func.lower(column) == func.lower(value)


def find_by_identity(db, column, value):
    """The user whose ``column`` (User.email or User.username) is ``value``: the exact
    match, else the only case-insensitive one (upstream's MySQL collation ignores
    case); None when several differ only by case. One index search."""
    if not isinstance(value, str) or not value or "\x00" in value:
        return None  # PostgreSQL text cannot hold NUL: no account can match
    matches = db.scalars(select(User).where(equal_ignoring_case(column, value))
                         .order_by((column == value).desc()).limit(2)).all()
    if matches and (len(matches) == 1 or getattr(matches[0], column.key) == value):
        return matches[0]
    return None
