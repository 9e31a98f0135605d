"""The courseware BFF of the learning MFE (upstream ``openedx/core/djangoapps/courseware_api``):

- ``GET /api/courseware/course/{course_key_string}``: course metadata for the courseware;
- ``GET /api/courseware/sequence/{usage_key_string}``: a sequence's units (not rendered);
- ``GET /api/courseware/resume/{course_key_string}``: where the learner left off;
- ``POST /api/courseware/celebration/{course_key_string}``: celebrations already shown.

Data owned by plugins that do not exist yet comes through hooks, with
upstream's answer for "none": grades (``user_has_passing_grade`` false),
certificates (``certificate_data`` null), programs, offers, identity
verification, course goals (off). The enrollment comes from ``lms_get_enrollment``.
Staff masquerading (a session feature of the legacy LMS) is not supported.
"""
import colander
from sqlalchemy import select

from lms import auth
from lms.errors import APIError, developer, not_found
from lms.keys import parse_course_key, parse_usage_key
from lms.request import request_data
from lms.responses import empty_response
from lms.routing import COURSE_KEY, USAGE_ID
from lms.schemas import StrictBoolean, StrictMapping
from lms.service import Service, colander_querystring_validator
from lms.timeutil import aware, isoformat, utcnow
from lms.users import get_by_username
from plugins.courses import api, serializers
from plugins.courses import openapi_schemas as doc
from plugins.courses.models import Celebration
from plugins.courses.render import (
    course_key_of_usage,
    display_name_with_default,
    icon_class,
    sanitize_html,
    vertical_is_complete,
    visible_children,
)
from plugins.courses.structure import DEFAULT_START
from plugins.courses.views.catalog import CatalogAccess

course_info = Service("courses.courseware_course", f"/api/courseware/course/{COURSE_KEY}",
                      auth=auth.STANDARD_AUTH, errors="drf", anonymous=True)
sequence_metadata = Service("courses.courseware_sequence",
                            f"/api/courseware/sequence/{USAGE_ID}",
                            auth=(auth.JWT, auth.SESSION), errors="developer", anonymous=True)
resume = Service("courses.courseware_resume", f"/api/courseware/resume/{COURSE_KEY}",
                 auth=(auth.JWT, auth.SESSION), errors="developer")
celebration = Service("courses.courseware_celebration",
                      f"/api/courseware/celebration/{COURSE_KEY}",
                      auth=auth.STANDARD_AUTH, errors="developer")

# Blocks with sequence metadata (SequenceBlock and SectionBlock; the course root crashes
# upstream, so it is treated as "no sequence metadata").
SEQUENCE_TYPES = ("chapter", "sequential", "videosequence", "problemset")
PUBLIC_VISIBILITIES = ("public", "public_outline")
# settings.PAID_COURSE_REGISTRATION_CURRENCY[1]
CURRENCY_SYMBOL = "$"
# settings.ENTRANCE_EXAM_MIN_SCORE_PCT's course default (CourseFields).
DEFAULT_ENTRANCE_EXAM_MIN_SCORE = 65
UPGRADE_URL = "/course_modes/choose/{course_id}/"


# -- GET /api/courseware/course/{course_key_string} -------------------------------------------

class CourseInfoQuery(colander.MappingSchema):
    username = colander.SchemaNode(colander.String(allow_empty=True), missing="")
    requested_fields = colander.SchemaNode(colander.String(allow_empty=True),
                                           missing=colander.drop)
    browser_timezone = colander.SchemaNode(colander.String(allow_empty=True),
                                           missing=colander.drop)


def course_detail_user(request):
    """The user whose view of the course decides whether it exists (``course_detail``).

    Global staff may name anyone in ``username``; everybody else is themselves.
    """
    caller = request.user
    own_name = caller.username if caller is not None else ""
    username = own_name
    if caller is not None and caller.is_staff:
        username = request.validated["username"] or own_name
    if username == own_name:
        return caller
    user = get_by_username(request.dbsession, username)
    if user is None:
        raise not_found()
    return user


def enrollment_of(request, user, course_key):
    if user is None:
        return None
    hooks = request.registry["lms.plugin_manager"].hook
    return hooks.lms_get_enrollment(dbsession=request.dbsession, user_id=user.id,
                                    course_key=course_key)


def access_expiration(course, enrollment, now):
    """Course duration limits: when an audit learner's access ends (from the enrollment)."""
    expiration = aware((enrollment or {}).get("audit_access_deadline"))
    if expiration is None:
        return None
    upgrade_deadline = aware(enrollment.get("upgrade_deadline"))
    if upgrade_deadline is not None and upgrade_deadline < now:
        upgrade_deadline = None
    return {
        "expiration_date": isoformat(expiration),
        "masquerading_expired_course": False,
        "upgrade_deadline": isoformat(upgrade_deadline),
        "upgrade_url": (UPGRADE_URL.format(course_id=course.course_key)
                        if upgrade_deadline else None),
    }


def celebrations(request, user, course, enrollment):
    if enrollment is None:
        return {"first_section": False, "streak_length_to_celebrate": None,
                "streak_discount_enabled": False, "weekly_goal": False}
    row = request.dbsession.scalar(select(Celebration).where(
        Celebration.user_id == user.id, Celebration.course_key == course.course_key))
    return {
        "first_section": bool(row and row.celebrate_first_section),
        # No streak tracking exists: nothing to celebrate.
        "streak_length_to_celebrate": None,
        "streak_discount_enabled": False,
        "weekly_goal": bool(row and row.celebrate_weekly_goal),
    }


def entrance_exam_minimum_score(settings):
    """CourseOverview keeps the minimum as a fraction; an integer percentage is divided."""
    value = settings.get("entrance_exam_minimum_score_pct", DEFAULT_ENTRANCE_EXAM_MIN_SCORE)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return DEFAULT_ENTRANCE_EXAM_MIN_SCORE / 100
    return value / 100 if isinstance(value, int) else float(value)


def course_price(settings):
    price = settings.get("cosmetic_display_price")
    if isinstance(price, (int, float)) and not isinstance(price, bool) and price:
        return f"{CURRENCY_SYMBOL}{price}"
    return "Free"


def serialize_course_info(request, course, caller, enrollment):
    settings = course.settings or {}
    now = utcnow()
    access = CatalogAccess(request, caller)
    mode = enrollment.get("mode") if enrollment else None
    is_active = bool(enrollment and enrollment.get("is_active"))
    image_urls = serializers.image_urls(request, course)
    start_is_default = (course.advertised_start is None
                        and serializers.course_start(course) == DEFAULT_START)
    return {
        "access_expiration": access_expiration(course, enrollment, now),
        "content_type_gating_enabled": False,
        "course_goals": {"selected_goal": None, "weekly_learning_goal_enabled": False},
        "effort": course.effort,
        "end": isoformat(aware(course.end)),
        "enrollment": {"mode": mode, "is_active": is_active},
        "enrollment_start": isoformat(aware(course.enrollment_start)),
        "enrollment_end": isoformat(aware(course.enrollment_end)),
        "entrance_exam_data": {
            "entrance_exam_current_score": 0.0,
            # Entrance exams are a disabled feature (ENTRANCE_EXAMS), as by default upstream.
            "entrance_exam_enabled": False,
            "entrance_exam_id": settings.get("entrance_exam_id") or "",
            "entrance_exam_minimum_score_pct": entrance_exam_minimum_score(settings),
            "entrance_exam_passed": True,
        },
        "id": course.course_key,
        "license": settings.get("license"),
        "language": course.language,
        "media": {
            "course_image": {"uri": serializers.course_image_path(course)},
            "course_video": {"uri": serializers.course_video_url(course)},
            "image": image_urls,
        },
        "name": serializers.display_name_escaped(course),
        "offer": None,
        "related_programs": None,
        "short_description": course.short_description,
        "start": isoformat(serializers.course_start(course)),
        "start_display": serializers.start_display(course),
        "start_type": serializers.start_type(course),
        "pacing": serializers.pacing(course),
        "user_timezone": None,
        "show_calculator": bool(settings.get("show_calculator", False)),
        "can_access_proctored_exams": bool(is_active and mode != "audit"),
        "notes": {"enabled": False, "visible": bool(settings.get("edxnotes_visibility", True))},
        "marketing_url": None,
        "celebrations": celebrations(request, caller, course, enrollment),
        "user_has_passing_grade": False,
        "course_exit_page_is_active": False,
        "certificate_data": None,
        "verify_identity_url": None,
        "verification_status": "none",
        "linkedin_add_to_profile_url": None,
        "is_integrity_signature_enabled": False,
        "user_needs_integrity_signature": False,
        "learning_assistant_enabled": False,
        "show_courseware_link": access.can_load(course),
        "is_course_full": False,
        "can_enroll": access.can_enroll(course),
        "invitation_only": bool(course.invitation_only),
        "is_shib_course": str(settings.get("enrollment_domain") or "").startswith("shib:"),
        "allow_anonymous": course.course_visibility in PUBLIC_VISIBILITIES,
        "ecommerce_checkout": False,
        "single_paid_mode": {},
        "ecommerce_checkout_link": None,
        "course_image_urls": [image_urls["raw"], image_urls["small"], image_urls["large"]],
        "start_date_is_still_default": start_is_default,
        "advertised_start": course.advertised_start,
        "course_price": course_price(settings),
        "pre_requisite_courses": [],
        "about_sidebar_html": None,
        "display_number_with_default": serializers.display_number(course),
        "display_org_with_default": serializers.display_org(course),
        "overview": clean_overview(course),
    }


def clean_overview(course):
    """The about page's overview with dangerous HTML removed (upstream clean_dangerous_html)."""
    return sanitize_html(course.overview) if course.overview else course.overview


@course_info.get(schema=CourseInfoQuery(), validators=(colander_querystring_validator,),
                 responses={200: doc.COURSEWARE_COURSE, 404: "No such course (or not visible)."})
def get_course_info(request):
    """The learning MFE's course metadata (`?requested_fields=` keeps only those)."""
    course_key = parse_course_key(request.matchdict["course_key_string"])
    if course_key is None:
        raise not_found()
    detail_user = course_detail_user(request)
    course = api.get_course(request.dbsession, course_key)
    if course is None or not CatalogAccess(request, detail_user).see_exists(course):
        raise not_found()
    caller = request.user
    enrollment = enrollment_of(request, caller, course_key)
    body = serialize_course_info(request, course, caller, enrollment)
    if "requested_fields" in request.validated:
        wanted = set(request.validated["requested_fields"].split(","))
        body = {name: value for name, value in body.items() if name in wanted}
    # The learning MFE computes relative times from the server's clock.
    request.response.headers["Access-Control-Expose-Headers"] = "Date"
    return body


# -- GET /api/courseware/sequence/{usage_key_string} ------------------------------------------

def sequence_items(structure, node, visible, context, completions):
    parent = structure.blocks.get(node.parents[0]) if node.parents else None
    names = [display_name_with_default(parent) if parent is not None else "",
             display_name_with_default(node)]
    items = []
    for child_key in visible_children(structure, node, visible):
        child = structure.blocks[child_key]
        item = {
            "content": "",
            "page_title": display_name_with_default(child),
            "type": icon_class(structure, child_key, visible),
            "id": child_key,
            "bookmarked": False,
            "path": " > ".join([*names, display_name_with_default(child)]),
            "graded": bool(child.fields.get("graded", False)),
            "contains_content_type_gated_content": False,
            "href": "",
        }
        if context.user is not None and child.block_type == "vertical" and completions is not None:
            item["complete"] = vertical_is_complete(structure, child_key, visible, completions)
        items.append(item)
    return items


@sequence_metadata.get(responses={200: doc.SEQUENCE, 404: "No such sequence (or not visible).",
                                  422: "The block is not a sequence."})
def get_sequence_metadata(request):
    """A sequence's units, as the caller sees them (the learning MFE's sequence metadata)."""
    raw_key = request.matchdict["usage_key_string"]
    usage_key = parse_usage_key(raw_key)
    if usage_key is None:
        raise developer(404, f"Invalid usage key: '{raw_key}'.")
    course_key = course_key_of_usage(usage_key)
    if course_key is None:
        raise not_found("developer")
    db = request.dbsession
    user = request.user
    answer = api.may_see_block(request.registry, db, user, usage_key)
    # A sequence hidden after its due date is still described (is_hidden_after_due,
    # for the learning MFE's notice), but none of its units are listed, not even in
    # the anonymous public view (upstream lists them there).
    hidden_after_due = answer.verdict is api.Verdict.HIDDEN_AFTER_DUE
    if not (answer or hidden_after_due):
        raise not_found("developer")  # cannot be seen: as if it did not exist
    structure, node, access = answer.structure, answer.node, answer.access
    context = access.context
    visible = set() if hidden_after_due else access.visible_keys()
    if node.block_type not in SEQUENCE_TYPES:
        raise APIError(422, raw=b"")
    public_view = user is None
    completions = None
    if not public_view:
        hooks = request.registry["lms.plugin_manager"].hook
        completions = hooks.lms_block_completions(dbsession=db, user_id=user.id,
                                                  course_key=course_key)
    return {
        "items": sequence_items(structure, node, visible, context, completions),
        "element_id": usage_key.html_id(),
        "item_id": node.usage_key,
        "is_time_limited": bool(node.fields.get("is_time_limited", False)),
        "is_proctored": bool(node.fields.get("is_proctored_enabled", False)),
        # The learner's last position is user state; none is stored.
        "position": None,
        "tag": node.block_type,
        "next_url": None,
        "prev_url": None,
        "banner_text": None,
        "save_position": not public_view,
        "show_completion": not public_view,
        "gated_content": {
            "prereq_id": None,
            "prereq_url": None,
            "prereq_section_name": None,
            "gated": False,
            "gated_section_name": node.display_name,
        },
        "sequence_name": node.display_name,
        "exclude_units": True,
        "gated_sequence_paywall": None,
        "display_name": display_name_with_default(node),
        "format": node.fields.get("format"),
        "is_hidden_after_due": hidden_after_due,
        "navigation_disabled": bool(node.fields.get("hide_from_toc", False)),
    }


# -- GET /api/courseware/resume/{course_key_string} --------------------------------------------

@resume.get(responses={200: doc.RESUME})
def get_resume(request):
    """Where the caller left the course: the last block completed, its section and unit."""
    course_key = parse_course_key(request.matchdict["course_key_string"])
    if course_key is None:
        raise not_found("developer")
    body = {"block_id": None, "section_id": None, "unit_id": None}
    db = request.dbsession
    hooks = request.registry["lms.plugin_manager"].hook
    block_key = hooks.lms_resume_block(dbsession=db, user_id=request.user.id,
                                       course_key=course_key)
    if not block_key:
        return body
    answer = api.may_see_block(request.registry, db, request.user, block_key)
    if not answer or str(answer.course.course_key) != str(course_key):
        return body  # gone, or not to be seen now: nowhere to resume
    structure = answer.structure
    # The course → chapter → sequential → vertical path of the block.
    path = [*reversed(structure.ancestors(str(block_key))), str(block_key)]
    if len(path) < 4:
        return body
    return {"block_id": str(block_key), "section_id": path[2], "unit_id": path[3]}


# -- POST /api/courseware/celebration/{course_key_string} ---------------------------------------

class CelebrationBody(StrictMapping):
    # null counts as not given: upstream pops each key with a None default.
    first_section = colander.SchemaNode(StrictBoolean(null_is_missing=True), missing=None)
    weekly_goal = colander.SchemaNode(StrictBoolean(null_is_missing=True), missing=None)


@celebration.post(body=CelebrationBody(),
                  responses={200: doc.EMPTY, 201: doc.EMPTY, 400: "An empty 400.",
                             404: "Not enrolled, or no such course."})
def post_celebration(request):
    """Turn the caller's course celebrations (first section, weekly goal) on or off."""

    course_key = parse_course_key(request.matchdict["course_key_string"])
    if course_key is None:
        raise not_found("developer")
    body = request_data(request)
    try:
        wanted = CelebrationBody().deserialize(body)
    except colander.Invalid:
        # Unknown keys or values that are not booleans: upstream answers an empty 400.
        return empty_response(400)
    user = request.user
    if enrollment_of(request, user, course_key) is None:
        return empty_response(404)
    changes = {}
    if wanted["first_section"] is not None:
        changes["celebrate_first_section"] = wanted["first_section"]
    if wanted["weekly_goal"] is not None:
        changes["celebrate_weekly_goal"] = wanted["weekly_goal"]
    if not changes:
        return empty_response(200)
    db = request.dbsession
    row = db.scalar(select(Celebration).where(Celebration.user_id == user.id,
                                              Celebration.course_key == str(course_key)))
    created = row is None
    if created:
        row = Celebration(user_id=user.id, course_key=str(course_key))
        db.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    db.flush()
    return empty_response(201 if created else 200)


