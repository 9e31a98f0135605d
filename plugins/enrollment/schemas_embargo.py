"""Query of ``GET /api/embargo/v1/course_access/`` and its answer, for the OpenAPI document."""
import colander

from lms.openapi import BOOLEAN, STRING, array, obj


class TextList(colander.SchemaType):
    """Every value of a repeated query parameter (Django's ``getlist``)."""

    multi_value = True

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        values = cstruct if isinstance(cstruct, list) else [cstruct]
        return [str(value) for value in values]


class CourseAccessQuery(colander.MappingSchema):
    """Unknown parameters are ignored, as DRF does; the view says what is missing."""

    course_ids = colander.SchemaNode(
        TextList(), missing=colander.drop,
        description="A course key; repeat the parameter for several courses.")
    user = colander.SchemaNode(colander.String(), missing=colander.drop,
                               description="The username of the learner to check.")
    ip_address = colander.SchemaNode(
        colander.String(), missing=colander.drop,
        description="The learner's IP address (or several, comma-separated).")


COURSE_ACCESS = obj({"access": BOOLEAN})
# Upstream raises a bare ``ValidationError(message)``: the body is a JSON array.
COURSE_ACCESS_ERROR = array(STRING)
