"""One live server per fuzzing module, over the permission matrix's world of users and
objects (each plugin plants its own: a course, preferences...), so the fuzzer reaches
past the 404s with no per-plugin wiring."""
from dataclasses import dataclass

import pytest
import webtest

from lms import make_config, matrix
from lms.testing import _truncate, jwt_headers, serve_in_thread
from tests.fuzz.served import fuzz_settings

# The fuzzer's callers and the world's user each acts as.
CALLERS = {"anonymous": None, "learner": "learner", "staff": "global_staff"}


@dataclass
class FuzzServer:
    url: str
    credentials: dict  # {caller: request headers}
    usernames: dict    # {caller: username}
    values: dict       # the world's values (course_key, ...)


def _app(engine, settings):
    config = make_config(dict(settings, **{"sqlalchemy.url": str(engine.url)}), engine=engine)
    wsgi = config.make_wsgi_app()
    app = webtest.TestApp(wsgi, extra_environ={"HTTP_HOST": "localhost"})
    app.registry = config.registry
    return app


@pytest.fixture(scope="module")
def fuzz_server(engine):
    """Every installed plugin served by waitress on 127.0.0.1 for the whole module (the
    fuzzer needs no fresh database per request)."""
    app, contributed = matrix.app_with_matrix_settings(
        lambda settings: _app(engine, settings), fuzz_settings())
    db = app.registry["lms.dbsession_factory"]()
    world = matrix.build_world(app.registry, db, contributed)
    credentials, usernames = {}, {}
    for caller, role in CALLERS.items():
        user = world.user(role) if role else None
        credentials[caller] = jwt_headers(app, user) if user else {}
        if user:
            usernames[caller] = user.username
    values = dict(world.values)
    db.close()
    with serve_in_thread(app.app, threads=4) as url:
        yield FuzzServer(url, credentials, usernames, values)
    _truncate(engine)
