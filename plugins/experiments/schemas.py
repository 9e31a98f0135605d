"""Request schemas, with the validation messages of upstream's DRF serializers.

Bodies may be JSON or form-encoded (upstream's own tests post forms), so
numbers may arrive as strings. Unknown keys are an error; the read-only
fields of a response (``id``, ``created``, ``modified``) may be sent back and
are ignored, as DRF ignores them.
"""
import colander

from lms.schemas import PaginationQuery, StrictInteger, StrictMapping
from plugins.experiments.models import EXPERIMENT_ID_MAX, KEY_MAX_LENGTH

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."


class Integer(StrictInteger):
    """DRF ``IntegerField``."""

    def deserialize(self, node, cstruct):
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        return super().deserialize(node, cstruct)


class Text(colander.String):
    """DRF ``CharField``: numbers become text, whitespace is trimmed, blank is an error."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        if isinstance(cstruct, bool) or not isinstance(cstruct, (str, int, float)):
            raise colander.Invalid(node, "Not a valid string.")
        text = str(cstruct).strip()
        if not text:
            raise colander.Invalid(node, "This field may not be blank.")
        if "\x00" in text:  # DRF's ProhibitNullCharactersValidator
            raise colander.Invalid(node, "Null characters are not allowed.")
        return text


class Username(colander.String):
    """DRF ``SlugRelatedField(slug_field="username")``; blank counts as null.

    Whether the user exists is the view's question (after the permission check).
    """

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None or cstruct == "":
            raise colander.Invalid(node, NOT_NULL)
        if isinstance(cstruct, bool) or not isinstance(cstruct, (str, int)):
            raise colander.Invalid(node, "Invalid value.")
        return str(cstruct)


class NumberFilter(colander.Integer):
    """django-filter ``NumberFilter`` on an integer column; empty means no filter."""

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, ""):
            return colander.null
        try:
            return int(cstruct)
        except (TypeError, ValueError):
            raise colander.Invalid(node, "Enter a number.")


class ReadOnly(colander.SchemaType):
    """A field clients may echo back; its value is dropped."""

    def deserialize(self, node, cstruct):
        return colander.drop


def read_only():
    return colander.SchemaNode(ReadOnly(), missing=colander.drop)


class KeyValueBody(StrictMapping):
    """``ExperimentKeyValueSerializer``."""

    id = read_only()
    experiment_id = colander.SchemaNode(
        Integer(),
        missing_msg=REQUIRED,
        validator=colander.Range(
            min=0, max=EXPERIMENT_ID_MAX,
            min_err="Ensure this value is greater than or equal to 0.",
            max_err=f"Ensure this value is less than or equal to {EXPERIMENT_ID_MAX}.",
        ),
    )
    key = colander.SchemaNode(
        Text(),
        missing_msg=REQUIRED,
        validator=colander.Length(
            max=KEY_MAX_LENGTH,
            max_err=f"Ensure this field has no more than {KEY_MAX_LENGTH} characters.",
        ),
    )
    value = colander.SchemaNode(Text(), missing_msg=REQUIRED)
    created = read_only()
    modified = read_only()
    # Browsers' form posts carry the CSRF token as a field (lms.auth.check_csrf).
    csrfmiddlewaretoken = read_only()


class DataBody(KeyValueBody):
    """``ExperimentDataSerializer``: the row's owner (``user``) is read-only."""

    user = read_only()


class DataCreateBody(KeyValueBody):
    """``ExperimentDataCreateSerializer``: ``user`` names the owner (default: the caller)."""

    user = colander.SchemaNode(Username(), missing=colander.drop)


def partial(schema):
    """The schema of a PATCH: every field optional."""
    schema = schema.clone()
    for child in schema.children:
        child.missing = colander.drop
    return schema


class ListQuery(PaginationQuery):
    """Filters of both lists (django-filter) and their pages; other parameters are ignored."""

    experiment_id = colander.SchemaNode(NumberFilter(), missing=colander.drop)
    key = colander.SchemaNode(colander.String(), missing=colander.drop)
