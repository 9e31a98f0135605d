"""Comments (upstream ``discussion.rest_api.views.CommentViewSet``).

- ``GET /api/discussion/v1/comments/?thread_id=``: a thread's responses (``endorsed``
  required for questions, refused for discussions), oldest first (``reverse_order``);
  ``?username=&course_id=``: one user's comments in a course, newest first;
- ``POST``: a response, or a reply with ``parent_id``;
- ``GET /api/discussion/v1/comments/{comment_id}/``: a response's replies (paginated);
  ``PATCH`` (``application/merge-patch+json``) and ``DELETE`` the comment.
"""
import colander
from sqlalchemy import select

from lms.errors import developer
from lms.models import User
from lms.openapi import BOOLEAN, NUMBER, STRING, Body, array, nullable, obj
from lms.request import query_params
from lms.responses import no_content
from lms.service import Service
from lms.settings import as_int
from lms.timeutil import utcnow
from lms.tracking import emit
from plugins.discussion import access, content, forms, posts
from plugins.discussion.forms import (BodyText, CourseKeyText, DrfBoolean,
                                      ExtendedNullBoolean, MultiText, PositiveInteger, Text,
                                      optional, validated)
from plugins.discussion.models import Comment, Flag, Thread
from plugins.discussion.pages import paginate
from plugins.discussion.views.threads import (MERGE_PATCH, COMMON_ERRORS, NOT_EDITABLE, NOT_INITIALIZABLE,
                                              PAGINATION, body_of, check_posting, check_reason,
                                              load_thread, merge_patch_body, multi, refuse,
                                              requested_profile_images)

COMMENT_NOT_FOUND = "Comment not found."

comments = Service("discussion.comments", "/api/discussion/v1/comments/", errors="developer")
comment_detail = Service("discussion.comment", "/api/discussion/v1/comments/{comment_id}/",
                         errors="developer")

COMMENT = obj({
    "id": STRING, "author": nullable(STRING), "author_label": nullable(STRING),
    "created_at": STRING, "updated_at": STRING, "raw_body": STRING, "rendered_body": STRING,
    "abuse_flagged": BOOLEAN, "voted": BOOLEAN, "vote_count": NUMBER,
    "editable_fields": array(STRING), "can_delete": BOOLEAN, "anonymous": BOOLEAN,
    "anonymous_to_peers": BOOLEAN, "last_edit": nullable(obj({})),
    "edit_by_label": nullable(STRING), "thread_id": STRING, "parent_id": nullable(STRING),
    "endorsed": BOOLEAN, "endorsed_by": nullable(STRING), "endorsed_by_label": nullable(STRING),
    "endorsed_at": nullable(STRING), "child_count": NUMBER, "children": array(obj({})),
    "abuse_flagged_any_user": nullable(BOOLEAN), "profile_image": nullable(obj({}))})
COMMENT_PAGE = obj({"results": array(COMMENT), "pagination": PAGINATION})


def comment_not_found():
    return developer(404, COMMENT_NOT_FOUND)


def load_comment(request, comment_id):
    if not isinstance(comment_id, str) or "\x00" in comment_id:
        raise comment_not_found()
    comment = request.dbsession.scalar(select(Comment).where(Comment.content_id == comment_id))
    if comment is None:
        raise comment_not_found()
    thread = request.dbsession.get(Thread, comment.thread_id)
    context = access.load_course(request, thread.course_key)
    if not context.may_see_group(thread.group_id, thread.topic_id):
        raise comment_not_found()
    return comment, thread, context


def comment_page(request, context, stmt, values, threads, in_thread=True):
    viewer = content.Viewer(request, context, profile_images=requested_profile_images(values))

    def serialize(rows):
        found = [row[0] for row in rows]
        missing = {c.thread_id for c in found} - set(threads)
        if missing:
            threads.update({t.id: t for t in request.dbsession.scalars(
                select(Thread).where(Thread.id.in_(missing)))})
        return viewer.comments(found, threads, in_thread=in_thread)

    return paginate(request, stmt, serialize)


# -- list ---------------------------------------------------------------------------------------

class UserCommentListForm(colander.MappingSchema):
    username = optional(Text())
    course_id = forms.required(CourseKeyText())
    flagged = optional(ExtendedNullBoolean())
    page = optional(PositiveInteger())
    page_size = optional(PositiveInteger())
    requested_fields = optional(MultiText())


class CommentListForm(colander.MappingSchema):
    thread_id = forms.required(Text())
    endorsed = optional(ExtendedNullBoolean())
    flagged = optional(ExtendedNullBoolean())
    reverse_order = optional(ExtendedNullBoolean())
    page = optional(PositiveInteger())
    page_size = optional(PositiveInteger())
    requested_fields = optional(MultiText())
    merge_question_type_responses = optional(ExtendedNullBoolean())


@comments.get(query={
    "thread_id": "The thread (or `username` with `course_id`).",
    "username": "A user's comments (with `course_id`).", "course_id": "The course.",
    "endorsed": "Question threads: required, endorsed responses or the others.",
    "flagged": "Only flagged comments (privileged users; no effect for others).",
    "reverse_order": "Newest first.", "page": "Page (from 1).",
    "page_size": "Comments per page (10; at most 100).", "requested_fields": "`profile_image`.",
    "merge_question_type_responses": "Question threads: every response, endorsed or not."},
    responses={200: COMMENT_PAGE, 400: "A bad or missing parameter (`field_errors`).",
               **COMMON_ERRORS})
def list_comments(request):
    """A thread's responses, or one user's comments in a course."""
    if "username" in request.GET:
        return user_comments(request, validated(UserCommentListForm(),
                                                dict(query_params(request)) | multi(request)))
    values = validated(CommentListForm(), dict(query_params(request)) | multi(request))
    thread, context = load_thread(request, values["thread_id"])
    endorsed = values.get("endorsed")
    merged = values.get("merge_question_type_responses")
    if thread.thread_type == "question" and endorsed is None and not merged:
        raise forms.invalid("endorsed", "This field is required for question threads.")
    if thread.thread_type == "discussion" and endorsed is not None:
        raise forms.invalid("endorsed", "This field may not be specified for discussion "
                                        "threads.")
    stmt = select(Comment).where(Comment.thread_id == thread.id, Comment.parent_id.is_(None))
    if endorsed is not None and not merged:
        stmt = stmt.where(Comment.endorsed.is_(endorsed))
    if values.get("flagged") and context.privileged:  # no effect for others (upstream)
        stmt = stmt.where(Comment.id.in_(select(Flag.comment_id).where(Flag.cleared.is_(False))))
    if values.get("reverse_order"):
        stmt = stmt.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        stmt = stmt.order_by(Comment.created_at, Comment.id)
    return comment_page(request, context, stmt, values, {thread.id: thread})


def user_comments(request, values):
    author = request.dbsession.scalar(select(User.id).where(User.username == values["username"]))
    if author is None:
        raise developer(404, "No User matches the given query.")
    context = access.load_course(request, values["course_id"])
    stmt = (select(Comment).join(Thread, Thread.id == Comment.thread_id)
            .where(Comment.course_key == context.course_key,
                   content.written_by(context, Comment, author)))
    if not context.privileged and context.group_id is not None:
        from sqlalchemy import or_

        stmt = stmt.where(or_(Thread.group_id.is_(None), Thread.group_id == context.group_id))
    if values.get("flagged") and context.privileged:
        stmt = stmt.where(Comment.id.in_(select(Flag.comment_id).where(Flag.cleared.is_(False))))
    stmt = stmt.order_by(Comment.created_at.desc(), Comment.id.desc())
    return comment_page(request, context, stmt, values, {}, in_thread=False)


# -- create -------------------------------------------------------------------------------------

class CommentBody(colander.MappingSchema):
    thread_id = forms.required(BodyText())
    parent_id = optional(BodyText())
    raw_body = forms.required(BodyText())
    anonymous = optional(DrfBoolean())
    anonymous_to_peers = optional(DrfBoolean())
    endorsed = optional(DrfBoolean())
    voted = optional(DrfBoolean())
    abuse_flagged = optional(DrfBoolean())


def max_depth(settings):
    raw = str(settings.get("discussion.max_comment_depth", "")).strip()
    return as_int(settings, "discussion.max_comment_depth") if raw else None


@comments.post(body=obj({"thread_id": STRING, "raw_body": STRING, "parent_id": STRING,
                          "anonymous": BOOLEAN, "anonymous_to_peers": BOOLEAN,
                          "endorsed": BOOLEAN}, required=False),
               responses={200: COMMENT, 400: "Bad fields, a parent of another thread, or "
                                             "too deep.",
                          403: "A closed thread or a blackout period.", 429: "Posting too fast.",
                          415: "Not JSON.",
                          **COMMON_ERRORS})
def create_comment(request):
    """A response to a thread, or a reply to a response."""
    data = body_of(request)
    thread_id = data.get("thread_id")
    if not thread_id:
        raise forms.invalid("thread_id", forms.REQUIRED)
    if not isinstance(thread_id, str):
        raise forms.invalid("thread_id", "Enter a valid value.")
    thread, context = load_thread(request, thread_id)
    check_posting(request, context)
    if thread.closed:
        raise developer(403, "You do not have permission to perform this action.")
    parent = None
    parent_id = data.get("parent_id")
    if parent_id:
        parent = request.dbsession.scalar(select(Comment).where(
            Comment.content_id == str(parent_id)))
        if parent is None or parent.thread_id != thread.id:
            raise forms.invalid("non_field_errors", "parent_id does not identify a comment "
                                                    "in the thread identified by thread_id.")
        # upstream is_comment_too_deep: the parent is already at the deepest level
        depth = max_depth(request.registry.settings)
        if depth is not None and parent.depth >= depth:
            raise forms.invalid("non_field_errors", "Comment level is too deep.")
    refuse(set(data) - content.new_comment_fields(context, thread, parent), NOT_INITIALIZABLE)
    known = {child.name for child in CommentBody().children}
    values = validated(CommentBody(), {k: v for k, v in data.items() if k in known})
    db = request.dbsession
    comment = posts.create_comment(
        db, thread=thread, parent=parent, author_id=context.user.id, body=values["raw_body"],
        anonymous=bool(values.get("anonymous")),
        anonymous_to_peers=bool(values.get("anonymous_to_peers")))
    if values.get("endorsed"):
        posts.endorse(db, comment, thread, True, context.user.id)
    if values.get("voted"):
        posts.set_vote(db, context.user.id, comment, True)
    if values.get("abuse_flagged"):
        posts.set_flag(db, context.user.id, comment, True, privileged=context.privileged)
    posts.mark_read(db, context.user.id, thread)
    event = "edx.forum.comment.created" if parent else "edx.forum.response.created"
    emit(request, event, {"commentable_id": thread.topic_id, "id": comment.content_id,
                          "discussion": {"id": thread.content_id},
                          "body": comment.body[:2000]}, course_key=context.course_key)
    return content.Viewer(request, context).comments([comment], {thread.id: thread})[0]


# -- one comment --------------------------------------------------------------------------------

class RepliesForm(colander.MappingSchema):
    page = optional(PositiveInteger())
    page_size = optional(PositiveInteger())
    requested_fields = optional(MultiText())
    reverse_order = optional(ExtendedNullBoolean())


@comment_detail.get(query={"page": "Page (from 1).", "page_size": "Replies per page (10).",
                           "requested_fields": "`profile_image`.",
                           "reverse_order": "Newest first."},
                    responses={200: COMMENT_PAGE,
                               404: "Unknown or hidden comment (`Comment not found.`).",
                               401: "Not signed in.", 400: "A bad parameter."})
def list_replies(request):
    """A response's replies, oldest first."""
    values = validated(RepliesForm(), dict(query_params(request)) | multi(request))
    comment, thread, context = load_comment(request, request.matchdict["comment_id"])
    stmt = select(Comment).where(Comment.parent_id == comment.id)
    if values.get("reverse_order"):
        stmt = stmt.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        stmt = stmt.order_by(Comment.created_at, Comment.id)
    return comment_page(request, context, stmt, values, {thread.id: thread})


class CommentPatch(colander.MappingSchema):
    raw_body = optional(BodyText())
    endorsed = optional(DrfBoolean())
    voted = optional(DrfBoolean())
    abuse_flagged = optional(DrfBoolean())
    anonymous = optional(DrfBoolean())
    anonymous_to_peers = optional(DrfBoolean())
    edit_reason_code = optional(Text())


@comment_detail.patch(body=Body(obj({}, required=False, additionalProperties=True),
                                "Any of the comment's `editable_fields`.", MERGE_PATCH),
                      responses={200: COMMENT, 400: "A field not editable or invalid.",
                                 415: "Not `application/merge-patch+json`.",
                                 404: "Unknown or hidden comment.", 401: "Not signed in."})
def update_comment(request):
    """Change a comment's editable fields."""
    comment, thread, context = load_comment(request, request.matchdict["comment_id"])
    data = merge_patch_body(request)
    refuse(set(data) - set(content.comment_editable_fields(context, comment, thread)),
           NOT_EDITABLE)
    values = validated(CommentPatch(), data)
    if "raw_body" in data and "raw_body" not in values:
        raise forms.invalid("raw_body", "This field may not be blank.")
    check_reason("edit_reason_code", values.get("edit_reason_code"), "EDIT_REASONS")
    db = request.dbsession
    me = context.user.id
    if "raw_body" in values:
        posts.record_edit(db, comment, me, values["raw_body"], values.get("edit_reason_code"))
        comment.updated_at = utcnow()
    for name in ("anonymous", "anonymous_to_peers"):
        if name in values:
            setattr(comment, name, values[name])
    if "endorsed" in values:
        posts.endorse(db, comment, thread, values["endorsed"], me)
    if "voted" in values:
        posts.set_vote(db, me, comment, values["voted"])
    if "abuse_flagged" in values:
        posts.set_flag(db, me, comment, values["abuse_flagged"], privileged=context.privileged)
    db.flush()
    return content.Viewer(request, context).comments([comment], {thread.id: thread})[0]


@comment_detail.delete(responses={204: "Deleted.", 403: "Neither the author nor privileged.",
                                  404: "Unknown or hidden comment.", 401: "Not signed in."})
def delete_comment(request):
    """Delete a comment and its replies (author or privileged)."""
    comment, thread, context = load_comment(request, request.matchdict["comment_id"])
    if not (context.privileged or content.is_author(context, comment)):
        raise developer(403, "You do not have permission to perform this action.")
    posts.delete_comment(request.dbsession, comment, thread)
    return no_content()
