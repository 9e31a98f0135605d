"""One live server per fuzzing module, over the permission matrix's world of users and
objects (each plugin plants its own: a course, preferences...), so the fuzzer reaches
past the 404s with no per-plugin wiring."""
import threading
from dataclasses import dataclass

import pytest
import webtest

from lms import make_config, matrix
from lms.testing import _truncate, jwt_headers
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
    from waitress.server import create_server

    settings = fuzz_settings()
    app = _app(engine, settings)
    contributed = matrix.contributions(app.registry)
    extra = {}
    for contribution in contributed:
        extra.update(contribution.settings)
    if extra:
        app = _app(engine, dict(settings, **extra))
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
    server = create_server(app.app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield FuzzServer(f"http://127.0.0.1:{server.effective_port}", credentials, usernames,
                     values)
    server.task_dispatcher.shutdown()
    for channel in list(server._map.values()):
        channel.close()
    thread.join(timeout=5)
    _truncate(engine)
