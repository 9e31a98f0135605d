"""Course modes (seats): the rules upstream's ``CourseMode`` model applies when it saves,
the changes the HTTP API and the ``lms course-modes`` command make, and the dicts the
``lms_course_modes`` hook answers.

Prices are whole units of ``currency`` (upstream's ``min_price`` is an integer), stored
with the currency lower-cased as upstream's ``save()`` does.
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from plugins.enrollment.models import CourseMode

# Upstream COURSE_ENROLLMENT_MODES entries with a minimum price above 0:
# slug -> (display name in the message, minimum price).
MINIMUM_PRICES = {
    "verified": ("Verified", 1),
    "professional": ("Professional", 1),
    "executive-education": ("Executive Education", 1),
    "paid-executive-education": ("Paid Executive Education", 1),
    "paid-bootcamp": ("Paid Bootcamp", 1),
}
# CourseMode.is_professional_slug: these seats never expire.
PROFESSIONAL_SLUGS = ("professional", "no-id-professional")
PROFESSIONAL_EXPIRES = ("Professional education modes are not allowed to have "
                        "expiration_datetime set.")
# What a course without any mode offers (upstream COURSE_MODE_DEFAULTS).
DEFAULT_MODE = {
    "slug": "audit", "name": "Audit", "min_price": 0, "currency": "usd", "sku": None,
    "android_sku": None, "ios_sku": None, "bulk_sku": None, "expiration_datetime": None,
    "description": None,
}
# Fields a change may set (course and slug identify the mode and never change).
CHANGEABLE = ("mode_display_name", "min_price", "currency", "expiration_datetime",
              "expiration_datetime_is_explicit", "description", "sku", "android_sku",
              "ios_sku", "bulk_sku")
MAX_PRICE = 2**31 - 1  # the column is a 32-bit integer


class InvalidMode(ValueError):
    """The mode breaks one of upstream's model rules (the message says which)."""


class DuplicateMode(Exception):
    """The course already has a mode with this slug."""


def rule_violation(mode):
    """The message of the first model rule ``mode`` breaks, or None (``CourseMode.clean``)."""
    if mode.mode_slug in PROFESSIONAL_SLUGS and mode.expiration_datetime is not None:
        return PROFESSIONAL_EXPIRES
    name, minimum = MINIMUM_PRICES.get(mode.mode_slug, (mode.mode_slug, 0))
    if mode.min_price < minimum:
        return (f"The {name} course mode has a minimum price of {minimum}. "
                f"You must set a price greater than or equal to {minimum}.")
    return None


def _apply(mode, fields, creating=False):
    for name in CHANGEABLE:
        if name in fields and name != "expiration_datetime_is_explicit":
            setattr(mode, name, fields[name])
    # Upstream's expiration_datetime setter marks a date as explicit. On creation it
    # runs after the model's own fields, so a date wins over the flag; on a change the
    # serializer's field order applies the flag after the date.
    dated = fields.get("expiration_datetime") is not None
    explicit = fields.get("expiration_datetime_is_explicit")
    if creating:
        mode.expiration_datetime_is_explicit = True if dated else bool(explicit)
    else:
        if dated:
            mode.expiration_datetime_is_explicit = True
        if explicit is not None:
            mode.expiration_datetime_is_explicit = explicit
    mode.currency = (mode.currency or "").lower()
    problem = rule_violation(mode)
    if problem:
        raise InvalidMode(problem)


def get_mode(db, course_key, mode_slug):
    if "\x00" in mode_slug:  # no stored slug holds NUL (and PostgreSQL refuses it)
        return None
    return db.scalar(select(CourseMode).where(CourseMode.course_key == str(course_key),
                                              CourseMode.mode_slug == mode_slug))


def list_modes(db, course_key):
    """Every mode of the course, expired ones too, in creation order (one query)."""
    return db.scalars(select(CourseMode).where(CourseMode.course_key == str(course_key))
                      .order_by(CourseMode.id)).all()


def create_mode(db, course_key, mode_slug, fields):
    """Add a mode (flushed). Raises :class:`InvalidMode` or :class:`DuplicateMode`;
    concurrent creations of one slug end with one row, the others get DuplicateMode."""
    mode = CourseMode(course_key=str(course_key), mode_slug=mode_slug,
                      mode_display_name=fields.get("mode_display_name") or mode_slug,
                      min_price=0, currency="usd", expiration_datetime_is_explicit=False)
    _apply(mode, fields, creating=True)
    try:
        with db.begin_nested():
            db.add(mode)
            db.flush()
    except IntegrityError:
        raise DuplicateMode(mode_slug)
    return mode


def update_mode(db, mode, fields):
    """Change ``mode`` (flushed); raises :class:`InvalidMode` (nothing is written then)."""
    before = {name: getattr(mode, name) for name in CHANGEABLE}
    try:
        _apply(mode, fields)
    except InvalidMode:
        for name, value in before.items():
            setattr(mode, name, value)
        raise
    db.flush()
    return mode


def delete_mode(db, mode):
    db.delete(mode)
    db.flush()


def mode_dict(mode):
    """The ``lms_course_modes`` dict of a row (upstream's ``Mode`` tuple)."""
    return {
        "slug": mode.mode_slug,
        "name": mode.mode_display_name,
        "min_price": mode.min_price,
        "currency": mode.currency,
        "sku": mode.sku,
        "android_sku": mode.android_sku,
        "ios_sku": mode.ios_sku,
        "bulk_sku": mode.bulk_sku,
        "expiration_datetime": mode.expiration_datetime,
        "description": mode.description,
    }


def modes_by_course(db, course_keys):
    """``{course key string: [mode dict]}`` for every key, expired modes included and
    the default mode for a course without any (``CourseMode.all_modes_for_courses``),
    in one query whatever the number of courses."""
    keys = list(dict.fromkeys(str(key) for key in course_keys))
    found = {key: [] for key in keys}
    if keys:
        for mode in db.scalars(select(CourseMode).where(CourseMode.course_key.in_(keys))
                               .order_by(CourseMode.course_key, CourseMode.id)):
            found[mode.course_key].append(mode_dict(mode))
    return {key: modes or [dict(DEFAULT_MODE)] for key, modes in found.items()}
