"""Shared colander schema pieces."""
import colander


class StrictMapping(colander.MappingSchema):
    """A JSON object whose unknown keys are an error (never silently dropped)."""

    def schema_type(self, **kw):
        return colander.Mapping(unknown="raise")


class StrictInteger(colander.Integer):
    """An integer that refuses strings, floats and booleans in JSON bodies."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if isinstance(cstruct, bool) or not isinstance(cstruct, (int, str)):
            raise colander.Invalid(node, "A valid integer is required.")
        if isinstance(cstruct, str) and not cstruct.strip().lstrip("-").isdigit():
            raise colander.Invalid(node, "A valid integer is required.")
        return int(cstruct)


class StrictString(colander.String):
    """A string that refuses numbers, lists and objects in JSON bodies."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, "Not a valid string.")
        return cstruct


class PaginationQuery(colander.MappingSchema):
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)
