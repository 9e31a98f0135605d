"""The wheel: built from the source tree, installed outside the checkout, it migrates,
serves and reports coverage with nothing but what it ships.

How it is installed, and why:

- The wheel is built (``pip wheel --no-deps``) from a copy of the tree in a scratch
  directory (``/dev/shm`` where possible, else ``tmp_path``), so no ``build/`` or
  ``*.egg-info`` is left in (or read from) the checkout: a stale ``build/lib`` would put
  files into the wheel that the tree no longer has.
- It is installed into a fresh venv made by ``python -m venv`` (based on the base
  interpreter, never on the project's ``.venv``, whose site-packages hold the editable
  checkout) with its dependencies from the package index, as a user installs it. The
  versions are pinned to those of the environment running the tests, so the test checks
  our packaging rather than the day's releases, and pip's cache makes it quick. The venv
  has no pip of its own (``--without-pip`` saves ensurepip's seconds); this environment's
  pip installs into it with ``--python``.
- Every command runs from that directory with no ``PYTHONPATH`` and no ``LMS_*`` variable,
  and the test checks that ``lms`` and ``plugins`` are imported from the venv.

It needs the package index (PyPI) and takes 30 to 60 s, so it runs once per ``make
test``: on the SQLite run, skipped when ``LMS_TEST_DATABASE_URL`` is set.
"""
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lms", "plugins")
# Not part of the source tree that is packaged.
NOT_SOURCE = (".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
              ".pytest_cache", "node_modules")
REVISION_RE = re.compile(r"""^revision\s*=\s*['"]([^'"]+)['"]""", re.MULTILINE)

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("LMS_TEST_DATABASE_URL")),
    reason="the wheel test runs once, on the SQLite run of the suite")


def run(args, cwd, env, timeout=300):
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, timeout=timeout,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}"
    return result.stdout


def clean_environment():
    """This process's environment without what would point a command at the checkout.
    Bytecode may be written: the venv's first command caches what the next ones import."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("LMS_") and name not in (
                "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")}


def package_files(root):
    """Paths (relative, with ``/``) of every file under the packages that should ship."""
    found = set()
    for package in PACKAGES:
        for path in (root / package).rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                          for part in relative.parts) \
                    and path.suffix not in (".pyc", ".pyo"):
                found.add(relative.as_posix())
    return found


def migration_files(root):
    return sorted(path for package in PACKAGES
                  for path in (root / package).glob("**/migrations/versions/*.py")
                  if path.name != "__init__.py")


def pinned_versions():
    """``name==version`` of every distribution here that came from an index."""
    pins = {}
    for dist in importlib.metadata.distributions():  # in sys.path order: the one imported first
        name = dist.metadata["Name"]
        if not name or dist.read_text("direct_url.json"):  # editable or local: not on the index
            continue
        pins.setdefault(re.sub(r"[-_.]+", "-", name).lower(), f"{name}=={dist.version}")
    return sorted(pins.values())


def backend_warnings(build_log):
    """Warnings that setuptools printed (pip's own ``WARNING:`` lines are about the
    machine's index configuration, not the package)."""
    return [line.strip() for line in build_log.splitlines()
            if re.search(r"warning:|Warning\b", line) and "WARNING:" not in line]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url, timeout=10):
    """``(status, body bytes)``; error statuses are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def scratch_directory(tmp_path_factory):
    """In memory (/dev/shm) where the machine allows programs to run from there: the venv
    is thousands of small files, and on a busy disk writing and deleting them takes
    longer than everything else the test does."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK) \
            and not os.statvfs(shm).f_flag & getattr(os, "ST_NOEXEC", 0):
        return Path(tempfile.mkdtemp(prefix="openlms-wheel-", dir=shm))
    return tmp_path_factory.mktemp("wheel")


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory):
    """Build the wheel from a copy of the tree and install it into a fresh venv."""
    base = scratch_directory(tmp_path_factory)
    source = base / "source"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    env = clean_environment()

    build_log = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v",
                     "-w", base / "dist", source], cwd=base, env=env)
    wheel, = (base / "dist").glob("openlms-*.whl")

    venv = base / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base, env=env)
    python = venv / "bin" / "python"
    constraints = base / "constraints.txt"
    constraints.write_text("\n".join(pinned_versions()) + "\n")
    # --no-compile: byte-compiling every dependency would take most of the time.
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile",
         "-c", constraints, wheel], cwd=base, env=env)

    secret_key, jwt_key = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    ini = base / "lms.ini"
    ini.write_text(
        "[app:main]\n"
        "use = egg:openlms\n"
        f"sqlalchemy.url = sqlite:///{base / 'lms.sqlite'}\n"
        f"lms.secret_key = {secret_key}\n"
        f"jwt.secret_key = {jwt_key}\n")
    yield {"source": source, "wheel": wheel, "build_log": build_log, "venv": venv,
           "python": python, "lms": venv / "bin" / "lms", "ini": ini, "cwd": base, "env": env}
    shutil.rmtree(base, ignore_errors=True)


def test_the_build_prints_no_setuptools_warning(wheel_install):
    assert backend_warnings(wheel_install["build_log"]) == []


def test_the_wheel_ships_every_file_of_the_packages(wheel_install):
    source = wheel_install["source"]
    with zipfile.ZipFile(wheel_install["wheel"]) as archive:
        shipped = set(archive.namelist())
    expected = package_files(source)
    assert expected - shipped == set()
    # Spelled out, so that a failure names the kind of file that went missing.
    migrations = {path.relative_to(source).as_posix() for path in migration_files(source)}
    assert {"lms/migrations/versions/lms_0001_core_tables.py",
            "plugins/accounts/migrations/versions/accounts_0001_accounts_tables.py",
            "plugins/courses/migrations/versions/courses_0001_courses_tables.py",
            "plugins/experiments/migrations/versions/experiments_0001_experiments_tables.py",
            } <= migrations <= shipped
    assert {"lms/migrations/env.py", "lms/migrations/script.py.mako",
            "lms/static/api-docs.js", "lms/data/operations.tsv",
            "plugins/courses/sample_course/course.xml",
            "plugins/courses/sample_course/static/images/course_image.png"} <= shipped
    assert not [name for name in shipped if "__pycache__" in name or name.endswith(".pyc")]
    assert {name.split("/")[0] for name in shipped} == {
        "lms", "plugins", wheel_install["wheel"].name.split("-py3")[0] + ".dist-info"}


def test_the_installed_openlms_migrates_and_serves(wheel_install):
    python, lms, ini = wheel_install["python"], wheel_install["lms"], wheel_install["ini"]
    cwd, env, venv = wheel_install["cwd"], wheel_install["env"], wheel_install["venv"]

    where = run([python, "-c", "import lms, plugins.courses; "
                 "print(lms.__file__); print(plugins.courses.__file__)"], cwd, env)
    site_packages = str(venv / "lib")
    assert [line.startswith(site_packages) for line in where.split()] == [True, True], where

    migrated = run([lms, "--ini", ini, "migrate"], cwd, env)
    revisions = sorted(REVISION_RE.search(path.read_text()).group(1)
                       for path in migration_files(wheel_install["source"]))
    applied = sorted(re.findall(r"^applied (\S+) ", migrated, re.MULTILINE))
    assert applied == revisions, migrated
    assert migrated.strip().splitlines()[-1].startswith(
        f"{len(revisions)} migration(s) applied (branches: lms, ")

    # The sample course as the wheel ships it, read from site-packages.
    sample = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / \
        "site-packages" / "plugins" / "courses" / "sample_course"
    imported = run([lms, "--ini", ini, "import-course", sample], cwd, env)
    assert imported.startswith("imported course-v1:OpenLMS+Sample+2026 "), imported

    port = free_port()
    server = subprocess.Popen([lms, "--ini", ini, "serve", "--port", str(port)], cwd=cwd,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                status, body = get(f"{base_url}/heartbeat", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "lms serve did not answer in 30 s"
                time.sleep(0.2)
        heartbeat = json.loads(body)
        assert status == 200, body
        assert heartbeat["sql"] == {"status": True, "message": "OK"}
        assert all(check["status"] is True for check in heartbeat.values())

        status, body = get(f"{base_url}/api/courses/v1/courses/")
        assert status == 200, body
        courses = json.loads(body)
        assert [course["id"] for course in courses["results"]] == ["course-v1:OpenLMS+Sample+2026"]
        assert courses["results"][0]["name"] == "openlms Sample Course"
        assert courses["results"][0]["org"] == "openlms"  # its display_organization
        assert courses["pagination"]["count"] == 1

        status, body = get(f"{base_url}/_lms/static/api-docs.js")
        assert status == 200
        assert body == (wheel_install["source"] / "lms" / "static" / "api-docs.js").read_bytes()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()


def test_the_installed_coverage_reads_the_shipped_operations(wheel_install):
    operations = (wheel_install["source"] / "lms" / "data" / "operations.tsv").read_text()
    total = len([line for line in operations.splitlines()[1:] if line])
    output = run([wheel_install["lms"], "--ini", wheel_install["ini"], "coverage",
                  "--show", "none"], wheel_install["cwd"], wheel_install["env"])
    assert re.fullmatch(rf"\d+/{total} operations served \(\d+\.\d%\)\n", output), output

