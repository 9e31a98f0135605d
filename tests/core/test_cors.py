"""CORS on every path and status, as django-cors-headers answers for Open edX (lms.cors)."""
import types

import pytest
from pyramid.interfaces import ITweens

from lms.cors import CorsPolicy
from lms.hookspecs import hookimpl
from lms.testing import create_user, jwt_headers

MFE = "http://localhost:2000"
OTHER_MFE = "http://localhost:1999"
EVIL = "http://evil.example"
# corsheaders' default_headers (4.x) plus Open edX's use-jwt-cookie, and default_methods.
ALLOW_HEADERS = ("accept, authorization, content-type, user-agent, x-csrftoken, "
                 "x-requested-with, use-jwt-cookie")
ALLOW_METHODS = "DELETE, GET, OPTIONS, PATCH, POST, PUT"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
                "Access-Control-Max-Age")


def _failing_plugin():
    """A plugin with a view that fails and a tween (above the exception views) that fails."""
    plugin = types.ModuleType("cors_failing_plugin")
    plugin.name = "corsfail"
    plugin.version = "1.0"
    plugin.requires = ()

    def boom(request):
        raise RuntimeError("view failed")

    def tween_factory(handler, registry):
        def tween(request):
            if request.path == "/corsfail/tween":
                raise RuntimeError("tween failed")
            return handler(request)
        return tween

    plugin.tween_factory = tween_factory

    @hookimpl
    def lms_includeme(config):
        from pyramid.tweens import EXCVIEW

        config.add_route("corsfail.view", "/corsfail/view")
        config.add_view(boom, route_name="corsfail.view")
        config.add_tween("cors_failing_plugin.tween_factory", over=EXCVIEW)

    plugin.lms_includeme = lms_includeme
    return plugin


@pytest.fixture
def make_app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin", _failing_plugin())

    def make(**settings):
        return app_factory(**dict({"cors.origins": f"{MFE} {OTHER_MFE}"}, **settings))

    return make


@pytest.fixture
def app(make_app):
    return make_app()


def assert_allowed(response, origin=MFE, preflight=False):
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Vary"].split(", ")[-1] == "Origin"
    if preflight:
        assert response.headers["Access-Control-Allow-Headers"] == ALLOW_HEADERS
        assert response.headers["Access-Control-Allow-Methods"] == ALLOW_METHODS
        assert response.headers["Access-Control-Max-Age"] == "86400"
    else:
        assert "Access-Control-Allow-Headers" not in response.headers
        assert "Access-Control-Max-Age" not in response.headers


def test_cors_tween_is_first_in_the_chain(app):
    # Only the client-address tween (lms.proxies), which never answers, comes before.
    names = [name for name, _ in app.registry.queryUtility(ITweens).implicit()]
    assert names[:2] == ["lms.proxies.trusted_proxies_tween_factory",
                         "lms.cors.cors_tween_factory"]


def test_non_api_path(app):
    response = app.get("/heartbeat", headers={"Origin": MFE})
    assert response.json == {"sql": {"status": True, "message": "OK"}}
    assert_allowed(response)


def test_not_found_carries_the_headers(app):
    response = app.get("/no/such/page", headers={"Origin": MFE}, status=404)
    assert response.json == {"detail": "Not found."}
    assert_allowed(response)


def test_method_not_allowed_carries_the_headers(app):
    response = app.put_json("/api/fake/v1/standard/", {}, headers={"Origin": MFE}, status=405)
    assert response.json == {"detail": 'Method "PUT" not allowed.'}
    assert_allowed(response)


def test_unauthenticated_carries_the_headers(app):
    response = app.post_json("/api/fake/v1/standard/", {"number": 1},
                             headers={"Origin": OTHER_MFE}, status=401)
    assert response.json == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert_allowed(response, OTHER_MFE)


def test_forbidden_and_bad_input_carry_the_headers(app, db):
    alice = create_user(db, "alice")
    db.commit()
    headers = dict(jwt_headers(app, alice, is_restricted=True, filters=["user:me"]),
                   Origin=MFE)
    response = app.get("/api/fake/v1/standard/", headers=headers, status=403)
    assert_allowed(response)
    headers = dict(jwt_headers(app, alice), Origin=MFE)
    response = app.post_json("/api/fake/v1/standard/", {"number": "x"}, headers=headers,
                             status=400)
    assert_allowed(response)


def test_server_error_in_a_view(app):
    response = app.get("/corsfail/view", headers={"Origin": MFE}, status=500)
    assert response.json == {"detail": "A server error occurred."}
    assert_allowed(response)


def test_server_error_above_the_exception_views(app):
    response = app.get("/corsfail/tween", headers={"Origin": MFE}, status=500)
    assert response.json == {"detail": "A server error occurred."}
    assert_allowed(response)


def test_body_too_large(make_app):
    app = make_app(**{"lms.max_request_body_bytes": "10"})
    response = app.post("/api/fake/v1/standard/", "x" * 11, headers={"Origin": MFE},
                        status=413)
    assert response.json == {"detail": "Request body too large (limit 10 bytes)."}
    assert_allowed(response)


@pytest.mark.parametrize("path", ["/api/fake/v1/standard/", "/heartbeat", "/no/such/page",
                                  "/event", "/corsfail/view"])
def test_preflight_on_any_path(app, path):
    response = app.options(path, headers={
        "Origin": MFE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-csrftoken, use-jwt-cookie"})
    assert response.status_int == 200
    assert response.body == b""
    assert response.headers["Content-Length"] == "0"
    assert_allowed(response, preflight=True)


def test_other_origin_gets_no_headers(app):
    for response in (
        app.get("/heartbeat", headers={"Origin": EVIL}),
        app.get("/no/such/page", headers={"Origin": EVIL}, status=404),
        app.get("/heartbeat", headers={"Origin": "https://localhost:2000"}),  # scheme
        app.get("/heartbeat", headers={"Origin": "http://localhost:2001"}),  # port
        app.get("/heartbeat", headers={"Origin": "null"}),
        app.get("/heartbeat", headers={"Origin": "http://[::1"}),  # unparsable
    ):
        assert not set(CORS_HEADERS) & set(response.headers), response.headers
        assert response.headers["Vary"] == "Origin"
    # A preflight is still answered (empty), without any permission.
    response = app.options("/api/fake/v1/standard/", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert response.status_int == 200
    assert not set(CORS_HEADERS) & set(response.headers)


def test_no_origin_gets_vary_only(app):
    response = app.get("/heartbeat")
    assert response.headers["Vary"] == "Origin"
    assert not set(CORS_HEADERS) & set(response.headers)


def test_options_without_request_method_reaches_the_view(app):
    # Not a preflight: the route answers (here: no OPTIONS view, a 405), with the
    # headers an OPTIONS request gets.
    response = app.options("/api/fake/v1/standard/", headers={"Origin": MFE},
                           expect_errors=True)
    assert response.status_int == 405
    assert response.json == {"detail": 'Method "OPTIONS" not allowed.'}
    assert_allowed(response, preflight=True)


def test_vary_is_extended_not_replaced():
    policy = CorsPolicy([MFE])

    class Fake:
        def __init__(self, vary):
            self.headers = {"Vary": vary} if vary else {}

    request = types.SimpleNamespace(headers={}, method="GET")
    for vary, expected in (("Cookie", "Cookie, Origin"), ("origin", "origin"), ("*", "*"),
                           ("Accept, Cookie", "Accept, Cookie, Origin"), (None, "Origin")):
        response = Fake(vary)
        policy.add_headers(request, response)
        assert response.headers["Vary"] == expected


def test_origin_regexes(make_app):
    app = make_app(**{"cors.origins": "", "cors.origin_regexes": r"^https://\w+\.example\.com$"})
    response = app.get("/heartbeat", headers={"Origin": "https://apps.example.com"})
    assert_allowed(response, "https://apps.example.com")
    response = app.get("/heartbeat", headers={"Origin": "https://apps.example.com.evil.org"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_null_origin_only_when_listed():
    assert not CorsPolicy([MFE]).allows("null")
    assert CorsPolicy([MFE, "null"]).allows("null")


def test_development_ini_covers_the_mfe_ports():
    """The Open edX development MFE ports (openedx-platform lms/envs/development.py, and
    each MFE's .env.development) are trusted for CORS and CSRF."""
    from configparser import ConfigParser
    from pathlib import Path

    ini = ConfigParser(interpolation=None)
    ini.read(Path(__file__).resolve().parents[2] / "development.ini")
    ports = (1984, 1990, 1993, 1994, 1995, 1996, 1997, 1998, 1999, 2000, 2001, 2002, 2025)
    expected = {f"http://localhost:{port}" for port in ports}
    assert expected <= set(ini["app:main"]["cors.origins"].split())
    assert expected <= set(ini["app:main"]["csrf.trusted_origins"].split())
