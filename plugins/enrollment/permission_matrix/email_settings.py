"""Who may call ``POST /api/change_email_settings``: any signed-in user, for their own
opt-out (upstream ``IsAuthenticated``; no enrollment check)."""
from lms.matrix import AUTHENTICATED, Row

ROWS = [
    Row("enrollment.change_email_settings", "POST", AUTHENTICATED,
        body={"course_id": "{course_key}"}, note="IsAuthenticated"),
]
