"""The three Open edX pagination styles, each in a fixed number of queries.

- :func:`page_number` — edx-drf-extensions ``DefaultPagination``
  (``next``/``previous``/``count``/``num_pages``/``current_page``/``start``/``results``);
  with ``namespaced=True``, ``NamespacedPageNumberPagination``
  (``{"results": [...], "pagination": {...}}``).
- :func:`cursor` — DRF ``CursorPagination`` (``next``/``previous``/``results``).

Query parameters are read with :func:`lms.request.query_params` (a repeated
parameter's last value wins, as in Django). Page-number pagination issues two queries (a count and the page); cursor
pagination one (the page plus a one-row look-ahead).
"""
import base64
import binascii
import math
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from lms.errors import APIError
from lms.request import query_params

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


def _url_with(request, **params):
    query = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True)
             if k not in params]
    for key, value in params.items():
        if value is not None:
            query.append((key, str(value)))
    base = request.application_url + request.path
    return base + ("?" + urlencode(query) if query else "")


def _page_size(request, default, maximum):
    raw = query_params(request).get("page_size")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        return default
    if size <= 0:
        return default
    return min(size, maximum) if maximum else size


def page_number(request, stmt, serialize, *, default_size=DEFAULT_PAGE_SIZE,
                max_size=MAX_PAGE_SIZE, namespaced=False, invalid_page_body=None):
    """Paginate a ``select()``; ``serialize(rows)`` turns the page's rows into dicts.

    ``stmt`` must already be ordered. Rows are what ``dbsession.execute(stmt)``
    yields (use ``.scalars()``-style statements by selecting one entity).
    """
    db = request.dbsession
    size = _page_size(request, default_size, max_size)
    count = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    num_pages = max(1, math.ceil(count / size))
    raw_page = query_params(request).get("page", "1")
    try:
        page = num_pages if raw_page == "last" else int(raw_page)
    except ValueError:
        page = 0
    if page < 1 or page > num_pages:
        raise APIError(404, invalid_page_body or {"detail": "Invalid page."})
    rows = db.execute(stmt.limit(size).offset((page - 1) * size)).all()
    results = serialize(rows)
    next_url = _url_with(request, page=page + 1) if page < num_pages else None
    if page > 1:
        previous_url = _url_with(request, page=page - 1)
    else:
        previous_url = None
    if namespaced:
        return {"results": results, "pagination": {
            "next": next_url, "previous": previous_url, "count": count, "num_pages": num_pages,
        }}
    return {
        "next": next_url,
        "previous": previous_url,
        "count": count,
        "num_pages": num_pages,
        "current_page": page,
        "start": (page - 1) * size,
        "results": results,
    }


def _encode_cursor(position, reverse):
    raw = urlencode({"p": position, "r": "1" if reverse else "0"})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(token):
    try:
        fields = dict(parse_qsl(base64.urlsafe_b64decode(token.encode()).decode(),
                                keep_blank_values=True, strict_parsing=True))
        return int(fields["p"]), fields.get("r") == "1"
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError):
        raise APIError(404, {"detail": "Invalid cursor"})


def cursor(request, stmt, order_column, serialize, *, page_size=100, descending=False,
           honour_page_size=False):
    """Keyset pagination on a unique integer ``order_column`` (DRF CursorPagination)."""
    size = _page_size(request, page_size, None) if honour_page_size else page_size
    token = query_params(request).get("cursor")
    position, reverse = (None, False) if not token else _decode_cursor(token)
    forward_desc = descending != reverse
    query = stmt
    if position is not None:
        if forward_desc:
            query = query.where(order_column < position)
        else:
            query = query.where(order_column > position)
    query = query.order_by(order_column.desc() if forward_desc else order_column.asc())
    rows = request.dbsession.execute(query.limit(size + 1)).all()
    has_more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    positions = [row._mapping[order_column.key] if order_column.key in row._mapping
                 else getattr(row[0], order_column.key) for row in rows]
    next_url = previous_url = None
    if rows:
        if has_more or reverse:
            next_url = _url_with(request, cursor=_encode_cursor(positions[-1], False))
        if (has_more and reverse) or (not reverse and position is not None):
            previous_url = _url_with(request, cursor=_encode_cursor(positions[0], True))
    return {"next": next_url, "previous": previous_url, "results": serialize(rows)}
