"""``/api/xblock/v2/xblocks/{usage_key}/handler/{user_id}-{token}/{handler_name}/``: the
route the courses plugin's signed handler URLs point at.

The URL is the credential (upstream ``validate_secure_token_for_xblock_handler``): a bad
or expired token, or one for another user or block, is 403. The token's user must still
be allowed to see the block now (:func:`plugins.courses.api.may_see_block`, the one access
rule). Capa problems dispatch ``problem_get``/``problem_check``/``problem_reset``/
``problem_show``/``problem_save``; blocks completed by viewing (html, video...) take
``publish_completion`` (``{"completion": 1.0}`` → ``{"result": "ok"}``, upstream's JSON
handler errors ``{"error": message}``); any other handler is 404. Capa's "problem closed"
and "answer not available" answers are 200 ``{"success": message}`` as upstream's LMS
turns its ProcessingError.

Capa's own JavaScript calls ``.../handler/{user_id}-{token}/xmodule_handler/{dispatch}``
(the v2 runtime's suffix): the same handlers by their dispatch name.
"""


from sqlalchemy import select

from lms import auth
from lms.errors import APIError, body_error, not_found, permission_denied
from lms.keys import parse_usage_key
from lms.models import User
from lms.openapi import ANY_OBJECT
from lms.request import FormData, request_data
from lms.service import Service
from plugins.courses import api as courses_api
from plugins.grades import capa, completion, problems

handler = Service(
    "grades.xblock_handler",
    "/api/xblock/v2/xblocks/{usage_key_str}/handler/{user_token}/{handler_name}/",
    auth=auth.NO_AUTH, errors="drf", anonymous=True)

# Capa's own JavaScript posts to ``{handler_url of xmodule_handler}{dispatch}``: the v2
# runtime passes what follows the handler name on as the dispatch (upstream's suffix).
handler_suffix = Service(
    "grades.xblock_handler_suffix",
    "/api/xblock/v2/xblocks/{usage_key_str}/handler/{user_token}/{handler_name}/{suffix}",
    auth=auth.NO_AUTH, errors="drf", anonymous=True)
XMODULE_HANDLER = "xmodule_handler"

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
    if "suffix" in request.matchdict:  # xmodule_handler/{dispatch}: the dispatch is the name
        if name != XMODULE_HANDLER:
            raise not_found()
        name = request.matchdict["suffix"]
    payload = _payload(request)
    if name == "publish_completion":
        return publish_completion(request, user, answer, payload)
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


def publish_completion(request, user, answer, payload):
    """Upstream's ``publish_completion`` JSON handler: the client says a block it showed
    is complete (``{"completion": 1.0}``); only blocks completed by viewing."""
    if request.method != "POST":
        raise APIError(405, {"error": "Only POST requests are supported."})
    if not completion.tracking_enabled(request.registry.settings):
        raise APIError(404, {"error": "Completion tracking is not enabled and API calls "
                                        "are unexpected"})
    if not completion.completable_on_view(answer.node.block_type):
        raise APIError(400, {"error": "Block not configured for completion on view."})
    value = dict(payload).get("completion")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise APIError(400, {"error": "The completion must be a number."})
    try:
        value = completion.checked_value(value)
    except ValueError as exc:
        raise APIError(400, {"error": str(exc) if isinstance(exc, completion.CompletionError)
                                        else "The completion must be a number."}) from None
    completion.submit(request.dbsession, user.id, answer.course.course_key,
                      answer.node.usage_key, value)
    return {"result": "ok"}


@handler.post(responses=RESPONSES)
def post_handler(request):
    """Call a capa problem handler (problem_get, problem_check, problem_reset, ...)."""
    return serve(request)


@handler.get(responses=RESPONSES)
def get_handler(request):
    """Call a block handler with GET (problem_get)."""
    return serve(request)


@handler_suffix.post(responses=RESPONSES)
def post_xmodule_handler(request):
    """Call a capa handler as capa's JavaScript does: ``xmodule_handler/problem_check``."""
    return serve(request)


@handler_suffix.get(responses=RESPONSES)
def get_xmodule_handler(request):
    """``xmodule_handler/problem_get`` with GET."""
    return serve(request)
