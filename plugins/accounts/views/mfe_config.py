"""MFE runtime configuration, ``GET /api/mfe_config/v1`` (upstream ``mfe_config_api``).

Anyone may read it. The answer is upstream's legacy keys (at their upstream
defaults), then the common configuration, then (``?mfe=<name>``) that MFE's
overrides, later sources winning. With the API disabled the answer is
upstream's ``HttpResponseNotFound``: 404 with an empty, non-JSON body.

Settings (declared in :mod:`plugins.accounts`):

- ``accounts.enable_mfe_config_api``: serve it (upstream ENABLE_MFE_CONFIG_API;
  default true here, since openlms exists to serve MFEs).
- ``accounts.mfe_config_api_cache_timeout``: seconds clients may cache it
  (``Cache-Control: max-age``, as upstream's ``cache_page``; default 300).
- ``accounts.mfe_config``: the common configuration (MFE_CONFIG) as a JSON object.
- ``accounts.mfe_config.<KEY>``: one common key per line (``accounts.mfe_config.LMS_BASE_URL
  = http://...``); the value is JSON when it parses as JSON (``true``, ``10``,
  ``{...}``, ``"text"``), else the text itself. These win over ``accounts.mfe_config``.
- ``accounts.mfe_config_overrides``: per-MFE overrides (MFE_CONFIG_OVERRIDES)
  as a JSON object of objects, keyed by MFE name (``learning``, ``account``, ...).
- ``accounts.mfe_config_overrides.<mfe>.<KEY>``: one override per line, same
  value rule; the MFE name is everything up to the last dot.

A malformed value stops the application at start-up. Upstream's per-site
configuration and its help-tokens ``SUPPORT_URL`` for the instructor
dashboard have no openlms equivalent; set such keys in the overrides.
"""
import json
from dataclasses import dataclass
from email.utils import formatdate
from time import time

from pyramid.exceptions import ConfigurationError
from pyramid.response import Response

from lms.auth import DEFAULT_AUTH
from lms.service import Service
from lms.settings import as_bool, as_int
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import accounts_config

SETTINGS = {
    "accounts.enable_mfe_config_api": "true",
    "accounts.mfe_config_api_cache_timeout": "300",
    # JSON objects; single keys may also be set as accounts.mfe_config.<KEY> and
    # accounts.mfe_config_overrides.<mfe>.<KEY> (see this module's docstring).
    "accounts.mfe_config": "",
    "accounts.mfe_config_overrides": "",
}
COMMON_PREFIX = "accounts.mfe_config."
OVERRIDES_PREFIX = "accounts.mfe_config_overrides."

# Upstream get_legacy_config(), at the platform's default settings.
LEGACY_CONFIG = {
    "ENABLE_COURSE_SORTING_BY_START_DATE": True,
    "HOMEPAGE_PROMO_VIDEO_YOUTUBE_ID": None,
    "HOMEPAGE_COURSE_MAX": None,
    "COURSE_ABOUT_TWITTER_ACCOUNT": "@YourPlatformTwitterAccount",
    "NON_BROWSABLE_COURSES": False,
    "ENABLE_COURSE_DISCOVERY": False,
}

mfe_config = Service("accounts.mfe_config", "/api/mfe_config/v1", auth=DEFAULT_AUTH,
                     anonymous=True)


@dataclass(frozen=True)
class MfeConfig:
    enabled: bool
    cache_timeout: int
    common: dict
    overrides: dict


def _json_object(settings, key):
    text = (settings.get(key) or "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{key} is not JSON: {exc}")
    if not isinstance(value, dict):
        raise ConfigurationError(f"{key} must be a JSON object")
    return value


def _line_value(text):
    """A one-key setting: JSON when it parses as JSON, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_mfe_config(settings):
    common = _json_object(settings, "accounts.mfe_config")
    overrides = _json_object(settings, "accounts.mfe_config_overrides")
    for name, values in overrides.items():
        if not isinstance(values, dict):
            raise ConfigurationError(
                f"accounts.mfe_config_overrides[{name!r}] must be a JSON object")
    overrides = {name: dict(values) for name, values in overrides.items()}
    for key in sorted(settings):
        if key.startswith(COMMON_PREFIX):
            common[key[len(COMMON_PREFIX):]] = _line_value(settings[key])
        elif key.startswith(OVERRIDES_PREFIX):
            mfe, _, name = key[len(OVERRIDES_PREFIX):].rpartition(".")
            if not mfe or not name:
                raise ConfigurationError(
                    f"{key}: expected accounts.mfe_config_overrides.<mfe>.<KEY>")
            overrides.setdefault(mfe, {})[name] = _line_value(settings[key])
    return MfeConfig(
        enabled=as_bool(settings, "accounts.enable_mfe_config_api"),
        cache_timeout=as_int(settings, "accounts.mfe_config_api_cache_timeout"),
        common=common,
        overrides=overrides,
    )


def configured(registry):
    return accounts_config(registry).mfe


@mfe_config.get(query={"mfe": "Add this MFE's own settings."},
                responses={200: doc.MFE_CONFIG, 404: "The MFE config API is off (empty)."})
def get_mfe_config(request):
    """The MFEs' runtime configuration (`?mfe=` adds one MFE's overrides)."""
    config = configured(request.registry)
    if not config.enabled:
        return Response(status=404, body=b"", content_type="text/html", charset="utf-8")
    merged = LEGACY_CONFIG | config.common
    mfe = request.GET.get("mfe")
    if mfe:
        merged |= config.overrides.get(mfe, {})
    if config.cache_timeout > 0:
        # Django's cache_page: max-age and Expires on a successful answer.
        request.response.headers["Cache-Control"] = f"max-age={config.cache_timeout}"
        request.response.headers["Expires"] = formatdate(time() + config.cache_timeout,
                                                         usegmt=True)
    return merged
