"""Country access rules (upstream ``openedx.core.djangoapps.embargo``).

A course with an :class:`EmbargoRestrictedCourse` row is open only to learners whose
country passes its rules: the countries on its whitelist (every country when it has
none) minus those on its blacklist. A learner is checked twice, by the country of
their IP address and by the country of their profile; an unknown country (no GeoIP
answer, a code that names no country) never blocks. Global staff and the course's
staff and instructors always pass.

The country of an address comes from a MaxMind database (``enrollment.geoip_database``,
read with ``maxminddb``); without one, the country of the request's client comes from a
header a trusted proxy adds (``enrollment.country_header``, e.g. ``CF-IPCountry``),
believed only on connections from ``lms.trusted_proxies``.

Before any country rule, the IP filter (upstream ``IPFilter``, ``lms embargo ip-filter``)
looks at the client address (the core's proxy-aware ``request.remote_addr``, never a raw
``X-Forwarded-For``): when enabled, a blacklisted address is refused (any course, with
the ``embargo`` message) and a whitelisted one passes without country checks.

Other modules call :func:`enrollment_error` (the enrollment view, before enrolling) and
:func:`access_checker` (the ``course_access`` endpoint).
"""
import functools
import ipaddress

from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from lms import permissions
from lms.errors import APIError
from lms.keys import parse_course_key
from lms.proxies import PEER_ADDR
from lms.settings import as_bool
from plugins.enrollment.models import (EMBARGO_BLACKLIST, EMBARGO_DEFAULT_MESSAGE_KEY,
                                       EMBARGO_WHITELIST, EmbargoCountryRule,
                                       EmbargoIPFilter, EmbargoRestrictedCourse)

ENABLED_SETTING = "enrollment.embargo_enabled"
GEOIP_SETTING = "enrollment.geoip_database"
HEADER_SETTING = "enrollment.country_header"
READER_KEY = "enrollment.geoip_reader"


@functools.cache
def all_countries():
    """Every ISO 3166-1 alpha-2 code (pycountry is loaded on first use, not at start-up)."""
    import pycountry

    return frozenset(country.alpha_2 for country in pycountry.countries)
# Upstream's ``embargo:blocked_message`` route, where refused learners are sent.
BLOCKED_MESSAGE_PATH = "/embargo/blocked-message/{access_point}/{message_key}/"
ENROLLMENT_ACCESS_POINT = "enrollment"
# Roles that make a user a course author (upstream ``has_course_author_access``).
AUTHOR_ROLES = ("staff", "instructor")


class GeoIPDatabase:
    """Country look-ups in a MaxMind DB file (GeoIP2/GeoLite2 Country or City)."""

    def __init__(self, path):
        try:
            import maxminddb
        except ImportError:
            raise ConfigurationError(
                f"{GEOIP_SETTING}: reading a GeoIP database needs the maxminddb package "
                "(pip install 'openlms[geoip]')") from None
        try:
            self.reader = maxminddb.open_database(path)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"{GEOIP_SETTING}: cannot read the GeoIP database {path!r} ({exc})") from None

    def country(self, address):
        """The ISO code of ``address``'s country, or "" when unknown (or not an address)."""
        try:
            record = self.reader.get(str(address).strip())
        except (ValueError, TypeError):  # not an address, or IPv6 in an IPv4-only file
            return ""
        if not isinstance(record, dict):
            return ""
        country = record.get("country")
        code = country.get("iso_code") if isinstance(country, dict) else None
        return code.upper() if isinstance(code, str) else ""

    def close(self):
        self.reader.close()


def configure(config):
    """Open the configured GeoIP database once per app (a bad path stops start-up)."""
    path = (config.registry.settings.get(GEOIP_SETTING) or "").strip()
    config.registry[READER_KEY] = GeoIPDatabase(path) if path else None


def is_enabled(registry):
    return as_bool(registry.settings, ENABLED_SETTING)


def geoip_database(registry):
    return registry.get(READER_KEY)


def _key_string(course_key):
    """The canonical text of a key given as a CourseKey or as text."""
    parsed = parse_course_key(str(course_key))
    return str(parsed) if parsed is not None else str(course_key)


def country_allowed(allowed, country):
    """Upstream ``CountryAccessRule.check_country_access`` over a consolidated list."""
    if country not in all_countries():
        return True  # unknown, or a continent code GeoIP falls back to
    return country in allowed


def consolidated_countries(rules):
    """The countries a restricted course is open to, from its ``(rule_type, country)``s."""
    whitelist = {country for rule_type, country in rules if rule_type == EMBARGO_WHITELIST}
    blacklist = {country for rule_type, country in rules if rule_type == EMBARGO_BLACKLIST}
    return (whitelist or set(all_countries())) - blacklist


def restrictions(db, course_keys):
    """``{course key string: (EmbargoRestrictedCourse, allowed countries)}`` for the
    restricted ones among ``course_keys``; two queries whatever their number."""
    keys = list(dict.fromkeys(_key_string(key) for key in course_keys))
    if not keys:
        return {}
    courses = db.scalars(select(EmbargoRestrictedCourse).where(
        EmbargoRestrictedCourse.course_key.in_(keys))).all()
    if not courses:
        return {}
    rules = {course.id: [] for course in courses}
    for course_id, rule_type, country in db.execute(
            select(EmbargoCountryRule.restricted_course_id, EmbargoCountryRule.rule_type,
                   EmbargoCountryRule.country)
            .where(EmbargoCountryRule.restricted_course_id.in_(list(rules)))):
        rules[course_id].append((rule_type, country))
    return {course.course_key: (course, consolidated_countries(rules[course.id]))
            for course in courses}


def profile_country(db, user):
    """The upper-cased country of the user's profile, "" when none."""
    from plugins.accounts import api as accounts

    profile = accounts.get_profile(db, user.id)
    country = getattr(profile, "country", None)
    return country.upper() if country else ""


def is_course_author(db, user, course_key):
    return permissions.is_staff(user) or permissions.has_course_role(
        db, user, course_key, AUTHOR_ROLES)


class AccessChecker:
    """Upstream ``check_course_access`` for one user and address over several courses.

    ``ip_countries``: the countries of the caller's addresses (None: no address to
    check). The profile country is read once, when a restricted course needs it."""

    def __init__(self, registry, db, user, ip_countries, course_keys):
        self.enabled = is_enabled(registry)
        self.db = db
        self.user = user
        self.ip_countries = ip_countries
        self.restricted = restrictions(db, course_keys) if self.enabled else {}
        self._profile_country = None

    def restriction(self, course_key):
        return self.restricted.get(_key_string(course_key))

    def allows(self, course_key):
        found = self.restriction(course_key)
        if found is None:
            return True
        _course, allowed = found
        if self.user is not None and is_course_author(
                self.db, self.user, parse_course_key(_key_string(course_key))):
            return True
        if self.ip_countries is not None and not all(
                country_allowed(allowed, country) for country in self.ip_countries):
            return False
        if self.user is not None:
            if self._profile_country is None:
                self._profile_country = profile_country(self.db, self.user)
            if not country_allowed(allowed, self._profile_country):
                return False
        return True


def address_countries(registry, addresses):
    """The countries of explicit addresses (the ``course_access`` endpoint's
    ``ip_address``): only a GeoIP database can tell, else they are unknown ("")."""
    database = geoip_database(registry)
    return [database.country(address) if database is not None else ""
            for address in addresses]


def _from_trusted_proxy(request):
    trusted = request.registry.get("lms.trusted_proxies") or ()
    peer = request.environ.get(PEER_ADDR, request.environ.get("REMOTE_ADDR"))
    try:
        address = ipaddress.ip_address((peer or "").strip())
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address
    return any(address in network for network in trusted)


def request_country(request):
    """The country the request comes from: GeoIP on the client address when a
    database is configured, else the trusted proxy's header; "" when unknown."""
    database = geoip_database(request.registry)
    if database is not None:
        return database.country(request.remote_addr or "")
    header = (request.registry.settings.get(HEADER_SETTING) or "").strip()
    if header and _from_trusted_proxy(request):
        return (request.headers.get(header) or "").strip().upper()
    return ""


# -- IP filter (upstream IPFilter) -------------------------------------------------------

IP_BLACKLISTED = "blacklisted"
IP_WHITELISTED = "whitelisted"
IP_FILTER_MESSAGE_KEY = "embargo"


def parse_networks(text):
    """The networks of a comma-separated list of addresses and CIDR networks; a
    ValueError names the first entry that is neither."""
    networks = []
    for entry in (text or "").split(","):
        entry = entry.strip()
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(entry) from None
    return networks


def _listed(address, text):
    networks = [network for entry in (text or "").split(",") if entry.strip()
                for network in _lenient_network(entry.strip())]
    return any(address.version == network.version and address in network
               for network in networks)


def _lenient_network(entry):
    try:
        return [ipaddress.ip_network(entry, strict=False)]
    except ValueError:
        return []  # a bad entry stored by hand matches nothing


def current_ip_filter(db):
    """The newest IP filter row (the one in force), or None."""
    return db.scalar(select(EmbargoIPFilter).order_by(EmbargoIPFilter.change_date.desc(),
                                                      EmbargoIPFilter.id.desc()).limit(1))


def ip_filter_verdict(db, address):
    """``"blacklisted"``, ``"whitelisted"`` or None for ``address`` under the IP
    filter in force (None too when it is disabled or the address is not one)."""
    row = current_ip_filter(db)
    if row is None or not row.enabled:
        return None
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    parsed = getattr(parsed, "ipv4_mapped", None) or parsed
    if _listed(parsed, row.blacklist):
        return IP_BLACKLISTED
    if _listed(parsed, row.whitelist):
        return IP_WHITELISTED
    return None


def request_ip_verdict(request):
    """The IP filter's verdict on the request's client (proxy-aware remote address)."""
    if not is_enabled(request.registry):
        return None
    return ip_filter_verdict(request.dbsession, request.remote_addr)


def check_course_access(request, course_key, user):
    """May ``user`` (or an anonymous caller, None) reach ``course_key`` from where
    ``request`` comes? (The enrollment access point.)"""
    verdict = request_ip_verdict(request)
    if verdict is not None:
        return verdict == IP_WHITELISTED
    return AccessChecker(request.registry, request.dbsession, user,
                         [request_country(request)], [course_key]).allows(course_key)


def message_url_path(restricted_course, access_point=ENROLLMENT_ACCESS_POINT):
    message_key = EMBARGO_DEFAULT_MESSAGE_KEY
    if restricted_course is not None:
        message_key = (restricted_course.enroll_msg_key if access_point == ENROLLMENT_ACCESS_POINT
                       else restricted_course.access_msg_key) or EMBARGO_DEFAULT_MESSAGE_KEY
    return BLOCKED_MESSAGE_PATH.format(access_point=access_point, message_key=message_key)


def enrollment_error(request, course_id, user):
    """The 403 upstream's enrollment API answers when ``user`` may not enroll in
    ``course_id`` from where ``request`` comes (``get_embargo_response``), else None.

    ``course_id``: the course as the client wrote it (it is echoed in the message)."""
    verdict = request_ip_verdict(request)
    if verdict == IP_WHITELISTED:
        return None
    if verdict == IP_BLACKLISTED:
        path = BLOCKED_MESSAGE_PATH.format(access_point=ENROLLMENT_ACCESS_POINT,
                                           message_key=IP_FILTER_MESSAGE_KEY)
        return APIError(403, {
            "message": f"Users from this location cannot access the course '{course_id}'.",
            "user_message_url": request.application_url + path,
        })
    checker = AccessChecker(request.registry, request.dbsession, user,
                            [request_country(request)], [course_id])
    if checker.allows(course_id):
        return None
    found = checker.restriction(course_id)
    path = message_url_path(found[0] if found else None)
    return APIError(403, {
        "message": f"Users from this location cannot access the course '{course_id}'.",
        "user_message_url": request.application_url + path,
    })


def enforce_enrollment(request, course_id, user):
    """Raise :func:`enrollment_error`'s 403 when the embargo refuses the enrollment."""
    error = enrollment_error(request, course_id, user)
    if error is not None:
        raise error
