"""``lms.pagination.page_number`` on statements: counts, keyed (deferred-join) pages and
PostgreSQL's count estimate.

The paginator is called directly with a request built here, so each test picks its
statement and threshold. The estimate tests run on PostgreSQL only.
"""
import pytest
from pyramid.config import ConfigurationError
from pyramid.request import Request
from sqlalchemy import func, select, text

from lms.errors import APIError
from lms.models import CourseAccessRole, User
from lms.pagination import ESTIMATE_THRESHOLD_KEY, _estimable, count_rows, page_number
from lms.testing import count_queries

ROWS = 23
INVALID_PAGE = {"detail": "Invalid page."}


@pytest.fixture
def users(db):
    db.add_all(User(username=f"user{i:03d}", email=f"user{i:03d}@example.com",
                    is_active=i % 3 != 0) for i in range(ROWS))
    db.commit()
    return db.scalars(select(User.username).order_by(User.id)).all()


@pytest.fixture
def is_postgres(engine):
    return engine.dialect.name == "postgresql"


def paginate(db, query="", stmt=None, rows=None, threshold=0, **kw):
    """The page ``page_number`` answers for ``/list/?<query>``, as usernames."""
    request = Request.blank("/list/" + query, base_url="http://localhost")
    request.dbsession = db
    request.registry = {ESTIMATE_THRESHOLD_KEY: threshold}
    if stmt is None:
        stmt = select(User.id).order_by(User.id)
        rows = keyed_users
    return page_number(request, stmt, lambda found: [row[0].username for row in found],
                       rows=rows, **kw)


def keyed_users(page_keys):
    return select(User).where(User.id.in_(page_keys)).order_by(User.id)


def naive(db, stmt, size, page):
    """The same page by plain LIMIT/OFFSET over the rows."""
    return db.scalars(stmt.limit(size).offset((page - 1) * size)).all()


def invalid_page(db, query, **kw):
    with pytest.raises(APIError) as raised:
        paginate(db, query, **kw)
    return raised.value.status, raised.value.body


@pytest.mark.parametrize("size", [1, 4, 10, 23, 100])
def test_every_keyed_page_equals_the_naive_offset_page(db, users, size):
    num_pages = -(-ROWS // size)
    for number in range(1, num_pages + 1):
        body = paginate(db, f"?page_size={size}&page={number}")
        assert body["results"] == naive(db, select(User.username).order_by(User.id),
                                        size, number)
        assert body["count"] == ROWS and body["num_pages"] == num_pages
        assert body["current_page"] == number and body["start"] == (number - 1) * size
        assert (body["next"] is None) == (number == num_pages)
        assert (body["previous"] is None) == (number == 1)


def test_keyed_pages_follow_a_descending_filtered_order(db, users):
    # LIKE makes no estimate: counted exactly whatever the threshold.
    matching = User.username.like("%1%")
    keys = select(User.id).where(matching).order_by(User.id.desc())
    expected = db.scalars(select(User.username).where(matching).order_by(User.id.desc())).all()
    assert len(expected) == 12
    pages = [paginate(db, f"?page_size=5&page={number}", keys, lambda page_keys: (
        select(User).where(User.id.in_(page_keys)).order_by(User.id.desc())), threshold=1)
        for number in (1, 2, 3)]
    assert [name for body in pages for name in body["results"]] == expected
    assert [body["count"] for body in pages] == [12, 12, 12]


def test_plain_and_keyed_forms_answer_alike(db, users):
    plain = select(User).order_by(User.id)
    for query in ("", "?page=2", "?page_size=7&page=last", "?page_size=5&page=3"):
        assert paginate(db, query, plain) == paginate(db, query)


def test_last_page(db, users):
    body = paginate(db, "?page_size=10&page=last")
    assert body["results"] == users[20:] and body["current_page"] == 3
    assert body["next"] is None and body["previous"].endswith("page=2")


@pytest.mark.parametrize("query", ["?page=4", "?page=0", "?page=-1", "?page=abc", "?page=1.0",
                                   "?page=", "?page_size=23&page=2", f"?page={10**30}",
                                   "?page=" + "9" * 5000])
def test_out_of_range_or_bad_page_is_404(db, users, query):
    assert invalid_page(db, query) == (404, INVALID_PAGE)


def test_the_invalid_page_body_is_the_callers(db, users):
    body = {"developer_message": "Invalid page."}
    assert invalid_page(db, "?page=9", invalid_page_body=body) == (404, body)


def test_an_empty_list_has_one_empty_page(db):
    assert paginate(db) == {"next": None, "previous": None, "count": 0, "num_pages": 1,
                            "current_page": 1, "start": 0, "results": []}
    assert invalid_page(db, "?page=2") == (404, INVALID_PAGE)


def test_keyed_pages_take_two_queries_whatever_the_page(db, engine, users):
    for query in ("", "?page=2", "?page_size=1&page=20", "?page=last"):
        with count_queries(engine) as queries:
            paginate(db, query)
        assert len(queries) == 2, queries  # the count, then the page's rows by key


def test_the_count_reads_the_key_statement_only(db, engine, users):
    with count_queries(engine) as queries:
        paginate(db, "?page=2")
    count, rows = queries
    assert "count(" in count.lower() and "lms_user.username" not in count
    assert "lms_user.username" in rows and "IN (SELECT" in rows


def test_sqlite_and_a_zero_threshold_count_exactly(db, engine, users, is_postgres):
    threshold = 0 if is_postgres else 1
    with count_queries(engine) as queries:
        body = paginate(db, "?page=2", threshold=threshold)
    assert body["count"] == ROWS and len(queries) == 2
    assert not any("EXPLAIN" in statement for statement in queries)


# -- which statements may be estimated ---------------------------------------------------------

@pytest.mark.parametrize("stmt, estimable", [
    (select(User.id), True),
    (select(User.id).where(User.is_active.is_(True)), True),
    (select(User.id).where(User.last_login.is_(None)), True),
    (select(User.id).where(User.username == "a"), True),
    (select(User.id).where(User.username == "a", User.id.in_([1, 2])), True),
    (select(User.id).where(User.username.like("a%")), False),
    (select(User.id).where((User.username == "a") | (User.email == "b")), False),
    (select(User.id).where(User.id > 3), False),
    (select(User.id).where(func.lower(User.username) == "a"), False),
    (select(User.id).join(CourseAccessRole, CourseAccessRole.user_id == User.id), False),
    (select(User.id).where(User.id.in_(select(CourseAccessRole.user_id))), False),
    (select(User.username).group_by(User.username), False),
    (select(User.username).distinct(), False),
    (select(User.id).limit(5), False),
])
def test_only_one_table_with_equalities_is_estimable(stmt, estimable):
    assert _estimable(stmt) is estimable


def test_the_threshold_is_a_setting(app_factory):
    assert app_factory().registry[ESTIMATE_THRESHOLD_KEY] == 100_000
    app = app_factory(**{"pagination.count_estimate_threshold": "5"})
    assert app.registry[ESTIMATE_THRESHOLD_KEY] == 5
    with pytest.raises(ConfigurationError, match="pagination.count_estimate_threshold"):
        app_factory(**{"pagination.count_estimate_threshold": "many"})


# -- PostgreSQL's estimate ---------------------------------------------------------------------

@pytest.fixture
def analyzed(db, users, is_postgres):
    if not is_postgres:
        pytest.skip("the count estimate is PostgreSQL's")
    db.execute(text("ANALYZE lms_user"))
    db.commit()
    return users


def test_a_count_under_the_threshold_is_exact(db, engine, analyzed):
    with count_queries(engine) as queries:
        assert count_rows(db, select(User.id), threshold=ROWS) == (ROWS, True)
    assert len(queries) == 1 and "LIMIT" in queries[0]  # counted up to threshold + 1 rows


def test_over_the_threshold_the_planner_estimates(db, engine, analyzed):
    with count_queries(engine) as queries:
        body = paginate(db, "?page_size=2", threshold=2)
    # After ANALYZE the planner knows the table: its estimate is the row count.
    assert body["count"] == ROWS and body["num_pages"] == 12
    assert body["results"] == analyzed[:2]
    bounded, explain, page = queries
    assert "LIMIT" in bounded and explain.startswith("EXPLAIN (FORMAT JSON) SELECT")


def test_a_page_past_the_threshold_skips_the_bounded_count(db, engine, analyzed):
    with count_queries(engine) as queries:
        body = paginate(db, "?page=2", threshold=10)
    assert body["count"] == ROWS and body["results"] == analyzed[10:20]
    explain, page = queries
    assert explain.startswith("EXPLAIN") and "LIMIT" in page
    assert invalid_page(db, "?page=4", threshold=10) == (404, INVALID_PAGE)
    assert invalid_page(db, f"?page={10**30}", threshold=10) == (404, INVALID_PAGE)


def test_an_equality_filter_is_estimated_too(db, engine, analyzed):
    keys = select(User.id).where(User.is_staff == False).order_by(User.id)  # noqa: E712
    with count_queries(engine) as queries:
        body = paginate(db, "", keys, keyed_users, threshold=2)
    assert body["count"] == ROWS and any("EXPLAIN" in statement for statement in queries)


def test_other_filters_count_exactly(db, engine, analyzed):
    keys = select(User.id).where(User.username.like("user01%")).order_by(User.id)
    with count_queries(engine) as queries:
        body = paginate(db, "", keys, keyed_users, threshold=2)
    assert body["count"] == 10 and len(queries) == 2
    assert not any("EXPLAIN" in statement for statement in queries)


def test_a_stale_estimate_still_pages_to_the_real_end(db, analyzed):
    # Rows added after ANALYZE: the planner still thinks there are 23.
    db.add_all(User(username=f"late{i}", email=f"late{i}@example.com") for i in range(9))
    db.commit()
    everyone = db.scalars(select(User.username).order_by(User.id)).all()
    seen, number, counts = [], 1, []
    while True:
        body = paginate(db, f"?page_size=5&page={number}", threshold=2)
        seen += body["results"]
        counts.append(body["count"])
        # Never fewer than the rows the pages showed; next exactly when rows follow.
        assert body["count"] >= len(seen)
        assert body["num_pages"] >= number
        if body["next"] is None:
            break
        number += 1
    assert seen == everyone and number == 7
    assert counts[-1] == ROWS + 9 and body["num_pages"] == 7  # the end is known exactly
    assert invalid_page(db, "?page_size=5&page=8", threshold=2) == (404, INVALID_PAGE)
    last = paginate(db, "?page_size=5&page=last", threshold=2)  # counted exactly
    assert last["current_page"] == 7 and last["results"] == everyone[30:]
    assert last["count"] == ROWS + 9


def test_an_estimate_past_the_end_is_404(db, analyzed):
    db.execute(User.__table__.delete().where(User.username >= "user010"))
    db.commit()  # 10 rows left, the planner still expects 23
    body = paginate(db, "?page_size=5&page=2", threshold=2)
    assert body["results"] == analyzed[5:10] and body["next"] is None
    assert body["count"] == 10 and body["num_pages"] == 2
    assert invalid_page(db, "?page_size=5&page=3", threshold=2) == (404, INVALID_PAGE)
