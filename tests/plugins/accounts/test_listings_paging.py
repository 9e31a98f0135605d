"""The API-key listings page on keys (a deferred join): every page equals the naive
LIMIT/OFFSET page over the joined rows, the queries stay fixed wherever the page is,
and on PostgreSQL the keys are read from an index alone (asserted on ``EXPLAIN``)."""
import pytest
from sqlalchemy import delete, event, select

from lms.models import User
from plugins.accounts.models import UserPreference
from tests.plugins.accounts.test_preferences_support import API_KEY, api_key_headers

USERS = "/api/user/v1/users/"
USER_PREFS = "/api/user/v1/user_prefs/"
PREF_USERS = "/api/user/v1/preferences/{}/users/"
PEOPLE = 30


@pytest.fixture
def settings(settings):
    settings["lms.edx_api_key"] = API_KEY
    return settings


@pytest.fixture
def people(db):
    users = [User(username=f"person{i:02d}", email=f"person{i:02d}@example.com")
             for i in range(PEOPLE)]
    db.add_all(users)
    db.flush()
    # Interleaved so that a key's rows are not one run of ids.
    for user in users:
        db.add(UserPreference(user_id=user.id, key="time_zone", value="UTC"))
        if user.id % 3:
            db.add(UserPreference(user_id=user.id, key="pref-lang", value="en"))
    db.commit()
    return users


def walk(app, url, size, **params):
    """Every page of a listing at ``size`` per page, as a list of result lists."""
    pages, number = [], 1
    while True:
        body = app.get(url, {**params, "page_size": size, "page": number},
                       headers=api_key_headers()).json
        pages.append(body["results"])
        if body["next"] is None:
            return pages
        number += 1


def chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)] or [[]]


@pytest.mark.parametrize("size", [4, 7, 100])
def test_users_pages_equal_the_naive_pages(app, db, people, size):
    expected = db.scalars(select(User.username).order_by(User.id)).all()
    pages = walk(app, USERS, size)
    assert [[user["username"] for user in page] for page in pages] == chunks(expected, size)


@pytest.mark.parametrize("params", [{}, {"key": "pref-lang"}, {"key": "none-such"}])
def test_user_prefs_pages_equal_the_naive_pages_over_the_join(app, db, people, params):
    naive = (select(UserPreference.id, User.username, UserPreference.key)
             .join(User, User.id == UserPreference.user_id).order_by(UserPreference.id))
    if params:
        naive = naive.where(UserPreference.key == params["key"])
    expected = [list(row) for row in db.execute(naive)]
    pages = walk(app, USER_PREFS, 7, **params)
    found = [[int(pref["url"].rstrip("/").rsplit("/", 1)[1]), pref["user"]["username"],
              pref["key"]] for pref in (pref for page in pages for pref in page)]
    assert found == expected


def test_users_having_a_preference_pages_equal_the_naive_pages(app, db, people):
    naive = (select(User.username).join(UserPreference, UserPreference.user_id == User.id)
             .where(UserPreference.key == "pref-lang").order_by(User.id))
    expected = db.scalars(naive).all()
    pages = walk(app, PREF_USERS.format("pref-lang"), 6)
    assert [[user["username"] for user in page] for page in pages] == chunks(expected, 6)
    assert all(page[0]["preferences"]["pref-lang"] == "en" for page in pages)


@pytest.mark.parametrize("url", [USERS, USER_PREFS, PREF_USERS.format("time_zone")])
def test_a_deep_page_takes_the_queries_of_the_first(app, people, query_counter, url):
    counts = []
    for page in ("1", "5", "last"):
        with query_counter() as queries:
            app.get(url, {"page_size": 5, "page": page}, headers=api_key_headers())
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]


def naive_listings(db):
    """What each listing shows, by plain queries over the joined rows."""
    prefs = (select(UserPreference.id, User.username, UserPreference.key)
             .join(User, User.id == UserPreference.user_id).order_by(UserPreference.id))
    return {
        USERS: db.scalars(select(User.username).order_by(User.id)).all(),
        USER_PREFS: [list(row) for row in db.execute(prefs)],
        PREF_USERS.format("time_zone"): db.scalars(
            select(User.username).join(UserPreference, UserPreference.user_id == User.id)
            .where(UserPreference.key == "time_zone").order_by(User.id)).all(),
    }


def listed(app, url, size):
    pages = walk(app, url, size)
    if url == USER_PREFS:
        return [[int(pref["url"].rstrip("/").rsplit("/", 1)[1]), pref["user"]["username"],
                 pref["key"]] for page in pages for pref in page]
    return [user["username"] for page in pages for user in page]


def test_pages_from_page_boundaries_equal_the_naive_pages(app_factory, db, people):
    """Every third key is a boundary: nearly every page seeks from one, before and
    after users (and, by cascade, their preferences) are deleted."""
    app = app_factory(**{"lms.edx_api_key": API_KEY, "pagination.boundary_interval": "3"})
    for size in (2, 5):
        for url, expected in naive_listings(db).items():
            assert listed(app, url, size) == expected, (url, size)
    db.execute(delete(User).where(User.username.in_(["person01", "person04", "person05"])))
    db.commit()
    for url, expected in naive_listings(db).items():
        assert listed(app, url, 4) == expected, url
    assert len(naive_listings(db)[USERS]) == PEOPLE - 3


# -- PostgreSQL: index-only keys ---------------------------------------------------------------

@pytest.fixture
def plans(engine, people):
    """``plans(url)``: the ``EXPLAIN`` text of each query the request ran."""
    if engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # An index-only scan needs the visibility map that VACUUM sets.
        conn.exec_driver_sql("VACUUM ANALYZE lms_user, accounts_preference")

    def explain(app, url, **params):
        ran = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("SELECT"):
                ran.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            app.get(url, {**params, "page_size": 5, "page": 3}, headers=api_key_headers())
        finally:
            event.remove(engine, "before_cursor_execute", record)
        found = []
        with engine.connect() as conn:
            # The tables are tiny: left free, the planner reads them whole. Without
            # scans of the table, only an index that serves the query is left.
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            for statement, parameters in ran:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
                found.append("\n".join(row[0] for row in rows))
        return found

    return explain


@pytest.mark.commits  # VACUUM and EXPLAIN run on connections of their own
def test_the_users_list_reads_user_ids_from_the_primary_key(app, plans):
    count, page, _preferences = plans(app, USERS)
    assert "Index Only Scan" in count  # any index of the table will do
    assert "Index Only Scan using pk_lms_user" in page


@pytest.mark.commits  # VACUUM and EXPLAIN run on connections of their own
def test_user_prefs_reads_preference_ids_from_an_index(app, plans):
    count, page, _preferences = plans(app, USER_PREFS)
    assert "Index Only Scan" in count
    assert "Index Only Scan using pk_accounts_preference" in page
    count, page, _preferences = plans(app, USER_PREFS, key="pref-lang")
    assert "Index Only Scan using ix_accounts_preference_key_" in count
    assert "Index Only Scan using ix_accounts_preference_key_id" in page


@pytest.mark.commits  # VACUUM and EXPLAIN run on connections of their own
def test_users_having_a_preference_read_user_ids_from_the_key_index(app, plans):
    count, page, _preferences = plans(app, PREF_USERS.format("time_zone"))
    assert "Index Only Scan using ix_accounts_preference_key_" in count
    assert "Index Only Scan using ix_accounts_preference_key_user_id" in page
