"""enrollment: who is in which course run, in which mode (upstream enrollments and
course modes).

Its one name, ``enrollment``, is its settings prefix, table prefix (``enrollment_*``),
alembic branch and service-name prefix.

- :mod:`.models`: enrollments, their history and attributes, course modes, allowed
  enrollments;
- :mod:`.api`: the Python API other plugins may import (look-ups, enroll/unenroll);
- :mod:`.embargo`: country access rules (``lms embargo``, :mod:`.embargo_commands`),
  checked by enrollment and ``/api/embargo/v1/course_access/``;
- the hooks below answer what the courses, accounts and experiments plugins ask.
"""
from lms.hookspecs import hookimpl

name = "enrollment"
version = "0.1.0"
requires = ("courses", "accounts")


@hookimpl
def lms_default_settings():
    return {
        # Enrollment API throttle (upstream EnrollmentUserThrottle): per user, and for
        # global staff and superusers; X-Edx-Api-Key callers are never throttled.
        "enrollment.throttle_rate": "40/m",
        "enrollment.throttle_staff_rate": "120/m",
        # Country access rules (upstream FEATURES["EMBARGO"], off there by default; here a
        # course is restricted only once an operator adds rules with `lms embargo ...`).
        "enrollment.embargo_enabled": "true",
        # A MaxMind DB file (GeoIP2/GeoLite2 Country or City) giving the country of an
        # IP address; empty: no GeoIP look-ups.
        "enrollment.geoip_database": "",
        # Without a GeoIP database: a header holding the client's country code (such as
        # CF-IPCountry), believed only from lms.trusted_proxies; empty: none.
        "enrollment.country_header": "",
    }


@hookimpl
def lms_includeme(config):
    from lms.settings import parse_rate

    settings = config.get_settings()
    rates = {"user": settings["enrollment.throttle_rate"],
             "staff": settings["enrollment.throttle_staff_rate"]}
    for rate in rates.values():
        parse_rate(rate)  # a bad rate stops the start-up
    config.registry["enrollment.throttle_rates"] = rates
    from plugins.enrollment import embargo

    embargo.configure(config)  # opens the GeoIP database (a bad path stops the start-up)
    config.scan("plugins.enrollment.views")


@hookimpl
def lms_permission_matrix():
    from plugins.enrollment.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_course_modes(dbsession, course_keys):
    from plugins.enrollment.course_modes import modes_by_course

    return modes_by_course(dbsession, course_keys)


@hookimpl
def lms_cli_commands():
    from plugins.enrollment.commands import all_commands
    from plugins.enrollment.embargo_commands import COMMANDS as embargo_commands

    return all_commands() + embargo_commands


@hookimpl
def lms_user_created(dbsession, user):
    # Allowed enrollments with auto_enroll (bulk enrollment of an unregistered email).
    from plugins.enrollment import api

    api.apply_allowed_enrollments(dbsession, user)


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
def lms_retire_user(dbsession, user, retired_username, retired_email, original_email):
    from plugins.enrollment import api, cohorts

    api.retire_user(dbsession, user, original_email)
    api.retire_manual_enrollments(dbsession, user, retired_email,
                                  {(email or "").lower() for email in (user.email, original_email)}
                                  | {user.email, original_email})
    cohorts.retire_user(dbsession, user, original_email)


@hookimpl
def lms_enrollment_changed(dbsession, user_id, course_key, mode, is_active):
    # A learner enrolling in a cohorted course is placed in a cohort at once (after the
    # enrollment commits, in the hook's own session); one a failure leaves out is
    # placed when the content groups are next asked (lms_user_partition_groups).
    if not is_active:
        return
    from sqlalchemy.exc import SQLAlchemyError

    from plugins.enrollment import cohorts

    try:
        with dbsession.begin_nested():
            cohorts.place_learner(dbsession, user_id, course_key)
    except SQLAlchemyError:
        import logging

        logging.getLogger(__name__).exception("placing user %s in a cohort of %s failed",
                                              user_id, course_key)


@hookimpl
def lms_user_partition_groups(dbsession, user_id, course_key):
    from plugins.enrollment import cohorts

    return cohorts.user_partition_groups(dbsession, user_id, course_key)


@hookimpl
def lms_users_partition_groups(dbsession, user_ids, course_key):
    from plugins.enrollment import cohorts

    return cohorts.users_partition_groups(dbsession, user_ids, course_key)


@hookimpl
def lms_username_replaced(dbsession, user_id, old_username, new_username):
    # Every table keys people by user id (allowed enrollments by email), so a
    # rename changes no row here.
    return None


@hookimpl
def lms_bench_dataset(dataset):
    from plugins.enrollment.bench import add_dataset

    add_dataset(dataset)


@hookimpl
def lms_bench_scenarios(size):
    from plugins.enrollment.bench import scenarios

    return scenarios(size)
