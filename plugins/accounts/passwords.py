"""The password policy (Django's ``AUTH_PASSWORD_VALIDATORS`` as Open edX configures it).

``accounts.password_validators`` names the validators (see
:mod:`plugins.accounts.config`); :func:`parse_password_validators` turns it
into objects once, at start-up. Every path that sets a password (registration,
password reset) checks it with :func:`password_errors` and stores it
NFKC-normalized (:func:`normalize_password`), as upstream does.
"""
import difflib
import re
import unicodedata

from pyramid.exceptions import ConfigurationError

def pluralize(count, singular, plural):
    return singular if count == 1 else plural


class MinimumLength:
    restriction_key = "min_length"

    def __init__(self, min_length=8):
        self.min_length = int(min_length)

    def errors(self, password, attributes):
        if len(password) < self.min_length:
            unit = pluralize(self.min_length, "character", "characters")
            return [f"This password is too short. It must contain at least {self.min_length} {unit}."]
        return []

    def instruction(self):
        return f"at least {self.min_length} " + pluralize(self.min_length, "character",
                                                          "characters")

    def restriction(self):
        return self.min_length


class MaximumLength:
    restriction_key = "max_length"

    def __init__(self, max_length=75):
        self.max_length = int(max_length)

    def errors(self, password, attributes):
        if len(password) > self.max_length:
            unit = pluralize(self.max_length, "character", "characters")
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
        noun = pluralize(self.minimum, self.singular, self.plural)
        return [f"This password must contain at least {self.minimum} {noun}."]

    def instruction(self):
        if self.minimum <= 0:
            return ""
        return f"{self.minimum} " + pluralize(self.minimum, self.singular, self.plural)

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
