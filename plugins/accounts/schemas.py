"""Colander schemas of the accounts API's request bodies.

``AccountUpdate`` is upstream's ``AccountUserSerializer`` +
``AccountLegacyProfileSerializer`` for a PATCH of ``accounts/{username}``: the
writable profile fields with DRF's field semantics (``CharField`` trims and
accepts numbers, ``ChoiceField``, the profile's 32-bit ``IntegerField``,
``ListSerializer`` items). Errors keep DRF's own shape, because upstream
quotes it in its ``developer_message``: a list of messages per field, a dict
per field for a nested object and a list of dicts for list items. Read them
with :func:`drf_errors`.
"""
import re

import colander

from lms.schemas import DrfText

NOT_NULL = "This field may not be null."
NOT_A_STRING = "Not a valid string."
NOT_BLANK = "This field may not be blank."
REQUIRED = "This field is required."
NOT_AN_INTEGER = "A valid integer is required."

# UserProfile choices.
GENDERS = ("m", "f", "o")
LEVELS_OF_EDUCATION = ("p", "m", "b", "a", "hs", "jhs", "el", "none", "other")


class LazyCodes:
    """A set of ISO codes read from pycountry on first use: its data takes megabytes,
    and only the requests that check a country or a language need it."""

    def __init__(self, load):
        self._load = load
        self._codes = None

    @property
    def codes(self):
        if self._codes is None:
            self._codes = frozenset(self._load())
        return self._codes

    def __contains__(self, code):
        return code in self.codes

    def __iter__(self):
        return iter(self.codes)

    def __len__(self):
        return len(self.codes)


def _country_codes():
    import pycountry

    return (country.alpha_2 for country in pycountry.countries)


def _language_codes():
    import pycountry

    return (lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


COUNTRIES = LazyCodes(_country_codes)
LANGUAGES = LazyCodes(_language_codes)
BIO_MAX_LENGTH = 300
NAME_MIN_LENGTH = 1
# settings.SOCIAL_PLATFORMS: platform -> (display name, URL stub)
SOCIAL_PLATFORMS = {
    "facebook": ("Facebook", "facebook.com/"),
    "x": ("X", "x.com/"),
    "linkedin": ("LinkedIn", "linkedin.com/in/"),
}
INT32_MIN, INT32_MAX = -2**31, 2**31 - 1
INTEGER_RE = re.compile(r"\s*([+-]?\d+)(?:\.0*)?\s*")


def invalid(node, *messages):
    """A field error as DRF renders it: a list of messages (or a dict, for objects)."""
    return colander.Invalid(node, list(messages))


def drf_errors(error):
    """``{field: DRF errors}`` of a mapping's :class:`colander.Invalid`, in field order."""
    found = {}
    for child in error.children:
        message = child.msg
        if not isinstance(message, (list, dict)):
            message = [str(message)]  # colander's own (e.g. missing_msg)
        found[child.node.name] = message
    return found


# -- field types (DRF fields) ---------------------------------------------------------

def Text(max_length=None, allow_null=True, allow_blank=True):  # noqa: N802 (a field type)
    """DRF ``CharField`` with the profile columns' defaults (null and blank allowed)."""
    return DrfText(max_length=max_length, allow_null=allow_null, allow_blank=allow_blank)


class Choice(colander.SchemaType):
    """DRF ``ChoiceField``; ``nullable``: null and blank allowed (the profile's columns)."""

    def __init__(self, choices, nullable=True):
        super().__init__()
        self.choices = choices
        self.nullable = nullable

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if self.nullable and (cstruct is None or cstruct == ""):
            return cstruct
        if cstruct is None:
            raise invalid(node, NOT_NULL)
        if str(cstruct) not in self.choices:
            raise invalid(node, f'"{cstruct}" is not a valid choice.')
        return str(cstruct)


class Integer32(colander.SchemaType):
    """DRF ``IntegerField`` of a 32-bit column: integral floats and numeric text accepted."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return cstruct
        value = cstruct
        if isinstance(value, bool):
            raise invalid(node, NOT_AN_INTEGER)
        if isinstance(value, float):
            if not value.is_integer():
                raise invalid(node, NOT_AN_INTEGER)
            value = int(value)
        elif isinstance(value, str):
            if len(value) > 1000:
                raise invalid(node, "String value too large.")
            match = INTEGER_RE.fullmatch(value)
            if not match:
                raise invalid(node, NOT_AN_INTEGER)
            value = int(match.group(1))
        elif not isinstance(value, int):
            raise invalid(node, NOT_AN_INTEGER)
        if value < INT32_MIN:
            raise invalid(node, f"Ensure this value is greater than or equal to {INT32_MIN}.")
        if value > INT32_MAX:
            raise invalid(node, f"Ensure this value is less than or equal to {INT32_MAX}.")
        return value


class PhoneNumber(colander.SchemaType):
    """Digits only, with one leading ``+`` kept; "" becomes null."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise invalid(node, NOT_NULL)
        if not isinstance(cstruct, str):
            raise invalid(node, NOT_A_STRING)
        cleaned = re.sub(r"(?!^)\+|[^0-9+]", "", cstruct) or None
        if cleaned and len(cleaned) > 50:
            raise invalid(node, "Ensure this field has no more than 50 characters.")
        return cleaned


class ItemList(colander.SchemaType):
    """DRF ``ListSerializer`` of ``item`` objects: every item checked, errors as a list
    with one dict per item (``{}`` for a valid one)."""

    def __init__(self, item):
        super().__init__()
        self.item = item

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise invalid(node, NOT_NULL)
        if not isinstance(cstruct, list):
            raise colander.Invalid(node, {"non_field_errors": [
                f'Expected a list of items but got type "{type(cstruct).__name__}".']})
        results, errors = [], []
        for entry in cstruct:
            if not isinstance(entry, dict):
                errors.append({"non_field_errors": [
                    f"Invalid data. Expected a dictionary, but got {type(entry).__name__}."]})
                continue
            try:
                results.append(self.item.deserialize(entry))
                errors.append({})
            except colander.Invalid as exc:
                errors.append(drf_errors(exc))
        if any(errors):
            raise colander.Invalid(node, errors)
        return results


# -- validators ------------------------------------------------------------------------

def known_platform(node, value):
    if value not in SOCIAL_PLATFORMS:
        raise invalid(node, "The social platform must be facebook, x or linkedin")


def name_length(node, value):
    if len(value) < NAME_MIN_LENGTH:
        raise invalid(node, f"The name field must be at least {NAME_MIN_LENGTH} character long.")


def bio_length(node, value):
    if value is not None and len(value) > BIO_MAX_LENGTH:
        raise invalid(node, f"The about me field must be at most {BIO_MAX_LENGTH} characters "
                            "long.")


def unique(key, message):
    def validator(node, items):
        if len({item[key] for item in items}) != len(items):
            raise invalid(node, message)
    return validator


# -- schemas ------------------------------------------------------------------------------

class LanguageProficiency(colander.MappingSchema):
    """``LanguageProficiencySerializer``: ``code`` is one of ALL_LANGUAGES."""

    code = colander.SchemaNode(Choice(LANGUAGES, nullable=False), missing_msg=REQUIRED)


class SocialLink(colander.MappingSchema):
    """``SocialLinkSerializer``."""

    platform = colander.SchemaNode(Text(max_length=30, allow_null=False, allow_blank=False),
                                   validator=known_platform, missing_msg=REQUIRED)
    social_link = colander.SchemaNode(Text(max_length=100, allow_null=False),
                                      missing_msg=REQUIRED)


def optional(typ, **kw):
    return colander.SchemaNode(typ, missing=colander.drop, **kw)


class AccountUpdate(colander.MappingSchema):
    """The writable profile fields of an account PATCH, in upstream's validation order.

    Other keys (read-only fields, emails, preferences, ``extended_profile``) are
    left to the view: they are not serializer fields upstream either.
    """

    name = optional(Text(max_length=255, allow_null=False), validator=name_length)
    gender = optional(Choice(GENDERS))
    goals = optional(Text())
    year_of_birth = optional(Integer32())
    level_of_education = optional(Choice(LEVELS_OF_EDUCATION))
    country = optional(Choice(COUNTRIES))
    state = optional(Text(max_length=2))
    social_links = optional(ItemList(SocialLink()), validator=unique(
        "platform", "The social_links field must consist of unique social platforms."))
    mailing_address = optional(Text())
    bio = optional(Text(max_length=3000), validator=bio_length)
    language_proficiencies = optional(ItemList(LanguageProficiency()), validator=unique(
        "code", "The language_proficiencies field must consist of unique languages."))
    phone_number = optional(PhoneNumber())
    city = optional(Text())


def account_update(data):
    """``(cleaned, errors)`` of a PATCH body's profile fields (``errors``: DRF's shape)."""
    try:
        return AccountUpdate().deserialize(data), {}
    except colander.Invalid as exc:
        errors = drf_errors(exc)
        cleaned = {}
        # The valid fields still count (the name's own checks read them).
        for child in AccountUpdate().children:
            if child.name in data and child.name not in errors:
                cleaned[child.name] = child.deserialize(data[child.name])
        return cleaned, errors
