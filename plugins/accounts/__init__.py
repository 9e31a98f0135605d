"""accounts: registration, accounts, preferences, identity, and user retirement.

Its one name, ``accounts``, is its settings prefix, table prefix
(``accounts_*``), alembic branch and service-name prefix. Other plugins use
:mod:`plugins.accounts.api`.

- :mod:`.config`: every setting, parsed once at start-up (``lms_includeme``);
- :mod:`.models`, :mod:`.serializers`: tables and the account API's shapes;
- registration: :mod:`.fields` (names, limits, messages), :mod:`.forms` (form
  descriptions), :mod:`.validation` (cleaning the posted form),
  :mod:`.availability` (taken, retired or reserved names), :mod:`.passwords`
  (the password policy), :mod:`.creation` (accounts and activation),
  :mod:`.redirects` (where to go after login) and :mod:`.tpa_context`;
- :mod:`.password_reset`, :mod:`.retirement`, :mod:`.identity`, :mod:`.images`;
- :mod:`.views`: the endpoints, one module per API family.
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
    from plugins.accounts.identity import SETTINGS as identity_settings
    from plugins.accounts.config import SETTINGS as registration_settings
    from plugins.accounts.retirement import SETTINGS as retirement_settings
    from plugins.accounts.serializers import SETTINGS as account_settings
    from plugins.accounts.views.mfe_config import SETTINGS as mfe_config_settings
    from plugins.accounts.views.preferences import SETTINGS as preference_settings
    from plugins.accounts.views.third_party_auth import (
        SETTINGS as third_party_auth_settings,
    )
    from plugins.accounts.views.user_tours import SETTINGS as user_tour_settings

    return {
        **account_settings,
        **mfe_config_settings,
        **preference_settings,
        **third_party_auth_settings,
        **user_tour_settings,
        **identity_settings,
        **registration_settings,
        **retirement_settings,
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
    from plugins.accounts.config import CONFIG_KEY, parse_settings

    # Parsed once here (a bad value stops the start-up); views read the registry.
    config.registry[CONFIG_KEY] = parse_settings(config.get_settings())
    # Fixed paths such as accounts/retire/ first: accounts/{username} (served with an
    # optional trailing slash) would match them too, and the first route wins.
    config.scan("plugins.accounts.views.retirement")
    config.scan("plugins.accounts.views", ignore=["plugins.accounts.views.retirement"])


@hookimpl
def lms_permission_matrix():
    from plugins.accounts.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_cli_commands():
    from plugins.accounts.commands import all_commands

    return all_commands()


@hookimpl
def lms_feature_toggles(settings):
    from plugins.accounts.views.toggles import accounts_toggles

    return accounts_toggles(settings)


@hookimpl
def lms_service_accounts(registry):
    from plugins.accounts.config import accounts_config

    services = accounts_config(registry).services
    accounts = {"retirement": services.retirement_service_username,
                "username_replacement": services.username_replacement_worker}
    return {service: username for service, username in accounts.items() if username}


@hookimpl
def lms_user_created(dbsession, user):
    from plugins.accounts.views.user_tours import create_user_tour

    create_user_tour(dbsession, user)


@hookimpl
def lms_identity_retired(dbsession, settings, username, email):
    from plugins.accounts import api

    return (api.is_username_retired(dbsession, settings, username)
            or api.is_email_retired(dbsession, settings, email))


@hookimpl
def lms_bench_dataset(dataset):
    from plugins.accounts.bench import add_dataset

    add_dataset(dataset)


@hookimpl
def lms_bench_scenarios(size):
    from plugins.accounts.bench import scenarios

    return scenarios(size)
