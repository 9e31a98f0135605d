"""Hook specifications of the openlms core.

Every hook is prefixed ``lms_``. A plugin implements the ones it needs as
module-level functions decorated with :data:`hookimpl`. The plugin author's
guide (``docs/plugins.md``) documents each of them with an example; a test
checks that no hookspec is left undocumented.
"""
import pluggy

PROJECT = "lms"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(historic=True)
def lms_addhooks(pluginmanager):
    """Let a plugin publish hook specifications of its own.

    Called once for every plugin as it is registered, before any other hook.
    Call ``pluginmanager.add_hookspecs(module)``.
    """


@hookspec
def lms_default_settings():
    """Return a dict of this plugin's setting defaults.

    Keys must start with the plugin's name and a dot (``experiments.page_size``).
    Two plugins declaring the same key is a start-up error. Values are strings,
    as they would be in the ``.ini``; the environment may override them.
    """


@hookspec
def lms_includeme(config):
    """Add the plugin's Pyramid configuration: Cornice services, views, subscribers.

    The core calls each enabled plugin's implementation through
    ``config.include``, in dependency order, so relative dotted names
    (``config.scan(".views")``) resolve against the plugin's package.
    """


@hookspec
def lms_feature_toggles(settings):
    """Return a list of feature toggles this plugin contributes.

    Each item is a dict: ``{"name": str, "type": "waffle_flag" | "waffle_switch"
    | "setting_toggle", "is_active": bool, "note": str}``.
    """


@hookspec
def lms_retire_user(dbsession, user, retired_username, retired_email):
    """Scrub this plugin's personal data about ``user`` (retirement pipeline).

    ``user`` is the core :class:`lms.models.User` row before it is renamed.
    Runs inside the request transaction: raise to abort the whole retirement.
    """


@hookspec
def lms_user_created(dbsession, user):
    """A user account was created (registration, CLI, JWT get-or-create)."""


@hookspec
def lms_user_deactivated(dbsession, user):
    """A user account was deactivated (``is_active`` set to false)."""


@hookspec
def lms_enrollment_changed(dbsession, user_id, course_key, mode, is_active):
    """An enrollment was created or its mode/active flag changed."""


@hookspec
def lms_celery_setup(celery_app):
    """Configure the Celery app: register task modules, beat schedules."""


@hookspec
def lms_heartbeat_checks(request):
    """Return a dict ``{component: (ok: bool, message: str)}`` for ``/heartbeat``."""
