"""Body of ``POST /api/change_email_settings`` and its answer, for the OpenAPI document."""
import colander

from lms.keys import CourseKeyType
from lms.openapi import BOOLEAN, obj


class Truthiness(colander.SchemaType):
    """Any value, read as upstream's ``if receive_emails:`` reads it (Python truth:
    ``"false"`` and ``"0"`` are true, ``""``, ``false``, ``0`` and ``null`` are not)."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        return bool(cstruct)


class AnyCourseKey(CourseKeyType):
    """A course key; a JSON number or list is refused as a key, never as a crash."""

    def deserialize(self, node, cstruct):
        if cstruct is not colander.null and not isinstance(cstruct, str):
            cstruct = "" if cstruct is None else str(cstruct)
        return super().deserialize(node, cstruct)


class Fields(colander.Mapping):
    """An object of fields; anything else is refused as DRF's serializers refuse it."""

    def _validate(self, node, value):
        if not isinstance(value, dict):
            raise colander.Invalid(node, "Invalid data. Expected a dictionary, but got "
                                         f"{type(value).__name__}.")
        return super()._validate(node, value)


class EmailSettingsBody(colander.MappingSchema):
    """Unknown fields are ignored, as upstream's view ignores them."""

    def schema_type(self, **kw):
        return Fields(unknown="ignore")

    course_id = colander.SchemaNode(AnyCourseKey(), missing_msg="This field is required.",
                                    description="The course whose email to receive or not.")
    receive_emails = colander.SchemaNode(
        Truthiness(), missing=False,
        description="Present and true: receive the course's email; absent or false: opt out.")


EMAIL_SETTINGS_ANSWER = obj({"success": BOOLEAN})
