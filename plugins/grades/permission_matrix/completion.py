"""Permission matrix rows: completion. The problems area's course (the learner enrolled)
is the context; its subsection ``s`` is asked about."""
from lms.matrix import AUTHENTICATED, OWNER_OR_STAFF, Row
from plugins.grades.permission_matrix.problems import PROBLEMS_COURSE_KEY

SEQUENCE_KEY = "block-v1:Matrix+Problems+2026+type@sequential+block@s"

# IsUserInUrl as the completion app writes it: another user is 404, global staff 403.
ONLY_THE_URL_USER = {**AUTHENTICATED, "other_learner": "hidden", "course_staff": "hidden",
                     "global_staff": "forbidden", "superuser": "forbidden",
                     "service_user": "forbidden"}

ROWS = [
    Row("grades.completion_batch", "POST", OWNER_OR_STAFF,
        body={"username": "{learner}", "course_key": PROBLEMS_COURSE_KEY, "blocks": {}},
        note="STD-AUTH; IsAuthenticated, IsStaffOrOwner (the body's username)"),
    Row("grades.subsection_completion", "GET", ONLY_THE_URL_USER,
        path={"username": "{learner}", "course_key": PROBLEMS_COURSE_KEY,
              "subsection_id": SEQUENCE_KEY},
        note="JwtAuthentication, SessionAuthenticationAllowInactiveUser; IsAuthenticated, "
             "IsUserInUrl"),
]
