"""Background tasks run only after the request's transaction commits."""
import pytest

from lms.tasks import celery_app, celery_config
from lms.users import get_by_username


@pytest.fixture
def app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    return app_factory()


def test_task_runs_after_commit(app, db):
    app.post_json("/api/fake/v1/enqueue/", {"username": "marker"})
    assert get_by_username(db, "marker") is not None


def test_task_not_sent_when_request_fails(app, db):
    app.post_json("/api/fake/v1/enqueue/", {"username": "never", "fail": True}, status=400)
    assert get_by_username(db, "never") is None


def test_celery_settings_are_typed():
    conf = celery_config({"celery.broker_url": "redis://localhost:6379/0",
                          "celery.task_always_eager": "false",
                          "celery.worker_concurrency": "4", "celery.result_backend": ""})
    assert conf["broker_url"] == "redis://localhost:6379/0"
    assert conf["task_always_eager"] is False and conf["worker_concurrency"] == 4
    assert "result_backend" not in conf


def test_each_app_has_its_own_celery(app):
    celery = celery_app(app.registry)
    assert celery.conf.lms_registry is app.registry
    assert "fake.create_marker_user" in celery.tasks
