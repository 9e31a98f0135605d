"""Permission matrix rows: grades (``/api/grades/v1/courses/``, ``policy/``).

``CourseGradesView``: ``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS`` with scope
``grades:read``: global staff, or the learner named in ``?username=`` (course staff are
not enough); the matrix's restricted JWT has no ``grades:read`` scope (403).
``CourseGradingPolicy``: ``has_access(user, "staff", course)``; restricted applications
are refused by JwtAuthentication."""
from lms.matrix import AUTHENTICATED, OWNER_OR_STAFF, STAFF_ONLY, Row

COURSE_STAFF = {**AUTHENTICATED, "learner": "forbidden", "other_learner": "forbidden"}

ROWS = [
    Row("grades.courses", "GET", OWNER_OR_STAFF,
        query={"course_id": "{grades_course_key}", "username": "{learner}"},
        note="JwtAuthentication, Bearer, Session; JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS"),
    Row("grades.course", "GET", OWNER_OR_STAFF, path={"course_id": "{grades_course_key}"},
        query={"username": "{learner}"},
        note="JwtAuthentication, Bearer, Session; JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS"),
    Row("grades.policy", "GET", COURSE_STAFF, path={"course_id": "{grades_course_key}"},
        note="JwtAuthentication, Bearer, Session; has_access staff"),
    Row("grades.subsection", "GET", COURSE_STAFF,
        path=lambda world: {"subsection_id": _subsection_key(world)},
        query={"user_id": "{learner_id}"},
        note="view_auth_classes; has_course_author_access on the key's course"),
    Row("grades.section_grades_breakdown", "GET", STAFF_ONLY,
        query={"course_id": "{grades_course_key}"}, note="JWT, Bearer, Session; IsStaff"),
    Row("grades.submission_history", "GET", STAFF_ONLY, path={"course_id": "{grades_course_key}"},
        note="JWT, Bearer, Session; IsStaff"),
]


def _subsection_key(world):
    from plugins.grades.permission_matrix.gradebook import subsection_key

    return subsection_key(world)



GRADES_COURSE_KEY = "course-v1:MatrixX+Grades+2026_T1"


def setup(world):
    """A course of its own (``{grades_course_key}``: the shared course must stay without
    enrollments) with a graded subsection, the learner enrolled and course_staff staff."""
    from lms.keys import parse_course_key
    from lms.permissions import grant_role
    from plugins.courses import api as courses_api
    from plugins.enrollment import api as enrollment_api

    key = parse_course_key(GRADES_COURSE_KEY)
    world.values["grades_course_key"] = GRADES_COURSE_KEY
    if courses_api.get_course(world.db, key) is None:
        root = str(key.make_usage_key("course", "course"))
        chapter = str(key.make_usage_key("chapter", "graded"))
        sequence = str(key.make_usage_key("sequential", "graded_hw"))

        def block(usage_key, block_type, children, **fields):
            return {"usage_key": usage_key, "block_type": block_type,
                    "block_id": usage_key.rsplit("@", 1)[-1], "display_name": block_type,
                    "children": children, "fields": fields, "data": {}}

        courses_api.store_course(
            world.db, GRADES_COURSE_KEY,
            {"display_name": "Matrix Grades Course", "start": "2020-01-01T00:00:00+00:00"},
            [block(root, "course", [chapter]), block(chapter, "chapter", [sequence]),
             block(sequence, "sequential", [], graded=True, format="Homework")])
    grant_role(world.db, world.users["course_staff"], "staff", key)
    if enrollment_api.get_enrollment_row(world.db, world.users["learner"].id, key) is None:
        enrollment_api.enroll(world.db, world.users["learner"].id, GRADES_COURSE_KEY)
