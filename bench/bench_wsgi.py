"""The benchmark's app: every built-in plugin plus the bench-only one (bench_plugin.py).

gunicorn serves it as ``bench_wsgi:make_wsgi_app()`` (``--pythonpath bench``), with
the settings the harness wrote to the JSON file named by ``OPENLMS_BENCH_SETTINGS``;
the harness builds the same app in-process with :func:`make_config`.
"""
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (str(HERE), str(HERE.parent)):
    if path not in sys.path:
        sys.path.insert(0, path)

BENCH_PLUGIN = "bench_plugin"


def installed_plugins():
    from lms.plugins import BUILTIN_PLUGINS, discover

    return discover(builtins=BUILTIN_PLUGINS + (BENCH_PLUGIN,))


def make_config(settings, engine=None):
    from lms import make_config as lms_make_config

    return lms_make_config(settings, installed=installed_plugins(), engine=engine)


def make_wsgi_app():
    with open(os.environ["OPENLMS_BENCH_SETTINGS"], encoding="utf-8") as handle:
        settings = json.load(handle)
    return make_config(settings).make_wsgi_app()
