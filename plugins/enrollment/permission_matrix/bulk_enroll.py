"""Who may call ``POST /api/bulk_enroll/v1/bulk_enroll``: upstream's ``IsStaff`` (global
staff only; course staff are not enough), authenticated by JWT or an OAuth2 Bearer
token (no session)."""
from lms.matrix import STAFF_ONLY, Row

ROWS = [
    Row("enrollment.bulk_enroll", "POST", STAFF_ONLY,
        body={"identifiers": "{learner}", "courses": "{course_key}", "action": "enroll"},
        note="JwtAuthentication, BearerAuthentication; IsStaff"),
]
