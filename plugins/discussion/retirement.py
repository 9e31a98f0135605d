"""Retiring a learner's forum presence, as the forum service's ``retire`` does: every post
they wrote keeps its place in its thread but says ``[deleted]`` (title and body), the
bodies their edits replaced are dropped, and they follow and have read nothing. Their
username in every answer is the account's retired one (rows name people by id)."""
from sqlalchemy import delete, select, update

from plugins.discussion.models import Comment, EditHistory, ReadState, Subscription, Thread

RETIRED_TEXT = "[deleted]"


def forget_user(db, user_id):
    """Scrub ``user_id``'s posts and marks (idempotent)."""
    thread_ids = select(Thread.id).where(Thread.author_id == user_id).scalar_subquery()
    comment_ids = select(Comment.id).where(Comment.author_id == user_id).scalar_subquery()
    db.execute(delete(EditHistory).where(EditHistory.thread_id.in_(thread_ids)))
    db.execute(delete(EditHistory).where(EditHistory.comment_id.in_(comment_ids)))
    db.execute(delete(EditHistory).where(EditHistory.editor_id == user_id))
    db.execute(update(Thread).where(Thread.author_id == user_id)
               .values(title=RETIRED_TEXT, body=RETIRED_TEXT))
    db.execute(update(Comment).where(Comment.author_id == user_id).values(body=RETIRED_TEXT))
    db.execute(delete(Subscription).where(Subscription.user_id == user_id))
    db.execute(delete(ReadState).where(ReadState.user_id == user_id))


def has_forum_presence(db, user_id):
    """Did the user ever write, follow or read anything here (the forum service knows
    them)?"""
    for column, model in ((Thread.author_id, Thread), (Comment.author_id, Comment),
                          (Subscription.user_id, Subscription), (ReadState.user_id, ReadState)):
        if db.scalar(select(model.id).where(column == user_id).limit(1)) is not None:
            return True
    return False
