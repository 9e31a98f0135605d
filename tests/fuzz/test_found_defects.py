"""Defects the contract fuzzer found, pinned so they stay fixed."""
from lms.testing import create_user, jwt_headers


def test_logout_redirects_to_a_non_ascii_next_with_an_ascii_location(app):
    # Was a 500: a Location header must be latin-1 (waitress refused the response).
    response = app.get("/logout", params={"next": "/café/\U000ed985?x=1"}, status=302)
    assert response.headers["Location"] == "http://localhost/caf%C3%A9/%F3%AD%A6%85?x=1"


# NUL in a string: PostgreSQL refuses it in any text parameter (was a 500 there).

def test_account_lookups_with_nul_find_nobody(app, db):
    staff = create_user(db, "nul_staff", is_staff=True)
    headers = jwt_headers(app, staff)
    app.get("/api/user/v1/accounts", params={"email": "a\x00b@example.com"},
            headers=headers, status=404)
    response = app.get("/api/user/v1/accounts", params={"username": "nul_staff,a\x00b"},
                       headers=headers, status=200)
    assert [account["username"] for account in response.json] == ["nul_staff"]
    response = app.post_json("/api/user/v1/accounts/search_emails",
                             {"emails": ["a\x00b@example.com", "nul_staff@example.com"]},
                             headers=headers, status=200)
    assert [found["username"] for found in response.json] == ["nul_staff"]


def test_experiments_refuse_nul_in_text_and_filter_it_to_nothing(app, db):
    learner = create_user(db, "nul_learner")
    headers = jwt_headers(app, learner)
    response = app.post_json("/api/experiments/v0/data/",
                             {"experiment_id": 1, "key": "k", "value": "a\x00b"},
                             headers=headers, status=400)
    assert response.json == {"value": ["Null characters are not allowed."]}
    app.post_json("/api/experiments/v0/data/", {"experiment_id": 1, "key": "k", "value": "v"},
                  headers=headers, status=201)
    response = app.get("/api/experiments/v0/data/", params={"key": "k\x00"}, headers=headers,
                       status=200)
    assert (response.json["count"], response.json["results"]) == (0, [])


def test_name_change_refuses_nul(app, db):
    learner = create_user(db, "nul_namer")
    response = app.post_json("/api/user/v1/accounts/name_change/", {"name": "New\x00Name"},
                             headers=jwt_headers(app, learner), status=400)
    assert response.json == {"new_name": ["Null characters are not allowed."]}
