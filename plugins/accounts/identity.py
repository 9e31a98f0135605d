"""Identity verification records (upstream ``verify_student``) and ``lms record-verification``.

openlms runs no photo-verification service: attempts are recorded by staff with
``lms record-verification`` (a manual or SSO verification, as upstream's
``ManualVerification`` admin and SSO pipeline create them). The verification
endpoints read them with upstream's ``IDVerificationService.user_status`` rules.
"""
from datetime import datetime, timedelta, timezone

import click
from sqlalchemy import select

from lms.cli import pass_environment
from lms.settings import as_int
from lms.timeutil import aware, isoformat, utcnow
from plugins.accounts.models import VerificationAttempt

PHOTO = "SoftwareSecurePhotoVerification"
SSO = "SSOVerification"
MANUAL = "ManualVerification"
TYPE_LABELS = {PHOTO: "Software Secure", SSO: "SSO", MANUAL: "Manual"}
KINDS = {"manual": MANUAL, "sso": SSO}
STATUSES = ("created", "ready", "submitted", "must_retry", "approved", "denied")
PENDING_STATUSES = ("submitted", "approved", "must_retry")

SETTINGS = {
    # VERIFY_STUDENT["DAYS_GOOD_FOR"] and ["EXPIRING_SOON_WINDOW"].
    "accounts.verification_days_good_for": "365",
    "accounts.verification_expiring_soon_days": "28",
}


def days_good_for(settings):
    return as_int(settings, "accounts.verification_days_good_for")


def expiration(row, good_for_days):
    """The attempt's expiry: as recorded, else ``DAYS_GOOD_FOR`` after its creation."""
    if row.expiration_datetime is not None:
        return aware(row.expiration_datetime)
    return aware(row.created) + timedelta(days=good_for_days)


def attempts_for_user(db, user_id):
    """Every attempt of the user, most recently updated first."""
    return list(db.scalars(select(VerificationAttempt)
                           .where(VerificationAttempt.user_id == user_id)
                           .order_by(VerificationAttempt.updated.desc(),
                                     VerificationAttempt.id.desc())))


def _shown_to_user(row):
    # Only photo verifications are shown to learners (should_display_status_to_user).
    return row.verification_type == PHOTO


def user_status(attempts, settings, now=None):
    """``IDVerificationService.user_status``: ``{"status", "verification_expiry"}``.

    ``status`` is none, approved, pending, must_reverify or expired;
    ``verification_expiry`` is ``MM/DD/YYYY`` when an approval expires soon, else "".
    """
    now = now or utcnow()
    good_for = days_good_for(settings)
    result = {"status": "none", "verification_expiry": ""}
    if not attempts:
        return result
    attempt = max(attempts, key=lambda row: (aware(row.created), row.id))
    for row in attempts:
        # The latest unexpired approval wins over anything more recent.
        if row.status == "approved" and expiration(row, good_for) > now:
            if attempt.status != "approved" or expiration(attempt, good_for) < expiration(
                    row, good_for):
                attempt = row
    expires = expiration(attempt, good_for)
    if attempt.status == "approved" and expires < now:
        if _shown_to_user(attempt):
            result["status"] = "expired"
        return result
    if attempt.status == "denied":
        result["status"] = "must_reverify"
    elif attempt.status == "approved":
        result["status"] = "approved"
        window = as_int(settings, "accounts.verification_expiring_soon_days")
        if (expires - now).days <= window:
            result["verification_expiry"] = expires.date().strftime("%m/%d/%Y")
    elif attempt.status in PENDING_STATUSES:
        result["status"] = "pending"
    return result


def serialize_attempt(row, settings):
    """``IDVerificationDetailsSerializer``."""
    if row.verification_type == PHOTO:
        message = row.error_msg or ""
    elif row.verification_type == MANUAL:
        message = row.reason or ""
    else:
        message = ""
    return {
        "type": TYPE_LABELS.get(row.verification_type, "SSO"),
        "status": row.status,
        "expiration_datetime": isoformat(expiration(row, days_good_for(settings))),
        "message": message,
        "updated_at": isoformat(aware(row.updated)),
        # Receipts belong to photo verifications, which openlms does not submit.
        "receipt_id": None,
    }


def record_verification(db, settings, user, status, kind=MANUAL, name=None, reason="",
                        expires=None):
    """Record an attempt as staff would; an approval expires ``DAYS_GOOD_FOR`` from now."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    now = utcnow()
    if expires is None and status == "approved":
        expires = now + timedelta(days=days_good_for(settings))
    row = VerificationAttempt(
        user_id=user.id, verification_type=kind, status=status,
        name=user.name if name is None else name, reason=reason or "", error_msg="",
        expiration_datetime=expires, created=now, updated=now,
    )
    db.add(row)
    db.flush()
    return row


def parse_expiry(value):
    """``YYYY-MM-DD`` or an ISO 8601 datetime (naive means UTC)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD or an ISO 8601 date and time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


@click.command("record-verification")
@click.argument("username")
@click.option("--status", required=True, type=click.Choice(STATUSES),
              help="The attempt's status (approved: the identity is verified).")
@click.option("--type", "kind", type=click.Choice(sorted(KINDS)), default="manual",
              show_default=True, help="A manual (staff) or SSO verification.")
@click.option("--name", help="The verified name [default: the account's full name].")
@click.option("--reason", default="", help="Why (shown as the message of manual attempts).")
@click.option("--expires", help="Expiry, YYYY-MM-DD or ISO 8601 "
                                "[default for approvals: now + DAYS_GOOD_FOR].")
@pass_environment
def record_verification_command(environment, username, status, kind, name, reason, expires):
    """Record an identity verification attempt for USERNAME."""
    from lms.cli import find_user

    expiry = parse_expiry(expires) if expires else None
    with environment.session() as db:
        user = find_user(db, username)
        row = record_verification(db, environment.settings, user, status, KINDS[kind],
                                  name=name, reason=reason, expires=expiry)
        good_for = days_good_for(environment.settings)
        message = (f"recorded {kind} verification {row.id} for {username!r}: {status}, "
                   f"expires {isoformat(expiration(row, good_for))}")
    click.echo(message)


COMMANDS = [record_verification_command]
