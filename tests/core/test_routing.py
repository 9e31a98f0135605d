"""Routing misses answer JSON, as every API error does."""


def test_unknown_api_route_is_json_404(app):
    response = app.get("/api/nope/", status=404)
    assert response.json == {"detail": "Not found."}


def test_unknown_method_on_known_route_is_json_405(app):
    response = app.post("/api/experiments/v0/key-value/1/", status=405)
    assert response.json == {"detail": 'Method "POST" not allowed.'}
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PUT", "PATCH", "DELETE"}
