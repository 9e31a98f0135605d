"""Concurrent enrollments through the Python API (PostgreSQL only: SQLite serialises
every writer). Each thread has its own session and commits for real."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.testing import create_user
from plugins.enrollment import api
from plugins.enrollment.models import Enrollment, EnrollmentHistory

pytestmark = pytest.mark.commits

COURSE = "course-v1:edX+Race+2026"
CLIENTS = 50


@pytest.fixture
def pg_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("races need PostgreSQL's concurrent writers (set LMS_TEST_DATABASE_URL)")
    return engine


def run_together(engine, work):
    """Run ``work(session, position)`` in CLIENTS threads released at once; each
    thread commits its session. Returns what each returned or raised."""
    start = threading.Barrier(CLIENTS)
    results = [None] * CLIENTS

    def run(position):
        with Session(engine) as session:
            start.wait(timeout=30)
            try:
                results[position] = work(session, position)
                session.commit()
            except Exception as exc:  # reported to the test
                session.rollback()
                results[position] = exc

    threads = [threading.Thread(target=run, args=(position,)) for position in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_50_parallel_enrollments_of_one_user_end_with_one_active_row(pg_engine, db):
    alice = create_user(db, "alice", password=None)
    results = run_together(pg_engine, lambda session, _: api.enroll(session, alice.id,
                                                                    COURSE).id)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Enrollment)) == 1
    assert db.scalar(select(Enrollment.is_active)) is True
    assert db.scalar(select(func.count()).select_from(EnrollmentHistory)) == 1


def test_50_parallel_enrollments_into_10_seats_admit_exactly_10(pg_engine, db):
    users = [create_user(db, f"learner{i}", password=None) for i in range(CLIENTS)]
    results = run_together(pg_engine, lambda session, position: api.enroll(
        session, users[position].id, COURSE, max_students=10).id)
    unexpected = [r for r in results
                  if isinstance(r, Exception) and not isinstance(r, api.CourseFull)]
    assert not unexpected, unexpected
    assert sum(isinstance(r, api.CourseFull) for r in results) == CLIENTS - 10
    db.rollback()
    assert api.count_active(db, COURSE) == 10
