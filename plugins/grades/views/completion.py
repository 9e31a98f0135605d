"""Completion API (upstream ``completion.api.v1.views``).

- ``POST /api/completion/v1/completion-batch`` ``{"username", "course_key", "blocks":
  {usage_key: 0.0-1.0}}`` (STD-AUTH; global staff, or the caller naming themself) → 200
  ``{"detail": "ok"}``. Every problem is 400 ``{"detail": message}`` with upstream's
  message, in upstream's order (tracking off, a missing key, the course key, enrollment, each
  block key, each value); an unknown user is 404. The batch is one transaction: one bad
  block stores nothing.
- ``GET /api/completion/v1/subsection-completion/{username}/{course_key}/{subsection_id}``
  (JWT or session; only the URL's user: another learner gets 404, global staff 403) →
  ``{"completion": 0|1}``: upstream's aggregate over the subsection's blocks of the types
  it counts, leaves by their completion value.
"""
import colander
from sqlalchemy import select

from lms import permissions
from lms.auth import DEFAULT_AUTH, STANDARD_AUTH
from lms.errors import detail, not_found, permission_denied
from lms.keys import parse_course_key, parse_usage_key
from lms.models import User
from lms.openapi import NUMBER, STRING, obj
from lms.request import request_data
from lms.service import Service
from plugins.courses import api as courses_api
from plugins.enrollment import api as enrollment_api
from plugins.grades import completion

MAX_BATCH_BLOCKS = 1000
# The block types upstream's SubsectionCompletionView asks the blocks API for.
SUBSECTION_BLOCK_TYPES = frozenset({"course", "chapter", "sequential", "vertical", "html",
                                    "problem", "video", "discussion", "drag-and-drop-v2"})

batch = Service("grades.completion_batch", "/api/completion/v1/completion-batch",
                auth=STANDARD_AUTH)
subsection = Service(
    "grades.subsection_completion",
    "/api/completion/v1/subsection-completion/{username}/{course_key}/{subsection_id}",
    auth=DEFAULT_AUTH)


class BatchBody(colander.MappingSchema):
    """The batch's keys; unknown keys are ignored as upstream's view ignores them."""

    username = colander.SchemaNode(colander.String(allow_empty=True))
    course_key = colander.SchemaNode(colander.String(allow_empty=True))
    blocks = colander.SchemaNode(colander.Mapping(unknown="preserve"))


def _parse_batch(request):
    """``(username, course_key string, blocks)``, or a 400 with upstream's message."""
    body = request_data(request)
    if not isinstance(body, dict):
        raise detail(400, "Expected a JSON object.")
    for name in ("username", "course_key", "blocks"):
        if name not in body:
            raise detail(400, f"Key '{name}' not found.")
    try:
        parsed = BatchBody().deserialize(
            {name: body[name] for name in ("username", "course_key", "blocks")})
    except colander.Invalid as exc:
        field, message = next(iter(exc.asdict().items()))
        raise detail(400, f"{field}: {message}") from None
    if len(parsed["blocks"]) > MAX_BATCH_BLOCKS:
        raise detail(400, f"At most {MAX_BATCH_BLOCKS} blocks per batch.")
    return parsed["username"], parsed["course_key"], parsed["blocks"]


@batch.post(body=obj({"username": STRING, "course_key": STRING,
                      "blocks": {"type": "object", "additionalProperties": NUMBER}},
                     required=["username", "course_key", "blocks"]),
            responses={200: obj({"detail": STRING}),
                       400: "Tracking off, a missing key, a bad course or block key, a block "
                            "of another course, not enrolled, or a value that is not a "
                            "number from 0.0 to 1.0 (`{\"detail\": message}`).",
                       401: "Not signed in.",
                       403: "Neither global staff nor the user named in the body.",
                       404: "No such user."})
def post_completion_batch(request):
    """Record a learner's completion of several blocks of one course at once."""
    body = request_data(request)
    username = body.get("username") if isinstance(body, dict) else None
    # IsStaffOrOwner runs before the body is read: the caller or global staff.
    if not (permissions.is_staff(request.user)
            or (isinstance(username, str) and username == request.user.username)):
        raise permission_denied()
    if not completion.tracking_enabled(request.registry.settings):
        raise detail(400, "BlockCompletion.objects.submit_batch_completion should not be "
                          "called when the feature is disabled.")
    username, raw_course_key, blocks = _parse_batch(request)
    db = request.dbsession
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise detail(404, "User matching query does not exist.")
    course_key = parse_course_key(raw_course_key)
    if course_key is None:
        raise detail(400, f"Invalid course key: {raw_course_key}")
    enrollment = enrollment_api.get_enrollment_row(db, user.id, str(course_key))
    if enrollment is None or not enrollment.is_active:
        raise detail(400, "User is not enrolled in course.")
    values = {}
    for raw_block_key, value in blocks.items():
        block_key = parse_usage_key(raw_block_key)
        if block_key is None:
            raise detail(400, f"Invalid block key: {raw_block_key}")
        if str(block_key.course_key) != str(course_key):
            raise detail(400, f"Block with key: '{raw_block_key}' is not in course "
                              f"{raw_course_key}")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise detail(400, f"float() argument must be a string or a real number, not "
                              f"'{type(value).__name__}'")
        try:
            values[str(block_key)] = completion.checked_value(value)
        except completion.CompletionError as exc:
            raise detail(400, str(exc)) from None
        except ValueError:
            raise detail(400, f"could not convert string to float: '{value}'") from None
    completion.submit_batch(db, user.id, str(course_key), values)
    return {"detail": "ok"}


def _aggregate(structure, key, visible, completions):
    """Upstream's recursive ``get_completion``: a leaf counts its completion value, a
    container 1 when its children's values add up to their number, else 0."""
    node = structure.blocks[key]
    children = [child for child in node.children if child in visible
                and structure.blocks[child].block_type in SUBSECTION_BLOCK_TYPES]
    if not children:
        return float(completions.get(key) or 0.0)
    total = sum(_aggregate(structure, child, visible, completions) for child in children)
    return int(total == len(children))


@subsection.get(responses={200: obj({"completion": NUMBER}),
                           401: "Not signed in.",
                           403: "Global staff asking about another user.",
                           404: "Another user (existence not revealed), or no such course "
                                "or subsection."})
def get_subsection_completion(request):
    """Whether the caller has completed every block of a subsection (1) or not (0)."""
    username = request.matchdict["username"]
    if request.user.username.lower() != username.lower():
        if permissions.is_staff(request.user):
            raise permission_denied()
        raise not_found()
    course_key = parse_course_key(request.matchdict["course_key"])
    usage_key = parse_usage_key(request.matchdict["subsection_id"])
    if course_key is None or usage_key is None:
        raise not_found()
    db = request.dbsession
    course = courses_api.get_course(db, course_key)
    if course is None or str(usage_key.course_key) != str(course_key):
        raise not_found()
    access = courses_api.content_access(request.registry, db, request.user, course)
    visible = access.visible_keys(require_enrollment=False)
    if str(usage_key) not in visible:
        raise not_found()
    completions = completion.completions_for(db, request.user.id, course.course_key)
    value = _aggregate(access.structure, str(usage_key), visible, completions)
    return {"completion": int(value) if value in (0, 1) else value}
