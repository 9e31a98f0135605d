"""The failed-password lockout and the login throttle, shared by every password path.

Session login (v1 and v2), the OAuth2 password grant and any plugin view that
asks for a password (account deactivation, ...) count their failures here, so an
account locked through one path is locked on all of them, and guessing through
one path uses up the same allowance as the others.

- :class:`LockoutPolicy`: upstream's LoginFailures (``ENABLE_MAX_FAILED_LOGIN_ATTEMPTS``):
  ``login.max_failed_attempts`` failures lock the account for
  ``login.lockout_seconds``; disabled when the maximum is 0.
- :func:`throttle_password_attempt`: django-ratelimit with ``block=False`` as
  upstream's login view uses it: every attempt counts, per client IP and per
  submitted email or username, against ``throttle.login_rate``.
- :func:`lms.passwords.check_password` costs one hash verification in every
  case, so callers never need a separate path for unknown accounts.
"""
import hashlib
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lms import throttle
from lms.models import LoginFailure
from lms.timeutil import utcnow

THROTTLE_SCOPE_IP = "login_ip"
THROTTLE_SCOPE_IDENTIFIER = "login_email"


class LockoutPolicy:
    """Failed-password counters per account (upstream's LoginFailures)."""

    def __init__(self, request):
        config = request.registry["lms.auth_config"]
        self.db = request.dbsession
        self.max_failures = config.max_failed_logins
        self.lockout_seconds = config.lockout_seconds
        self.enabled = self.max_failures > 0

    @property
    def lockout_minutes(self):
        return int(self.lockout_seconds / 60)

    def record(self, user, create=False):
        row = self.db.scalar(select(LoginFailure).where(LoginFailure.user_id == user.id))
        if row is None and create:
            row = LoginFailure(user_id=user.id, failure_count=0)
            try:
                with self.db.begin_nested():
                    self.db.add(row)
            except IntegrityError:  # a concurrent failure created it first
                row = self.db.scalar(select(LoginFailure).where(LoginFailure.user_id == user.id))
        return row

    def is_locked_out(self, user):
        """True while ``user`` is locked (always False when the lockout is disabled)."""
        if not self.enabled or user is None:
            return False
        row = self.record(user)
        return bool(row and row.lockout_until and utcnow() < row.lockout_until)

    def increment(self, user):
        """Count one failure; lock the account at the maximum. Returns the count (0 if disabled)."""
        if not self.enabled:
            return 0
        row = self.record(user, create=True)
        row.failure_count += 1
        if row.failure_count >= self.max_failures:
            row.lockout_until = utcnow() + timedelta(seconds=self.lockout_seconds)
        self.db.flush()
        return row.failure_count

    def clear(self, user):
        if self.enabled:
            self.db.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))


def throttle_password_attempt(request, identifier):
    """Count one password attempt; True when the caller is over ``throttle.login_rate``.

    Counted per client IP and per submitted identifier (email or username, case
    folded as the account lookup folds it, stored as a digest: bounded in
    length and no address in clear). Every path shares these counters.
    """
    rate = request.registry.settings["throttle.login_rate"]
    limited = bool(throttle.hit(request, THROTTLE_SCOPE_IP, throttle.client_ip(request), rate))
    if identifier:
        folded = identifier.strip().lower().encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(folded).hexdigest()
        limited = bool(throttle.hit(request, THROTTLE_SCOPE_IDENTIFIER, digest, rate)) or limited
    return limited
