"""mobile: the Open edX mobile API (``/api/mobile/{api_version}/``, upstream
``lms/djangoapps/mobile_api``) for the versions the apps call: v0.5, v1, v2, v3, v4.

Its one name, ``mobile``, is its settings prefix (``mobile.*``), table prefix
(``mobile_*``), alembic branch and service-name prefix.

- :mod:`.views`: the endpoints (user info, course enrollments, course status, course
  info handouts and updates, user activity);
- :mod:`.access`: ``mobile_course_access`` (the courses plugin's access rule, asked
  through its api, with upstream's 404 bodies);
- :mod:`.enrollments`: the course enrollment list and its per-version shapes;
- :mod:`.api`: last visited positions and activity days (:mod:`.models`).

Courses come from the courses plugin, enrollments and course modes from the
enrollment plugin, preferences from the accounts plugin (their ``api`` modules).
"""
from lms.hookspecs import hookimpl
from lms.settings import as_bool

name = "mobile"
version = "0.1.0"
requires = ("courses", "enrollment", "accounts")


@hookimpl
def lms_default_settings():
    return {
        # Upstream's course goals flag: record_user_activity records a day of
        # activity only when it is on (off: 200 and nothing recorded).
        "mobile.record_user_activity": "true",
    }


@hookimpl
def lms_includeme(config):
    from plugins.mobile.views import ACTIVITY_ENABLED_KEY

    # Parsed once here; views read the registry, never the raw settings.
    config.registry[ACTIVITY_ENABLED_KEY] = as_bool(config.get_settings(),
                                                    "mobile.record_user_activity")
    config.scan("plugins.mobile.views")


@hookimpl
def lms_feature_toggles(settings):
    return [{
        "name": "mobile.record_user_activity",
        "type": "setting_toggle",
        "is_active": as_bool(settings, "mobile.record_user_activity"),
        "note": "Course goals: record the days a learner uses a course in the mobile app.",
    }]


@hookimpl
def lms_permission_matrix():
    from plugins.mobile.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_retire_user(dbsession, user, retired_username, retired_email):
    from plugins.mobile import api

    api.delete_user_data(dbsession, user.id)


@hookimpl
def lms_username_replaced(dbsession, user_id, old_username, new_username):
    # Rows are keyed by user id: a rename changes nothing here.
    return None
