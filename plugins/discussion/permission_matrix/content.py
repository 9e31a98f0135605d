"""Threads, comments, a learner's threads, activity stats, uploads and the retirement
steps.

The learner (enrolled) wrote a thread with a response and a reply in the world's course;
course staff moderate it (privileged), global staff too. Deleting needs the author or a
moderator: each cell deletes a post of its own, written by the learner."""
import io

from lms.matrix import EVERYONE, SUPERUSER_ONLY, Row
from plugins.discussion.permission_matrix.common import COURSE_MEMBERS

# Upstream IsStaffOrCourseTeamOrEnrolled: the other learner (not enrolled) is refused.
MEMBERS_ONLY = {**COURSE_MEMBERS, "other_learner": "forbidden"}

MERGE_PATCH = "application/merge-patch+json"
# The world's service user is the accounts plugin's retirement service and username
# replacement worker (its matrix settings).
RETIREMENT = {**SUPERUSER_ONLY, "superuser": "hidden", "service_user": "hidden"}
REPLACEMENT = {**SUPERUSER_ONLY, "superuser": "forbidden", "service_user": "ok"}


def png():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def _post(world, author, parent_thread=None, parent_comment=None, title="Matrix thread"):
    from plugins.discussion import posts

    if parent_thread is None:
        return posts.create_thread(world.db, course_key=world.values["forum_course_key"],
                                   author_id=author.id, topic_id="course",
                                   thread_type="discussion", title=title,
                                   body="A thread of the matrix")
    return posts.create_comment(world.db, thread=parent_thread, parent=parent_comment,
                                author_id=author.id, body="A comment of the matrix")


FORUM_COURSE_KEY = "course-v1:MatrixX+Forum+2026_T1"


def setup(world):
    """A course of the plugin's own (the learner enrolled, course staff its staff)."""
    from lms.keys import parse_course_key
    from lms.permissions import grant_role
    from plugins.courses import api as courses_api
    from plugins.discussion.models import Upload
    from plugins.enrollment import api as enrollment_api

    root = "block-v1:MatrixX+Forum+2026_T1+type@course+block@course"
    courses_api.store_course(
        world.db, FORUM_COURSE_KEY,
        {"display_name": "Matrix Forum", "start": "2020-01-01T00:00:00+00:00"},
        [{"usage_key": root, "block_type": "course", "block_id": "course",
          "display_name": "Matrix Forum", "children": [], "fields": {}, "data": {}}])
    learner = world.users["learner"]
    enrollment_api.enroll(world.db, learner.id, FORUM_COURSE_KEY)
    grant_role(world.db, world.users["course_staff"], "staff", parse_course_key(FORUM_COURSE_KEY))
    world.values["forum_course_key"] = FORUM_COURSE_KEY
    thread = _post(world, learner)
    response = _post(world, learner, thread)
    reply = _post(world, learner, thread, response)
    world.db.add(Upload(course_key=world.values["forum_course_key"], name="root/matrix.png",
                        content_type="image/png", content=png(), user_id=learner.id))
    world.db.commit()
    world.values.update(discussion_thread=thread.content_id,
                        discussion_response=response.content_id,
                        discussion_reply=reply.content_id)


def fresh_thread(world):
    thread = _post(world, world.users["learner"], title=f"To delete ({world.role})")
    world.db.commit()
    return {"thread_id": thread.content_id}


def fresh_comment(world):
    from sqlalchemy import select

    from plugins.discussion.models import Thread

    thread = world.db.scalar(select(Thread).where(
        Thread.content_id == world.values["discussion_thread"]))
    comment = _post(world, world.users["learner"], thread)
    world.db.commit()
    return {"comment_id": comment.content_id}


ROWS = [
    Row("discussion.threads", "GET", COURSE_MEMBERS, query={"course_id": "{forum_course_key}"},
        note="STD-AUTH; course load + enrolled or staff (else 404 Course not found.)"),
    Row("discussion.threads", "POST", COURSE_MEMBERS,
        body={"course_id": "{forum_course_key}", "topic_id": "course", "type": "discussion",
              "title": "Hello", "raw_body": "From the matrix"},
        note="course members may post (outside blackouts)"),
    Row("discussion.thread", "GET", COURSE_MEMBERS, path={"thread_id": "{discussion_thread}"}),
    Row("discussion.thread", "PATCH", COURSE_MEMBERS, path={"thread_id": "{discussion_thread}"},
        body={"read": True}, content_type=MERGE_PATCH,
        note="each member may mark it read (an editable field of everyone)"),
    Row("discussion.thread", "DELETE", COURSE_MEMBERS, path=fresh_thread,
        note="the author (learner) or privileged users (course staff, global staff)"),
    Row("discussion.comments", "GET", COURSE_MEMBERS,
        query={"thread_id": "{discussion_thread}"}),
    Row("discussion.comments", "POST", COURSE_MEMBERS,
        body={"thread_id": "{discussion_thread}", "raw_body": "A matrix response"}),
    Row("discussion.comment", "GET", COURSE_MEMBERS,
        path={"comment_id": "{discussion_response}"}),
    Row("discussion.comment", "PATCH", COURSE_MEMBERS,
        path={"comment_id": "{discussion_reply}"}, body={"abuse_flagged": False},
        content_type=MERGE_PATCH, note="flagging is everyone's editable field"),
    Row("discussion.comment", "DELETE", COURSE_MEMBERS, path=fresh_comment,
        note="the author (learner) or privileged users"),
    Row("discussion.learner_threads", "GET", MEMBERS_ONLY,
        path={"course_id": "{forum_course_key}"}, query={"username": "{learner}"},
        note="IsStaffOrCourseTeamOrEnrolled (403) before the course is looked up"),
    Row("discussion.activity_stats", "GET", MEMBERS_ONLY,
        path={"course_key_string": "{forum_course_key}"},
        note="IsStaffOrCourseTeamOrEnrolled (403)"),
    Row("discussion.upload", "POST", MEMBERS_ONLY, path={"course_id": "{forum_course_key}"},
        body={"thread_key": "root"}, form=True,
        upload=[("uploaded_file", "pixel.png", png())],
        note="IsStaffOrCourseTeamOrEnrolled"),
    Row("discussion.upload_file", "GET", EVERYONE,
        path={"course_id": "{forum_course_key}", "thread_key": "root", "name": "matrix.png"},
        note="a storage URL: public, as upstream's"),
    Row("discussion.retire_forum", "POST", RETIREMENT, body={"username": "nobody_retiring"},
        note="CanRetireUser: superuser or the retirement service; no retirement here: 404"),
    Row("discussion.replace_username", "POST", REPLACEMENT,
        body={"username_mappings": [{"matrix_old": "matrix_new"}]},
        note="CanReplaceUsername: the replacement worker only"),
]
