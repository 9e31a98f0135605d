"""Core settings: defaults, environment overrides and typed access.

Every setting may come from the ``.ini`` file or from the environment. The
environment name of a key is ``LMS_`` followed by the key with a leading
``lms.`` removed, dots turned into underscores and upper-cased:
``sqlalchemy.url`` -> ``LMS_SQLALCHEMY_URL``, ``lms.plugins`` -> ``LMS_PLUGINS``,
``experiments.page_size`` -> ``LMS_EXPERIMENTS_PAGE_SIZE``.
The environment wins over the ``.ini``, which wins over the defaults.
"""
import os

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool, aslist

CORE_DEFAULTS = {
    "sqlalchemy.url": "sqlite:///var/lms.sqlite",
    "sqlalchemy.echo": "false",
    # Plugins: empty means every built-in plugin. The word ``builtins`` in the
    # list stands for all of them, so ``builtins hello`` adds a third-party one.
    "lms.plugins": "",
    "lms.plugins.disabled": "",
    "lms.base_url": "http://127.0.0.1:18000",
    "lms.secret_key": "",
    "lms.platform_name": "openlms",
    # Bodies above this size are refused with 413 before any view reads them.
    "lms.max_request_body_bytes": "10485760",
    # Legacy server-to-server key (X-Edx-Api-Key); empty disables it.
    "lms.edx_api_key": "",
    # GET /_lms/plugins answers global staff only unless this is true.
    "lms.plugins_endpoint_public": "false",
    # JWT (edx-drf-extensions JWT_AUTH equivalents).
    "jwt.secret_key": "",
    "jwt.issuer": "http://127.0.0.1:18000/oauth2",
    "jwt.audience": "lms-key",
    "jwt.expiration_seconds": "3600",
    "jwt.private_signing_jwk": "",
    "jwt.public_signing_jwk_set": "",
    "jwt.additional_issuers": "",
    # OAuth2 provider.
    "oauth2.access_token_expire_seconds": "36000",
    "oauth2.refresh_token_expire_seconds": "7776000",
    "oauth2.login_client_id": "login-service-client-id",
    # Browser session and cookies.
    "session.cookie_name": "sessionid",
    "session.max_age_seconds": "2419200",
    "session.cookie_secure": "false",
    "session.cookie_domain": "",
    "session.cookie_samesite": "Lax",
    "csrf.cookie_name": "csrftoken",
    "csrf.trusted_origins": "",
    "cors.origins": "",
    # Login lockout (MAX_FAILED_LOGIN_ATTEMPTS_*).
    "login.max_failed_attempts": "6",
    "login.lockout_seconds": "1800",
    # Throttling: rates are "<count>/<s|m|h|d>".
    "throttle.enabled": "true",
    "throttle.token_rate": "120/m",
    "throttle.login_rate": "30/m",
    # Celery: the embedded default runs tasks in-process.
    "celery.broker_url": "memory://",
    "celery.result_backend": "",
    "celery.task_always_eager": "true",
    # Outgoing mail (lms.mail): file (writes .eml files), smtp or memory.
    "mail.backend": "file",
    "mail.file_path": "var/mail",
    "mail.default_from": "no-reply@openlms.invalid",
    "mail.smtp_host": "localhost",
    "mail.smtp_port": "25",
    "mail.smtp_username": "",
    "mail.smtp_password": "",
    "mail.smtp_starttls": "false",
    # Heartbeat also checks the broker when true.
    "heartbeat.check_broker": "false",
}

ENV_PREFIX = "LMS_"


def env_name(key):
    if key.startswith("lms."):
        key = key[len("lms."):]
    return ENV_PREFIX + key.replace(".", "_").replace("-", "_").upper()


def apply_env_overrides(settings, environ=None):
    environ = os.environ if environ is None else environ
    for key in list(settings):
        name = env_name(key)
        if name in environ:
            settings[key] = environ[name]
    return settings


def merge_defaults(settings, defaults, owner):
    """Fill missing keys of ``settings`` from ``defaults``."""
    for key, value in defaults.items():
        settings.setdefault(key, value)


def check_no_conflicts(all_defaults):
    """``all_defaults``: list of (owner, dict). Two owners may not declare one key."""
    seen = {}
    for owner, defaults in all_defaults:
        for key in defaults:
            if key in seen and seen[key] != owner:
                raise ConfigurationError(
                    f"setting {key!r} is declared by both {seen[key]!r} and {owner!r}"
                )
            seen[key] = owner


def as_int(settings, key):
    try:
        return int(settings[key])
    except (TypeError, ValueError):
        raise ConfigurationError(f"setting {key!r} must be an integer, got {settings[key]!r}")


def as_bool(settings, key):
    return asbool(settings.get(key))


def as_list(settings, key):
    return aslist(settings.get(key) or "", flatten=True)


def parse_rate(value):
    """'120/m' -> (120, 60); a multiplier as django-ratelimit allows: '60/7d' -> (60, 604800)."""
    try:
        count, period = value.split("/")
        period = period.strip()
        digits = len(period) - len(period.lstrip("0123456789"))
        multiplier = int(period[:digits]) if digits else 1
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[digits].lower()]
        if multiplier < 1:
            raise ValueError(value)
        return int(count), multiplier * seconds
    except (ValueError, KeyError, IndexError):
        raise ConfigurationError(
            f"invalid rate {value!r}; expected '<count>/[<n>]<s|m|h|d>'")
