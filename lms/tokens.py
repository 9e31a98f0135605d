"""JWTs as the Open edX LMS mints and verifies them (edx-drf-extensions rules)."""
import json
import time
from dataclasses import dataclass

import jwt as pyjwt
from jwt.algorithms import RSAAlgorithm
from pyramid.exceptions import ConfigurationError

from lms.settings import as_int, as_list

JWT_VERSION = "1.2.0"


@dataclass
class JWTConfig:
    secret_key: str
    issuer: str
    audience: str
    expiration: int
    additional_issuers: list
    private_key: object  # RSA private key or None
    private_kid: str | None
    public_keys: list  # RSA public keys

    @classmethod
    def from_settings(cls, settings):
        # Its own secret, never lms.secret_key: required, strong in production
        # (lms.settings.check_secrets), and it verifies HS256 tokens even when a
        # JWK signs RS256 ones.
        secret = settings.get("jwt.secret_key")
        if not secret:
            raise ConfigurationError(
                "jwt.secret_key must be set (in the .ini or LMS_JWT_SECRET_KEY)")
        private_key, kid, public_keys = None, None, []
        private_jwk = settings.get("jwt.private_signing_jwk")
        if private_jwk:
            try:
                parsed = json.loads(private_jwk)
                private_key = RSAAlgorithm.from_jwk(parsed)
                kid = parsed.get("kid")
            except (ValueError, KeyError, pyjwt.InvalidKeyError) as exc:
                raise ConfigurationError(f"jwt.private_signing_jwk is not a valid RSA JWK: {exc}")
            public_keys.append(private_key.public_key())
        public_set = settings.get("jwt.public_signing_jwk_set")
        if public_set:
            try:
                for key in json.loads(public_set).get("keys", []):
                    public_keys.append(RSAAlgorithm.from_jwk(key))
            except (ValueError, AttributeError, pyjwt.InvalidKeyError) as exc:
                raise ConfigurationError(f"jwt.public_signing_jwk_set is invalid: {exc}")
        return cls(
            secret_key=secret,
            issuer=settings["jwt.issuer"],
            audience=settings["jwt.audience"],
            expiration=as_int(settings, "jwt.expiration_seconds"),
            additional_issuers=as_list(settings, "jwt.additional_issuers"),
            private_key=private_key,
            private_kid=kid,
            public_keys=public_keys,
        )


def build_payload(config, user, scopes, *, filters=(), grant_type="", is_restricted=False,
                  expires_in=None, roles=(), now=None):
    now = int(now if now is not None else time.time())
    expires_in = config.expiration if expires_in is None else expires_in
    payload = {
        "aud": config.audience,
        "iss": config.issuer,
        "iat": now,
        "exp": now + expires_in,
        "preferred_username": user.username,
        "sub": user.anonymous_id,
        "scopes": list(scopes),
        "version": JWT_VERSION,
        "filters": list(filters),
        "is_restricted": bool(is_restricted),
        "email_verified": bool(user.is_active),
        "grant_type": grant_type,
    }
    if "user_id" in scopes:
        payload["user_id"] = user.id
    if "email" in scopes:
        payload["email"] = user.email
    if "profile" in scopes:
        name = user.name or None
        given, _, family = (user.name or "").partition(" ")
        payload.update(
            name=name,
            given_name=given,
            family_name=family,
            administrator=bool(user.is_staff),
            superuser=bool(user.is_superuser),
        )
    if roles:
        payload["roles"] = list(roles)
    return payload


def encode(config, payload, asymmetric=False):
    if asymmetric and config.private_key is not None:
        headers = {"kid": config.private_kid} if config.private_kid else None
        return pyjwt.encode(payload, config.private_key, algorithm="RS512", headers=headers)
    return pyjwt.encode(payload, config.secret_key, algorithm="HS256")


class TokenError(Exception):
    """``message`` is the exact DRF detail upstream returns."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def decode(config, token):
    """Verify signature, exp (1 s leeway), iat, aud, iss and version; return the payload."""
    try:
        header = pyjwt.get_unverified_header(token)
    except pyjwt.PyJWTError:
        raise TokenError("Error decoding token.")
    algorithm = header.get("alg")
    if algorithm in ("RS256", "RS512"):
        keys = [(key, algorithm) for key in config.public_keys]
    elif algorithm == "HS256":
        keys = [(config.secret_key, "HS256")]
    else:
        raise TokenError("Error decoding token.")
    if not keys:
        raise TokenError("Invalid token.")
    issuers = [config.issuer, *config.additional_issuers]
    last = TokenError("Invalid token.")
    for key, alg in keys:
        try:
            payload = pyjwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=config.audience,
                issuer=issuers,
                leeway=1,
                options={"require": ["exp", "iat"]},
            )
        except pyjwt.ExpiredSignatureError:
            raise TokenError("Token has expired.")
        except pyjwt.InvalidSignatureError:
            last = TokenError("Invalid token.")
            continue
        except pyjwt.DecodeError:
            raise TokenError("Error decoding token.")
        except pyjwt.PyJWTError:
            raise TokenError("Invalid token.")
        break
    else:
        raise last
    payload.setdefault("version", "1.0.0")
    payload.setdefault("is_restricted", False)
    payload.setdefault("filters", [])
    try:
        major = int(str(payload["version"]).split(".")[0])
    except ValueError:
        raise TokenError("Invalid token.")
    if major > 1:
        raise TokenError("Invalid token.")
    if not (payload.get("preferred_username") or payload.get("username")):
        raise TokenError("JWT must include a preferred_username or username claim!")
    return payload
