"""Embargo: country access rules per course, ``GET /api/embargo/v1/course_access/``, the
``lms embargo`` commands and the check enrollment makes.

The GeoIP database is a tiny MaxMind DB file written here (:func:`write_mmdb`), read by
the real ``maxminddb`` reader; nothing is downloaded.
"""
import ipaddress
import struct

import pytest
from sqlalchemy import select

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from plugins.accounts import api as accounts
from plugins.courses.api import store_course
from plugins.enrollment import embargo
from plugins.enrollment.models import (EmbargoCountryRule, EmbargoRestrictedCourse,
                                       Enrollment)

URL = "/api/embargo/v1/course_access/"
COURSE = "course-v1:EmbargoX+E1+2026"
OPEN_COURSE = "course-v1:EmbargoX+Open+2026"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
# Documentation ranges (RFC 5737), placed in countries by the test database.
US_IP, FR_IP, CU_IP, UNKNOWN_IP = "192.0.2.10", "198.51.100.7", "203.0.113.5", "10.1.2.3"
NETWORKS = {"192.0.2.0/24": "US", "198.51.100.0/24": "FR", "203.0.113.0/24": "CU",
            "100.64.0.0/10": "EU"}  # a continent code, as GeoIP falls back to


# -- a minimal MaxMind DB writer (IPv4 tree, 24-bit records) -----------------------------

def _control(type_number, size):
    assert size < 29
    if type_number <= 7:
        return bytes([(type_number << 5) | size])
    return bytes([size, type_number - 7])  # extended type


def _uint(type_number, value):
    payload = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return _control(type_number, len(payload)) + payload


def _encode(value):
    if isinstance(value, str):
        data = value.encode()
        return _control(2, len(data)) + data
    if isinstance(value, dict):
        return _control(7, len(value)) + b"".join(
            _encode(key) + _encode(item) for key, item in value.items())
    if isinstance(value, list):
        return _control(11, len(value)) + b"".join(_encode(item) for item in value)
    kind, number = value  # ("uint16" | "uint32" | "uint64", n)
    return _uint({"uint16": 5, "uint32": 6, "uint64": 9}[kind], number)


def write_mmdb(path, networks):
    """A GeoIP2-Country style database mapping each IPv4 network to ``{"country":
    {"iso_code": code}}``."""
    data, offsets, nodes = b"", {}, [[None, None]]
    for network, code in networks.items():
        if code not in offsets:
            offsets[code] = len(data)
            data += _encode({"country": {"iso_code": code}})
        net = ipaddress.ip_network(network)
        bits = [(int(net.network_address) >> (31 - i)) & 1 for i in range(net.prefixlen)]
        node = 0
        for bit in bits[:-1]:
            if nodes[node][bit] is None:
                nodes.append([None, None])
                nodes[node][bit] = ("node", len(nodes) - 1)
            node = nodes[node][bit][1]
        nodes[node][bits[-1]] = ("data", offsets[code])
    count = len(nodes)

    def record(entry):
        if entry is None:
            return count
        kind, number = entry
        return number if kind == "node" else count + 16 + number

    tree = b"".join(struct.pack(">I", record(left))[1:] + struct.pack(">I", record(right))[1:]
                    for left, right in nodes)
    metadata = _encode({
        "node_count": ("uint32", count), "record_size": ("uint16", 24),
        "ip_version": ("uint16", 4), "database_type": "GeoIP2-Country",
        "languages": ["en"], "binary_format_major_version": ("uint16", 2),
        "binary_format_minor_version": ("uint16", 0), "build_epoch": ("uint64", 1700000000),
        "description": {"en": "openlms test database"},
    })
    path.write_bytes(tree + bytes(16) + data + b"\xab\xcd\xefMaxMind.com" + metadata)
    return str(path)


# -- fixtures -------------------------------------------------------------------------------

def make_course(db, key):
    usage = str(parse_course_key(key).make_usage_key("course", "course"))
    store_course(db, key, {"display_name": "Embargo Course", "start": "2020-01-01T00:00:00Z"},
                 [{"usage_key": usage, "block_type": "course", "block_id": "course",
                   "display_name": "E", "children": [], "fields": {}, "data": {}}])


def restrict(db, key, whitelist=(), blacklist=(), enroll_msg_key="default"):
    course = EmbargoRestrictedCourse(course_key=key, enroll_msg_key=enroll_msg_key,
                                     access_msg_key="default", disable_access_check=False)
    db.add(course)
    db.flush()
    db.add_all([EmbargoCountryRule(restricted_course_id=course.id, country=code,
                                   rule_type="whitelist") for code in whitelist])
    db.add_all([EmbargoCountryRule(restricted_course_id=course.id, country=code,
                                   rule_type="blacklist") for code in blacklist])
    db.commit()


@pytest.fixture(scope="session")
def geoip_path(tmp_path_factory):
    return write_mmdb(tmp_path_factory.mktemp("geoip") / "countries.mmdb", NETWORKS)


@pytest.fixture
def settings(settings, geoip_path):
    settings["enrollment.geoip_database"] = geoip_path
    return settings


@pytest.fixture
def world(db):
    make_course(db, COURSE)
    make_course(db, OPEN_COURSE)
    db.commit()


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


@pytest.fixture
def alice(db):
    return create_user(db, "alice", email="alice@example.com", password=None)


def set_country(db, user, code):
    accounts.get_profile(db, user.id, create=True).country = code
    db.commit()


def access(app, staff, status=200, **query):
    return app.get(URL, params=query, headers=jwt_headers(app, staff), status=status).json


# -- the GeoIP reader -----------------------------------------------------------------------

def test_geoip_database_answers_countries(geoip_path):
    database = embargo.GeoIPDatabase(geoip_path)
    assert [database.country(ip) for ip in (US_IP, FR_IP, CU_IP, UNKNOWN_IP)] == [
        "US", "FR", "CU", ""]
    # Not an address, or IPv6 in an IPv4-only file: unknown, never an error.
    assert database.country("not-an-ip") == "" and database.country("2001:db8::1") == ""
    database.close()


def test_a_missing_geoip_database_stops_the_start_up(app_factory, tmp_path):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="enrollment.geoip_database"):
        app_factory(**{"enrollment.geoip_database": str(tmp_path / "missing.mmdb")})


# -- the rules ---------------------------------------------------------------------------

def test_consolidated_countries():
    assert embargo.consolidated_countries([("whitelist", "US"), ("whitelist", "FR"),
                                           ("blacklist", "FR")]) == {"US"}
    everywhere_but_cuba = embargo.consolidated_countries([("blacklist", "CU")])
    assert "CU" not in everywhere_but_cuba and "US" in everywhere_but_cuba
    # Unknown or continent codes never block.
    assert embargo.country_allowed({"US"}, "") and embargo.country_allowed({"US"}, "EU")
    assert not embargo.country_allowed({"US"}, "FR")


# -- GET course_access -----------------------------------------------------------------------

def test_whitelist_by_ip(app, db, world, staff, alice):
    restrict(db, COURSE, whitelist=["US"])
    assert access(app, staff, course_ids=COURSE, user="alice", ip_address=US_IP) == {
        "access": True}
    assert access(app, staff, course_ids=COURSE, user="alice", ip_address=FR_IP) == {
        "access": False}
    # An address GeoIP cannot place, or a continent, does not block.
    assert access(app, staff, course_ids=COURSE, user="alice", ip_address=UNKNOWN_IP) == {
        "access": True}
    assert access(app, staff, course_ids=COURSE, user="alice", ip_address="100.64.0.1") == {
        "access": True}


def test_blacklist_by_profile_country(app, db, world, staff, alice):
    restrict(db, COURSE, blacklist=["CU"])
    assert access(app, staff, course_ids=COURSE, user="alice", ip_address=US_IP)["access"]
    set_country(db, alice, "cu")
    assert access(app, staff, course_ids=COURSE, user="alice", ip_address=US_IP) == {
        "access": False}


def test_several_courses_and_addresses(app, db, world, staff, alice):
    restrict(db, COURSE, blacklist=["CU"])
    assert access(app, staff, course_ids=[OPEN_COURSE, COURSE], user="alice",
                  ip_address=US_IP)["access"]
    assert access(app, staff, course_ids=[OPEN_COURSE, COURSE], user="alice",
                  ip_address=f"{US_IP}, {CU_IP}") == {"access": False}


def test_course_authors_and_global_staff_always_pass(app, db, world, staff, alice):
    restrict(db, COURSE, whitelist=["US"])
    teacher = create_user(db, "teacher", password=None)
    permissions.grant_role(db, teacher, "instructor", parse_course_key(COURSE))
    db.commit()
    for username in ("teacher", "staffer"):
        assert access(app, staff, course_ids=COURSE, user=username, ip_address=FR_IP) == {
            "access": True}


def test_refusal_before_a_malformed_key_is_false(app, db, world, staff, alice):
    restrict(db, COURSE, whitelist=["US"])
    assert access(app, staff, course_ids=[COURSE, "bad"], user="alice",
                  ip_address=FR_IP) == {"access": False}
    assert access(app, staff, 400, course_ids=["bad", COURSE], user="alice",
                  ip_address=FR_IP) == ["Invalid course_ids"]


@pytest.mark.parametrize("query", [
    {"user": "alice", "ip_address": US_IP},
    {"course_ids": COURSE, "ip_address": US_IP},
    {"course_ids": COURSE, "user": "alice"},
    {"course_ids": COURSE, "user": "nobody", "ip_address": US_IP},
    {"course_ids": COURSE, "user": "alice", "ip_address": ""},
])
def test_missing_parameters_is_400(app, db, world, staff, alice, query):
    assert access(app, staff, 400, **query) == ["Missing parameters"]


def test_unknown_course_is_open(app, db, world, staff, alice):
    assert access(app, staff, course_ids="course-v1:No+Such+Run", user="alice",
                  ip_address=FR_IP) == {"access": True}


def test_anonymous_is_401_learner_and_course_staff_403(app, db, world, alice):
    response = app.get(URL, params={"course_ids": COURSE, "user": "alice",
                                    "ip_address": US_IP}, status=401)
    assert response.json == NOT_AUTHENTICATED
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    teacher = create_user(db, "teacher", password=None)
    permissions.grant_role(db, teacher, "staff", parse_course_key(COURSE))
    db.commit()
    for user in (alice, teacher):
        response = app.get(URL, params={"course_ids": COURSE}, status=403,
                           headers=jwt_headers(app, user))
        assert response.json == FORBIDDEN


def test_without_a_geoip_database_addresses_are_unknown(app_factory, db, world, staff, alice):
    plain = app_factory(**{"enrollment.geoip_database": ""})
    restrict(db, COURSE, whitelist=["US"])
    response = plain.get(URL, params={"course_ids": COURSE, "user": "alice",
                                      "ip_address": FR_IP}, headers=jwt_headers(plain, staff))
    assert response.json == {"access": True}
    set_country(db, alice, "FR")
    response = plain.get(URL, params={"course_ids": COURSE, "user": "alice",
                                      "ip_address": FR_IP}, headers=jwt_headers(plain, staff))
    assert response.json == {"access": False}


def test_disabled_embargo_allows_everything(app_factory, db, world, staff, alice):
    off = app_factory(**{"enrollment.embargo_enabled": "false"})
    restrict(db, COURSE, whitelist=["US"])
    response = off.get(URL, params={"course_ids": COURSE, "user": "alice",
                                    "ip_address": FR_IP}, headers=jwt_headers(off, staff))
    assert response.json == {"access": True}


def test_course_access_query_count_does_not_grow_with_courses(app, db, world, staff, alice,
                                                              query_counter):
    keys = [f"course-v1:EmbargoX+Many{n}+2026" for n in range(8)]
    for key in keys:
        restrict(db, key, blacklist=["CU"])
    headers = jwt_headers(app, staff)
    counts = []
    for some in (keys[:1], keys):
        with query_counter() as queries:
            app.get(URL, params={"course_ids": some, "user": "alice", "ip_address": US_IP},
                    headers=headers)
        counts.append(len(queries))
    # Course-author roles are looked up per restricted course (as upstream does).
    assert counts[1] - counts[0] <= len(keys) - 1


# -- the enrollment check ------------------------------------------------------------------

def enrollment_body(key=COURSE):
    return {"course_details": {"course_id": key}}


def test_enrollment_refused_from_an_embargoed_country(app, db, world, alice):
    restrict(db, COURSE, blacklist=["CU"], enroll_msg_key="embargo")
    response = app.post_json("/api/enrollment/v1/enrollment", enrollment_body(),
                             headers=jwt_headers(app, alice),
                             extra_environ={"REMOTE_ADDR": CU_IP}, status=403)
    assert response.json == {
        "message": f"Users from this location cannot access the course '{COURSE}'.",
        "user_message_url": "http://localhost/embargo/blocked-message/enrollment/embargo/",
    }
    assert db.scalars(select(Enrollment)).all() == []
    app.post_json("/api/enrollment/v1/enrollment", enrollment_body(),
                  headers=jwt_headers(app, alice), extra_environ={"REMOTE_ADDR": US_IP})
    assert [(row.user_id, row.course_key) for row in db.scalars(select(Enrollment))] == [
        (alice.id, COURSE)]


def test_country_header_from_a_trusted_proxy(app_factory, db, world, alice):
    proxied = app_factory(**{"enrollment.geoip_database": "",
                             "enrollment.country_header": "CF-IPCountry",
                             "lms.trusted_proxies": "127.0.0.1"})
    restrict(db, COURSE, whitelist=["US"])
    headers = {**jwt_headers(proxied, alice), "CF-IPCountry": "fr"}
    # From the proxy: the header is believed.
    response = proxied.post_json("/api/enrollment/v1/enrollment", enrollment_body(),
                                 headers=headers, extra_environ={"REMOTE_ADDR": "127.0.0.1"},
                                 status=403)
    assert response.json["user_message_url"] == (
        "http://localhost/embargo/blocked-message/enrollment/default/")
    # Sent straight by a client, the same header is ignored (unknown country).
    proxied.post_json("/api/enrollment/v1/enrollment", enrollment_body(), headers=headers,
                      extra_environ={"REMOTE_ADDR": "198.18.0.1"})
    assert db.scalars(select(Enrollment.course_key)).all() == [COURSE]


# -- lms embargo ... -------------------------------------------------------------------------

@pytest.fixture
def migrated(run_cli):
    result = run_cli("migrate")
    assert result.exit_code == 0, result.output


def test_cli_manages_rules(run_cli, migrated, cli_database_url):
    from lms.db import make_engine

    assert run_cli("embargo", "list").output == "no restricted course\n"
    result = run_cli("embargo", "whitelist", COURSE, "us", "FR")
    assert result.exit_code == 0, result.output
    result = run_cli("embargo", "blacklist", COURSE, "FR", "CU")
    assert result.exit_code == 0, result.output
    result = run_cli("embargo", "restrict", COURSE, "--enroll-message", "embargo")
    assert result.exit_code == 0, result.output
    lines = run_cli("embargo", "list").output.splitlines()
    assert lines[0].split() == ["course", "whitelist", "blacklist", "enroll", "message",
                                "access", "message", "courseware", "check"]
    assert lines[1].split() == [COURSE, "US", "CU", "FR", "embargo", "default", "on"]
    engine = make_engine({"sqlalchemy.url": cli_database_url})
    with engine.connect() as conn:
        rules = set(conn.execute(select(EmbargoCountryRule.country,
                                        EmbargoCountryRule.rule_type)))
    assert rules == {("US", "whitelist"), ("FR", "blacklist"), ("CU", "blacklist")}
    assert run_cli("embargo", "remove", COURSE, "FR").exit_code == 0
    assert run_cli("embargo", "list", COURSE).output.splitlines()[1].split()[:3] == [
        COURSE, "US", "CU"]
    assert run_cli("embargo", "unrestrict", COURSE).output == f"{COURSE} is no longer restricted\n"
    with engine.connect() as conn:
        assert conn.execute(select(EmbargoCountryRule.id)).all() == []
    engine.dispose()


def test_cli_refuses_bad_input(run_cli, migrated):
    result = run_cli("embargo", "whitelist", "not-a-key", "US")
    assert result.exit_code == 1 and "'not-a-key' is not a valid course key" in result.output
    result = run_cli("embargo", "blacklist", COURSE, "XX")
    assert result.exit_code == 1
    assert "'XX' is not an ISO 3166-1 alpha-2 country code" in result.output
    result = run_cli("embargo", "unrestrict", COURSE)
    assert result.exit_code == 1 and "is not restricted" in result.output
    assert run_cli("embargo", "list").output == "no restricted course\n"


def test_cli_lookup(run_cli, migrated, write_cli_ini, geoip_path):
    ini = write_cli_ini(f"enrollment.geoip_database = {geoip_path}", name="geo.ini")
    assert run_cli("embargo", "lookup", US_IP, UNKNOWN_IP, ini=ini).output == (
        f"{US_IP}  US\n{UNKNOWN_IP}  unknown\n")
    result = run_cli("embargo", "lookup", US_IP)
    assert result.exit_code == 1 and "no GeoIP database" in result.output
