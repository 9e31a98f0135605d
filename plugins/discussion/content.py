"""Threads and comments as the discussion API shows them (upstream
``discussion.rest_api.serializers`` over the forum service's answers).

A :class:`Viewer` serializes a whole page at once: authors, labels, the requester's
votes, flags, subscriptions and read states, the latest edits and group names are read
in one query each, whatever the page size.

Anonymity: a post ``anonymous`` hides its author from everyone, ``anonymous_to_peers``
from everyone but privileged users; a hidden author appears in no field (``author``,
``author_label``, ``users``, ``endorsed_by`` of an anonymous question's author...).
"""
from sqlalchemy import and_, func, or_, select

from lms.models import User
from lms.timeutil import isoformat
from plugins.discussion import reasons
from plugins.discussion.access import labels_of
from plugins.discussion.models import (Comment, EditHistory, Flag, ReadState, Subscription,
                                       Thread, Vote)
from plugins.discussion.render import preview_body, render_body

THREAD_TYPES = ("discussion", "question")


def edit_reason(code):
    return dict(reasons.EDIT_REASONS).get(code) if code else None


def close_reason(code):
    return dict(reasons.CLOSE_REASONS).get(code) if code else None


def is_author(context, content):
    return context.user is not None and content.author_id == context.user.id


def author_hidden(context, content):
    """Upstream ``_is_anonymous``."""
    return bool(content.anonymous or (content.anonymous_to_peers and not context.privileged))


def written_by(context, model, author_id):
    """SQL: the posts (``Thread`` or ``Comment``) of ``author_id`` whose author the
    requester may see, so that a filter by author never betrays an anonymous one (the
    author finds their own)."""
    clauses = [model.author_id == author_id]
    if context.user is None or author_id != context.user.id:
        clauses.append(model.anonymous.is_(False))
        if not context.privileged:
            clauses.append(model.anonymous_to_peers.is_(False))
    return and_(*clauses)


def thread_editable_fields(context, thread):
    """Upstream ``get_editable_fields`` for a thread: a closed thread keeps only flagging,
    reading, copying its link and the moderators' closing and pinning; authors do not
    vote for their own posts."""
    privileged = context.privileged
    fields = {"abuse_flagged", "copy_link", "read"}
    if privileged:
        fields |= {"closed", "close_reason_code"}
    if privileged or context.is_staff_or_admin:
        fields.add("pinned")
    if thread.closed:
        return sorted(fields)
    author = is_author(context, thread)
    fields.add("following")
    if privileged or not author or context.is_staff_or_admin:
        fields.add("voted")
    if privileged and not author:
        fields.add("edit_reason_code")
    if author or privileged:
        fields |= {"raw_body", "topic_id", "type", "title"}
    if privileged and context.scheme != "none":
        fields.add("group_id")
    fields |= anonymity_fields(context, author)
    return sorted(fields)


def comment_editable_fields(context, comment, thread):
    """Upstream ``get_editable_fields`` for a comment: nothing but flagging in a closed
    thread; ``endorsed`` on responses for moderators and a question's author."""
    fields = {"abuse_flagged"}
    if thread.closed:
        return sorted(fields)
    privileged = context.privileged
    author = is_author(context, comment)
    if privileged or not author:
        fields.add("voted")
    if privileged and not author:
        fields.add("edit_reason_code")
    if author or privileged:
        fields.add("raw_body")
    if comment.parent_id is None and (
            privileged or (thread.thread_type == "question" and is_author(context, thread))):
        fields.add("endorsed")
    fields |= anonymity_fields(context, author)
    return sorted(fields)


def anonymity_fields(context, author):
    from plugins.discussion import config

    fields = set()
    if author and config.allow_anonymous(context.course):
        fields.add("anonymous")
    if author and config.allow_anonymous_to_peers(context.course):
        fields.add("anonymous_to_peers")
    return fields


def new_thread_fields(context):
    """Upstream ``get_initializable_thread_fields``: what the author of a new thread may
    set, plus ``course_id``."""
    probe = Thread(author_id=context.user.id, closed=False, thread_type="discussion")
    return set(thread_editable_fields(context, probe)) | {"course_id"}


def new_comment_fields(context, thread, parent):
    probe = Comment(author_id=context.user.id, parent_id=parent.id if parent else None)
    return set(comment_editable_fields(context, probe, thread)) | {"thread_id", "parent_id"}


class Viewer:
    """Serializes threads and comments for ``context``'s requester."""

    def __init__(self, request, context, *, profile_images=False, count_flagged=False):
        self.request = request
        self.context = context
        self.db = context.db
        self.profile_images = profile_images
        # abuse_flagged_count: the flagged comments of each thread, when a privileged
        # requester asks (count_flagged), as the forum counts them
        self.count_flagged = bool(count_flagged and context.privileged)
        self.users = {}
        self.labels = {}

    # -- batch loads -----------------------------------------------------------------------

    def _load_users(self, ids):
        wanted = {i for i in ids if i is not None and i not in self.users}
        if wanted:
            for user in self.db.scalars(select(User).where(User.id.in_(wanted))):
                self.users[user.id] = user
            self.labels.update(labels_of(self.db, self.context.course_key,
                                         [self.users[i] for i in wanted if i in self.users]))

    def _username(self, user_id):
        user = self.users.get(user_id)
        return user.username if user is not None else None

    def _label(self, user_id):
        return self.labels.get(user_id)

    def _mine(self, model, column, ids):
        if not ids or self.context.user is None:
            return set()
        return set(self.db.scalars(select(column).where(
            model.user_id == self.context.user.id, column.in_(ids))))

    def _flags(self, column, ids):
        """``(flagged by me, {id: active flag count})``."""
        mine, counts = set(), {}
        if not ids:
            return mine, counts
        me = self.context.user.id if self.context.user is not None else None
        rows = self.db.execute(select(column, Flag.user_id).where(
            column.in_(ids), Flag.cleared.is_(False)))
        for content_id, user_id in rows:
            counts[content_id] = counts.get(content_id, 0) + 1
            if user_id == me:
                mine.add(content_id)
        return mine, counts

    def _last_edits(self, column, ids):
        if not ids:
            return {}
        latest = (select(column.label("content"), func.max(EditHistory.id).label("edit_id"))
                  .where(column.in_(ids)).group_by(column).subquery())
        rows = self.db.execute(select(latest.c.content, EditHistory)
                               .join(EditHistory, EditHistory.id == latest.c.edit_id))
        return {content: edit for content, edit in rows}

    def _profile_images(self, user_ids):
        if not self.profile_images or not user_ids:
            return {}
        from plugins.accounts import api as accounts_api

        users = [self.users[i] for i in user_ids if i in self.users]
        accounts = accounts_api.account_representations(self.request, users)
        return {user.id: accounts.get(user.username, {}).get("profile_image") for user in users}

    # -- shared fields -----------------------------------------------------------------------

    def _author_fields(self, content):
        hidden = author_hidden(self.context, content)
        return {
            "author": None if hidden else self._username(content.author_id),
            "author_label": None if hidden else self._label(content.author_id),
        }

    def _edit_fields(self, content, edit):
        """``last_edit`` and ``edit_by_label``: only for the author and privileged users."""
        if edit is None or not (self.context.privileged or is_author(self.context, content)):
            return {"last_edit": None, "edit_by_label": None}
        # An anonymous author's own edit does not name them.
        hidden = edit.editor_id == content.author_id and author_hidden(self.context, content)
        return {
            "last_edit": {
                "original_body": edit.original_body,
                "reason_code": edit.reason_code,
                "reason": edit_reason(edit.reason_code),
                "editor_username": None if hidden else self._username(edit.editor_id),
                "created_at": isoformat(edit.created_at),
            },
            "edit_by_label": None if hidden else self._label(edit.editor_id),
        }

    # -- threads -----------------------------------------------------------------------------

    def threads(self, threads, *, read_override=None):
        ids = [t.id for t in threads]
        edits = self._last_edits(EditHistory.thread_id, ids)
        # Everyone the page names, read at once (authors, closers, editors).
        self._load_users({t.author_id for t in threads} | {t.closed_by_id for t in threads}
                         | {e.editor_id for e in edits.values()})
        voted = self._mine(Vote, Vote.thread_id, ids)
        following = self._mine(Subscription, Subscription.thread_id, ids)
        flagged, flag_counts = self._flags(Flag.thread_id, ids)
        read_at = self._read_states(ids)
        unread = self._unread_counts(threads, read_at)
        flagged_comments = self._flagged_comment_counts(ids) if self.count_flagged else {}
        images = self._profile_images({t.author_id for t in threads
                                       if not author_hidden(self.context, t)})
        results = []
        for thread in threads:
            results.append(self._thread(thread, edits.get(thread.id), thread.id in voted,
                                        thread.id in following, thread.id in flagged,
                                        flag_counts.get(thread.id, 0),
                                        read_at.get(thread.id), unread.get(thread.id, 0)))
            if self.count_flagged:
                results[-1]["abuse_flagged_count"] = flagged_comments.get(thread.id, 0)
        return results, self._users_map(threads, images)

    def _flagged_comment_counts(self, ids):
        rows = self.db.execute(
            select(Comment.thread_id, func.count(func.distinct(Comment.id)))
            .join(Flag, Flag.comment_id == Comment.id)
            .where(Comment.thread_id.in_(ids), Flag.cleared.is_(False))
            .group_by(Comment.thread_id))
        return dict(rows.all())

    def _read_states(self, ids):
        if not ids or self.context.user is None:
            return {}
        return dict(self.db.execute(select(ReadState.thread_id, ReadState.read_at).where(
            ReadState.user_id == self.context.user.id, ReadState.thread_id.in_(ids))).all())

    def _unread_counts(self, threads, read_at):
        """Comments by others created after the requester last read each thread (all of
        them when never read): one grouped query."""
        if not threads or self.context.user is None:
            return {}
        me = self.context.user.id
        never = [t.id for t in threads if t.id not in read_at]
        seen = [(t.id, read_at[t.id]) for t in threads if t.id in read_at]
        clauses = []
        if never:
            clauses.append(Comment.thread_id.in_(never))
        for thread_id, moment in seen:
            clauses.append(and_(Comment.thread_id == thread_id, Comment.created_at > moment))
        rows = self.db.execute(select(Comment.thread_id, func.count(Comment.id))
                               .where(or_(*clauses), Comment.author_id != me)
                               .group_by(Comment.thread_id))
        return dict(rows.all())

    def _users_map(self, contents, images):
        if not self.profile_images:
            return None
        users = {}
        for content in contents:
            if author_hidden(self.context, content):
                continue
            username = self._username(content.author_id)
            if username is not None:
                users[username] = {"profile": {"image": images.get(content.author_id)}}
        return users

    def _thread(self, thread, edit, voted, following, flagged, flag_count, read_at, unread):
        context = self.context
        rendered = render_body(thread.body)
        privileged = context.privileged
        read = read_at is not None and read_at >= thread.last_activity_at
        # the post itself counts as unread while none of the thread has been read
        unread_count = unread + (1 if not read and unread == thread.comment_count else 0)
        base = f"{self.request.application_url}/api/discussion/v1/comments/?thread_id=" \
               f"{thread.content_id}"
        sees_closing = privileged or is_author(context, thread)
        body = {
            "id": thread.content_id,
            **self._author_fields(thread),
            "created_at": isoformat(thread.created_at),
            "updated_at": isoformat(thread.updated_at),
            "raw_body": thread.body,
            "rendered_body": rendered,
            "abuse_flagged": flagged or (privileged and flag_count > 0),
            "voted": voted,
            "vote_count": thread.vote_count,
            "editable_fields": thread_editable_fields(context, thread),
            "can_delete": privileged or is_author(context, thread),
            "anonymous": thread.anonymous,
            "anonymous_to_peers": thread.anonymous_to_peers,
            **self._edit_fields(thread, edit),
            "course_id": thread.course_key,
            "topic_id": thread.topic_id,
            "group_id": thread.group_id,
            "group_name": context.group_names.get(thread.group_id)
            if thread.group_id is not None else None,
            "type": thread.thread_type,
            "preview_body": preview_body(rendered),
            "abuse_flagged_count": None,
            "title": thread.title,
            "pinned": thread.pinned,
            "closed": thread.closed,
            "following": following,
            "comment_count": thread.comment_count + 1,
            "unread_comment_count": unread_count,
            "comment_list_url": base if thread.thread_type == "discussion" else None,
            "endorsed_comment_list_url":
                f"{base}&endorsed=True" if thread.thread_type == "question" else None,
            "non_endorsed_comment_list_url":
                f"{base}&endorsed=False" if thread.thread_type == "question" else None,
            "read": read,
            "has_endorsed": thread.endorsed,
            "response_count": thread.response_count,
            "close_reason_code": thread.close_reason_code if sees_closing else None,
            "close_reason": close_reason(thread.close_reason_code)
            if sees_closing else None,
            "closed_by": self._username(thread.closed_by_id) if sees_closing else None,
            "closed_by_label": self._label(thread.closed_by_id) if sees_closing else None,
        }
        return body

    # -- comments ----------------------------------------------------------------------------

    def comments(self, comments, threads, parents=None, in_thread=True):
        """``comments`` with ``threads`` (``{thread pk: Thread}``) and ``parents``
        (``{comment pk: content id}``) already loaded; ``in_thread=False`` (a user's
        comments across threads) leaves the endorsement out, as upstream."""
        ids = [c.id for c in comments]
        edits = self._last_edits(EditHistory.comment_id, ids)
        self._load_users({c.author_id for c in comments} | {c.endorsed_by_id for c in comments}
                         | {e.editor_id for e in edits.values()})
        voted = self._mine(Vote, Vote.comment_id, ids)
        flagged, flag_counts = self._flags(Flag.comment_id, ids)
        parents = dict(parents or {})
        missing = {c.parent_id for c in comments if c.parent_id and c.parent_id not in parents}
        if missing:
            parents.update(self.db.execute(select(Comment.id, Comment.content_id)
                                           .where(Comment.id.in_(missing))).all())
        image = self._requester_image() if comments else None
        return [self._comment(c, threads[c.thread_id], parents, edits.get(c.id),
                              c.id in voted, c.id in flagged, flag_counts.get(c.id, 0), image,
                              in_thread)
                for c in comments]

    def _requester_image(self):
        """Upstream's comment ``profile_image``: the *requester's* profile images (its
        serializer reads ``request.user``), the same for every comment."""
        from plugins.accounts import api as accounts_api

        user = self.context.user
        accounts = accounts_api.account_representations(self.request, [user])
        return accounts.get(user.username, {}).get("profile_image")

    def _comment(self, comment, thread, parents, edit, voted, flagged, flag_count, image,
                 in_thread):
        context = self.context
        privileged = context.privileged
        endorser = comment.endorsed_by_id
        # An anonymous question's author who endorsed stays anonymous (upstream).
        endorser_hidden = not in_thread or (
            endorser is not None and author_hidden(context, thread)
            and endorser == thread.author_id and self._label(endorser) is None)
        return {
            "id": comment.content_id,
            **self._author_fields(comment),
            "created_at": isoformat(comment.created_at),
            "updated_at": isoformat(comment.updated_at),
            "raw_body": comment.body,
            "rendered_body": render_body(comment.body),
            "abuse_flagged": flagged or (privileged and flag_count > 0),
            "voted": voted,
            "vote_count": comment.vote_count,
            "editable_fields": comment_editable_fields(context, comment, thread),
            "can_delete": privileged or is_author(context, comment),
            "anonymous": comment.anonymous,
            "anonymous_to_peers": comment.anonymous_to_peers,
            **self._edit_fields(comment, edit),
            "thread_id": thread.content_id,
            "parent_id": parents.get(comment.parent_id) if comment.parent_id else None,
            "endorsed": comment.endorsed,
            "endorsed_by": None if endorser_hidden else self._username(endorser),
            "endorsed_by_label": self._label(endorser) if in_thread else None,
            "endorsed_at": isoformat(comment.endorsed_at)
            if comment.endorsed_at and in_thread else None,
            "child_count": comment.child_count,
            "children": [],
            "abuse_flagged_any_user": (flag_count > 0) if privileged else None,
            "profile_image": image,
        }
