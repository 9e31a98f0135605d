"""Registration, field validation, activation and password reset (upstream ``user_authn``).

What the views in :mod:`plugins.accounts.views.registration`,
:mod:`~plugins.accounts.views.password_reset` and
:mod:`~plugins.accounts.views.authn_context` share: the registration form
(its description and its validation, with Open edX's messages), the password
policy, account creation and activation, the mails, password reset tokens and
the third-party-auth context.

Settings (all optional; defaults are upstream's):

``accounts.registration_extra_fields``
    ``REGISTRATION_EXTRA_FIELDS``: ``<field>=<required|optional|hidden>`` items.
    Fields: confirm_email first_name last_name city state country gender
    year_of_birth level_of_education company job_title title mailing_address
    goals honor_code terms_of_service profession specialty
    marketing_emails_opt_in. A field left out is hidden (``honor_code`` is
    then still required by the form description, as upstream).
``accounts.registration_field_order``
    ``REGISTRATION_FIELD_ORDER``: the order of the fields in the form
    description; fields missing from it follow, sorted by name.
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

The login providers listed by ``/api/mfe_context`` are those of
``accounts.third_party_auth_providers`` (see
:mod:`plugins.accounts.views.third_party_auth`); with none, upstream's empty shapes.
"""
import difflib
import hashlib
import hmac
import html
import ipaddress
import logging
import mimetypes
import random
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from pyramid.exceptions import ConfigurationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms import auth
from lms.mail import send_mail
from lms.models import (
    LoginFailure,
    LoginSession,
    OAuthAccessToken,
    OAuthRefreshToken,
    User,
)
from lms.passwords import hash_password, is_usable
from lms.session import is_safe_redirect
from lms.settings import as_bool, as_int, as_list, parse_rate
from lms.timeutil import utcnow
from lms.users import USERNAME_MAX, USERNAME_MIN, create_user
from plugins.accounts import api
from plugins.accounts.models import (
    Registration,
    UserProfile,
    UserRetirementRequest,
    UserTour,
)

log = logging.getLogger(__name__)

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

SETTINGS = {
    "accounts.registration_extra_fields": DEFAULT_EXTRA_FIELDS,
    "accounts.registration_field_order": DEFAULT_FIELD_ORDER,
    "accounts.registration_email_patterns_allowed": "",
    "accounts.password_validators": DEFAULT_PASSWORD_VALIDATORS,
    "accounts.skip_activation_email": "false",
    "accounts.marketing_emails_opt_in": "false",
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
}

# -- limits and messages (openedx user_api.accounts and the registration form) -------

NAME_MAX_LENGTH = 255
EMAIL_MIN_LENGTH, EMAIL_MAX_LENGTH = 3, 254
PROFILE_CHOICE_MAX_LENGTH = 6  # gender / level_of_education columns

USERNAME_BAD_LENGTH = f"Username must be between {USERNAME_MIN} and {USERNAME_MAX} characters long."
USERNAME_INVALID_CHARS = ("Usernames can only contain letters (A-Z, a-z), numerals (0-9), "
                          "underscores (_), and hyphens (-).")
USERNAME_CONFLICT = "It looks like this username is already taken"
USERNAME_EXISTS = "An account with the Public Username '{username}' already exists."
EMAIL_CONFLICT = "This email is already associated with an existing account"
EMAIL_EXISTS = "An account with the Email '{email}' already exists."
EMAIL_BELONGS_TO_ACCOUNT = ("It looks like {email} belongs to an existing account. "
                            "Try again with a different email address.")
EMAIL_INVALID_FORM = "A properly formatted e-mail is required"
EMAIL_TOO_LONG_FORM = f"Email cannot be more than {EMAIL_MAX_LENGTH} characters long"
EMAIL_UNAUTHORIZED = "Unauthorized email address."
EMAIL_INVALID = "Enter a valid email address"
EMAIL_BAD_LENGTH = (f"Enter a valid email address that contains at least {EMAIL_MIN_LENGTH} "
                    "characters.")
NAME_TOO_SHORT = "Your legal name must be a minimum of one character long"
NAME_TOO_LONG = f"Your legal name is too long. It must not exceed {NAME_MAX_LENGTH} characters"
NAME_HTML = "Full Name cannot contain the following characters: < >"
NAME_INVALID = "Enter a valid name"
NAME_REQUIRED = "Enter your surname and name"
NAME_TOO_LONG_VALIDATION = f"Full name can't be longer than {NAME_MAX_LENGTH} symbols"
CONFIRM_EMAIL_MISMATCH = "The email addresses do not match"
COUNTRY_REQUIRED = "Select your country or region of residence"
INVALID_UNICODE = "Input not valid unicode"
PASSWORD_BAD_TYPE = "Password must be a string"
FIELD_REQUIRED = "This field is required."
NULL_CHARACTERS = "Null characters are not allowed."
HONOR_CODE_REQUIRED = "To enroll, you must follow the honor code."
TERMS_REQUIRED = "You must accept the terms of service."
EXTRA_FIELD_REQUIRED = {
    "level_of_education": "A level of education is required",
    "gender": "Your gender is required",
    "year_of_birth": "Your year of birth is required",
    "mailing_address": "Your mailing address is required",
    "goals": "A description of your goals is required",
    "city": "A city is required",
    "country": "A country is required",
}
EXTRA_FIELD_MISSING = "You are missing one or more required fields"

# Form-description error messages (REQUIRED_FIELD_*_MSG upstream).
DESCRIPTION_REQUIRED = {
    "confirm_email": CONFIRM_EMAIL_MISMATCH,
    "country": COUNTRY_REQUIRED,
    "city": "Enter your city",
    "goals": "Tell us your goals",
    "level_of_education": "Select the highest level of education you have completed",
    "mailing_address": "Enter your educational institution",
    "profession": "Enter your profession",
    "specialty": "Enter your specialty",
}

GENDER_CHOICES = (("m", "Male"), ("f", "Female"), ("o", "Other/Prefer Not to Say"))
LEVEL_OF_EDUCATION_CHOICES = (
    ("p", "Doctorate"),
    ("m", "Master's or professional degree"),
    ("b", "Bachelor's degree"),
    ("a", "Associate degree"),
    ("hs", "Secondary/high school"),
    ("jhs", "Junior secondary/junior high/middle school"),
    ("el", "Elementary/primary school"),
    ("none", "No formal education"),
    ("other", "Other education"),
)
YEARS_OF_BIRTH = 120

DEFAULT_FIELDS = ("email", "name", "username", "password")
EXTRA_FIELDS = (
    "confirm_email", "first_name", "last_name", "city", "state", "country", "gender",
    "year_of_birth", "level_of_education", "company", "job_title", "title", "mailing_address",
    "goals", "honor_code", "terms_of_service", "profession", "specialty",
    "marketing_emails_opt_in",
)
FIELD_POLICIES = ("required", "optional", "hidden")
PROFILE_FIELDS = ("level_of_education", "gender", "mailing_address", "city", "country", "goals",
                  "year_of_birth")
# Parameters that send the browser through /account/finish_auth after login.
POST_AUTH_PARAMS = ("course_id", "enrollment_action", "course_mode", "email_opt_in",
                    "purchase_workflow")
DASHBOARD_PATH = "/dashboard"
STATIC_PATH = "/static/"
LANGUAGE_KEY = "pref-lang"
DEFAULT_LANGUAGE = "en"
NEW_USER_TOUR = "show-new-user-tour"
MAX_DB_INTEGER = 2**31 - 1

CONFIG_KEY = "accounts.registration_config"


# -- password validators (AUTH_PASSWORD_VALIDATORS) ----------------------------------

def _plural(count, singular, plural):
    return singular if count == 1 else plural


class MinimumLength:
    restriction_key = "min_length"

    def __init__(self, min_length=8):
        self.min_length = int(min_length)

    def errors(self, password, attributes):
        if len(password) < self.min_length:
            unit = _plural(self.min_length, "character", "characters")
            return [f"This password is too short. It must contain at least {self.min_length} {unit}."]
        return []

    def instruction(self):
        return f"at least {self.min_length} " + _plural(self.min_length, "character",
                                                        "characters")

    def restriction(self):
        return self.min_length


class MaximumLength:
    restriction_key = "max_length"

    def __init__(self, max_length=75):
        self.max_length = int(max_length)

    def errors(self, password, attributes):
        if len(password) > self.max_length:
            unit = _plural(self.max_length, "character", "characters")
            return [f"This password is too long. It must contain no more than {self.max_length} {unit}."]
        return []

    def restriction(self):
        return self.max_length


class CharacterClass:
    """At least ``minimum`` characters for which ``test`` holds (letters, digits, ...)."""

    def __init__(self, minimum, test, singular, plural, restriction_key):
        self.minimum = int(minimum)
        self.test = test
        self.singular, self.plural = singular, plural
        self.restriction_key = restriction_key

    def errors(self, password, attributes):
        if sum(1 for char in password if self.test(char)) >= self.minimum:
            return []
        noun = _plural(self.minimum, self.singular, self.plural)
        return [f"This password must contain at least {self.minimum} {noun}."]

    def instruction(self):
        if self.minimum <= 0:
            return ""
        return f"{self.minimum} " + _plural(self.minimum, self.singular, self.plural)

    def restriction(self):
        return self.minimum


class EntirelyNumeric:
    def errors(self, password, attributes):
        return ["This password is entirely numeric."] if password.isdigit() else []


ATTRIBUTE_NAMES = {"username": "username", "email": "email address", "name": "full name"}


class UserAttributeSimilarity:
    """Too close to the username or email (Django's quick_ratio test)."""

    def __init__(self, max_similarity=0.7, attributes="username+email"):
        self.max_similarity = float(max_similarity)
        if self.max_similarity < 0.1:
            raise ValueError("max_similarity must be at least 0.1")
        self.attributes = [name for name in str(attributes).split("+") if name]
        unknown = [name for name in self.attributes if name not in ATTRIBUTE_NAMES]
        if unknown:
            raise ValueError(f"unknown attributes {unknown}")

    def _too_long_to_compare(self, password, part):
        # A long password cannot be "similar" to a much shorter value.
        return (len(password) >= 10 * len(part)
                and len(part) < self.max_similarity / 2 * len(password))

    def errors(self, password, attributes):
        if not attributes:
            return []
        password = password.lower()
        for name in self.attributes:
            value = attributes.get(name)
            if not value or not isinstance(value, str):
                continue
            value = value.lower()
            for part in re.split(r"\W+", value) + [value]:
                if self._too_long_to_compare(password, part):
                    continue
                ratio = difflib.SequenceMatcher(a=password, b=part).quick_ratio()
                if ratio >= self.max_similarity:
                    return [f"The password is too similar to the {ATTRIBUTE_NAMES[name]}."]
        return []


def _character_class(option, test, singular, plural):
    def make(**options):
        return CharacterClass(options.pop(option, 0), test, singular, plural, option,
                              **options)
    return make


PASSWORD_VALIDATORS = {
    "user_attribute_similarity": UserAttributeSimilarity,
    "minimum_length": MinimumLength,
    "maximum_length": MaximumLength,
    "alphabetic": _character_class("min_alphabetic", str.isalpha, "letter", "letters"),
    "numeric": _character_class("min_numeric", str.isnumeric, "number", "numbers"),
    "uppercase": _character_class("min_upper", str.isupper, "uppercase letter",
                                  "uppercase letters"),
    "lowercase": _character_class("min_lower", str.islower, "lowercase letter",
                                  "lowercase letters"),
    "punctuation": _character_class("min_punctuation",
                                    lambda c: "P" in unicodedata.category(c),
                                    "punctuation mark", "punctuation marks"),
    "symbol": _character_class("min_symbol", lambda c: "S" in unicodedata.category(c),
                               "symbol", "symbols"),
    "entirely_numeric": EntirelyNumeric,
}


def parse_password_validators(value):
    """``"name name:opt=1,opt=2 ..."`` -> validator objects, in order."""
    validators = []
    for item in value.split():
        name, _, raw_options = item.partition(":")
        options = {}
        for pair in filter(None, raw_options.split(",")):
            key, sep, option = pair.partition("=")
            if not sep:
                raise ConfigurationError(f"accounts.password_validators: bad option {pair!r}")
            options[key] = option
        factory = PASSWORD_VALIDATORS.get(name)
        if factory is None:
            raise ConfigurationError(f"accounts.password_validators: unknown validator {name!r} "
                                     f"(known: {', '.join(PASSWORD_VALIDATORS)})")
        try:
            validators.append(factory(**options))
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"accounts.password_validators: {item!r}: {exc}")
    return validators


def normalize_password(password):
    """NFKC, as upstream hashes and checks every password."""
    return unicodedata.normalize("NFKC", password)


def password_errors(config, password, attributes=None):
    """Every validator's message, in order (``attributes``: username/email/name or None)."""
    password = normalize_password(password)
    errors = []
    for validator in config.password_validators:
        errors.extend(validator.errors(password, attributes))
    return errors


def password_instructions(config):
    length, complexity = "", []
    for validator in config.password_validators:
        if isinstance(validator, MinimumLength):
            length = validator.instruction()
        elif hasattr(validator, "instruction"):
            complexity.append(validator.instruction())
    if complexity:
        return (f"Your password must contain {length}, including "
                f"{' & '.join(complexity)}.")
    return f"Your password must contain {length}."


def password_restrictions(config):
    return {validator.restriction_key: validator.restriction()
            for validator in config.password_validators if hasattr(validator, "restriction")}


# -- configuration ---------------------------------------------------------------------

@dataclass
class RegistrationConfig:
    extra_fields: dict
    field_order: list
    email_patterns: list | None
    password_validators: list
    skip_activation_email: bool
    marketing_emails_opt_in: bool
    rates: dict
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
        for name in ("registration", "registration_validation", "password_reset_ip",
                     "password_reset_email", "password_reset_token_validate",
                     "password_reset_api", "logistration_api"):
            rate = settings[f"accounts.{name}_rate"]
            parse_rate(rate)  # fail at start-up, not on the first request
            rates[name] = rate
        return cls(
            extra_fields=extra_fields,
            field_order=as_list(settings, "accounts.registration_field_order"),
            email_patterns=patterns or None,
            password_validators=parse_password_validators(
                settings["accounts.password_validators"]),
            skip_activation_email=as_bool(settings, "accounts.skip_activation_email"),
            marketing_emails_opt_in=as_bool(settings, "accounts.marketing_emails_opt_in"),
            rates=rates,
            reset_timeout=as_int(settings, "accounts.password_reset_timeout_seconds"),
            authn_mfe_url=settings["accounts.authn_mfe_url"].rstrip("/"),
            honor_code_url=settings["accounts.honor_code_url"],
            terms_of_service_url=settings["accounts.terms_of_service_url"],
            privacy_policy_url=settings["accounts.privacy_policy_url"],
            platform_name=settings["lms.platform_name"],
            base_url=settings["lms.base_url"].rstrip("/"),
        )

    def extra_fields_for(self, version):
        """v1 never asks for confirm_email (v2 was created for it)."""
        fields = dict(self.extra_fields)
        if version == "v1":
            fields.pop("confirm_email", None)
        return fields


def get_config(registry):
    config = registry.get(CONFIG_KEY)
    if config is None:
        config = registry[CONFIG_KEY] = RegistrationConfig.from_settings(registry.settings)
    return config


# -- field checks shared by the form and the validation endpoint -----------------------

_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9a-z]+"
_LOCAL_DOT_ATOM = re.compile(rf"{_ATOM}(?:\.{_ATOM})*", re.IGNORECASE)
_LOCAL_QUOTED = re.compile(
    r'"(?:[\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0e-\x7f])*"')
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)+[a-z0-9-]{{2,63}}(?<!-)", re.IGNORECASE)
_DOMAIN_LITERAL = re.compile(r"\[([a-f0-9:.]+)\]", re.IGNORECASE)
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_URL_IN_NAME = re.compile(r"https?://(?:[-\w.]|(?:%[\da-fA-F]{2}))*")


def _valid_domain(domain):
    if domain == "localhost" or _DOMAIN.fullmatch(domain):
        return True
    literal = _DOMAIN_LITERAL.fullmatch(domain)
    if literal:
        try:
            ipaddress.ip_address(literal.group(1))
            return True
        except ValueError:
            return False
    return False


def is_valid_email(value):
    """An address Django's EmailValidator accepts (dot-atom or quoted local part, IDN domains)."""
    if not value or "@" not in value or len(value) > 320:
        return False
    local, domain = value.rsplit("@", 1)
    if not (_LOCAL_DOT_ATOM.fullmatch(local) or _LOCAL_QUOTED.fullmatch(local)):
        return False
    if _valid_domain(domain):
        return True
    try:
        return _valid_domain(domain.encode("idna").decode("ascii"))
    except UnicodeError:
        return False


def _storable(value):
    """PostgreSQL text cannot hold NUL: such a value can match no row."""
    return isinstance(value, str) and "\x00" not in value


def username_exists_or_retired(db, settings, username):
    """Taken (case-insensitively, as upstream's MySQL collation) or once retired."""
    if not _storable(username):
        return False
    taken = db.scalar(select(User.id).where(func.lower(User.username) == username.lower())
                      .limit(1))
    return taken is not None or api.is_username_retired(db, settings, username)


def email_exists_or_retired(db, settings, email):
    if not _storable(email):
        return False
    taken = db.scalar(select(User.id).where(func.lower(User.email) == email.lower()).limit(1))
    return taken is not None or api.is_email_retired(db, settings, email)


def username_suggestions(db, settings, name):
    """Up to three free usernames built from a name (or a taken username)."""
    suggestions = []
    words = name.split(" ")
    first = "".join(re.findall(r"[\w-]+", words[0].lower()))
    last = "".join(re.findall(r"[\w-]+", words[-1].lower()))

    def offer(candidate):
        if not username_exists_or_retired(db, settings, candidate):
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


# -- form descriptions (user_api.helpers.FormDescription) ----------------------------------

def escape(value):
    """markupsafe.escape, as upstream's Text()/HTML() formatting escapes values."""
    return (html.escape(str(value), quote=False)
            .replace('"', "&#34;").replace("'", "&#39;"))


def form_field(name, label="", field_type="text", default="", placeholder="", instructions="",
               exposed=None, required=True, restrictions=None, options=None,
               include_default_option=False, error_messages=None):
    described = {
        "name": name,
        "label": label,
        "type": field_type,
        "defaultValue": default,
        "placeholder": placeholder,
        "instructions": instructions,
        "exposed": required if exposed is None else exposed,
        "required": required,
        "restrictions": dict(restrictions or {}),
        "errorMessages": dict(error_messages or {}),
        "supplementalLink": "",
        "supplementalText": "",
        "loginIssueSupportLink": "",
    }
    if field_type == "select":
        choices = []
        if include_default_option:
            choices.append({"value": "", "name": "--", "default": True})
        choices.extend({"value": value, "name": label_, "default": False}
                       for value, label_ in options)
        described["options"] = choices
    return described


_countries = None


def countries():
    """``{ISO 3166-1 alpha-2: name}``, sorted by name (the maintained pycountry list)."""
    global _countries
    if _countries is None:
        import pycountry

        names = {country.alpha_2: getattr(country, "common_name", None) or country.name
                 for country in pycountry.countries}
        _countries = dict(sorted(names.items(), key=lambda item: item[1]))
    return _countries


def _field_visible(policies, name):
    return policies.get(name) in ("required", "optional")


def _honor_code_field(config, policies, required):
    platform = escape(config.platform_name)
    link = escape(config.honor_code_url)
    if _field_visible(policies, "terms_of_service"):
        terms = "Honor Code"
        label = (f"I agree to the {platform} <a href='{link}' rel='noopener' "
                 f"target='_blank'>{terms}</a>")
        field_type = "checkbox"
    else:
        terms = "Terms of Service and Honor Code"
        privacy = escape(config.privacy_policy_url)
        spacing = " " * 18  # upstream's string continuation keeps the indentation
        label = (f"By creating an account, you agree to the {spacing}<a href='{link}' "
                 f"rel='noopener' target='_blank'>{terms}</a> {spacing}and you acknowledge "
                 f"that {platform} and each Member process your personal data in accordance "
                 f"{spacing}with the <a href='{privacy}' rel='noopener' target='_blank'>"
                 "Privacy Policy</a>.")
        field_type = "plaintext"
    return form_field("honor_code", label=label, field_type=field_type, default=False,
                      required=required, error_messages={
                          "required": f"You must agree to the {config.platform_name} {terms}"})


def _extra_field(config, policies, name, required):
    """The description of one optional/required extra field."""
    if name == "honor_code":
        return _honor_code_field(config, policies, required)
    if name == "terms_of_service":
        link = escape(config.terms_of_service_url)
        return form_field(
            "terms_of_service", field_type="checkbox", default=False, required=required,
            label=(f"I agree to the {escape(config.platform_name)} <a href='{link}' "
                   "rel='noopener' target='_blank'>Terms of Service</a>"),
            error_messages={"required": f"You must agree to the {config.platform_name} "
                                        "Terms of Service"})
    if name == "confirm_email":
        return form_field(name, label="Confirm Email", field_type="email", required=required,
                          error_messages={"required": CONFIRM_EMAIL_MISMATCH})
    if name == "gender":
        return form_field(name, label="Gender", field_type="select", options=GENDER_CHOICES,
                          include_default_option=True, required=required)
    if name == "year_of_birth":
        this_year = utcnow().year
        years = [(str(year), str(year)) for year in range(this_year, this_year - YEARS_OF_BIRTH,
                                                           -1)]
        return form_field(name, label="Year of birth", field_type="select", options=years,
                          include_default_option=True, required=required)
    if name == "level_of_education":
        return form_field(name, label="Highest level of education completed",
                          field_type="select", options=LEVEL_OF_EDUCATION_CHOICES,
                          include_default_option=True, required=required,
                          error_messages={"required": DESCRIPTION_REQUIRED[name]})
    if name == "country":
        return form_field(name, label="Country or Region of Residence", field_type="select",
                          instructions="The country or region where you live.",
                          options=list(countries().items()), include_default_option=True,
                          required=required, error_messages={"required": COUNTRY_REQUIRED})
    if name in ("mailing_address", "goals"):
        label = ("Mailing address" if name == "mailing_address" else
                 f"Tell us why you're interested in {config.platform_name}")
        return form_field(name, label=label, field_type="textarea", required=required,
                          error_messages={"required": DESCRIPTION_REQUIRED[name]})
    if name == "marketing_emails_opt_in":
        return form_field(name, field_type="checkbox", exposed=True, default=True,
                          required=required,
                          label=f"I agree that {config.platform_name} may send me marketing "
                                "messages.")
    labels = {"city": "City", "state": "State/Province/Region", "company": "Company",
              "title": "Title", "job_title": "Job Title", "first_name": "First Name",
              "last_name": "Last Name", "profession": "Profession", "specialty": "Specialty"}
    messages = ({"required": DESCRIPTION_REQUIRED[name]} if name in DESCRIPTION_REQUIRED
                else None)
    return form_field(name, label=labels[name], required=required, error_messages=messages)


def _default_field(config, name):
    if name == "email":
        return form_field("email", label="Email", field_type="email",
                          instructions="This is what you will use to login.",
                          restrictions={"min_length": EMAIL_MIN_LENGTH,
                                        "max_length": EMAIL_MAX_LENGTH})
    if name == "name":
        return form_field("name", label="Full Name",
                          instructions="This name will be used on any certificates that you "
                                       "earn.",
                          restrictions={"max_length": NAME_MAX_LENGTH})
    if name == "username":
        return form_field("username", label="Public Username",
                          instructions="The name that will identify you in your courses. It "
                                       "cannot be changed later.",
                          restrictions={"min_length": USERNAME_MIN, "max_length": USERNAME_MAX})
    return form_field("password", label="Password", field_type="password",
                      instructions=password_instructions(config),
                      restrictions=password_restrictions(config))


def registration_form(config, version):
    """The registration form description (RegistrationFormFactory) for ``v1`` or ``v2``."""
    policies = dict(config.extra_fields)
    policies.setdefault("honor_code", "required")
    if config.marketing_emails_opt_in:
        policies["marketing_emails_opt_in"] = "optional"
    known = list(DEFAULT_FIELDS) + list(EXTRA_FIELDS)
    order = list(config.field_order)
    order += sorted(set(known) - set(order))
    fields = []
    for name in order:
        if name in DEFAULT_FIELDS:
            fields.append(_default_field(config, name))
        elif name in EXTRA_FIELDS and _field_visible(policies, name):
            if version == "v1" and name == "confirm_email":
                continue
            fields.append(_extra_field(config, policies, name,
                                       policies[name] == "required"))
    return {"method": "post", "submit_url": f"/api/user/{version}/account/registration/",
            "fields": fields}


def password_reset_form(config):
    return {
        "method": "post",
        "submit_url": "/account/password",
        "fields": [form_field(
            "email", label="Email", field_type="email", placeholder="username@domain.com",
            instructions=f"The email address you used to register with {config.platform_name}",
            restrictions={"min_length": EMAIL_MIN_LENGTH, "max_length": EMAIL_MAX_LENGTH})],
    }


# -- the registration form (AccountCreationForm) ---------------------------------------------

def _min_length_message(limit, length):
    unit = _plural(limit, "character", "characters")
    return f"Ensure this value has at least {limit} {unit} (it has {length})."


def _max_length_message(limit, length):
    unit = _plural(limit, "character", "characters")
    return f"Ensure this value has at most {limit} {unit} (it has {length})."


def clean_char(data, name, *, required, messages=None, min_length=None, max_length=None,
               validators=(), strip=True):
    """A Django ``forms.CharField``: ``(value, errors)``; validators then lengths then NUL."""
    messages = messages or {}
    raw = data.get(name)
    value = "" if raw is None else str(raw)
    if strip:
        value = value.strip()
    if not value:
        return "", ([messages.get("required", FIELD_REQUIRED)] if required else [])
    errors = [message for message in (check(value) for check in validators) if message]
    if min_length is not None and len(value) < min_length:
        errors.append(messages.get("min_length") or _min_length_message(min_length, len(value)))
    if max_length is not None and len(value) > max_length:
        errors.append(messages.get("max_length") or _max_length_message(max_length, len(value)))
    if "\x00" in value:
        errors.append(NULL_CHARACTERS)
    return value, errors


def _username_charset(value):
    return None if _SLUG.fullmatch(value) else USERNAME_INVALID_CHARS


def _email_format(value):
    return None if is_valid_email(value) else EMAIL_INVALID_FORM


def _name_format(value):
    if "<" in value or ">" in value:
        return NAME_HTML
    if "://" in value:
        return NAME_INVALID
    return None


def is_true(data, name):
    """The form's TrueField: only the text ``true`` (any case) counts as agreement."""
    return str(data.get(name) or "").lower() == "true"


@dataclass
class RegistrationForm:
    cleaned: dict
    errors: dict  # field -> [messages], in the form's field order

    @property
    def is_valid(self):
        return not self.errors


def clean_registration(request, data, version):
    """Validate posted registration fields as upstream's AccountCreationForm does."""
    config = get_config(request.registry)
    settings = request.registry.settings
    db = request.dbsession
    policies = config.extra_fields_for(version)
    cleaned, errors = {}, {}

    def keep(name, value, field_errors):
        if field_errors:
            errors[name] = field_errors
        else:
            cleaned[name] = value

    username_length = {"required": USERNAME_BAD_LENGTH, "min_length": USERNAME_BAD_LENGTH,
                       "max_length": USERNAME_BAD_LENGTH}
    keep("username", *clean_char(data, "username", required=True, messages=username_length,
                                 min_length=USERNAME_MIN, max_length=USERNAME_MAX,
                                 validators=(_username_charset,)))

    email, email_errors = clean_char(
        data, "email", required=True, min_length=EMAIL_MIN_LENGTH, max_length=EMAIL_MAX_LENGTH,
        messages={"required": EMAIL_INVALID_FORM, "max_length": EMAIL_TOO_LONG_FORM},
        validators=(_email_format,))
    if not email_errors:
        if config.email_patterns and not any(re.match(pattern + "$", email)
                                             for pattern in config.email_patterns):
            email_errors = [EMAIL_UNAUTHORIZED]
        elif email_exists_or_retired(db, settings, email):
            email_errors = [EMAIL_BELONGS_TO_ACCOUNT.format(email=email)]
    keep("email", email, email_errors)

    password, password_field_errors = clean_char(data, "password", required=True)
    if not password_field_errors:
        attributes = ({"username": cleaned["username"], "email": cleaned.get("email")}
                      if "username" in cleaned else None)
        password_field_errors = password_errors(config, password, attributes)
    keep("password", password, password_field_errors)

    name_messages = {"required": NAME_TOO_SHORT, "min_length": NAME_TOO_SHORT,
                     "max_length": NAME_TOO_LONG}
    keep("name", *clean_char(data, "name", required=True, messages=name_messages, min_length=1,
                             max_length=NAME_MAX_LENGTH, validators=(_name_format,)))

    defined = {"username", "email", "password", "name"}
    if policies.get("terms_of_service") != "hidden" or policies.get("honor_code") != "hidden":
        defined.add("terms_of_service")
        accepted = is_true(data, "terms_of_service")
        keep("terms_of_service", accepted, [] if accepted else [TERMS_REQUIRED])

    for name, policy in policies.items():
        if name in defined:
            continue
        if name == "honor_code":
            if policy == "required":
                accepted = is_true(data, name)
                keep(name, accepted, [] if accepted else [HONOR_CODE_REQUIRED])
            continue
        message = EXTRA_FIELD_REQUIRED.get(name, EXTRA_FIELD_MISSING)
        max_length = PROFILE_CHOICE_MAX_LENGTH if name in ("gender",
                                                           "level_of_education") else None
        value, field_errors = clean_char(data, name, required=policy == "required",
                                         messages={"required": message, "min_length": message},
                                         min_length=1, max_length=max_length)
        if name == "year_of_birth" and not field_errors:
            value = parse_year(value)
        keep(name, value, field_errors)
    return RegistrationForm(cleaned, errors)


def parse_year(value):
    """An unparsable (or impossible) year is silently dropped, as upstream."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if abs(year) <= MAX_DB_INTEGER else None


def country_error(config, country):
    """Upstream's check before the form: a valid ISO code when required or when given."""
    valid = country in countries()
    if config.extra_fields.get("country", "hidden") == "required" and not valid:
        return COUNTRY_REQUIRED
    if country and not valid:
        return COUNTRY_REQUIRED
    return None


# -- account creation and activation ------------------------------------------------------------

class AccountConflict(Exception):
    """A concurrent registration won the username or email (upstream AccountValidationError)."""

    def __init__(self, message, field_name, error_code):
        super().__init__(message)
        self.field_name = field_name
        self.error_code = error_code


def create_account(request, form, data):
    """Create the inactive user, profile, activation key, tour and language preference.

    Returns ``(user, registration)``. Unique constraints decide concurrent
    registrations: the loser gets :class:`AccountConflict`.
    """
    config = get_config(request.registry)
    db = request.dbsession
    cleaned = form.cleaned
    try:
        user = create_user(request, username=cleaned["username"], email=cleaned["email"],
                           password=normalize_password(cleaned["password"]),
                           name=cleaned["name"], is_active=False)
    except IntegrityError:
        # The request's transaction is spent (it will be aborted); ask another
        # connection what the winner committed. (No savepoint: pysqlite would
        # commit at its release when it opened the transaction.)
        conflict = _conflict_with_committed_account(request, cleaned)
        if conflict is None:
            raise
        raise conflict
    registration = Registration(user_id=user.id, activation_key=uuid.uuid4().hex)
    db.add(registration)
    profile = UserProfile(user_id=user.id, language_proficiencies=[], social_links=[], meta={},
                          **{name: cleaned.get(name) or None for name in PROFILE_FIELDS})
    if config.marketing_emails_opt_in:
        is_marketable = data.get("marketing_emails_opt_in") in ("true", "1")
        profile.meta = {"is_marketable": str(is_marketable).lower()}
    db.add(profile)
    if db.scalar(select(UserTour.id).where(UserTour.user_id == user.id)) is None:
        db.add(UserTour(user_id=user.id, course_home_tour_status=NEW_USER_TOUR,
                        show_courseware_tour=True))
    db.flush()
    if api.get_preference(db, user.id, LANGUAGE_KEY) is None:
        api.set_preference(db, user.id, LANGUAGE_KEY, DEFAULT_LANGUAGE)
    return user, registration


def _conflict_with_committed_account(request, cleaned):
    settings = request.registry.settings
    with Session(request.registry["lms.engine"]) as db:
        if username_exists_or_retired(db, settings, cleaned["username"]):
            return AccountConflict(USERNAME_EXISTS.format(username=cleaned["username"]),
                                   "username", "duplicate-username")
        if email_exists_or_retired(db, settings, cleaned["email"]):
            return AccountConflict(EMAIL_EXISTS.format(email=cleaned["email"]), "email",
                                   "duplicate-email")
    return None


def activate(db, registration, user):
    """Registration.activate(): the account becomes active, the key records when."""
    user.is_active = True
    registration.activation_timestamp = utcnow()
    db.flush()


def activation_link(config, activation_key, redirect_url=None):
    link = f"{config.base_url}/activate/{activation_key}"
    if redirect_url:
        link += "?" + urlencode({"next": redirect_url})
    return link


def send_activation_email(request, user, registration, redirect_url=None):
    """The "activate your account" mail; it leaves only if the request commits."""
    config = get_config(request.registry)
    platform = config.platform_name
    link = activation_link(config, registration.activation_key, redirect_url)
    text = (
        f"You're almost there! Use the link below to activate your {platform} account. "
        "You will not be able to sign in again until your account is activated.\n\n"
        f"{link}\n\n"
        f"Enjoy learning with {platform}.\n\n"
        f"This message was sent automatically by {config.base_url} because someone created "
        f"an account on {platform} with this email address.\n"
    )
    html_body = (
        f"<p>You're almost there! Use the link below to activate your {escape(platform)} "
        "account. You will not be able to sign in again until your account is activated.</p>"
        f"<p><a href=\"{escape(link)}\">Activate your account</a></p>"
        f"<p>Enjoy learning with {escape(platform)}.</p>"
    )
    return send_mail(request, user.email, f"Action Required: Activate your {platform} account",
                     text, html_body)


def registration_for(db, user):
    """The user's activation key, created when the account never had one."""
    registration = db.scalar(select(Registration).where(Registration.user_id == user.id))
    if registration is None:
        registration = Registration(user_id=user.id, activation_key=uuid.uuid4().hex)
        db.add(registration)
        db.flush()
    return registration


# -- where to go after login/registration (get_next_url_for_login_page) ------------------------

def next_url_for_login_page(request, params):
    """``next`` when safe (else the dashboard), via finish_auth for course parameters."""
    redirect_to = params.get("next")
    if redirect_to:
        accept = request.headers.get("Accept", "")
        mime_type, _ = mimetypes.guess_type(redirect_to, strict=False)
        if (not is_safe_redirect(request, redirect_to)
                or not any(kind in accept for kind in ("*/*", "text/*", "text/html"))
                or mime_type or STATIC_PATH in redirect_to):
            redirect_to = None
    if not redirect_to:
        redirect_to = DASHBOARD_PATH
    present = [(name, params[name]) for name in POST_AUTH_PARAMS if name in params]
    if present:
        redirect_to = "/account/finish_auth?" + urlencode(present + [("next", redirect_to)])
    return redirect_to


def with_host(base_url, url):
    """A relative URL on the LMS host (get_redirect_url_with_host)."""
    parts = urlsplit(url)
    if parts.netloc:
        return url
    base = urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))


# -- the validation endpoint (RegistrationValidationView) -----------------------------------------

def validation_decisions(request, data, field_key=None):
    """``(decisions, suggestions)`` for the fields present in ``data`` (or only ``field_key``)."""
    config = get_config(request.registry)
    settings = request.registry.settings
    db = request.dbsession
    suggestions = []

    def name_decision():
        name = data.get("name")
        if not name:
            return NAME_REQUIRED
        if not isinstance(name, str):
            return NAME_INVALID  # upstream fails with a 500 here
        if len(name) > NAME_MAX_LENGTH:
            return NAME_TOO_LONG_VALIDATION
        if "<" in name or ">" in name or _URL_IN_NAME.search(name):
            return NAME_INVALID
        suggestions[:] = username_suggestions(db, settings, name)
        return ""

    def username_decision():
        username = data.get("username")
        invalid = username_error(username)
        taken = ""
        if isinstance(username, str) and username_exists_or_retired(db, settings, username):
            taken = USERNAME_CONFLICT
            suggestions[:] = username_suggestions(db, settings, username)
        return invalid or taken

    def email_decision():
        email = data.get("email")
        invalid = email_error(email)
        taken = EMAIL_CONFLICT if email_exists_or_retired(db, settings, email) else ""
        return invalid or taken

    def confirm_email_decision():
        confirm = data.get("confirm_email")
        return CONFIRM_EMAIL_MISMATCH if not confirm or confirm != data.get("email") else ""

    def password_decision():
        password = data.get("password")
        if not isinstance(password, str):
            return PASSWORD_BAD_TYPE
        username = data.get("username")
        attributes = {"username": username, "email": data.get("email")} if username else None
        return " ".join(password_errors(config, password, attributes))

    def country_decision():
        return COUNTRY_REQUIRED if data.get("country") in ("", "--") else ""

    handlers = {"name": name_decision, "username": username_decision, "email": email_decision,
                "confirm_email": confirm_email_decision, "password": password_decision,
                "country": country_decision}
    decisions = {}
    if field_key in handlers:
        decisions[field_key] = handlers[field_key]()
    else:
        for name, handler in handlers.items():
            if name in data:
                decisions[name] = handler()
    return decisions, suggestions


def username_error(username):
    if not isinstance(username, str):
        return INVALID_UNICODE
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        return USERNAME_BAD_LENGTH
    return _username_charset(username) or ""


def email_error(email):
    if not isinstance(email, str):
        return INVALID_UNICODE
    if not EMAIL_MIN_LENGTH <= len(email) <= EMAIL_MAX_LENGTH:
        return EMAIL_BAD_LENGTH
    return "" if is_valid_email(email) else EMAIL_INVALID


# -- password reset ------------------------------------------------------------------------------

TOKEN_EPOCH = datetime(2001, 1, 1, tzinfo=UTC).timestamp()
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
RESET_TOKEN_PURPOSE = b"openlms.accounts.password_reset"


def int_to_base36(number):
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = BASE36[remainder] + digits
        if not number:
            return digits


def base36_to_int(text):
    """Raises ValueError; like Django, refuses more than 13 digits (beyond 64 bits)."""
    if len(text) > 13 or not re.fullmatch(r"[0-9A-Za-z]+", text):
        raise ValueError(text)
    return int(text, 36)


def _token_digest(settings, user, timestamp):
    # The password hash and last login are in the message: a reset (new hash)
    # or a login spends the token, so each link works once.
    last_login = user.last_login.isoformat() if user.last_login else ""
    message = f"{user.id}|{user.password}|{last_login}|{timestamp}|{user.email}".encode()
    key = hashlib.sha256(RESET_TOKEN_PURPOSE + settings["lms.secret_key"].encode()).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[::2]


def make_reset_token(settings, user, now=None):
    timestamp = int((time.time() if now is None else now) - TOKEN_EPOCH)
    return f"{int_to_base36(timestamp)}-{_token_digest(settings, user, timestamp)}"


def check_reset_token(registry, user, token, now=None):
    """The token was made for this account as it is now, within the timeout."""
    if not user or not isinstance(token, str):
        return False
    stamp, _, digest = token.partition("-")
    try:
        timestamp = base36_to_int(stamp)
    except ValueError:
        return False
    config = get_config(registry)
    expected = _token_digest(registry.settings, user, timestamp)
    if not hmac.compare_digest(expected.encode(), digest.encode()):
        return False
    elapsed = (time.time() if now is None else now) - TOKEN_EPOCH - timestamp
    return elapsed <= config.reset_timeout


def user_for_uidb36(db, uidb36):
    """The user a reset link names, or None (malformed, out of range, unknown)."""
    try:
        user_id = base36_to_int(uidb36)
    except ValueError:
        return None
    if not 0 < user_id <= MAX_DB_INTEGER:
        return None
    return db.get(User, user_id)


def has_requested_retirement(db, user):
    return db.scalar(select(UserRetirementRequest.id)
                     .where(UserRetirementRequest.user_id == user.id)) is not None


def reset_link(config, settings, user):
    base = config.authn_mfe_url or config.base_url
    token = make_reset_token(settings, user)
    return f"{base}/password_reset_confirm/{int_to_base36(user.id)}-{token}/?track=pwreset"


def users_for_reset(db, email):
    """Accounts a reset mail goes to; none when any of them cannot have a password."""
    if not _storable(email):
        return []
    users = db.scalars(select(User).where(func.lower(User.email) == email.lower())
                       .order_by(User.id)).all()
    if any(not is_usable(user.password) for user in users):
        return []
    return users


def send_reset_email(request, user):
    config = get_config(request.registry)
    settings = request.registry.settings
    platform = config.platform_name
    link = reset_link(config, settings, user)
    text = (
        "You're receiving this email because a password reset was requested for your user "
        f"account at {platform}.\n\n"
        "Go to the following page and choose a new password:\n\n"
        f"{link}\n\n"
        "If you didn't request this change, you can ignore this email: your password has not "
        "been changed.\n\n"
        f"The {platform} Team\n"
    )
    html_body = (
        "<p>You're receiving this email because a password reset was requested for your user "
        f"account at {escape(platform)}.</p>"
        f"<p><a href=\"{escape(link)}\">Choose a new password</a></p>"
        "<p>If you didn't request this change, you can ignore this email: your password has "
        "not been changed.</p>"
    )
    return send_mail(request, user.email, f"Password reset on {platform}", text, html_body)


def send_reset_success_email(request, user):
    config = get_config(request.registry)
    platform = config.platform_name
    text = (
        f"Your password for {platform} has been reset. You can now sign in with your new "
        f"password at {config.base_url}/login\n\n"
        "If you did not make this change, contact us right away.\n\n"
        f"The {platform} Team\n"
    )
    return send_mail(request, user.email, f"Password reset successful on {platform}", text)


def destroy_oauth_tokens(db, user_id):
    """Upstream revokes a user's OAuth tokens when a reset is requested."""
    db.execute(delete(OAuthRefreshToken).where(OAuthRefreshToken.user_id == user_id))
    db.execute(delete(OAuthAccessToken).where(OAuthAccessToken.user_id == user_id))


def set_new_password(request, user, password):
    """Store the new password; every other session of the user ends (the current one stays)."""
    db = request.dbsession
    user.password = hash_password(normalize_password(password))
    db.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
    current = auth.session_user(request)
    keep = None
    if current is not None and current.id == user.id:
        keep = request.environ.get("lms.session_row")
    stmt = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(LoginSession.id != keep.id)
    db.execute(stmt)
    db.flush()
    send_reset_success_email(request, user)


# -- third-party auth context (MFEContextView) -----------------------------------------------------

def third_party_auth_context(request, redirect_to, tpa_hint=None):
    """Upstream's context dict, with the configured providers shown at login.

    openlms runs no SSO pipeline, so nothing is ever "current".
    """
    from plugins.accounts.views.third_party_auth import configured_providers

    config = get_config(request.registry)
    providers, secondary = [], []
    for provider in configured_providers(request.registry):
        if not (provider.display_for_login or provider.provider_id == tpa_hint):
            continue

        def entry_url(auth_entry, provider=provider):
            query = {"auth_entry": auth_entry}
            if redirect_to:
                query["next"] = redirect_to
            query.update(provider.login_params)
            return f"/auth/login/{provider.backend_name}/?{urlencode(query)}"

        info = {
            "id": provider.provider_id,
            "name": provider.name,
            "iconClass": provider.options["icon_class"] or None,
            "iconImage": provider.options["icon_image"] or None,
            "skipHintedLogin": provider.options["skip_hinted_login_dialog"],
            "skipRegistrationForm": provider.options["skip_registration_form"],
            "loginUrl": entry_url("login"),
            "registerUrl": entry_url("register"),
        }
        (secondary if provider.options["secondary"] else providers).append(info)
    return {
        "currentProvider": None,
        "platformName": config.platform_name,
        "providers": providers,
        "secondaryProviders": secondary,
        "finishAuthUrl": None,
        "errorMessage": None,
        "registerFormSubmitButtonText": "Create Account",
        "autoSubmitRegForm": False,
        "syncLearnerProfileData": False,
        # No GeoIP database: the country is unknown.
        "countryCode": None,
        "welcomePageRedirectUrl": None,
        "pipelineUserDetails": {},
    }
