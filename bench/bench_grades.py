"""Benchmark the grades plugin on a large course: course_home progress, the grades
lists, and a course-wide recompute.

    python bench/bench_grades.py [--database-url URL] [--blocks N] [--learners N]
                                 [--scores N] [--requests N]

Builds the benchmark dataset (``bench_dataset.Dataset``, the ``large`` size's
synthetic course of 5,000 blocks by default) with ``--learners`` users (10,000),
enrolls each in the synthetic course and gives each ``--scores`` problem scores
(25) drawn at random, bulk inserted; the benchmark learner has a score on every
problem. Then, in-process (webtest), the median and p95 latency and the SQL
statements of

- ``GET /api/course_home/progress/{course}`` for the benchmark learner (the grade
  computed and stored on every call, as the view does);
- ``GET /api/grades/v1/courses/{course}/`` (page 1, 50 learners, stored grades) and
  ``GET /api/grades/v1/gradebook/{course}/`` (page 1, 50 learners) as global staff;

and the wall time of a course-wide recompute job (``start_recompute`` then
``run_recompute`` in this process, batches of ``grades.recompute_batch_size``): every
learner's grades computed and stored, learners per second.

SQLite (a temporary file) by default; with a PostgreSQL URL the database named in it
(``openlms_bench...``) is dropped and recreated.
"""
import argparse
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import webtest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_dataset import Dataset  # noqa: E402

from lms import make_config, migrate  # noqa: E402
from lms.db import make_engine  # noqa: E402
from lms.plugins import discover, select as select_plugins  # noqa: E402
from lms.testing import (TEST_SETTINGS, count_queries, jwt_headers,  # noqa: E402
                         recreate_postgres_database)

PLUGINS = "courses accounts enrollment grades"


def build_app(url, blocks):
    if url.startswith("postgresql"):
        recreate_postgres_database(url)
    installed = discover()
    settings = dict(TEST_SETTINGS, **{"sqlalchemy.url": url, "lms.plugins": PLUGINS,
                                      "grades.writable_gradebook": "true",
                                      # every refresh in the request, whatever the size
                                      "grades.sync_refresh_max_blocks": str(blocks + 1)})
    engine = make_engine(settings)
    migrate.upgrade(settings, installed, select_plugins(installed, settings), engine=engine)
    config = make_config(settings, installed=installed, engine=engine)
    app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    app.registry = config.registry
    return app, engine


def populate(app, engine, learners, scores_each, seed):
    """The dataset, then every user enrolled in the synthetic course with scores."""
    from plugins.courses import api as courses_api
    from plugins.courses.bench import BENCH_COURSE
    from plugins.enrollment.models import Enrollment
    from plugins.grades.models import Score

    dataset = Dataset(app.registry, engine, "large", seed)
    dataset.grow(learners)
    db = app.registry["lms.dbsession_factory"]()
    try:
        course = courses_api.get_course(db, BENCH_COURSE)
        structure = courses_api.get_structure(app.registry, db, course)
        problems = sorted(key for key, node in structure.blocks.items()
                          if node.block_type == "problem")
        dataset.dbsession, rng = db, dataset.rng
        enrolled = set(db.scalars(select(Enrollment.user_id).where(
            Enrollment.course_key == BENCH_COURSE)))
        first_id = (db.scalar(select(func.max(Enrollment.id))) or 0) + 1
        user_ids = range(dataset.learner_id, dataset.learner_id + learners)
        dataset.insert(Enrollment, ("id", "user_id", "course_key", "mode", "is_active",
                                    "created"),
                       ((first_id + n, user_id, BENCH_COURSE, "audit", True, dataset.now)
                        for n, user_id in enumerate(u for u in user_ids if u not in enrolled)))

        def score_rows():
            for user_id in user_ids:
                chosen = problems if user_id == dataset.learner_id else rng.sample(
                    problems, min(scores_each, len(problems)))
                for usage_key in chosen:
                    earned = float(rng.random() < 0.7)
                    yield (user_id, BENCH_COURSE, usage_key, earned, 1.0, dataset.now, "bench",
                           dataset.now)

        dataset.insert(Score, ("user_id", "course_key", "usage_key", "earned", "possible",
                               "first_attempted", "source", "modified"), score_rows())
        db.commit()
        if dataset.postgres:
            from sqlalchemy import text

            db.execute(text("SELECT setval(pg_get_serial_sequence('enrollment_enrollment', "
                            "'id'), (SELECT max(id) FROM enrollment_enrollment))"))
            db.commit()
        from lms.models import User

        learner = db.get(User, dataset.learner_id)
        staff = db.get(User, dataset.staff_id)
        db.expunge_all()
        return course, structure, problems, learner, staff
    finally:
        db.close()


def measure(label, engine, call, count):
    started = time.perf_counter()
    call()
    cold = (time.perf_counter() - started) * 1000
    with count_queries(engine) as statements:
        call()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95 + 0.5) - 1)]
    print(f"| {label} | {cold:.1f} | {statistics.median(timings):.1f} | {p95:.1f} "
          f"| {len(statements)} |")


def recompute(app, course_key):
    from plugins.grades import course_grades

    factory = app.registry["lms.dbsession_factory"]

    @contextmanager
    def session():
        db = factory()
        try:
            yield db
            db.commit()
        except Exception:
            db.rollback()
            raise
        finally:
            db.close()

    batch = int(app.registry.settings.get("grades.recompute_batch_size", 200))
    started = time.perf_counter()
    # Celery runs eagerly here: the job runs when the session that queues it commits.
    with session() as db:
        job_id = course_grades.start_recompute(db, course_key, reason="bench").id
    course_grades.run_recompute(app.registry, session, job_id, batch_size=batch)
    seconds = time.perf_counter() - started
    from plugins.grades.models import RecomputeJob

    with session() as db:
        job = db.get(RecomputeJob, job_id)
        assert (job.status, job.done) == ("succeeded", job.total), (job.status, job.done)
    return seconds, batch


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--blocks", type=int, default=5000,
                        help="blocks of the synthetic course (the dataset's large size)")
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--scores", type=int, default=25, help="problem scores per learner")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from plugins.courses import bench as courses_bench

    courses_bench.BLOCKS["large"] = args.blocks
    url = args.database_url or "sqlite:///" + tempfile.mkdtemp() + "/bench.sqlite"
    app, engine = build_app(url, args.blocks)
    started = time.perf_counter()
    course, structure, problems, learner, staff = populate(app, engine, args.learners,
                                                           args.scores, args.seed)
    print(f"database: {engine.dialect.name}; course of {len(structure.blocks)} blocks "
          f"({len(problems)} problems); {args.learners:,} learners enrolled with "
          f"{args.scores} scores each (the benchmark learner: all {len(problems)}); "
          f"dataset built in {time.perf_counter() - started:.1f} s")
    seconds, batch = recompute(app, course.course_key)
    print(f"course-wide recompute of {args.learners:,} learners (batches of {batch}): "
          f"{seconds:.1f} s, {args.learners / seconds:.0f} learners/s")
    key = quote(course.course_key)
    as_learner, as_staff = jwt_headers(app, learner), jwt_headers(app, staff)
    print(f"\n{args.requests} requests per row after the first; SQL statements of one "
          "warm request")
    print("| request | first ms | median ms | p95 ms | SQL |")
    print("|---|---|---|---|---|")
    measure("course_home progress (the learner)", engine,
            lambda: app.get(f"/api/course_home/progress/{key}", headers=as_learner),
            args.requests)
    measure("grades/v1/courses/{course}/ (50 learners)", engine,
            lambda: app.get(f"/api/grades/v1/courses/{key}/", headers=as_staff),
            args.requests)
    measure("gradebook/{course}/ (50 learners)", engine,
            lambda: app.get(f"/api/grades/v1/gradebook/{key}/", headers=as_staff),
            args.requests)
    engine.dispose()


if __name__ == "__main__":
    main()
