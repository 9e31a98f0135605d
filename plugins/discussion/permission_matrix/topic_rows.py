"""A course's topics (v1, v2, v3): course members; the other learner, not enrolled, is
told ``Course not found.``"""
from lms.matrix import Row
from plugins.discussion.permission_matrix.common import COURSE_MEMBERS

ROWS = [
    Row(f"discussion.course_topics{suffix}", "GET", COURSE_MEMBERS,
        path={"course_id": "{forum_course_key}"},
        note="STD-AUTH; course load + enrolled or staff (404 Course not found.)")
    for suffix in ("", "_v2", "_v3")
]
