"""enrollment: who is in which course run, in which mode (upstream enrollments and
course modes).

Its one name, ``enrollment``, is its settings prefix, table prefix (``enrollment_*``),
alembic branch and service-name prefix.

- :mod:`.models`: enrollments, their history and attributes, course modes, allowed
  enrollments;
- :mod:`.api`: the Python API other plugins may import (look-ups, enroll/unenroll);
- the hooks below answer what the courses, accounts and experiments plugins ask.
"""
from lms.hookspecs import hookimpl

name = "enrollment"
version = "0.1.0"
requires = ("courses", "accounts")


@hookimpl
def lms_get_enrollment(dbsession, user_id, course_key):
    from plugins.enrollment import api

    return api.get_enrollment(dbsession, user_id, course_key)


@hookimpl
def lms_get_enrollments(dbsession, user_id, course_keys):
    from plugins.enrollment import api

    return api.get_enrollments(dbsession, user_id, course_keys)


@hookimpl
def lms_enrollment_orgs(dbsession, user_id):
    from plugins.enrollment import api

    return api.enrollment_orgs(dbsession, user_id)


@hookimpl
def lms_has_non_audit_enrollments(dbsession, user_id):
    from plugins.enrollment import api

    return api.has_non_audit_enrollments(dbsession, user_id)


@hookimpl
def lms_retire_user(dbsession, user, retired_username, retired_email):
    from plugins.enrollment import api

    api.retire_user(dbsession, user)


@hookimpl
def lms_username_replaced(dbsession, user_id, old_username, new_username):
    # Every table keys people by user id (allowed enrollments by email), so a
    # rename changes no row here.
    return None
