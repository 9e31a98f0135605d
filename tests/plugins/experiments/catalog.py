"""A test-only plugin answering the course and enrollment look-ups from fixture data.

Tests fill :data:`COURSES` and :data:`ENROLLMENTS` (the ``catalog`` fixture
empties them); the real answers will come from the courses and enrollment plugins.
"""
from lms.hookspecs import hookimpl

name = "testcatalog"
version = "1.0"
requires = ()

COURSES = {}  # str(course_key) -> lms_get_course dict
ENROLLMENTS = {}  # (user_id, str(course_key)) -> lms_get_enrollment dict


@hookimpl
def lms_get_course(dbsession, course_key):
    return COURSES.get(str(course_key))


@hookimpl
def lms_get_enrollment(dbsession, user_id, course_key):
    return ENROLLMENTS.get((user_id, str(course_key)))


@hookimpl
def lms_has_non_audit_enrollments(dbsession, user_id):
    return any(enrollment["mode"] not in ("audit", "honor")
               for (owner, _), enrollment in ENROLLMENTS.items() if owner == user_id)
