"""Benchmark the discussion plugin on a large course: thread lists, text search, a
thread's responses.

    python bench/bench_discussion.py [--database-url URL] [--threads N] [--comments N]
                                     [--users N] [--requests N]

Builds a course with 20 course-wide topics, ``--users`` enrolled learners (2,000),
``--threads`` threads (100,000) spread over the topics and the learners, and
``--comments`` comments (1,000,000): every thread gets responses and replies in turn,
the counters the lists read kept right. Rows are bulk inserted (``generate_series`` on
PostgreSQL). Then, in-process (webtest), the median and p95 latency and the SQL
statements of, as a learner:

- ``GET threads/?course_id=`` page 1 and page 200 (10 a page, pinned first, by activity);
- the same for one topic, and ordered by ``vote_count``;
- ``GET threads/?course_id=&text_search=`` for a rare and a common word (PostgreSQL's
  full-text search over the GIN index; a word match on SQLite);
- ``GET comments/?thread_id=`` (a thread's responses, 10 a page) and the thread itself.

SQLite (a temporary file) by default; with a PostgreSQL URL the database named in it
(``openlms_bench...``) is dropped and recreated.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import webtest
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lms import make_config, migrate  # noqa: E402
from lms.db import make_engine  # noqa: E402
from lms.plugins import discover, select as select_plugins  # noqa: E402
from lms.testing import (TEST_SETTINGS, count_queries, jwt_headers,  # noqa: E402
                         recreate_postgres_database)

PLUGINS = "courses accounts enrollment discussion"
COURSE = "course-v1:BenchX+Forum+2026"
TOPICS = 20
WORDS = ("photosynthesis", "mitochondria", "enzyme", "protein", "membrane", "osmosis",
         "ribosome", "nucleus", "chlorophyll", "glucose")
RARE_WORD = "xylophone"  # in one thread in 10,000


def build_app(url):
    if url.startswith("postgresql"):
        recreate_postgres_database(url)
    installed = discover()
    settings = dict(TEST_SETTINGS, **{"sqlalchemy.url": url, "lms.plugins": PLUGINS})
    engine = make_engine(settings)
    migrate.upgrade(settings, installed, select_plugins(installed, settings), engine=engine)
    config = make_config(settings, installed=installed, engine=engine)
    app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    app.registry = config.registry
    return app, engine


def make_course_and_users(app, users):
    from lms.models import User
    from plugins.courses import api as courses_api
    from plugins.enrollment.models import Enrollment

    db = app.registry["lms.dbsession_factory"]()
    topics = {f"Topic {n}": {"id": f"topic-{n}"} for n in range(TOPICS)}
    root = "block-v1:BenchX+Forum+2026+type@course+block@course"
    courses_api.store_course(db, COURSE, {"display_name": "Forum bench",
                                          "start": "2020-01-01T00:00:00+00:00",
                                          "settings": {"discussion_topics": topics}},
                             [{"usage_key": root, "block_type": "course", "block_id": "course",
                               "display_name": "Forum bench", "children": [], "fields": {},
                               "data": {}}])
    db.commit()
    db.execute(insert(User), [{"username": f"bench{n}", "email": f"bench{n}@example.com",
                               "name": f"Bench {n}", "password": "!",
                               "anonymous_id": f"{n:032x}"} for n in range(users)])
    ids = [row[0] for row in db.execute(text(
        "SELECT id FROM lms_user WHERE username LIKE 'bench%' ORDER BY id"))]
    db.execute(insert(Enrollment), [{"user_id": user_id, "course_key": COURSE, "mode": "audit",
                                     "is_active": True} for user_id in ids])
    db.commit()
    learner = db.get(User, ids[0])
    db.expunge(learner)
    db.close()
    return ids, learner


def title_of(number):
    word = RARE_WORD if number % 10_000 == 7 else WORDS[number % len(WORDS)]
    return f"Question {number} about {word}"


def populate_postgresql(engine, user_ids, threads, comments):
    first, count = user_ids[0], len(user_ids)
    per_thread = max(1, comments // threads)
    with engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO discussion_thread (content_id, course_key, topic_id, thread_type,
                title, body, author_id, anonymous, anonymous_to_peers, pinned, closed,
                comment_count, response_count, vote_count, endorsed, created_at, updated_at,
                last_activity_at)
            SELECT lpad(to_hex(n), 24, '0'), :course, 'topic-' || (n % {TOPICS}),
                CASE WHEN n % 3 = 0 THEN 'question' ELSE 'discussion' END,
                'Question ' || n || ' about ' || CASE WHEN n % 10000 = 7 THEN '{RARE_WORD}'
                    ELSE (ARRAY{list(WORDS)!r})[1 + n % {len(WORDS)}] END,
                'Body of thread ' || n || ', with **Markdown** and a few words more.',
                {first} + (n % {count}), false, false, n % 5000 = 0, false,
                {per_thread}, {(per_thread + 1) // 2}, n % 7, false,
                now() - make_interval(secs => {threads} - n),
                now() - make_interval(secs => {threads} - n),
                now() - make_interval(secs => {threads} - n)
            FROM generate_series(1, :threads) AS n""").bindparams(
            course=COURSE, threads=threads))
        # responses first (parent null), then replies to the thread's first response
        conn.execute(text(f"""
            INSERT INTO discussion_comment (content_id, thread_id, parent_id, depth,
                course_key, body, author_id, anonymous, anonymous_to_peers, endorsed,
                vote_count, child_count, created_at, updated_at)
            SELECT lpad(to_hex(1000000000 + n), 24, '0'),
                t.id, NULL, 0, :course, 'Response ' || n, {first} + (n % {count}),
                false, false, false, 0, 0, t.created_at + make_interval(secs => n % 997),
                t.created_at + make_interval(secs => n % 997)
            FROM generate_series(0, :responses - 1) AS n
            JOIN discussion_thread t ON t.content_id = lpad(to_hex(1 + n % :threads), 24, '0')
            """).bindparams(course=COURSE, responses=(comments + 1) // 2, threads=threads))
        conn.execute(text(f"""
            INSERT INTO discussion_comment (content_id, thread_id, parent_id, depth,
                course_key, body, author_id, anonymous, anonymous_to_peers, endorsed,
                vote_count, child_count, created_at, updated_at)
            SELECT lpad(to_hex(2000000000 + n), 24, '0'), r.thread_id, r.id, 1, :course,
                'Reply ' || n, {first} + ((n + 1) % {count}), false, false, false, 0, 0,
                r.created_at + interval '1 minute', r.created_at + interval '1 minute'
            FROM generate_series(0, :replies - 1) AS n
            JOIN discussion_comment r ON r.content_id = lpad(to_hex(1000000000 + n % :threads),
                                                            24, '0')""").bindparams(
            course=COURSE, replies=comments // 2, threads=threads))
        conn.execute(text("ANALYZE"))


def populate_generic(engine, user_ids, threads, comments):
    """Chunked inserts (SQLite): the same shape as the PostgreSQL statements."""
    from datetime import datetime, timedelta, timezone

    from plugins.discussion.models import Comment, Thread

    start = datetime.now(timezone.utc) - timedelta(seconds=threads)
    per_thread = max(1, comments // threads)
    with engine.begin() as conn:
        for base in range(1, threads + 1, 10_000):
            conn.execute(insert(Thread), [{
                "content_id": f"{n:024x}", "course_key": COURSE, "topic_id": f"topic-{n % TOPICS}",
                "thread_type": "question" if n % 3 == 0 else "discussion",
                "title": title_of(n), "body": f"Body of thread {n}, with **Markdown**.",
                "author_id": user_ids[n % len(user_ids)], "anonymous": False,
                "anonymous_to_peers": False, "pinned": n % 5000 == 0, "closed": False,
                "comment_count": per_thread, "response_count": (per_thread + 1) // 2,
                "vote_count": n % 7, "endorsed": False,
                "created_at": start + timedelta(seconds=n),
                "updated_at": start + timedelta(seconds=n),
                "last_activity_at": start + timedelta(seconds=n)}
                for n in range(base, min(base + 10_000, threads + 1))])
        ids = dict(conn.execute(text("SELECT content_id, id FROM discussion_thread")).all())
        responses = (comments + 1) // 2
        for base in range(0, responses, 10_000):
            conn.execute(insert(Comment), [{
                "content_id": f"{1_000_000_000 + n:024x}",
                "thread_id": ids[f"{1 + n % threads:024x}"], "parent_id": None, "depth": 0,
                "course_key": COURSE, "body": f"Response {n}",
                "author_id": user_ids[n % len(user_ids)], "created_at": start,
                "updated_at": start} for n in range(base, min(base + 10_000, responses))])
        parents = dict(conn.execute(text(
            "SELECT content_id, id FROM discussion_comment WHERE parent_id IS NULL")).all())
        threads_of = dict(conn.execute(text(
            "SELECT id, thread_id FROM discussion_comment WHERE parent_id IS NULL")).all())
        replies = comments // 2
        for base in range(0, replies, 10_000):
            rows = []
            for n in range(base, min(base + 10_000, replies)):
                parent = parents[f"{1_000_000_000 + n % threads:024x}"]
                rows.append({"content_id": f"{2_000_000_000 + n:024x}",
                             "thread_id": threads_of[parent], "parent_id": parent, "depth": 1,
                             "course_key": COURSE, "body": f"Reply {n}",
                             "author_id": user_ids[(n + 1) % len(user_ids)],
                             "created_at": start, "updated_at": start})
            conn.execute(insert(Comment), rows)


def measure(app, engine, headers, path, params, requests):
    app.get(path, params, headers=headers)  # warm caches (structure, app state)
    timings, statements = [], 0
    for _ in range(requests):
        with count_queries(engine) as queries:
            started = time.perf_counter()
            app.get(path, params, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
        statements = len(queries)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
    return statistics.median(timings), p95, statements


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        app, engine = build_app(url)
        started = time.perf_counter()
        user_ids, learner = make_course_and_users(app, args.users)
        if engine.dialect.name == "postgresql":
            populate_postgresql(engine, user_ids, args.threads, args.comments)
        else:
            populate_generic(engine, user_ids, args.threads, args.comments)
        built = time.perf_counter() - started
        print(f"dataset: {args.threads:,} threads, {args.comments:,} comments, "
              f"{args.users:,} learners on {engine.dialect.name} in {built:.1f} s")
        headers = jwt_headers(app, learner)
        busy = f"{1:024x}"
        deep = str(max(1, min(200, args.threads // 10)))
        rows = [
            ("threads/ page 1", "/api/discussion/v1/threads/", {"course_id": COURSE}),
            (f"threads/ page {deep}", "/api/discussion/v1/threads/",
             {"course_id": COURSE, "page": deep}),
            ("threads/ one topic", "/api/discussion/v1/threads/",
             {"course_id": COURSE, "topic_id": "topic-3"}),
            ("threads/ by vote_count", "/api/discussion/v1/threads/",
             {"course_id": COURSE, "order_by": "vote_count"}),
            ("threads/ text_search (rare word)", "/api/discussion/v1/threads/",
             {"course_id": COURSE, "text_search": RARE_WORD}),
            ("threads/ text_search (common word)", "/api/discussion/v1/threads/",
             {"course_id": COURSE, "text_search": "osmosis"}),
            ("comments/?thread_id= page 1", "/api/discussion/v1/comments/",
             {"thread_id": busy}),
            ("threads/{id}/", f"/api/discussion/v1/threads/{busy}/", {}),
        ]
        print(f"{'request':40} {'median ms':>10} {'p95 ms':>8} {'SQL':>4}")
        for label, path, params in rows:
            median, p95, statements = measure(app, engine, headers, path, params,
                                              args.requests)
            print(f"{label:40} {median:10.1f} {p95:8.1f} {statements:4d}")
        engine.dispose()


if __name__ == "__main__":
    main()
