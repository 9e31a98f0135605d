"""``key-value/`` pages on ids (a deferred join): every page equals the naive
LIMIT/OFFSET page, with or without filters, and deep pages seek from the app's page
boundaries (``lms.pagination``) in the queries of the first page."""
import pytest
from sqlalchemy import delete, select

from plugins.experiments.models import ExperimentKeyValue
from tests.plugins.experiments.conftest import add_key_value

LIST = "/api/experiments/v0/key-value/"
ROWS = 26


@pytest.fixture
def values(db):
    # Two experiments interleaved, so that a filtered list is no run of ids.
    for number in range(ROWS):
        add_key_value(db, number % 2, f"k{number:02d}", value=str(number))


@pytest.fixture
def keyed_app(app_factory):
    """An app with a boundary at every third key: nearly every page seeks from one."""
    return app_factory(**{"pagination.boundary_interval": "3"})


def naive(db, **filters):
    stmt = select(ExperimentKeyValue.key).order_by(ExperimentKeyValue.id)
    if "experiment_id" in filters:
        stmt = stmt.where(ExperimentKeyValue.experiment_id == filters["experiment_id"])
    return db.scalars(stmt).all()


def walk(app, size, **params):
    pages, number = [], 1
    while True:
        body = app.get(LIST, {**params, "page_size": size, "page": number}).json
        pages.append([row["key"] for row in body["results"]])
        if body["next"] is None:
            return pages
        number += 1


def chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)] or [[]]


@pytest.mark.parametrize("params", [{}, {"experiment_id": 1}, {"experiment_id": 7}])
@pytest.mark.parametrize("size", [2, 5, 100])
def test_pages_equal_the_naive_pages(keyed_app, db, values, params, size):
    assert walk(keyed_app, size, **params) == chunks(naive(db, **params), size)


def test_pages_stay_right_after_rows_are_deleted(keyed_app, db, values):
    walk(keyed_app, 4)  # the boundaries are found
    db.execute(delete(ExperimentKeyValue).where(ExperimentKeyValue.key.in_(["k01", "k09"])))
    db.commit()
    assert walk(keyed_app, 4) == chunks(naive(db), 4)
    assert len(naive(db)) == ROWS - 2


# Committed for real: in the tests' rolled-back transaction, each request's savepoint
# rollback renews the tables that transaction wrote, which drops the boundaries.
@pytest.mark.commits
def test_a_deep_page_seeks_from_a_boundary_in_the_queries_of_the_first(
        keyed_app, values, query_counter):
    with query_counter() as first:
        keyed_app.get(LIST, {"page_size": 2, "page": 1})
    with query_counter() as deep_once:
        body = keyed_app.get(LIST, {"page_size": 2, "page": "last"}).json
    assert [row["key"] for row in body["results"]] == ["k24", "k25"]
    assert (body["count"], body["start"], body["current_page"]) == (ROWS, 24, 13)
    # The first deep page finds the boundaries once (one recursive query) ...
    assert len(deep_once) == len(first) + 1 == 3
    assert any("WITH RECURSIVE" in sql for sql in deep_once)
    counts = []
    for page in ("last", "12", "7"):
        with query_counter() as queries:
            keyed_app.get(LIST, {"page_size": 2, "page": page})
        counts.append(len(queries))
        # ... then each page is the count and a seek to the boundary before it.
        assert not any("RECURSIVE" in sql for sql in queries)
        assert "experiments_key_value.id >=" in queries[-1]
    assert counts == [len(first)] * 3
