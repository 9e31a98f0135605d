"""Defects the contract fuzzer found, pinned so they stay fixed."""


def test_logout_redirects_to_a_non_ascii_next_with_an_ascii_location(app):
    # Was a 500: a Location header must be latin-1 (waitress refused the response).
    response = app.get("/logout", params={"next": "/café/\U000ed985?x=1"}, status=302)
    assert response.headers["Location"] == "http://localhost/caf%C3%A9/%F3%AD%A6%85?x=1"
