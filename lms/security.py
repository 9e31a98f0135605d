"""Wires authentication configuration onto the registry and the request."""
from lms.auth import AuthConfig
from lms.tokens import JWTConfig


def includeme(config):
    settings = config.get_settings()
    config.registry["lms.auth_config"] = AuthConfig.from_settings(settings)
    config.registry["lms.jwt_config"] = JWTConfig.from_settings(settings)
    # Views outside Cornice services see an anonymous caller until authenticated.
    config.add_request_method(lambda request: None, "user", reify=True)
    config.add_request_method(lambda request: None, "authentication", reify=True)
