"""``lms embargo ...``: an operator's country access rules (upstream manages them in the
Django admin: ``RestrictedCourse`` and ``CountryAccessRule``).

- ``list [COURSE_KEY]``: restricted courses, their rules and message keys;
- ``whitelist COURSE_KEY CC...`` / ``blacklist COURSE_KEY CC...``: put countries on a
  course's list (the course becomes restricted; a country moves from the other list);
- ``remove COURSE_KEY CC...``: take countries off the course's lists;
- ``restrict COURSE_KEY``: restrict a course or change its message keys;
- ``unrestrict COURSE_KEY``: drop the course's restriction and every rule;
- ``lookup IP...``: the country the configured GeoIP database gives an address;
- ``ip-filter [--enable|--disable] [--whitelist LIST] [--blacklist LIST]``: show or change
  the IP filter (upstream ``IPFilter``; LIST: comma-separated addresses and CIDR networks).
"""
import click
import pycountry
from sqlalchemy import delete, select

from lms.cli import format_table, pass_environment
from lms.keys import parse_course_key
from plugins.enrollment import embargo
from plugins.enrollment.models import (EMBARGO_BLACKLIST, EMBARGO_DEFAULT_MESSAGE_KEY,
                                       EMBARGO_WHITELIST, EmbargoCountryRule,
                                       EmbargoIPFilter, EmbargoRestrictedCourse)

# Upstream's blocked-message pages (embargo.messages ENROLL_MESSAGES / COURSEWARE_MESSAGES).
MESSAGE_KEYS = ("default", "embargo")


def course_key_argument(value):
    key = parse_course_key(value)
    if key is None:
        raise click.ClickException(f"{value!r} is not a valid course key")
    return str(key)


def country_codes(values):
    """Upper-cased ISO 3166-1 alpha-2 codes; an unknown one stops the command."""
    codes = []
    for value in values:
        code = value.strip().upper()
        if pycountry.countries.get(alpha_2=code) is None:
            raise click.ClickException(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        if code not in codes:
            codes.append(code)
    return codes


def find_course(db, course_key):
    return db.scalar(select(EmbargoRestrictedCourse).where(
        EmbargoRestrictedCourse.course_key == course_key))


def ensure_course(db, course_key):
    course = find_course(db, course_key)
    if course is None:
        course = EmbargoRestrictedCourse(course_key=course_key,
                                         enroll_msg_key=EMBARGO_DEFAULT_MESSAGE_KEY,
                                         access_msg_key=EMBARGO_DEFAULT_MESSAGE_KEY,
                                         disable_access_check=False)
        db.add(course)
        db.flush()
    return course


def set_rules(db, course, codes, rule_type):
    existing = {rule.country: rule for rule in db.scalars(select(EmbargoCountryRule).where(
        EmbargoCountryRule.restricted_course_id == course.id))}
    for code in codes:
        rule = existing.get(code)
        if rule is None:
            db.add(EmbargoCountryRule(restricted_course_id=course.id, country=code,
                                      rule_type=rule_type))
        else:
            rule.rule_type = rule_type  # a country is on one list only
    db.flush()


def describe(db, course):
    rules = db.scalars(select(EmbargoCountryRule).where(
        EmbargoCountryRule.restricted_course_id == course.id)
        .order_by(EmbargoCountryRule.country)).all()
    whitelist = [rule.country for rule in rules if rule.rule_type == EMBARGO_WHITELIST]
    blacklist = [rule.country for rule in rules if rule.rule_type == EMBARGO_BLACKLIST]
    return [course.course_key, " ".join(whitelist) or "-", " ".join(blacklist) or "-",
            course.enroll_msg_key, course.access_msg_key,
            "off" if course.disable_access_check else "on"]


HEADERS = ["course", "whitelist", "blacklist", "enroll message", "access message",
           "courseware check"]


@click.group("embargo")
def embargo_group():
    """Country access rules of courses (embargo): list, restrict, whitelist, blacklist."""


@embargo_group.command("list")
@click.argument("course_key", required=False)
@pass_environment
def list_command(environment, course_key):
    """List restricted courses (or one) with their country rules."""
    with environment.session() as db:
        query = select(EmbargoRestrictedCourse).order_by(EmbargoRestrictedCourse.course_key)
        if course_key is not None:
            query = query.where(
                EmbargoRestrictedCourse.course_key == course_key_argument(course_key))
        rows = [describe(db, course) for course in db.scalars(query)]
    if not rows:
        click.echo("no restricted course" if course_key is None
                   else f"{course_key} is not restricted")
        return
    click.echo(format_table(HEADERS, rows))
    if not embargo.is_enabled(environment.registry):
        click.echo(f"note: {embargo.ENABLED_SETTING} is false, so no rule applies")


@embargo_group.command("restrict")
@click.argument("course_key")
@click.option("--enroll-message", type=click.Choice(MESSAGE_KEYS),
              help="Blocked-message page shown when enrollment is refused.")
@click.option("--access-message", type=click.Choice(MESSAGE_KEYS),
              help="Blocked-message page shown when courseware access is refused.")
@click.option("--courseware-check/--no-courseware-check", default=None,
              help="Whether enrolled learners are also checked on courseware access.")
@pass_environment
def restrict_command(environment, course_key, enroll_message, access_message,
                     courseware_check):
    """Restrict a course (whitelist every country until rules are added) or change it."""
    key = course_key_argument(course_key)
    with environment.session() as db:
        course = ensure_course(db, key)
        if enroll_message is not None:
            course.enroll_msg_key = enroll_message
        if access_message is not None:
            course.access_msg_key = access_message
        if courseware_check is not None:
            course.disable_access_check = not courseware_check
        db.flush()
        row = describe(db, course)
    click.echo(format_table(HEADERS, [row]))


def _list_command(rule_type):
    @click.argument("course_key")
    @click.argument("countries", nargs=-1, required=True)
    @pass_environment
    def command(environment, course_key, countries):
        key = course_key_argument(course_key)
        codes = country_codes(countries)
        with environment.session() as db:
            course = ensure_course(db, key)
            set_rules(db, course, codes, rule_type)
            row = describe(db, course)
        click.echo(format_table(HEADERS, [row]))

    return command


whitelist_command = embargo_group.command(
    "whitelist", help="Open a course only to these countries (ISO codes, e.g. FR DE).")(
    _list_command(EMBARGO_WHITELIST))
blacklist_command = embargo_group.command(
    "blacklist", help="Close a course to these countries (ISO codes, e.g. FR DE).")(
    _list_command(EMBARGO_BLACKLIST))


@embargo_group.command("remove")
@click.argument("course_key")
@click.argument("countries", nargs=-1, required=True)
@pass_environment
def remove_command(environment, course_key, countries):
    """Take countries off a restricted course's whitelist and blacklist."""
    key = course_key_argument(course_key)
    codes = country_codes(countries)
    with environment.session() as db:
        course = find_course(db, key)
        if course is None:
            raise click.ClickException(f"{key} is not restricted")
        db.execute(delete(EmbargoCountryRule).where(
            EmbargoCountryRule.restricted_course_id == course.id,
            EmbargoCountryRule.country.in_(codes)))
        row = describe(db, course)
    click.echo(format_table(HEADERS, [row]))


@embargo_group.command("unrestrict")
@click.argument("course_key")
@pass_environment
def unrestrict_command(environment, course_key):
    """Drop a course's restriction and all its country rules."""
    key = course_key_argument(course_key)
    with environment.session() as db:
        course = find_course(db, key)
        if course is None:
            raise click.ClickException(f"{key} is not restricted")
        db.execute(delete(EmbargoCountryRule).where(
            EmbargoCountryRule.restricted_course_id == course.id))
        db.delete(course)
    click.echo(f"{key} is no longer restricted")


@embargo_group.command("lookup")
@click.argument("addresses", nargs=-1, required=True)
@pass_environment
def lookup_command(environment, addresses):
    """Print the country the GeoIP database gives each IP address."""
    database = embargo.geoip_database(environment.registry)
    if database is None:
        raise click.ClickException(f"no GeoIP database: set {embargo.GEOIP_SETTING}")
    for address in addresses:
        click.echo(f"{address}  {database.country(address) or 'unknown'}")


def network_list(value):
    """A comma-separated list of addresses and networks, normalized; bad entries stop."""
    if value is None:
        return None
    try:
        return ", ".join(str(network) for network in embargo.parse_networks(value))
    except ValueError as exc:
        raise click.ClickException(f"{str(exc)!r} is not an IP address or network") from None


@embargo_group.command("ip-filter")
@click.option("--enable/--disable", "enabled", default=None,
              help="Turn the IP filter on or off.")
@click.option("--whitelist", help="Addresses and networks always let through "
                                  "(comma-separated; empty: none).")
@click.option("--blacklist", help="Addresses and networks always refused "
                                  "(comma-separated; empty: none).")
@pass_environment
def ip_filter_command(environment, enabled, whitelist, blacklist):
    """Show the IP filter, or change it (a new configuration row, as upstream)."""
    whitelist, blacklist = network_list(whitelist), network_list(blacklist)
    with environment.session() as db:
        current = embargo.current_ip_filter(db)
        if enabled is not None or whitelist is not None or blacklist is not None:
            current = EmbargoIPFilter(
                enabled=enabled if enabled is not None else bool(current and current.enabled),
                whitelist=whitelist if whitelist is not None else (
                    current.whitelist if current else ""),
                blacklist=blacklist if blacklist is not None else (
                    current.blacklist if current else ""))
            db.add(current)
            db.flush()
        row = (["on" if current.enabled else "off", current.whitelist or "-",
                current.blacklist or "-"] if current is not None else ["off", "-", "-"])
    click.echo(format_table(["ip filter", "whitelist", "blacklist"], [row]))
    if not embargo.is_enabled(environment.registry):
        click.echo(f"note: {embargo.ENABLED_SETTING} is false, so the filter does not apply")


COMMANDS = [embargo_group]
