"""Who may call ``GET /api/embargo/v1/course_access/``: upstream's ``IsAuthenticated`` and
``IsAdminUser`` (global staff)."""
from lms.matrix import STAFF_ONLY, Row

ROWS = [
    Row("enrollment.embargo_course_access", "GET", STAFF_ONLY,
        query={"course_ids": "{course_key}", "user": "{learner}", "ip_address": "192.0.2.1"},
        note="IsAuthenticated, IsAdminUser"),
]
