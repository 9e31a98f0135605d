"""Response bodies of hello's endpoints, for the OpenAPI document.

A colander schema documents a body as well as it validates one: ``lms.openapi``
turns it into JSON Schema (a node without ``missing`` is a required property).
"""
import colander

from lms.openapi import page_of


class Greeting(colander.MappingSchema):
    id = colander.SchemaNode(colander.Integer())
    username = colander.SchemaNode(colander.String())
    message = colander.SchemaNode(colander.String())
    created = colander.SchemaNode(colander.DateTime())


GREETING_PAGE = page_of(Greeting())
