"""``text_search`` over thread titles and bodies: PostgreSQL's full-text search (English
stemming, served by the GIN index ``ix_discussion_thread_search``), or on SQLite a
case-insensitive match of every word in the title or the body."""
import re

from sqlalchemy import and_, false, func, or_, select, text

from plugins.discussion.models import Thread

WORD = re.compile(r"\w+", re.UNICODE)
# The expression of the ix_discussion_thread_search index (models.Thread and the
# discussion_0001 migration spell the same one: keep them equal, or the index goes unused).
QUALIFIED_DOCUMENT = ("to_tsvector('english', coalesce(discussion_thread.title, '') || ' ' "
                      "|| coalesce(discussion_thread.body, ''))")


def _escape_like(word):
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches(dialect_name, query_text):
    """The SQL filter of the threads matching ``text`` (false when it has no word)."""
    words = WORD.findall(query_text or "")[:32]
    if not words:
        return false()
    if dialect_name == "postgresql":
        return text(f"{QUALIFIED_DOCUMENT} @@ plainto_tsquery('english', :discussion_search)"
                    ).bindparams(discussion_search=" ".join(words))
    clauses = []
    for word in words:
        pattern = f"%{_escape_like(word.lower())}%"
        clauses.append(or_(func.lower(Thread.title).like(pattern, escape="\\"),
                           func.lower(Thread.body).like(pattern, escape="\\")))
    return and_(*clauses)


def matching_threads(dialect_name, course_key, query_text):
    """The filter of the course's threads matching ``query_text``. On PostgreSQL the
    matches are found first (the GIN index, a materialized CTE), so that the planner does
    not walk the ordering index testing every thread against the query (seconds for a
    rare word in a large course)."""
    clause = matches(dialect_name, query_text)
    if dialect_name != "postgresql":
        return clause
    found = (select(Thread.id).where(Thread.course_key == course_key, clause)
             .cte("discussion_search").prefix_with("MATERIALIZED"))
    return Thread.id.in_(select(found.c.id))
