"""Upgrade ("upsell") rules of REV-934 and userMetadata, on the hooks' dicts.

Courses and enrollments belong to other plugins; they reach us through the
``lms_get_course`` and ``lms_get_enrollment`` hooks (see :mod:`lms.hookspecs`).
The rules are upstream's ``CourseMode``, ``EcommerceService`` and
``can_show_verified_upgrade``.
"""
from dataclasses import dataclass
from datetime import timezone
from urllib.parse import urlencode, urljoin

from lms.settings import as_bool
from lms.timeutil import aware

REGISTRY_KEY = "experiments.upsell_config"
# Modes a learner can upgrade from (CourseMode.UPSELL_TO_VERIFIED_MODES).
UPSELL_TO_VERIFIED_MODES = ("audit", "honor")
# Without ecommerce checkout, upstream sends learners to their dashboard.
DASHBOARD_URL = "/dashboard"


@dataclass(frozen=True)
class UpsellConfig:
    mobile_upsell_rev934: bool
    basket_url: str  # "" when checkout on the ecommerce service is off
    currency: str
    currency_symbol: str

    @classmethod
    def from_settings(cls, settings):
        root = settings["experiments.ecommerce_public_url_root"].strip()
        page = settings["experiments.basket_checkout_page"].strip()
        return cls(
            mobile_upsell_rev934=as_bool(settings, "experiments.mobile_upsell_rev934"),
            basket_url=urljoin(root, page) if root else "",
            currency=settings["experiments.currency"].strip().lower(),
            currency_symbol=settings["experiments.currency_symbol"].strip(),
        )


def get_course(request, course_key):
    return request.registry["lms.plugin_manager"].hook.lms_get_course(
        dbsession=request.dbsession, course_key=course_key)


def get_enrollment(request, user_id, course_key):
    return request.registry["lms.plugin_manager"].hook.lms_get_enrollment(
        dbsession=request.dbsession, user_id=user_id, course_key=course_key)


def has_non_audit_enrollments(request, user_id):
    answers = request.registry["lms.plugin_manager"].hook.lms_has_non_audit_enrollments(
        dbsession=request.dbsession, user_id=user_id)
    return any(answers)


def is_running(course, now):
    start, end = aware(course.get("start")), aware(course.get("end"))
    return start is not None and start <= now and (end is None or end > now)


def _unexpired_modes(course, now):
    for mode in course.get("modes") or ():
        expires = aware(mode.get("expiration_datetime"))
        if expires is None or expires > now:
            yield mode


def verified_mode(course, now):
    """The unexpired seat to upgrade to; professional wins over verified."""
    by_slug = {mode["slug"]: mode for mode in _unexpired_modes(course, now)}
    return by_slug.get("professional") or by_slug.get("verified")


def upgrade_url(config, user, course, now):
    """Where to buy the verified seat, or None (``EcommerceService.upgrade_url``).

    ``user`` is None for API-key callers; upstream lets anonymous callers through.
    """
    mode = verified_mode(course, now)
    if mode is None:
        return None
    if config.basket_url and (user is None or user.is_active):
        return config.basket_url + "?" + urlencode({"sku": mode.get("sku")})
    return DASHBOARD_URL


def upgrade_price(config, course, now):
    """``get_cosmetic_verified_display_price``: "$10", or "Free"."""
    price = next((mode["min_price"] for mode in _unexpired_modes(course, now)
                  if mode["slug"] == "verified"
                  and mode.get("currency", "").lower() == config.currency), 0)
    if not price:
        price = course.get("cosmetic_display_price") or 0
    return f"{config.currency_symbol}{price}" if price else "Free"


def can_show_verified_upgrade(enrollment, now):
    """May this enrollment still be upgraded? (upstream ``can_show_verified_upgrade``)."""
    if enrollment is None or enrollment["mode"] not in UPSELL_TO_VERIFIED_MODES:
        return False
    deadline = aware(enrollment.get("upgrade_deadline"))
    if deadline is None or now.date() > deadline.astimezone(timezone.utc).date():
        return False
    return bool(enrollment["is_active"])


def verified_mode_expiration(course, now):
    """``CourseEnrollment.course_upgrade_deadline``."""
    mode = verified_mode(course, now)
    return None if mode is None else aware(mode.get("expiration_datetime"))
