"""hello: an example third-party openlms plugin.

Its one name, ``hello``, is used everywhere: the settings prefix (``hello.*``),
the table prefix (``hello_greeting``), the alembic branch label (``hello``) and
the prefix of its Cornice service names (``hello.greetings``).

It imports only the core (``lms.*``); a plugin that wanted to use greetings
would list ``"hello"`` in its ``requires`` and import :mod:`openlms_hello.api`.
"""
from lms.hookspecs import hookimpl

name = "hello"
version = "0.1.0"
requires = ()


@hookimpl
def lms_default_settings():
    return {"hello.greeting": "Hello"}


@hookimpl
def lms_includeme(config):
    settings = config.get_settings()
    # Parsed once here; views read the registry, never the raw setting.
    greeting = settings["hello.greeting"].strip()
    if not greeting:
        from pyramid.exceptions import ConfigurationError

        raise ConfigurationError("hello.greeting must not be empty")
    config.registry["hello.greeting"] = greeting
    config.scan(".views")


@hookimpl
def lms_permission_matrix():
    from openlms_hello.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_retire_user(dbsession, user, retired_username, retired_email):
    from openlms_hello import api

    api.delete_greetings(dbsession, user.id)
