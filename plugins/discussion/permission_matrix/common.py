"""Answer classes shared by the discussion families."""
from lms.matrix import AUTHENTICATED

# Course-scoped reads and writes: enrolled or course staff (the other learner, not
# enrolled, is told "Course not found."); a restricted JWT is refused.
COURSE_MEMBERS = {**AUTHENTICATED, "other_learner": "hidden"}
# Global staff only (upstream IsAdminUser / IsStaff).
GLOBAL_STAFF = {**AUTHENTICATED, "learner": "forbidden", "other_learner": "forbidden",
                "course_staff": "forbidden"}
