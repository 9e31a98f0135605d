"""The course blocks API: ``/api/courses/v1|v2/blocks/`` and ``block_metadata``.

- ``blocks/{usage_key}`` (upstream BlocksView) and ``blocks/?course_id=``
  (BlocksInCourseView: the course's root block, plus the ``?course_id=`` extras:
  discussion blocks hidden for the new discussions provider, parents'
  completion rewritten as 1/0).
- v1 hides blocks whose access is denied; v2 would keep them with
  ``authorization_denial_*`` fields. openlms gates no content by type (no
  content-type gating, no milestones), so every denied block is hidden and
  v1 and v2 answer the same.
- ``block_metadata/{usage_key}``: course staff only.

Who may see what follows upstream's BlockListGetForm (:func:`resolve_viewer`);
the blocks themselves come from :mod:`plugins.courses.blocks`.
"""
import re
import time
from dataclasses import dataclass
from email.utils import formatdate

import colander
from sqlalchemy import select

from lms import permissions
from lms.auth import STANDARD_AUTH
from lms.errors import developer
from lms.keys import parse_course_key, parse_usage_key
from lms.routing import USAGE_ID
from lms.service import Service, colander_querystring_validator
from lms.timeutil import utcnow
from lms.users import get_by_username
from plugins.courses import api, blocks
from plugins.courses import openapi_schemas as doc
from plugins.courses.access import ContentAccess, UserContext, user_context
from plugins.courses.config import courses_config
from plugins.courses.models import Asset, Block, Course

SERVICE_OPTIONS = {"auth": STANDARD_AUTH, "errors": "developer", "anonymous": True}
blocks_in_course_v1 = Service("courses.blocks_in_course_v1", "/api/courses/v1/blocks/",
                              **SERVICE_OPTIONS)
blocks_in_course_v2 = Service("courses.blocks_in_course_v2", "/api/courses/v2/blocks/",
                              **SERVICE_OPTIONS)
# Upstream's regexes have no ``$``: the usage key may be followed by a slash.
blocks_in_tree_v1 = Service("courses.blocks_in_tree_v1", f"/api/courses/v1/blocks/{USAGE_ID}",
                            **SERVICE_OPTIONS)
blocks_in_tree_v2 = Service("courses.blocks_in_tree_v2", f"/api/courses/v2/blocks/{USAGE_ID}",
                            **SERVICE_OPTIONS)
block_metadata_v1 = Service("courses.block_metadata_v1",
                            f"/api/courses/v1/block_metadata/{USAGE_ID}", **SERVICE_OPTIONS)
block_metadata_v2 = Service("courses.block_metadata_v2",
                            f"/api/courses/v2/block_metadata/{USAGE_ID}", **SERVICE_OPTIONS)

# Django's CACHE_MIDDLEWARE_SECONDS default, used by patch_response_headers.
ANONYMOUS_CACHE_SECONDS = 600
OPENEDX_DISCUSSION_PROVIDER = "openedx"
# Django IntegerField accepts "3.0" and "3.": a decimal point followed by zeros.
TRAILING_ZEROS_RE = re.compile(r"\.0*\s*$")


# -- query schema (upstream BlockListGetForm fields) ------------------------------------

def _last(cstruct):
    """A Django form field reads ``data.get(name)``: the last of repeated values."""
    if isinstance(cstruct, list):
        return cstruct[-1] if cstruct else colander.null
    return cstruct


class Username(colander.String):
    """``CharField``: trimmed; present-but-empty stays ``""`` (the anonymous view)."""

    def deserialize(self, node, cstruct):
        value = _last(cstruct)
        return colander.null if value is colander.null else str(value).strip()


class ExtendedBoolean(colander.String):
    """``ExtendedNullBooleanField``."""

    def deserialize(self, node, cstruct):
        value = _last(cstruct)
        if value in ("True", "true", "1"):
            return True
        if value in ("False", "false", "0"):
            return False
        if value is colander.null or not value:
            return colander.null
        raise colander.Invalid(node, "Invalid Boolean Value.")


class Depth(colander.String):
    """An integer or ``all`` (None); empty is 0."""

    def deserialize(self, node, cstruct):
        value = _last(cstruct)
        if value is colander.null:
            return colander.null
        value = str(value).strip()
        if not value:
            return 0
        if value == "all":
            return None
        try:
            return int(value)
        except ValueError:
            raise colander.Invalid(node, f"'{value}' is not a valid depth value.")


class WholeNumber(colander.String):
    """Django ``IntegerField(min_value=0)``; empty is None."""

    def deserialize(self, node, cstruct):
        value = _last(cstruct)
        if value is colander.null or value == "":
            return colander.null
        try:
            number = int(TRAILING_ZEROS_RE.sub("", str(value)))
        except ValueError:
            raise colander.Invalid(node, "Enter a whole number.")
        if number < 0:
            raise colander.Invalid(node, "Ensure this value is greater than or equal to 0.")
        return number


class MultiValue(colander.String):
    """openedx ``MultiValueField``: repeated and comma-separated values, merged in a set."""

    multi_value = True  # every value of a repeated parameter (lms.service)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        values = cstruct if isinstance(cstruct, list) else [cstruct]
        joined = ",".join(str(value) for value in values)
        found = frozenset(joined.split(",")) if joined else frozenset()
        if "" in found:
            raise colander.Invalid(node, "This field cannot be empty.")
        return found


class ReturnType(colander.String):
    """``ChoiceField(choices=[dict, list])``; empty is ``dict``."""

    def deserialize(self, node, cstruct):
        value = _last(cstruct)
        if value is colander.null or value == "":
            return colander.null
        value = str(value)
        if value not in ("dict", "list"):
            raise colander.Invalid(
                node, f"Select a valid choice. {value} is not one of the available choices.")
        return value


class BlocksQuery(colander.MappingSchema):
    """The blocks query string (other parameters, like ``page``, are ignored)."""

    username = colander.SchemaNode(Username(), missing=None)
    all_blocks = colander.SchemaNode(ExtendedBoolean(), missing=None)
    depth = colander.SchemaNode(Depth(), missing=0)
    nav_depth = colander.SchemaNode(WholeNumber(), missing=None)
    requested_fields = colander.SchemaNode(MultiValue(), missing=frozenset())
    block_counts = colander.SchemaNode(MultiValue(), missing=frozenset())
    student_view_data = colander.SchemaNode(MultiValue(), missing=frozenset())
    block_types_filter = colander.SchemaNode(MultiValue(), missing=frozenset())
    return_type = colander.SchemaNode(ReturnType(), missing="dict")


class RawString(colander.String):
    """A parameter another validator has already checked: its last value, as given."""

    def deserialize(self, node, cstruct):
        value = _last(cstruct)
        return colander.null if value is colander.null else str(value)


class BlocksInCourseQuery(BlocksQuery):
    """BlocksInCourseView's query: ``course_id`` (checked first by course_root_validator)."""

    # Required (checked before this schema, with BlocksInCourseView's plain 400s).
    course_id = colander.SchemaNode(
        RawString(), description="A course key: the answer starts at its course block.")


class MetadataQuery(colander.MappingSchema):
    include = colander.SchemaNode(Username(), missing="")


def blocks_params(validated):
    """BlockListGetForm.clean: requested_fields gain the parameters given separately."""
    requested = set(validated["requested_fields"]) | blocks.DEFAULT_FIELDS
    for name in ("student_view_data", "block_counts", "block_types_filter"):
        if validated[name]:
            requested.add(name)
    if validated["nav_depth"] is not None:
        requested.add("nav_depth")
    return blocks.BlocksParams(
        depth=validated["depth"], nav_depth=validated["nav_depth"],
        requested_fields=frozenset(requested), block_counts=validated["block_counts"],
        student_view_data=validated["student_view_data"],
        block_types_filter=validated["block_types_filter"],
        return_type=validated["return_type"])


def _query_value(request, name):
    """One parameter as the form would clean it, None when it is invalid."""
    node = BlocksQuery()[name]
    try:
        return node.deserialize(request.GET.mixed().get(name, colander.null))
    except colander.Invalid:
        return None


# -- who may see what -------------------------------------------------------------

@dataclass
class Viewer:
    """Whose view of the blocks a request gets."""

    context: UserContext | None  # None: all blocks, no access filtering
    cacheable: bool = False  # the anonymous view asked for with ``username=``


def canonical_usage_key(db, key):
    """An ``i4x://`` key as the block-v1 key of its course (upstream fill_in_run)."""
    course_key = key.course_key
    if not getattr(key, "deprecated", False):
        return key
    run = course_key.run
    if run is None:
        runs = db.scalars(select(Course.run).where(
            Course.org == course_key.org, Course.number == course_key.course).limit(2)).all()
        if len(runs) != 1:
            return key
        run = runs[0]
    from opaque_keys.edx.locator import BlockUsageLocator, CourseLocator

    return BlockUsageLocator(CourseLocator(course_key.org, course_key.course, run),
                             key.block_type, key.block_id)


def resolve_viewer(request, course_key, course, username, all_blocks):
    """Upstream BlockListGetForm's user checks, in their order (403/404 raise)."""
    db = request.dbsession
    caller = request.user
    public = course is not None and api.is_public(course)
    course_text = str(course_key)
    anonymous = Viewer(UserContext(user=None, now=utcnow()), cacheable=True)

    if caller is None:
        if all_blocks:
            raise developer(403, "Anonymous users do not have permission to access all "
                                 f"blocks in '{course_text}'.")
        if username != "":
            raise developer(403, "Anonymous users cannot access another user's blocks.")
        if not public:
            raise developer(403, f"Course blocks for '{course_text}' cannot be accessed "
                                 "anonymously.")
        return anonymous

    if all_blocks:
        # Data researchers (instructor.research) get their own view of every block.
        if permissions.has_course_role(db, caller, course_key, ("data_researcher",)):
            return Viewer(_context(request, course, caller))
        if not permissions.has_course_staff_access(db, caller, course_key):
            raise developer(403, f"'{caller.username}' does not have permission to access "
                                 f"all blocks in '{course_text}'.")
        return Viewer(None)

    if username.lower() == caller.username.lower():
        context = _context(request, course, caller)
        if not (context.is_enrolled or context.is_staff or public):
            raise developer(403, f"Course blocks for '{caller.username}' cannot be accessed.")
        return Viewer(context)

    if username == "" and public:
        return anonymous
    if not permissions.has_course_staff_access(db, caller, course_key):
        raise developer(403, f"'{caller.username}' does not have permission to access view "
                             f"for '{username}'.")
    other = get_by_username(db, username)
    if other is None:
        raise developer(404, f"Requested user '{username}' does not exist.")
    return Viewer(_context(request, course, other))


def _context(request, course, user):
    if course is None:
        # An unknown course: staff (or enrolled, by the enrollment plugin's word)
        # get past the checks, then find no block (404).
        db, course_key = request.dbsession, request.blocks_course_key
        hooks = request.registry["lms.plugin_manager"].hook
        return UserContext(
            user=user, now=utcnow(),
            is_staff=permissions.has_course_staff_access(db, user, course_key),
            enrollment=hooks.lms_get_enrollment(dbsession=db, user_id=user.id,
                                                course_key=course_key))
    return user_context(request, course, user)


# -- validators ----------------------------------------------------------------------

def course_root_validator(request, **kwargs):
    """BlocksInCourseView: ``course_id`` is checked before the form (plain 400s)."""
    value = request.GET.get("course_id")
    if not value:
        raise developer(400, "course_id is required.")
    course_key = parse_course_key(value)
    if course_key is None:
        raise developer(400, f"'{value}' is not a valid course key.")
    request.blocks_root_key = course_key.make_usage_key("course", "course")


def viewer_validator(request, **kwargs):
    """The usage key, then who the blocks are for (field errors join the form's)."""
    raw = request.matchdict.get("usage_key_string")
    if raw is not None:
        raw = raw.strip()
        key = parse_usage_key(raw)
        if key is None:
            request.errors.add("path", "usage_key", f"'{raw}' is not a valid usage key.")
            return
        key = canonical_usage_key(request.dbsession, key)
    else:
        key = request.blocks_root_key
    if request.errors:
        username, all_blocks = (_query_value(request, "username"),
                                _query_value(request, "all_blocks"))
    else:
        username, all_blocks = request.validated["username"], request.validated["all_blocks"]
    if username is None and not all_blocks:
        request.errors.add("querystring", "username",
                           "This field is required unless all_blocks is requested.")
        return
    course = api.get_course(request.dbsession, key.course_key)
    request.blocks_course_key = key.course_key
    request.blocks_usage_key = key
    request.blocks_course = course
    request.blocks_viewer = resolve_viewer(request, key.course_key, course, username,
                                           all_blocks)


BLOCKS_VALIDATORS = (colander_querystring_validator, viewer_validator)


# -- views ----------------------------------------------------------------------------

def _not_found(key):
    return developer(404, f"Block not found: {key}")


def render_blocks(request):
    """The blocks below ``request.blocks_usage_key`` as ``request.blocks_viewer`` sees them."""
    key, course, viewer = (request.blocks_usage_key, request.blocks_course,
                           request.blocks_viewer)
    if course is None:
        raise _not_found(key)
    structure = api.get_structure(request.registry, request.dbsession, course)
    root = str(key)
    if root not in structure.blocks:
        raise _not_found(key)
    params = blocks_params(request.validated)
    context = viewer.context
    if context is None:
        visible = None  # all_blocks (course staff): no filtering
    else:
        # The content rule; whether an enrollment is needed was settled by resolve_viewer
        # (course staff may view the blocks of a user who is not enrolled).
        visible = ContentAccess(course, structure, context).visible_keys(
            require_enrollment=False)

    completions = resume_key = None
    user = None if context is None else context.user
    if "completion" in params.requested_fields and user is not None:
        hooks = request.registry["lms.plugin_manager"].hook
        course_key = request.blocks_course_key
        completions = hooks.lms_block_completions(dbsession=request.dbsession,
                                                  user_id=user.id, course_key=course_key)
        if completions is not None:
            resume_key = hooks.lms_resume_block(dbsession=request.dbsession, user_id=user.id,
                                                course_key=course_key)
    hooks = request.registry["lms.plugin_manager"].hook

    def video_data(edx_video_ids):
        return hooks.lms_video_data(dbsession=request.dbsession, course_key=course.course_key,
                                    edx_video_ids=edx_video_ids)

    result = blocks.get_blocks(
        structure, root, visible, params, base_url=request.application_url,
        course_start=course.start,
        html_enabled=courses_config(request.registry).html_student_view_data,
        completions=completions, resume_key=resume_key, video_data=video_data)
    return result, completions


def json_response(request, body, cacheable):
    if cacheable:
        # Django's patch_response_headers: the anonymous view may be cached.
        headers = request.response.headers
        headers["Expires"] = formatdate(time.time() + ANONYMOUS_CACHE_SECONDS, usegmt=True)
        headers["Cache-Control"] = f"max-age={ANONYMOUS_CACHE_SECONDS}"
    return body


@blocks_in_tree_v1.get(schema=BlocksQuery(), validators=BLOCKS_VALIDATORS,
                       responses={200: doc.BLOCKS})
@blocks_in_tree_v2.get(schema=BlocksQuery(), validators=BLOCKS_VALIDATORS,
                       responses={200: doc.BLOCKS})
def get_blocks_in_tree(request):
    """The blocks below a block, as the named user (or, with `all_blocks`, staff) sees them."""
    result, _ = render_blocks(request)
    return json_response(request, result, request.blocks_viewer.cacheable)


@blocks_in_course_v1.get(schema=BlocksInCourseQuery(),
                         validators=(course_root_validator,) + BLOCKS_VALIDATORS,
                         responses={200: doc.BLOCKS, 404: "No such course."})
@blocks_in_course_v2.get(schema=BlocksInCourseQuery(),
                         validators=(course_root_validator,) + BLOCKS_VALIDATORS,
                         responses={200: doc.BLOCKS, 404: "No such course."})
def get_blocks_in_course(request):
    """The blocks of the course `?course_id=`, as the named user (or staff) sees them."""

    result, completions = render_blocks(request)
    course = request.blocks_course
    discussions = (course.settings or {}).get("discussions_settings") or {}
    if isinstance(discussions, dict) and discussions.get("provider") == OPENEDX_DISCUSSION_PROVIDER:
        result = blocks.remove_discussion_blocks(result)
    # Upstream rewrites parents' completion whenever any requested_fields value
    # mentions completion; with no completion source there is nothing to rewrite.
    asked = any("completion" in value for value in request.GET.getall("requested_fields"))
    if asked and completions is not None:
        result = blocks.mark_parents_complete(result, str(request.blocks_usage_key))
    return json_response(request, result, request.blocks_viewer.cacheable)


@block_metadata_v1.get(schema=MetadataQuery(), validators=(colander_querystring_validator,),
                       responses={200: doc.BLOCK_METADATA_V1})
@block_metadata_v2.get(schema=MetadataQuery(), validators=(colander_querystring_validator,),
                       responses={200: doc.BLOCK_METADATA_V1})
def get_block_metadata(request):
    """A block's id, type and (``include=index_dictionary``) its search-index text."""
    raw = request.matchdict["usage_key_string"]
    key = parse_usage_key(raw)
    if key is None:
        raise developer(400, f"'{raw}' is not a valid usage key.")
    db = request.dbsession
    key = canonical_usage_key(db, key)
    if not permissions.has_course_staff_access(db, request.user, key.course_key):
        raise developer(403, f"You do not have permission to access block '{raw}'.")
    course = api.get_course(db, key.course_key)
    if course is not None:
        verdict = api.content_access(request.registry, db, request.user, course).may_see(key)
        if not verdict and verdict is not api.Verdict.NOT_FOUND:
            raise developer(403, f"You do not have permission to access block '{raw}'.")
    # Upstream reads the modulestore item, so orphans (outside the tree) have metadata too.
    block = None if course is None else db.scalar(select(Block).where(
        Block.version == course.version, Block.usage_key == str(key)))
    if block is None:
        raise _not_found(key)
    includes = request.validated["include"].split(",")
    assets = None
    if "index_dictionary" in includes and block.block_type == "video":
        names = [name for _, name in blocks.video_transcript_files(block)]
        if names:
            assets = dict(db.execute(select(Asset.name, Asset.content).where(
                Asset.course_id == course.id, Asset.name.in_(names))).all())
    return blocks.block_metadata(block, str(key), includes, assets)
