"""Who may call ``/api/cohorts/v1/``: upstream's ``IsAuthenticated`` and
``IsStaffOrAdmin`` (global staff, or the course's own staff or instructor role), then
staff access to the course; the CSV upload ``IsAdminUser`` (global staff only).
Methods a path does not serve (create at ``cohorts/{id}``, change at ``cohorts/``,
remove at ``users/``) answer 405 past the permission check, as upstream."""
from lms.matrix import STAFF_ONLY, Row
from plugins.enrollment import cohorts

STAFF_OR_ADMIN = {**STAFF_ONLY, "course_staff": "ok"}
WRONG_PATH = {**STAFF_OR_ADMIN, **{role: "not_allowed" for role in (
    "course_staff", "global_staff", "superuser", "service_user")}}
NOTE = "IsAuthenticated + IsStaffOrAdmin (global staff, course staff/instructor)"
COHORT = {"course_key_string": "{course_key}", "cohort_id": "{cohort_id}"}


def setup(world):
    cohort = cohorts.add_cohort(world.db, world.values["course_key"], "Matrix Cohort",
                                "manual")
    cohorts.assign(world.db, cohort, world.users["learner"].id)
    world.values["cohort_id"] = cohort.id


def new_cohort(world):
    return {"name": f"Matrix {world.role}", "assignment_type": "manual"}


def member_to_remove(world):
    """A member of its own per cell, so each DELETE has someone to take out."""
    user = world.new_user("cohort_member")
    cohort = cohorts.get_cohort(world.db, world.values["course_key"], world.values["cohort_id"])
    cohorts.assign(world.db, cohort, user.id)
    world.db.commit()
    return {**COHORT, "username": user.username}


ROWS = [
    Row("enrollment.cohort_settings", "GET", STAFF_OR_ADMIN,
        path={"course_key_string": "{course_key}"}, note=NOTE),
    Row("enrollment.cohort_settings", "PUT", STAFF_OR_ADMIN,
        path={"course_key_string": "{course_key}"}, body={"is_cohorted": True}, note=NOTE),
    Row("enrollment.cohort_list", "GET", STAFF_OR_ADMIN,
        path={"course_key_string": "{course_key}"}, note=NOTE),
    Row("enrollment.cohort_list", "POST", STAFF_OR_ADMIN,
        path={"course_key_string": "{course_key}"}, body=new_cohort, note=NOTE),
    Row("enrollment.cohort_list", "PATCH", WRONG_PATH,
        path={"course_key_string": "{course_key}"}, body={"name": "x"}, note=NOTE),
    Row("enrollment.cohort_detail", "GET", STAFF_OR_ADMIN, path=COHORT, note=NOTE),
    Row("enrollment.cohort_detail", "POST", WRONG_PATH, path=COHORT, body={"name": "x"},
        note=NOTE),
    Row("enrollment.cohort_detail", "PATCH", STAFF_OR_ADMIN, path=COHORT,
        body={"assignment_type": "manual"}, note=NOTE),
    Row("enrollment.cohort_users", "GET", STAFF_OR_ADMIN, path=COHORT, note=NOTE),
    Row("enrollment.cohort_users", "POST", STAFF_OR_ADMIN, path=COHORT,
        body={"users": ["{learner}"]}, note=NOTE),
    Row("enrollment.cohort_users", "DELETE", WRONG_PATH, path=COHORT, note=NOTE),
    Row("enrollment.cohort_user", "GET", STAFF_OR_ADMIN,
        path={**COHORT, "username": "{learner}"}, note=NOTE),
    Row("enrollment.cohort_user", "POST", STAFF_OR_ADMIN,
        path={**COHORT, "username": "{learner}"}, note=NOTE),
    Row("enrollment.cohort_user", "DELETE", STAFF_OR_ADMIN, path=member_to_remove, note=NOTE),
    Row("enrollment.cohort_csv", "POST", STAFF_ONLY,
        path={"course_key_string": "{course_key}"},
        upload=[("uploaded-file", "cohorts.csv", b"username,cohort\nnobody,Matrix Cohort\n")],
        note="IsAuthenticated + IsAdminUser (global staff only)"),
]
