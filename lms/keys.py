"""Course and usage keys, parsed with edx-opaque-keys, and their colander types."""
import colander
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey


def parse_course_key(value):
    """Return a CourseKey or None when ``value`` does not parse."""
    try:
        return CourseKey.from_string(value)
    except (InvalidKeyError, TypeError, ValueError):
        return None


def parse_usage_key(value):
    try:
        return UsageKey.from_string(value)
    except (InvalidKeyError, TypeError, ValueError):
        return None


class CourseKeyType(colander.String):
    """A colander type that deserializes to :class:`CourseKey`."""

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value is colander.null:
            return value
        key = parse_course_key(value)
        if key is None:
            raise colander.Invalid(node, f"'{value}' is not a valid course key.")
        return key


class UsageKeyType(colander.String):
    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value is colander.null:
            return value
        key = parse_usage_key(value)
        if key is None:
            raise colander.Invalid(node, f"'{value}' is not a valid usage key.")
        return key
