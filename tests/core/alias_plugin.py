"""A plugin used only by tests/core/test_service_alias.py: a service and its aliases."""
import colander

from lms.auth import STANDARD_AUTH
from lms.hookspecs import hookimpl
from lms.schemas import StrictInteger, StrictMapping
from lms.service import Service, colander_body_validator

name = "aliastest"
version = "1.0"
requires = ()


@hookimpl
def lms_includeme(config):
    config.scan(__name__)


class Body(StrictMapping):
    number = colander.SchemaNode(StrictInteger())


items = Service("aliastest.items", "/api/aliastest/v1/items/{kind:[a-z]+}/", auth=STANDARD_AUTH,
                anonymous=("GET",))


@items.get(responses={200: {"type": "object"}})
def get_items(request):
    """What the caller asked for, and who they are."""
    return {"kind": request.matchdict["kind"],
            "user": request.user.username if request.user else None}


@items.post(schema=Body(), validators=(colander_body_validator,),
            responses={201: {"type": "object"}})
def post_items(request):
    """Echo a number (signed-in callers only)."""
    request.response.status_code = 201
    return {"number": request.validated["number"], "user": request.user.username}


def legacy(service, name, path):
    """A helper between the module and ``alias``: one frame more (``depth=2``)."""
    return service.alias(name, path, depth=2)


items_legacy = items.alias("aliastest.items_legacy", "/aliastest_api/v1/items/{kind:[a-z]+}/")
items_older = legacy(items, "aliastest.items_older", "/aliastest_api/v0/items/{kind:[a-z]+}/")
