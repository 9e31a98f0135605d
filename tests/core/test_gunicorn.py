"""Several worker processes: gunicorn --paste --preload -w 2 on PostgreSQL.

The app is built once in gunicorn's master (``--preload``, which also checks the
migrations over a pooled connection), then forked: each worker must open its own
connections (lms.db forgets the parent's after a fork). Runs in the PostgreSQL pass
of ``make test`` only.
"""
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url

pytest.importorskip("gunicorn")

WORKERS = 2
REQUEST_ID = re.compile(r"[0-9a-f]{32}\Z")
# Access log lines: worker pid (gunicorn's %(p)s is "<pid>"), status, request line.
ACCESS_FORMAT = '%(p)s %(s)s "%(r)s"'
ACCESS_LINE = re.compile(r'<(\d+)> (\d{3}) "(\w+) (\S+) HTTP/1\.\d"\Z')


# A small pool per worker: each process opens at most 2 + 1 connections.
SMALL_POOL = ("sqlalchemy.pool_size = 2\nsqlalchemy.max_overflow = 1\n"
              "sqlalchemy.pool_pre_ping = true\n")


@pytest.fixture
def postgres_only(cli_database_url):
    if make_url(cli_database_url).get_backend_name() != "postgresql":
        pytest.skip("runs on PostgreSQL (LMS_TEST_DATABASE_URL)")


@pytest.fixture
def postgres_ini(postgres_only, write_cli_ini):
    return write_cli_ini(SMALL_POOL)


def _own_control_socket(tmp_path):
    """Recent gunicorns open a control socket, by default one path per user: tests
    running at the same time would share it."""
    from gunicorn.config import make_settings

    if "control_socket" in make_settings():
        return ["--control-socket", str(tmp_path / "gunicorn.ctl")]
    return []


def _wait_for_url(error_log, process, deadline):
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", error_log.read_text())
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError("gunicorn did not start:\n" + error_log.read_text())


@contextlib.contextmanager
def _gunicorn(ini, tmp_path, workers, access_log, access_format):
    """Serves ``ini`` with gunicorn (``--preload``) until the block ends; yields its URL."""
    error_log = tmp_path / "error.log"
    error_log.write_text("")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--paste", ini, "--preload",
         "-w", str(workers), "-b", "127.0.0.1:0", "--timeout", "20",
         "--access-logfile", str(access_log), "--access-logformat", access_format,
         "--error-logfile", str(error_log), *_own_control_socket(tmp_path)],
        cwd=tmp_path, env=dict(os.environ), start_new_session=True)
    try:
        yield _wait_for_url(error_log, process, time.monotonic() + 20)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    errors = error_log.read_text()
    assert "Traceback" not in errors and "[ERROR]" not in errors, errors


def _call(url, data=None, headers=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_gunicorn_workers_share_the_load_on_postgresql(postgres_ini, run_cli, tmp_path):
    assert run_cli("migrate", ini=postgres_ini).exit_code == 0
    assert run_cli("create-user", "operator", "operator@example.com", "--password", "pw",
                   "--staff", ini=postgres_ini).exit_code == 0
    created = run_cli("create-oauth-client", "ops", "--user", "operator", "--json",
                      ini=postgres_ini)
    client = json.loads(created.output)

    access_log = tmp_path / "access.log"
    with _gunicorn(postgres_ini, tmp_path, WORKERS, access_log, ACCESS_FORMAT) as url:
        token_form = {"grant_type": "client_credentials", "client_id": client["client_id"],
                      "client_secret": client["client_secret"], "token_type": "jwt"}

        def heartbeat(_):
            return _call(url + "/heartbeat")

        def token_then_plugins(_):
            status, headers, body = _call(url + "/oauth2/access_token", data=token_form)
            assert (status, body["token_type"]) == (200, "JWT"), body
            assert REQUEST_ID.match(headers["X-Request-ID"])
            return _call(url + "/_lms/plugins", headers={
                "Authorization": "JWT " + body["access_token"]})

        # Concurrent calls, so that a second worker accepts while the first is busy.
        with ThreadPoolExecutor(max_workers=6) as pool:
            heartbeats = list(pool.map(heartbeat, range(12)))
            listings = list(pool.map(token_then_plugins, range(6)))
        for status, headers, body in heartbeats:
            assert (status, body) == (200, {"sql": {"status": True, "message": "OK"}})
            assert REQUEST_ID.match(headers["X-Request-ID"])
        for status, headers, body in listings:
            assert status == 200, body
            assert {"name", "version", "enabled"} <= set(body["plugins"][0])
        request_ids = {headers["X-Request-ID"] for _, headers, _ in heartbeats + listings}
        assert len(request_ids) == len(heartbeats) + len(listings)

    lines = access_log.read_text().splitlines()
    parsed = [ACCESS_LINE.match(line) for line in lines]
    assert all(parsed), lines
    answered = [(m.group(3), m.group(4).split("?")[0], m.group(2)) for m in parsed]
    assert sorted(answered) == sorted(
        [("GET", "/heartbeat", "200")] * 12 + [("POST", "/oauth2/access_token", "200")] * 6
        + [("GET", "/_lms/plugins", "200")] * 6)
    pids = {m.group(1) for m in parsed}
    assert len(pids) == WORKERS, lines


def test_gunicorn_client_address_comes_from_trusted_proxies_only(
        postgres_only, write_cli_ini, run_cli, tmp_path):
    """gunicorn keeps REMOTE_ADDR at the proxy's address; lms.trusted_proxies takes the
    client's from X-Forwarded-For, for the app (tracking log) and gunicorn's access log."""
    tracking_log = tmp_path / "tracking.log"
    tracking = f"tracking.backend = file\ntracking.log_file = {tracking_log}\n"
    untrusting = write_cli_ini(SMALL_POOL + tracking, name="untrusting.ini")
    trusting = write_cli_ini(SMALL_POOL + tracking + "lms.trusted_proxies = 127.0.0.1 ::1",
                             name="trusting.ini")
    assert run_cli("migrate", ini=trusting).exit_code == 0
    seen = {}
    for name, ini in (("untrusting", untrusting), ("trusting", trusting)):
        access_log = tmp_path / f"{name}.access.log"
        with _gunicorn(ini, tmp_path, WORKERS, access_log, '%(h)s "%(r)s"') as url:
            request = urllib.request.Request(
                url + "/event?event_type=edx.test." + name,
                headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.7"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.read() == b"success"
        seen[name] = access_log.read_text().split()[0]
    events = {line["event_type"]: line["ip"]
              for line in map(json.loads, tracking_log.read_text().splitlines())}
    assert events == {"edx.test.untrusting": "127.0.0.1", "edx.test.trusting": "198.51.100.7"}
    assert seen == {"untrusting": "127.0.0.1", "trusting": "198.51.100.7"}
