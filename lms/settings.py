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
    # "production" (the default) or "development". In production the signing
    # secrets (SECRET_SETTINGS) must be strong: see check_secrets.
    "lms.environment": "production",
    "lms.secret_key": "",
    "lms.platform_name": "openlms",
    # Where /dashboard sends learners (LEARNER_HOME_MICROFRONTEND_URL); empty: the
    # landing page (openlms has no server-rendered dashboard).
    "lms.learner_dashboard_url": "",
    # The site-language cookie set by POST /i18n/setlang/ (LANGUAGE_COOKIE_NAME); it
    # uses session.cookie_domain so the MFEs read it too.
    "lms.language_cookie_name": "openedx-language-preference",
    # Bodies above this size are refused with 413 before any view reads them.
    "lms.max_request_body_bytes": "10485760",
    # Legacy server-to-server key (X-Edx-Api-Key); empty disables it.
    "lms.edx_api_key": "",
    # GET /_lms/plugins answers global staff only unless this is true.
    "lms.plugins_endpoint_public": "false",
    # The app refuses to start while the database lacks migrations of the core or
    # of an enabled plugin, unless this is true (``lms serve --allow-pending``).
    "lms.allow_pending_migrations": "false",
    # Reverse proxies (IP addresses and CIDR networks, IPv4 or IPv6, separated by spaces
    # or commas) whose X-Forwarded-For gives the client address (lms.proxies); empty:
    # REMOTE_ADDR as the server set it. Leave empty under waitress' own trusted_proxy.
    "lms.trusted_proxies": "",
    # Take X-Request-ID from the request (well-formed values only) instead of making a
    # new id: true only when the reverse proxy sets that header itself.
    "lms.trust_request_id_header": "false",
    # ``lms bootstrap`` lets plugins import their sample content (the courses
    # plugin's sample course); ``--sample-course/--no-sample-course`` overrides.
    "lms.bootstrap_sample_course": "false",
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
    # CORS_ORIGIN_REGEX_WHITELIST: regular expressions matched at the start of the Origin.
    "cors.origin_regexes": "",
    # Password hashing: argon2id, OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
    # Every login holds memory_cost KiB while it verifies, so memory bounds concurrent
    # logins: OWASP's equal-strength trade-offs spend time instead (t=3 with 12 MiB, ...).
    # One lane: a worker thread serves one login, more lanes only compete with the others.
    # Stored hashes made with other values are upgraded at their next successful login.
    "passwords.argon2_time_cost": "2",
    "passwords.argon2_memory_cost": "19456",
    "passwords.argon2_parallelism": "1",
    # Login lockout (MAX_FAILED_LOGIN_ATTEMPTS_*).
    "login.max_failed_attempts": "6",
    "login.lockout_seconds": "1800",
    # Throttling: rates are "<count>/<s|m|h|d>".
    "throttle.enabled": "true",
    "throttle.token_rate": "120/m",
    "throttle.login_rate": "30/m",
    # Page-number pagination: above this many rows, a PostgreSQL listing that reads one
    # table with only equality filters reports the planner's row estimate as its count
    # (see lms.pagination.count_rows); 0 always counts exactly.
    "pagination.count_estimate_threshold": "100000",
    # Page boundaries (lms.pagination.Boundaries): the key at every this-many-th position
    # of a paged list, kept per process for this many seconds at most (0: none kept).
    "pagination.boundary_interval": "1000",
    "pagination.boundary_seconds": "10",
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
    # Tracking log (lms.tracking): file, logging, memory or off.
    "tracking.backend": "logging",
    "tracking.log_file": "var/log/tracking.log",
    # Events whose JSON line is longer are dropped (Open edX's TRACK_MAX_EVENT).
    "tracking.max_event_size": "50000",
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


ENVIRONMENTS = ("production", "development")
# Secrets that sign what clients hold (session cookies, CSRF and reset tokens;
# HS256 JWTs). Both are always required; in production each must have at least
# MIN_SECRET_BYTES bytes and must not be a development value.
SECRET_SETTINGS = ("lms.secret_key", "jwt.secret_key")
MIN_SECRET_BYTES = 32
# The shipped development values start with this (development.ini).
DEVELOPMENT_SECRET_PREFIX = "dev-only-"


def check_secrets(settings):
    """Stop start-up on a missing secret, or a weak one in production."""
    environment = settings.get("lms.environment")
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(
            f"lms.environment must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    for key in SECRET_SETTINGS:
        value = str(settings.get(key) or "")
        where = f"in the .ini or {env_name(key)}"
        if not value:
            raise ConfigurationError(f"{key} must be set ({where})")
        if environment != "production":
            continue
        if value.startswith(DEVELOPMENT_SECRET_PREFIX):
            raise ConfigurationError(
                f"{key} is a development value; in production (lms.environment = production) "
                f"set a random secret of your own ({where})")
        size = len(value.encode("utf-8"))
        if size < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"{key} is too weak for production (lms.environment = production): "
                f"{size} bytes, at least {MIN_SECRET_BYTES} needed ({where})")


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
