"""XBlock v2 API for course blocks (upstream ``openedx/core/djangoapps/xblock/rest_api``):

- ``GET /api/xblock/v2/xblocks/{usage_key_str}/``: block id, type and display name
  (``?include=index_dictionary,student_view_data`` adds those);
- ``GET .../view/{view_name}/``: the same plus the rendered fragment
  (see :mod:`plugins.courses.render`);
- ``GET .../handler_url/{handler_name}/``: an absolute, token-secured handler URL.

Upstream routes only content-library (v2) keys here; openlms serves its course
blocks (``block-v1:`` keys) with upstream's shapes. Who may see a block: course
staff; otherwise the block must be visible to the user (release dates,
``visible_to_staff_only``, partitions) and the user enrolled, or the course
public (the only case anonymous callers get in). Not seeing an existing block
is 403, as the learning context's permission check answers.
"""
import secrets

import colander
from sqlalchemy import select

from lms import auth
from lms.errors import detail, not_found, permission_denied
from lms.keys import parse_course_key, parse_usage_key
from lms.service import Service, colander_querystring_validator
from lms.settings import as_bool
from plugins.courses import api, blocks
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
HTML_STUDENT_VIEW_DATA_SETTING = "courses.html_student_view_data"
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
    """``(course, structure, node)`` for the URL's block, checking the caller may see it."""
    raw_key = request.matchdict["usage_key_str"]
    usage_key = parse_usage_key(raw_key)
    if usage_key is None:
        raise not_found()
    course_key = course_key_of_usage(usage_key)
    db = request.dbsession
    course = api.get_course(db, course_key) if course_key is not None else None
    if course is None:
        raise missing(raw_key)
    structure = api.get_structure(request.registry, db, course)
    node = structure.blocks.get(str(usage_key))
    if node is None:
        raise missing(raw_key)
    context = api.user_context(request, course, request.user)
    if not context.is_staff:
        may_learn = context.is_enrolled or api.is_public(course)
        if not may_learn or node.usage_key not in api.visible_blocks(structure, course, context):
            raise permission_denied()
    return course, structure, node


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
    html_enabled = as_bool(request.registry.settings, HTML_STUDENT_VIEW_DATA_SETTING)
    return blocks.student_view_data(facts, course.course_key, request.application_url,
                                    html_enabled=html_enabled)


@block_metadata.get(schema=MetadataQuery(), validators=(colander_querystring_validator,))
def get_block_metadata(request):
    course, structure, node = load_block(request)
    includes = set(request.validated["include"].split(","))
    body = metadata(node)
    if "index_dictionary" in includes:
        body["index_dictionary"] = index_dictionary(request, course, node)
    if "student_view_data" in includes:
        body["student_view_data"] = student_view_data(request, course, structure, node)
    return body


@block_view.get()
def get_block_view(request):
    course, _, node = load_block(request)
    view_name = request.matchdict["view_name"]
    if view_name not in VIEWS:
        raise detail(404, f"The component '{node.usage_key}' has no view named '{view_name}'.")
    if view_name == AUTHOR_VIEW:
        view_name = STUDENT_VIEW  # course blocks have no author view: upstream falls back
    body = metadata(node)
    body.update(render_view(node, parse_course_key(course.course_key), view_name))
    return body


@block_handler_url.get()
def get_block_handler_url(request):
    """Does not check that the block exists, as upstream; the token is per user and block."""
    raw_key = request.matchdict["usage_key_str"]
    usage_key = parse_usage_key(raw_key)
    if usage_key is None:
        raise not_found()
    user = request.user
    # Anonymous users get a throw-away "anon" id (upstream keeps one in the session).
    user_id = user.id if user is not None else "anon" + secrets.token_hex(16)
    settings = request.registry.settings
    base_url = settings.get("lms.base_url") or request.application_url
    return {"handler_url": handler_url(settings, base_url, str(usage_key), user_id,
                                       request.matchdict["handler_name"])}
