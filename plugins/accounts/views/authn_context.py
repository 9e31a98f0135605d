"""The authn MFE's context: ``GET /api/mfe_context`` and ``/api/third_party_auth_context``.

One view behind both paths (upstream MFEContextView): the platform name, the
third-party login providers of ``accounts.third_party_auth_providers`` (with
their login/register URLs carrying ``next``), and the country code (always
null: no GeoIP database). Dynamic registration fields
(ENABLE_DYNAMIC_REGISTRATION_FIELDS) are off, so ``registrationFields`` and
``optionalFields`` keep upstream's empty shapes. Anonymous callers are
limited per IP (``accounts.logistration_api_rate``, 429).

Query: ``next`` (kept only when safe, else ``/dashboard``), ``tpa_hint``
(shows that provider even when it is hidden), ``is_register_page`` and
``is_welcome_page`` (no effect without dynamic fields).
"""
import colander

from lms import auth, throttle
from lms.service import Service
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import get_config
from plugins.accounts.redirects import next_url_for_login_page
from plugins.accounts.tpa_context import third_party_auth_context

mfe_context = Service("accounts.mfe_context", "/api/mfe_context", auth=auth.DEFAULT_AUTH,
                      anonymous=True, description="Authn MFE context.")
tpa_context = Service("accounts.third_party_auth_context", "/api/third_party_auth_context",
                      auth=auth.DEFAULT_AUTH, anonymous=True,
                      description="Authn MFE context (older path).")


class ContextQuery(colander.MappingSchema):
    """Optional text parameters; others are ignored, as upstream."""

    next = colander.SchemaNode(colander.String(allow_empty=True), missing=None)
    tpa_hint = colander.SchemaNode(colander.String(allow_empty=True), missing=None)
    is_register_page = colander.SchemaNode(colander.String(allow_empty=True), missing=None)
    is_welcome_page = colander.SchemaNode(colander.String(allow_empty=True), missing=None)


def context_validator(request, **kwargs):
    config = get_config(request.registry)
    if request.user is None:  # AnonRateThrottle
        throttle.enforce(request, "accounts.logistration_api", throttle.client_ip(request),
                         config.rates["logistration_api"])
    request.validated.update(ContextQuery().deserialize(dict(request.GET)))


@mfe_context.get(validators=(context_validator,), query=ContextQuery,
                 responses={200: doc.AUTHN_CONTEXT, 429: "Throttled (anonymous callers)."})
@tpa_context.get(validators=(context_validator,), query=ContextQuery,
                 responses={200: doc.AUTHN_CONTEXT, 429: "Throttled (anonymous callers)."})
def get_mfe_context(request):
    """What the authn MFE needs to draw its pages (third-party auth providers, fields)."""
    query = request.validated
    redirect_to = next_url_for_login_page(request, request.GET)
    return {
        "contextData": third_party_auth_context(request, redirect_to, query["tpa_hint"]),
        "registrationFields": {"fields": {}},
        "optionalFields": {"fields": {}, "extended_profile": []},
    }
