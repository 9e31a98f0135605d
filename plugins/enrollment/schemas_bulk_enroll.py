"""Body of ``POST /api/bulk_enroll/v1/bulk_enroll`` (upstream ``BulkEnrollmentSerializer``)
and its answer, for the OpenAPI document.

The body is JSON or a form. ``courses`` and ``cohorts`` are comma-separated text; given
as a list (a JSON array, a repeated form field), only the first item is read, as
upstream's ``StringListField`` does.
"""
import colander

from lms.errors import APIError
from lms.keys import parse_course_key
from lms.openapi import BOOLEAN, STRING, array, nullable, obj
from lms.request import FormData
from lms.schemas import DrfText

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
ACTIONS = ("enroll", "unenroll")
# DRF's BooleanField.
TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On",
               "ON", "1", 1, True}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off",
                "Off", "OFF", "0", 0, 0.0, False}
LIST_FIELDS = ("courses", "cohorts")


class CommaList(colander.SchemaType):
    """Upstream's ``StringListField``: empty → ``[]``; a list → its first item; text
    split on commas (items kept as written)."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        if not cstruct:
            return []
        if isinstance(cstruct, list):
            cstruct = cstruct[0]
        if not isinstance(cstruct, str):
            raise colander.Invalid(
                node, f'Expected a list of items but got type "{type(cstruct).__name__}".')
        return cstruct.split(",")


class Choice(colander.SchemaType):
    """DRF's ``ChoiceField`` over text choices."""

    def __init__(self, choices):
        super().__init__()
        self.choices = choices

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        text = cstruct if isinstance(cstruct, str) else str(cstruct)
        if isinstance(cstruct, (dict, list, bool)) or text not in self.choices:
            raise colander.Invalid(node, f'"{cstruct}" is not a valid choice.')
        return text


class DrfBoolean(colander.SchemaType):
    """DRF's ``BooleanField``: ``true``/``false`` and their usual spellings."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        try:
            if cstruct in TRUE_VALUES:
                return True
            if cstruct in FALSE_VALUES:
                return False
        except TypeError:  # unhashable: a list or an object
            pass
        raise colander.Invalid(node, "Must be a valid boolean.")


def valid_course_keys(node, value):
    for course_id in value:
        if parse_course_key(course_id) is None:
            raise colander.Invalid(node, f"Course key not valid: {course_id}")


def cohorts_match_courses(node, value):
    """Upstream's ``validate`` (the cohorts' existence is checked by the view)."""
    if value.get("cohorts"):
        if value["action"] != "enroll":
            raise colander.Invalid(node, "Cohorts can only be used for enrollments.")
        if len(value["cohorts"]) != len(value["courses"]):
            raise colander.Invalid(
                node, "If provided, the cohorts and courses should have equal number of items.")


class BulkEnrollBody(colander.MappingSchema):
    """Unknown fields are ignored, as upstream's serializer ignores them."""

    identifiers = colander.SchemaNode(
        DrfText(), missing_msg=REQUIRED,
        description="Usernames and emails, separated by commas, spaces or new lines.")
    courses = colander.SchemaNode(CommaList(), missing_msg=REQUIRED,
                                  validator=valid_course_keys,
                                  description="Course keys, comma-separated.")
    cohorts = colander.SchemaNode(
        CommaList(), missing=colander.drop,
        description="Cohort names, comma-separated, one per course (enroll only).")
    action = colander.SchemaNode(Choice(ACTIONS), missing_msg=REQUIRED,
                                 description="`enroll` or `unenroll`.")
    auto_enroll = colander.SchemaNode(
        DrfBoolean(), missing=False,
        description="Unregistered emails are enrolled as soon as they register.")
    email_students = colander.SchemaNode(DrfBoolean(), missing=False,
                                         description="Tell each learner by email.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validator", cohorts_match_courses)
        super().__init__(*args, **kwargs)


def validated_body(data):
    """``data`` (``request.data``) checked as upstream's serializer checks it; a 400 in
    the serializer's shape (``{field: [message]}``, ``non_field_errors``) otherwise."""
    if data is None:
        raise APIError(400, {"non_field_errors": [NOT_NULL]})
    if not isinstance(data, dict):
        raise APIError(400, {"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    if isinstance(data, FormData):
        # A form's list fields hold every value (the serializer reads ``getlist``).
        fields = dict(data)
        for name in LIST_FIELDS:
            if name in fields:
                fields[name] = data.getall(name)
        data = fields
    try:
        return BulkEnrollBody().deserialize(data)
    except colander.Invalid as exc:
        errors = {}
        for name, message in exc.asdict().items():
            errors.setdefault(name or "non_field_errors", []).append(message)
        raise APIError(400, errors)


STATE = obj({"user": BOOLEAN, "enrollment": BOOLEAN, "allowed": BOOLEAN,
             "auto_enroll": BOOLEAN, "cohort": nullable(STRING)},
            required=["user", "enrollment", "allowed", "auto_enroll"])
RESULT = obj({"identifier": STRING, "before": STATE, "after": STATE,
              "invalidIdentifier": BOOLEAN, "error": BOOLEAN}, required=["identifier"])
COURSE_RESULTS = obj({"action": STRING, "results": array(RESULT), "auto_enroll": BOOLEAN})
BULK_ENROLL_ANSWER = obj({
    "auto_enroll": BOOLEAN,
    "email_students": BOOLEAN,
    "action": STRING,
    "courses": {"type": "object", "additionalProperties": COURSE_RESULTS},
})
# The serializer's ``{field: [message]}``; a body that does not parse is DRF's
# ParseError, ``{"detail": "JSON parse error - ..."}``.
BULK_ENROLL_ERRORS = {"type": "object", "properties": {"detail": STRING},
                      "additionalProperties": array(STRING)}
