"""The three Open edX pagination styles, each in a fixed number of queries.

- :func:`page_number` — edx-drf-extensions ``DefaultPagination``
  (``next``/``previous``/``count``/``num_pages``/``current_page``/``start``/``results``);
  with ``namespaced=True``, ``NamespacedPageNumberPagination``
  (``{"results": [...], "pagination": {...}}``).
- :func:`cursor` — DRF ``CursorPagination`` (``next``/``previous``/``results``).

Query parameters are read with :func:`lms.request.query_params` (a repeated
parameter's last value wins, as in Django). Page-number pagination issues two
queries (a count and the page), three when PostgreSQL estimates the count
(:func:`count_rows`); cursor pagination one (the page plus a one-row look-ahead).

Large lists use page-number pagination's keyed form (``rows=``): the count and
the offset run on the ordering key alone, then the page's rows are fetched by key
(a deferred join), so a deep page costs an index-only scan of the keys before it.
"""
import base64
import binascii
import math
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Table, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    ClauseElement,
    ColumnClause,
    False_,
    Null,
    True_,
)
from sqlalchemy.sql.expression import Executable

from lms.errors import APIError
from lms.request import query_params
from lms.settings import as_int

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
ESTIMATE_THRESHOLD_KEY = "lms.pagination.count_estimate_threshold"
MAX_OFFSET = 2**63 - 1


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


def page_number(request, stmt, serialize, *, rows=None, default_size=DEFAULT_PAGE_SIZE,
                max_size=MAX_PAGE_SIZE, namespaced=False, invalid_page_body=None):
    """Paginate a ``select()``; ``serialize(rows)`` turns the page's rows into dicts.

    ``stmt`` must already be ordered. Rows are what ``dbsession.execute(stmt)``
    yields (use ``.scalars()``-style statements by selecting one entity).

    With ``rows``, ``stmt`` selects only the ordering key: one unique column of one
    table, with the listing's filters and order. The count and the page's offset
    run on it alone (an index-only path), then ``rows(page_keys)`` returns the
    ``select()`` of the page's rows, restricted with ``column.in_(page_keys)`` and
    ordered as ``stmt`` orders the keys (a deferred join).
    """
    db = request.dbsession
    size = _page_size(request, default_size, max_size)
    invalid_page = APIError(404, invalid_page_body or {"detail": "Invalid page."})
    raw_page = query_params(request).get("page", "1")
    last = raw_page == "last"
    if not last:
        try:
            page = int(raw_page)
        except ValueError:
            raise invalid_page
        if page < 1:
            raise invalid_page
    # ``page=last`` needs the exact number of pages.
    threshold = 0 if last else request.registry.get(ESTIMATE_THRESHOLD_KEY, 0)
    count, exact = count_rows(db, stmt, threshold, skip=0 if last else (page - 1) * size)
    num_pages = max(1, math.ceil(count / size))
    if last:
        page = num_pages
    if exact and page > num_pages:
        raise invalid_page
    start = (page - 1) * size
    # An estimated count cannot tell where the list ends: look one row ahead.
    fetched = size if exact else size + 1
    if start + fetched > MAX_OFFSET:  # past any table (and past SQL's bigint)
        raise invalid_page
    if rows is None:
        found = db.execute(stmt.limit(fetched).offset(start)).all()
    else:
        found = db.execute(rows(stmt.limit(fetched).offset(start))).all()
    if not exact:
        if not found and page > 1:
            raise invalid_page
        has_more = len(found) > size
        found = found[:size]
        seen = start + len(found)
        # What the page shows is certain: at least these rows, exactly these at the end.
        count = max(count, seen + 1) if has_more else seen
        num_pages = max(1, math.ceil(count / size))
    results = serialize(found)
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
        "start": start,
        "results": results,
    }


def count_rows(db, stmt, threshold=0, skip=0):
    """``(count, exact)``: the rows of ``stmt``, or PostgreSQL's estimate of them.

    The estimate is used only on PostgreSQL, with ``threshold`` > 0, for a statement
    that reads one table (no join, grouping, DISTINCT or LIMIT) whose filter, if any,
    only compares its columns to values with ``=``, ``IN`` or ``IS`` (true, false,
    NULL), joined by AND: the planner's column statistics estimate those soundly.
    Such a count is bounded first (at most ``threshold`` + 1 rows are counted); only
    when it reaches past ``threshold`` does the planner's row estimate (``EXPLAIN``)
    stand for it, never below the rows counted. A page that skips ``skip`` >=
    ``threshold`` rows needs no bounded count: either it holds rows, so there are more
    than ``threshold``, or it is past the end (the caller reads the page to know).
    """
    counted = stmt.order_by(None)
    if threshold > 0 and db.get_bind().dialect.name == "postgresql" and _estimable(counted):
        if skip >= threshold:
            return _planner_rows(db, counted), False
        probe = counted.with_only_columns(literal_column("1"), maintain_column_froms=True)
        bounded = db.scalar(select(func.count()).select_from(
            probe.limit(threshold + 1).subquery()))
        if bounded <= threshold:
            return bounded, True
        return max(bounded, _planner_rows(db, counted)), False
    return db.scalar(select(func.count()).select_from(counted.subquery())), True


def _planner_rows(db, stmt):
    """PostgreSQL's estimate of the rows ``stmt`` returns (``EXPLAIN``)."""
    plan = db.scalar(_Explain(stmt))
    return round(plan[0]["Plan"]["Plan Rows"])


def _estimable(stmt):
    froms = stmt.get_final_froms()
    if len(froms) != 1 or not isinstance(froms[0], Table):
        return False
    if (stmt._group_by_clauses or stmt._having_criteria or stmt._distinct
            or stmt._limit_clause is not None or stmt._offset_clause is not None):
        return False
    where = stmt.whereclause
    return where is None or _equalities(where, froms[0])


def _equalities(clause, table):
    """``col = value``, ``col IN (values)``, ``col IS true/false/NULL`` on ``table``'s
    columns, joined by AND: what the planner's column statistics estimate."""
    if isinstance(clause, BooleanClauseList):
        return clause.operator is operators.and_ and all(
            _equalities(part, table) for part in clause.clauses)
    if not (isinstance(clause, BinaryExpression) and isinstance(clause.left, ColumnClause)
            and clause.left.table is table):
        return False
    if clause.operator is operators.in_op:
        return isinstance(clause.right, BindParameter)
    return (clause.operator in (operators.eq, operators.is_)
            and isinstance(clause.right, (BindParameter, True_, False_, Null)))


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>``, its parameters bound as the statement's."""

    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def includeme(config):
    config.registry[ESTIMATE_THRESHOLD_KEY] = as_int(
        config.get_settings(), "pagination.count_estimate_threshold")


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
