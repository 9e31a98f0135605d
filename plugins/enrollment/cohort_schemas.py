"""Request schemas and documented bodies of the cohorts API (``/api/cohorts/v1/``).

Upstream's views read ``request.data`` without a serializer: unknown keys are
ignored, and a missing name, assignment type or user list is answered by the view
with its own ``error_code``, so those fields are optional here. Values of the wrong
type, over-long names and text no database stores are refused (400) before the view.
"""
import colander

from lms.openapi import BOOLEAN, INTEGER, STRING, array, nullable, obj, page_of
from lms.schemas import StrictInteger, StrictString
from lms.users import is_storable_text
from plugins.enrollment.models import COHORT_ASSIGNMENT_TYPES, COHORT_NAME_MAX_LENGTH

MAX_USERS_PER_REQUEST = 1000
MAX_IDENTIFIER_LENGTH = 254


class NullableInteger(StrictInteger):
    """A JSON integer or ``null`` (kept as None: ``group_id: null`` unlinks)."""

    def deserialize(self, node, cstruct):
        if cstruct is None:
            return None
        value = super().deserialize(node, cstruct)
        if value is not colander.null and not -2**31 <= value < 2**31:
            raise colander.Invalid(node, "Ensure this value is a 32-bit integer.")
        return value


class AnyValue(colander.SchemaType):
    """Any JSON value, checked by the view (upstream's own message)."""

    def deserialize(self, node, cstruct):
        return cstruct


def storable(node, value):
    if not is_storable_text(value, COHORT_NAME_MAX_LENGTH):
        raise colander.Invalid(
            node, f"Ensure this field has no more than {COHORT_NAME_MAX_LENGTH} characters "
                  "and holds no NUL character.")


class CohortBody(colander.MappingSchema):
    """``POST cohorts/`` and ``PATCH cohorts/{id}``: name, assignment type, content group."""

    name = colander.SchemaNode(StrictString(), missing=colander.drop, validator=storable)
    assignment_type = colander.SchemaNode(
        StrictString(), missing=colander.drop,
        validator=colander.OneOf(("",) + COHORT_ASSIGNMENT_TYPES,
                                 msg_err='"${val}" is not a valid choice.'))
    user_partition_id = colander.SchemaNode(NullableInteger(), missing=colander.drop)
    group_id = colander.SchemaNode(NullableInteger(), missing=colander.drop)


class CohortSettingsBody(colander.MappingSchema):
    """``PUT settings/{course}``: ``{"is_cohorted": true|false}``."""

    is_cohorted = colander.SchemaNode(AnyValue(), missing=colander.drop)


def identifier(node, value):
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise colander.Invalid(
            node, f"Ensure this field has no more than {MAX_IDENTIFIER_LENGTH} characters.")


class Identifiers(colander.SequenceSchema):
    identifier = colander.SchemaNode(StrictString(), validator=identifier)


class CohortUsersBody(colander.MappingSchema):
    """``POST cohorts/{id}/users/[{username}]``: ``{"users": [username or email, ...]}``."""

    users = Identifiers(missing=colander.drop, validator=colander.Length(
        max=MAX_USERS_PER_REQUEST,
        max_err=f"Ensure this field has no more than {MAX_USERS_PER_REQUEST} elements."))


class CohortListQuery(colander.MappingSchema):
    ordering = colander.SchemaNode(colander.String(), missing=colander.drop)
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)


class PageQuery(colander.MappingSchema):
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)


# -- documented bodies ----------------------------------------------------------------

COHORT = obj({
    "name": STRING,
    "id": INTEGER,
    "user_count": INTEGER,
    "assignment_type": {"type": "string", "enum": list(COHORT_ASSIGNMENT_TYPES)},
    "user_partition_id": nullable(INTEGER),
    "group_id": nullable(INTEGER),
})
COHORT_LIST = array(COHORT)
COHORT_SETTINGS = obj({"id": INTEGER, "is_cohorted": BOOLEAN})
COHORT_USER = obj({"username": STRING, "email": STRING, "name": STRING})
COHORT_USERS_PAGE = page_of(COHORT_USER)
ADD_USERS_RESULT = obj({
    "success": BOOLEAN,
    "added": array(obj({"username": STRING, "email": STRING})),
    "changed": array(obj({"email": STRING, "previous_cohort": STRING, "username": STRING})),
    "present": array(STRING),
    "unknown": array(STRING),
    "preassigned": array(STRING),
    "invalid": array(STRING),
})
# ``DeveloperErrorViewMixin``'s ``{"developer_message", "error_code"}``; schema errors
# add ``field_errors``; what the core answers before a view (an unrouted path, a
# method no view serves) is DRF's ``{"detail"}``.
API_ERROR = obj({"developer_message": STRING, "error_code": STRING,
                 "field_errors": {"type": "object"}, "detail": STRING}, required=False)
NOT_FOUND = API_ERROR
