"""The enrollment API's JSON shapes (upstream ``enrollments/serializers.py``).

- :func:`course_details`: ``CourseSerializer`` (a course run's enrollment facts and
  its modes);
- :func:`enrollment_body`: ``CourseEnrollmentSerializer``;
- :func:`enrollment_list_item`: ``CourseEnrollmentsApiListSerializer``.

:func:`load_course_details` builds the course details of many courses in two queries
(the courses, then their modes), so lists cost the same whatever their length.
"""
from lms.timeutil import isoformat
from plugins.courses import api as courses_api
from plugins.enrollment import api

# Upstream's CourseMode.DEFAULT_MODE: what a course without configured modes offers.
DEFAULT_MODE_BODY = {
    "slug": "audit",
    "name": "Audit",
    "min_price": 0,
    "suggested_prices": "",
    "currency": "usd",
    "expiration_datetime": None,
    "description": None,
    "sku": None,
    "bulk_sku": None,
}


def mode_body(mode):
    """``ModeSerializer``; ``suggested_prices`` stays a comma-separated string."""
    return {
        "slug": mode.mode_slug,
        "name": mode.mode_display_name,
        "min_price": mode.min_price,
        "suggested_prices": getattr(mode, "suggested_prices", None) or "",
        "currency": mode.currency,
        "expiration_datetime": isoformat(mode.expiration_datetime),
        "description": mode.description,
        "sku": mode.sku,
        "bulk_sku": mode.bulk_sku,
    }


def course_details(course, modes):
    """``CourseSerializer`` of a courses-plugin Course and its CourseMode rows."""
    return {
        "course_id": course.course_key,
        "course_name": course.display_name,
        "enrollment_start": isoformat(course.enrollment_start),
        "enrollment_end": isoformat(course.enrollment_end),
        "course_start": isoformat(course.start),
        "course_end": isoformat(course.end),
        "invite_only": bool(course.invitation_only),
        "course_modes": [mode_body(mode) for mode in modes] or [dict(DEFAULT_MODE_BODY)],
        "pacing_type": "Self Paced" if course.self_paced else "Instructor Paced",
    }


def load_courses(db, course_keys):
    """``{course key string: Course}`` of the courses that exist (one query)."""
    return courses_api.get_courses(db, course_keys)


def load_course_details(db, course_keys, include_expired=False):
    """``{course key string: course details}`` of the courses that exist, in two queries."""
    courses = load_courses(db, course_keys)
    modes = api.modes_for_courses(db, list(courses), include_expired=include_expired)
    return {key: course_details(course, modes.get(key, ())) for key, course in courses.items()}


def enrollment_body(row, username, details):
    """``CourseEnrollmentSerializer``: ``details`` is None when the course is gone."""
    return {
        "created": isoformat(row.created),
        "mode": row.mode,
        "is_active": row.is_active,
        "course_details": details,
        "user": username,
    }


def enrollment_list_item(row, username):
    """``CourseEnrollmentsApiListSerializer``: the enrollment without its course details."""
    return {
        "created": isoformat(row.created),
        "mode": row.mode,
        "is_active": row.is_active,
        "user": username,
        "course_id": row.course_key,
    }
