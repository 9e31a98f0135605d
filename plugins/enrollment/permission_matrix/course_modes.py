"""Who may call ``/api/course_modes/v1/``: upstream's
``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS`` with scope ``course_modes:read``, i.e.
global staff, or a restricted application with that scope and the course's
``content_org`` filter (the matrix's restricted JWT has neither: 403). Course staff
are not enough. Upstream's ``IsUserInUrl`` branch (a learner naming themself in
``?username=``) is not served (see the views' module)."""
from lms.matrix import STAFF_ONLY, Row
from plugins.enrollment import course_modes
from plugins.enrollment.models import CourseMode

MERGE_PATCH = "application/merge-patch+json"
NOTE = "JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS: global staff (or a scoped restricted app)"


def setup(world):
    # The world's course comes from the courses plugin's setup, which runs first.
    course_modes.create_mode(world.db, world.values["course_key"], "verified",
                             {"mode_display_name": "Verified", "min_price": 49,
                              "sku": "MATRIX-SKU"})


def fresh_mode(world):
    """A mode of its own per cell, so a DELETE or PATCH spares the next one."""
    slug = f"matrix-{world.role}"
    if course_modes.get_mode(world.db, world.values["course_key"], slug) is None:
        world.db.add(CourseMode(course_key=world.values["course_key"], mode_slug=slug,
                                mode_display_name="Matrix", min_price=0, currency="usd"))
        world.db.commit()
    return {"course_id": "{course_key}", "mode_slug": slug}


def new_mode_body(world):
    return {"course_id": "{course_key}", "mode_slug": f"new-{world.role}",
            "mode_display_name": "New", "currency": "usd", "min_price": 5}


ROWS = [
    Row("enrollment.course_modes", "GET", STAFF_ONLY, path={"course_id": "{course_key}"},
        note=NOTE),
    Row("enrollment.course_modes", "POST", STAFF_ONLY, path={"course_id": "{course_key}"},
        body=new_mode_body, note=NOTE),
    Row("enrollment.course_mode", "GET", STAFF_ONLY,
        path={"course_id": "{course_key}", "mode_slug": "verified"}, note=NOTE),
    Row("enrollment.course_mode", "PATCH", STAFF_ONLY, path=fresh_mode,
        body={"mode_display_name": "Changed"}, content_type=MERGE_PATCH, note=NOTE),
    Row("enrollment.course_mode", "DELETE", STAFF_ONLY, path=fresh_mode, note=NOTE),
]
