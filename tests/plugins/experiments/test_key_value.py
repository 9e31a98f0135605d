"""``/api/experiments/v0/key-value/``: site-wide values, world-readable, staff-writable."""
import pytest
from sqlalchemy import select

from lms.timeutil import isoformat
from plugins.experiments.models import ExperimentKeyValue
from tests.plugins.experiments.conftest import (
    NOT_AUTHENTICATED, NOT_FOUND, PERMISSION_DENIED, add_key_value,
)

LIST = "/api/experiments/v0/key-value/"
BODY = {"experiment_id": 3, "key": "banner", "value": "on"}


def detail(row_or_id):
    return f"{LIST}{getattr(row_or_id, 'id', row_or_id)}/"


def rows(db):
    db.expire_all()
    return db.scalars(select(ExperimentKeyValue).order_by(ExperimentKeyValue.id)).all()


def serialized(row):
    return {
        "id": row.id, "experiment_id": row.experiment_id, "key": row.key, "value": row.value,
        "created": isoformat(row.created), "modified": isoformat(row.modified),
    }


def assert_not_authenticated(response):
    assert response.status_int == 401
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


# -- reads: anyone ------------------------------------------------------------------

def test_list_is_public(app, db, headers, alice):
    stored = [add_key_value(db, 1, "a"), add_key_value(db, 2, "b")]
    expected = {"next": None, "previous": None, "count": 2, "num_pages": 1, "current_page": 1,
                "start": 0, "results": [serialized(row) for row in stored]}
    assert app.get(LIST).json == expected
    assert app.get(LIST, headers=headers(alice)).json == expected


def test_list_filters_and_pages(app, db):
    for number in range(3):
        add_key_value(db, 1, f"k{number}")
    add_key_value(db, 2, "k0")
    assert [r["key"] for r in app.get(LIST + "?experiment_id=1").json["results"]] == [
        "k0", "k1", "k2"]
    assert [r["experiment_id"] for r in app.get(LIST + "?key=k0").json["results"]] == [1, 2]
    assert app.get(LIST + "?experiment_id=2&key=k1").json["results"] == []
    page = app.get(LIST + "?experiment_id=1&page_size=2&page=2").json
    assert page["previous"] == (
        "http://localhost/api/experiments/v0/key-value/?experiment_id=1&page_size=2&page=1")
    assert (page["count"], page["num_pages"], [r["key"] for r in page["results"]]) == (
        3, 2, ["k2"])
    assert app.get(LIST + "?page=3&page_size=2", status=404).json == {"detail": "Invalid page."}
    assert app.get(LIST + "?experiment_id=x", status=400).json == {
        "experiment_id": ["Enter a number."]}


def test_list_query_count_does_not_grow_with_rows(app, db, query_counter):
    add_key_value(db, 0, "k")
    with query_counter() as one_row:
        assert len(app.get(LIST).json["results"]) == 1
    for number in range(1, 25):
        add_key_value(db, number, "k")
    with query_counter() as many_rows:
        assert len(app.get(LIST + "?page_size=25").json["results"]) == 25
    assert len(one_row) == len(many_rows) == 2  # the count and the page


def test_get_is_public(app, db):
    row = add_key_value(db)
    assert app.get(detail(row)).json == serialized(row)


@pytest.mark.parametrize("bad_id", ["abc", "0", "99999999999999999999", "404"])
def test_get_bad_or_unknown_id(app, bad_id):
    assert app.get(detail(bad_id), status=404).json == NOT_FOUND


# -- writes: staff only ----------------------------------------------------------------

def test_staff_create(app, db, headers, staff):
    response = app.post_json(LIST, BODY, headers=headers(staff), status=201)
    [row] = rows(db)
    assert (row.experiment_id, row.key, row.value) == (3, "banner", "on")
    assert response.json == serialized(row)


def test_create_anonymous_is_401(app, db):
    assert_not_authenticated(app.post(LIST, {}, status=401))
    assert rows(db) == []


def test_create_needs_staff(app, db, headers, alice):
    # Permission comes before validation: even an empty body is a 403.
    for body in (BODY, {}):
        response = app.post_json(LIST, body, headers=headers(alice), status=403)
        assert response.json == PERMISSION_DENIED
    assert rows(db) == []


@pytest.mark.parametrize("body, errors", [
    ({"key": "k"}, {"experiment_id": ["This field is required."],
                    "value": ["This field is required."]}),
    (dict(BODY, experiment_id="x"), {"experiment_id": ["A valid integer is required."]}),
    (dict(BODY, experiment_id=70000),
     {"experiment_id": ["Ensure this value is less than or equal to 65535."]}),
    (dict(BODY, key=" "), {"key": ["This field may not be blank."]}),
    (dict(BODY, user="alice"),
     {"user": ["This field is not allowed."]}),
])
def test_create_bad_input(app, db, headers, staff, body, errors):
    assert app.post_json(LIST, body, headers=headers(staff), status=400).json == errors
    assert rows(db) == []


def test_create_duplicate(app, db, headers, staff):
    add_key_value(db, 3, "banner")
    response = app.post_json(LIST, BODY, headers=headers(staff), status=400)
    assert response.json == {
        "non_field_errors": ["The fields experiment_id, key must make a unique set."]}
    assert len(rows(db)) == 1


def test_staff_put(app, db, headers, staff):
    row = add_key_value(db)
    response = app.put_json(detail(row), dict(BODY, id=99, created="ignored"),
                            headers=headers(staff))
    [stored] = rows(db)
    assert (stored.id, stored.experiment_id, stored.value) == (row.id, 3, "on")
    assert response.json == serialized(stored)


def test_put_bad_input_and_duplicates(app, db, headers, staff):
    add_key_value(db, 3, "banner")
    row = add_key_value(db, 1, "other")
    assert app.put_json(detail(row), {"value": "x"}, headers=headers(staff), status=400).json == {
        "experiment_id": ["This field is required."], "key": ["This field is required."]}
    assert app.put_json(detail(row), BODY, headers=headers(staff), status=400).json == {
        "non_field_errors": ["The fields experiment_id, key must make a unique set."]}
    assert [(r.experiment_id, r.key) for r in rows(db)] == [(3, "banner"), (1, "other")]


def test_staff_patch(app, db, headers, staff):
    row = add_key_value(db)
    response = app.patch_json(detail(row), {"value": "off"}, headers=headers(staff))
    assert (response.json["value"], rows(db)[0].value) == ("off", "off")
    assert app.patch_json(detail(row), {"value": 5.5}, headers=headers(staff)).json["value"] == (
        "5.5")
    assert app.patch_json(detail(row), {"value": {}}, headers=headers(staff),
                          status=400).json == {"value": ["Not a valid string."]}


def test_staff_delete(app, db, headers, staff):
    url = detail(add_key_value(db))
    response = app.delete(url, headers=headers(staff), status=204)
    assert response.body == b""
    assert rows(db) == []
    assert app.delete(url, headers=headers(staff), status=404).json == NOT_FOUND


@pytest.mark.parametrize("method", ["put_json", "patch_json", "delete"])
def test_detail_writes_anonymous(app, db, method):
    row = add_key_value(db)
    args = (BODY,) if method != "delete" else ()
    assert_not_authenticated(getattr(app, method)(detail(row), *args, status=401))
    assert [r.value for r in rows(db)] == ["on"]


@pytest.mark.parametrize("method", ["put_json", "patch_json", "delete"])
def test_detail_writes_need_staff(app, db, headers, alice, method):
    row = add_key_value(db)
    kwargs = {"params": dict(BODY, value="x")} if method != "delete" else {}
    for url in (detail(row), detail(12345)):  # permission is checked before the look-up
        response = getattr(app, method)(url, headers=headers(alice), status=403, **kwargs)
        assert response.json == PERMISSION_DENIED
    assert [r.value for r in rows(db)] == ["on"]


def test_put_on_the_list_is_not_an_upsert(app, headers, staff):
    response = app.put_json(LIST, BODY, headers=headers(staff), status=405)
    assert response.json == {"detail": 'Method "PUT" not allowed.'}
