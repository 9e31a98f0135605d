"""Who may call the enrollment API (``/api/enrollment/v1/``).

The learner is enrolled in a course of this area's own (open for enrollment), so the
world's course keeps nobody enrolled for the other plugins' rows.
Upstream's permission classes: ``ApiKeyHeaderPermissionIsAuthenticated`` (API key or
signed in) with per-view rules; ``IsAdminUser`` for ``enrollments/``;
``IsAuthenticated`` + ``CanRetireUser`` for ``unenroll/``; none for ``course/``.
"""
from lms.keys import parse_course_key
from lms.matrix import AUTHENTICATED, EVERYONE, STAFF_ONLY, SERVICE_USERNAME, Row
from plugins.courses import api as courses_api
from plugins.enrollment import api
from plugins.enrollment.models import CourseMode

COURSE_KEY = "course-v1:MatrixX+Enroll+2026_T1"


def setup(world):
    key = parse_course_key(COURSE_KEY)
    if courses_api.get_course(world.db, key) is None:
        root = str(key.make_usage_key("course", "course"))
        courses_api.store_course(world.db, COURSE_KEY, {"display_name": "Matrix Course"}, [
            {"usage_key": root, "block_type": "course", "block_id": "course",
             "display_name": "Matrix Course", "children": [], "fields": {}, "data": {}}])
    # Learners enroll in audit (the course modes area adds a verified mode).
    if not api.course_modes(world.db, COURSE_KEY, include_expired=True):
        world.db.add(CourseMode(course_key=COURSE_KEY, mode_slug="audit",
                                mode_display_name="Audit"))
    api.enroll(world.db, world.users["learner"].id, COURSE_KEY)
    world.values["enrollment_course_key"] = COURSE_KEY
    world.db.commit()


# Acting on another user: themselves, global staff (and API-key callers); everybody
# else gets an empty 404, so nobody learns whether the other user is enrolled.
OWNER_OR_GLOBAL_STAFF_HIDDEN = {**AUTHENTICATED, "other_learner": "hidden",
                                "course_staff": "hidden"}

ROWS = [
    Row("enrollment.enrollment_list", "GET", AUTHENTICATED, query={"user": "{learner}"},
        scan=("other_learner", "course_staff"),
        note="Others see only enrollments in courses where they are course staff."),
    Row("enrollment.enrollment_list", "POST", OWNER_OR_GLOBAL_STAFF_HIDDEN,
        body={"course_details": {"course_id": "{enrollment_course_key}"}, "user": "{learner}"},
        note="Enrolling another user: global staff or an API key."),
    Row("enrollment.enrollment_detail", "GET", AUTHENTICATED,
        path={"course_id": "{enrollment_course_key}"}, note="The caller's own enrollment."),
    Row("enrollment.enrollment_of_user", "GET", OWNER_OR_GLOBAL_STAFF_HIDDEN,
        path={"username": "{learner}", "course_id": "{enrollment_course_key}"}),
    Row("enrollment.course_detail", "GET", EVERYONE, path={"course_id": "{enrollment_course_key}"},
        note="No authentication at all."),
    Row("enrollment.enrollments", "GET", STAFF_ONLY,
        query={"course_id": "{enrollment_course_key}"},
        note="IsAdminUser."),
    Row("enrollment.roles", "GET", AUTHENTICATED, query={"course_id": "{enrollment_course_key}"}),
    # The learner is not being retired: the retirement service and superusers are
    # told so (404); nobody else may ask.
    Row("enrollment.unenroll", "POST",
        {**STAFF_ONLY, "global_staff": "forbidden", "superuser": "hidden",
         "service_user": "hidden"},
        body={"username": "{learner}"}, note="IsAuthenticated, CanRetireUser."),
]

SETTINGS = {"accounts.retirement_service_username": SERVICE_USERNAME}
