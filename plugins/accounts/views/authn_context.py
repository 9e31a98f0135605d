"""The authn MFE's context: ``GET /api/mfe_context`` and ``/api/third_party_auth_context``.

One view behind both paths (upstream MFEContextView): the platform name, the
third-party login providers of ``accounts.third_party_auth_providers`` (with
their login/register URLs carrying ``next``), and the country code (always
null: no GeoIP database). With ``accounts.enable_dynamic_registration_fields``
(ENABLE_DYNAMIC_REGISTRATION_FIELDS) the register page also gets the required
extra fields (``registrationFields``) and the optional ones (``optionalFields``
with the ``extended_profile`` names), the welcome page only the optional ones;
otherwise both keep upstream's empty shapes. The fields come from the same
policies as the registration form description and registration itself
(:meth:`plugins.accounts.config.RegistrationConfig.field_policies`). Anonymous
callers are limited per IP (``accounts.logistration_api_rate``, 429).

Query: ``next`` (kept only when safe, else ``/dashboard``), ``tpa_hint``
(shows that provider even when it is hidden), ``is_register_page`` and
``is_welcome_page`` (any non-empty value; the welcome page wins, and gets
``welcomePageRedirectUrl`` when ``next`` was kept).
"""
import colander

from lms import auth, throttle
from lms.service import Service
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import accounts_config, get_config
from plugins.accounts.forms import authn_mfe_fields
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
    context = third_party_auth_context(request, redirect_to, query["tpa_hint"])
    required, optional = {}, {}
    config = accounts_config(request.registry)
    extended_profile = config.account.extended_profile_fields
    if config.registration.dynamic_registration_fields:
        if query["is_welcome_page"]:
            context["welcomePageRedirectUrl"] = (redirect_to if redirect_to == query["next"]
                                                 else None)
            optional = authn_mfe_fields(config.registration, extended_profile, "optional")
        elif query["is_register_page"]:
            required = authn_mfe_fields(config.registration, extended_profile, "required")
            optional = authn_mfe_fields(config.registration, extended_profile, "optional")
    return {
        "contextData": context,
        "registrationFields": {"fields": required},
        # The extended profile names come only with optional fields, as upstream.
        "optionalFields": {"fields": optional,
                           "extended_profile": list(extended_profile) if optional else []},
    }
