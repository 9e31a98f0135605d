"""Input schemas as upstream's Django forms read them (``discussion.rest_api.forms``):
colander nodes with Django's messages, and errors rendered as
``{"field_errors": {field: {"developer_message": message}}}``.

Query strings are read with the last value winning (Django's ``QueryDict.get``);
:class:`MultiText` fields take every value (``getlist``).
"""
import colander

from lms.errors import field_errors
from lms.keys import parse_course_key
from lms.schemas import DrfText

REQUIRED = "This field is required."
WHOLE_NUMBER = "Enter a whole number."
MIN_ONE = "Ensure this value is greater than or equal to 1."


def invalid(field, message):
    return field_errors({field: message}, style="developer")


def validated(schema, cstruct):
    """``schema.deserialize(cstruct)`` or a 400 with each field's first message."""
    try:
        return schema.deserialize(cstruct)
    except colander.Invalid as exc:
        errors = {}
        for name, message in exc.asdict().items():
            errors[name.split(".")[-1]] = message.split("; ")[0]
        raise field_errors(errors, style="developer")


class Text(colander.String):
    """Django's ``CharField``: any text (surrounding spaces stripped); empty is missing."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if isinstance(cstruct, bool) or not isinstance(cstruct, (str, int, float)):
            raise colander.Invalid(node, "Enter a valid value.")
        text = str(cstruct).strip()
        if "\x00" in text:
            raise colander.Invalid(node, "Null characters are not allowed.")
        return text if text else colander.null


class BodyText(DrfText):
    """DRF's ``CharField`` in a serializer (:class:`lms.schemas.DrfText`), with DRF's
    ``ProhibitNullCharactersValidator``."""

    def deserialize(self, node, cstruct):
        text = super().deserialize(node, cstruct)
        if isinstance(text, str) and "\x00" in text:
            raise colander.Invalid(node, "Null characters are not allowed.")
        return text


class MultiText(colander.String):
    """Every value of a repeated query parameter (``topic_id=a&topic_id=b``)."""

    multi_value = True

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        values = cstruct if isinstance(cstruct, list) else [cstruct]
        found = []
        for value in values:
            if not isinstance(value, str):
                raise colander.Invalid(node, "Enter a list of values.")
            if "\x00" in value:
                raise colander.Invalid(node, "Null characters are not allowed.")
            if value:
                found.append(value)
        return found or colander.null


class CourseKeyText(Text):
    """A course key: ``'<value>' is not a valid course id`` otherwise."""

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value is colander.null:
            return value
        if parse_course_key(value) is None:
            raise colander.Invalid(node, f"'{value}' is not a valid course id")
        return value


class PositiveInteger(colander.SchemaType):
    """Django's ``IntegerField(min_value=1)``."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None or cstruct == "":
            return colander.null
        if isinstance(cstruct, bool):
            raise colander.Invalid(node, WHOLE_NUMBER)
        try:
            number = int(str(cstruct).strip())
        except ValueError:
            raise colander.Invalid(node, WHOLE_NUMBER)
        if number < 1:
            raise colander.Invalid(node, MIN_ONE)
        return number


class NullBoolean(colander.SchemaType):
    """Django's ``NullBooleanField``: ``true``/``True``/``1`` and ``false``/``False``/``0``;
    anything else is no value."""

    TRUE = {"true", "True", "1", True}
    FALSE = {"false", "False", "0", False}

    def deserialize(self, node, cstruct):
        if cstruct in self.TRUE:
            return True
        if cstruct in self.FALSE:
            return False
        return colander.null


class ExtendedNullBoolean(NullBoolean):
    """Upstream's ``ExtendedNullBooleanField`` (query strings): ``true``/``True``/``1``,
    ``false``/``False``/``0``; any other value is no value (Django's NullBooleanField
    refuses nothing)."""


class DrfBoolean(colander.SchemaType):
    """DRF's ``BooleanField`` in a serializer: JSON booleans, 0 and 1, and their usual
    spellings (``"true"``, ``"on"``...); anything else is ``Must be a valid boolean.``"""

    TRUE = {"1", "true", "True", "TRUE", "t", "T", "y", "Y", "yes", "Yes", "YES", "on",
            "On", "ON"}
    FALSE = {"0", "false", "False", "FALSE", "f", "F", "n", "N", "no", "No", "NO", "off",
             "Off", "OFF"}

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        if isinstance(cstruct, bool):
            return cstruct
        if isinstance(cstruct, int) and cstruct in (0, 1):
            return bool(cstruct)
        if isinstance(cstruct, str) and cstruct in self.TRUE | self.FALSE:
            return cstruct in self.TRUE
        raise colander.Invalid(node, "Must be a valid boolean.")


class Choice(Text):
    """Django's ``ChoiceField``."""

    def __init__(self, choices):
        super().__init__()
        self.choices = tuple(choices)

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value is not colander.null and value not in self.choices:
            raise colander.Invalid(
                node, f"Select a valid choice. {value} is not one of the available choices.")
        return value


def optional(typ, **kw):
    return colander.SchemaNode(typ, missing=colander.drop, **kw)


def required(typ, **kw):
    return colander.SchemaNode(typ, missing=colander.required,
                               missing_msg=REQUIRED, **kw)
