"""The course modes API, ``/api/course_modes/v1/courses/{course_id}/`` and
``.../{mode_slug}`` (upstream ``course_modes.rest_api.v1.views``).

Who may call it (``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS``, scope
``course_modes:read`` for every method): global staff; or a restricted application's
JWT carrying that scope and a ``content_org`` filter for the course's org (and, when
it has a ``user`` filter, naming that user in ``?username=``). Upstream's composite
also admits any signed-in user who names themself in ``?username=`` (``IsUserInUrl``),
which would let every learner set prices; openlms keeps this API to staff.

Upstream answers an invalid course key, a mode breaking the model's rules, a duplicate
slug and a course that does not exist with a server error; openlms answers 400 (404
for the unknown course of a new mode, as upstream's documentation says).
"""
from lms import permissions
from lms.auth import STANDARD_AUTH
from lms.errors import APIError, not_found, permission_denied
from lms.keys import parse_course_key
from lms.openapi import Body, NO_BODY
from lms.request import DEFAULT_MEDIA_TYPES, MERGE_PATCH, query_params, request_data
from lms.responses import no_content
from lms.routing import COURSE_ID
from lms.schemas import drf_validated
from lms.service import Service
from lms.timeutil import isoformat
from plugins.courses import api as courses_api
from plugins.enrollment import course_modes
from plugins.enrollment import course_modes_schemas as schemas

BASE = f"/api/course_modes/v1/courses/{COURSE_ID}"
REQUIRED_SCOPE = "course_modes:read"
UNCHANGEABLE = ("course_id", "mode_slug")

modes_list = Service("enrollment.course_modes", BASE + "/", auth=STANDARD_AUTH,
                     accept_restricted=True)
# Upstream's slug pattern is ``.*``: anything after the course's slash.
mode_detail = Service("enrollment.course_mode", BASE + "/{mode_slug:.+}", auth=STANDARD_AUTH,
                      accept_restricted=True)

ACCESS_RESPONSES = {400: "An invalid course key.",
                    403: "Not global staff, or a restricted application's token without "
                         "the scope or the course's org."}


def serialize(mode):
    return {
        "course_id": mode.course_key,
        "mode_slug": mode.mode_slug,
        "mode_display_name": mode.mode_display_name,
        "min_price": mode.min_price,
        "currency": mode.currency,
        "expiration_datetime": isoformat(mode.expiration_datetime),
        "expiration_datetime_is_explicit": bool(mode.expiration_datetime_is_explicit),
        "description": mode.description,
        "sku": mode.sku,
        "bulk_sku": mode.bulk_sku,
    }


def invalid_key(field, value):
    return APIError(400, {field: [f"'{value}' is not a valid course key."]})


def restricted_payload(request):
    payload = request.authentication.jwt_payload
    return payload if payload and payload.get("is_restricted") else None


def jwt_filters(payload):
    return [str(item).partition(":")[::2] for item in payload.get("filters") or ()]


def check_access(request):
    """Upstream's permission classes, run before anything else; returns the URL's course
    key (an invalid one is a 400 once the caller may call at all)."""
    payload = restricted_payload(request)
    if payload is None:
        permissions.require(permissions.is_staff(request.user))
    elif REQUIRED_SCOPE not in request.authentication.scopes:
        raise permission_denied()
    raw_key = request.matchdict["course_id"]
    course_key = parse_course_key(raw_key)
    if course_key is None:
        raise invalid_key("course_id", raw_key)
    if payload is not None:
        require_org_filter(payload, course_key)
        filters = jwt_filters(payload)
        user_filter = next((value for kind, value in filters if kind == "user"), None)
        if user_filter is not None:
            if user_filter == "me":
                user_filter = request.user.username.lower()
            named = str(query_params(request).get("username") or "").lower()
            permissions.require(user_filter == named)
    return course_key


def require_org_filter(payload, course_key):
    """``JwtHasContentOrgFilterForRequestedCourse``."""
    permissions.require(("content_org", course_key.org) in jwt_filters(payload))


def get_mode_or_404(request, course_key):
    mode = course_modes.get_mode(request.dbsession, course_key, request.matchdict["mode_slug"])
    if mode is None:
        raise not_found()
    return mode


def rule_error(exc):
    return APIError(400, {"non_field_errors": [str(exc)]})


@modes_list.get(query=schemas.USERNAME_QUERY,
                responses={200: schemas.COURSE_MODES, **ACCESS_RESPONSES})
def get_course_modes(request):
    """Every mode of a course, expired ones too (not paginated; none: an empty list)."""
    course_key = check_access(request)
    return [serialize(mode) for mode in course_modes.list_modes(request.dbsession, course_key)]


@modes_list.post(body=schemas.CourseModeBody(), query=schemas.USERNAME_QUERY,
                 responses={201: schemas.COURSE_MODE, **ACCESS_RESPONSES,
                            400: "Invalid fields, a mode breaking the model's rules, or a "
                                 "slug the course already has.",
                            404: "No such course."})
def post_course_modes(request):
    """Add a mode to a course.

    The course is the body's ``course_id`` (as upstream, not the URL's); ``course_id``,
    ``mode_slug``, ``mode_display_name`` and ``currency`` are required, ``min_price`` is
    a whole number (default 0). A JSON body, a form or multipart.
    """
    check_access(request)
    fields = drf_validated(schemas.CourseModeBody(), request_data(request, DEFAULT_MEDIA_TYPES))
    course_key = parse_course_key(fields["course_id"])
    if course_key is None:
        raise invalid_key("course_id", fields["course_id"])
    payload = restricted_payload(request)
    if payload is not None:
        require_org_filter(payload, course_key)
    if courses_api.get_course(request.dbsession, course_key) is None:
        raise not_found()
    try:
        mode = course_modes.create_mode(request.dbsession, course_key, fields["mode_slug"],
                                        fields)
    except course_modes.InvalidMode as exc:
        raise rule_error(exc)
    except course_modes.DuplicateMode:
        raise APIError(400, {"non_field_errors": [
            "The fields course_id, mode_slug must make a unique set."]})
    request.response.status_code = 201
    return serialize(mode)


@mode_detail.get(query=schemas.USERNAME_QUERY,
                 responses={200: schemas.COURSE_MODE, **ACCESS_RESPONSES,
                            404: "No such mode in this course."})
def get_course_mode(request):
    """One mode of a course."""
    return serialize(get_mode_or_404(request, check_access(request)))


@mode_detail.patch(body=Body(schemas.CourseModeChange(), media_type=MERGE_PATCH),
                   query=schemas.USERNAME_QUERY,
                   responses={204: NO_BODY, **ACCESS_RESPONSES,
                              400: "Invalid fields, a course or slug in the body, or a "
                                   "change breaking the model's rules.",
                              404: "No such mode in this course.",
                              415: "Not application/merge-patch+json."})
def patch_course_mode(request):
    """Change a mode (a JSON merge patch; ``course_id`` and ``mode_slug`` cannot change).

    Answers 204 with no body.
    """
    mode = get_mode_or_404(request, check_access(request))
    fields = drf_validated(schemas.CourseModeChange(), request_data(request, (MERGE_PATCH,)))
    fixed = {name: ["This field cannot be modified."] for name in UNCHANGEABLE if name in fields}
    if fixed:
        raise APIError(400, fixed)
    try:
        course_modes.update_mode(request.dbsession, mode, fields)
    except course_modes.InvalidMode as exc:
        raise rule_error(exc)
    response = no_content()
    response.content_type = "application/json"  # upstream's Response(content_type=...)
    return response


@mode_detail.delete(query=schemas.USERNAME_QUERY,
                    responses={204: NO_BODY, **ACCESS_RESPONSES,
                               404: "No such mode in this course."})
def delete_course_mode(request):
    """Remove a mode from a course."""
    mode = get_mode_or_404(request, check_access(request))
    course_modes.delete_mode(request.dbsession, mode)
    return no_content()
