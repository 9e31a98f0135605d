"""Start-up cost of a fresh process: resident memory once the app is built, and the
time from interpreter start to the first answer.

    .venv/bin/python bench/startup.py            # development.ini, scratch SQLite
    .venv/bin/python bench/startup.py --runs 5 --markdown

It migrates a scratch SQLite database with development.ini's settings (the
database, mail and tracking paths overridden through the environment), then, for
each run, starts a new interpreter that builds the app with ``pyramid.paster``
(as ``lms serve`` and gunicorn do), reads VmRSS from /proc/self/status, answers
``GET /heartbeat`` by calling the WSGI app as a server would (no test client: its
imports are no cost of the server) and reports. Linux only (/proc).

The processes run with the project's bytecode cached, as an installed server
does (pip compiles a wheel's modules; ``lms serve`` in a checkout writes
``__pycache__``): ``PYTHONDONTWRITEBYTECODE`` is dropped for them and a first,
unmeasured run writes the bytecode. Without it every start compiles the
project's ~130 modules again (about 0.1 s on the benchmark machine).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in the child: everything after the interpreter is up is timed from
# time.perf_counter() at the child's first line; the interpreter's own start-up
# is added from the parent's clock.
CHILD = r"""
import time
started = time.perf_counter()
import json, sys
from pyramid.paster import get_app
app = get_app(sys.argv[1])
built = time.perf_counter()

def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

rss_built = rss_kib()
import io
environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/heartbeat",
           "QUERY_STRING": "", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
           "HTTP_HOST": "localhost", "SERVER_PROTOCOL": "HTTP/1.1",
           "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
           "wsgi.errors": sys.stderr, "wsgi.multithread": False,
           "wsgi.multiprocess": False, "wsgi.run_once": False}
statuses = []
body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
answered = time.perf_counter()
heavy = sorted(name for name in ("celery", "kombu", "PIL", "pycountry", "defusedxml",
                                 "nh3", "alembic", "mako", "psycopg", "lxml",
                                 "schemathesis", "hypothesis")
               if sys.modules.get(name) is not None)
print(json.dumps({"status": int(statuses[0].split()[0]), "build_s": built - started,
                  "answer_s": answered - started, "rss_built_kib": rss_built,
                  "rss_answered_kib": rss_kib(), "heavy_loaded": heavy}))
"""


def scratch_environment(directory):
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module's documentation
    env.update({
        "LMS_SQLALCHEMY_URL": f"sqlite:///{directory}/lms.sqlite",
        "LMS_MAIL_FILE_PATH": f"{directory}/mail",
        "LMS_TRACKING_LOG_FILE": f"{directory}/tracking.log",
        "LMS_ACCOUNTS_PROFILE_IMAGE_DIR": f"{directory}/profile-images",
    })
    return env


# An install without the [postgresql] extra (what `make run` installs) has no psycopg,
# which zope.sqlalchemy would otherwise import: the child makes it unimportable.
WITHOUT_DRIVER = 'import sys; sys.modules["psycopg"] = None\n'


def one_run(ini, env, driver=False):
    launched = time.perf_counter()
    child = CHILD if driver else WITHOUT_DRIVER + CHILD
    output = subprocess.run([sys.executable, "-c", child, ini], env=env, cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    total = time.perf_counter() - launched
    result = json.loads(output.strip().splitlines()[-1])
    result["first_answer_s"] = total  # process launch to answer, interpreter included
    return result


def measure(ini=str(ROOT / "development.ini"), runs=5):
    """Median figures of ``runs`` fresh processes (the harness reports them too)."""
    with tempfile.TemporaryDirectory() as directory:
        env = scratch_environment(directory)
        subprocess.run([sys.executable, "-m", "lms.cli", "--ini", ini, "migrate"],
                       env=env, cwd=ROOT, check=True, capture_output=True)
        one_run(ini, env)  # writes the bytecode; not measured
        results = [one_run(ini, env) for _ in range(runs)]
    return {
        "runs": runs,
        "rss_built_mib": statistics.median(run["rss_built_kib"] for run in results) / 1024,
        "rss_answered_mib": statistics.median(run["rss_answered_kib"] for run in results) / 1024,
        "build_s": statistics.median(run["build_s"] for run in results),
        "first_answer_s": statistics.median(run["first_answer_s"] for run in results),
        "heavy_loaded": results[-1]["heavy_loaded"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", default=str(ROOT / "development.ini"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    figures = measure(args.ini, args.runs)
    heavy = ", ".join(figures["heavy_loaded"]) or "none"
    if not args.markdown:
        print(f"RSS after start (app built): {figures['rss_built_mib']:.1f} MiB")
        print(f"RSS after the first answer:  {figures['rss_answered_mib']:.1f} MiB")
        print(f"app build (imports + config): {figures['build_s']:.2f} s")
        print(f"process launch to first answer: {figures['first_answer_s']:.2f} s")
        print("heavy modules loaded: " + heavy)
        return
    print(f"{time.strftime('%Y-%m-%d')}, {platform.node() or 'this machine'} "
          f"({os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}), development.ini on a scratch "
          f"SQLite database, median of {args.runs} fresh processes "
          "(`.venv/bin/python bench/startup.py --markdown`):\n")
    print("| measure | value |\n|---|---|")
    print(f"| RSS after start (app built) | {figures['rss_built_mib']:.1f} MiB |")
    print("| RSS after the first answer (GET /heartbeat) | "
          f"{figures['rss_answered_mib']:.1f} MiB |")
    print(f"| app build (imports + configuration) | {figures['build_s']:.2f} s |")
    print(f"| process launch to first answer | {figures['first_answer_s']:.2f} s |")
    print(f"| heavy modules loaded after the first answer | {heavy} |")


if __name__ == "__main__":
    main()
