"""Permission matrix rows: gradebook (``/api/grades/v1/gradebook/{course_id}/...``).

Upstream: ``@view_auth_classes()`` (JWT, Bearer, Session; restricted applications are
refused), the writable gradebook feature (on for the matrix through
``grades.writable_gradebook``), then ``course_author_access_required``: global staff,
course staff or instructor."""
from lms.matrix import AUTHENTICATED, Row

COURSE_AUTHOR = {**AUTHENTICATED, "learner": "forbidden", "other_learner": "forbidden"}
SETTINGS = {"grades.writable_gradebook": "true"}
NOTE = "view_auth_classes; writable gradebook flag; course_author_access_required"



def subsection_key(world):
    """A subsection of the world's course as it is now (other areas may re-store it)."""
    from plugins.courses import api as courses_api

    course = courses_api.get_course(world.db, world.values["grades_course_key"])
    structure = courses_api.get_structure(world.registry, world.db, course)
    return next(key for key, node in structure.blocks.items()
                if node.block_type == "sequential")


ROWS = [
    Row("grades.gradebook", "GET", COURSE_AUTHOR, path={"course_id": "{grades_course_key}"},
        query={"username": "{learner}"}, note=NOTE),
    Row("grades.gradebook_grading_info", "GET", COURSE_AUTHOR,
        path={"course_id": "{grades_course_key}"}, note="view_auth_classes; course author access"),
    Row("grades.gradebook_bulk_update", "POST", COURSE_AUTHOR,
        path={"course_id": "{grades_course_key}"},
        body=lambda world: [{"user_id": world.values["learner_id"],
                             "usage_id": subsection_key(world),
                             "grade": {"earned_graded_override": 1,
                                       "possible_graded_override": 2, "comment": "matrix"}}],
        note=NOTE),
]
