"""``lms`` commands of the enrollment plugin.

``lms course-modes list|set|delete``: an operator's view of a course's modes (seats),
with the rules the HTTP API applies (upstream's ``CourseMode`` model rules, whole
prices of 0 or more, the currency lower-cased), plus the mobile SKUs the API does
not show.
"""
import click
import colander

from lms.cli import format_table, pass_environment
from lms.keys import parse_course_key
from lms.timeutil import isoformat
from plugins.courses import api as courses_api
from plugins.enrollment import course_modes
from plugins.enrollment.course_modes_schemas import DateTime
from plugins.enrollment.models import MODE_SLUG_MAX_LENGTH

# Upstream COURSE_ENROLLMENT_MODES display names, the default name of a new mode.
DISPLAY_NAMES = {
    "audit": "Audit", "verified": "Verified", "professional": "Professional",
    "no-id-professional": "No-Id-Professional", "credit": "Credit", "honor": "Honor",
    "masters": "Master's", "executive-education": "Executive Education",
}
NEVER = "never"


def course_key_argument(value):
    key = parse_course_key(value)
    if key is None:
        raise click.ClickException(f"{value!r} is not a valid course key")
    return key


def expiry(value):
    """``--expires``: ISO 8601 (UTC when no offset is given), or ``never``."""
    if value is None or value == NEVER:
        return None
    try:
        return colander.SchemaNode(DateTime()).deserialize(value)
    except colander.Invalid:
        raise click.BadParameter(f"{value!r}: use YYYY-MM-DDThh:mm[:ss][+HH:MM|Z], or "
                                 f"{NEVER!r}", param_hint="--expires")


def text_option(value, limit=255, name=""):
    """An optional text value: ``""`` clears it."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise click.BadParameter(f"at most {limit} characters", param_hint=name)
    if "\x00" in value:
        raise click.BadParameter("no null characters", param_hint=name)
    return value or None


@click.group("course-modes")
def course_modes_group():
    """List, add, change or remove a course's modes (seats and their prices)."""


@course_modes_group.command("list")
@click.argument("course_key")
@pass_environment
def list_command(environment, course_key):
    """Print the course's modes, expired ones included."""
    key = course_key_argument(course_key)
    with environment.session() as db:
        modes = course_modes.list_modes(db, key)
        rows = [[mode.mode_slug, mode.mode_display_name, mode.min_price, mode.currency,
                 isoformat(mode.expiration_datetime) or "-", mode.sku or "-",
                 mode.android_sku or "-", mode.ios_sku or "-", mode.bulk_sku or "-"]
                for mode in modes]
    if not rows:
        click.echo(f"{key}: no modes (learners get the default mode, audit)")
        return
    click.echo(format_table(["SLUG", "NAME", "PRICE", "CURRENCY", "EXPIRES", "SKU",
                             "ANDROID_SKU", "IOS_SKU", "BULK_SKU"], rows))


@course_modes_group.command("set")
@click.argument("course_key")
@click.argument("mode_slug")
@click.option("--name", help="Display name [new modes: Open edX's name for the slug].")
@click.option("--price", type=click.IntRange(0, course_modes.MAX_PRICE),
              help="Whole units of the currency [new modes: 0].")
@click.option("--currency", help="ISO 4217 code, stored lower-case [new modes: usd].")
@click.option("--expires", help="Upgrade deadline, ISO 8601 (UTC without an offset), or "
              "'never'.")
@click.option("--sku", help="Ecommerce SKU ('' clears it).")
@click.option("--bulk-sku", help="Bulk-purchase SKU ('' clears it).")
@click.option("--android-sku", help="Google Play SKU ('' clears it).")
@click.option("--ios-sku", help="App Store SKU ('' clears it).")
@click.option("--description", help="Description ('' clears it).")
@pass_environment
def set_command(environment, course_key, mode_slug, name, price, currency, expires, sku,
                bulk_sku, android_sku, ios_sku, description):
    """Add the mode MODE_SLUG to the course, or change the options given."""
    key = course_key_argument(course_key)
    mode_slug = mode_slug.strip()
    if not mode_slug or len(mode_slug) > MODE_SLUG_MAX_LENGTH or "\x00" in mode_slug:
        raise click.BadParameter(f"1 to {MODE_SLUG_MAX_LENGTH} characters",
                                 param_hint="MODE_SLUG")
    fields = {}
    if name is not None:
        fields["mode_display_name"] = text_option(name, name="--name")
        if fields["mode_display_name"] is None:
            raise click.BadParameter("must not be empty", param_hint="--name")
    if price is not None:
        fields["min_price"] = price
    if currency is not None:
        fields["currency"] = text_option(currency, 8, "--currency")
        if fields["currency"] is None:
            raise click.BadParameter("must not be empty", param_hint="--currency")
    if expires is not None:
        fields["expiration_datetime"] = expiry(expires)
    for field, value, option in (("sku", sku, "--sku"), ("bulk_sku", bulk_sku, "--bulk-sku"),
                                 ("android_sku", android_sku, "--android-sku"),
                                 ("ios_sku", ios_sku, "--ios-sku"),
                                 ("description", description, "--description")):
        if value is not None:
            fields[field] = text_option(value, 10**6 if field == "description" else 255,
                                        option)
    try:
        with environment.session() as db:
            if courses_api.get_course(db, key) is None:
                raise click.ClickException(f"no course {key}")
            mode = course_modes.get_mode(db, key, mode_slug)
            if mode is None:
                fields.setdefault("mode_display_name", DISPLAY_NAMES.get(mode_slug, mode_slug))
                course_modes.create_mode(db, key, mode_slug, fields)
                verb = "added"
            else:
                course_modes.update_mode(db, mode, fields)
                verb = "changed"
    except course_modes.InvalidMode as exc:
        raise click.ClickException(str(exc))
    except course_modes.DuplicateMode:
        raise click.ClickException(f"{key} got a mode {mode_slug!r} meanwhile: run again")
    click.echo(f"{verb} mode {mode_slug!r} of {key}")


@course_modes_group.command("delete")
@click.argument("course_key")
@click.argument("mode_slug")
@pass_environment
def delete_command(environment, course_key, mode_slug):
    """Remove the mode MODE_SLUG from the course (enrollments keep their mode)."""
    key = course_key_argument(course_key)
    with environment.session() as db:
        mode = course_modes.get_mode(db, key, mode_slug)
        if mode is None:
            raise click.ClickException(f"{key} has no mode {mode_slug!r}")
        course_modes.delete_mode(db, mode)
    click.echo(f"deleted mode {mode_slug!r} of {key}")


def all_commands():
    """Every ``lms`` command of the plugin (``lms_cli_commands``)."""
    return [course_modes_group]
