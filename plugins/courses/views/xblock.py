"""XBlock v2 API for course blocks (upstream ``openedx/core/djangoapps/xblock/rest_api``):

- ``GET /api/xblock/v2/xblocks/{usage_key_str}/``: block id, type and display name
  (``?include=index_dictionary,student_view_data`` adds those);
- ``GET .../view/{view_name}/``: the same plus the rendered fragment
  (see :mod:`plugins.courses.render`);
- ``GET .../handler_url/{handler_name}/``: an absolute, token-secured handler URL.

Upstream routes only content-library (v2) keys here; openlms serves its course
blocks (``block-v1:`` keys) with upstream's shapes. Who may see a block is
:func:`plugins.courses.api.may_see_block`'s answer (course staff; otherwise the
block visible now, ``hide_after_due`` included, and the user enrolled or the
course public: the only case anonymous callers get in). Not seeing an existing
block is 403, as the learning context's permission check answers.
"""
import secrets

import colander
from sqlalchemy import select

from lms import auth
from lms.errors import detail, not_found, permission_denied
from lms.keys import parse_course_key, parse_usage_key
from lms.service import Service, colander_querystring_validator
from plugins.courses import api, blocks
from plugins.courses import openapi_schemas as doc
from plugins.courses.config import courses_config
from plugins.courses.models import Asset
from plugins.courses.render import (
    AUTHOR_VIEW,
    STUDENT_VIEW,
    VIEWS,
    block_display_name,
    course_key_of_usage,
    handler_url,
    render_view,
)
from plugins.courses.serializers import course_start

BASE = "/api/xblock/v2/xblocks/{usage_key_str}/"
block_metadata = Service("courses.xblock_metadata", BASE,
                         auth=auth.STANDARD_AUTH, errors="drf", anonymous=True)
block_view = Service("courses.xblock_view", BASE + "view/{view_name}/",
                     auth=auth.STANDARD_AUTH, errors="drf", anonymous=True)
block_handler_url = Service("courses.xblock_handler_url", BASE + "handler_url/{handler_name}/",
                            auth=auth.STANDARD_AUTH, errors="drf", anonymous=True)


class MetadataQuery(colander.MappingSchema):
    # Comma-separated; names other than index_dictionary / student_view_data are ignored.
    include = colander.SchemaNode(colander.String(allow_empty=True), missing="")


def missing(raw_key):
    return not_found(message=f"The component '{raw_key}' does not exist.")


def load_block(request):
    """``(course, structure, node)`` for the URL's block, if the caller may see it now.

    Asks :func:`plugins.courses.api.may_see_block`: a block outside the published
    tree is 404, one the caller may not see (not enrolled, staff-only, another
    content group, not started, hidden after its due date) is 403.
    """
    raw_key = request.matchdict["usage_key_str"]
    usage_key = parse_usage_key(raw_key)
    if usage_key is None:
        raise not_found()
    if course_key_of_usage(usage_key) is None:
        raise missing(raw_key)
    answer = api.may_see_block(request.registry, request.dbsession, request.user, usage_key)
    if answer.verdict is api.Verdict.NOT_FOUND:
        raise missing(raw_key)
    if not answer:
        raise permission_denied()
    return answer.course, answer.structure, answer.node


def metadata(node):
    return {"block_id": node.usage_key, "block_type": node.block_type,
            "display_name": block_display_name(node)}


def index_dictionary(request, course, node):
    """The blocks API's index dictionary, with the transcripts a video names."""
    names = [name for _, name in blocks.video_transcript_files(node)] \
        if node.block_type == "video" else []
    assets = dict(request.dbsession.execute(
        select(Asset.name, Asset.content).where(Asset.course_id == course.id,
                                                Asset.name.in_(names))).all()) if names else {}
    return blocks.index_dictionary(node, assets)


def student_view_data(request, course, structure, node):
    """The block's ``student_view_data`` as the blocks API computes it (None: it has none).

    HTML bodies only with ``courses.html_student_view_data`` (upstream's
    ENABLE_HTML_XBLOCK_STUDENT_VIEW_DATA), as in the blocks API.
    """
    facts = blocks.block_facts(structure, course_start(course))[node.usage_key]
    html_enabled = courses_config(request.registry).html_student_view_data
    videos = None
    if facts.block_type == "video" and facts.video["edx_video_id"]:
        videos = request.registry["lms.plugin_manager"].hook.lms_video_data(
            dbsession=request.dbsession, course_key=course.course_key,
            edx_video_ids=[facts.video["edx_video_id"]])
    return blocks.student_view_data(facts, course.course_key, request.application_url,
                                    html_enabled=html_enabled, video_data=videos)


@block_metadata.get(schema=MetadataQuery(), validators=(colander_querystring_validator,),
                    responses={200: doc.XBLOCK_METADATA, 403: "The caller may not see the block.",
                               404: "No such block."})
def get_block_metadata(request):
    """A block's id, type and display name (`?include=` adds its index or view data)."""
    course, structure, node = load_block(request)
    includes = set(request.validated["include"].split(","))
    body = metadata(node)
    if "index_dictionary" in includes:
        body["index_dictionary"] = index_dictionary(request, course, node)
    if "student_view_data" in includes:
        body["student_view_data"] = student_view_data(request, course, structure, node)
    return body


@block_view.get(responses={200: doc.XBLOCK_VIEW, 403: "The caller may not see the block.",
                           404: "No such block or view."})
def get_block_view(request):
    """A block rendered with one of its views (HTML fragment and resources)."""
    course, _, node = load_block(request)
    view_name = request.matchdict["view_name"]
    if view_name not in VIEWS:
        raise detail(404, f"The component '{node.usage_key}' has no view named '{view_name}'.")
    if view_name == AUTHOR_VIEW:
        view_name = STUDENT_VIEW  # course blocks have no author view: upstream falls back
    body = metadata(node)
    body.update(render_view(node, parse_course_key(course.course_key), view_name))
    return body


@block_handler_url.get(responses={200: doc.HANDLER_URL, 403: "The caller may not see the block.",
                                  404: "Not a usage key."})
def get_block_handler_url(request):
    """A signed URL for one of a block's handlers.

    The token is per user and block.
 As upstream, a block that does not exist still
    gets a URL; one the caller may not see now is 403, as for the other views."""
    raw_key = request.matchdict["usage_key_str"]
    usage_key = parse_usage_key(raw_key)
    if usage_key is None:
        raise not_found()
    user = request.user
    answer = api.may_see_block(request.registry, request.dbsession, user, usage_key)
    if not answer and answer.verdict is not api.Verdict.NOT_FOUND:
        raise permission_denied()
    # Anonymous users get a throw-away "anon" id (upstream keeps one in the session).
    user_id = user.id if user is not None else "anon" + secrets.token_hex(16)
    settings = request.registry.settings
    base_url = settings.get("lms.base_url") or request.application_url
    return {"handler_url": handler_url(settings, base_url, str(usage_key), user_id,
                                       request.matchdict["handler_name"])}
