"""Permission matrix rows: course_home and course_experience. The ``/v1/`` aliases inherit
these rows. A course of this area's own (``home_course_key``, self-paced) has the learner
enrolled and a goal of theirs whose token unsubscribes."""
from lms.matrix import AUTHENTICATED, EVERYONE, Row

METADATA = {**EVERYONE, "restricted_jwt": "forbidden"}

HOME_COURSE_KEY = "course-v1:MatrixX+HOME+2026_T1"


def setup(world):
    from plugins.courses.api import store_course
    from plugins.enrollment import api as enrollment_api
    from plugins.grades import course_home

    root = "block-v1:MatrixX+HOME+2026_T1+type@course+block@course"
    store_course(world.db, HOME_COURSE_KEY,
                 {"display_name": "Matrix Home", "start": "2020-01-01T00:00:00+00:00",
                  "self_paced": True},
                 [{"usage_key": root, "block_type": "course", "block_id": "course",
                   "display_name": "Matrix Home", "children": [], "fields": {}, "data": {}}])
    learner = world.users["learner"].id
    enrollment_api.enroll(world.db, learner, HOME_COURSE_KEY)
    goal = course_home.save_goal(world.db, learner, HOME_COURSE_KEY,
                                 subscribed_to_reminders=True, days_per_week=3)
    world.values.update(home_course_key=HOME_COURSE_KEY, goal_token=goal.unsubscribe_token)


# Not enrolled and not course staff: 401 "User not enrolled." (course_staff is staff of
# the world's course, not of this one); another learner's id: 404.
PROGRESS = {**AUTHENTICATED, "other_learner": "unauthenticated",
            "course_staff": "unauthenticated"}
PROGRESS_OTHER = {**AUTHENTICATED, "other_learner": "hidden", "course_staff": "hidden"}
DISMISS = {**AUTHENTICATED, "other_learner": "invalid", "course_staff": "invalid"}

ROWS = [
    Row("grades.save_course_goal", "POST", AUTHENTICATED,
        body={"course_id": "{home_course_key}", "subscribed_to_reminders": True},
        note="JwtAuthentication, SessionAuthentication; IsAuthenticated"),
    Row("grades.unsubscribe_from_course_goal", "POST", EVERYONE,
        path={"token": "{goal_token}"}, note="no authentication, no permission"),
    Row("grades.dismiss_welcome_message", "POST", DISMISS,
        body={"course_id": "{home_course_key}"},
        note="IsAuthenticated; then enrolled access to the course (else 400)"),
    Row("grades.progress", "GET", PROGRESS, path={"course_key_string": "{home_course_key}"},
        note="JWT, Bearer, Session; IsAuthenticated; enrolled or course staff"),
    Row("grades.progress_student", "GET", PROGRESS_OTHER,
        path={"course_key_string": "{home_course_key}", "student_id": "{learner_id}"},
        note="another learner's id: course staff only (else 404)"),
    Row("grades.dates", "GET", PROGRESS, path={"course_key_string": "{home_course_key}"},
        note="JWT, Bearer, Session; IsAuthenticated; enrolled or course staff (else 401)"),
    Row("grades.course_metadata", "GET", METADATA,
        path={"course_key_string": "{home_course_key}"},
        note="JWT, Bearer, Session; default (AllowAny) permission; access in course_access"),
    Row("grades.outline", "GET", METADATA, path={"course_key_string": "{home_course_key}"},
        note="JWT, Bearer, Session; AllowAny: the tree only when enrolled, staff or public"),
    Row("grades.course_deadlines_info", "GET", AUTHENTICATED,
        path={"course_key_string": "{home_course_key}"}, note="STD-AUTH; IsAuthenticated"),
    Row("grades.reset_course_deadlines", "POST", AUTHENTICATED,
        body={"course_key": "{home_course_key}"}, note="STD-AUTH; IsAuthenticated"),
]
