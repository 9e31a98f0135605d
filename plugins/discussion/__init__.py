"""discussion: the Open edX discussion API (``/api/discussion/v1``, ``v2``, ``v3``) with
no separate forum service: threads, comments, votes, flags, subscriptions and read states
live in this plugin's tables.

Its one name, ``discussion``, is its settings prefix, table prefix (``discussion_*``),
alembic branch and service-name prefix.

- :mod:`.config`: the course policy's topics, blackouts and anonymity, the division
  settings; :mod:`.division`: cohorts and enrollment tracks as groups;
- :mod:`.access`: who may use a course's discussions, privileges and author labels;
  :mod:`.roles`: forum roles;
- :mod:`.content`: threads and comments as the API shows them (one fixed set of
  queries per page), ``editable_fields``; :mod:`.render`: Markdown to safe HTML;
- :mod:`.views`: the endpoints, one module per family.
"""
from lms.hookspecs import hookimpl

name = "discussion"
version = "0.1.0"
requires = ("courses", "enrollment", "accounts")


@hookimpl
def lms_default_settings():
    from plugins.discussion.settings import DEFAULTS

    return dict(DEFAULTS)


@hookimpl
def lms_includeme(config):
    from plugins.discussion.settings import check

    check(config.registry.settings)
    config.scan("plugins.discussion.views")
    config.include("plugins.discussion.views.uploads")


@hookimpl
def lms_permission_matrix():
    from plugins.discussion.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_retire_user(dbsession, user, retired_username, retired_email, original_email):
    from plugins.discussion import retirement

    retirement.forget_user(dbsession, user.id)


@hookimpl
def lms_username_replaced(dbsession, user_id, old_username, new_username):
    # Every row names people by user id; lists and bodies read the current username.
    return None
