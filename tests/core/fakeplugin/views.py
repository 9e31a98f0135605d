import colander

from lms.auth import SESSION_JWT_AUTH, STANDARD_AUTH
from lms.schemas import StrictInteger, StrictMapping
from lms.service import Service, colander_body_validator

standard = Service("fake.standard", "/api/fake/v1/standard/", auth=STANDARD_AUTH,
                   anonymous=("GET",))
developer = Service("fake.developer", "/api/fake/v1/developer", errors="developer")
session_first = Service("fake.session_first", "/api/fake/v1/session-first/", auth=SESSION_JWT_AUTH)


class Body(StrictMapping):
    number = colander.SchemaNode(StrictInteger())


@standard.get()
def get_standard(request):
    return {"user": request.user.username if request.user else None}


@standard.post(schema=Body(), validators=(colander_body_validator,))
def post_standard(request):
    return {"user": request.user.username, "number": request.validated["number"]}


@developer.get()
def get_developer(request):
    return {"user": request.user.username}


@session_first.get()
def get_session_first(request):
    return {"user": request.user.username}
