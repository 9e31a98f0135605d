"""Background work: one Celery app per LMS app, configured from ``celery.*`` settings.

The embedded default (``celery.task_always_eager = true``, broker ``memory://``)
runs tasks in-process so a laptop needs no broker; production points
``celery.broker_url`` at Redis and runs ``lms worker``.

Plugins declare tasks with :func:`task` and send them with
:func:`send_after_commit`, so nothing is queued for a transaction that rolls back.
"""
import transaction
from celery import Celery, shared_task
from pyramid.settings import asbool

from lms.db import get_tm_session

CELERY_PREFIX = "celery."
_BOOL_KEYS = ("task_always_eager", "task_eager_propagates", "task_acks_late")
_INT_KEYS = ("worker_concurrency", "worker_prefetch_multiplier")


def celery_config(settings):
    conf = {}
    for key, value in settings.items():
        if not key.startswith(CELERY_PREFIX):
            continue
        name = key[len(CELERY_PREFIX):]
        if name in _BOOL_KEYS:
            value = asbool(value)
        elif name in _INT_KEYS:
            value = int(value)
        if value == "" and name == "result_backend":
            continue
        conf[name] = value
    conf.setdefault("task_eager_propagates", True)
    return conf


def make_celery(registry):
    app = Celery("lms", set_as_current=False)
    app.conf.update(celery_config(registry.settings))
    app.conf.lms_registry = registry
    registry["lms.plugin_manager"].hook.lms_celery_setup(celery_app=app)
    return app


def task(*args, **kwargs):
    """Declare a task (bound: its first argument is the task itself).

    A task body reaches the database with ``with task_session(self) as db:``.
    """
    kwargs.setdefault("bind", True)
    return shared_task(*args, **kwargs)


def task_session(celery_task):
    """A transactional session for a task body: ``with task_session(self) as db: ...``."""
    registry = celery_task.app.conf.lms_registry
    manager = transaction.TransactionManager(explicit=True)

    class _Context:
        def __enter__(self):
            manager.begin()
            self.db = get_tm_session(registry["lms.dbsession_factory"], manager)
            return self.db

        def __exit__(self, exc_type, exc, tb):
            try:
                if exc_type is None:
                    manager.commit()
                else:
                    manager.abort()
            finally:
                self.db.close()
            return False

    return _Context()


def send_after_commit(request, celery_task, *args, **kwargs):
    """Queue ``celery_task`` only if the request's transaction commits."""
    app = request.registry["lms.celery"]

    def hook(success):
        if success:
            bound = app.tasks[celery_task.name]  # the task as registered on this app
            if app.conf.task_always_eager:
                bound.apply(args=args, kwargs=kwargs)
            else:
                bound.apply_async(args=args, kwargs=kwargs)

    request.tm.get().addAfterCommitHook(hook)


def includeme(config):
    config.registry["lms.celery"] = None

    def build(_event=None):
        if config.registry["lms.celery"] is None:
            config.registry["lms.celery"] = make_celery(config.registry)

    config.action("lms.tasks.celery", build, order=10**6)
