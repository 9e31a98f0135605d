"""``mobile_course_access``: may the caller use a course's content in the app?

The decision is the courses plugin's (``has_access(user, "load_mobile", course)``
through :func:`plugins.courses.api.load_error`); this module only shapes upstream's
answers: an access error is a 404 whose body is the AccessResponse JSON, an unknown
course or a caller neither enrolled nor course staff a plain DRF 404.
"""
from lms.errors import APIError, not_found
from lms.keys import parse_course_key
from plugins.courses import api as courses

# AccessError messages of upstream's courseware/access_response.py.
MESSAGES = {
    "mobile_unavailable": ("Course is not available on mobile for this user",
                           "You do not have access to this course on a mobile device"),
    "not_visible_to_user": ("Course is not visible to this user",
                            "You do not have access to this course"),
    "audit_expired": ("User does not have access to this course because their audit access "
                      "has expired", "Access to this course has expired"),
}


def access_json(error_code=None, developer_message=None, user_message=None):
    """``AccessResponse.to_json()``: granted when ``error_code`` is None."""
    return {
        "has_access": error_code is None,
        "error_code": error_code,
        "developer_message": developer_message,
        "user_message": user_message,
        "additional_context_user_message": None,
        "user_fragment": None,
    }


def error_json(error_code, course):
    """The AccessResponse JSON of a denial (``error_code`` from ``load_error``)."""
    if error_code is None:
        return access_json()
    if error_code == "course_not_started":
        if course.start is None:
            return access_json(error_code, "Course has not started", "Course has not started")
        start = courses.course_start(course)
        return access_json(error_code, f"Course does not start until {start}",
                           f"Course does not start until {start:%B %d, %Y}")
    if error_code == "old_mongo":
        name = course.display_name or course.course_key
        return access_json(error_code, "Access to Old Mongo courses is unsupported",
                           f"{name} is no longer available.")
    developer_message, user_message = MESSAGES[error_code]
    return access_json(error_code, developer_message, user_message)


def mobile_course(request, course_id):
    """``(course, access)`` for the caller, or the 404 upstream answers.

    Upstream's order: the course must exist; ``load_mobile`` access errors come
    first (404 with their JSON); then a caller neither enrolled nor course staff gets
    a plain 404.
    """
    key = parse_course_key(course_id)
    course = courses.get_course(request.dbsession, key) if key is not None else None
    if course is None:
        raise not_found()
    access = courses.course_access(request, request.user)
    error = courses.load_error(access, course, mobile=True)
    if error is not None:
        raise APIError(404, error_json(error, course))
    if not (access.is_staff(course) or access.is_enrolled(course)):
        raise not_found()
    return course, access
