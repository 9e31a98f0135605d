"""The embargo IP filter (upstream ``IPFilter``): checked before country rules, on the
core's proxy-aware client address; ``lms embargo ip-filter``."""
from sqlalchemy import select

from lms.testing import jwt_headers
from plugins.enrollment import embargo
from plugins.enrollment.models import EmbargoIPFilter, Enrollment
from tests.plugins.enrollment.test_embargo import (  # noqa: F401 - fixtures
    COURSE, CU_IP, OPEN_COURSE, US_IP, alice, enrollment_body, geoip_path, migrated, restrict,
    settings, world)

ENROLL = "/api/enrollment/v1/enrollment"
REFUSED_URL = "http://localhost/embargo/blocked-message/enrollment/embargo/"


def set_filter(db, enabled=True, whitelist="", blacklist=""):
    db.add(EmbargoIPFilter(enabled=enabled, whitelist=whitelist, blacklist=blacklist))
    db.commit()


def enrolled(db):
    db.expire_all()
    return db.scalars(select(Enrollment.course_key).order_by(Enrollment.id)).all()


def test_verdicts(db):
    assert embargo.ip_filter_verdict(db, US_IP) is None
    set_filter(db, whitelist="192.0.2.0/24, 2001:db8::1", blacklist="192.0.2.66,10.0.0.0/8")
    assert embargo.ip_filter_verdict(db, "192.0.2.66") == "blacklisted"  # blacklist first
    assert embargo.ip_filter_verdict(db, "192.0.2.5") == "whitelisted"
    assert embargo.ip_filter_verdict(db, "::ffff:10.1.2.3") == "blacklisted"
    assert embargo.ip_filter_verdict(db, "2001:db8::1") == "whitelisted"
    assert embargo.ip_filter_verdict(db, "198.51.100.1") is None
    assert embargo.ip_filter_verdict(db, "not an address") is None
    # The newest row is the one in force.
    set_filter(db, enabled=False, blacklist="192.0.2.66")
    assert embargo.ip_filter_verdict(db, "192.0.2.66") is None


def test_blacklisted_address_is_refused_even_for_an_open_course(app, db, world, alice):
    set_filter(db, blacklist="198.18.0.0/15")
    response = app.post_json(ENROLL, enrollment_body(OPEN_COURSE),
                             headers=jwt_headers(app, alice),
                             extra_environ={"REMOTE_ADDR": "198.18.3.4"}, status=403)
    assert response.json == {
        "message": f"Users from this location cannot access the course '{OPEN_COURSE}'.",
        "user_message_url": REFUSED_URL}
    assert enrolled(db) == []


def test_whitelisted_address_skips_country_rules(app, db, world, alice):
    restrict(db, COURSE, blacklist=["CU"])
    set_filter(db, whitelist=CU_IP)
    app.post_json(ENROLL, enrollment_body(), headers=jwt_headers(app, alice),
                  extra_environ={"REMOTE_ADDR": CU_IP})
    assert enrolled(db) == [COURSE]


def test_disabled_filter_changes_nothing(app, db, world, alice):
    restrict(db, COURSE, blacklist=["CU"])
    set_filter(db, enabled=False, whitelist=CU_IP, blacklist=US_IP)
    app.post_json(ENROLL, enrollment_body(), headers=jwt_headers(app, alice),
                  extra_environ={"REMOTE_ADDR": CU_IP}, status=403)
    app.post_json(ENROLL, enrollment_body(), headers=jwt_headers(app, alice),
                  extra_environ={"REMOTE_ADDR": US_IP})
    assert enrolled(db) == [COURSE]


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(app_factory, db, world, alice):
    proxied = app_factory(**{"lms.trusted_proxies": "127.0.0.1"})
    set_filter(db, blacklist="198.18.0.0/15")
    headers = {**jwt_headers(proxied, alice), "X-Forwarded-For": "198.18.3.4"}
    # A client cannot get itself blocked (or let through) with its own header...
    proxied.post_json(ENROLL, enrollment_body(OPEN_COURSE), headers=headers,
                      extra_environ={"REMOTE_ADDR": "192.0.2.200"})
    assert enrolled(db) == [OPEN_COURSE]
    # ...while the trusted proxy's word is taken.
    proxied.post_json(ENROLL, enrollment_body(COURSE), headers=headers,
                      extra_environ={"REMOTE_ADDR": "127.0.0.1"}, status=403)
    assert enrolled(db) == [OPEN_COURSE]


def test_cli_ip_filter(run_cli, migrated):
    lines = run_cli("embargo", "ip-filter").output.splitlines()
    assert lines[1].split() == ["off", "-", "-"]
    result = run_cli("embargo", "ip-filter", "--enable", "--blacklist",
                     "10.0.0.1/8, 192.0.2.7")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split() == ["on", "-", "10.0.0.0/8,", "192.0.2.7/32"]
    result = run_cli("embargo", "ip-filter", "--whitelist", "2001:db8::/32")
    assert result.output.splitlines()[1].split() == ["on", "2001:db8::/32", "10.0.0.0/8,",
                                                     "192.0.2.7/32"]
    result = run_cli("embargo", "ip-filter", "--disable", "--blacklist", "")
    assert result.output.splitlines()[1].split() == ["off", "2001:db8::/32", "-"]
    result = run_cli("embargo", "ip-filter", "--whitelist", "10.0.0.300")
    assert result.exit_code == 1
    assert "'10.0.0.300' is not an IP address or network" in result.output
