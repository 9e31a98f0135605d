"""Request schemas of the enrollment API (``/api/enrollment/v1/``).

Upstream's enrollment views read ``request.data`` field by field and answer each bad
value with a message of their own (``{"message": ...}``), so the POST bodies are
described here with *lenient* types: they document the field and hand the JSON value
to the view unchanged, and the view refuses it with upstream's words. Query strings
are plain strings checked by the views (upstream forms and ``request.GET``).
"""
import colander

from lms.request import request_data


class _Lenient:
    """Hand the JSON value over unchanged (``None`` and wrong types included)."""

    def deserialize(self, node, cstruct):
        return cstruct


class LenientString(_Lenient, colander.String):
    pass


class LenientBoolean(_Lenient, colander.Boolean):
    pass


class LenientMapping(_Lenient, colander.Mapping):
    pass


class LenientList(_Lenient, colander.List):
    pass


def _lenient(typ, description):
    return colander.SchemaNode(typ, missing=colander.drop, description=description)


class EnrollmentCreateBody(colander.MappingSchema):
    """``POST enrollment``; DRF ignores keys it does not read, so unknown keys pass."""

    def schema_type(self, **kw):
        return colander.Mapping(unknown="preserve")

    course_details = colander.SchemaNode(
        LenientMapping(),
        colander.SchemaNode(colander.String(), name="course_id",
                            description="The course run's key."),
        missing=colander.drop,
        description="``{\"course_id\": \"course-v1:...\"}`` (required).")
    user = _lenient(LenientString(), "Username to enroll (others: global staff or API key).")
    email = _lenient(LenientString(), "Email of the user to enroll, when ``user`` is not "
                                      "given (global staff or API key).")
    mode = _lenient(LenientString(), "Course mode slug; learners may only ask for "
                                     "``audit`` or ``honor``.")
    is_active = _lenient(LenientBoolean(), "False deactivates (global staff or API key).")
    force_enrollment = _lenient(LenientBoolean(), "Enroll outside the enrollment window "
                                                  "(global staff only).")
    enrollment_attributes = colander.SchemaNode(
        LenientList(),
        colander.SchemaNode(colander.Mapping(unknown="preserve"), name="attribute"),
        missing=colander.drop,
        description="``[{\"namespace\", \"name\", \"value\"}]``.")
    email_opt_in = _lenient(LenientBoolean(), "The caller's marketing consent for the course's "
                                                "org (``true``/``false``), kept on a new enrollment.")
    cohort = _lenient(LenientString(), "Cohort name to join in the course.")


class UnenrollBody(colander.MappingSchema):
    """``POST unenroll/``: ``{"username": ...}``."""

    def schema_type(self, **kw):
        return colander.Mapping(unknown="preserve")

    username = _lenient(LenientString(), "The learner being retired (original username).")


def lenient_body_validator(request, schema=None, **kwargs):
    """Read the body with DRF's default parsers (JSON, form, multipart; malformed JSON is
    DRF's 400 ``{"detail": "JSON parse error - ..."}``) and hand the object to the view.

    A body that is not an object reads as no fields (upstream fails on ``.get`` there)."""
    data = request_data(request)
    if not isinstance(data, dict):
        data = {}
    node = schema() if isinstance(schema, type) else schema
    request.validated = dict(node.deserialize(dict(data))) if node is not None else dict(data)


lenient_body_validator.location = "body"


class EnrollmentListQuery(colander.MappingSchema):
    user = colander.SchemaNode(colander.String(allow_empty=True), missing=colander.drop,
                               description="Whose enrollments (default: the caller).")


class CourseDetailsQuery(colander.MappingSchema):
    include_expired = colander.SchemaNode(
        colander.String(), missing=colander.drop,
        description="Any non-empty value also lists expired modes.")


class RolesQuery(colander.MappingSchema):
    course_id = colander.SchemaNode(colander.String(), missing=colander.drop,
                                    description="Only the roles in this course.")


class EnrollmentsApiListQuery(colander.MappingSchema):
    """``CourseEnrollmentsApiListForm``: comma-separated lists of at most 100 entries."""

    course_id = colander.SchemaNode(colander.String(), missing=colander.drop,
                                    description="One course key.")
    course_ids = colander.SchemaNode(colander.String(), missing=colander.drop,
                                     description="Comma-separated course keys.")
    username = colander.SchemaNode(colander.String(), missing=colander.drop,
                                   description="Comma-separated usernames.")
    email = colander.SchemaNode(colander.String(), missing=colander.drop,
                                description="Comma-separated emails.")
    cursor = colander.SchemaNode(colander.String(), missing=colander.drop,
                                 description="Opaque position from ``next``/``previous``.")


# -- responses (OpenAPI) -------------------------------------------------------------------

from lms.openapi import (  # noqa: E402
    BOOLEAN, DATETIME, INTEGER, STRING, Body, array, cursor_page_of, nullable, obj,
)

TEXT = nullable(STRING)
MODE = obj({"slug": STRING, "name": STRING, "min_price": INTEGER,
            "suggested_prices": STRING, "currency": STRING,
            "expiration_datetime": nullable(DATETIME), "description": TEXT, "sku": TEXT,
            "bulk_sku": TEXT})
COURSE_DETAILS = obj({
    "course_id": STRING, "course_name": STRING,
    "enrollment_start": nullable(DATETIME), "enrollment_end": nullable(DATETIME),
    "course_start": nullable(DATETIME), "course_end": nullable(DATETIME),
    "invite_only": BOOLEAN, "course_modes": array(MODE), "pacing_type": STRING})
ENROLLMENT = obj({"created": DATETIME, "mode": STRING, "is_active": BOOLEAN,
                  "course_details": nullable(COURSE_DETAILS), "user": STRING})
ENROLLMENT_LIST = array(ENROLLMENT)
ENROLLMENT_OR_EMPTY = Body(ENROLLMENT, "The enrollment, or an empty body when there is none.")
# Upstream's refusals carry ``message``; DRF's own (an unreadable body, CSRF, a
# restricted token) carry ``detail``.
MESSAGE = obj({"message": STRING, "localizedMessage": STRING, "detail": STRING},
              required=False)
ENROLLMENT_ERROR = obj({"message": STRING, "localizedMessage": STRING,
                        "course_details": COURSE_DETAILS, "detail": STRING}, required=False)
ENROLLMENTS_PAGE = cursor_page_of(obj({"created": DATETIME, "mode": STRING,
                                       "is_active": BOOLEAN, "user": STRING,
                                       "course_id": STRING}))
ROLES = obj({"roles": array(obj({"org": STRING, "course_id": STRING, "role": STRING})),
             "is_staff": BOOLEAN})
ORG_LIST = array(STRING)
