"""Course metadata, division settings, forum roles and the user_api role listing."""
from lms.matrix import Row, every_signed_in
from plugins.discussion.permission_matrix.common import COURSE_MEMBERS, GLOBAL_STAFF

MERGE_PATCH = "application/merge-patch+json"

ROWS = [
    Row("discussion.course", "GET", COURSE_MEMBERS, path={"course_id": "{forum_course_key}"},
        note="STD-AUTH; course load + enrolled or staff (404 Course not found.); tab on"),
    Row("discussion.course_v2", "GET", COURSE_MEMBERS,
        path={"course_id": "{forum_course_key}"},
        note="STD-AUTH; as v1 without the discussion tab check"),
    Row("discussion.course_settings", "GET", GLOBAL_STAFF,
        path={"course_id": "{forum_course_key}"}, note="IsStaffOrAdmin: global staff (forum moderators may read; not course staff)"),
    Row("discussion.course_settings", "PATCH", GLOBAL_STAFF,
        path={"course_id": "{forum_course_key}"},
        body={"always_divide_inline_discussions": True}, content_type=MERGE_PATCH,
        note="IsStaffOrAdmin; merge-patch"),
    Row("discussion.course_roles", "GET", GLOBAL_STAFF,
        path={"course_id": "{forum_course_key}", "rolename": "Moderator"},
        note="IsAdminUser (global staff)"),
    Row("discussion.course_roles", "POST", GLOBAL_STAFF,
        path={"course_id": "{forum_course_key}", "rolename": "Community TA"},
        body={"user_id": "{learner}", "action": "allow"}, note="IsAdminUser (global staff)"),
    Row("discussion.forum_role_users", "GET", every_signed_in("forbidden"),
        path={"name": "Moderator"}, query={"course_id": "{forum_course_key}"},
        note="ApiKeyHeaderPermission: only the X-Edx-Api-Key holder"),
]
