"""teams: Open edX teams (``/api/team/v0/``): a course's teamsets from its policy's
``teams_configuration`` and the teams learners form in them.

Its one name, ``teams``, is its settings prefix, table prefix (``teams_*``), alembic
branch and service-name prefix.

- :mod:`.config`: the course's teamsets (through the courses plugin's public api);
- :mod:`.access`: upstream's rules (staff privileges, enrollment, organization
  protection, private teamsets);
- :mod:`.views.teams`: topics, the teams list and creation, one team (read, change,
  delete) and its assignments (team ORA blocks); :mod:`.views.memberships`: joining,
  listing and leaving teams; :mod:`.views.bulk`: the membership CSV out and back in;
- :mod:`.memberships`: members leave with their enrollment or retirement.

``expand=user`` (teams) and ``expand=user,team`` (memberships) expand accounts and teams.
"""
from lms.hookspecs import hookimpl

name = "teams"
version = "0.1.0"
requires = ("courses", "enrollment", "accounts")


@hookimpl
def lms_default_settings():
    return {
        # Upstream's ENABLE_ORA_TEAM_SUBMISSIONS: teams/{team_id}/assignments lists a
        # team's open response assessments only when on (503 otherwise).
        "teams.ora_team_submissions": "false",
    }


@hookimpl
def lms_includeme(config):
    config.scan("plugins.teams.views")


@hookimpl
def lms_permission_matrix():
    from plugins.teams.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_enrollment_changed(dbsession, user_id, course_key, mode, is_active):
    if not is_active:
        from plugins.teams import memberships

        memberships.remove_from_course(dbsession, user_id, course_key)


@hookimpl
def lms_retire_user(dbsession, user):
    from plugins.teams import memberships

    memberships.remove_everywhere(dbsession, user.id)


@hookimpl
def lms_username_replaced(dbsession, user_id, old_username, new_username):
    # Memberships name people by user id: a rename changes no row here (the CSV and the
    # APIs read the current username).
    return None
