"""Datetimes: stored naive-free in UTC, rendered ISO 8601 with a trailing Z."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)


def isoformat(value):
    """ISO 8601 in UTC with ``Z``; microseconds only when present; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    text = value.replace(tzinfo=None).isoformat()
    return text + "Z"


def aware(value):
    """SQLite returns naive datetimes; treat them as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
