"""A plugin used only by the core's tests: one service per auth style."""
from lms.hookspecs import hookimpl

name = "fake"
version = "1.0"
requires = ()


@hookimpl
def lms_includeme(config):
    config.scan(".views")


@hookimpl
def lms_celery_setup(celery_app):
    from . import tasks  # noqa: F401  (registers the shared tasks)
