"""The three Open edX pagination styles, each in a small, bounded number of queries.

- :func:`page_number` — edx-drf-extensions ``DefaultPagination``
  (``next``/``previous``/``count``/``num_pages``/``current_page``/``start``/``results``);
  with ``namespaced=True``, ``NamespacedPageNumberPagination``
  (``{"results": [...], "pagination": {...}}``).
- :func:`cursor` — DRF ``CursorPagination`` (``next``/``previous``/``results``).

Query parameters are read with :func:`lms.request.query_params` (a repeated
parameter's last value wins, as in Django). Page-number pagination issues two
queries (a count and the page), three when PostgreSQL estimates the count
(:func:`count_rows`), one more when a deep page's boundaries are first found or
extended (below); a list already known to be past the threshold is not counted
again. Cursor pagination issues one (the page plus a one-row look-ahead).

Large lists use page-number pagination's keyed form (``rows=``): the count and
the offset run on the ordering key alone, then the page's rows are fetched by key
(a deferred join).

Page boundaries. Neither database can jump to the n-th entry of an index: ``OFFSET
n`` reads the n keys before the page. So an app keeps, per process, the *page
boundaries* of the key lists it serves (:class:`Boundaries`): the key at every
``pagination.boundary_interval``-th position (default 1,000) of one ordered,
filtered key list, found by one query that seeks from boundary to boundary. A page
at offset n then seeks to the boundary before it and skips fewer than
``interval`` keys (``key >= boundary ... OFFSET n - position``). The same record
remembers what the list is known to hold (rows seen past the count threshold) and
PostgreSQL's estimate, so that a list known to exceed the threshold needs neither
the bounded count nor the ``EXPLAIN`` again (the estimate is then as old as the
record: at most ``boundary_seconds`` older than the table's statistics). A list's
record is built on demand, extended when a deeper page needs it (each extension at
least doubles it), and dropped:

- at once, when this process inserts into or deletes from one of the tables the
  list reads, updates one of the columns it reads (any column, when the list holds
  SQL text), deletes from (updates the keys of) a table whose deletes (key
  updates) the database cascades into one of its tables, or runs DDL or SQL text
  that is no read; and again when that transaction commits or rolls back;
- after ``pagination.boundary_seconds`` (default 10) whatever happens: writes made
  by other processes are not seen before. Until then a deep page may be shifted by
  as many rows as they inserted or deleted before it, the shift a client paging
  with OFFSET already sees when rows change between its requests. A page that
  comes back with fewer rows than an exact count promises is read again with a
  plain OFFSET.

A record holds one key per interval (a million-row list: 1,000 keys); an app keeps
the records of its 64 most recently used lists. ``pagination.boundary_seconds = 0``
turns the records off (every page is a plain OFFSET, every count counted).
Boundaries serve the lists whose statement selects one non-null column and orders
by it alone, with either the keyed form (the key is unique in the list, as that
form requires) or one table and a primary-key or unique column.
"""
import base64
import binascii
import collections
import itertools
import math
import re
import threading
import time
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Integer, Table, cast, event, func, literal, literal_column, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    ClauseElement,
    ColumnClause,
    False_,
    Null,
    TextClause,
    True_,
    UnaryExpression,
)
from sqlalchemy.sql.expression import Executable, TableClause
from sqlalchemy.sql.schema import Column

from lms import process_state
from lms.errors import APIError
from lms.request import query_params
from lms.settings import as_int

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
ESTIMATE_THRESHOLD_KEY = "lms.pagination.count_estimate_threshold"
BOUNDARIES_KEY = "lms.pagination.boundaries"
BOUNDARY_LISTS_KEPT = 64
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
                max_size=MAX_PAGE_SIZE, namespaced=False, invalid_page_body=None,
                remember=True):
    """Paginate a ``select()``; ``serialize(rows)`` turns the page's rows into dicts.

    ``stmt`` must already be ordered. Rows are what ``dbsession.execute(stmt)``
    yields (use ``.scalars()``-style statements by selecting one entity).

    With ``rows``, ``stmt`` selects only the ordering key: one unique column of one
    table, with the listing's filters and order. The count and the page's offset
    run on it alone (an index-only path), then ``rows(page_keys)`` returns the
    ``select()`` of the page's rows, restricted with ``column.in_(page_keys)`` and
    ordered as ``stmt`` orders the keys (a deferred join). Deep pages of such
    lists seek from the app's page boundaries (see the module's documentation).

    ``remember=False`` keeps no record of the list: for a statement whose parameters
    change with every request (the current time), whose records could never be
    reused and would only push the other lists' records out.
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
    boundaries = request.registry.get(BOUNDARIES_KEY)
    listing = (boundaries.listing(stmt, keyed=rows is not None)
               if boundaries and remember else None)
    # ``page=last`` needs the exact number of pages.
    threshold = 0 if last else request.registry.get(ESTIMATE_THRESHOLD_KEY, 0)
    count, exact = count_rows(db, stmt, threshold, skip=0 if last else (page - 1) * size,
                              listing=listing)
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

    def fetch(keys):
        return db.execute(keys if rows is None else rows(keys)).all()

    sought = listing.seek(db, start, fetched) if listing else None
    found = fetch(sought) if sought is not None else None
    if found is not None and len(found) < (min(fetched, count - start) if exact else 1):
        # Fewer rows than the count promises (or none): the boundaries are older than
        # another process's writes. Read the page plainly and forget them.
        boundaries.forget(listing)
        found = None
    if found is None:
        found = fetch(stmt.limit(fetched).offset(start))
    if listing and found:
        listing.holds_at_least(start + len(found))
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


def page_of_items(request, items, *, default_size, max_size):
    """DRF's page-number pagination over an already built list (items computed in
    Python, such as a course's teamsets): the shape of :func:`page_number`, ``page``
    may be ``last``, a page out of range is 404 ``Invalid page.``"""
    params = query_params(request)
    try:
        size = int(params.get("page_size", default_size))
    except ValueError:
        size = default_size
    size = default_size if size <= 0 else min(size, max_size)
    raw = params.get("page", "1")
    num_pages = max(1, math.ceil(len(items) / size))
    try:
        page = num_pages if raw == "last" else int(raw)
    except ValueError:
        raise APIError(404, {"detail": "Invalid page."})
    if not 1 <= page <= num_pages:
        raise APIError(404, {"detail": "Invalid page."})
    start = (page - 1) * size
    return {
        "next": _url_with(request, page=page + 1) if page < num_pages else None,
        "previous": _url_with(request, page=page - 1) if page > 1 else None,
        "count": len(items),
        "num_pages": num_pages,
        "current_page": page,
        "start": start,
        "results": items[start:start + size],
    }


def count_rows(db, stmt, threshold=0, skip=0, listing=None):
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

    With ``listing`` (:meth:`Boundaries.listing`), a list it knows to hold more than
    ``threshold`` rows is not counted again, and the estimate it remembers is reused.
    """
    counted = stmt.order_by(None)
    if threshold > 0 and db.get_bind().dialect.name == "postgresql" and _estimable(counted):
        known = listing.rows_at_least if listing else 0
        if skip >= threshold or known > threshold:
            return max(known, _estimated(db, counted, listing)), False
        probe = counted.with_only_columns(literal_column("1"), maintain_column_froms=True)
        bounded = db.scalar(select(func.count()).select_from(
            probe.limit(threshold + 1).subquery()))
        if bounded <= threshold:
            return bounded, True
        if listing:
            listing.holds_at_least(bounded)
        return max(bounded, _estimated(db, counted, listing)), False
    return db.scalar(select(func.count()).select_from(counted.subquery())), True


def _estimated(db, stmt, listing):
    if listing and listing.estimate is not None:
        return listing.estimate
    estimate = _planner_rows(db, stmt)
    if listing:
        listing.estimate = estimate
    return estimate


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


# -- page boundaries ---------------------------------------------------------------------------

class Boundaries:
    """An app's records of the lists it pages (see the module's documentation)."""

    def __init__(self, interval, seconds, kept=BOUNDARY_LISTS_KEPT):
        _watch_writes()
        self.interval = interval
        self.seconds = seconds
        self.kept = kept
        self._lists = collections.OrderedDict()
        self._lock = threading.Lock()

    def listing(self, stmt, keyed):
        """The record of ``stmt``'s list (a fresh one when none holds), or None when
        records are off or ``stmt`` is no list boundaries can serve."""
        if self.seconds <= 0 or self.interval <= 0:
            return None
        order = _seekable(stmt, keyed)
        identity = _identity(stmt) if order else None
        if identity is None:
            return None
        with self._lock:
            found = self._lists.get(identity)
            if found is not None and found.current():
                self._lists.move_to_end(identity)
                return found
        fresh = Listing(self, stmt, *order, _read_by(stmt))
        with self._lock:
            self._lists[identity] = fresh
            self._lists.move_to_end(identity)
            while len(self._lists) > self.kept:
                self._lists.popitem(last=False)
        return fresh

    def forget(self, listing):
        with self._lock:
            for identity, kept in list(self._lists.items()):
                if kept is listing:
                    del self._lists[identity]

    def clear(self):
        with self._lock:
            self._lists.clear()


class Listing:
    """What one ordered key list is known to hold: its page boundaries (``keys[i]``
    is the key at position ``(i + 1) * interval``), a lower bound of its rows and
    PostgreSQL's estimate of them. Valid while what it reads is unwritten by this
    process and for ``seconds`` at most."""

    def __init__(self, owner, stmt, column, descending, reads):
        self.owner = owner
        self.stmt = stmt
        self.column = column
        self.descending = descending
        self.reads = reads
        self.stamp = _stamp(reads)  # before any query whose answer it records
        self.expires = time.monotonic() + owner.seconds
        self.keys = []
        self.complete = False  # every boundary is known: the list ends before the next
        self.rows_at_least = 0
        self.estimate = None

    def current(self):
        return time.monotonic() < self.expires and _stamp(self.reads) == self.stamp

    def holds_at_least(self, rows):
        self.rows_at_least = max(self.rows_at_least, rows)

    def seek(self, db, start, fetched):
        """The key statement of the page at ``start`` from the boundary before it, or
        None when the page starts before the first boundary (a short plain OFFSET)."""
        interval = self.owner.interval
        needed = start // interval
        if needed == 0:
            return None
        if len(self.keys) < needed and not self.complete:
            self._extend(db, max(needed - len(self.keys), len(self.keys)))
        reached = min(needed, len(self.keys))
        if reached == 0:
            return None
        boundary = self.keys[reached - 1]
        onward = self.column <= boundary if self.descending else self.column >= boundary
        return self.stmt.where(onward).limit(fetched).offset(start - reached * interval)

    def _extend(self, db, steps):
        """Find up to ``steps`` more boundaries in one query: from the last known one
        (or the list's start), each the key ``interval`` places after the previous."""
        interval = self.owner.interval
        column, after = self.column, self.keys[-1] if self.keys else None

        def beyond(key):
            return column < key if self.descending else column > key

        first = (self.stmt if after is None else self.stmt.where(beyond(after))).limit(1)
        first = first.offset(interval if after is None else interval - 1).subquery()
        walk = select(cast(first.c[0], column.type).label("key"),
                      literal(1, Integer).label("step")).cte("boundaries", recursive=True)
        following = (self.stmt.where(beyond(walk.c.key)).limit(1).offset(interval - 1)
                     .correlate(walk).scalar_subquery())
        walk = walk.union_all(select(cast(following, column.type), walk.c.step + 1)
                              .where(walk.c.key.is_not(None), walk.c.step < steps))
        found = db.scalars(select(walk.c.key).order_by(walk.c.step)).all()
        ended = len(found) < steps or (found and found[-1] is None)
        found = [key for key in found if key is not None]
        with self.owner._lock:
            if self.keys[-1:] == ([after] if after is not None else []):  # not extended meanwhile
                self.keys.extend(found)
                self.complete = ended
        if self.keys:
            self.holds_at_least(len(self.keys) * interval + 1)


def _seekable(stmt, keyed):
    """``(column, descending)`` when ``stmt`` selects one non-null column, unique in the
    list, and orders by it alone; else None."""
    if (len(stmt.selected_columns) != 1 or len(stmt._order_by_clauses) != 1
            or stmt._limit_clause is not None or stmt._offset_clause is not None
            or stmt._group_by_clauses or stmt._distinct):
        return None
    order, descending = stmt._order_by_clauses[0], False
    if isinstance(order, UnaryExpression) and order.modifier in (operators.asc_op,
                                                                 operators.desc_op):
        descending, order = order.modifier is operators.desc_op, order.element
    column = stmt.selected_columns[0]
    if (not isinstance(column, ColumnClause) or getattr(column, "nullable", True)
            or not order.compare(column)):
        return None
    if not keyed:
        # Unique only when the list reads its table alone, by its key or a unique column.
        froms = stmt.get_final_froms()
        table = column.table
        if len(froms) != 1 or froms[0] is not table or not (
                column.unique or list(table.primary_key.columns) == [column]):
            return None
    return column, descending


def _identity(stmt):
    """A hashable identity of ``stmt`` and its parameter values, or None."""
    key = stmt._generate_cache_key()
    if key is None:
        return None
    values = tuple(tuple(value) if isinstance(value, list) else value
                   for value in (bind.effective_value for bind in key.bindparams))
    try:
        hash(values)
    except TypeError:
        return None
    return key.key, values


# -- what this process writes --------------------------------------------------------------
# A stamp per table name (rows inserted or deleted), per (table, column) (an UPDATE of
# the column) and per (table, ANY_COLUMN) (any UPDATE of the table), renewed when this
# process writes it; EVERY_TABLE when a statement's tables are unknown (DDL, raw SQL).
# A list's record is valid while the stamps of what it reads are unchanged.

EVERY_TABLE = "*"
ANY_COLUMN = "*"
_written_stamps = {}
_stamps = itertools.count(1)
_READS = re.compile(r"\s*(SELECT|EXPLAIN|SHOW|SET|BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT"
                    r"|PRAGMA)\b", re.IGNORECASE)
WRITTEN_KEY = "lms.pagination.written"
_watching = []
_watch_lock = threading.Lock()


def _stamp(reads):
    """The stamps of ``reads`` (a tuple: the same order each time)."""
    get = _written_stamps.get
    return get(EVERY_TABLE, 0), tuple(get(name, 0) for name in reads)


def _renew(names):
    stamp = next(_stamps)
    for name in names:
        _written_stamps[name] = stamp


def _read_by(stmt):
    """What ``stmt``'s answer depends on, as a tuple: its tables' names and
    ``(table, column)`` pairs; ``(table, ANY_COLUMN)`` too when it holds SQL whose
    columns are unknown."""
    tables, reads, opaque = set(), set(), False
    for element in visitors.iterate(stmt):
        if isinstance(element, TableClause):
            tables.add(element.name)
        elif isinstance(element, Column):
            table = element.table
            while not isinstance(table, TableClause) and hasattr(table, "element"):
                table = table.element  # an alias's table
            if isinstance(table, TableClause):
                tables.add(table.name)
                reads.add((table.name, element.key))
            else:
                opaque = True
        elif isinstance(element, (ColumnClause, TextClause)):
            opaque = True
    reads |= tables
    if opaque:
        reads |= {(name, ANY_COLUMN) for name in tables}
    return tuple(reads)


_CHANGING_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT")
_cascades = {}


def _cascading_to(name, action):
    """``name`` and every table the database changes when rows of ``name`` are deleted
    or their keys updated (``action``: "ondelete" or "onupdate"), transitively."""
    from lms.db import metadata

    known = _cascades.get((name, action, len(metadata.tables)))
    if known is not None:
        return known
    found, pending = {name}, [name]
    while pending:
        referred = pending.pop()
        for table in metadata.tables.values():
            if table.name not in found and any(
                    key.target_fullname.rsplit(".", 1)[0].rsplit(".", 1)[-1] == referred
                    and (getattr(key, action) or "").upper() in _CHANGING_ACTIONS
                    for key in table.foreign_keys):
                found.add(table.name)
                pending.append(table.name)
    _cascades[(name, action, len(metadata.tables))] = found = frozenset(found)
    return found


def _updated_columns(compiled):
    """The column keys an UPDATE sets (its values, the parameters it was compiled for,
    the columns it fills by default), or None when one cannot be told."""
    keys = set(compiled.column_keys or ())
    keys.update(getattr(key, "key", key) for key in getattr(compiled.statement, "_values",
                                                            None) or ())
    for column in (*(getattr(compiled, "update_prefetch", None) or ()),
                   *(getattr(compiled, "postfetch", None) or ())):
        keys.add(column.key)
    return keys if keys and all(isinstance(key, str) for key in keys) else None


def _written(statement, context):
    """What a statement this process ran may have changed (stamp names), or None."""
    if context is None:
        return None if _READS.match(statement) else {EVERY_TABLE}
    compiled = context.compiled
    if context.isinsert or context.isupdate or context.isdelete:
        name = getattr(getattr(compiled.statement, "table", None), "name", None)
        if name is None:
            return {EVERY_TABLE}
        if context.isinsert:
            return {name}
        if context.isdelete:
            return _cascading_to(name, "ondelete")
        cascades = _cascading_to(name, "onupdate")
        columns = _updated_columns(compiled)
        if columns is None:
            return cascades
        return {(name, ANY_COLUMN)} | {(name, key) for key in columns} | (cascades - {name})
    if context.isddl:
        return {EVERY_TABLE}
    if compiled is None or context.is_text:
        return None if _READS.match(statement) else {EVERY_TABLE}
    return None  # a SELECT built by SQLAlchemy


def _after_execute(conn, cursor, statement, parameters, context, executemany):
    names = _written(statement, context)
    if names:
        _renew(names)
        conn.info.setdefault(WRITTEN_KEY, set()).update(names)


def _transaction_ended(conn, *args):
    # Lists read while the transaction ran may hold its rows (before it rolled back) or
    # miss them (read by another connection before it committed): renew them again.
    names = conn.info.get(WRITTEN_KEY)
    if names:
        _renew(names)
        if not args:  # the whole transaction, not a savepoint
            names.clear()


def _watch_writes():
    with _watch_lock:
        if not _watching:
            event.listen(Engine, "after_cursor_execute", _after_execute)
            for name in ("commit", "rollback", "rollback_savepoint"):
                event.listen(Engine, name, _transaction_ended)
            _watching.append(True)


def includeme(config):
    settings = config.get_settings()
    config.registry[ESTIMATE_THRESHOLD_KEY] = as_int(
        settings, "pagination.count_estimate_threshold")
    config.registry[BOUNDARIES_KEY] = process_state.register(config.registry, Boundaries(
        as_int(settings, "pagination.boundary_interval"),
        as_int(settings, "pagination.boundary_seconds")))


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
           honour_page_size=False, max_page_size=None):
    """Keyset pagination on a unique integer ``order_column`` (DRF CursorPagination);
    ``honour_page_size``: a ``page_size`` query parameter (at most ``max_page_size``)
    overrides ``page_size``."""
    size = (_page_size(request, page_size, max_page_size) if honour_page_size
            else page_size)
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
