"""Password hashing: argon2id for new hashes; Django hashes verify for imported users.

The argon2id cost comes from the settings ``passwords.argon2_time_cost``,
``passwords.argon2_memory_cost`` (KiB) and ``passwords.argon2_parallelism``,
parsed once at start-up into the instance's :class:`Passwords`
(``registry["lms.passwords"]``). A stored hash made with other parameters, or
imported from Django (pbkdf2 or ``argon2$...``), is replaced by one made with
the instance's parameters on its next successful check.

Every check costs one real hash verification, whatever the account: a missing
account, an unusable password (service accounts, retired or third-party-only
users) and a malformed stored hash are checked against a throwaway hash made
with the same parameters, so the answer's timing does not tell them apart from
a wrong password.
"""
import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from pyramid.exceptions import ConfigurationError

from lms.settings import as_int

UNUSABLE_PREFIX = "!"


def make_unusable():
    return UNUSABLE_PREFIX + secrets.token_hex(20)


def is_usable(encoded):
    return bool(encoded) and not encoded.startswith(UNUSABLE_PREFIX)


def _verify_django_pbkdf2(raw, encoded):
    # Django's format: algorithm$iterations$salt$base64(hash)
    try:
        algorithm, iterations, salt, expected = encoded.split("$", 3)
        digest = {"pbkdf2_sha256": "sha256", "pbkdf2_sha1": "sha1"}[algorithm]
        iterations = int(iterations)
    except (ValueError, KeyError):
        return None
    derived = hashlib.pbkdf2_hmac(digest, raw.encode(), salt.encode(), iterations)
    return hmac.compare_digest(base64.b64encode(derived).decode().strip(), expected)


class Passwords:
    """One instance's argon2id parameters: hashing, checking and upgrading stored hashes."""

    def __init__(self, time_cost, memory_cost, parallelism):
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                                     parallelism=parallelism, type=Type.ID)
        # What a refusal without a usable stored hash verifies against.
        self.dummy_hash = self.hasher.hash(secrets.token_hex(16))

    @classmethod
    def from_settings(cls, settings):
        costs = {name: as_int(settings, "passwords.argon2_" + name)
                 for name in ("time_cost", "memory_cost", "parallelism")}
        for name, minimum in (("time_cost", 1), ("parallelism", 1),
                              ("memory_cost", 8 * max(costs["parallelism"], 1))):
            if costs[name] < minimum:  # argon2's own lower bounds
                raise ConfigurationError(
                    f"setting 'passwords.argon2_{name}' must be at least {minimum}, "
                    f"got {costs[name]}")
        return cls(**costs)

    def hash(self, raw):
        return self.hasher.hash(raw)

    def burn_check(self, raw):
        """One verification against a throwaway hash: a refusal that costs a real check."""
        try:
            self.hasher.verify(self.dummy_hash, raw if isinstance(raw, str) else "")
        except (VerificationError, InvalidHashError):
            pass

    def verify(self, raw, encoded):
        """Return (ok, needs_rehash), always at the cost of one hash verification.

        ``encoded`` may be None (no such account) or unusable: the answer is then
        (False, False) after a check against a throwaway hash. ``needs_rehash`` is
        true for a hash made with other parameters or in a Django format.
        """
        if not is_usable(encoded) or not isinstance(raw, str):
            self.burn_check(raw)
            return False, False
        if encoded.startswith("pbkdf2_"):
            ok = _verify_django_pbkdf2(raw, encoded)
            if ok is None:
                self.burn_check(raw)
                return False, False
            return ok, True
        django_format = encoded.startswith("argon2$")
        if django_format:
            # Django's Argon2PasswordHasher prefixes the argon2 PHC string with "argon2".
            encoded = encoded[len("argon2"):]
        try:
            self.hasher.verify(encoded, raw)
        except InvalidHashError:
            # A malformed stored hash: the check failed before hashing.
            self.burn_check(raw)
            return False, False
        except VerificationError:
            return False, False
        return True, django_format or self.hasher.check_needs_rehash(encoded)

    def check(self, user, raw):
        """True when ``raw`` is ``user``'s password (``user`` may be None: False).

        On success a stored hash made with other parameters, or in a Django
        format, is replaced by one made with this instance's parameters (stored
        when the caller's transaction commits).
        """
        ok, needs_rehash = self.verify(raw, user.password if user is not None else None)
        if ok and needs_rehash:
            user.password = self.hash(raw)
        return ok


def passwords_for(context):
    """The instance's :class:`Passwords`, for a request or a session of the instance."""
    registry = getattr(context, "registry", None)
    if registry is None:
        registry = context.info["lms.registry"]
    return registry["lms.passwords"]


def hash_password(context, raw):
    """A new hash of ``raw`` with the instance's parameters (``context``: request or session)."""
    return passwords_for(context).hash(raw)


def check_password(context, user, raw):
    """:meth:`Passwords.check` with the instance's parameters (``context``: request or session)."""
    return passwords_for(context).check(user, raw)


def includeme(config):
    config.registry["lms.passwords"] = Passwords.from_settings(config.get_settings())
