"""bookmarks: learners' bookmarks of course blocks (``/api/bookmarks/v1/``) and the notes
retirement step (``/api/edxnotes/v1/retire_user/``).

Its one name, ``bookmarks``, is its settings prefix, table prefix (``bookmarks_*``),
alembic branch and service-name prefix.

A bookmark keeps the block's usage key; its ``display_name`` and ``path`` are read from
the course's current structure, so they follow a re-import that renames or moves the
block. Only blocks the courses plugin's access rule lets the learner see can be
bookmarked, and a bookmark of a block they can no longer see shows no name or path.
``accounts`` is required for the retirement step (whose retirement is in progress).
"""
from lms.hookspecs import hookimpl

name = "bookmarks"
version = "0.1.0"
requires = ("courses", "enrollment", "accounts")


@hookimpl
def lms_default_settings():
    return {
        # Upstream MAX_BOOKMARKS_PER_COURSE: bookmarks a learner may keep in one course.
        "bookmarks.max_per_course": "100",
    }


@hookimpl
def lms_includeme(config):
    from pyramid.exceptions import ConfigurationError

    raw = str(config.registry.settings.get("bookmarks.max_per_course", "")).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(
            f"bookmarks.max_per_course must be a whole number of at least 1, not {raw!r}")
    config.scan("plugins.bookmarks.views")


@hookimpl
def lms_permission_matrix():
    from plugins.bookmarks.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_retire_user(dbsession, user, retired_username, retired_email, original_email):
    from sqlalchemy import delete

    from plugins.bookmarks.models import Bookmark

    dbsession.execute(delete(Bookmark).where(Bookmark.user_id == user.id))


@hookimpl
def lms_username_replaced(dbsession, user_id, old_username, new_username):
    # Bookmarks name their owner by user id; ids in answers use the current username.
    return None
