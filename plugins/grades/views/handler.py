"""``/api/xblock/v2/xblocks/{usage_key}/handler/{user_id}-{token}/{handler_name}/``: the
route the courses plugin's signed handler URLs point at.

The URL is the credential (upstream ``validate_secure_token_for_xblock_handler``): a bad
or expired token, or one for another user or block, is 403. The token's user must still
be allowed to see the block now (:func:`plugins.courses.api.may_see_block`, the one access
rule). Capa problems dispatch ``problem_get``/``problem_check``/``problem_reset``/
``problem_show``/``problem_save``; any other handler (``publish_completion`` included,
until completion is recorded) is 404. Capa's "problem closed" and "answer not
available" answers are 200 ``{"success": message}`` as upstream's LMS turns its
ProcessingError.
"""


from sqlalchemy import select

from lms import auth
from lms.errors import body_error, not_found, permission_denied
from lms.keys import parse_usage_key
from lms.models import User
from lms.openapi import ANY_OBJECT
from lms.request import FormData, request_data
from lms.service import Service
from plugins.courses import api as courses_api
from plugins.grades import capa, problems

handler = Service(
    "grades.xblock_handler",
    "/api/xblock/v2/xblocks/{usage_key_str}/handler/{user_token}/{handler_name}/",
    auth=auth.NO_AUTH, errors="drf", anonymous=True)

RESPONSES = {200: ANY_OBJECT, 400: "Malformed body.",
             403: "Invalid or expired token, or the block may not be seen.",
             404: "No such block or handler."}


def _payload(request):
    """``[(name, value)]`` of the query (GET) or of a form or JSON object body, parsed by
    the shared request layer (a malformed body is a 400, another media type a 415)."""
    if request.method == "GET":
        return list(request.GET.items())
    data = request_data(request)
    if isinstance(data, FormData):  # every value of a repeated name (checkboxes)
        return [(name, value) for name, values in data.lists().items() for value in values]
    if isinstance(data, dict):
        return list(data.items())
    raise body_error(400, "Expected a JSON object.")


def _load_user(request, user_token):
    user_id, _, token = user_token.partition("-")
    settings = request.registry.settings
    if not user_id or not courses_api.verify_handler_token(
            settings, user_id, request.matchdict["usage_key_str_parsed"], token):
        raise permission_denied(message="Invalid/expired auth token.")
    if not user_id.isdigit():  # "anon…": no learner state to keep for anonymous users
        raise permission_denied()
    user = request.dbsession.scalar(select(User).where(User.id == int(user_id)))
    if user is None or not user.is_active:
        raise permission_denied()
    return user


def serve(request):
    raw_key = request.matchdict["usage_key_str"]
    usage_key = parse_usage_key(raw_key)
    if usage_key is None:
        raise not_found()
    request.matchdict["usage_key_str_parsed"] = str(usage_key)
    user = _load_user(request, request.matchdict["user_token"])
    db = request.dbsession
    answer = courses_api.may_see_block(request.registry, db, user, usage_key)
    if answer.verdict is courses_api.Verdict.NOT_FOUND or answer.node is None:
        raise not_found()
    if not answer:
        raise permission_denied()
    name = request.matchdict["handler_name"]
    payload = _payload(request)
    # publish_completion is not served until completion is recorded: 404 as any unknown
    # handler name.
    if answer.node.block_type != "problem" or name not in problems.HANDLERS:
        raise not_found()
    is_staff = bool(answer.access.context.is_staff)
    try:
        return problems.dispatch(db, user, answer.course, answer.node, name,
                                 problems.answers_from(payload), is_staff=is_staff)
    except problems.ProcessingError as error:
        return {"success": str(error)}
    except capa.ProblemError:  # malformed or hostile OLX: said, never a 500
        return {"success": "Error: the problem could not be loaded."}


@handler.post(responses=RESPONSES)
def post_handler(request):
    """Call a capa problem handler (problem_get, problem_check, problem_reset, ...)."""
    return serve(request)


@handler.get(responses=RESPONSES)
def get_handler(request):
    """Call a block handler with GET (problem_get)."""
    return serve(request)
