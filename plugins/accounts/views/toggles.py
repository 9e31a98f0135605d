"""Feature toggle report, ``GET /api/toggles/v0/state/`` (upstream ``waffle_utils.views``).

Global staff only. openlms has no waffle tables: the toggles are those every
enabled plugin declares through the ``lms_feature_toggles`` hook, with their
current values. Each is shaped as upstream's report shapes its kind, lists
sorted by name:

- ``waffle_flag`` -> ``waffle_flags``: ``{"name", "class": "WaffleFlag", "module",
  "everyone": "yes"|"no", "note"?, "computed_status": "on"|"off"}``;
- ``waffle_switch`` -> ``waffle_switches``: ``{"name", "class": "WaffleSwitch",
  "module", "is_active": "true"|"false", "note"?, "computed_status"}``;
- ``setting_toggle`` (and any other kind) -> ``django_settings``: ``{"name",
  "is_active": bool, "class": "SettingToggle", "module"}``.

``module`` is the declaring plugin's module. Upstream's ``created``/``modified``
come from waffle rows, which do not exist here, so they are absent.
"""
from lms import permissions
from lms.auth import JWT, SESSION_STRICT
from lms.plugins import feature_toggles
from lms.service import Service
from lms.settings import as_bool
from plugins.accounts import openapi_schemas as doc

toggle_state = Service("accounts.toggle_state", "/api/toggles/v0/state/",
                       auth=(JWT, SESSION_STRICT))


def accounts_toggles(settings):
    """The accounts plugin's own toggles (its ``lms_feature_toggles``)."""
    return [
        {"name": "user_tours.tours_disabled", "type": "waffle_flag",
         "is_active": as_bool(settings, "accounts.user_tours_disabled"),
         "note": "Disables the product tours (accounts.user_tours_disabled)."},
        {"name": "ENABLE_MFE_CONFIG_API", "type": "setting_toggle",
         "is_active": as_bool(settings, "accounts.enable_mfe_config_api"),
         "note": "Serves /api/mfe_config/v1 (accounts.enable_mfe_config_api)."},
        {"name": "ALLOW_UNPRIVILEGED_SSO_PROVIDER_QUERY", "type": "setting_toggle",
         "is_active": as_bool(settings, "accounts.allow_unprivileged_sso_provider_query"),
         "note": "Anyone may ask which providers another user is linked to."},
    ]


def waffle_flag(module, toggle):
    active = bool(toggle.get("is_active"))
    entry = {"name": toggle["name"], "class": "WaffleFlag", "module": module,
             "everyone": "yes" if active else "no"}
    if toggle.get("note"):
        entry["note"] = toggle["note"]
    entry["computed_status"] = "on" if active else "off"
    return entry


def waffle_switch(module, toggle):
    active = bool(toggle.get("is_active"))
    entry = {"name": toggle["name"], "class": "WaffleSwitch", "module": module,
             "is_active": "true" if active else "false"}
    if toggle.get("note"):
        entry["note"] = toggle["note"]
    entry["computed_status"] = "on" if active else "off"
    return entry


def setting_toggle(module, toggle):
    return {"name": toggle["name"], "is_active": bool(toggle.get("is_active")),
            "class": "SettingToggle", "module": module}


@toggle_state.get(responses={200: doc.TOGGLE_REPORT, 403: "Not staff."})
def get_toggle_state(request):
    """The feature toggles of every enabled plugin and their state (staff)."""
    permissions.require(permissions.is_staff(request.user))
    report = {"waffle_flags": [], "waffle_switches": [], "django_settings": []}
    for module, toggle in feature_toggles(request.registry):
        kind = toggle.get("type")
        if kind == "waffle_flag":
            report["waffle_flags"].append(waffle_flag(module, toggle))
        elif kind == "waffle_switch":
            report["waffle_switches"].append(waffle_switch(module, toggle))
        else:
            report["django_settings"].append(setting_toggle(module, toggle))
    for entries in report.values():
        entries.sort(key=lambda entry: entry["name"])
    return report
