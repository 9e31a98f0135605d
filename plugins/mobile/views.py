"""The mobile API, ``/api/mobile/{api_version}/`` (upstream ``lms/djangoapps/mobile_api``).

Every view is upstream's ``mobile_view()``: JWT, Bearer or session, any signed-in
user (anonymous: 401). Views on ``users/{username}`` add ``IsUserInUrl``: another
user's name is a 404, except for global staff, who get a 403. Views on a course
ask :func:`plugins.mobile.access.mobile_course` (the courses plugin's access rule).
"""
import re
from datetime import datetime
from urllib.parse import quote

import colander
from pyramid.httpexceptions import HTTPFound

from lms import permissions
from lms.errors import APIError, permission_denied
from lms.keys import parse_course_key, parse_usage_key
from lms.openapi import NO_BODY, Body
from lms.request import data_fields, request_data
from lms.responses import empty_response
from lms.routing import COURSE_ID, USERNAME
from lms.service import Service, colander_querystring_validator
from lms.timeutil import utcnow
from lms.models import User
from plugins.courses import api as courses
from plugins.mobile import api
from plugins.mobile import openapi_schemas as doc
from plugins.mobile.access import mobile_course
from plugins.mobile.enrollments import enrollments_body, user_body
from plugins.mobile.status import resume_block, save_visit, status_body

ACTIVITY_ENABLED_KEY = "mobile.record_user_activity"
MAX_USER_ID = 2**31 - 1  # larger ids cannot exist (and would overflow the database)
API_VERSION = r"{api_version:v0\.5|v1|v2|v3|v4}"
BASE = f"/api/mobile/{API_VERSION}"

my_user_info = Service("mobile.my_user_info", f"{BASE}/my_user_info")
user_detail = Service("mobile.user_detail", f"{BASE}/users/{USERNAME}")
course_enrollments = Service("mobile.course_enrollments",
                             f"{BASE}/users/{USERNAME}/course_enrollments/")
course_status_info = Service("mobile.course_status_info",
                             f"{BASE}/users/{USERNAME}/course_status_info/{COURSE_ID}")
record_user_activity = Service("mobile.record_user_activity",
                               f"{BASE}/course_info/record_user_activity")
course_handouts = Service("mobile.course_handouts", f"{BASE}/course_info/{COURSE_ID}/handouts")
course_updates = Service("mobile.course_updates", f"{BASE}/course_info/{COURSE_ID}/updates")

# mobile_api/errors.py
INVALID_MODIFICATION_DATE = {"errors": [{"code": "invalid-modification-date",
                                         "message": "Could not parse modification_date"}]}
INVALID_MODULE_ID = {"errors": [{"code": "invalid-module-id",
                                 "message": "Could not find module for module_id"}]}


def require_user_in_url(request):
    """``IsUserInUrl``: the caller's own username (ignoring case); global staff get a
    403 for anyone else, everyone else a 404 (the account's existence stays hidden)."""
    if permissions.is_user_in_url(request, request.matchdict["username"]):
        return
    if permissions.is_staff(request.user):
        raise permission_denied()
    raise permissions.hide()


def version(request):
    return request.matchdict["api_version"]


# -- my_user_info, users/{username} ----------------------------------------------------------

@my_user_info.get(responses={302: "Redirect to the caller's own `users/{username}`."})
def get_my_user_info(request):
    """Redirect to the caller's own user resource (relative URL, same version); the
    login time is updated as upstream's ``user_logged_in`` signal does."""
    request.user.last_login = utcnow()
    location = f"/api/mobile/{version(request)}/users/{quote(request.user.username)}"
    response = HTTPFound(location=location)
    # Relative, as Django's redirect() sends it.
    response.headers["Location"] = location
    return response


@user_detail.get(responses={200: doc.USER, 403: "Global staff naming another user.",
                            404: "Another user (non-staff callers)."})
def get_user_detail(request):
    """The caller's id, username, email, full name and the URL of their enrollments."""
    require_user_in_url(request)
    return user_body(request, version(request), request.user)


# -- course_enrollments ---------------------------------------------------------------------

class EnrollmentsQuery(colander.MappingSchema):
    org = colander.SchemaNode(colander.String(), missing=colander.drop)
    status = colander.SchemaNode(colander.String(), missing=colander.drop)
    requested_fields = colander.SchemaNode(colander.String(), missing=colander.drop)
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)


@course_enrollments.get(schema=EnrollmentsQuery(), validators=(colander_querystring_validator,),
                        responses={200: doc.ENROLLMENTS, 403: "Global staff naming another user.",
                                   404: "Another user (non-staff callers), or an invalid page."})
def get_course_enrollments(request):
    """The caller's active enrollments in mobile-available courses, newest first; the
    shape depends on the version (see :mod:`plugins.mobile.enrollments`)."""
    require_user_in_url(request)
    return enrollments_body(request, request.user, version(request), request.validated)


# -- course_status_info ---------------------------------------------------------------------

class StatusBody(colander.MappingSchema):
    """The PATCH body; unknown keys are ignored, as upstream reads only these two."""

    last_visited_module_id = colander.SchemaNode(colander.String(allow_empty=True),
                                                 missing=None)
    modification_date = colander.SchemaNode(colander.String(allow_empty=True), missing=None)


def parse_modification_date(text):
    """Django's ``parse_datetime``; a date without a time zone is refused."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def status_response(request, course):
    body = status_body(request, course, request.user)
    if version(request) == "v1" and request.method == "GET":
        body["last_visited_block_id"] = resume_block(request, course, request.user)
    return body


@course_status_info.get(responses={200: doc.COURSE_STATUS, 404: doc.ACCESS_ERROR})
def get_course_status(request):
    """The module the caller last visited in the course (v1 adds the block they
    completed last)."""
    require_user_in_url(request)
    course, _access = mobile_course(request, request.matchdict["course_id"])
    return status_response(request, course)


@course_status_info.patch(
    body=Body(StatusBody, "`last_visited_module_id` and an optional `modification_date` "
                          "(ISO 8601 with a time zone), JSON or form-encoded."),
    responses={200: doc.COURSE_STATUS, 400: doc.MOBILE_ERRORS, 404: doc.ACCESS_ERROR})
def patch_course_status(request):
    """Save the module the caller visited (unless ``modification_date`` is older than
    the saved visit) and answer the course status."""
    require_user_in_url(request)
    course, _access = mobile_course(request, request.matchdict["course_id"])
    data = request_data(request)
    if not isinstance(data, dict):
        # Upstream's request.data.get(...) fails (500) on a JSON array, scalar or null.
        raise APIError(400, {"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    fields = data
    try:
        body = StatusBody().deserialize({name: fields[name] for name in
                                         ("last_visited_module_id", "modification_date")
                                         if fields.get(name) is not None})
    except colander.Invalid as exc:
        errors = exc.asdict()
        raise APIError(400, INVALID_MODIFICATION_DATE if "modification_date" in errors
                       else INVALID_MODULE_ID)
    modification_date = None
    if body["modification_date"]:
        modification_date = parse_modification_date(body["modification_date"])
        if modification_date is None:
            raise APIError(400, INVALID_MODIFICATION_DATE)
    module_id = body["last_visited_module_id"]
    if module_id:
        usage_key = parse_usage_key(module_id)
        if usage_key is None or str(usage_key.course_key) != course.course_key:
            raise APIError(400, INVALID_MODULE_ID)
        if not save_visit(request, course, request.user, str(usage_key), modification_date):
            raise APIError(400, INVALID_MODULE_ID)
    return status_response(request, course)


# -- course_info ----------------------------------------------------------------------------

class ActivityBody(colander.MappingSchema):
    """``user_id`` and ``course_key``, JSON or form-encoded; other keys are ignored."""

    user_id = colander.SchemaNode(colander.String(), missing=None)
    course_key = colander.SchemaNode(colander.String(), missing=None)


def text_of(value):
    """A JSON number or string as text; anything else is not a usable value."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


@record_user_activity.post(
    body=Body(ActivityBody, "The learner's `user_id` and a `course_key`."),
    responses={200: NO_BODY, 400: doc.BARE_MESSAGE})
def post_record_user_activity(request):
    """Record that the user was active in the course today (once a day), when the
    course goals flag (``mobile.record_user_activity``) is on."""
    fields = data_fields(request)
    body = ActivityBody().deserialize({name: text_of(fields.get(name)) for name in
                                       ("user_id", "course_key")
                                       if text_of(fields.get(name))})
    if not body["user_id"] or not body["course_key"]:
        raise APIError(400, "User id and course key are required")
    user = None
    if re.fullmatch(r"\s*[+-]?\d{1,18}\s*", body["user_id"]):
        user_id = int(body["user_id"])
        if 0 < user_id <= MAX_USER_ID:
            user = request.dbsession.get(User, user_id)
    if user is None:
        raise APIError(400, "Provided user id does not correspond to an existing user")
    course_key = parse_course_key(body["course_key"])
    if course_key is None:
        raise APIError(400, "Provided course key is not valid")
    if request.registry[ACTIVITY_ENABLED_KEY]:
        api.record_activity(request.dbsession, user.id, course_key, utcnow().date())
    return empty_response(200)


QUOTED_URL_RE = re.compile(r"""(?P<quote>["'])(?P<url>/(?:asset-v1:|c4x/|course/|jump_to_id/)"""
                           r"""[^"']*)(?P=quote)""")


def wrap_content(request, course, html):
    """Upstream's ``apply_wrappers_to_content``: ``/static/`` → asset URLs (a no-op on
    HTML the courses api already rewrote), ``/course/`` → the course's pages,
    ``/jump_to_id/`` → the course's jump_to_id, then made absolute."""
    html = courses.replace_static_urls(html, course.course_key)
    root = request.application_url

    def replace(match):
        url = match.group("url")
        if url.startswith("/course/"):
            url = f"/courses/{course.course_key}/{url[len('/course/'):]}"
        elif url.startswith("/jump_to_id/"):
            url = f"/courses/{course.course_key}/jump_to_id/{url[len('/jump_to_id/'):]}"
        return f"{match.group('quote')}{root}{url}{match.group('quote')}"

    return QUOTED_URL_RE.sub(replace, html)


@course_handouts.get(responses={200: doc.HANDOUTS, 404: doc.ACCESS_ERROR})
def get_course_handouts(request):
    """The course's handouts HTML (``info/handouts.html``), or null."""
    course, _access = mobile_course(request, request.matchdict["course_id"])
    html = courses.info_html(course, "handouts")
    if html is None or html == "<ol></ol>":
        return {"handouts_html": None}
    return {"handouts_html": wrap_content(request, course, html)}


@course_updates.get(responses={200: doc.UPDATES, 404: doc.ACCESS_ERROR})
def get_course_updates(request):
    """The course's updates, newest first, deleted ones left out."""
    from plugins.mobile.updates import update_items

    course, _access = mobile_course(request, request.matchdict["course_id"])
    items = [item for item in update_items(courses.update_items(course),
                                           courses.info_html(course, "updates"))
             if item.get("status") != "deleted"]
    for item in items:
        item["content"] = wrap_content(request, course, item.get("content") or "")
    return items
