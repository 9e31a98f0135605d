"""experiments: the Open edX experiments API (``/api/experiments/v0/``).

The reference plugin: copy its layout. Its one name, ``experiments``, is its
settings prefix (``experiments.*``), table prefix (``experiments_*``), alembic
branch and Cornice service-name prefix (``experiments.data_list``).

- :mod:`.models`: tables; :mod:`.schemas`: request schemas;
  :mod:`.views`: the endpoints; :mod:`.upsell`: upgrade rules on course data;
- :mod:`.api`: the public Python API, the only module other plugins may import;
- ``migrations/versions/``: the ``experiments`` alembic branch.

Courses and enrollments are not ours: REV-934 and userMetadata ask for them
through the ``lms_get_course`` and ``lms_get_enrollment`` hooks; with no plugin
answering, every course is unknown (404).
"""
from lms.hookspecs import hookimpl
from lms.settings import as_bool

name = "experiments"
version = "0.1.0"
requires = ()


@hookimpl
def lms_default_settings():
    return {
        # Upstream waffle flag experiments.mobile_upsell_rev934 (default off).
        "experiments.mobile_upsell_rev934": "false",
        # Ecommerce checkout for upgrade links; an empty root means "no
        # checkout on the ecommerce service", so links point to /dashboard.
        "experiments.ecommerce_public_url_root": "",
        "experiments.basket_checkout_page": "/basket/add/",
        # PAID_COURSE_REGISTRATION_CURRENCY: the price shown is in this currency.
        "experiments.currency": "usd",
        "experiments.currency_symbol": "$",
    }


@hookimpl
def lms_includeme(config):
    from plugins.experiments.upsell import REGISTRY_KEY, UpsellConfig

    # Parsed once here; views read the registry, never the raw settings.
    config.registry[REGISTRY_KEY] = UpsellConfig.from_settings(config.get_settings())
    config.scan(".views")


@hookimpl
def lms_feature_toggles(settings):
    return [{
        "name": "experiments.mobile_upsell_rev934",
        "type": "setting_toggle",
        "is_active": as_bool(settings, "experiments.mobile_upsell_rev934"),
        "note": "REV-934: offer the verified upgrade in the mobile app.",
    }]


@hookimpl
def lms_permission_matrix():
    from plugins.experiments.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_retire_user(dbsession, user, retired_username, retired_email):
    from plugins.experiments import api

    api.delete_user_data(dbsession, user.id)


@hookimpl
def lms_bench_dataset(dataset):
    from plugins.experiments.bench import add_dataset

    add_dataset(dataset)


@hookimpl
def lms_bench_scenarios(size):
    from plugins.experiments.bench import scenarios

    return scenarios(size)
