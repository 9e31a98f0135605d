"""Shared colander schema pieces."""
import re

import colander

UNKNOWN_FIELD = "This field is not allowed."
INTEGER_RE = re.compile(r"-?[0-9]+")


class StrictMapping(colander.MappingSchema):
    """A JSON object whose unknown keys are an error (never silently dropped).

    Each unknown key is reported as an error of its own field, so clients get
    ``{"<key>": ["This field is not allowed."]}`` in the DRF style.
    """

    def schema_type(self, **kw):
        return colander.Mapping(unknown="raise")

    def deserialize(self, cstruct=colander.null):
        if isinstance(cstruct, dict):
            known = {child.name for child in self.children}
            unknown = sorted(str(key) for key in cstruct if key not in known)
            if unknown:
                error = colander.Invalid(self)
                for position, key in enumerate(unknown):
                    field = colander.SchemaNode(colander.String(), name=key)
                    error.add(colander.Invalid(field, UNKNOWN_FIELD), position)
                raise error
        return super().deserialize(cstruct)


class StrictInteger(colander.Integer):
    """An integer that refuses strings, floats and booleans in JSON bodies."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if isinstance(cstruct, bool) or not isinstance(cstruct, (int, str)):
            raise colander.Invalid(node, "A valid integer is required.")
        if isinstance(cstruct, str) and not INTEGER_RE.fullmatch(cstruct.strip()):
            raise colander.Invalid(node, "A valid integer is required.")
        return int(cstruct)


class StrictBoolean(colander.SchemaType):
    """A JSON ``true``/``false`` only: no strings, numbers or lists.

    ``null_is_missing``: a JSON ``null`` counts as not given.
    """

    def __init__(self, null_is_missing=False):
        super().__init__()
        self.null_is_missing = null_is_missing

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or (cstruct is None and self.null_is_missing):
            return colander.null
        if not isinstance(cstruct, bool):
            raise colander.Invalid(node, "Must be a valid boolean.")
        return cstruct


class StrictString(colander.String):
    """A string that refuses numbers, lists and objects in JSON bodies."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, "Not a valid string.")
        return cstruct


def drf_validated(schema, data):
    """Deserialize a parsed body as a DRF serializer validates ``request.data``:
    null and non-objects are ``non_field_errors``, field errors ``{field: [message]}``."""
    from lms.errors import APIError

    if data is None:
        raise APIError(400, {"non_field_errors": ["This field may not be null."]})
    if not isinstance(data, dict):
        raise APIError(400, {"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    try:
        return schema.deserialize(data)
    except colander.Invalid as exc:
        raise APIError(400, {name: [message] for name, message in exc.asdict().items()})


class DrfText(colander.SchemaType):
    """DRF's ``CharField``: numbers become text, whitespace is trimmed, with its messages."""

    def __init__(self, max_length=None, allow_null=False, allow_blank=False):
        super().__init__()
        self.max_length = max_length
        self.allow_null = allow_null
        self.allow_blank = allow_blank

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            if self.allow_null:
                return None
            raise colander.Invalid(node, "This field may not be null.")
        if isinstance(cstruct, bool) or not isinstance(cstruct, (str, int, float)):
            raise colander.Invalid(node, "Not a valid string.")
        text = str(cstruct).strip()
        if not text and not self.allow_blank:
            raise colander.Invalid(node, "This field may not be blank.")
        if self.max_length is not None and len(text) > self.max_length:
            raise colander.Invalid(
                node, f"Ensure this field has no more than {self.max_length} characters.")
        return text


class PaginationQuery(colander.MappingSchema):
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)
