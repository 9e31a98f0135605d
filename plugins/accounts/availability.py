"""Whether a username or email may still be registered.

A username is unavailable when an account has it (case-insensitively, as
upstream's MySQL collation compares), when a retired account once had it, or
when it is reserved (``accounts.reserved_usernames`` and every service
username, see :class:`plugins.accounts.config.ServiceAccounts`): registering a
service's name must never make anyone that service. Registration answers all
three alike, with upstream's duplicate-username error.
"""
import random
import re

from sqlalchemy import select

from lms.models import User
from lms.users import USERNAME_MAX, equal_ignoring_case
from plugins.accounts import api
from plugins.accounts.config import accounts_config


def storable(value):
    """PostgreSQL text cannot hold NUL: such a value can match no row."""
    return isinstance(value, str) and "\x00" not in value


def username_exists_or_retired(db, registry, username):
    """Taken, once retired, or reserved."""
    if not storable(username):
        return False
    if accounts_config(registry).services.is_reserved(username):
        return True
    taken = db.scalar(select(User.id).where(equal_ignoring_case(User.username, username))
                      .limit(1))
    return taken is not None or api.is_username_retired(db, registry.settings, username)


def email_exists_or_retired(db, registry, email):
    if not storable(email):
        return False
    taken = db.scalar(select(User.id).where(equal_ignoring_case(User.email, email)).limit(1))
    return taken is not None or api.is_email_retired(db, registry.settings, email)


def username_suggestions(db, registry, name):
    """Up to three free usernames built from a name (or a taken username)."""
    suggestions = []
    words = name.split(" ")
    first = "".join(re.findall(r"[\w-]+", words[0].lower()))
    last = "".join(re.findall(r"[\w-]+", words[-1].lower()))

    def offer(candidate):
        if not username_exists_or_retired(db, registry, candidate):
            suggestions.append(candidate)
            return True
        return False

    if first and first != last:
        offer(f"{first}{last}"[:USERNAME_MAX])
        offer(f"{first[0]}-{last}"[:USERNAME_MAX])
    if len(first) >= 2:
        stem = first[:USERNAME_MAX - 6].replace("_", "").replace("-", "")
        for low, high in ((0, 9), (10, 99), (100, 999), (1000, 9999), (10000, 99999)):
            for _ in range(10):
                if offer(f"{stem}_{random.randint(low, high)}"):
                    break
            if len(suggestions) == 3:
                break
    return suggestions
