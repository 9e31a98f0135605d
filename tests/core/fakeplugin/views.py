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


api_key_service = Service("fake.api_key", "/api/fake/v1/api-key/", api_key=True)


@api_key_service.get()
def get_api_key(request):
    return {"user": request.user.username if request.user else None,
            "api_key": request.authentication.api_key}


users_cursor = Service("fake.users_cursor", "/api/fake/v1/users-cursor/", anonymous=True)
users_pages = Service("fake.users_pages", "/api/fake/v1/users-pages/", anonymous=True)


def _usernames(rows):
    return [row[0].username for row in rows]


@users_cursor.get()
def get_users_cursor(request):
    from sqlalchemy import select

    from lms.models import User
    from lms.pagination import cursor

    return cursor(request, select(User), User.id, _usernames, page_size=2,
                  descending=request.GET.get("desc") == "1")


@users_pages.get()
def get_users_pages(request):
    from sqlalchemy import select

    from lms.models import User
    from lms.pagination import page_number

    namespaced = request.GET.get("ns") == "1"
    return page_number(request, select(User).order_by(User.id), _usernames,
                       namespaced=namespaced)


enqueue = Service("fake.enqueue", "/api/fake/v1/enqueue/", anonymous=True)


@enqueue.post()
def post_enqueue(request):
    from lms.errors import APIError
    from lms.tasks import send_after_commit

    from .tasks import create_marker_user

    send_after_commit(request, create_marker_user, request.json_body["username"])
    if request.json_body.get("fail"):
        raise APIError(400, {"detail": "failing on purpose"})
    return {"queued": True}


mailer = Service("fake.mailer", "/api/fake/v1/mail/", anonymous=True)


@mailer.post()
def post_mail(request):
    from lms.errors import APIError
    from lms.mail import send_mail

    send_mail(request, request.json_body["to"], "Hello", "Plain text", html="<p>Hi</p>")
    if request.json_body.get("fail"):
        raise APIError(400, {"detail": "failing on purpose"})
    return {"queued": True}
