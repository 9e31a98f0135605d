"""Who may call each mobile endpoint (checked by ``lms.testing``'s permission matrix).

Upstream: every view is ``mobile_view()`` (JWT, Bearer or session; IsAuthenticated).
``users/{username}...`` adds ``IsUserInUrl``: another user's name is a 404, a 403
for global staff. Course views add ``mobile_course_access``: the caller must be
enrolled or course staff (else 404). ``record_user_activity`` checks nothing more
than authentication upstream (any signed-in caller may record for any user id).

The world's course is left as the other plugins expect it (nobody enrolled): the
mobile rows use a course of their own, on mobile, where the learner is enrolled and
``course_staff`` holds no role.
"""
from lms.keys import parse_course_key
from lms.matrix import AUTHENTICATED, PluginMatrix, Row
from plugins.courses import api as courses
from plugins.enrollment import api as enrollment

MOBILE_COURSE = "course-v1:MatrixX+Mobile+2026_T1"


def setup(world):
    key = parse_course_key(MOBILE_COURSE)
    root = str(key.make_usage_key("course", "course"))
    chapter = str(key.make_usage_key("chapter", "week"))
    sequence = str(key.make_usage_key("sequential", "lesson"))

    def block(usage_key, block_type, children=()):
        return {"usage_key": usage_key, "block_type": block_type,
                "block_id": usage_key.rsplit("@", 1)[-1], "display_name": block_type,
                "children": list(children), "fields": {}, "data": {}}

    courses.store_course(world.db, MOBILE_COURSE, {
        "display_name": "Matrix Mobile", "start": "2020-01-01T00:00:00+00:00",
        "mobile_available": True, "handouts_html": "<p>Matrix handouts</p>"},
        [block(root, "course", [chapter]), block(chapter, "chapter", [sequence]),
         block(sequence, "sequential")])
    enrollment.enroll(world.db, world.users["learner"].id, MOBILE_COURSE)
    world.values.update(mobile_course_key=MOBILE_COURSE, mobile_sequence_key=sequence)


# IsUserInUrl: only the learner named in the path; staff get 403, others 404.
OWN = {**AUTHENTICATED, "other_learner": "hidden", "course_staff": "hidden",
       "global_staff": "forbidden", "superuser": "forbidden", "service_user": "forbidden"}
# mobile_course_access: enrolled learners and staff of the course (global staff included).
COURSE_CONTENT = {**AUTHENTICATED, "other_learner": "hidden", "course_staff": "hidden"}


OWN_STATUS = {"api_version": "v1", "username": "{learner}", "course_id": "{mobile_course_key}"}

ROWS = [
    Row("mobile.my_user_info", "GET", {**AUTHENTICATED, "*": "redirect"},
        path={"api_version": "v1"}, note="302 to the caller's own users/{username}"),
    Row("mobile.user_detail", "GET", OWN, path={"api_version": "v1", "username": "{learner}"}),
    Row("mobile.course_enrollments", "GET", OWN,
        path={"api_version": "v4", "username": "{learner}"}),
    Row("mobile.course_status_info", "GET", OWN,
        path=OWN_STATUS),
    Row("mobile.course_status_info", "PATCH", OWN,
        path=OWN_STATUS,
        body={"last_visited_module_id": "{mobile_sequence_key}"}),
    Row("mobile.record_user_activity", "POST", AUTHENTICATED, path={"api_version": "v1"},
        body={"user_id": "{learner_id}", "course_key": "{mobile_course_key}"},
        note="no ownership check upstream"),
    Row("mobile.course_handouts", "GET", COURSE_CONTENT,
        path={"api_version": "v1", "course_id": "{mobile_course_key}"}),
    Row("mobile.course_updates", "GET", COURSE_CONTENT,
        path={"api_version": "v1", "course_id": "{mobile_course_key}"}),
]

MATRIX = PluginMatrix(rows=ROWS, setup=setup)
