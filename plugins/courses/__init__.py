"""courses: course content (OLX import), catalog, course blocks, outline, courseware,
organizations.

Its one name, ``courses``, is its settings prefix, table prefix
(``courses_*``), alembic branch and service-name prefix. Other plugins use
:mod:`plugins.courses.api` and the ``lms_get_course`` hook.
"""
from lms.hookspecs import hookimpl

name = "courses"
version = "0.1.0"
requires = ()


@hookimpl
def lms_default_settings():
    return {
        # Built block trees kept in memory per process (one per course version), at
        # most this many and at most about this many bytes (a 5,000-block course
        # takes about 15 MB; least recently used first out).
        "courses.structure_cache_size": "64",
        "courses.structure_cache_bytes": str(64 * 1024 * 1024),
        # Blocks API: html student_view_data carries the HTML (upstream
        # FEATURES["ENABLE_HTML_XBLOCK_STUDENT_VIEW_DATA"]).
        "courses.html_student_view_data": "false",
        # Limits on an imported course export (lms import-course): total file size,
        # number of files (archive members) and number of blocks.
        "courses.import_max_bytes": str(512 * 1024 * 1024),
        "courses.import_max_files": "100000",
        "courses.import_max_blocks": "100000",
        # Course list and course_ids throttles (upstream CourseListUserThrottle):
        # users, global staff, and staff calling with a client-credentials token.
        "courses.course_list_rate": "20/m",
        "courses.course_list_staff_rate": "40/m",
        "courses.course_list_service_user_rate": "800/m",
        # Open edX's certificates.auto_certificate_generation switch: course detail
        # shows certificate_available_date of instructor-paced courses when on.
        "courses.auto_certificate_generation": "false",
        # Seconds browsers may cache unlocked course assets (0: no Cache-Control).
        "courses.asset_cache_ttl": "0",
    }


@hookimpl
def lms_includeme(config):
    from plugins.courses.api import STRUCTURE_CACHE_KEY
    from plugins.courses.config import CONFIG_KEY, CoursesConfig
    from plugins.courses.structure import StructureCache

    # Parsed once here (a bad value stops the start-up); views read the registry.
    parsed = config.registry[CONFIG_KEY] = CoursesConfig.from_settings(config.get_settings())
    from lms import process_state

    config.registry[STRUCTURE_CACHE_KEY] = process_state.register(
        config.registry, StructureCache(parsed.structure_cache_size, parsed.structure_cache_bytes))
    config.scan("plugins.courses.views")


@hookimpl
def lms_get_course(dbsession, course_key):
    from plugins.courses import api

    course = api.get_course(dbsession, course_key)
    if course is None:
        return None
    modes = api.course_modes(dbsession, [course_key]).get(course.course_key, [])
    return api.course_summary(course, modes)


@hookimpl
def lms_permission_matrix():
    from plugins.courses.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_cli_commands():
    from plugins.courses.commands import COMMANDS

    return COMMANDS


@hookimpl
def lms_bootstrap(registry, dbsession, echo, sample_course):
    from plugins.courses.commands import bootstrap_sample_course

    if sample_course:
        bootstrap_sample_course(registry, dbsession, echo)


@hookimpl
def lms_bench_dataset(dataset):
    from plugins.courses.bench import add_dataset

    add_dataset(dataset)


@hookimpl
def lms_bench_scenarios(size):
    from plugins.courses.bench import scenarios

    return scenarios(size)
