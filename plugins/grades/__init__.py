"""grades: learners answer problems and their work counts (upstream grades, completion,
certificates, course_home and course_experience).

Its one name, ``grades``, is its settings prefix, table prefix (``grades_*``), alembic
branch and service-name prefix.

- :mod:`.capa`, :mod:`.problems`: problem OLX evaluated, learner state per block, served
  through the XBlock handler URLs the courses plugin signs (:mod:`.views.handler`);
- :mod:`.scores`: every score (problems, ``lms_report_score``, overrides) with its history;
- :mod:`.grading`: upstream's grade arithmetic; :mod:`.course_grades`: grades computed,
  persisted and recomputed (:mod:`.tasks`);
- :mod:`.course_home`: course goals, the welcome message and personal deadlines
  (course_home and course_experience);
- :mod:`.completion`: block completion (scored blocks, ``publish_completion``, the
  completion API), answering the courses plugin's ``lms_block_completions`` and
  ``lms_resume_block``;
- :mod:`.certificates`: certificates generated as learners pass (statuses as upstream),
  served by :mod:`.views.certificates` (the certificates API and the web certificate).
"""
from lms.hookspecs import hookimpl

name = "grades"
version = "0.1.0"
requires = ("courses", "enrollment", "accounts")


@hookimpl
def lms_default_settings():
    from plugins.grades.settings import DEFAULTS

    return dict(DEFAULTS)


@hookimpl
def lms_includeme(config):
    from pyramid.exceptions import ConfigurationError

    settings = config.get_settings()
    for name in ("grades.sync_refresh_max_blocks", "grades.recompute_batch_size",
                 "grades.freeze_days"):
        value = str(settings.get(name, "") or "").strip()
        # A bad number stops the start-up rather than the first request that reads it.
        if value and (not value.isdigit() or (name != "grades.freeze_days" and value == "0")):
            raise ConfigurationError(f"{name} must be a positive whole number, not {value!r}")
    config.scan("plugins.grades.views")


@hookimpl
def lms_permission_matrix():
    from plugins.grades.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_cli_commands():
    from plugins.grades.commands import all_commands

    return all_commands()


@hookimpl
def lms_course_published(dbsession, course_key, version):
    from plugins.grades.course_grades import on_course_published

    on_course_published(dbsession, course_key, version)


@hookimpl
def lms_celery_setup(celery_app):
    import plugins.grades.tasks  # noqa: F401  (declares grades.refresh, grades.recompute_course)


@hookimpl
def lms_report_score(dbsession, user_id, course_key, usage_key, earned, possible, source,
                     actor_id, reason):
    from plugins.grades.scores import record_score

    record_score(dbsession, user_id=user_id, course_key=course_key, usage_key=usage_key,
                 earned=earned, possible=possible, source=source, actor_id=actor_id,
                 reason=reason)


@hookimpl
def lms_retire_user(dbsession, user):
    from plugins.grades.certificates import retire_user

    retire_user(dbsession, user.id)


@hookimpl
def lms_block_completions(dbsession, user_id, course_key):
    from plugins.grades.completion import completions_for

    return completions_for(dbsession, user_id, course_key)


@hookimpl
def lms_resume_block(dbsession, user_id, course_key):
    from plugins.grades.completion import resume_block

    return resume_block(dbsession, user_id, course_key)


@hookimpl
def lms_downloadable_certificates(dbsession, user_id, course_keys):
    from plugins.grades.certificates import downloadable_paths

    return downloadable_paths(dbsession, user_id, course_keys)
