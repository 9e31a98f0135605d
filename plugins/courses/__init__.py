"""courses: course content (OLX import), catalog, course blocks, outline, courseware,
organizations.

Its one name, ``courses``, is its settings prefix, table prefix
(``courses_*``), alembic branch and service-name prefix. Other plugins use
:mod:`plugins.courses.api` and the ``lms_get_course`` hook.
"""
from lms.hookspecs import hookimpl
from lms.settings import as_int

name = "courses"
version = "0.1.0"
requires = ()


@hookimpl
def lms_default_settings():
    return {
        # Built block trees kept in memory per process (one per course version).
        "courses.structure_cache_size": "64",
    }


@hookimpl
def lms_includeme(config):
    from plugins.courses.api import STRUCTURE_CACHE_KEY
    from plugins.courses.structure import StructureCache

    settings = config.get_settings()
    config.registry[STRUCTURE_CACHE_KEY] = StructureCache(
        as_int(settings, "courses.structure_cache_size"))
    config.scan("plugins.courses.views")


@hookimpl
def lms_get_course(dbsession, course_key):
    from plugins.courses import api

    course = api.get_course(dbsession, course_key)
    return None if course is None else api.course_summary(course)


@hookimpl
def lms_cli_commands():
    from plugins.courses.commands import COMMANDS

    return COMMANDS


@hookimpl
def lms_bootstrap(registry, dbsession, echo):
    from plugins.courses.commands import bootstrap_sample_course

    bootstrap_sample_course(registry, dbsession, echo)
