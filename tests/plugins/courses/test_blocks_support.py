"""Shared helpers of the blocks API tests (no tests here).

``LEARNING_PLUGIN`` is a test-only plugin answering the enrollment, completion
and resume look-ups from dicts; :func:`build_app` installs it, empty.
"""
import types

from lms.hookspecs import hookimpl
from lms.testing import create_user, jwt_headers
from plugins.courses.api import STRUCTURE_CACHE_KEY
from tests.plugins.courses.factories import DEMO_KEY, usage_key

ENROLLMENTS = {}  # (user_id, course key) -> lms_get_enrollment dict
COMPLETIONS = {}  # (user_id, course key) -> {usage key: completion}
RESUME = {}  # (user_id, course key) -> usage key


def _plugin_module():
    module = types.ModuleType("tests_courses_learning_plugin")
    module.name = "testlearning"
    module.version = "1.0"
    module.requires = ()

    @hookimpl
    def lms_get_enrollment(dbsession, user_id, course_key):
        return ENROLLMENTS.get((user_id, str(course_key)))

    @hookimpl
    def lms_block_completions(dbsession, user_id, course_key):
        return COMPLETIONS.get((user_id, str(course_key)))

    @hookimpl
    def lms_resume_block(dbsession, user_id, course_key):
        return RESUME.get((user_id, str(course_key)))

    module.lms_get_enrollment = lms_get_enrollment
    module.lms_block_completions = lms_block_completions
    module.lms_resume_block = lms_resume_block
    return module


LEARNING_PLUGIN = _plugin_module()


def build_app(app_factory, settings, add_plugins):
    """A test app with the learning plugin installed and its data emptied.

    Test modules declare ``@pytest.fixture(name="app")`` returning this.
    """
    add_plugins(LEARNING_PLUGIN)
    for data in (ENROLLMENTS, COMPLETIONS, RESUME):
        data.clear()
    # LEARNING_PLUGIN is the completion source; the grades plugin's is left out.
    return app_factory(**dict(settings, **{"lms.plugins.disabled": "grades"}))


def enroll(user, course_key=DEMO_KEY, mode="audit", is_active=True):
    ENROLLMENTS[(user.id, str(course_key))] = {"mode": mode, "is_active": is_active,
                                               "created": None}


def key(block_type, block_id, course_key=DEMO_KEY):
    return usage_key(course_key, block_type, block_id)


ROOT = key("course", "course")
BASE = "http://localhost"


def urls(usage, course_key=DEMO_KEY):
    jump = f"{BASE}/courses/{course_key}/jump_to/{usage}"
    return {"lms_web_url": jump, "legacy_web_url": jump + "?experience=legacy",
            "student_view_url": f"{BASE}/xblock/{usage}"}


def basic(block_type, block_id, display_name, course_key=DEMO_KEY, **extra):
    """A block as the API always shows it, plus ``extra`` fields."""
    usage = key(block_type, block_id, course_key)
    block = {"id": usage, "block_id": block_id, **urls(usage, course_key),
             "type": block_type, "display_name": display_name}
    block.update(extra)
    return block


def user_headers(app, user):
    return jwt_headers(app, user)


def make_user(db, username, **kw):
    return create_user(db, username, password=None, **kw)


def structure_builds(app):
    return app.registry[STRUCTURE_CACHE_KEY].builds
