"""The third-party-auth context the authn micro-frontend reads (``MFEContextView``)."""
from urllib.parse import urlencode

from plugins.accounts.config import accounts_config

def third_party_auth_context(request, redirect_to, tpa_hint=None):
    """Upstream's context dict, with the configured providers shown at login.

    openlms runs no SSO pipeline, so nothing is ever "current".
    """
    config = accounts_config(request.registry)
    providers, secondary = [], []
    for provider in config.providers:
        if not (provider.display_for_login or provider.provider_id == tpa_hint):
            continue

        def entry_url(auth_entry, provider=provider):
            query = {"auth_entry": auth_entry}
            if redirect_to:
                query["next"] = redirect_to
            query.update(provider.login_params)
            return f"/auth/login/{provider.backend_name}/?{urlencode(query)}"

        info = {
            "id": provider.provider_id,
            "name": provider.name,
            "iconClass": provider.options["icon_class"] or None,
            "iconImage": provider.options["icon_image"] or None,
            "skipHintedLogin": provider.options["skip_hinted_login_dialog"],
            "skipRegistrationForm": provider.options["skip_registration_form"],
            "loginUrl": entry_url("login"),
            "registerUrl": entry_url("register"),
        }
        (secondary if provider.options["secondary"] else providers).append(info)
    return {
        "currentProvider": None,
        "platformName": config.registration.platform_name,
        "providers": providers,
        "secondaryProviders": secondary,
        "finishAuthUrl": None,
        "errorMessage": None,
        "registerFormSubmitButtonText": "Create Account",
        "autoSubmitRegForm": False,
        "syncLearnerProfileData": False,
        # No GeoIP database: the country is unknown.
        "countryCode": None,
        "welcomePageRedirectUrl": None,
        "pipelineUserDetails": {},
    }
