"""Writing threads and comments: what the forum service does on each action, with the
counters the lists read (``comment_count``, ``response_count``, ``vote_count``,
``child_count``, ``endorsed``) kept by SQL increments in the same transaction, so
concurrent writers never lose an update."""
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from lms.timeutil import utcnow
from plugins.discussion.models import (Comment, EditHistory, Flag, ReadState, Subscription,
                                       Thread, Vote)


def _insert_once(db, row):
    """Add ``row`` unless its unique key already exists; True when added."""
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
        return True
    except IntegrityError:
        return False


def _content_column(model, content):
    return model.thread_id if isinstance(content, Thread) else model.comment_id


def _content_values(content):
    return ({"thread_id": content.id} if isinstance(content, Thread)
            else {"comment_id": content.id})


def _bump(db, content, **deltas):
    model = type(content)
    db.execute(update(model).where(model.id == content.id).values(
        **{name: getattr(model, name) + delta for name, delta in deltas.items()}))
    db.refresh(content)


# -- the requester's marks ---------------------------------------------------------------------

def set_vote(db, user_id, content, voted):
    column = _content_column(Vote, content)
    if voted:
        if _insert_once(db, Vote(user_id=user_id, **_content_values(content))):
            _bump(db, content, vote_count=1)
    elif db.execute(delete(Vote).where(Vote.user_id == user_id,
                                       column == content.id)).rowcount:
        _bump(db, content, vote_count=-1)


def set_flag(db, user_id, content, flagged, *, privileged):
    """Flag as the requester; un-flagging by a privileged user clears every flag (they
    become the forum's historical flags), by anyone else only their own."""
    column = _content_column(Flag, content)
    if flagged:
        existing = db.scalar(select(Flag).where(Flag.user_id == user_id, column == content.id))
        if existing is not None:
            existing.cleared = False
        else:
            _insert_once(db, Flag(user_id=user_id, course_key=content.course_key,
                                  **_content_values(content)))
        return
    if privileged:
        db.execute(update(Flag).where(column == content.id, Flag.cleared.is_(False))
                   .values(cleared=True))
    else:
        db.execute(delete(Flag).where(column == content.id, Flag.user_id == user_id))


def set_following(db, user_id, thread, following):
    if following:
        _insert_once(db, Subscription(user_id=user_id, thread_id=thread.id))
    else:
        db.execute(delete(Subscription).where(Subscription.user_id == user_id,
                                              Subscription.thread_id == thread.id))


def mark_read(db, user_id, thread):
    moment = max(utcnow(), thread.last_activity_at)
    updated = db.execute(update(ReadState).where(
        ReadState.user_id == user_id, ReadState.thread_id == thread.id).values(read_at=moment))
    if not updated.rowcount:
        if not _insert_once(db, ReadState(user_id=user_id, thread_id=thread.id,
                                          read_at=moment)):
            db.execute(update(ReadState).where(
                ReadState.user_id == user_id, ReadState.thread_id == thread.id)
                .values(read_at=moment))


# -- content -----------------------------------------------------------------------------------

def create_thread(db, *, course_key, author_id, topic_id, thread_type, title, body,
                  anonymous=False, anonymous_to_peers=False, group_id=None):
    now = utcnow()
    thread = Thread(course_key=course_key, author_id=author_id, topic_id=topic_id,
                    thread_type=thread_type, title=title, body=body, anonymous=anonymous,
                    anonymous_to_peers=anonymous_to_peers, group_id=group_id,
                    created_at=now, updated_at=now, last_activity_at=now)
    db.add(thread)
    db.flush()
    # The forum service counts a new thread as read by its author.
    mark_read(db, author_id, thread)
    return thread


def create_comment(db, *, thread, parent, author_id, body, anonymous=False,
                   anonymous_to_peers=False):
    now = utcnow()
    comment = Comment(thread_id=thread.id, parent_id=parent.id if parent else None,
                      depth=parent.depth + 1 if parent else 0, course_key=thread.course_key,
                      author_id=author_id, body=body, anonymous=anonymous,
                      anonymous_to_peers=anonymous_to_peers, created_at=now, updated_at=now)
    db.add(comment)
    db.flush()
    _bump(db, thread, comment_count=1, response_count=0 if parent else 1)
    db.execute(update(Thread).where(Thread.id == thread.id).values(last_activity_at=now))
    if parent is not None:
        _bump(db, parent, child_count=1)
    db.refresh(thread)
    return comment


def record_edit(db, content, editor_id, new_body, reason_code=None):
    """Keep the body being replaced (the ``last_edit`` history), then replace it."""
    if new_body == content.body:
        return
    db.add(EditHistory(editor_id=editor_id, original_body=content.body,
                       reason_code=reason_code, **_content_values(content)))
    content.body = new_body


def close(db, thread, closed, user_id=None, reason_code=None):
    thread.closed = closed
    thread.closed_by_id = user_id if closed else None
    thread.close_reason_code = reason_code if closed else None


def endorse(db, comment, thread, endorsed, user_id):
    if comment.endorsed == endorsed:
        return
    comment.endorsed = endorsed
    comment.endorsed_by_id = user_id if endorsed else None
    comment.endorsed_at = utcnow() if endorsed else None
    db.flush()
    thread.endorsed = bool(db.scalar(select(exists().where(
        Comment.thread_id == thread.id, Comment.parent_id.is_(None),
        Comment.endorsed.is_(True)))))


def delete_thread(db, thread):
    db.delete(thread)
    db.flush()


def delete_comment(db, comment, thread):
    """Delete a comment and its replies; the thread's counters lose them all."""
    replies = db.scalar(select(func.count(Comment.id)).where(Comment.parent_id == comment.id))
    removed = 1 + (replies or 0)
    parent_id = comment.parent_id
    was_endorsed = comment.endorsed
    db.execute(delete(Comment).where(Comment.parent_id == comment.id))
    db.delete(comment)
    db.flush()
    _bump(db, thread, comment_count=-removed,
          response_count=0 if parent_id is not None else -1)
    if parent_id is not None:
        parent = db.get(Comment, parent_id)
        if parent is not None:
            _bump(db, parent, child_count=-1)
    if was_endorsed:
        thread.endorsed = bool(db.scalar(select(exists().where(
            Comment.thread_id == thread.id, Comment.parent_id.is_(None),
            Comment.endorsed.is_(True)))))
