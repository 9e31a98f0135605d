"""Routing misses answer JSON, as every API error does."""
def test_unknown_api_route_is_json_404(app):
    response = app.get("/api/nope/", status=404)
    assert response.json == {"detail": "Not found."}
