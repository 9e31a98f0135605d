"""User creation and the rules Open edX applies to usernames."""
import re

from sqlalchemy import select

from lms.models import User
from lms.passwords import hash_password, make_unusable

USERNAME_RE = re.compile(r"^[\w.@+-]+$")
USERNAME_MIN, USERNAME_MAX = 2, 30


class UserError(ValueError):
    pass


def validate_username(username):
    if not (USERNAME_MIN <= len(username) <= USERNAME_MAX):
        raise UserError(f"Username must be between {USERNAME_MIN} and {USERNAME_MAX} characters long.")
    if not re.match(r"^[\w-]+$", username, re.ASCII):
        raise UserError("Usernames can only contain letters (A-Z, a-z), numerals (0-9), "
                        "underscores (_), and hyphens (-).")


def create_user(request_or_db, *, username, email, password, name="", is_staff=False,
                is_superuser=False, is_active=True, pm=None):
    """Create and flush a user; fire ``lms_user_created``."""
    db = getattr(request_or_db, "dbsession", request_or_db)
    if pm is None and hasattr(request_or_db, "registry"):
        pm = request_or_db.registry["lms.plugin_manager"]
    user = User(
        username=username, email=email, name=name,
        password=hash_password(password) if password else make_unusable(),
        is_staff=is_staff, is_superuser=is_superuser, is_active=is_active,
    )
    db.add(user)
    db.flush()
    if pm is not None:
        pm.hook.lms_user_created(dbsession=db, user=user)
    return user


def get_by_username(db, username):
    return db.scalar(select(User).where(User.username == username))
