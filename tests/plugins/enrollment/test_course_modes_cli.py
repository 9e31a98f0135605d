"""``lms course-modes list|set|delete``, through click against a database of their own."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.db import make_engine
from plugins.courses.api import store_course
from plugins.enrollment.models import CourseMode

COURSE = "course-v1:edX+CLI+2026"


@pytest.fixture
def database(run_cli, cli_database_url):
    """The migrated CLI database holding one course; yields a session factory."""
    result = run_cli("migrate")
    assert result.exit_code == 0, result.output
    engine = make_engine({"sqlalchemy.url": cli_database_url})
    with Session(engine) as db:
        store_course(db, COURSE, {"display_name": "CLI course"},
                     [{"usage_key": "block-v1:edX+CLI+2026+type@course+block@course",
                       "block_type": "course", "block_id": "course", "children": []}])
        db.commit()

    def modes():
        with Session(engine) as db:
            return {mode.mode_slug: mode for mode in db.scalars(
                select(CourseMode).where(CourseMode.course_key == COURSE))}

    yield modes
    engine.dispose()


def test_set_list_change_and_delete(run_cli, database):
    result = run_cli("course-modes", "list", COURSE)
    assert result.exit_code == 0, result.output
    assert result.output == f"{COURSE}: no modes (learners get the default mode, audit)\n"

    result = run_cli("course-modes", "set", COURSE, "verified", "--price", "49",
                     "--currency", "EUR", "--expires", "2031-01-01T12:30:00Z", "--sku", "S-1",
                     "--android-sku", "org.example.verified", "--ios-sku", "ios.verified")
    assert result.exit_code == 0, result.output
    assert result.output == f"added mode 'verified' of {COURSE}\n"
    mode = database()["verified"]
    assert (mode.mode_display_name, mode.min_price, mode.currency, mode.sku, mode.android_sku,
            mode.ios_sku, mode.expiration_datetime_is_explicit) == (
        "Verified", 49, "eur", "S-1", "org.example.verified", "ios.verified", True)
    assert mode.expiration_datetime.replace(tzinfo=timezone.utc) == datetime(
        2031, 1, 1, 12, 30, tzinfo=timezone.utc)

    run_cli("course-modes", "set", COURSE, "audit")
    result = run_cli("course-modes", "list", COURSE)
    assert result.output.splitlines() == [
        "SLUG      NAME      PRICE  CURRENCY  EXPIRES               SKU  ANDROID_SKU"
        "           IOS_SKU       BULK_SKU",
        "verified  Verified  49     eur       2031-01-01T12:30:00Z  S-1  org.example.verified"
        "  ios.verified  -",
        "audit     Audit     0      usd       -                     -    -"
        "                     -             -",
    ]

    result = run_cli("course-modes", "set", COURSE, "verified", "--price", "60",
                     "--expires", "never", "--sku", "")
    assert result.output == f"changed mode 'verified' of {COURSE}\n"
    mode = database()["verified"]
    assert (mode.min_price, mode.expiration_datetime, mode.sku, mode.android_sku) == (
        60, None, None, "org.example.verified")

    result = run_cli("course-modes", "delete", COURSE, "audit")
    assert result.exit_code == 0 and result.output == f"deleted mode 'audit' of {COURSE}\n"
    assert set(database()) == {"verified"}


OPERATOR_ERRORS = [
    (("set", "not-a-key", "audit"), "Error: 'not-a-key' is not a valid course key\n"),
    (("set", "course-v1:No+Such+Course", "audit"), "Error: no course course-v1:No+Such+Course\n"),
    (("set", COURSE, "verified", "--price", "0"),
     "Error: The Verified course mode has a minimum price of 1. You must set a price greater "
     "than or equal to 1.\n"),
    (("set", COURSE, "professional", "--price", "10", "--expires", "2031-01-01T00:00"),
     "Error: Professional education modes are not allowed to have expiration_datetime set.\n"),
    (("delete", COURSE, "honor"), f"Error: {COURSE} has no mode 'honor'\n"),
    (("list", "junk"), "Error: 'junk' is not a valid course key\n"),
]
BAD_OPTIONS = [("--price", "-3"), ("--price", "ten"), ("--expires", "soon"),
               ("--currency", "toolongcode")]


def test_errors_change_nothing(run_cli, database):
    # One database for every case: each migration of a fresh one costs seconds.
    for args, message in OPERATOR_ERRORS:
        result = run_cli("course-modes", *args)
        assert (result.exit_code, result.output) == (1, message), args
    for args in BAD_OPTIONS:
        result = run_cli("course-modes", "set", COURSE, "audit", *args)
        assert result.exit_code == 2, args  # click's usage error
    assert database() == {}
