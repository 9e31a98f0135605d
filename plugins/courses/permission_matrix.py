"""Who may call each courses endpoint (checked by ``lms.testing``'s permission matrix).

The world's course (``{course_key}``) is private (``course_visibility``
"private"), has started and holds one released HTML unit. Without an
enrollment plugin nobody is enrolled, so the learners are signed-in users
outside the course; ``course_staff`` holds the course "staff" role.
"""
from lms.keys import parse_course_key
from lms.matrix import (
    AUTHENTICATED,
    COURSE_KEY,
    EVERYONE,
    OWNER_OR_STAFF,
    STAFF_ONLY,
    PluginMatrix,
    Row,
    every_signed_in,
)
from plugins.courses.api import store_course

KEY = parse_course_key(COURSE_KEY)
COURSE = str(KEY.make_usage_key("course", "course"))
SEQUENCE = str(KEY.make_usage_key("sequential", "lesson"))
UNIT = str(KEY.make_usage_key("vertical", "unit"))
HTML = str(KEY.make_usage_key("html", "intro"))
ASSET = f"{KEY.org}+{KEY.course}+{KEY.run}+type@asset+block@matrix.txt"


def block(usage_key, block_type, children=(), display_name=None, **data):
    return {"usage_key": usage_key, "block_type": block_type,
            "block_id": usage_key.rsplit("@", 1)[-1], "display_name": display_name,
            "children": list(children), "fields": {}, "data": data}


def setup(world):
    store_course(
        world.db, COURSE_KEY,
        {"display_name": "Matrix Course", "start": "2020-01-01T00:00:00+00:00"},
        [block(COURSE, "course", [str(KEY.make_usage_key("chapter", "week"))], "Matrix Course"),
         block(str(KEY.make_usage_key("chapter", "week")), "chapter", [SEQUENCE], "Week"),
         block(SEQUENCE, "sequential", [UNIT], "Lesson"),
         block(UNIT, "vertical", [HTML], "Unit"),
         block(HTML, "html", (), "Intro", html="<p>Hello</p>")],
        assets=[{"name": "matrix.txt", "content_type": "text/plain", "content": b"hello"}])
    world.values.update(course_usage_key=COURSE, sequence_key=SEQUENCE, unit_key=UNIT,
                        html_key=HTML, asset_key=ASSET)


def new_org(world):
    """PUT creates or updates: a new organization per caller."""
    return {"short_name": f"org_{world.role}", "name": "Matrix Org", "description": "d"}


# The course's content: staff of the course or global staff. Signed-in users
# outside a private course are refused; so are anonymous callers, whom the
# blocks and xblock APIs let in (``is_authenticated=False``) only to refuse
# them too (403: the content is not public).
COURSE_CONTENT = {**STAFF_ONLY, "anonymous": "forbidden", "course_staff": "ok"}
# Courseware pages any caller may open (AllowAny upstream); what they show is
# cut to the caller's access (the content checks are the courses access rule's).
OPEN_PAGE = {**EVERYONE, "restricted_jwt": "forbidden"}
# Nobody is enrolled in the world (no enrollment plugin): learners get 404 where
# upstream looks the course up through the caller's access.
NOT_ENROLLED_HIDDEN = {**COURSE_CONTENT, "anonymous": "hidden", "learner": "hidden",
                       "other_learner": "hidden"}

ROWS = [
    Row("courses.course_list", "GET", OPEN_PAGE),
    Row("courses.course_detail", "GET", OPEN_PAGE, path={"course_key_string": "{course_key}"}),
    # CourseIdListView (@view_auth_classes): the caller's own ids, staff name anyone.
    Row("courses.course_ids", "GET", OWNER_OR_STAFF,
        query={"role": "staff", "username": "{learner}"}),
    Row("courses.blocks_in_course_v1", "GET", COURSE_CONTENT,
        query={"course_id": "{course_key}", "username": "{learner}"}),
    Row("courses.blocks_in_course_v2", "GET", COURSE_CONTENT,
        query={"course_id": "{course_key}", "username": "{learner}"}),
    Row("courses.blocks_in_tree_v1", "GET", COURSE_CONTENT,
        path={"usage_key_string": "{course_usage_key}"}, query={"username": "{learner}"}),
    Row("courses.blocks_in_tree_v2", "GET", COURSE_CONTENT,
        path={"usage_key_string": "{course_usage_key}"}, query={"username": "{learner}"}),
    Row("courses.block_metadata_v1", "GET", COURSE_CONTENT,
        path={"usage_key_string": "{html_key}"}),
    Row("courses.block_metadata_v2", "GET", COURSE_CONTENT,
        path={"usage_key_string": "{html_key}"}),
    # CourseOutlineView: no permission class; the outline is cut to what the user may see.
    Row("courses.course_outline", "GET", OPEN_PAGE, path={"course_key_str": "{course_key}"}),
    # CoursewareInformation: AllowAny, ``course_access`` tells the caller's access.
    Row("courses.courseware_course", "GET", OPEN_PAGE,
        path={"course_key_string": "{course_key}"}),
    # SequenceMetadata: get_block_by_usage_id answers 404 without access.
    Row("courses.courseware_sequence", "GET", NOT_ENROLLED_HIDDEN,
        path={"usage_key_string": "{sequence_key}"}),
    # Resume: IsAuthenticated; nothing to resume is nulls.
    Row("courses.courseware_resume", "GET", AUTHENTICATED,
        path={"course_key_string": "{course_key}"}),
    # CoursewareCelebrationView: IsAuthenticated, then 404 without an enrollment.
    Row("courses.courseware_celebration", "POST", every_signed_in("hidden"),
        path={"course_key_string": "{course_key}"}, body={"first_section": True}),
    Row("courses.xblock_metadata", "GET", COURSE_CONTENT, path={"usage_key_str": "{html_key}"}),
    Row("courses.xblock_view", "GET", COURSE_CONTENT,
        path={"usage_key_str": "{html_key}", "view_name": "student_view"}),
    Row("courses.xblock_handler_url", "GET", COURSE_CONTENT,
        path={"usage_key_str": "{html_key}", "handler_name": "get_transcript"}),
    Row("courses.asset", "GET", EVERYONE, path={"asset_key": "{asset_key}"},
        note="an unlocked asset is public (session-only: a JWT is no credential here)"),
    # edx-organizations: (IsAuthenticated, UserIsStaff), UserIsStaff only guards PUT;
    # PATCH is disabled (405) for every signed-in caller.
    Row("courses.organization_list", "GET", AUTHENTICATED),
    Row("courses.organization_detail", "GET", AUTHENTICATED, path={"short_name": "{org}"}),
    Row("courses.organization_detail", "PUT", STAFF_ONLY, path=new_org, body=new_org),
    Row("courses.organization_detail", "PATCH", every_signed_in("not_allowed"),
        path={"short_name": "{org}"}, body={"description": "changed"}),
]

MATRIX = PluginMatrix(rows=ROWS, setup=setup)
