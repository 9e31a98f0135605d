"""Validating registration input, with Open edX's rules and messages.

- :func:`clean_registration`: the posted registration form, as upstream's
  ``AccountCreationForm`` cleans it (per-field error lists);
- :func:`validation_decisions`: the validation endpoint
  (``RegistrationValidationView``), one message (or "") per field.

The validation endpoint asks :mod:`plugins.accounts.availability` whether a
username or email is free (registration asks before the form, once each), and
both ask :mod:`plugins.accounts.passwords` whether a password is acceptable.
"""
import ipaddress
import re
from dataclasses import dataclass, field

from plugins.accounts.availability import (
    email_exists_or_retired,
    username_exists_or_retired,
    username_suggestions,
)
from plugins.accounts.config import accounts_config, get_config
from plugins.accounts.fields import (
    CONFIRM_EMAIL_MISMATCH,
    COUNTRY_REQUIRED,
    EMAIL_BAD_LENGTH,
    EMAIL_CONFLICT,
    EMAIL_INVALID,
    EMAIL_INVALID_FORM,
    EMAIL_MAX_LENGTH,
    EMAIL_MIN_LENGTH,
    EMAIL_TOO_LONG_FORM,
    EMAIL_UNAUTHORIZED,
    EXTRA_FIELD_MISSING,
    EXTRA_FIELD_REQUIRED,
    FIELD_REQUIRED,
    HONOR_CODE_REQUIRED,
    INVALID_UNICODE,
    MAX_DB_INTEGER,
    NAME_HTML,
    NAME_INVALID,
    NAME_MAX_LENGTH,
    NAME_REQUIRED,
    NAME_TOO_LONG,
    NAME_TOO_LONG_VALIDATION,
    NAME_TOO_SHORT,
    NULL_CHARACTERS,
    PASSWORD_BAD_TYPE,
    PROFILE_CHOICE_MAX_LENGTH,
    TERMS_REQUIRED,
    USERNAME_BAD_LENGTH,
    USERNAME_CONFLICT,
    USERNAME_INVALID_CHARS,
    USERNAME_MAX,
    USERNAME_MIN,
)
from plugins.accounts.forms import countries
from plugins.accounts.passwords import password_errors, pluralize

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


# -- the registration form (AccountCreationForm) ---------------------------------------

def _min_length_message(limit, length):
    unit = pluralize(limit, "character", "characters")
    return f"Ensure this value has at least {limit} {unit} (it has {length})."


def _max_length_message(limit, length):
    unit = pluralize(limit, "character", "characters")
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
    # accounts.extended_profile_fields' values, for the profile's meta
    # (cleaned_extended_profile upstream: "" for a field not sent).
    extended_profile: dict = field(default_factory=dict)

    @property
    def is_valid(self):
        return not self.errors


def clean_registration(request, data, version):
    """Validate posted registration fields as upstream's AccountCreationForm does
    (no database lookup: the caller has checked the email and username)."""
    config = get_config(request.registry)
    registry = request.registry
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
        # Whether the address is taken was asked once, before the form
        # (views.registration.duplicate_error); a registration committed since then
        # loses to the unique constraint (creation.create_account).
        if config.email_patterns and not any(re.match(pattern + "$", email)
                                             for pattern in config.email_patterns):
            email_errors = [EMAIL_UNAUTHORIZED]
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

    # Any other extended profile field is optional text.
    extended_names = accounts_config(registry).account.extended_profile_fields
    for name in extended_names:
        if name not in cleaned and name not in errors:
            keep(name, *clean_char(data, name, required=False))
    extended = {name: cleaned[name] for name in extended_names
                if cleaned.get(name) is not None}
    return RegistrationForm(cleaned, errors, extended)


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


# -- the validation endpoint (RegistrationValidationView) -----------------------------------------

def validation_decisions(request, data, field_key=None):
    """``(decisions, suggestions)`` for the fields present in ``data`` (or only ``field_key``)."""
    config = get_config(request.registry)
    registry = request.registry
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
        suggestions[:] = username_suggestions(db, registry, name)
        return ""

    def username_decision():
        username = data.get("username")
        invalid = username_error(username)
        taken = ""
        if isinstance(username, str) and username_exists_or_retired(db, registry, username):
            taken = USERNAME_CONFLICT
            suggestions[:] = username_suggestions(db, registry, username)
        return invalid or taken

    def email_decision():
        email = data.get("email")
        invalid = email_error(email)
        taken = EMAIL_CONFLICT if email_exists_or_retired(db, registry, email) else ""
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
