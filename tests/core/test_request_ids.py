"""Request ids (lms.request_ids): on every response and every log line of a request;
the JSON log formatter; and X-Forwarded-* headers from clients left alone."""
import json
import logging
import re
import sys
import types
import urllib.request

import pytest
from pyramid.interfaces import ITweens

from lms.hookspecs import hookimpl
from lms.request_ids import JsonFormatter, RequestIdFilter, current_request_id
from lms.testing import serve_in_thread

GENERATED = re.compile(r"[0-9a-f]{32}\Z")
PROXY_ID = "7f3c2a9be0d14c5f8a6b1e2d3c4b5a69"


def _request_id_plugin():
    """A plugin whose views log a line, fail, or show the scheme they were reached by."""
    plugin = types.ModuleType("request_id_plugin")
    plugin.name = "reqid"
    plugin.version = "1.0"
    plugin.requires = ()

    def logs(request):
        logging.getLogger("lms.test_request_ids").warning("inside the view")
        return {"logged": True}

    def fails(request):
        raise RuntimeError("view failed")

    def scheme(request):
        from lms.throttle import client_ip

        return {"scheme": request.scheme, "host_url": request.host_url,
                "throttled_as": client_ip(request)}

    def tween_factory(handler, registry):
        def tween(request):
            if request.path == "/reqid/tween":
                raise RuntimeError("tween failed")
            return handler(request)
        return tween

    plugin.tween_factory = tween_factory

    @hookimpl
    def lms_includeme(config):
        from pyramid.tweens import EXCVIEW

        config.add_tween("request_id_plugin.tween_factory", over=EXCVIEW)
        config.add_route("reqid.logs", "/reqid/logs")
        config.add_view(logs, route_name="reqid.logs", renderer="json")
        config.add_route("reqid.fails", "/reqid/fails")
        config.add_view(fails, route_name="reqid.fails")
        config.add_route("reqid.scheme", "/reqid/scheme")
        config.add_view(scheme, route_name="reqid.scheme", renderer="json")

    plugin.lms_includeme = lms_includeme
    return plugin


@pytest.fixture
def make_app(app_factory, add_plugins):
    add_plugins(_request_id_plugin())
    return app_factory


@pytest.fixture
def app(make_app):
    return make_app()


def test_request_id_tween_comes_right_after_cors(app):
    names = [name for name, _ in app.registry.queryUtility(ITweens).implicit()]
    assert names[1:3] == ["lms.cors.cors_tween_factory",
                          "lms.request_ids.request_id_tween_factory"]


def test_every_response_gets_a_new_id(app):
    first = app.get("/heartbeat")
    second = app.get("/heartbeat")
    missing = app.get("/no/such/path", status=404)
    ids = [r.headers["X-Request-ID"] for r in (first, second, missing)]
    assert all(GENERATED.match(value) for value in ids)
    assert len(set(ids)) == 3


def test_client_request_id_is_ignored_by_default(app):
    response = app.get("/heartbeat", headers={"X-Request-ID": PROXY_ID})
    assert response.headers["X-Request-ID"] != PROXY_ID
    assert GENERATED.match(response.headers["X-Request-ID"])


@pytest.mark.parametrize("value", [PROXY_ID, "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                                   "edge-7.eu_west:1a2B"])
def test_trusted_well_formed_request_id_is_kept(make_app, value):
    app = make_app(**{"lms.trust_request_id_header": "true"})
    response = app.get("/heartbeat", headers={"X-Request-ID": value})
    assert response.headers["X-Request-ID"] == value


@pytest.mark.parametrize("value", ["", "has space", 'quote"', "x" * 129, "-leading-dash",
                                   "été"])
def test_trusted_but_malformed_request_id_is_replaced(make_app, value):
    app = make_app(**{"lms.trust_request_id_header": "true"})
    response = app.get("/heartbeat", headers={"X-Request-ID": value})
    assert GENERATED.match(response.headers["X-Request-ID"])


def test_log_records_of_a_request_carry_its_id(app, caplog):
    with caplog.at_level(logging.WARNING, logger="lms.test_request_ids"):
        response = app.get("/reqid/logs")
    assert response.json == {"logged": True}
    records = [r for r in caplog.records if r.getMessage() == "inside the view"]
    assert [r.request_id for r in records] == [response.headers["X-Request-ID"]]
    assert current_request_id.get() == "-"  # reset after the request
    logging.getLogger("lms.test_request_ids").warning("outside")
    assert caplog.records[-1].request_id == "-"


def test_failing_view_answers_500_with_its_id(app, caplog):
    with caplog.at_level(logging.ERROR):
        response = app.get("/reqid/fails", status=500)
    request_id = response.headers["X-Request-ID"]
    assert GENERATED.match(request_id)
    errors = [r for r in caplog.records if r.exc_info and "view failed" in str(r.exc_info[1])]
    assert errors and all(r.request_id == request_id for r in errors)


def test_failure_above_the_exception_views_answers_500_with_its_id(app, caplog):
    with caplog.at_level(logging.ERROR):
        response = app.get("/reqid/tween", status=500)
    request_id = response.headers["X-Request-ID"]
    assert GENERATED.match(request_id)
    errors = [r for r in caplog.records if r.exc_info and "tween failed" in str(r.exc_info[1])]
    assert errors and all(r.request_id == request_id for r in errors)


def _record(message="hello %s", args=("world",), exc_info=None):
    return logging.LogRecord("lms.example", logging.ERROR, __file__, 12, message, args,
                             exc_info)


def test_json_formatter_writes_one_object_per_line():
    record = _record()
    record.created = 1764000000.25
    token = current_request_id.set("abc123")
    try:
        line = JsonFormatter().format(record)
    finally:
        current_request_id.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry == {"time": "2025-11-24T16:00:00.250+00:00", "level": "ERROR",
                     "logger": "lms.example", "message": "hello world",
                     "request_id": "abc123", "process": record.process,
                     "thread": record.threadName}


def test_json_formatter_keeps_the_records_own_id_and_the_traceback():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = _record(message="failed", args=(), exc_info=sys.exc_info())
    RequestIdFilter().filter(record)
    record.request_id = "from-the-record"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "from-the-record"
    assert entry["message"] == "failed"
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert entry["exc_info"].endswith("ValueError: bad\nvalue")


def test_request_id_filter_sets_the_current_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    token = current_request_id.set("abc")
    try:
        assert RequestIdFilter().filter(record) is True
    finally:
        current_request_id.reset(token)
    assert record.request_id == "abc"


@pytest.mark.commits  # served from waitress's threads
def test_forwarded_headers_from_a_client_are_ignored_under_waitress_defaults(app):
    # waitress without trusted_proxy (its default) passes X-Forwarded-* through as plain
    # headers: the app itself never reads them, so a client cannot make itself HTTPS.
    with serve_in_thread(app.app) as url:
        request = urllib.request.Request(url + "/reqid/scheme", headers={
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
            "X-Forwarded-For": "203.0.113.9", "Forwarded": "proto=https;for=203.0.113.9"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
    assert body == {"scheme": "http", "host_url": url, "throttled_as": "127.0.0.1"}
