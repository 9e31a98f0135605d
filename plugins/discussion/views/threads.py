"""Threads (upstream ``discussion.rest_api.views.ThreadViewSet`` and ``LearnerThreadView``).

- ``GET /api/discussion/v1/threads/?course_id=``: the course's threads the requester may
  see, pinned first, with upstream's filters and orderings;
- ``POST``: a new thread (JSON; a form is 415, as upstream's parsers);
- ``GET``, ``PATCH`` (``application/merge-patch+json``; only ``editable_fields``) and
  ``DELETE`` (author or privileged) ``/api/discussion/v1/threads/{thread_id}/``;
- ``GET /api/discussion/v1/courses/{course_id}/learner/?username=``: one learner's threads.
"""
import colander
from sqlalchemy import and_, exists, false, or_, select

from lms.errors import developer
from lms.models import User
from lms.openapi import BOOLEAN, NUMBER, STRING, Body, array, nullable, obj
from lms.request import MERGE_PATCH, query_params, request_data
from lms.responses import no_content
from lms.service import Service
from lms.throttle import enforce
from lms.tracking import emit
from plugins.discussion import access, config, content, forms, posts, search
from plugins.discussion.forms import (BodyText, Choice, CourseKeyText, DrfBoolean,
                                      ExtendedNullBoolean, MultiText, PositiveInteger, Text,
                                      optional, validated)
from plugins.discussion.models import Comment, ReadState, Subscription, Thread
from plugins.discussion.pages import paginate

THREAD_NOT_FOUND = "Thread not found."
NOT_EDITABLE = "This field is not editable."
NOT_INITIALIZABLE = "This field is not initializable."
EXCLUSIVE = ("topic_id", "text_search", "following")
# ThreadViewSet and CommentViewSet parse JSON (and merge-patch) only: a form is 415.
JSON_ONLY = ("application/json",)

threads = Service("discussion.threads", "/api/discussion/v1/threads/", errors="developer")
thread_detail = Service("discussion.thread", "/api/discussion/v1/threads/{thread_id}/",
                        errors="developer")
learner_threads = Service("discussion.learner_threads",
                          "/api/discussion/v1/courses/{course_id}/learner/")

THREAD = obj({
    "id": STRING, "author": nullable(STRING), "author_label": nullable(STRING),
    "created_at": STRING, "updated_at": STRING, "raw_body": STRING, "rendered_body": STRING,
    "abuse_flagged": BOOLEAN, "voted": BOOLEAN, "vote_count": NUMBER,
    "editable_fields": array(STRING), "can_delete": BOOLEAN, "anonymous": BOOLEAN,
    "anonymous_to_peers": BOOLEAN, "last_edit": nullable(obj({})),
    "edit_by_label": nullable(STRING), "course_id": STRING, "topic_id": STRING,
    "group_id": nullable(NUMBER), "group_name": nullable(STRING), "type": STRING,
    "preview_body": STRING, "abuse_flagged_count": nullable(NUMBER), "title": STRING,
    "pinned": BOOLEAN, "closed": BOOLEAN, "following": BOOLEAN, "comment_count": NUMBER,
    "unread_comment_count": NUMBER, "comment_list_url": nullable(STRING),
    "endorsed_comment_list_url": nullable(STRING),
    "non_endorsed_comment_list_url": nullable(STRING), "read": BOOLEAN,
    "has_endorsed": BOOLEAN, "response_count": NUMBER, "close_reason_code": nullable(STRING),
    "close_reason": nullable(STRING), "closed_by": nullable(STRING),
    "closed_by_label": nullable(STRING)})
PAGINATION = obj({"next": nullable(STRING), "previous": nullable(STRING), "count": NUMBER,
                  "num_pages": NUMBER})
THREAD_PAGE = obj({"results": array(THREAD), "pagination": PAGINATION,
                   "text_search_rewrite": nullable(STRING)})
COMMON_ERRORS = {401: "Not signed in (`developer_message`).",
                 404: "Unknown or hidden course (`Course not found.`), discussions off, or "
                      "a page past the end."}


def thread_not_found():
    return developer(404, THREAD_NOT_FOUND)


def load_thread(request, thread_id, course_id=None):
    """The thread and the requester's :class:`~plugins.discussion.access.Context`, with
    upstream's 404s (unknown thread, course hidden, another group's thread)."""
    if not isinstance(thread_id, str) or "\x00" in thread_id:
        raise thread_not_found()
    thread = request.dbsession.scalar(select(Thread).where(Thread.content_id == thread_id))
    if thread is None:
        raise thread_not_found()
    if course_id is not None and course_id != thread.course_key:
        raise thread_not_found()
    context = access.load_course(request, thread.course_key)
    if not context.may_see_group(thread.group_id, thread.topic_id):
        raise thread_not_found()
    return thread, context


def requested_profile_images(values):
    return "profile_image" in (values.get("requested_fields") or ())


def serialize_one(request, context, thread, profile_images=False):
    viewer = content.Viewer(request, context, profile_images=profile_images)
    results, users = viewer.threads([thread])
    body = results[0]
    if users is not None:
        body["users"] = users
    return body


# -- list ---------------------------------------------------------------------------------------

class ThreadListForm(colander.MappingSchema):
    course_id = forms.required(CourseKeyText())
    page = optional(PositiveInteger())
    page_size = optional(PositiveInteger())
    topic_id = optional(MultiText())
    text_search = optional(Text())
    following = optional(ExtendedNullBoolean())
    author = optional(Text())
    thread_type = optional(Choice(content.THREAD_TYPES))
    flagged = optional(ExtendedNullBoolean())
    count_flagged = optional(ExtendedNullBoolean())
    view = optional(Choice(("unread", "unanswered", "unresponded")))
    order_by = optional(Choice(("last_activity_at", "comment_count", "vote_count")))
    order_direction = optional(Choice(("desc",)))
    requested_fields = optional(MultiText())
    group_id = optional(PositiveInteger())


ORDER_COLUMNS = {"last_activity_at": Thread.last_activity_at,
                 "comment_count": Thread.comment_count, "vote_count": Thread.vote_count}


def visible_threads(context):
    """The course's threads the requester may list: another group's threads in a divided
    topic are hidden from learners; so are posts whose author's anonymity a filter by
    author would betray (see :func:`~plugins.discussion.content.written_by`)."""
    stmt = select(Thread).where(Thread.course_key == context.course_key)
    if not context.privileged and context.group_id is not None:
        stmt = stmt.where(or_(Thread.group_id.is_(None), Thread.group_id == context.group_id))
    return stmt


def view_filter(context, view):
    me = context.user.id
    if view == "unread":
        read = select(ReadState.id).where(ReadState.thread_id == Thread.id,
                                          ReadState.user_id == me,
                                          ReadState.read_at >= Thread.last_activity_at)
        return ~exists(read)
    if view == "unanswered":
        return and_(Thread.thread_type == "question", Thread.endorsed.is_(False))
    return Thread.response_count == 0  # unresponded


def ordered(stmt, order_by):
    column = ORDER_COLUMNS[order_by or "last_activity_at"]
    return stmt.order_by(Thread.pinned.desc(), column.desc(), Thread.id.desc())


def thread_page(request, context, stmt, values, extra=None):
    profile_images = requested_profile_images(values)

    def serialize(rows):
        viewer = content.Viewer(request, context, profile_images=profile_images,
                                count_flagged=values.get("count_flagged"))
        results, users = viewer.threads([row[0] for row in rows])
        if users is not None:
            for result in results:
                result["users"] = {name: value for name, value in users.items()
                                   if name == result["author"]}
        return results

    body = paginate(request, stmt, serialize)
    body.update(extra or {})
    return body


LIST_QUERY = {
    "course_id": "The course (required).", "page": "Page (from 1).",
    "page_size": "Threads per page (10; at most 100).",
    "topic_id": "Topics (repeatable); exclusive with `text_search` and `following`.",
    "text_search": "Words in the title or body.", "following": "`true`: followed threads.",
    "author": "A username (an unknown one lists nothing).",
    "thread_type": "`discussion` or `question`.",
    "flagged": "`true`: flagged threads.",
    "count_flagged": "Privileged users only.",
    "view": "`unread`, `unanswered` or `unresponded`.",
    "order_by": "`last_activity_at` (default), `comment_count` or `vote_count`.",
    "order_direction": "`desc` only.", "requested_fields": "`profile_image`.",
    "group_id": "A group (privileged users; learners see their own group's).",
}


@threads.get(query=LIST_QUERY, responses={
    200: THREAD_PAGE, 400: "A bad parameter (`field_errors`), or exclusive parameters "
                           "together (`developer_message`).",
    403: "`count_flagged` without moderation privileges.", **COMMON_ERRORS})
def list_threads(request):
    """The course's threads, pinned first."""
    values = validated(ThreadListForm(), dict(query_params(request)) | multi(request))
    if sum(1 for name in EXCLUSIVE if values.get(name)) > 1:
        raise developer(400, "The following query parameters are mutually exclusive: "
                             "topic_id, text_search, following")
    if values.get("following") is False:
        raise forms.invalid("following", "The value of the 'following' parameter must be "
                                         "true.")
    context = access.load_course(request, values["course_id"])
    if values.get("count_flagged") and not context.privileged:
        raise developer(403, "`count_flagged` can only be set by users with moderator access "
                             "or higher.")
    stmt = visible_threads(context)
    if values.get("topic_id"):
        stmt = stmt.where(Thread.topic_id.in_(values["topic_id"]))
    if values.get("text_search"):
        stmt = stmt.where(search.matching_threads(request.dbsession.get_bind().dialect.name,
                                                  context.course_key, values["text_search"]))
    if values.get("following"):
        stmt = stmt.where(Thread.id.in_(select(Subscription.thread_id).where(
            Subscription.user_id == context.user.id)))
    if values.get("author"):
        author = request.dbsession.scalar(select(User.id).where(
            User.username == values["author"]))
        stmt = stmt.where(content.written_by(context, Thread, author) if author is not None
                          else false())
    if values.get("thread_type"):
        stmt = stmt.where(Thread.thread_type == values["thread_type"])
    if values.get("flagged"):
        stmt = stmt.where(flagged_filter(context))
    if values.get("view"):
        stmt = stmt.where(view_filter(context, values["view"]))
    if values.get("group_id") and context.privileged:
        stmt = stmt.where(or_(Thread.group_id.is_(None), Thread.group_id == values["group_id"]))
    return thread_page(request, context, ordered(stmt, values.get("order_by")), values,
                       {"text_search_rewrite": None})


def flagged_filter(context):
    """Threads flagged (or with a flagged comment) by anyone for privileged users, by the
    requester for others."""
    from plugins.discussion.models import Flag

    flags = select(Flag.id).where(Flag.cleared.is_(False), or_(
        Flag.thread_id == Thread.id,
        Flag.comment_id.in_(select(Comment.id).where(Comment.thread_id == Thread.id))))
    if not context.privileged:
        flags = flags.where(Flag.user_id == context.user.id)
    return exists(flags)


def multi(request):
    """The repeatable query parameters, every value kept."""
    query = request.GET
    found = {}
    for name in ("topic_id", "requested_fields"):
        values = [v for raw in query.getall(name) for v in raw.split(",")]
        if values:
            found[name] = values
    return found


# -- create -------------------------------------------------------------------------------------

class ThreadBody(colander.MappingSchema):
    course_id = forms.required(CourseKeyText())
    topic_id = forms.required(BodyText())
    type = forms.required(Choice(content.THREAD_TYPES))
    title = forms.required(BodyText())
    raw_body = forms.required(BodyText())
    following = optional(DrfBoolean())
    anonymous = optional(DrfBoolean())
    anonymous_to_peers = optional(DrfBoolean())
    group_id = optional(PositiveInteger())


def body_of(request, accept=JSON_ONLY):
    data = request_data(request, accept)
    if not isinstance(data, dict):
        raise developer(400, "Invalid data. Expected a dictionary.")
    return dict(data)


def refuse(fields, message):
    if fields:
        raise forms.field_errors({name: message for name in sorted(fields)}, style="developer")


def check_posting(request, context):
    if not context.may_post():
        raise developer(403, access.BLACKOUT)
    rate = request.registry.settings.get("discussion.content_rate", "").strip()
    if rate and rate != "0" and not context.privileged:
        enforce(request, "discussion.content", str(context.user.id), rate,
                body="Too many requests")


def valid_topic(request, context, topic_id):
    """A course-wide topic, or an inline one the requester may see."""
    if topic_id in context.course_wide_ids:
        return True
    return topic_id in visible_inline_topics(request, context)


def visible_inline_topics(request, context):
    from plugins.courses import api as courses_api

    content_access = courses_api.content_access(request.registry, request.dbsession,
                                                context.user, context.course)
    structure = content_access.structure
    topics = config.inline_topics(structure)
    return {topic.topic_id for topic in topics if content_access.may_see(topic.usage_key)}


@threads.post(body=obj({"course_id": STRING, "topic_id": STRING, "type": STRING,
                         "title": STRING, "raw_body": STRING, "following": BOOLEAN,
                         "anonymous": BOOLEAN, "anonymous_to_peers": BOOLEAN,
                         "group_id": NUMBER}, required=False),
              responses={200: THREAD, 400: "Bad or not initializable fields (`field_errors`).",
                         415: "Not JSON.",
                         403: "A blackout period.", 429: "Posting too fast.",
                         **COMMON_ERRORS})
def create_thread(request):
    """A new thread (JSON); its author follows it unless ``following`` is false."""
    data = body_of(request)
    if not data.get("course_id"):
        raise forms.invalid("course_id", forms.REQUIRED)
    raw_key = data["course_id"]
    if not isinstance(raw_key, str):
        raise forms.invalid("course_id", "Enter a valid value.")
    context = access.load_course(request, raw_key)
    check_posting(request, context)
    refuse(set(data) - content.new_thread_fields(context), NOT_INITIALIZABLE)
    known = {child.name for child in ThreadBody().children}
    values = validated(ThreadBody(), {k: v for k, v in data.items() if k in known})
    if not valid_topic(request, context, values["topic_id"]):
        raise forms.invalid("topic_id", "Invalid topic id")
    group_id = values.get("group_id")
    if group_id is None and context.is_divided(values["topic_id"]):
        group_id = context.group_id
    elif group_id is not None and group_id not in context.group_names:
        raise forms.invalid("group_id", "Invalid group id")
    db = request.dbsession
    thread = posts.create_thread(
        db, course_key=context.course_key, author_id=context.user.id,
        topic_id=values["topic_id"], thread_type=values["type"], title=values["title"],
        body=values["raw_body"], anonymous=bool(values.get("anonymous")),
        anonymous_to_peers=bool(values.get("anonymous_to_peers")), group_id=group_id)
    if values.get("following", True):
        posts.set_following(db, context.user.id, thread, True)
    emit(request, "edx.forum.thread.created", {
        "commentable_id": thread.topic_id, "id": thread.content_id,
        "thread_type": thread.thread_type, "title": thread.title,
        "anonymous": thread.anonymous, "anonymous_to_peers": thread.anonymous_to_peers,
        "group_id": thread.group_id, "options": {"followed": bool(values.get("following", True))},
        "body": thread.body[:2000]}, course_key=context.course_key)
    return serialize_one(request, context, thread)


# -- one thread ---------------------------------------------------------------------------------

class ThreadDetailQuery(colander.MappingSchema):
    course_id = optional(CourseKeyText())
    requested_fields = optional(MultiText())


@thread_detail.get(query={"course_id": "Must be the thread's course when given.",
                          "requested_fields": "`profile_image`."},
                   responses={200: THREAD, 400: "A bad `course_id` (`field_errors`).",
                              404: "Unknown or hidden thread (`Thread not found.`) or course.",
                              401: "Not signed in."})
def get_thread(request):
    """One thread."""
    values = validated(ThreadDetailQuery(), dict(query_params(request)) | multi(request))
    thread, context = load_thread(request, request.matchdict["thread_id"],
                                  values.get("course_id"))
    return serialize_one(request, context, thread, requested_profile_images(values))


class ThreadPatch(colander.MappingSchema):
    topic_id = optional(BodyText())
    type = optional(Choice(content.THREAD_TYPES))
    title = optional(BodyText())
    raw_body = optional(BodyText())
    following = optional(DrfBoolean())
    voted = optional(DrfBoolean())
    abuse_flagged = optional(DrfBoolean())
    read = optional(DrfBoolean())
    pinned = optional(DrfBoolean())
    closed = optional(DrfBoolean())
    close_reason_code = optional(Text())
    edit_reason_code = optional(Text())
    anonymous = optional(DrfBoolean())
    anonymous_to_peers = optional(DrfBoolean())
    group_id = optional(PositiveInteger())
    copy_link = optional(DrfBoolean())


def merge_patch_body(request):
    data = request_data(request, (MERGE_PATCH,))
    if not isinstance(data, dict):
        raise developer(400, "Invalid data. Expected a dictionary.")
    return data


def check_reason(field, code, choices):
    from plugins.discussion import reasons

    if code is not None and code not in dict(getattr(reasons, choices)):
        raise forms.invalid(field, f"Invalid {field.replace('_', ' ')}")


@thread_detail.patch(body=Body(obj({}, required=False, additionalProperties=True),
                               "Any of the thread's `editable_fields`.", MERGE_PATCH),
                     responses={200: THREAD, 400: "A field not editable or invalid.",
                                415: "Not `application/merge-patch+json`.",
                                404: "Unknown or hidden thread.", 401: "Not signed in."})
def update_thread(request):
    """Change a thread's editable fields; the answer is always ``read``."""
    thread, context = load_thread(request, request.matchdict["thread_id"])
    data = merge_patch_body(request)
    refuse(set(data) - set(content.thread_editable_fields(context, thread)), NOT_EDITABLE)
    values = validated(ThreadPatch(), data)
    for name in ("title", "raw_body", "topic_id", "type"):
        if name in data and name not in values:
            raise forms.invalid(name, "This field may not be blank.")
    check_reason("edit_reason_code", values.get("edit_reason_code"), "EDIT_REASONS")
    check_reason("close_reason_code", values.get("close_reason_code"), "CLOSE_REASONS")
    if "topic_id" in values and not valid_topic(request, context, values["topic_id"]):
        raise forms.invalid("topic_id", "Invalid topic id")
    db = request.dbsession
    me = context.user.id
    changed = False
    if "raw_body" in values:
        posts.record_edit(db, thread, me, values["raw_body"], values.get("edit_reason_code"))
        changed = True
    for name, attribute in (("title", "title"), ("topic_id", "topic_id"),
                            ("type", "thread_type"), ("anonymous", "anonymous"),
                            ("anonymous_to_peers", "anonymous_to_peers"),
                            ("group_id", "group_id"), ("pinned", "pinned")):
        if name in values:
            setattr(thread, attribute, values[name])
            changed = True
    if "closed" in values:
        posts.close(db, thread, values["closed"], me, values.get("close_reason_code"))
        changed = True
    if changed:
        from lms.timeutil import utcnow

        thread.updated_at = utcnow()
    if "following" in values:
        posts.set_following(db, me, thread, values["following"])
    if "voted" in values:
        posts.set_vote(db, me, thread, values["voted"])
    if "abuse_flagged" in values:
        posts.set_flag(db, me, thread, values["abuse_flagged"], privileged=context.privileged)
    db.flush()
    posts.mark_read(db, me, thread)
    body = serialize_one(request, context, thread)
    body.update(read=True, unread_comment_count=0)
    return body


@thread_detail.delete(responses={204: "Deleted.", 403: "Neither the author nor privileged.",
                                 404: "Unknown or hidden thread.", 401: "Not signed in."})
def delete_thread(request):
    """Delete a thread with its comments (author or privileged)."""
    thread, context = load_thread(request, request.matchdict["thread_id"])
    if not (context.privileged or content.is_author(context, thread)):
        raise developer(403, "You do not have permission to perform this action.")
    posts.delete_thread(request.dbsession, thread)
    return no_content()


# -- one learner's threads ----------------------------------------------------------------------
# Upstream's LearnerThreadView is a plain DRF view: DRF's error bodies, and its own
# permission (IsStaffOrCourseTeamOrEnrolled) before anything else.

class LearnerThreadsForm(colander.MappingSchema):
    page = optional(PositiveInteger())
    page_size = optional(PositiveInteger())
    count_flagged = optional(ExtendedNullBoolean())
    thread_type = optional(Choice(content.THREAD_TYPES))
    order_by = optional(Text())
    group_id = optional(PositiveInteger())
    requested_fields = optional(MultiText())


LEARNER_STATUSES = ("flagged", "unanswered", "unread", "unresponded")


@learner_threads.get(query={
    "username": "The learner (required).", "page": "Page (from 1).",
    "page_size": "Threads per page (10; at most 100).",
    "count_flagged": "Privileged users only.", "thread_type": "`discussion` or `question`.",
    "order_by": "`last_activity_at` (default), `comment_count` or `vote_count`.",
    "status": "`flagged`, `unanswered`, `unread` or `unresponded`.",
    "group_id": "A group (privileged users).", "requested_fields": "`profile_image`."},
    responses={200: THREAD_PAGE, 400: "A bad parameter (DRF's `{field: [message]}`).",
               401: "Not signed in (`detail`).",
               403: "Not a member of the course (`detail`), or `count_flagged` without "
                    "moderation privileges.",
               404: "An unknown user or a course the caller may not load (`detail`)."})
def list_learner_threads(request):
    """The threads one learner wrote, as the requester may see them."""
    from lms.errors import APIError, detail, permission_denied

    raw_key = request.matchdict["course_id"]
    if not access.is_member(request, raw_key):
        raise permission_denied()
    params = query_params(request)
    try:
        values = LearnerThreadsForm().deserialize(dict(params) | multi(request))
    except colander.Invalid as exc:
        raise APIError(400, {name.split(".")[-1]: [message.split("; ")[0]]
                             for name, message in exc.asdict().items()})
    status = params.get("status")
    if status and status not in LEARNER_STATUSES:
        raise APIError(400, {"status": [f"Invalid value. '{status}' must be 'flagged', "
                                        "'unanswered', 'unread' or 'unresponded"]})
    username = params.get("username")
    author = request.dbsession.scalar(select(User.id).where(User.username == username)) \
        if username and "\x00" not in username else None
    if author is None:
        raise detail(404, "Not found.")
    try:
        context = access.load_course(request, raw_key)
    except APIError:
        raise detail(404, access.COURSE_NOT_FOUND)
    if values.get("count_flagged") and not context.privileged:
        raise permission_denied(message="`count_flagged` can only be set by users with "
                                        "moderator access or higher.")
    stmt = visible_threads(context).where(content.written_by(context, Thread, author))
    if values.get("thread_type"):
        stmt = stmt.where(Thread.thread_type == values["thread_type"])
    if status == "flagged":
        stmt = stmt.where(flagged_filter(context))
    elif status:
        stmt = stmt.where(view_filter(context, status))
    if values.get("group_id") and context.privileged:
        stmt = stmt.where(or_(Thread.group_id.is_(None), Thread.group_id == values["group_id"]))
    order_by = values.get("order_by")
    ordering = order_by if order_by in ORDER_COLUMNS else "last_activity_at"
    return thread_page(request, context, ordered(stmt, ordering), values,
                       {"text_search_rewrite": None})
