"""Page boundaries (``lms.pagination.Boundaries``): deep pages seek from the key at
every ``interval``-th position instead of skipping every key before them.

Every page must equal the plain LIMIT/OFFSET page, before and after the rows
change; a write of this process drops the boundaries of the lists it touches
(commit, rollback and foreign-key cascades included); writes of other processes
(simulated by SQL sent on the raw driver connection, which SQLAlchemy does not
see) show after ``seconds``. The paginator is called directly with a registry
built here; the interval is tiny so that a few dozen rows have many boundaries.
"""
import pytest
from pyramid.config import ConfigurationError
from pyramid.request import Request
from sqlalchemy import delete, select, text, update

from lms import pagination, process_state
from lms.models import User
from lms.pagination import (
    BOUNDARIES_KEY,
    ESTIMATE_THRESHOLD_KEY,
    Boundaries,
    _seekable,
    page_number,
)
from lms.testing import count_queries
from plugins.accounts.models import UserPreference

ROWS = 50
INTERVAL = 4


@pytest.fixture
def users(db):
    db.add_all(User(username=f"user{i:03d}", email=f"user{i:03d}@example.com",
                    is_active=i % 3 != 0) for i in range(ROWS))
    db.commit()


@pytest.fixture
def boundaries():
    return Boundaries(INTERVAL, 60)


def by_id(stmt_order=User.id):
    return select(User.id).order_by(stmt_order)


def user_rows(descending=False):
    def rows(page_keys):
        return (select(User).where(User.id.in_(page_keys))
                .order_by(User.id.desc() if descending else User.id))
    return rows


LISTS = {
    "ids": (lambda: by_id(), user_rows()),
    "ids descending": (lambda: by_id(User.id.desc()), user_rows(descending=True)),
    "active ids": (lambda: by_id().where(User.is_active.is_(True)), user_rows()),
    "usernames (plain)": (lambda: select(User.username).order_by(User.username), None),
}


def paginate(db, boundaries, query, stmt=None, rows=None, threshold=0):
    request = Request.blank("/list/" + query, base_url="http://localhost")
    request.dbsession = db
    request.registry = {ESTIMATE_THRESHOLD_KEY: threshold, BOUNDARIES_KEY: boundaries}
    if stmt is None:
        stmt, rows = by_id(), user_rows()
    return page_number(request, stmt, lambda found: [
        row[0] if isinstance(row[0], str) else row[0].username for row in found], rows=rows)


def usernames(db, stmt):
    """The list's usernames in its order (the naive answer)."""
    ids_or_names = db.scalars(stmt).all()
    if ids_or_names and isinstance(ids_or_names[0], str):
        return ids_or_names
    names = dict(db.execute(select(User.id, User.username)).all())
    return [names[key] for key in ids_or_names]


def expected_body(db, stmt, size, number):
    everything = usernames(db, stmt)
    pages = max(1, -(-len(everything) // size))
    return {
        "next": f"http://localhost/list/?page_size={size}&page={number + 1}"
        if number < pages else None,
        "previous": f"http://localhost/list/?page_size={size}&page={number - 1}"
        if number > 1 else None,
        "count": len(everything), "num_pages": pages, "current_page": number,
        "start": (number - 1) * size,
        "results": everything[(number - 1) * size:number * size],
    }


def assert_every_page_is_naive(db, boundaries, stmt, rows, size):
    pages = max(1, -(-len(db.scalars(stmt).all()) // size))
    # Deepest first (boundaries found in one go), then in order (found already).
    for number in [*range(pages, 0, -1), *range(1, pages + 1)]:
        body = paginate(db, boundaries, f"?page_size={size}&page={number}", stmt, rows)
        assert body == expected_body(db, stmt, size, number), (size, number)


# -- every page is the plain OFFSET page ---------------------------------------------------

@pytest.mark.parametrize("size", [1, 3, 4, 5, 10, 100])
@pytest.mark.parametrize("listed", sorted(LISTS))
def test_every_page_equals_the_plain_offset_page(db, users, boundaries, listed, size):
    stmt, rows = LISTS[listed]
    assert_every_page_is_naive(db, boundaries, stmt(), rows, size)


def test_a_page_from_boundaries_seeks_to_the_one_before_it(db, engine, users, boundaries):
    with count_queries(engine) as queries:
        body = paginate(db, boundaries, "?page_size=5&page=5")  # rows 20-24
    count, found, page = queries
    assert "WITH RECURSIVE" in found
    assert "lms_user.id >=" in page and "OFFSET" in page
    assert body["results"] == [f"user{i:03d}" for i in range(20, 25)]
    listing = boundaries.listing(by_id(), keyed=True)
    ids = db.scalars(by_id()).all()
    # Positions 4, 8, ..., 20 (the page needs the fifth); found once, then reused.
    assert listing.keys == [ids[position] for position in range(4, 21, 4)]
    with count_queries(engine) as queries:
        assert paginate(db, boundaries, "?page_size=5&page=5") == body
        paginate(db, boundaries, "?page_size=5&page=2")  # before the last boundary
    assert len(queries) == 4 and not any("RECURSIVE" in sql for sql in queries)


def test_a_deeper_page_extends_the_boundaries_at_least_twofold(db, engine, users, boundaries):
    listing = boundaries.listing(by_id(), keyed=True)
    paginate(db, boundaries, "?page_size=1&page=9")  # needs 2 boundaries
    assert len(listing.keys) == 2 and not listing.complete
    paginate(db, boundaries, "?page_size=1&page=13")  # needs 3: finds 2 more
    assert len(listing.keys) == 4
    paginate(db, boundaries, "?page_size=1&page=21")  # needs 5: finds 4 more
    assert len(listing.keys) == 8 and not listing.complete
    paginate(db, boundaries, "?page_size=1&page=37")  # needs 9: 8 more asked, 4 left
    ids = db.scalars(by_id()).all()
    assert listing.keys == ids[4::4] and listing.complete
    with count_queries(engine) as queries:
        for number in (50, 30, 49, 17):
            paginate(db, boundaries, f"?page_size=1&page={number}")
    assert len(queries) == 8  # count and page each: all known


def test_short_lists_and_first_pages_need_no_boundaries(db, engine, users, boundaries):
    with count_queries(engine) as queries:
        paginate(db, boundaries, "?page_size=3&page=2")  # starts at 3, before position 4
        paginate(db, boundaries, "?page_size=10&page=1")
    assert len(queries) == 4 and not any("RECURSIVE" in sql for sql in queries)


# -- writes of this process ----------------------------------------------------------------

def build_deep(db, boundaries, stmt=None, rows=None):
    """Page deep into a list so that its boundaries are known."""
    paginate(db, boundaries, "?page_size=3&page=9", stmt, rows)
    listing = boundaries.listing(stmt if stmt is not None else by_id(), keyed=rows is not None
                                 or stmt is None)
    assert listing.keys
    return listing


def first_ids(db, n):
    return db.scalars(by_id().limit(n)).all()


WRITES = {
    "ORM delete": lambda db: [db.delete(db.get(User, key)) for key in first_ids(db, 3)],
    "Core delete": lambda db: db.execute(delete(User).where(User.id.in_(first_ids(db, 3)))),
    "SQL delete": lambda db: db.execute(text(
        "DELETE FROM lms_user WHERE id IN (SELECT id FROM lms_user ORDER BY id LIMIT 3)")),
    "ORM insert": lambda db: db.add_all(User(id=-key, username=f"early{key}",
                                             email=f"early{key}@example.com")
                                        for key in range(1, 4)),
    "Core update": lambda db: db.execute(update(User).where(User.id.in_(first_ids(db, 3)))
                                         .values(id=User.id - 1000)),
    "ORM update": lambda db: setattr(db.get(User, first_ids(db, 1)[0]), "id", -5),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_of_this_process_drops_the_boundaries(db, engine, users, boundaries, write):
    active = by_id().where(User.is_active.is_(True))
    for stmt in (None, active):
        build_deep(db, boundaries, stmt, user_rows() if stmt is not None else None)
    WRITES[write](db)
    db.commit()
    for stmt in (by_id(), active):
        with count_queries(engine) as queries:
            body = paginate(db, boundaries, "?page_size=5&page=6", stmt, user_rows())
        assert body == expected_body(db, stmt, 5, 6)
        assert any("RECURSIVE" in sql for sql in queries)  # found anew
    assert_every_page_is_naive(db, boundaries, by_id(), user_rows(), 3)


def test_an_update_drops_the_lists_that_read_its_columns(db, engine, users, boundaries):
    active = by_id().where(User.is_active.is_(True))
    for stmt in (by_id(), active):
        build_deep(db, boundaries, stmt, user_rows())
    for user in db.scalars(select(User).where(User.id.in_(first_ids(db, 4)))):
        user.last_login, user.name = user.date_joined, "Renamed"  # no list reads these
    db.commit()
    for stmt in (by_id(), active):
        with count_queries(engine) as queries:
            assert paginate(db, boundaries, "?page_size=5&page=6", stmt, user_rows()) == \
                expected_body(db, stmt, 5, 6)
        assert not any("RECURSIVE" in sql for sql in queries)  # kept
    db.execute(update(User).where(User.id.in_(first_ids(db, 4))).values(is_active=False))
    db.commit()
    for stmt, dropped in ((by_id(), False), (active, True)):
        with count_queries(engine) as queries:
            assert paginate(db, boundaries, "?page_size=5&page=6", stmt, user_rows()) == \
                expected_body(db, stmt, 5, 6)
        assert any("RECURSIVE" in sql for sql in queries) is dropped


def test_a_list_with_sql_of_unknown_columns_is_dropped_by_any_update(db, users, boundaries):
    having_an_email = by_id().where(text("lms_user.email <> ''"))
    listing = build_deep(db, boundaries, having_an_email, user_rows())
    db.execute(update(User).where(User.id == first_ids(db, 1)[0]).values(name=""))
    db.commit()
    assert not listing.current()
    assert paginate(db, boundaries, "?page_size=3&page=9", having_an_email, user_rows()) == \
        expected_body(db, having_an_email, 3, 9)


# -- writes of other processes -------------------------------------------------------------

def other_process(db, sql):
    """Run ``sql`` on the driver's connection: no SQLAlchemy event sees it."""
    cursor = db.connection().connection.dbapi_connection.cursor()
    cursor.execute(sql)
    cursor.close()


def test_other_processes_writes_show_once_the_boundaries_expire(db, users, boundaries,
                                                                 monkeypatch):
    build_deep(db, boundaries)
    other_process(db, "DELETE FROM lms_user WHERE id IN "
                      "(SELECT id FROM lms_user ORDER BY id LIMIT 2)")
    everything = usernames(db, by_id())
    body = paginate(db, boundaries, "?page_size=5&page=9")
    # The documented shift: the boundaries are two rows off until they expire.
    assert body["results"] == everything[38:43] and body["count"] == ROWS - 2
    later = pagination.time.monotonic() + 61
    monkeypatch.setattr(pagination.time, "monotonic", lambda: later)
    assert paginate(db, boundaries, "?page_size=5&page=9") == expected_body(db, by_id(), 5, 9)


def test_a_page_shorter_than_the_exact_count_is_read_plainly(db, engine, users, boundaries):
    paginate(db, boundaries, "?page_size=5&page=10")  # the last page: boundaries to 44
    other_process(db, "INSERT INTO lms_user (id, username, email, name, password, is_active, "
                      "is_staff, is_superuser, date_joined, anonymous_id) "
                      "VALUES (-1, 'early1', 'early1@example.com', '', '!', true, false, "
                      "false, '2020-01-01', 'x1'), (-2, 'early2', 'early2@example.com', '', "
                      "'!', true, false, false, '2020-01-01', 'x2')")
    # Page 11 now holds rows 50-51; from the stale boundaries it would be empty.
    with count_queries(engine) as queries:
        body = paginate(db, boundaries, "?page_size=5&page=11")
    assert body == expected_body(db, by_id(), 5, 11) and len(body["results"]) == 2
    count, found, short, plain = queries
    assert "RECURSIVE" in found and ">=" in short
    assert "OFFSET" in plain and ">=" not in plain
    assert boundaries.listing(by_id(), keyed=True).keys == []  # forgotten


# -- which lists, settings -----------------------------------------------------------------

@pytest.mark.parametrize("stmt, keyed, seekable", [
    (by_id(), True, True),
    (by_id(User.id.desc()), False, True),
    (select(User.username).order_by(User.username), False, True),  # unique
    (select(User.name).order_by(User.name), False, False),  # may repeat
    (select(User.last_login).order_by(User.last_login), True, False),  # nullable
    (select(User.id).order_by(User.username), True, False),  # ordered by another column
    (select(User.id).order_by(User.id, User.username), True, False),
    (select(User.id, User.username).order_by(User.id), True, False),
    (select(User.id).order_by(User.id).limit(5), True, False),
    (select(UserPreference.user_id).where(UserPreference.key == "a")
     .order_by(UserPreference.user_id), True, True),  # the keyed form vouches
    (select(UserPreference.user_id).order_by(UserPreference.user_id), False, False),
    (select(User.id).join(UserPreference, UserPreference.user_id == User.id)
     .order_by(User.id), False, False),  # a join may repeat a key
])
def test_only_lists_ordered_by_a_unique_non_null_key_seek(stmt, keyed, seekable):
    assert (_seekable(stmt, keyed) is not None) is seekable


def test_zero_seconds_keeps_no_boundaries(db, engine, users):
    off = Boundaries(INTERVAL, 0)
    assert off.listing(by_id(), keyed=True) is None
    with count_queries(engine) as queries:
        body = paginate(db, off, "?page_size=5&page=9")
    assert body == expected_body(db, by_id(), 5, 9) and len(queries) == 2


def test_the_boundaries_are_settings_and_process_state(app_factory, db, users):
    app = app_factory()
    kept = app.registry[BOUNDARIES_KEY]
    assert (kept.interval, kept.seconds) == (1000, 10)
    app = app_factory(**{"pagination.boundary_interval": "7",
                         "pagination.boundary_seconds": "0"})
    assert (app.registry[BOUNDARIES_KEY].interval, app.registry[BOUNDARIES_KEY].seconds) == (7, 0)
    for key in ("pagination.boundary_interval", "pagination.boundary_seconds"):
        with pytest.raises(ConfigurationError, match=key):
            app_factory(**{key: "often"})
    listing = kept.listing(by_id(), keyed=True)
    assert kept.listing(by_id(), keyed=True) is listing
    process_state.clear(app_factory().registry)
    assert kept.listing(by_id(), keyed=True) is not listing


# -- PostgreSQL: counts ------------------------------------------------------------------------

@pytest.fixture
def analyzed(db, users, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the count estimate is PostgreSQL's")
    db.execute(text("ANALYZE lms_user"))
    db.commit()


def test_a_list_known_past_the_threshold_is_neither_counted_nor_explained_again(
        db, engine, analyzed, boundaries):
    with count_queries(engine) as queries:
        first = paginate(db, boundaries, "?page_size=2", threshold=10)
    assert len(queries) == 3  # bounded count, EXPLAIN, page
    with count_queries(engine) as queries:
        again = paginate(db, boundaries, "?page_size=2", threshold=10)
    assert again == first and first["count"] == ROWS
    assert len(queries) == 1  # the page alone
    with count_queries(engine) as queries:
        deep = paginate(db, boundaries, "?page_size=2&page=20", threshold=10)
    assert deep["count"] == ROWS and deep["results"] == usernames(db, by_id())[38:40]
    found, page = queries  # the boundaries, the page
    assert "RECURSIVE" in found and "lms_user.id >=" in page
    db.add(User(username="late", email="late@example.com"))
    db.commit()
    with count_queries(engine) as queries:
        paginate(db, boundaries, "?page_size=2", threshold=10)
    assert len(queries) == 3  # counted and explained anew


def test_a_list_under_the_threshold_stays_counted_exactly(db, engine, analyzed, boundaries):
    for _ in range(2):
        with count_queries(engine) as queries:
            body = paginate(db, boundaries, "?page_size=5&page=9", threshold=100)
        assert body == expected_body(db, by_id(), 5, 9)
        assert "count(" in queries[0].lower() and not any("EXPLAIN" in sql for sql in queries)
