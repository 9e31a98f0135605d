"""``/api/experiments/v0/data/``: a learner's own experiment values."""
import pytest
from sqlalchemy import func, select

from lms.timeutil import isoformat
from plugins.experiments.models import ExperimentData
from tests.plugins.experiments.conftest import (
    NOT_AUTHENTICATED, NOT_FOUND, PERMISSION_DENIED, add_data,
)

LIST = "/api/experiments/v0/data/"
BODY = {"experiment_id": 1, "key": "color", "value": "blue"}


def detail(row_or_id):
    return f"{LIST}{getattr(row_or_id, 'id', row_or_id)}/"


def rows(db):
    db.expire_all()
    return db.scalars(select(ExperimentData).order_by(ExperimentData.id)).all()


def serialized(row, username):
    return {
        "id": row.id, "experiment_id": row.experiment_id, "user": username, "key": row.key,
        "value": row.value, "created": isoformat(row.created), "modified": isoformat(row.modified),
    }


def assert_not_authenticated(response):
    assert response.status_int == 401
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


# -- GET data/ -----------------------------------------------------------------

def test_list_shows_only_the_callers_rows(app, db, headers, alice, bob, staff):
    mine = [add_data(db, alice, 1, "a"), add_data(db, alice, 2, "b")]
    add_data(db, bob, 1, "a")
    add_data(db, staff, 1, "a")
    response = app.get(LIST, headers=headers(alice))
    assert response.json == {
        "next": None, "previous": None, "count": 2, "num_pages": 1, "current_page": 1,
        "start": 0, "results": [serialized(row, "alice") for row in mine],
    }
    # Staff are scoped to their own rows too.
    assert [r["user"] for r in app.get(LIST, headers=headers(staff)).json["results"]] == ["staffer"]


def test_list_anonymous_is_401(app):
    assert_not_authenticated(app.get(LIST, status=401))


def test_list_filters(app, db, headers, alice, bob):
    add_data(db, alice, 1, "a")
    wanted = add_data(db, alice, 2, "b")
    add_data(db, alice, 2, "c")
    add_data(db, bob, 2, "b")

    def keys(query):
        return [(r["experiment_id"], r["key"]) for r in
                app.get(LIST + query, headers=headers(alice)).json["results"]]

    assert keys("?experiment_id=2") == [(2, "b"), (2, "c")]
    assert keys("?key=b") == [(2, "b")]
    assert keys("?experiment_id=2&key=b") == [(wanted.experiment_id, wanted.key)]
    assert keys("?experiment_id=1&key=b") == []
    assert keys("?experiment_id=&unknown=1") == [(1, "a"), (2, "b"), (2, "c")]
    assert keys("?experiment_id=99999999999999999999999") == []


def test_list_filter_must_be_a_number(app, headers, alice):
    response = app.get(LIST + "?experiment_id=abc", headers=headers(alice), status=400)
    assert response.json == {"experiment_id": ["Enter a number."]}


def test_list_pagination(app, db, headers, alice):
    for number in range(5):
        add_data(db, alice, number, "k")
    response = app.get(LIST + "?page_size=2&page=2", headers=headers(alice))
    body = response.json
    assert body["next"] == "http://localhost/api/experiments/v0/data/?page_size=2&page=3"
    assert body["previous"] == "http://localhost/api/experiments/v0/data/?page_size=2&page=1"
    assert (body["count"], body["num_pages"], body["current_page"], body["start"]) == (5, 3, 2, 2)
    assert [r["experiment_id"] for r in body["results"]] == [2, 3]
    last = app.get(LIST + "?page_size=2&page=last", headers=headers(alice)).json
    assert [r["experiment_id"] for r in last["results"]] == [4]
    assert last["next"] is None
    for page in ("4", "0", "abc"):
        response = app.get(LIST + f"?page_size=2&page={page}", headers=headers(alice), status=404)
        assert response.json == {"detail": "Invalid page."}


def test_list_query_count_does_not_grow_with_rows(app, db, headers, alice, query_counter):
    add_data(db, alice, 0, "k")
    with query_counter() as one_row:
        assert len(app.get(LIST, headers=headers(alice)).json["results"]) == 1
    for number in range(1, 25):
        add_data(db, alice, number, "k")
    with query_counter() as many_rows:
        response = app.get(LIST + "?page_size=25", headers=headers(alice))
        assert len(response.json["results"]) == 25
    # The JWT's user, then the count and the page (joined with the owner's username).
    assert len(one_row) == len(many_rows) == 3


# -- POST data/ ----------------------------------------------------------------

def test_create(app, db, headers, alice):
    response = app.post_json(LIST, BODY, headers=headers(alice), status=201)
    [row] = rows(db)
    assert (row.user_id, row.experiment_id, row.key, row.value) == (alice.id, 1, "color", "blue")
    assert response.json == serialized(row, "alice")
    assert "Location" not in response.headers


def test_create_accepts_a_form_and_echoed_read_only_fields(app, db, headers, alice):
    form = {"experiment_id": "7", "key": " size ", "value": "L", "user": "alice", "id": "99",
            "created": "x", "modified": "y"}
    response = app.post(LIST, form, headers=headers(alice), status=201)
    [row] = rows(db)
    assert (row.id != 99, row.experiment_id, row.key) == (True, 7, "size")
    assert response.json == serialized(row, "alice")


def test_create_anonymous_is_401(app, db):
    assert_not_authenticated(app.post(LIST, {}, status=401))
    assert rows(db) == []


def test_create_for_another_user_needs_staff(app, db, headers, alice, bob):
    response = app.post_json(LIST, dict(BODY, user="bob"), headers=headers(alice), status=403)
    assert response.json == PERMISSION_DENIED
    assert rows(db) == []


def test_staff_create_for_another_user(app, db, headers, staff, bob):
    response = app.post_json(LIST, dict(BODY, user="bob"), headers=headers(staff), status=201)
    [row] = rows(db)
    assert row.user_id == bob.id
    assert response.json == serialized(row, "bob")


def test_staff_create_for_unknown_user(app, db, headers, staff):
    response = app.post_json(LIST, dict(BODY, user="nobody"), headers=headers(staff), status=400)
    assert response.json == {"user": ["Object with username=nobody does not exist."]}
    assert rows(db) == []


@pytest.mark.parametrize("body, errors", [
    ({}, {"experiment_id": ["This field is required."], "key": ["This field is required."],
          "value": ["This field is required."]}),
    (dict(BODY, experiment_id="one"), {"experiment_id": ["A valid integer is required."]}),
    (dict(BODY, experiment_id=1.5), {"experiment_id": ["A valid integer is required."]}),
    (dict(BODY, experiment_id=True), {"experiment_id": ["A valid integer is required."]}),
    (dict(BODY, experiment_id=None), {"experiment_id": ["This field may not be null."]}),
    (dict(BODY, experiment_id=-1),
     {"experiment_id": ["Ensure this value is greater than or equal to 0."]}),
    (dict(BODY, experiment_id=65536),
     {"experiment_id": ["Ensure this value is less than or equal to 65535."]}),
    (dict(BODY, key=""), {"key": ["This field may not be blank."]}),
    (dict(BODY, key="   "), {"key": ["This field may not be blank."]}),
    (dict(BODY, key="k" * 256), {"key": ["Ensure this field has no more than 255 characters."]}),
    (dict(BODY, value=["blue"]), {"value": ["Not a valid string."]}),
    (dict(BODY, value=None), {"value": ["This field may not be null."]}),
    (dict(BODY, user=""), {"user": ["This field may not be null."]}),
    (dict(BODY, user={"id": 1}), {"user": ["Invalid value."]}),
    (dict(BODY, colour="red"),
     {"colour": ["This field is not allowed."]}),
])
def test_create_bad_input(app, db, headers, alice, body, errors):
    response = app.post_json(LIST, body, headers=headers(alice), status=400)
    assert response.json == errors
    assert rows(db) == []


def test_create_accepts_the_largest_experiment_id_and_numbers_as_text(app, db, headers, alice):
    response = app.post_json(LIST, dict(BODY, experiment_id=65535, value=3),
                             headers=headers(alice), status=201)
    assert (response.json["experiment_id"], response.json["value"]) == (65535, "3")


def test_create_malformed_json(app, db, headers, alice):
    response = app.post(LIST, '{"experiment_id": 1,', status=400,
                        headers=dict(headers(alice), **{"Content-Type": "application/json"}))
    assert response.json == {
        "detail": "JSON parse error - Expecting property name enclosed in double quotes: "
                  "line 1 column 21 (char 20)"}
    assert rows(db) == []


def test_create_duplicate(app, db, headers, alice):
    add_data(db, alice)
    response = app.post_json(LIST, BODY, headers=headers(alice), status=400)
    assert response.json == {
        "non_field_errors": ["The fields user, experiment_id, key must make a unique set."]}
    assert len(rows(db)) == 1


# -- PUT data/ (create or update) ---------------------------------------------

def test_put_creates_then_updates(app, db, headers, alice):
    created = app.put_json(LIST, BODY, headers=headers(alice), status=201).json
    updated = app.put_json(LIST, dict(BODY, value="green"), headers=headers(alice), status=200).json
    [row] = rows(db)
    assert created["id"] == updated["id"] == row.id
    assert updated == serialized(row, "alice")
    assert (row.value, updated["created"]) == ("green", created["created"])
    assert updated["modified"] > created["modified"]


def test_put_works_for_experiment_zero(app, db, headers, alice):
    app.put_json(LIST, dict(BODY, experiment_id=0), headers=headers(alice), status=201)
    app.put_json(LIST, dict(BODY, experiment_id=0), headers=headers(alice), status=200)
    assert len(rows(db)) == 1


def test_put_anonymous_is_401(app, db):
    assert_not_authenticated(app.put_json(LIST, BODY, status=401))
    assert rows(db) == []


def test_put_for_another_user_needs_staff(app, db, headers, alice, bob, staff):
    # Upstream lets any user create rows for others this way; we refuse as POST does.
    response = app.put_json(LIST, dict(BODY, user="bob"), headers=headers(alice), status=403)
    assert response.json == PERMISSION_DENIED
    assert rows(db) == []
    response = app.put_json(LIST, dict(BODY, user="bob"), headers=headers(staff), status=201)
    assert response.json["user"] == "bob"
    assert [row.user_id for row in rows(db)] == [bob.id]


def test_put_bad_input(app, db, headers, alice):
    response = app.put_json(LIST, {"experiment_id": 1, "key": "color"}, headers=headers(alice),
                            status=400)
    assert response.json == {"value": ["This field is required."]}
    assert rows(db) == []


# -- GET data/{id}/ -------------------------------------------------------------

def test_get_own_row(app, db, headers, alice):
    row = add_data(db, alice)
    assert app.get(detail(row), headers=headers(alice)).json == serialized(row, "alice")
    assert app.get(detail(row).rstrip("/"), headers=headers(alice)).json["id"] == row.id


def test_get_hides_other_users_rows_even_from_staff(app, db, headers, alice, bob, staff):
    row = add_data(db, alice)
    for user in (bob, staff):
        assert app.get(detail(row), headers=headers(user), status=404).json == NOT_FOUND


def test_get_anonymous_is_401(app, db, alice):
    assert_not_authenticated(app.get(detail(add_data(db, alice)), status=401))


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "99999999999999999999", "12345"])
def test_get_bad_or_unknown_id(app, headers, alice, bad_id):
    assert app.get(detail(bad_id), headers=headers(alice), status=404).json == NOT_FOUND


@pytest.mark.parametrize("method", ["put_json", "patch_json", "delete"])
def test_writes_to_a_bad_id(app, headers, alice, method):
    kwargs = {"params": BODY} if method != "delete" else {}
    response = getattr(app, method)(detail("abc"), headers=headers(alice), status=404, **kwargs)
    assert response.json == NOT_FOUND
    # Authentication comes first, as upstream's router matches any id.
    assert_not_authenticated(getattr(app, method)(detail("abc"), status=401, **kwargs))


# -- PUT data/{id}/ -------------------------------------------------------------

def test_put_row(app, db, headers, alice):
    row = add_data(db, alice)
    body = {"experiment_id": 2, "key": "size", "value": "L", "user": "someone-else", "id": 7}
    response = app.put_json(detail(row), body, headers=headers(alice))
    [stored] = rows(db)
    assert (stored.id, stored.user_id, stored.experiment_id, stored.key, stored.value) == (
        row.id, alice.id, 2, "size", "L")
    assert response.json == serialized(stored, "alice")


def test_put_row_needs_every_field(app, db, headers, alice):
    row = add_data(db, alice)
    response = app.put_json(detail(row), {"value": "red"}, headers=headers(alice), status=400)
    assert response.json == {"experiment_id": ["This field is required."],
                             "key": ["This field is required."]}
    assert rows(db)[0].value == "blue"


def test_put_row_onto_another_rows_key(app, db, headers, alice):
    add_data(db, alice, 1, "taken")
    row = add_data(db, alice, 1, "free", "blue")
    response = app.put_json(detail(row), {"experiment_id": 1, "key": "taken", "value": "x"},
                            headers=headers(alice), status=400)
    assert response.json == {
        "non_field_errors": ["The fields user, experiment_id, key must make a unique set."]}
    assert [(r.key, r.value) for r in rows(db)] == [("taken", "blue"), ("free", "blue")]


def test_put_row_of_another_user(app, db, headers, alice, bob):
    row = add_data(db, alice)
    response = app.put_json(detail(row), BODY, headers=headers(bob), status=404)
    assert response.json == NOT_FOUND


def test_put_row_anonymous(app, db, alice):
    assert_not_authenticated(app.put_json(detail(add_data(db, alice)), BODY, status=401))


# -- PATCH data/{id}/ ---------------------------------------------------------------

def test_patch_nothing_saves_anyway(app, db, headers, alice):
    row = add_data(db, alice)
    before = isoformat(row.modified)
    response = app.patch(detail(row), {}, headers=headers(alice))
    [stored] = rows(db)
    assert stored.value == "blue"
    assert response.json == serialized(stored, "alice")
    assert response.json["modified"] > before


def test_patch_one_field(app, db, headers, alice):
    row = add_data(db, alice)
    response = app.patch_json(detail(row), {"value": "red"}, headers=headers(alice))
    assert (response.json["value"], rows(db)[0].value) == ("red", "red")


def test_patch_bad_input(app, db, headers, alice):
    row = add_data(db, alice)
    response = app.patch_json(detail(row), {"experiment_id": "x", "value": ""},
                              headers=headers(alice), status=400)
    assert response.json == {"experiment_id": ["A valid integer is required."],
                             "value": ["This field may not be blank."]}
    assert rows(db)[0].value == "blue"


def test_patch_row_of_another_user(app, db, headers, alice, bob):
    row = add_data(db, alice)
    assert app.patch(detail(row), {}, headers=headers(bob), status=404).json == NOT_FOUND


def test_patch_anonymous(app, db, alice):
    assert_not_authenticated(app.patch(detail(add_data(db, alice)), {}, status=401))


# -- DELETE data/{id}/ ------------------------------------------------------------

def test_delete_row(app, db, headers, alice):
    row = add_data(db, alice)
    response = app.delete(detail(row), headers=headers(alice), status=204)
    assert response.body == b""
    assert "Content-Type" not in response.headers
    assert rows(db) == []


def test_delete_row_of_another_user(app, db, headers, alice, bob, staff):
    row = add_data(db, alice)
    for user in (bob, staff):
        assert app.delete(detail(row), headers=headers(user), status=404).json == NOT_FOUND
    assert db.scalar(select(func.count()).select_from(ExperimentData)) == 1


def test_delete_anonymous(app, db, alice):
    assert_not_authenticated(app.delete(detail(add_data(db, alice)), status=401))
    assert len(rows(db)) == 1
