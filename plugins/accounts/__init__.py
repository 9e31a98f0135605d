"""accounts: registration, accounts, preferences, identity, and user retirement.

Its one name, ``accounts``, is its settings prefix, table prefix
(``accounts_*``), alembic branch and service-name prefix. Other plugins use
:mod:`plugins.accounts.api`.
"""
from lms.hookspecs import hookimpl

name = "accounts"
version = "0.1.0"
requires = ()

# The upstream default pipeline, plus the LMS-misc pair real deployments use.
DEFAULT_RETIREMENT_STATES = (
    "PENDING LOCKING_ACCOUNT LOCKING_COMPLETE RETIRING_FORUMS FORUMS_COMPLETE "
    "RETIRING_EMAIL_LISTS EMAIL_LISTS_COMPLETE RETIRING_ENROLLMENTS ENROLLMENTS_COMPLETE "
    "RETIRING_NOTES NOTES_COMPLETE RETIRING_LMS_MISC LMS_MISC_COMPLETE RETIRING_LMS "
    "LMS_COMPLETE ERRORED ABORTED COMPLETE"
)


@hookimpl
def lms_default_settings():
    return {
        # Retirement states, in execution order (seeded by migration; change with
        # `lms populate-retirement-states` after editing this list).
        "accounts.retirement_states": DEFAULT_RETIREMENT_STATES,
        # Salts for retired usernames/emails; the last one is used for new retirements.
        "accounts.retired_user_salts": "openlms-retired-user-salt",
        "accounts.retired_username_prefix": "retired__user_",
        "accounts.retired_email_prefix": "retired__user_",
        "accounts.retired_email_domain": "retired.invalid",
    }


@hookimpl
def lms_includeme(config):
    config.scan("plugins.accounts.views")


@hookimpl
def lms_cli_commands():
    from plugins.accounts.commands import all_commands

    return all_commands()
