"""Benchmark a large course: OLX import time, then the course blocks API.

    python bench/bench_blocks.py [--database-url URL] [--blocks N] [--requests N]

Generates a synthetic course (bench/generate_course.py, 5,000 blocks by
default), times its import through the importer API (read + store + commit),
then measures in-process (webtest) the median and p95 latency of

    GET /api/courses/v1/blocks/?course_id=<key>&depth=all
        &requested_fields=children,graded,format,due

for an enrolled learner (``username=<self>``: access rules run) and for
course staff (``all_blocks=true``: no access filtering). The first request of
each kind is reported apart (it may build the per-version block tree).

SQLite (a temporary file) by default; with a PostgreSQL URL the database named
in it is dropped and recreated. Enrollment comes from a bench-only plugin
answering ``lms_get_enrollment`` (no enrollment plugin is needed).
"""
import argparse
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from urllib.parse import urlencode

import webtest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_course import generate

from lms import make_config, migrate
from lms.db import make_engine
from lms.hookspecs import hookimpl
from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.plugins import BUILTIN_PLUGINS, discover, select
from lms.testing import TEST_SETTINGS, jwt_headers, recreate_postgres_database
from lms.timeutil import utcnow
from lms.users import create_user

COURSE_KEY = "course-v1:Bench+Synthetic+2026"
ENROLLMENT_PLUGIN = "bench_blocks_enrollment"
ENROLLED = set()  # user ids the bench plugin reports as enrolled


def enrollment_plugin():
    """A plugin that says the benchmark learner is enrolled (audit) in any course."""
    module = types.ModuleType(ENROLLMENT_PLUGIN)
    module.name, module.version, module.requires = "benchenroll", "0", ()

    @hookimpl
    def lms_get_enrollment(dbsession, user_id, course_key):
        if user_id in ENROLLED:
            return {"mode": "audit", "is_active": True, "created": utcnow()}
        return None

    module.lms_get_enrollment = lms_get_enrollment
    sys.modules[ENROLLMENT_PLUGIN] = module
    return module


def build_app(url):
    if url.startswith("postgresql"):
        recreate_postgres_database(url)
    enrollment_plugin()
    installed = discover(builtins=BUILTIN_PLUGINS + (ENROLLMENT_PLUGIN,))
    engine = make_engine({"sqlalchemy.url": url})
    # Only what the benchmark needs: the courses plugin and the enrollment stand-in.
    plugins = {"lms.plugins": "courses benchenroll"}
    migrate.upgrade({"sqlalchemy.url": url}, installed, select(installed, plugins),
                    engine=engine)
    settings = dict(TEST_SETTINGS, **{"sqlalchemy.url": url}, **plugins)
    config = make_config(settings, installed=installed, engine=engine)
    app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    app.registry = config.registry
    return app, engine


def import_synthetic_course(app, blocks):
    from plugins.courses.importer import ImportLimits, import_course

    with tempfile.TemporaryDirectory(prefix="openlms-bench-course-") as folder:
        started = time.perf_counter()
        generate(folder, blocks, COURSE_KEY)
        generated = time.perf_counter()
        db = app.registry["lms.dbsession_factory"]()
        try:
            result = import_course(db, folder, limits=ImportLimits.from_settings(
                app.registry.settings))
            db.commit()
        finally:
            db.close()
        imported = time.perf_counter()
    return result.block_count, generated - started, imported - generated


def seed_users(app):
    db = app.registry["lms.dbsession_factory"]()
    learner = create_user(db, username="learner", email="learner@example.com",
                          password="bench-pass")
    staff = create_user(db, username="coursestaff", email="staff@example.com",
                        password="bench-pass")
    grant_role(db, staff, "staff", course_key=parse_course_key(COURSE_KEY))
    db.commit()
    ENROLLED.add(learner.id)
    return learner, staff


def measure(label, call, count):
    started = time.perf_counter()
    first = call()
    cold = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95 + 0.5) - 1)]
    returned = len(first.json["blocks"])
    print(f"| {label} | {returned} | {cold:.1f} | {statistics.median(timings):.1f} "
          f"| {p95:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--blocks", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + tempfile.mkdtemp() + "/bench.sqlite"
    app, engine = build_app(url)
    count, generate_s, import_s = import_synthetic_course(app, args.blocks)
    learner, staff = seed_users(app)
    print(f"database: {engine.dialect.name}; course of {count} blocks "
          f"(generated in {generate_s:.2f} s); import (read + store + commit): "
          f"{import_s:.2f} s; {args.requests} requests per scenario after the first")
    query = {"course_id": COURSE_KEY, "depth": "all",
             "requested_fields": "children,graded,format,due"}
    learner_url = "/api/courses/v1/blocks/?" + urlencode(dict(query, username="learner"))
    staff_url = "/api/courses/v1/blocks/?" + urlencode(dict(query, all_blocks="true"))
    learner_headers, staff_headers = jwt_headers(app, learner), jwt_headers(app, staff)
    print("| GET blocks/?depth=all | blocks returned | first ms | median ms | p95 ms |")
    print("|---|---|---|---|---|")
    measure("learner (username=self, enrolled)",
            lambda: app.get(learner_url, headers=learner_headers), args.requests)
    measure("course staff (all_blocks=true)",
            lambda: app.get(staff_url, headers=staff_headers), args.requests)
    engine.dispose()


if __name__ == "__main__":
    main()
