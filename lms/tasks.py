"""Background work: one Celery app per LMS app, configured from ``celery.*`` settings.

The embedded default (``celery.task_always_eager = true``, broker ``memory://``)
runs tasks in-process so a laptop needs no broker; production points
``celery.broker_url`` at Redis and runs ``lms worker``.

Plugins declare tasks with :func:`task` and send them with
:func:`send_after_commit`, so nothing is queued for a transaction that rolls back.

Celery (with kombu, yaml, amqp...) is imported and the app built on first use (the
first task sent, ``lms worker``), not at start-up: most processes never send one.
"""
import threading

import transaction
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
    from celery import Celery

    app = Celery("lms", set_as_current=False)
    app.conf.update(celery_config(registry.settings))
    app.conf.lms_registry = registry
    registry["lms.plugin_manager"].hook.lms_celery_setup(celery_app=app)
    for declared in _declared_tasks:  # after the hook, which may import task modules
        declared.register(app)
    return app


_building = threading.Lock()  # request threads may send their first tasks together


def celery_app(registry):
    """The app's Celery app, built (and Celery imported) on the first call."""
    app = registry.get("lms.celery")
    if app is None:
        with _building:
            app = registry.get("lms.celery")
            if app is None:
                app = registry["lms.celery"] = make_celery(registry)
    return app


_declared_tasks = []


class TaskDeclaration:
    """A task declared with :func:`task`, registered on each Celery app as it is built
    (what ``shared_task`` does, without importing Celery to declare one). Attributes and
    calls reach the task of the app built last (``delay``, ``apply``...), as
    ``shared_task``'s proxy reaches the current app's."""

    def __init__(self, function, options):
        self.function = function
        self.options = options
        self.name = options.get("name") or f"{function.__module__}.{function.__name__}"
        self._latest = None

    def register(self, app):
        if self.name not in app.tasks:
            app.task(**{"shared": False, **self.options, "name": self.name})(self.function)
        self._latest = app.tasks[self.name]
        return self._latest

    def _task(self):
        if self._latest is None:
            raise RuntimeError(f"task {self.name} is not registered: no Celery app is built")
        return self._latest

    def __call__(self, *args, **kwargs):
        return self._task()(*args, **kwargs)

    def __getattr__(self, attribute):
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self._task(), attribute)


def task(*args, **kwargs):
    """Declare a task (bound: its first argument is the task itself).

    ``@task`` or ``@task(name=..., **celery_task_options)``, as Celery's ``shared_task``.
    A task body reaches the database with ``with task_session(self) as db:``.
    """
    kwargs.setdefault("bind", True)

    def declare(function):
        declared = TaskDeclaration(function, kwargs)
        _declared_tasks.append(declared)
        return declared

    if len(args) == 1 and callable(args[0]):
        return declare(args[0])
    return declare


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
    app = celery_app(request.registry)

    def hook(success):
        if success:
            # the task as registered on this app (a task module imported late registers now)
            bound = (celery_task.register(app) if isinstance(celery_task, TaskDeclaration)
                     else app.tasks[celery_task.name])
            if app.conf.task_always_eager:
                bound.apply(args=args, kwargs=kwargs)
            else:
                bound.apply_async(args=args, kwargs=kwargs)

    request.tm.get().addAfterCommitHook(hook)


def includeme(config):
    config.registry["lms.celery"] = None  # built by celery_app() when first needed
