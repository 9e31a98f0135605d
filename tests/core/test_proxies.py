"""The client address behind trusted reverse proxies (lms.proxies, lms.trusted_proxies):
the rule, start-up checks of the setting, and what the throttles and the tracking log see.
The same under gunicorn: tests/core/test_gunicorn.py."""
import ipaddress
import json

import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.request import Request
from sqlalchemy import select

from lms import make_config
from lms.models import ThrottleHit
from lms.proxies import (PEER_ADDR, client_address, parse_trusted_proxies,
                         trusted_proxies_tween_factory)
from lms.testing import TEST_SETTINGS
from lms.tracking import tracker_of

TRUSTED = parse_trusted_proxies("10.0.0.0/8, 192.0.2.1 2001:db8::/32")
CLIENT = "198.51.100.7"
PROXY = "10.0.0.2"


def test_parse_trusted_proxies():
    assert parse_trusted_proxies("") == ()
    assert parse_trusted_proxies(None) == ()
    assert parse_trusted_proxies(" 127.0.0.1,::1 ,, 10.0.0.0/8\t2001:db8::/32 ") == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


@pytest.mark.parametrize("value, message", [
    ("127.0.0.1 localhost",
     "lms.trusted_proxies: 'localhost' is not an IP address or network "
     "('localhost' does not appear to be an IPv4 or IPv6 network)"),
    ("10.0.0.1/8",
     "lms.trusted_proxies: '10.0.0.1/8' is not an IP address or network "
     "(10.0.0.1/8 has host bits set)"),
    ("10.0.0.0/33",
     "lms.trusted_proxies: '10.0.0.0/33' is not an IP address or network "
     "('10.0.0.0/33' does not appear to be an IPv4 or IPv6 network)"),
    ("*",
     "lms.trusted_proxies: '*' is not an IP address or network "
     "('*' does not appear to be an IPv4 or IPv6 network)"),
])
def test_a_bad_setting_is_one_line(value, message):
    with pytest.raises(ConfigurationError) as refused:
        parse_trusted_proxies(value)
    assert str(refused.value) == message


@pytest.mark.parametrize("peer, forwarded_for, expected", [
    # An untrusted peer is the client, whatever it claims.
    ("203.0.113.5", CLIENT, "203.0.113.5"),
    ("11.0.0.1", CLIENT, "11.0.0.1"),  # just outside 10.0.0.0/8
    ("192.0.2.2", CLIENT, "192.0.2.2"),  # a single trusted address is not a network
    # A trusted peer without the header, or with an empty one.
    (PROXY, None, PROXY),
    (PROXY, "", PROXY),
    # One proxy; then a chain of trusted ones, read right to left.
    (PROXY, CLIENT, CLIENT),
    ("192.0.2.1", CLIENT, CLIENT),
    (PROXY, f"{CLIENT}, 10.1.1.1, 192.0.2.1", CLIENT),
    (PROXY, f"{CLIENT},10.1.1.1", CLIENT),  # several header lines, as servers join them
    # Entries left of the first untrusted one are the client's own words.
    (PROXY, f"6.6.6.6, 10.9.9.9, {CLIENT}, 10.1.1.1", CLIENT),
    (PROXY, f"127.0.0.1, {CLIENT}", CLIENT),
    # Every address trusted: the left-most.
    (PROXY, "10.9.9.9, 10.1.1.1", "10.9.9.9"),
    # Malformed entries stop the walk at the last address a trusted proxy vouched for.
    (PROXY, f"{CLIENT}, unknown", PROXY),
    (PROXY, f"{CLIENT}, garbage, 10.1.1.1", "10.1.1.1"),
    (PROXY, f"{CLIENT}:4711", PROXY),
    (PROXY, f"{CLIENT}, ", PROXY),
    (PROXY, f"{CLIENT},, 10.1.1.1", "10.1.1.1"),
    (PROXY, "not an address at all", PROXY),
    # IPv6: peers, clients and networks; addresses come out in their short form.
    ("2001:db8::5", "2A00:1450:4001::1", "2a00:1450:4001::1"),
    ("2001:db8::5", f"{CLIENT}, 2001:db8:ffff::1", CLIENT),
    (PROXY, "2a00:1450:4001::1, 2001:db8::9", "2a00:1450:4001::1"),
    ("2a00:1450:4001::1", CLIENT, "2a00:1450:4001::1"),
    ("[2001:db8::5]", CLIENT, "[2001:db8::5]"),  # not an address: untrusted
    # A dual-stack socket's IPv4-mapped peer is the IPv4 address.
    ("::ffff:10.0.0.2", CLIENT, CLIENT),
    (PROXY, "::ffff:198.51.100.7", CLIENT),
    # No peer address (a Unix socket): nothing to trust.
    ("", CLIENT, ""),
    (None, CLIENT, None),
])
def test_client_address(peer, forwarded_for, expected):
    assert client_address(peer, forwarded_for, TRUSTED) == expected


def test_nobody_is_trusted_by_default():
    assert client_address("127.0.0.1", CLIENT, ()) == "127.0.0.1"


def _through_tween(trusted, environ):
    seen = {}

    def handler(request):
        seen.update(remote_addr=request.remote_addr, peer=request.environ[PEER_ADDR])
        return "response"

    tween = trusted_proxies_tween_factory(handler, {"lms.trusted_proxies": trusted})
    assert tween(Request.blank("/", environ=environ)) == "response"
    return seen


def test_tween_keeps_the_peer_in_the_environ():
    header = {"HTTP_X_FORWARDED_FOR": f"6.6.6.6, {CLIENT}"}
    assert _through_tween(TRUSTED, dict(header, REMOTE_ADDR=PROXY)) == {
        "remote_addr": CLIENT, "peer": PROXY}
    assert _through_tween(TRUSTED, dict(header, REMOTE_ADDR="203.0.113.5")) == {
        "remote_addr": "203.0.113.5", "peer": "203.0.113.5"}
    assert _through_tween((), dict(header, REMOTE_ADDR=PROXY)) == {
        "remote_addr": PROXY, "peer": PROXY}


def test_a_bad_setting_stops_start_up():
    settings = dict(TEST_SETTINGS, **{"lms.trusted_proxies": "10.0.0.1 10.0.0.0/8 nginx"})
    with pytest.raises(ConfigurationError) as refused:
        make_config(settings)
    assert str(refused.value) == (
        "lms.trusted_proxies: 'nginx' is not an IP address or network "
        "('nginx' does not appear to be an IPv4 or IPv6 network)")


def test_a_bad_setting_is_one_line_from_the_lms_command(write_cli_ini, run_cli):
    result = run_cli("plugins", ini=write_cli_ini("lms.trusted_proxies = 127.0.0.1/8"))
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        "Error: configuration error: lms.trusted_proxies: '127.0.0.1/8' is not an IP "
        "address or network (127.0.0.1/8 has host bits set)")


# -- what the application sees --------------------------------------------------------

def _event_ip(app, peer, forwarded_for):
    tracker = tracker_of(app.registry)
    before = len(tracker.lines)
    app.get("/event", {"event_type": "edx.test.proxy"},
            headers={"X-Forwarded-For": forwarded_for}, extra_environ={"REMOTE_ADDR": peer})
    [line] = tracker.lines[before:]
    return json.loads(line)["ip"]


def test_tracking_ip_comes_from_a_trusted_proxy_only(app_factory):
    app = app_factory(**{"lms.trusted_proxies": "127.0.0.1 ::1"})
    assert _event_ip(app, "127.0.0.1", f"6.6.6.6, {CLIENT}") == CLIENT
    assert _event_ip(app, "::1", f"{CLIENT}, 127.0.0.1") == CLIENT
    assert _event_ip(app, "203.0.113.5", CLIENT) == "203.0.113.5"
    default = app_factory()
    assert _event_ip(default, "127.0.0.1", CLIENT) == "127.0.0.1"


def _token_attempt(app, peer, forwarded_for, status):
    app.post("/oauth2/access_token", {"grant_type": "client_credentials",
                                      "client_id": "nobody", "client_secret": "wrong"},
             headers={"X-Forwarded-For": forwarded_for}, extra_environ={"REMOTE_ADDR": peer},
             status=status)


def _token_throttle_counts(db):
    db.expire_all()
    return dict(db.execute(select(ThrottleHit.ident, ThrottleHit.count)
                           .where(ThrottleHit.scope == "oauth2_token")).all())


def test_throttle_counts_the_client_behind_a_trusted_proxy(app_factory):
    app = app_factory(**{"lms.trusted_proxies": "127.0.0.1", "throttle.enabled": "true",
                         "throttle.token_rate": "1/m"})
    db = app.registry["lms.dbsession_factory"]()
    try:
        # Two clients behind the proxy: one bucket each, whatever they prepend.
        _token_attempt(app, "127.0.0.1", CLIENT, 401)
        _token_attempt(app, "127.0.0.1", f"6.6.6.6, {CLIENT}", 429)
        _token_attempt(app, "127.0.0.1", "198.51.100.8", 401)
        # A direct client cannot pass for another one.
        _token_attempt(app, "203.0.113.5", "198.51.100.9", 401)
        _token_attempt(app, "203.0.113.5", "198.51.100.10", 429)
        assert _token_throttle_counts(db) == {CLIENT: 2, "198.51.100.8": 1, "203.0.113.5": 2}
    finally:
        db.close()


def test_throttle_ignores_forwarded_for_without_trusted_proxies(app_factory):
    app = app_factory(**{"throttle.enabled": "true", "throttle.token_rate": "1/m"})
    db = app.registry["lms.dbsession_factory"]()
    try:
        _token_attempt(app, "127.0.0.1", CLIENT, 401)
        _token_attempt(app, "127.0.0.1", "198.51.100.8", 429)
        assert _token_throttle_counts(db) == {"127.0.0.1": 2}
    finally:
        db.close()
