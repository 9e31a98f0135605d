"""Start-up stays light: libraries that only some requests need are imported by those
requests, not when the app is built (bench/startup.py measures the effect).

A fresh interpreter (the test process has imported everything already) builds the
app from an ``.ini``, answers a request, and reports which of them are loaded; then
the requests that need them load them, and they work.
"""
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.usefixtures("clean_lms_environment")

LAZY_MODULES = ("celery", "kombu", "PIL", "pycountry", "nh3", "markdown", "srt", "defusedxml",
                "alembic")

CHILD = r"""
import io, json, sys
from pyramid.paster import get_app
import webtest

LAZY = %(lazy)r
report = {}
def loaded():
    return sorted(name for name in LAZY if name in sys.modules)

app = webtest.TestApp(get_app(sys.argv[1]), extra_environ={"HTTP_HOST": "localhost"})
report["after_start"] = loaded()
report["heartbeat"] = app.get("/heartbeat").status_int
report["after_first_request"] = loaded()

# pycountry: the country code is checked against ISO 3166-1.
zones = app.get("/api/user/v1/preferences/time_zones/", {"country_code": "FR"}).json
report["fr_time_zones"] = [zone["time_zone"] for zone in zones]
report["pycountry_after_time_zones"] = "pycountry" in sys.modules

# Pillow: the default profile image is drawn, an upload is decoded and resized.
default = app.get("/static/images/profiles/default_50.png")
report["default_image"] = [default.content_type, default.body[:8].hex()]
from PIL import Image
from lms.testing import create_user, jwt_headers
db = app.app.registry["lms.dbsession_factory"]()
from plugins.accounts import api
user = create_user(db, "startup")
api.get_profile(db, user.id, create=True).year_of_birth = 1990  # an adult may upload
db.commit()
db.close()
buffer = io.BytesIO()
Image.new("RGB", (120, 80), "teal").save(buffer, "PNG")
report["upload"] = app.post("/api/user/v1/accounts/startup/image",
                            upload_files=[("file", "me.png", buffer.getvalue(), "image/png")],
                            headers=jwt_headers(app.app, user)).status_int
from pathlib import Path
stored = []
for path in sorted(Path(sys.argv[2]).iterdir()):
    with Image.open(path) as image:
        stored.append([image.format, image.size[0]])
report["stored_images"] = sorted(stored, key=lambda item: item[1])

# Celery: built on first use, with the app's settings and registry.
from lms.tasks import celery_app
celery = celery_app(app.app.registry)
report["celery"] = [type(celery).__module__, celery.conf.task_always_eager,
                    celery.conf.lms_registry is app.app.registry]
print(json.dumps(report))
""" % {"lazy": LAZY_MODULES}


@pytest.fixture
def startup_report(write_cli_ini, run_cli, tmp_path):
    ini = write_cli_ini(f"accounts.profile_image_dir = {tmp_path / 'images'}\n"
                        "tracking.backend = memory")
    result = run_cli("migrate", ini=ini)
    assert result.exit_code == 0, result.output
    child = subprocess.run([sys.executable, "-c", CHILD, ini, str(tmp_path / "images")],
                           capture_output=True,
                           text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.strip().splitlines()[-1])


def test_heavy_libraries_load_only_when_a_request_needs_them(startup_report):
    report = startup_report
    assert report["after_start"] == []
    assert report["heartbeat"] == 200
    assert report["after_first_request"] == []

    assert report["pycountry_after_time_zones"] is True
    assert report["fr_time_zones"] == ["Europe/Paris"]

    assert report["default_image"] == ["image/png", "89504e470d0a1a0a"]
    assert report["upload"] == 204
    assert report["stored_images"] == [["JPEG", 30], ["JPEG", 50], ["JPEG", 120],
                                       ["JPEG", 500]]

    assert report["celery"] == ["celery.app.base", True, True]


NO_DRIVER_CHILD = r"""
import json, sys
sys.modules["psycopg"] = None  # not installed: openlms without its [postgresql] extra
from pyramid.exceptions import ConfigurationError
from pyramid.paster import get_app
import webtest

app = webtest.TestApp(get_app(sys.argv[1]), extra_environ={"HTTP_HOST": "localhost"})
report = {"heartbeat": app.get("/heartbeat").status_int,
          "time_zones": app.get("/api/user/v1/preferences/time_zones/",
                                {"country_code": "FR"}).status_int}
from lms.db import make_engine
try:
    make_engine({"sqlalchemy.url": "postgresql://lms@127.0.0.1/lms"})
except ConfigurationError as exc:
    report["postgresql"] = str(exc)
print(json.dumps(report))
"""


def test_sqlite_needs_no_postgresql_driver(write_cli_ini, run_cli, tmp_path):
    ini = write_cli_ini(f"sqlalchemy.url = sqlite:///{tmp_path / 'nodriver.sqlite'}\n"
                        "tracking.backend = memory", name="nodriver.ini")
    result = run_cli("migrate", ini=ini)
    assert result.exit_code == 0, result.output
    child = subprocess.run([sys.executable, "-c", NO_DRIVER_CHILD, ini],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["heartbeat"] == 200 and report["time_zones"] == 200
    assert report["postgresql"].endswith("(install the driver: pip install "
                                         "'openlms[postgresql]')")
