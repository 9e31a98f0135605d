"""``GET /heartbeat``: upstream's body ``{check: {status, message}}``, 200 or 503."""
import shutil
import socket
import subprocess
import time
import types

import pytest
import webtest

from lms import make_config
from lms.hookspecs import hookimpl
from lms.testing import TEST_SETTINGS

UNREACHABLE_POSTGRES = "postgresql+psycopg://nobody@127.0.0.1:1/x"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_healthy(app):
    response = app.get("/heartbeat")
    assert response.status_int == 200
    assert response.content_type == "application/json"
    assert response.json == {"sql": {"status": True, "message": "OK"}}
    assert "no-cache" in response.headers["Cache-Control"]


def test_only_get(app):
    app.post("/heartbeat", status=404)


@pytest.fixture
def standalone_app():
    """An app with its own engine (not the test database's)."""
    built = []

    def build(**overrides):
        config = make_config(dict(TEST_SETTINGS, **overrides))
        app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
        built.append(config.registry["lms.engine"])
        return app

    yield build
    for engine in built:
        engine.dispose()


def test_unreachable_database_is_503(standalone_app):
    app = standalone_app(**{"sqlalchemy.url": UNREACHABLE_POSTGRES})
    response = app.get("/heartbeat", status=503)
    assert list(response.json) == ["sql"]
    assert response.json["sql"]["status"] is False
    assert response.json["sql"]["message"].startswith("OperationalError: ")
    assert "Traceback" not in response.json["sql"]["message"]


# -- broker ------------------------------------------------------------------------

def test_broker_not_checked_by_default(app_factory):
    app = app_factory(**{"celery.broker_url": UNREACHABLE_REDIS})
    assert app.get("/heartbeat").json == {"sql": {"status": True, "message": "OK"}}


def test_in_process_broker_is_never_checked(app_factory):
    app = app_factory(**{"heartbeat.check_broker": "true", "celery.broker_url": "memory://"})
    assert list(app.get("/heartbeat").json) == ["sql"]
    assert list(app.get("/heartbeat?extended").json) == ["sql"]


def test_unreachable_broker_is_503(app_factory):
    app = app_factory(**{"heartbeat.check_broker": "true",
                         "celery.broker_url": UNREACHABLE_REDIS})
    response = app.get("/heartbeat", status=503)
    assert response.json["sql"] == {"status": True, "message": "OK"}
    assert response.json["broker"]["status"] is False
    assert "127.0.0.1:1" in response.json["broker"]["message"]


def test_extended_checks_the_broker_too(app_factory):
    app = app_factory(**{"celery.broker_url": UNREACHABLE_REDIS})
    response = app.get("/heartbeat?extended", status=503)
    assert response.json["broker"]["status"] is False


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.skip("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_reachable_broker_is_ok(app_factory, redis_url):
    app = app_factory(**{"heartbeat.check_broker": "true", "celery.broker_url": redis_url})
    assert app.get("/heartbeat").json == {
        "sql": {"status": True, "message": "OK"},
        "broker": {"status": True, "message": "OK"},
    }


# -- plugin checks -------------------------------------------------------------------

def _plugin(module_name, plugin_name, check):
    module = types.ModuleType(module_name)
    module.name, module.version, module.requires = plugin_name, "1.0", ()
    module.lms_heartbeat_checks = hookimpl(check)
    return module


@pytest.fixture
def install_plugins(add_plugins):
    return add_plugins


def test_plugin_checks_are_reported(app_factory, install_plugins):
    seen = []

    def search_checks(request):
        seen.append(request.path)
        return {"search": (True, "OK"), "search_index": (True, "3 documents")}

    install_plugins(_plugin("hb_search", "hbsearch", search_checks),
                    _plugin("hb_quiet", "hbquiet", lambda: None))
    response = app_factory().get("/heartbeat")
    assert response.json == {
        "sql": {"status": True, "message": "OK"},
        "search": {"status": True, "message": "OK"},
        "search_index": {"status": True, "message": "3 documents"},
    }
    assert seen == ["/heartbeat"]


def test_failing_plugin_check_is_503(app_factory, install_plugins):
    install_plugins(_plugin("hb_cache", "hbcache", lambda request: {"cache": (False, "down")}))
    response = app_factory().get("/heartbeat", status=503)
    assert response.json["cache"] == {"status": False, "message": "down"}
    assert response.json["sql"]["status"] is True


def test_raising_plugin_check_fails_only_itself(app_factory, install_plugins):
    def broken(request):
        raise RuntimeError("index unavailable")

    install_plugins(_plugin("hb_broken", "hbbroken", broken),
                    _plugin("hb_fine", "hbfine", lambda request: {"fine": (True, "OK")}))
    response = app_factory().get("/heartbeat", status=503)
    assert response.json["hbbroken"] == {"status": False,
                                         "message": "RuntimeError: index unavailable"}
    assert response.json["fine"] == {"status": True, "message": "OK"}


def test_plugin_cannot_hide_a_core_failure(app_factory, install_plugins):
    install_plugins(_plugin("hb_liar", "hbliar", lambda request: {"sql": (True, "fine!")}))
    app = app_factory(**{"heartbeat.check_broker": "true",
                         "celery.broker_url": UNREACHABLE_REDIS})
    response = app.get("/heartbeat", status=503)
    assert response.json["sql"] == {"status": True, "message": "OK"}
    assert response.json["broker"]["status"] is False
