"""The discussion API's pagination (upstream ``DiscussionAPIPagination``):
``{"results": [...], "pagination": {"next", "previous", "count", "num_pages"}}``; a page
past the end is 404 ``Page not found (No results on this page).``"""
import math
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from lms.errors import developer

PAGE_NOT_FOUND = "Page not found (No results on this page)."


def page_url(request, page):
    query = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True)
             if k != "page"]
    query.append(("page", str(page)))
    return f"{request.application_url}{request.path}?{urlencode(query)}"


def envelope(request, results, page, count, size):
    num_pages = max(1, math.ceil(count / size))
    return {"results": results, "pagination": {
        "next": page_url(request, page + 1) if page < num_pages else None,
        "previous": page_url(request, page - 1) if page > 1 else None,
        "count": count, "num_pages": num_pages}}


def paginate(request, stmt, page, size, serialize):
    """One page of an ordered ``select()``: a count and the page (two queries), then
    ``serialize(rows)``."""
    db = request.dbsession
    count = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    num_pages = max(1, math.ceil(count / size))
    if page > num_pages:
        raise developer(404, PAGE_NOT_FOUND)
    rows = db.execute(stmt.limit(size).offset((page - 1) * size)).all()
    return envelope(request, serialize(rows), page, count, size)


def paginate_items(request, items, page, size):
    """A page of a list built in Python."""
    num_pages = max(1, math.ceil(len(items) / size))
    if page > num_pages:
        raise developer(404, PAGE_NOT_FOUND)
    start = (page - 1) * size
    return envelope(request, items[start:start + size], page, len(items), size)
