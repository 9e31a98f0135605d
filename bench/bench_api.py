"""Benchmark core paths of openlms in-process (no network): latency per request.

    python bench/bench_api.py [--database-url URL] [--requests N]

SQLite (a temporary file) by default; pass a PostgreSQL URL to measure there
(the database is dropped and recreated). Prints median and p95 per scenario.
"""
import argparse
import statistics
import tempfile
import time

import webtest

from lms import make_config, migrate
from lms.db import make_engine
from lms.oauth import create_application
from lms.plugins import discover, select
from lms.testing import TEST_SETTINGS, recreate_postgres_database, jwt_headers
from lms.users import create_user

ROWS = 1000


def build_app(url):
    if url.startswith("postgresql"):
        recreate_postgres_database(url)
    engine = make_engine({"sqlalchemy.url": url})
    installed = discover()
    migrate.upgrade({"sqlalchemy.url": url}, installed,
                    select(installed, {"lms.plugins": ""}), engine=engine)
    settings = dict(TEST_SETTINGS, **{"sqlalchemy.url": url})
    config = make_config(settings, engine=engine)
    app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    app.registry = config.registry
    return app, engine


def seed(app):
    from plugins.experiments.models import ExperimentData

    db = app.registry["lms.dbsession_factory"]()
    user = create_user(db, username="bench", email="bench@example.com", password="bench-pass")
    db.add_all(ExperimentData(user_id=user.id, experiment_id=i % 50, key=f"key-{i}",
                              value="v" * 40) for i in range(ROWS))
    _, secret = create_application(db, name="bench", user=user,
                                   grant_type="client-credentials", client_id="bench-client")
    db.commit()
    return user, secret


def measure(label, call, count):
    call()  # warm up caches and connections
    timings = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"| {label} | {count} | {statistics.median(timings):.2f} | {p95:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    url = args.database_url or "sqlite:///" + tempfile.mkdtemp() + "/bench.sqlite"
    app, engine = build_app(url)
    user, secret = seed(app)
    headers = jwt_headers(app, user)
    n = args.requests
    print(f"database: {engine.dialect.name}, {ROWS} experiment rows, {n} requests each")
    print("| scenario | requests | median ms | p95 ms |")
    print("|---|---|---|---|")
    measure("GET data/?page_size=100 (JWT)",
            lambda i=0: app.get("/api/experiments/v0/data/?page_size=100", headers=headers), n)
    measure("GET data/?page=50 (JWT, page of 10)",
            lambda i=0: app.get("/api/experiments/v0/data/?page=50", headers=headers), n)
    measure("PUT data/ upsert (JWT)",
            lambda i=0: app.put_json("/api/experiments/v0/data/",
                                     {"experiment_id": 7, "key": f"k{i % 20}", "value": "x"},
                                     headers=headers), n)
    measure("GET key-value/ (anonymous)",
            lambda i=0: app.get("/api/experiments/v0/key-value/"), n)
    measure("POST /oauth2/access_token (client credentials, JWT)",
            lambda i=0: app.post("/oauth2/access_token", {
                "grant_type": "client_credentials", "client_id": "bench-client",
                "client_secret": secret, "token_type": "jwt"}), n)
    engine.dispose()


if __name__ == "__main__":
    main()
