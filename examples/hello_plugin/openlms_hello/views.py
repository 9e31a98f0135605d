"""hello's endpoints: ``/api/hello/v1/greetings/`` (list and create)."""
from sqlalchemy import select

from lms import pagination, permissions
from lms.auth import STANDARD_AUTH
from lms.errors import not_found
from lms.models import User
from lms.service import Service, colander_body_validator, colander_querystring_validator
from lms.timeutil import isoformat
from lms.users import get_by_username
from openlms_hello import api, responses
from openlms_hello.models import Greeting
from openlms_hello.schemas import GreetingCreateBody, GreetingListQuery

greetings = Service(
    "hello.greetings",
    "/api/hello/v1/greetings/",
    auth=STANDARD_AUTH,
    errors="drf",
)


def serialize_greeting(greeting, username):
    return {
        "id": greeting.id,
        "username": username,
        "message": greeting.message,
        "created": isoformat(greeting.created),
    }


@greetings.get(schema=GreetingListQuery(), validators=(colander_querystring_validator,),
               responses={200: responses.GREETING_PAGE,
                          403: "Another user's greetings, and the caller is not staff.",
                          404: "No such user, or an invalid page."})
def get_greetings(request):
    """The caller's greetings, newest first; staff may ask for anyone's (``?username=``)."""
    username = request.validated.get("username", request.user.username)
    if not permissions.is_user_in_url(request, username):
        permissions.require(permissions.is_staff(request.user))
        owner = get_by_username(request.dbsession, username)
        if owner is None:
            raise not_found()
        owner_id = owner.id
    else:
        owner_id = request.user.id
    stmt = (
        select(Greeting, User.username)
        .join(User, User.id == Greeting.user_id)
        .where(Greeting.user_id == owner_id)
        .order_by(Greeting.id.desc())
    )
    return pagination.page_number(
        request, stmt, lambda rows: [serialize_greeting(g, name) for g, name in rows])


@greetings.post(schema=GreetingCreateBody(), validators=(colander_body_validator,),
                responses={201: responses.Greeting})
def post_greetings(request):
    """Create a greeting for the caller; without a message, the configured greeting."""
    user = request.user
    message = request.validated.get("message")
    if message is None:
        message = f"{request.registry['hello.greeting']}, {user.name or user.username}!"
    greeting = api.create_greeting(request.dbsession, user, message)
    request.response.status_code = 201
    return serialize_greeting(greeting, user.username)
