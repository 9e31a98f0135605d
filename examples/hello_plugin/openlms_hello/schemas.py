"""Request schemas of hello's endpoints."""
import colander

from lms.schemas import StrictMapping, StrictString
from openlms_hello.models import MESSAGE_MAX_LENGTH


class GreetingListQuery(colander.MappingSchema):
    """Query string of the list: unknown parameters are ignored, as DRF does."""

    username = colander.SchemaNode(colander.String(), missing=colander.drop)
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)


class GreetingCreateBody(StrictMapping):
    """``{"message": "..."}``; without a message the configured greeting is used."""

    message = colander.SchemaNode(
        StrictString(),
        missing=colander.drop,
        validator=colander.Length(
            min=1, max=MESSAGE_MAX_LENGTH,
            min_err="This field may not be blank.",
            max_err=f"Ensure this field has no more than {MESSAGE_MAX_LENGTH} characters.",
        ),
    )
