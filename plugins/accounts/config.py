"""The accounts plugin's settings, parsed once at start-up into frozen objects.

:func:`parse_settings` runs in the plugin's ``lms_includeme``, so a bad value
stops the start-up; views read :func:`accounts_config` (or one of its parts)
from the registry and never parse settings per request.

Registration and password settings (all optional; defaults are upstream's):

``accounts.registration_extra_fields``
    ``REGISTRATION_EXTRA_FIELDS``: ``<field>=<required|optional|hidden>`` items.
    Fields: confirm_email first_name last_name city state country gender
    year_of_birth level_of_education company job_title title mailing_address
    goals honor_code terms_of_service profession specialty
    marketing_emails_opt_in. A field left out is hidden, except ``honor_code``,
    which is then required (upstream's form description rule, applied here to
    the MFE context too).
``accounts.registration_field_order``
    ``REGISTRATION_FIELD_ORDER``: the order of the fields in the form
    description and the MFE context; fields missing from it follow, sorted by name.
``accounts.enable_dynamic_registration_fields``
    ``ENABLE_DYNAMIC_REGISTRATION_FIELDS`` (default false, as upstream): when true,
    ``GET /api/mfe_context?is_register_page=true`` lists the required extra fields
    (``registrationFields``) and the optional ones (``optionalFields``, with
    ``extended_profile``), and ``?is_welcome_page=true`` the optional ones, with
    upstream's field shapes. Off, both stay empty. The authn MFE draws them only
    when its own ``ENABLE_DYNAMIC_REGISTRATION_FIELDS`` is true (its build
    ``.env``, or ``accounts.mfe_config.ENABLE_DYNAMIC_REGISTRATION_FIELDS = true``
    served by ``/api/mfe_config/v1``). With both on and the default extra fields,
    the MFE shows the combined "Terms of Service and Honor Code" notice and
    posts ``honor_code=true``, which registration requires. Leave
    ``honor_code`` and ``terms_of_service`` at ``required`` or ``hidden`` for the
    MFE: upstream's registration still asks for the terms when either is
    ``optional``, while the MFE only sends them for required fields. Only
    fields a profile can store are listed (profile columns, the two
    agreements, ``accounts.extended_profile_fields``), as upstream.
``accounts.registration_email_patterns_allowed``
    ``REGISTRATION_EMAIL_PATTERNS_ALLOWED``: regular expressions (whole match);
    empty means any address may register.
``accounts.password_validators``
    ``AUTH_PASSWORD_VALIDATORS``: whitespace-separated validators, each
    ``<name>`` or ``<name>:<option>=<value>[,<option>=<value>]``, run in order.
    Names and options: ``user_attribute_similarity`` (``max_similarity``,
    default 0.7; ``attributes``, default ``username+email``, also ``name``),
    ``minimum_length`` (``min_length``), ``maximum_length`` (``max_length``),
    ``alphabetic`` (``min_alphabetic``), ``numeric`` (``min_numeric``),
    ``uppercase`` (``min_upper``), ``lowercase`` (``min_lower``),
    ``punctuation`` (``min_punctuation``), ``symbol`` (``min_symbol``),
    ``entirely_numeric``. Default: ``user_attribute_similarity
    minimum_length:min_length=2 maximum_length:max_length=75``.
``accounts.skip_activation_email``
    ``SKIP_EMAIL_VALIDATION``: new accounts are active at once and no
    activation mail is sent.
``accounts.marketing_emails_opt_in``
    ``MARKETING_EMAILS_OPT_IN``: show the opt-in checkbox and record the
    answer (profile ``meta["is_marketable"]``, upstream's user attribute).
``accounts.registration_rate``, ``accounts.registration_validation_rate``,
``accounts.password_reset_ip_rate``, ``accounts.password_reset_email_rate``,
``accounts.password_reset_token_validate_rate``, ``accounts.password_reset_api_rate``,
``accounts.logistration_api_rate``
    Per-IP (and per-email) limits, ``<count>/[<n>]<s|m|h|d>``
    (``REGISTRATION_RATELIMIT`` 60/7d, ``REGISTRATION_VALIDATION_RATELIMIT``
    30/7d, ``PASSWORD_RESET_IP_RATE`` 1/m, ``PASSWORD_RESET_EMAIL_RATE`` 2/h,
    ``RESET_PASSWORD_TOKEN_VALIDATE_API_RATELIMIT`` 30/7d,
    ``RESET_PASSWORD_API_RATELIMIT`` 30/7d, ``LOGISTRATION_API_RATELIMIT`` 20/m).
``accounts.password_reset_timeout_seconds``
    ``PASSWORD_RESET_TIMEOUT`` (Django's default, three days; the LMS keeps it).
``accounts.authn_mfe_url``
    The authn micro-frontend (``AUTHN_MICROFRONTEND_URL``), e.g.
    ``https://apps.example.com/authn``. When set, reset links point to it and
    activation sends anonymous browsers to its login page.
``accounts.honor_code_url``, ``accounts.terms_of_service_url``, ``accounts.privacy_policy_url``
    The marketing links in the honor code / terms of service labels.
``accounts.reserved_usernames``
    Usernames nobody may register or be renamed to (compared case-insensitively),
    besides the service usernames (``accounts.retirement_service_username``,
    ``accounts.username_replacement_worker``, ``accounts.deactivation_usernames``),
    which are always reserved: a service identity never comes from a registration.

The login providers listed by ``/api/mfe_context`` are those of
``accounts.third_party_auth_providers`` (see
:mod:`plugins.accounts.views.third_party_auth`); with none, upstream's empty shapes.
"""
import re
from dataclasses import dataclass
from types import MappingProxyType

from pyramid.exceptions import ConfigurationError

from lms.settings import as_bool, as_int, as_list, parse_rate
from plugins.accounts.fields import EXTRA_FIELDS, FIELD_POLICIES
from plugins.accounts.passwords import parse_password_validators

CONFIG_KEY = "accounts.config"

DEFAULT_EXTRA_FIELDS = (
    "confirm_email=hidden level_of_education=optional gender=optional year_of_birth=optional "
    "mailing_address=optional goals=optional honor_code=required terms_of_service=hidden "
    "city=hidden country=hidden"
)
DEFAULT_FIELD_ORDER = (
    "name first_name last_name username email confirm_email password city state country "
    "gender year_of_birth level_of_education company title mailing_address goals honor_code "
    "terms_of_service"
)
DEFAULT_PASSWORD_VALIDATORS = (
    "user_attribute_similarity minimum_length:min_length=2 maximum_length:max_length=75"
)
# Names that would pass for the platform's own accounts.
DEFAULT_RESERVED_USERNAMES = "admin administrator root superuser system staff support anonymous"

SETTINGS = {
    "accounts.registration_extra_fields": DEFAULT_EXTRA_FIELDS,
    "accounts.registration_field_order": DEFAULT_FIELD_ORDER,
    "accounts.registration_email_patterns_allowed": "",
    "accounts.password_validators": DEFAULT_PASSWORD_VALIDATORS,
    "accounts.skip_activation_email": "false",
    "accounts.marketing_emails_opt_in": "false",
    "accounts.enable_dynamic_registration_fields": "false",
    "accounts.registration_rate": "60/7d",
    "accounts.registration_validation_rate": "30/7d",
    "accounts.password_reset_ip_rate": "1/m",
    "accounts.password_reset_email_rate": "2/h",
    "accounts.password_reset_token_validate_rate": "30/7d",
    "accounts.password_reset_api_rate": "30/7d",
    "accounts.logistration_api_rate": "20/m",
    "accounts.password_reset_timeout_seconds": "259200",
    "accounts.authn_mfe_url": "",
    "accounts.honor_code_url": "/honor",
    "accounts.terms_of_service_url": "/tos",
    "accounts.privacy_policy_url": "/privacy",
    "accounts.reserved_usernames": DEFAULT_RESERVED_USERNAMES,
}
RATE_NAMES = ("registration", "registration_validation", "password_reset_ip",
              "password_reset_email", "password_reset_token_validate", "password_reset_api",
              "logistration_api")


@dataclass(frozen=True)
class RegistrationConfig:
    """Registration, activation and password reset."""

    extra_fields: MappingProxyType
    field_order: tuple
    email_patterns: tuple | None
    password_validators: tuple
    skip_activation_email: bool
    marketing_emails_opt_in: bool
    dynamic_registration_fields: bool
    rates: MappingProxyType
    reset_timeout: int
    authn_mfe_url: str
    honor_code_url: str
    terms_of_service_url: str
    privacy_policy_url: str
    platform_name: str
    base_url: str

    @classmethod
    def from_settings(cls, settings):
        extra_fields = {}
        for item in as_list(settings, "accounts.registration_extra_fields"):
            name, sep, policy = item.partition("=")
            if not sep or name not in EXTRA_FIELDS or policy not in FIELD_POLICIES:
                raise ConfigurationError(
                    f"accounts.registration_extra_fields: bad item {item!r}; expected "
                    f"<field>=<{'|'.join(FIELD_POLICIES)}> with a field among "
                    f"{', '.join(EXTRA_FIELDS)}")
            extra_fields[name] = policy
        patterns = as_list(settings, "accounts.registration_email_patterns_allowed")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(
                    f"accounts.registration_email_patterns_allowed: {pattern!r}: {exc}")
        rates = {}
        for name in RATE_NAMES:
            rate = settings[f"accounts.{name}_rate"]
            parse_rate(rate)  # fail at start-up, not on the first request
            rates[name] = rate
        return cls(
            extra_fields=MappingProxyType(extra_fields),
            field_order=tuple(as_list(settings, "accounts.registration_field_order")),
            email_patterns=tuple(patterns) or None,
            password_validators=tuple(parse_password_validators(
                settings["accounts.password_validators"])),
            skip_activation_email=as_bool(settings, "accounts.skip_activation_email"),
            marketing_emails_opt_in=as_bool(settings, "accounts.marketing_emails_opt_in"),
            dynamic_registration_fields=as_bool(settings,
                                                "accounts.enable_dynamic_registration_fields"),
            rates=MappingProxyType(rates),
            reset_timeout=as_int(settings, "accounts.password_reset_timeout_seconds"),
            authn_mfe_url=settings["accounts.authn_mfe_url"].rstrip("/"),
            honor_code_url=settings["accounts.honor_code_url"],
            terms_of_service_url=settings["accounts.terms_of_service_url"],
            privacy_policy_url=settings["accounts.privacy_policy_url"],
            platform_name=settings["lms.platform_name"],
            base_url=settings["lms.base_url"].rstrip("/"),
        )

    def field_policies(self):
        """The policy the forms show for each extra field (RegistrationFormFactory):
        ``honor_code`` is required unless configured, the marketing opt-in is
        optional when enabled, any other field left out is hidden."""
        policies = {name: self.extra_fields.get(name, "hidden") for name in EXTRA_FIELDS}
        policies["honor_code"] = self.extra_fields.get("honor_code", "required")
        if self.marketing_emails_opt_in:
            policies["marketing_emails_opt_in"] = "optional"
        return policies

    def ordered_extra_fields(self):
        """The extra fields in ``field_order``, then the others sorted by name."""
        order = [name for name in self.field_order if name in EXTRA_FIELDS]
        return order + sorted(set(EXTRA_FIELDS) - set(order))

    def extra_fields_for(self, version):
        """v1 never asks for confirm_email (v2 was created for it)."""
        fields = dict(self.extra_fields)
        if version == "v1":
            fields.pop("confirm_email", None)
        return fields


@dataclass(frozen=True)
class ServiceAccounts:
    """The accounts that run services, and the usernames nobody may take."""

    # Named by the settings; each also has to be active global staff to act (e.g.
    # :func:`plugins.accounts.retirement.is_retirement_service`).
    retirement_service_username: str
    username_replacement_worker: str
    deactivation_usernames: tuple
    # Lower-cased: the reserved list and every service username above.
    reserved_usernames: frozenset

    @classmethod
    def from_settings(cls, settings):
        retirement = settings["accounts.retirement_service_username"].strip()
        replacement = settings["accounts.username_replacement_worker"].strip()
        deactivation = tuple(as_list(settings, "accounts.deactivation_usernames"))
        reserved = {name.lower() for name in as_list(settings, "accounts.reserved_usernames")}
        reserved.update(name.lower() for name in (retirement, replacement, *deactivation)
                        if name)
        return cls(retirement_service_username=retirement,
                   username_replacement_worker=replacement,
                   deactivation_usernames=deactivation,
                   reserved_usernames=frozenset(reserved))

    def is_reserved(self, username):
        return isinstance(username, str) and username.lower() in self.reserved_usernames


@dataclass(frozen=True)
class AccountsConfig:
    """Every parsed setting of the plugin, one part per concern."""

    registration: RegistrationConfig
    services: ServiceAccounts
    account: object  # plugins.accounts.serializers.AccountConfig
    images: object  # plugins.accounts.images.ImageSettings
    mfe: object  # plugins.accounts.views.mfe_config.MfeConfig
    providers: tuple  # plugins.accounts.views.third_party_auth providers, enabled ones
    enable_account_deletion: bool
    # Third-party-auth links: where "link an account" returns, the query throttles
    # (<count>/<period>, checked at start-up) and whether anyone may ask about others.
    account_microfrontend_url: str
    tpa_sustained_rate: str
    tpa_burst_rate: str
    allow_unprivileged_sso_provider_query: bool
    # Preferences: lower-cased language codes learners may choose.
    released_languages: frozenset
    # Tours: all off, and the discussion tours every learner gets.
    user_tours_disabled: bool
    available_discussion_tours: tuple


def parse_settings(settings):
    """Parse every ``accounts.*`` setting; a bad one raises ConfigurationError."""
    from plugins.accounts.images import ImageSettings
    from plugins.accounts.serializers import AccountConfig
    from plugins.accounts.views.mfe_config import parse_mfe_config
    from plugins.accounts.views.third_party_auth import parse_providers

    return AccountsConfig(
        registration=RegistrationConfig.from_settings(settings),
        services=ServiceAccounts.from_settings(settings),
        account=AccountConfig.from_settings(settings),
        images=ImageSettings.from_settings(settings),
        mfe=parse_mfe_config(settings),
        providers=parse_providers(settings.get("accounts.third_party_auth_providers")),
        enable_account_deletion=as_bool(settings, "accounts.enable_account_deletion"),
        account_microfrontend_url=settings.get("accounts.account_microfrontend_url") or "",
        tpa_sustained_rate=_rate(settings, "accounts.tpa_provider_sustained_throttle"),
        tpa_burst_rate=_rate(settings, "accounts.tpa_provider_burst_throttle"),
        allow_unprivileged_sso_provider_query=as_bool(
            settings, "accounts.allow_unprivileged_sso_provider_query"),
        released_languages=frozenset(
            code.lower() for item in as_list(settings, "accounts.released_languages")
            for code in item.split(",") if code),
        user_tours_disabled=as_bool(settings, "accounts.user_tours_disabled"),
        available_discussion_tours=tuple(as_list(settings,
                                                 "accounts.available_discussion_tours")),
    )


def _rate(settings, key):
    """A throttle rate, checked now so that a bad one stops the start-up."""
    rate = settings[key].strip()
    parse_rate(rate)
    return rate


def accounts_config(registry):
    """The settings parsed by the plugin's ``lms_includeme``."""
    return registry[CONFIG_KEY]


def get_config(registry):
    """The registration, activation and password reset settings."""
    return registry[CONFIG_KEY].registration
