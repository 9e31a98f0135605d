"""Permission matrix rows: problems (the XBlock handler route).

Upstream's handler URL is its own credential (a token signed for one user and one block):
whoever holds the learner's URL acts as that learner, with or without other credentials
(a session for another user is upstream's "Authentication conflict", not checked here)."""
from urllib.parse import urlsplit

from lms.matrix import EVERYONE, Row

PROBLEMS_COURSE_KEY = "course-v1:Matrix+Problems+2026"
PROBLEM_XML = ('<problem><multiplechoiceresponse><choicegroup type="MultipleChoice">'
               '<choice correct="true">a</choice><choice correct="false">b</choice>'
               '</choicegroup></multiplechoiceresponse></problem>')


def setup(world):
    """A course with one problem, the learner enrolled."""
    from lms.keys import parse_course_key
    from plugins.courses import api as courses_api
    from plugins.enrollment import api as enrollment_api

    key = parse_course_key(PROBLEMS_COURSE_KEY)
    root = str(key.make_usage_key("course", "course"))
    chapter = str(key.make_usage_key("chapter", "c"))
    sequence = str(key.make_usage_key("sequential", "s"))
    unit = str(key.make_usage_key("vertical", "v"))
    problem = str(key.make_usage_key("problem", "p"))
    world.values["problems_problem_key"] = problem
    if courses_api.get_course(world.db, key) is None:
        def block(usage_key, block_type, children, data=None):
            return {"usage_key": usage_key, "block_type": block_type,
                    "block_id": usage_key.rsplit("@", 1)[-1], "display_name": block_type,
                    "children": children, "fields": {}, "data": data or {}}

        courses_api.store_course(
            world.db, PROBLEMS_COURSE_KEY,
            {"display_name": "Matrix Problems Course", "start": "2020-01-01T00:00:00+00:00"},
            [block(root, "course", [chapter]), block(chapter, "chapter", [sequence]),
             block(sequence, "sequential", [unit]), block(unit, "vertical", [problem]),
             block(problem, "problem", [], {"xml": PROBLEM_XML})])
    learner = world.users["learner"]
    if enrollment_api.get_enrollment_row(world.db, learner.id, PROBLEMS_COURSE_KEY) is None:
        enrollment_api.enroll(world.db, learner.id, PROBLEMS_COURSE_KEY)


def _handler_path(world):
    from plugins.courses import api as courses_api

    url = courses_api.signed_handler_url(
        world.registry.settings, "http://localhost", world.values["problems_problem_key"],
        world.users["learner"].id, "problem_get")
    parts = urlsplit(url).path.split("/")
    # /api/xblock/v2/xblocks/{usage_key_str}/handler/{user_token}/{handler_name}/
    from urllib.parse import unquote
    return {"usage_key_str": unquote(parts[5]), "user_token": parts[7],
            "handler_name": parts[8]}


def _suffix_path(world):
    return dict(_handler_path(world), handler_name="xmodule_handler", suffix="problem_get")


ROWS = [
    Row("grades.xblock_handler", "GET", EVERYONE, path=_handler_path,
        note="the signed URL is the credential (validate_secure_token_for_xblock_handler)"),
    Row("grades.xblock_handler", "POST", EVERYONE, path=_handler_path, body={}, form=True,
        note="the signed URL is the credential (validate_secure_token_for_xblock_handler)"),
    Row("grades.xblock_handler_suffix", "GET", EVERYONE, path=_suffix_path,
        note="capa's xmodule_handler/{dispatch}; the signed URL is the credential"),
    Row("grades.xblock_handler_suffix", "POST", EVERYONE, path=_suffix_path, body={},
        form=True, note="capa's xmodule_handler/{dispatch}; the signed URL is the credential"),
]
