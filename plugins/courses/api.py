"""The courses plugin's public Python API: the only module other plugins may import.

- :func:`get_course`, :func:`get_structure`: a course overview and its block tree;
- :func:`store_course`: create or atomically replace a course (the importer uses it);
- :func:`course_summary`: the dict the ``lms_get_course`` hook answers;
- :func:`may_see_block`: may this viewer see this block now? (the one content rule;
  :func:`content_access` asks it for a whole course at once);
- :func:`course_access`, :func:`load_error`: Open edX ``has_access(user, "load" /
  "load_mobile", course)`` for many courses, with upstream's error codes;
- :func:`info_html`: a course's ``info/`` handouts and updates, URLs rewritten;
- :func:`get_courses`, :func:`organization_logos`: look-ups for lists (one query each).
"""
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from lms.keys import parse_course_key
from lms.timeutil import utcnow
from plugins.courses.access import (  # noqa: F401
    ContentAccess,
    UserContext,
    Verdict,
    user_context,
    viewer_context,
    visible_blocks,
)
from plugins.courses.models import Asset, Block, Course, Organization
from plugins.courses.serializers import (  # noqa: F401  (course overview fields)
    absolute_url,
    course_image_path,
    course_start,
    display_number,
    display_org,
    start_display,
    start_type,
)
from plugins.courses.structure import CourseStructure, parse_date  # noqa: F401

STRUCTURE_CACHE_KEY = "courses.structure_cache"

# Overview fields that are columns of Course (everything else goes to ``settings``).
OVERVIEW_COLUMNS = (
    "display_name", "display_number", "display_org", "start", "end", "enrollment_start",
    "enrollment_end", "advertised_start", "certificate_available_date", "self_paced",
    "invitation_only", "catalog_visibility", "course_visibility", "mobile_available",
    "days_early_for_beta", "language", "effort", "short_description", "overview",
    "course_image", "banner_image", "course_video_youtube_id", "handouts_html",
    "updates_html", "grading_policy",
)
DATE_COLUMNS = ("start", "end", "enrollment_start", "enrollment_end",
                "certificate_available_date")


def new_version():
    """A 24-hex version id, as Open edX's published_version."""
    return secrets.token_hex(12)


def get_course(db, course_key):
    """The Course row for a key (CourseKey or string), or None."""
    return db.scalar(select(Course).where(Course.course_key == str(course_key)))


def get_courses(db, course_keys):
    """``{course key string: Course}`` for the keys that name a course (one query)."""
    keys = list(dict.fromkeys(str(key) for key in course_keys))
    if not keys:
        return {}
    return {course.course_key: course
            for course in db.scalars(select(Course).where(Course.course_key.in_(keys)))}


def organization_logos(db, short_names):
    """``{short name: logo (a URL or site path) or None}`` of the organizations that
    exist among ``short_names`` (one query)."""
    names = list(dict.fromkeys(short_names))
    if not names:
        return {}
    return dict(db.execute(select(Organization.short_name, Organization.logo)
                           .where(Organization.short_name.in_(names))).all())


def get_structure(registry, db, course):
    """The course's block tree (cached per version)."""
    return registry[STRUCTURE_CACHE_KEY].get(db, course)


def ensure_organization(db, short_name, name=None):
    org = db.scalar(select(Organization).where(Organization.short_name == short_name))
    if org is None:
        org = Organization(short_name=short_name, name=name or short_name, active=True)
        db.add(org)
        db.flush()
    return org


def store_course(db, course_key, overview, blocks, assets=()):
    """Create or replace a course in the current transaction; return the Course.

    - ``overview``: Course column values (see :data:`OVERVIEW_COLUMNS`; dates as
      datetimes or ISO strings) plus a ``settings`` dict for everything else;
    - ``blocks``: dicts with ``usage_key``, ``block_type``, ``block_id``,
      ``display_name``, ``children`` (usage keys, in order), ``fields``, ``data``;
      listed in document order, the course block first;
    - ``assets``: dicts with ``name``, ``content_type``, ``content`` (bytes), ``locked``.

    The previous version's blocks and assets are removed in the same
    transaction, so other transactions see the old course until commit. The
    ``lms_course_published`` hook hears of the new version (in this transaction).
    """
    key = parse_course_key(str(course_key))
    if key is None:
        raise ValueError(f"{course_key!r} is not a valid course key")
    unknown = set(overview) - set(OVERVIEW_COLUMNS) - {"settings"}
    if unknown:
        raise ValueError(f"unknown overview fields: {', '.join(sorted(unknown))}")
    course = get_course(db, key)
    if course is None:
        course = Course(course_key=str(key), org=key.org, number=key.course, run=key.run)
        db.add(course)
    else:
        db.execute(delete(Block).where(Block.course_id == course.id))
        db.execute(delete(Asset).where(Asset.course_id == course.id))
    for name in OVERVIEW_COLUMNS:
        value = overview.get(name)
        if name in DATE_COLUMNS:
            value = parse_date(value)
        if value is None and name in ("display_name",):
            value = ""
        if value is None and name in ("self_paced", "invitation_only", "mobile_available"):
            value = False
        if value is None and name == "catalog_visibility":
            value = "both"
        if value is None and name == "course_visibility":
            value = "private"
        if value is None and name == "grading_policy":
            value = {}
        setattr(course, name, value)
    course.settings = dict(overview.get("settings") or {})
    course.version = new_version()
    course.published_at = utcnow()
    db.flush()
    ensure_organization(db, key.org)
    db.add_all(
        Block(course_id=course.id, course_key=str(key), version=course.version,
              usage_key=block["usage_key"], block_type=block["block_type"],
              block_id=block["block_id"], position=position,
              display_name=block.get("display_name"), children=list(block.get("children") or ()),
              fields=dict(block.get("fields") or {}), data=dict(block.get("data") or {}))
        for position, block in enumerate(blocks))
    db.add_all(
        Asset(course_id=course.id, course_key=str(key), name=asset["name"],
              content_type=asset.get("content_type") or "application/octet-stream",
              content=asset["content"], locked=bool(asset.get("locked")))
        for asset in assets)
    db.flush()
    registry = db.info.get("lms.registry")
    if registry is not None:  # plugins deriving data from the content hear of it
        registry["lms.plugin_manager"].hook.lms_course_published(
            dbsession=db, course_key=str(key), version=course.version)
    return course


def course_modes(db, course_keys):
    """``{course key string: [mode dict]}`` from the plugin owning course modes (the
    ``lms_course_modes`` hook, through the session's registry); ``{}`` without one."""
    registry = db.info.get("lms.registry")
    if registry is None or not course_keys:
        return {}
    answer = registry["lms.plugin_manager"].hook.lms_course_modes(
        dbsession=db, course_keys=list(course_keys))
    return answer or {}


def course_summary(course, modes=()):
    """The ``lms_get_course`` answer (see lms.hookspecs); course modes are not ours: the
    caller passes them (:func:`course_modes`)."""
    return {
        "id": course.course_key,
        "display_name": course.display_name,
        "org": course.display_org or course.org,
        "start": course.start,
        "end": course.end,
        "enrollment_start": course.enrollment_start,
        "enrollment_end": course.enrollment_end,
        "self_paced": course.self_paced,
        "cosmetic_display_price": int((course.settings or {}).get("cosmetic_display_price") or 0),
        "modes": list(modes),
    }


def is_public(course):
    return course.course_visibility == "public"


@dataclass(frozen=True)
class BlockAccess:
    """:func:`may_see_block`'s answer: true only when the block may be seen.

    ``verdict`` says why not (:class:`~plugins.courses.access.Verdict`); ``course``,
    ``structure``, ``node`` and ``access`` are what was loaded to decide (None when
    the course or block does not exist), so callers need not load them again.
    """

    verdict: Verdict
    course: Course | None = None
    structure: CourseStructure | None = None
    node: object = None
    access: ContentAccess | None = None

    def __bool__(self):
        return bool(self.verdict)


def content_access(registry, db, user, course, *, now=None):
    """The :class:`~plugins.courses.access.ContentAccess` of ``user`` (None: anonymous)
    in ``course`` at ``now`` (default: the current time): :func:`may_see_block`'s rule
    for every block of the course in one walk of its tree."""
    structure = get_structure(registry, db, course)
    return ContentAccess(course, structure, viewer_context(registry, db, course, user, now))


def content_accesses(registry, db, course, users, *, now=None):
    """``{user_id: ContentAccess}`` of many users in one course, in a fixed number of
    queries (roles at once, groups from ``lms_users_partition_groups``): the rule of
    :func:`content_access` for work over many learners. Enrollment is left out (each
    answer's ``may_learn`` is false unless the user is course staff or the course public),
    so ask ``access.block_verdict`` or ``visible_keys(require_enrollment=False)``."""
    from lms.keys import parse_course_key
    from lms.permissions import STAFF_ROLES, course_roles_of_users

    users = [user for user in users if user is not None]
    if not users:
        return {}
    structure = get_structure(registry, db, course)
    course_key = parse_course_key(course.course_key)
    moment = now or utcnow()
    roles = course_roles_of_users(db, [user.id for user in users], course_key)
    groups = {}
    hooks = registry["lms.plugin_manager"].hook
    for answer in hooks.lms_users_partition_groups(
            dbsession=db, user_ids=[user.id for user in users], course_key=course_key):
        for user_id, memberships in (answer or {}).items():
            groups.setdefault(int(user_id), {}).update(
                {int(k): int(v) for k, v in memberships.items()})
    answer = {}
    for user in users:
        held = roles.get(user.id, set()) if user.is_active else set()
        context = UserContext(user=user, now=moment,
                              is_staff=bool(user.is_active and user.is_staff)
                              or bool(held & set(STAFF_ROLES)),
                              is_beta_tester="beta_testers" in held,
                              groups=groups.get(user.id, {}))
        answer[user.id] = ContentAccess(course, structure, context)
    return answer


def may_see_block(registry, db, user, usage_key, *, now=None):
    """May ``user`` (a User, or None for the anonymous user) see the block ``usage_key``
    (a UsageKey or its string) at ``now`` (default: the current time)?

    Returns a :class:`BlockAccess`, true when the block is in the course's
    published tree and the viewer is course staff, or (enrolled, or the course
    public) the block is not staff-only, in the viewer's content groups, started
    and not hidden after its due date, and so are all its ancestors.
    """
    from lms.keys import parse_usage_key

    key = parse_usage_key(str(usage_key))
    course_key = getattr(key, "course_key", None)
    course = get_course(db, course_key) if course_key is not None else None
    if course is None:
        return BlockAccess(Verdict.NOT_FOUND)
    access = content_access(registry, db, user, course, now=now)
    node = access.structure.blocks.get(str(key))
    return BlockAccess(access.may_see(str(key)), course, access.structure, node, access)


def teams_configuration(course):
    """The course policy's ``teams_configuration`` as imported (any JSON value; ``{}``
    when the course has none)."""
    value = (course.settings or {}).get("teams_configuration")
    return value if value is not None else {}


def completion_mode(block_type):
    """Upstream's XBlockCompletionMode of a block type: ``"aggregator"`` (containers),
    ``"excluded"`` (discussions) or ``"completable"`` (every other block)."""
    from plugins.courses.blocks import completion_mode as mode

    return mode(block_type)


def completable_leaves(structure, usage_key, visible):
    """The blocks of ``visible`` under ``usage_key`` that count for its completion
    (aggregators recursed, excluded blocks skipped), in course order."""
    from plugins.courses.render import completable_leaves as leaves

    return leaves(structure, usage_key, visible)


# -- course-level access (upstream has_access on a course) ---------------------------------

def course_access(request, user):
    """Open edX ``has_access(user, action, course)`` for any number of courses: the
    caller's roles are read once; call ``prefetch_enrollments(courses)`` before asking
    about many courses. ``access.has_access("load_mobile", course)`` and the like."""
    from plugins.courses.views.catalog import CatalogAccess

    return CatalogAccess(request, user)


def load_error(access, course, *, mobile=False):
    """Why ``access``'s user may not load ``course`` (``mobile``: on the mobile apps), as
    upstream's AccessError ``error_code``, or None when they may: ``mobile_unavailable``,
    ``not_visible_to_user``, ``course_not_started``, ``audit_expired`` (in that order),
    ``old_mongo`` for an old-style (slash) course key. Course staff pass every check but
    the last."""
    key = parse_course_key(course.course_key)
    if key is None or key.deprecated:
        return "old_mongo"
    if access.is_staff(course):
        return None
    if mobile and not (course.mobile_available or access.is_beta_tester(course)):
        return "mobile_unavailable"
    if (course.settings or {}).get("visible_to_staff_only"):
        return "not_visible_to_user"
    if not access.started(course):
        return "course_not_started"
    if access.access_expired(course):
        return "audit_expired"
    return None


# -- course info (OLX info/) ----------------------------------------------------------------

def info_html(course, section):
    """The course's ``info/<section>.html`` (``handouts`` or ``updates``) with ``/static/``
    references turned into the course's asset URLs (site-relative), or None."""
    from plugins.courses.render import replace_static_urls

    text = {"handouts": course.handouts_html, "updates": course.updates_html}[section]
    return None if text is None else replace_static_urls(text, course.course_key)


def update_items(course):
    """The structured course updates (``info/updates.items.json``) as imported: a list of
    ``{"id", "date", "content", "status"}`` in stored order, or None when the export had none."""
    items = (course.settings or {}).get("course_updates")
    return list(items) if isinstance(items, list) else None


def replace_static_urls(text, course_key):
    """``/static/<file>`` references in course HTML → the course's asset URLs."""
    from plugins.courses.render import replace_static_urls as replace

    return replace(text, course_key)


def verify_handler_token(settings, user_id, usage_key, token, now=None):
    """True when a handler URL's ``{user_id}-{token}`` was signed for this user and block
    by :func:`plugins.courses.render.handler_url` and has not expired."""
    from plugins.courses.render import verify_handler_token as verify

    return verify(settings, user_id, usage_key, token, now=now)


def signed_handler_url(settings, base_url, usage_key, user_id, handler_name, now=None):
    """The signed handler URL ``GET .../handler_url/{handler_name}/`` hands out."""
    from plugins.courses.render import handler_url

    return handler_url(settings, base_url, usage_key, user_id, handler_name, now=now)


def display_name_with_default(node):
    """Upstream ``display_name_with_default`` of a structure node: its display name, else
    its block type's default name ("Text" for html...), else its block id with
    underscores as spaces."""
    from plugins.courses.blocks import DISPLAY_NAME_DEFAULTS

    if node.display_name:
        return node.display_name
    return DISPLAY_NAME_DEFAULTS.get(node.block_type) or node.block_id.replace("_", " ")
