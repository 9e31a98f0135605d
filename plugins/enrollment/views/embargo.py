"""``GET /api/embargo/v1/course_access/`` (upstream ``embargo.views.CheckCourseAccessView``):
may a user, from an address, reach these courses? Asked by services (ecommerce) with a
staff identity before selling a seat."""
from lms import permissions
from lms.auth import DEFAULT_AUTH
from lms.errors import APIError
from lms.keys import parse_course_key
from lms.models import User
from lms.service import Service, colander_querystring_validator
from lms.users import find_by_identity
from plugins.enrollment import embargo
from plugins.enrollment.schemas_embargo import (COURSE_ACCESS, COURSE_ACCESS_ERROR,
                                                CourseAccessQuery)

course_access = Service("enrollment.embargo_course_access", "/api/embargo/v1/course_access/",
                        auth=DEFAULT_AUTH)


def split_addresses(value):
    """``ip_address`` may carry an X-Forwarded-For style list: check every address."""
    return [item.strip() for item in value.split(",") if item.strip()]


@course_access.get(schema=CourseAccessQuery(), validators=(colander_querystring_validator,),
                   responses={200: COURSE_ACCESS,
                              400: COURSE_ACCESS_ERROR,
                              403: "The caller is not global staff."})
def get_embargo_course_access(request):
    """Whether a user at an address may access every listed course.

    Global staff only. Needs ``course_ids`` (repeatable), ``user`` (an existing
    username) and ``ip_address``; answers ``{"access": false}`` as soon as one course
    refuses, ``["Missing parameters"]`` (400) when one is missing or the user is
    unknown, and ``["Invalid course_ids"]`` (400) for a malformed key met before any
    refusal.
    """
    permissions.require(permissions.is_staff(request.user))
    query = request.validated
    course_ids = query.get("course_ids") or []
    username = query.get("user")
    addresses = split_addresses(query.get("ip_address") or "")
    user = find_by_identity(request.dbsession, User.username, username) if username else None
    if not (course_ids and user is not None and addresses):
        raise APIError(400, ["Missing parameters"])
    keys = [parse_course_key(course_id) for course_id in course_ids]
    checker = embargo.AccessChecker(
        request.registry, request.dbsession, user,
        embargo.address_countries(request.registry, addresses),
        [key for key in keys if key is not None])
    # Upstream checks the courses in order: a refusal ends the check before a later
    # malformed key is read.
    for key in keys:
        if key is None:
            raise APIError(400, ["Invalid course_ids"])
        if not checker.allows(key):
            return {"access": False}
    return {"access": True}
