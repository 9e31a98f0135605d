"""The benchmark harness (``make bench``): a seeded dataset, the app under load, a report.

    .venv/bin/python bench/harness.py                 # large: PostgreSQL, 1,000,000 users
    .venv/bin/python bench/harness.py --size small    # CI smoke: SQLite, 1,000 users

1. Dataset (bench/dataset.py): users inserted in bulk, then each plugin's rows
   (``lms_bench_dataset``), grown in steps (large: 1,000, 100,000, 1,000,000 users).
2. At each step, in-process (webtest, no network): every list endpoint that a
   plugin declares (``lms_bench_scenarios``), page 1 and a middle page, and at
   the first and last step the writes (registration, a login with an unknown
   email): time and SQL statements per request.
3. At the last step, gunicorn serves the app (the bench plugin adds a bare JSON
   view) with 1, then 2, sync worker processes on 127.0.0.1 (a free port), and wrk,
   in its own process, loads each hot endpoint in turn (bench/wrk_report.lua):
   p50/p95/p99 and throughput, also as ratios to the bare view of the same run;
   the workers' resident memory after warm-up and after a soak that brings the
   requests served to 100,000 (2 workers).
4. Cold start (bench/startup.py), then the report: the section of bench/README.md
   between its markers and bench/scaling.png, rewritten with the machine described.

A PostgreSQL database must be named ``openlms_bench...``: it is dropped and recreated.
"""
import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _path in (str(HERE), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_wsgi  # noqa: E402  (after the path)
import bench_report as report  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/openlms_bench"
DATABASE_PREFIX = "openlms_bench"
API_KEY = "bench-edx-api-key"
PAGE_SIZE = 10  # the paginators' default
BARE_PATH = "/_bench/bare"
SETTINGS = {
    "lms.secret_key": "bench-secret-key-of-the-benchmark-harness",
    "jwt.secret_key": "bench-jwt-secret-key-of-the-benchmark-harness",
    "jwt.issuer": "http://localhost/oauth2",
    "jwt.audience": "lms-key",
    "lms.base_url": "http://localhost",
    "lms.edx_api_key": API_KEY,
    # Every built-in plugin and the bench plugin (its apps only know these).
    "lms.plugins": "",
    # Throttles would answer 429 to a load test; the product's password hashing stays.
    "throttle.enabled": "false",
    "celery.task_always_eager": "true",
    "celery.broker_url": "memory://",
    "tracking.backend": "logging",
    "mail.backend": "file",
}


@dataclass(frozen=True)
class Size:
    steps: tuple  # users at each step of the dataset
    wrk_seconds: int  # per hot endpoint and worker count
    wrk_requests: int  # instead, when set: this many requests per endpoint and worker count
    warmup_requests: int  # per hot endpoint and worker, before the measured runs
    soak_requests: int  # requests served by the 2-worker server before its last RSS
    soak_seconds: int  # at most: a busy machine serves fewer requests, not a longer run
    list_requests: int  # timed in-process requests per list page
    write_requests: int  # timed registrations / logins per step
    startup_runs: int


SIZES = {
    "small": Size(steps=(100, 1000), wrk_seconds=1, wrk_requests=0, warmup_requests=20,
                  soak_requests=5000, soak_seconds=20, list_requests=5, write_requests=3,
                  startup_runs=1),
    "large": Size(steps=(1000, 100_000, 1_000_000), wrk_seconds=6, wrk_requests=0,
                  warmup_requests=50, soak_requests=100_000, soak_seconds=240,
                  list_requests=25, write_requests=10, startup_runs=3),
}


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the app and its database -------------------------------------------------------------------

def collect_scenarios(size):
    """Every enabled plugin's ``lms_bench_scenarios``, before any app exists."""
    from lms import load_settings
    from lms.plugins import make_plugin_manager

    _, _, enabled = load_settings(dict(SETTINGS), bench_wsgi.installed_plugins())
    answers = make_plugin_manager(enabled).hook.lms_bench_scenarios(size=size)
    scenarios = [scenario for answer in answers for scenario in answer]
    names = [scenario["name"] for scenario in scenarios]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SystemExit(f"scenarios named twice: {', '.join(duplicates)}")
    return sorted(scenarios, key=lambda scenario: scenario["path"] != BARE_PATH)


def prepare_database(url):
    from sqlalchemy.engine import make_url

    from lms import migrate
    from lms.db import make_engine
    from lms.plugins import select
    from lms.testing import recreate_postgres_database

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if not (parsed.database or "").startswith(DATABASE_PREFIX):
            raise SystemExit(f"the benchmark drops its database: name it {DATABASE_PREFIX}..."
                             f" (not {parsed.database!r})")
        recreate_postgres_database(url)
    engine = make_engine({"sqlalchemy.url": url})
    installed = bench_wsgi.installed_plugins()
    migrate.upgrade({"sqlalchemy.url": url}, installed, select(installed, {"lms.plugins": ""}),
                    engine=engine)
    return engine


def database_version(engine):
    from sqlalchemy import text

    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return "PostgreSQL " + conn.execute(text("SHOW server_version")).scalar().split()[0]
        return "SQLite " + conn.execute(text("SELECT sqlite_version()")).scalar()


class Client:
    """The in-process app (webtest) with the benchmark's credentials."""

    def __init__(self, config, engine):
        import webtest

        self.registry = config.registry
        self.engine = engine
        self.app = webtest.TestApp(config.make_wsgi_app(),
                                   extra_environ={"HTTP_HOST": "localhost"})
        self.headers = {None: {}, "api_key": {"X-Edx-Api-Key": API_KEY}}
        self.username = None

    def log_in_users(self, dataset):
        from lms import tokens
        from lms.models import User

        config = self.registry["lms.jwt_config"]
        db = self.registry["lms.dbsession_factory"]()
        try:
            for role, user_id in (("learner", dataset.learner_id), ("staff", dataset.staff_id)):
                user = db.get(User, user_id)
                payload = tokens.build_payload(config, user, ["email", "profile"],
                                               expires_in=24 * 3600)
                self.headers[role] = {"Authorization": "JWT " + tokens.encode(config, payload)}
                if role == "learner":
                    self.username = user.username
        finally:
            db.close()

    def path(self, scenario, **query):
        path = scenario["path"].replace("{username}", self.username or "")
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query)
        return path

    def get(self, path, auth, status=200):
        response = self.app.get(path, headers=self.headers[auth], expect_errors=True)
        if response.status_int != status:
            raise SystemExit(f"GET {path} ({auth or 'anonymous'}) answered "
                             f"{response.status}, not {status}: {response.text[:500]}")
        return response

    def write(self, scenario, number):
        """One timed write: ``(milliseconds, response)``; cookies start empty."""
        self.app.reset()
        headers = dict(self.headers[scenario.get("auth")])
        if scenario.get("csrf"):
            headers["X-CSRFToken"] = self.app.get("/csrf/api/v1/token").json["csrfToken"]
        started = time.perf_counter()
        response = self.app.post(scenario["path"], scenario["form"](number), headers=headers,
                                 status=scenario.get("status", 200))
        elapsed = (time.perf_counter() - started) * 1000
        self.app.reset()
        return elapsed, response


def counted(client, call):
    from lms.testing import count_queries

    with count_queries(client.engine) as statements:
        call()
    return len(statements)


def timed(call, count):
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


# -- in-process measurements --------------------------------------------------------------------

def middle_page(rows):
    """A page-number list's middle page: its number and query."""
    middle = max(1, math.ceil(rows / PAGE_SIZE / 2))
    return middle, {"page": middle}


def measure_lists(client, scenarios, users, count):
    """Page 1 and the middle page of every list: the first request (cold), the SQL of
    one, then ``count`` rounds over all of them (a burst of load on this shared
    machine then slows every list a little rather than one a lot); the medians."""
    pages = []
    for scenario in scenarios:
        if "rows" not in scenario:
            continue
        rows = scenario["rows"](users)
        pages.append((scenario, rows, "page 1", 1, client.path(scenario)))
        deeper = scenario.get("middle", middle_page)
        if deeper is not None:  # None: a list answered whole
            number, query = deeper(rows)
            pages.append((scenario, rows, "middle", number, client.path(scenario, **query)))
    results = []
    for scenario, rows, page, number, path in pages:
        auth = scenario.get("auth")
        started = time.perf_counter()
        response = client.get(path, auth)
        first = (time.perf_counter() - started) * 1000
        body = response.json
        if rows and not (body.get("results") if isinstance(body, dict) else body):
            raise SystemExit(f"GET {path} listed nothing; {scenario['name']} should hold "
                             f"{rows:,} rows with {users:,} users")
        results.append({"name": scenario["name"], "page": page, "page_number": number,
                        "rows": rows, "users": users, "first_ms": first, "timings": [],
                        "queries": counted(client, lambda: client.get(path, auth))})
    for _ in range(count):
        for (scenario, _, _, _, path), result in zip(pages, results):
            result["timings"] += timed(lambda: client.get(path, scenario.get("auth")), 1)
    for result in results:
        result["median_ms"] = statistics.median(result.pop("timings"))
    return results


def measure_writes(client, scenarios, users, count, numbers, engine, last_user_id):
    from sqlalchemy import text

    results = []
    for scenario in scenarios:
        if scenario.get("method") != "POST":
            continue
        client.write(scenario, next(numbers))  # warm-up
        queries = counted(client, lambda: client.write(scenario, next(numbers)))
        timings = [client.write(scenario, next(numbers))[0] for _ in range(count)]
        results.append({"name": scenario["name"], "users": users, "queries": queries,
                        "median_ms": statistics.median(timings), "requests": count})
    # The accounts the writes created go: the next step's users follow the seeded ones.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM lms_user WHERE id > :last"), {"last": last_user_id})
    return results


def check_hot(client, scenarios):
    """Each hot endpoint answers 200 in-process; its SQL statements per request."""
    found = {}
    for scenario in scenarios:
        if scenario.get("hot"):
            path, auth = client.path(scenario), scenario.get("auth")
            client.get(path, auth)
            found[scenario["name"]] = counted(client, lambda: client.get(path, auth))
    return found


# -- gunicorn and wrk ---------------------------------------------------------------------------

class Server:
    """gunicorn serving the benchmark app with ``workers`` sync workers on a free port."""

    def __init__(self, run_dir, settings_file, workers):
        self.run_dir, self.workers = run_dir, workers
        self.error_log = run_dir / f"gunicorn-{workers}.log"
        self.output = run_dir / f"gunicorn-{workers}.out"
        self.settings_file = settings_file
        self.process = None
        self.url = None
        self.served = 0

    def __enter__(self):
        from gunicorn.config import make_settings

        self.error_log.write_text("")
        env = {name: value for name, value in os.environ.items() if not name.startswith("LMS_")}
        env["OPENLMS_BENCH_SETTINGS"] = str(self.settings_file)
        # A deployed server has its bytecode cached (startup.py's documentation).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        command = [sys.executable, "-m", "gunicorn", "--pythonpath", str(HERE), "--preload",
                   "-w", str(self.workers), "-b", "127.0.0.1:0", "--timeout", "120",
                   "--error-logfile", str(self.error_log)]
        if "control_socket" in make_settings():  # one per server, not one per user
            command += ["--control-socket", str(self.run_dir / f"gunicorn-{self.workers}.ctl")]
        launched = time.monotonic()
        with self.output.open("w") as output:
            self.process = subprocess.Popen(command + ["bench_wsgi:make_wsgi_app()"], env=env,
                                            cwd=self.run_dir, start_new_session=True,
                                            stdout=output, stderr=subprocess.STDOUT)
        self.url = self._wait_for_url(launched + 120)
        self._wait_for_answer(launched + 120)
        self.cold_start_s = time.monotonic() - launched
        deadline = time.monotonic() + 30
        while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def _wait_for_url(self, deadline):
        import re

        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)",
                              self.error_log.read_text())
            if found:
                return found.group(1)
            time.sleep(0.05)
        raise SystemExit("gunicorn did not start:\n" + self.log_text())

    def _wait_for_answer(self, deadline):
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/heartbeat", timeout=10):
                    return
            except urllib.error.HTTPError as error:  # it answered, but not 200
                raise SystemExit(f"gunicorn's /heartbeat answered {error.code}: "
                                 f"{error.read().decode(errors='replace')}")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.02)
        raise SystemExit("gunicorn did not answer /heartbeat:\n" + self.log_text())

    def log_text(self):
        """gunicorn's error log, then what the app wrote to stderr."""
        return self.error_log.read_text() + self.output.read_text()

    def worker_pids(self):
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return sorted(int(child) for child in children)

    def worker_rss_mib(self):
        sizes = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes


def wrk_available():
    return shutil.which("wrk") is not None


def run_wrk(server, requests_file, seconds, connections, limit=0):
    """One wrk run: ``seconds`` long, or until ``limit`` answers (then SIGINT, see
    wrk_report.lua); its figures, throughput included."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s",
               "-s", str(HERE / "wrk_report.lua"), server.url, "--", str(requests_file)]
    if limit:
        command.append(str(limit))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("wrk-limit-reached"):
            process.send_signal(signal.SIGINT)
    if process.wait() != 0:
        raise SystemExit("wrk failed:\n" + "".join(lines))
    result = json.loads(next(line for line in lines if line.startswith('{"requests"')))
    server.served += result["requests"]
    result["error_count"] = sum(result["errors"].values())
    return result


def requests_file(run_dir, name, lines):
    path = run_dir / f"wrk-{name}.txt"
    path.write_text("".join(lines))
    return path


def request_line(client, scenario):
    headers = client.headers[scenario.get("auth")]
    return "\t".join([client.path(scenario)] + [f"{k}: {v}" for k, v in headers.items()]) + "\n"


def load_phase(client, scenarios, run_dir, settings, size, worker_counts):
    """Every hot endpoint under wrk, per worker count; memory; the soak."""
    hot = [scenario for scenario in scenarios if scenario.get("hot")]
    settings_file = run_dir / "settings.json"
    # gunicorn's sync workers hold one connection at a time (docs/deploy.md).
    settings_file.write_text(json.dumps(dict(settings, **{"sqlalchemy.pool_size": "1",
                                                          "sqlalchemy.max_overflow": "1"})))
    files = {scenario["name"]: requests_file(run_dir, str(number),
                                             [request_line(client, scenario)])
             for number, scenario in enumerate(hot)}
    servers = []
    for workers in worker_counts:
        log(f"gunicorn with {workers} worker(s)")
        with Server(run_dir, settings_file, workers) as server:
            for scenario in hot:
                run_wrk(server, files[scenario["name"]], 60, workers,
                        limit=size.warmup_requests * workers)
            rss_warm = server.worker_rss_mib()
            runs = {}
            for scenario in hot:
                runs[scenario["name"]] = run_wrk(
                    server, files[scenario["name"]], 60 if size.wrk_requests else size.wrk_seconds,
                    workers, limit=size.wrk_requests)
                log(f"  {scenario['name']}: {runs[scenario['name']]['throughput']:.0f} req/s")
            soak = None
            if workers == max(worker_counts) and server.served < size.soak_requests:
                soak = soak_run(client, server, hot, runs, run_dir, size)
            servers.append({"workers": workers, "cold_start_s": server.cold_start_s,
                            "rss_warm_mib": rss_warm, "rss_end_mib": server.worker_rss_mib(),
                            "served": server.served, "runs": runs, "soak": soak,
                            "errors": "Traceback" in server.log_text()})
    return servers


def soak_run(client, server, hot, runs, run_dir, size):
    """The hot endpoints in turn, each about the same serving time, until the server
    has answered ``size.soak_requests`` requests (or ``size.soak_seconds`` passed)."""
    slowest = min(run["throughput"] for run in runs.values()) or 1.0
    lines = []
    for scenario in hot:
        weight = min(50, max(1, round(runs[scenario["name"]]["throughput"] / slowest)))
        lines += [request_line(client, scenario)] * weight
    missing = size.soak_requests - server.served
    log(f"  soak: {missing:,} more requests")
    result = run_wrk(server, requests_file(run_dir, "soak", lines), size.soak_seconds,
                     server.workers, limit=missing)
    log(f"  soak: {result['requests']:,} requests in {result['duration_us'] / 1e6:.0f} s")
    return result


# -- the run ------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="large")
    parser.add_argument("--database-url", default=None,
                        help=f"large: {DEFAULT_POSTGRES_URL}; small: a scratch SQLite file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--readme", default=None,
                        help="large: bench/README.md; small: var/bench/README.md")
    parser.add_argument("--plot", default=None,
                        help="large: bench/scaling.png; small: var/bench/scaling.png")
    parser.add_argument("--json", default=None, help="also write the raw results there")
    parser.add_argument("--no-wrk", action="store_true", help="skip the load phase")
    parser.add_argument("--workers", default="1,2", help="worker counts of the load phase")
    parser.add_argument("--wrk-seconds", type=int, default=None)
    parser.add_argument("--wrk-requests", type=int, default=None,
                        help="per endpoint, instead of a duration")
    parser.add_argument("--warmup-requests", type=int, default=None, help="per worker")
    parser.add_argument("--soak-requests", type=int, default=None)
    parser.add_argument("--startup-runs", type=int, default=None)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting of the app, e.g. pagination.count_estimate_threshold=0")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    size = SIZES[args.size]
    # Only the large size replaces the committed figures; a smoke run writes under var/.
    report_dir = HERE if args.size == "large" else ROOT / "var" / "bench"
    args.readme = args.readme or str(report_dir / "README.md")
    args.plot = args.plot or str(report_dir / "scaling.png")
    Path(args.readme).parent.mkdir(parents=True, exist_ok=True)
    overrides = {"wrk_seconds": args.wrk_seconds, "wrk_requests": args.wrk_requests,
                 "soak_requests": args.soak_requests, "warmup_requests": args.warmup_requests,
                 "startup_runs": args.startup_runs}
    size = Size(**{**size.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    started, load_before = time.monotonic(), os.getloadavg()
    run_dir = Path(tempfile.mkdtemp(prefix="openlms-bench-"))
    try:
        results = run(args, size, run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    results["machine"] = report.describe_machine(results.pop("database_version"), load_before)
    results["elapsed_s"] = time.monotonic() - started
    results["command"] = ("make bench" if args.size == "large" else f"make bench SIZE={args.size}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    plotted = report.plot(results, args.plot)
    report.write_readme(results, args.readme, args.plot if plotted else None)
    log(f"report written to {args.readme}" + (f" and {args.plot}" if plotted else
                                                " (no plot: matplotlib is not installed)"))
    log(f"done in {results['elapsed_s'] / 60:.1f} minutes")


def run(args, size, run_dir):
    scenarios = collect_scenarios(args.size)
    url = args.database_url or f"sqlite:///{run_dir}/bench.sqlite"
    if args.database_url is None and args.size == "large":
        url = DEFAULT_POSTGRES_URL
    settings = dict(SETTINGS, **{"sqlalchemy.url": url, "mail.file_path": str(run_dir / "mail")})
    for scenario in scenarios:
        settings.update(scenario.get("settings") or {})
    settings.update(item.split("=", 1) for item in args.set)
    log(f"size {args.size}, database {url}, seed {args.seed}")
    engine = prepare_database(url)
    client = Client(bench_wsgi.make_config(settings, engine=engine), engine)
    from bench_dataset import Dataset

    dataset = Dataset(client.registry, engine, args.size, args.seed)
    lists, writes, seeding = [], [], []
    numbers = iter(range(10**9))
    for step in size.steps:
        began = time.monotonic()
        dataset.grow(step)
        seeding.append({"users": step, "seconds": time.monotonic() - began,
                        "load": os.getloadavg()[0]})
        log(f"{step:,} users seeded in {seeding[-1]['seconds']:.1f} s")
        if client.username is None:
            client.log_in_users(dataset)
        lists += measure_lists(client, scenarios, step, size.list_requests)
        if step in (size.steps[0], size.steps[-1]):
            writes += measure_writes(client, scenarios, step, size.write_requests, numbers,
                                     engine, dataset.last_user_id)
        log(f"{step:,} users measured")
    queries = check_hot(client, scenarios)
    results = {"size": args.size, "seed": args.seed, "steps": list(size.steps),
               "database": engine.dialect.name, "database_version": database_version(engine),
               "seeding": seeding, "lists": lists, "writes": writes, "hot_queries": queries,
               "hot": [s["name"] for s in scenarios if s.get("hot")], "size_params": size.__dict__,
               "bare": next(s["name"] for s in scenarios if s["path"] == BARE_PATH)}
    engine.dispose()  # gunicorn's workers open their own connections
    if args.no_wrk or not wrk_available():
        results["load"] = None
        results["load_skipped"] = ("--no-wrk" if args.no_wrk else
                                   "wrk is not installed (apt-get install wrk)")
        log(f"load phase skipped: {results['load_skipped']}")
    else:
        workers = [int(count) for count in args.workers.split(",")]
        results["load"] = load_phase(client, scenarios, run_dir, settings, size, workers)
        results["wrk_run"] = (f"{size.wrk_requests:,} requests" if size.wrk_requests
                              else f"{size.wrk_seconds} s")
    if size.startup_runs:
        import startup

        log("cold start (bench/startup.py)")
        results["startup"] = startup.measure(runs=size.startup_runs)
    return results


if __name__ == "__main__":
    main()
