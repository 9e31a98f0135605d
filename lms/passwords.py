"""Password hashing: argon2 for new hashes; Django hashes verify for imported users."""
import base64
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

UNUSABLE_PREFIX = "!"


def hash_password(raw):
    return _hasher.hash(raw)


def make_unusable():
    import secrets

    return UNUSABLE_PREFIX + secrets.token_hex(20)


def is_usable(encoded):
    return bool(encoded) and not encoded.startswith(UNUSABLE_PREFIX)


def _verify_django_pbkdf2(raw, encoded):
    # Django's format: algorithm$iterations$salt$base64(hash)
    try:
        algorithm, iterations, salt, expected = encoded.split("$", 3)
        digest = {"pbkdf2_sha256": "sha256", "pbkdf2_sha1": "sha1"}[algorithm]
        derived = hashlib.pbkdf2_hmac(digest, raw.encode(), salt.encode(), int(iterations))
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(base64.b64encode(derived).decode().strip(), expected)


def verify_password(raw, encoded):
    """Return (ok, needs_rehash)."""
    if not is_usable(encoded) or raw is None:
        return False, False
    if encoded.startswith("pbkdf2_"):
        return _verify_django_pbkdf2(raw, encoded), True
    if encoded.startswith("argon2$"):
        # Django's Argon2PasswordHasher prefixes the argon2 PHC string with "argon2".
        encoded = encoded[len("argon2"):]
    try:
        _hasher.verify(encoded, raw)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(encoded)
