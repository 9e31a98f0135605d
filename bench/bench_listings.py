"""Benchmark the server-to-server user listings at scale: page 1 against a middle page.

    python bench/bench_listings.py [--database-url URL] [--users N] [--requests N]

SQLite (a temporary file) by default; pass a PostgreSQL URL to measure there
(the database is dropped and recreated). Every user gets a ``time_zone``
preference and every other user a ``pref-lang`` one, inserted in bulk by SQL.
Prints median and p95 per scenario, and the queries of one request of each.
"""
import argparse
import statistics
import tempfile
import time

import webtest
from sqlalchemy import text

from lms import make_config, migrate
from lms.db import make_engine
from lms.plugins import discover, select
from lms.testing import TEST_SETTINGS, count_queries, recreate_postgres_database

API_KEY = "bench-api-key"
HEADERS = {"X-Edx-Api-Key": API_KEY}


def build_app(url, reuse=False, settings=()):
    if url.startswith("postgresql") and not reuse:
        recreate_postgres_database(url)
    engine = make_engine({"sqlalchemy.url": url})
    if not reuse:
        installed = discover()
        migrate.upgrade({"sqlalchemy.url": url}, installed,
                        select(installed, {"lms.plugins": ""}), engine=engine)
    settings = dict(TEST_SETTINGS, **{"sqlalchemy.url": url, "lms.edx_api_key": API_KEY},
                    **dict(settings))
    config = make_config(settings, engine=engine)
    app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    return app, engine


def seed(engine, users):
    postgres = engine.dialect.name == "postgresql"
    numbers = ("SELECT g AS n FROM generate_series(1, :users) AS g" if postgres else
               "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :users) "
               "SELECT n FROM g")
    anonymous_id = "md5(n::text)" if postgres else "printf('%032x', n)"
    now = "now()" if postgres else "datetime('now')"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO lms_user (id, username, email, name, password, is_active, is_staff, "
            "is_superuser, date_joined, anonymous_id) "
            f"SELECT n, 'user' || n, 'user' || n || '@example.com', 'User ' || n, '!', "
            f"true, false, false, {now}, {anonymous_id} FROM ({numbers}) AS numbers"),
            {"users": users})
        conn.execute(text(
            "INSERT INTO accounts_preference (user_id, key, value) "
            f"SELECT n, 'time_zone', 'Europe/Paris' FROM ({numbers}) AS numbers"),
            {"users": users})
        conn.execute(text(
            "INSERT INTO accounts_preference (user_id, key, value) "
            f"SELECT n, 'pref-lang', 'en' FROM ({numbers}) AS numbers WHERE n % 2 = 0"),
            {"users": users})
        if postgres:
            conn.execute(text("SELECT setval('lms_user_id_seq', :users)"), {"users": users})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def measure(label, app, engine, url, count):
    app.get(url, headers=HEADERS)  # warm up caches and connections
    with count_queries(engine) as queries:
        app.get(url, headers=HEADERS)
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        app.get(url, headers=HEADERS)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"| {label} | {len(queries)} | {statistics.median(timings):.1f} | {p95:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database of an earlier run (same --users) again")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting of the app, e.g. pagination.count_estimate_threshold=0")
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + tempfile.mkdtemp() + "/bench.sqlite"
    app, engine = build_app(url, args.reuse, (item.split("=", 1) for item in args.set))
    started = time.perf_counter()
    if not args.reuse:
        seed(engine, args.users)
    print(f"database: {engine.dialect.name}, {args.users} users, "
          f"seeded in {time.perf_counter() - started:.1f} s, {args.requests} requests each")
    middle_users = args.users // 20  # pages of 10
    middle_prefs = args.users * 3 // 40
    print("| scenario | queries | median ms | p95 ms |")
    print("|---|---|---|---|")
    for label, path in (
        ("users/ page 1", "/api/user/v1/users/"),
        ("users/ middle page", f"/api/user/v1/users/?page={middle_users}"),
        ("user_prefs/ page 1", "/api/user/v1/user_prefs/"),
        ("user_prefs/ middle page", f"/api/user/v1/user_prefs/?page={middle_prefs}"),
        ("user_prefs/?key=pref-lang middle page",
         f"/api/user/v1/user_prefs/?key=pref-lang&page={args.users // 40}"),
        ("preferences/time_zone/users/ page 1", "/api/user/v1/preferences/time_zone/users/"),
        ("preferences/time_zone/users/ middle page",
         f"/api/user/v1/preferences/time_zone/users/?page={middle_users}"),
    ):
        measure(label, app, engine, path, args.requests)
    engine.dispose()


if __name__ == "__main__":
    main()
