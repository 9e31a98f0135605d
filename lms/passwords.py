"""Password hashing: argon2 for new hashes; Django hashes verify for imported users.

Every check costs one real hash verification, whatever the account: a missing
account, an unusable password (service accounts, retired or third-party-only
users) and a malformed stored hash are checked against a throwaway hash, so the
answer's timing does not tell them apart from a wrong password.
"""
import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# (hasher, hash of a random password): rebuilt when the hasher is swapped (tests).
_dummy = (None, None)

UNUSABLE_PREFIX = "!"


def hash_password(raw):
    return _hasher.hash(raw)


def make_unusable():
    return UNUSABLE_PREFIX + secrets.token_hex(20)


def is_usable(encoded):
    return bool(encoded) and not encoded.startswith(UNUSABLE_PREFIX)


def _dummy_hash():
    global _dummy
    hasher, encoded = _dummy
    if hasher is not _hasher:
        encoded = _hasher.hash(secrets.token_hex(16))
        _dummy = (_hasher, encoded)
    return encoded


def burn_check(raw):
    """One verification against a throwaway hash: a refusal that costs a real check."""
    try:
        _hasher.verify(_dummy_hash(), raw if isinstance(raw, str) else "")
    except (VerificationError, InvalidHashError):
        pass
    return False, False


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


def verify_password(raw, encoded):
    """Return (ok, needs_rehash), always at the cost of one hash verification.

    ``encoded`` may be None (no such account) or unusable: the answer is then
    (False, False) after a check against a throwaway hash.
    """
    if not is_usable(encoded) or not isinstance(raw, str):
        return burn_check(raw)
    if encoded.startswith("pbkdf2_"):
        ok = _verify_django_pbkdf2(raw, encoded)
        return burn_check(raw) if ok is None else (ok, True)
    if encoded.startswith("argon2$"):
        # Django's Argon2PasswordHasher prefixes the argon2 PHC string with "argon2".
        encoded = encoded[len("argon2"):]
    try:
        _hasher.verify(encoded, raw)
    except InvalidHashError:
        return burn_check(raw)  # a malformed stored hash: the check failed before hashing
    except VerificationError:
        return False, False
    return True, _hasher.check_needs_rehash(encoded)
