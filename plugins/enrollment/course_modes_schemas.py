"""Request bodies and response shapes of ``/api/course_modes/v1/`` (upstream
``course_modes.rest_api.serializers.CourseModeSerializer``).

The serializer is a plain DRF ``Serializer``: text fields are ``CharField`` (numbers
become text, whitespace is trimmed, null and blank are refused), ``min_price`` an
``IntegerField`` (``"25"`` and ``25.0`` are 25), ``expiration_datetime`` a
``DateTimeField`` (ISO 8601), the flag a ``BooleanField`` (``"true"``, ``1``...), and
unknown fields are ignored. Creation requires ``course_id``, ``mode_slug``,
``mode_display_name`` and ``currency``; a change requires nothing. Lengths are the
model's columns', and prices are 0 or more (upstream lets the database refuse them).
"""
import re
from datetime import datetime, timedelta, timezone

import colander

from lms.openapi import BOOLEAN, DATETIME, INTEGER, STRING, array, nullable, obj
from lms.schemas import DrfText
from plugins.enrollment.course_modes import MAX_PRICE
from plugins.enrollment.models import COURSE_KEY_MAX_LENGTH, MODE_SLUG_MAX_LENGTH

REQUIRED = "This field is required."
NOT_AN_INTEGER = "A valid integer is required."
NOT_A_BOOLEAN = "Must be a valid boolean."
NOT_NULL = "This field may not be null."
NULL_CHARACTERS = "Null characters are not allowed."
DATETIME_FORMAT = ("Datetime has wrong format. Use one of these formats instead: "
                   "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].")
# Django's parse_datetime grammar (what DRF's DateTimeField reads).
DATETIME_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})[T ]"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<fraction>\d{1,6})\d{0,6})?)?\s*"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?", re.ASCII)
TRUE_VALUES = {"t", "y", "yes", "true", "on", "1", 1, True}
FALSE_VALUES = {"f", "n", "no", "false", "off", "0", 0, False}
MAX_NUMBER_TEXT = 1000  # DRF IntegerField.MAX_STRING_LENGTH


class Text(DrfText):
    """DRF ``CharField`` with its null-character validator (PostgreSQL stores no NUL)."""

    def deserialize(self, node, cstruct):
        text = super().deserialize(node, cstruct)
        if isinstance(text, str) and "\x00" in text:
            raise colander.Invalid(node, NULL_CHARACTERS)
        return text


class Integer(colander.SchemaType):
    """DRF ``IntegerField``: an integer, or text or a float holding a whole number."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        if isinstance(cstruct, str) and len(cstruct) > MAX_NUMBER_TEXT:
            raise colander.Invalid(node, "String value too large.")
        if isinstance(cstruct, bool) or not isinstance(cstruct, (int, float, str)):
            raise colander.Invalid(node, NOT_AN_INTEGER)
        text = re.sub(r"\.0*\s*$", "", str(cstruct))
        try:
            return int(text)
        except ValueError:
            raise colander.Invalid(node, NOT_AN_INTEGER)


class Boolean(colander.SchemaType):
    """DRF ``BooleanField``: JSON booleans, 0/1 and the usual words."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        value = cstruct.lower() if isinstance(cstruct, str) else cstruct
        if isinstance(value, (str, int, float, bool)):
            if value in TRUE_VALUES:
                return True
            if value in FALSE_VALUES:
                return False
        raise colander.Invalid(node, NOT_A_BOOLEAN)


class DateTime(colander.SchemaType):
    """DRF ``DateTimeField`` with the LMS's UTC time zone: ISO 8601, naive means UTC."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        match = DATETIME_RE.fullmatch(cstruct) if isinstance(cstruct, str) else None
        if match is None:
            raise colander.Invalid(node, DATETIME_FORMAT)
        parts = match.groupdict()
        offset = timezone.utc
        if parts["tz"] and parts["tz"] != "Z":
            digits = parts["tz"][1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
            offset = timezone(timedelta(minutes=-minutes if parts["tz"][0] == "-" else minutes))
        try:
            value = datetime(int(parts["year"]), int(parts["month"]), int(parts["day"]),
                             int(parts["hour"]), int(parts["minute"]),
                             int(parts["second"] or 0),
                             int((parts["fraction"] or "0").ljust(6, "0")), tzinfo=offset)
            return value.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            raise colander.Invalid(node, DATETIME_FORMAT)


def _text(max_length=None, required=False):
    return colander.SchemaNode(
        Text(max_length=max_length), missing=colander.required if required else colander.drop,
        missing_msg=REQUIRED)


class CourseModeBody(colander.MappingSchema):
    """A new mode (``POST``): every field DRF's serializer reads, the first four required."""

    course_id = _text(COURSE_KEY_MAX_LENGTH, required=True)
    mode_slug = _text(MODE_SLUG_MAX_LENGTH, required=True)
    mode_display_name = _text(255, required=True)
    min_price = colander.SchemaNode(
        Integer(), missing=colander.drop,
        validator=colander.Range(
            min=0, max=MAX_PRICE,
            min_err="Ensure this value is greater than or equal to 0.",
            max_err=f"Ensure this value is less than or equal to {MAX_PRICE}."))
    currency = _text(8, required=True)
    expiration_datetime = colander.SchemaNode(DateTime(), missing=colander.drop)
    expiration_datetime_is_explicit = colander.SchemaNode(Boolean(), missing=colander.drop)
    description = _text()
    sku = _text(255)
    bulk_sku = _text(255)


class CourseModeChange(CourseModeBody):
    """A change (``PATCH``, a merge patch): the same fields, none required."""

    course_id = _text(COURSE_KEY_MAX_LENGTH)
    mode_slug = _text(MODE_SLUG_MAX_LENGTH)
    mode_display_name = _text(255)
    currency = _text(8)


# -- response bodies (OpenAPI) ------------------------------------------------------

COURSE_MODE = obj({
    "course_id": STRING,
    "mode_slug": STRING,
    "mode_display_name": STRING,
    "min_price": INTEGER,
    "currency": STRING,
    "expiration_datetime": nullable(DATETIME),
    "expiration_datetime_is_explicit": BOOLEAN,
    "description": nullable(STRING),
    "sku": nullable(STRING),
    "bulk_sku": nullable(STRING),
})
COURSE_MODES = array(COURSE_MODE)
USERNAME_QUERY = {"username": "Only read for restricted applications whose token carries "
                              "a `user` filter: the user it must name."}
