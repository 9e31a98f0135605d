"""Third-party auth links, ``/api/third_party_auth/v0/...`` (upstream ``third_party_auth.api``).

- ``providers/user_status``: the caller's state with every provider shown at
  login or already linked (``connect_url`` / ``disconnect_url`` as upstream).
- ``providers/{provider_id}/users``: server-to-server mapping of usernames to
  remote ids, paginated; ``?username=`` and ``?remote_id=`` (repeatable and/or
  comma-separated, OR-ed), ``?remote_id_field_name=`` reads the id from the
  link's ``extra_data``.
- ``users/?username=|email=`` and ``users/{username or email}``: the providers
  linked to an account (``remote_id`` only for privileged callers).

openlms runs no SSO flow itself: providers are configuration, links are rows
of ``SocialAuthLink`` (``provider`` = the backend name, ``uid`` = the remote id,
prefixed ``<slug>:`` for SAML and LTI providers, as python-social-auth stores them).

Settings (declared in :mod:`plugins.accounts`):

- ``accounts.third_party_auth_providers``: a JSON list of providers, each an
  object with ``type`` (``oauth2``, the default, ``saml`` or ``lti``);
  ``backend_name`` (oauth2, e.g. ``google-oauth2``: id ``oa2-google-oauth2``),
  ``slug`` (saml: id ``saml-<slug>``, backend ``tpa-saml`` unless
  ``backend_name`` says otherwise) or ``consumer_key`` (lti: id
  ``lti-<key>``, never accepts logins); ``name``; ``visible`` (shown at login,
  default false as upstream); ``enabled`` (default true); and, for the login
  page, ``icon_class``, ``icon_image``, ``secondary``,
  ``skip_hinted_login_dialog``, ``skip_registration_form``,
  ``skip_email_verification``, ``send_to_registration_first``,
  ``sync_learner_profile_data``. A malformed list stops the application at start-up.
- ``accounts.account_microfrontend_url``: where ``connect_url`` returns to
  (upstream ACCOUNT_MICROFRONTEND_URL; empty: no ``next``).
- ``accounts.allow_unprivileged_sso_provider_query``: let anyone ask about
  other users' links (upstream ALLOW_UNPRIVILEGED_SSO_PROVIDER_QUERY, default false).
- ``accounts.tpa_provider_burst_throttle`` / ``accounts.tpa_provider_sustained_throttle``:
  rates of unprivileged ``users`` queries (default ``10/m`` and ``50/h``).

Deliberate differences: a provider id without ``-`` is 404 (upstream 500),
and ``remote_id_field_name`` works for every provider type (upstream 500 for
OAuth2 providers). Upstream's two throttles share one counter; here each has its own.
"""
import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pyramid.exceptions import ConfigurationError
from sqlalchemy import false, or_, select

from lms import pagination, permissions
from lms.auth import BEARER_STRICT, JWT, STANDARD_AUTH, has_api_key
from lms.errors import APIError, detail, permission_denied
from lms.models import User
from lms.openapi import page_of
from lms.routing import USERNAME
from lms.service import Service
from lms.throttle import Throttled, client_ip, hit
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import accounts_config
from plugins.accounts.models import SocialAuthLink

BASE = "/api/third_party_auth/v0/"

SETTINGS = {
    # JSON list of third-party auth providers (see this module's docstring).
    "accounts.third_party_auth_providers": "",
    # Where connect_url returns after linking (ACCOUNT_MICROFRONTEND_URL).
    "accounts.account_microfrontend_url": "",
    "accounts.allow_unprivileged_sso_provider_query": "false",
    "accounts.tpa_provider_burst_throttle": "10/m",
    "accounts.tpa_provider_sustained_throttle": "50/h",
}
AUTH_ENTRY_ACCOUNT_SETTINGS = "account_settings"
REQUIRED_SCOPE = "tpa:read"

user_status = Service("accounts.tpa_user_status", BASE + "providers/user_status",
                      auth=STANDARD_AUTH)
# provider_id, optionally followed by ":<idp_slug>" (upstream PROVIDER_PATTERN).
user_mapping = Service("accounts.tpa_user_mapping",
                       BASE + r"providers/{provider_id:[\w.+-]+(?::[\w.+-]+)?}/users",
                       auth=(JWT, BEARER_STRICT), api_key=True, accept_restricted=True)
users_query = Service("accounts.tpa_users", BASE + "users/", auth=STANDARD_AUTH,
                      anonymous=True)
user_links = Service("accounts.tpa_user", BASE + "users/" + USERNAME, auth=STANDARD_AUTH,
                     anonymous=True)


# -- provider configuration ---------------------------------------------------------

# type: (provider id prefix, the key naming it, default backend name)
PROVIDER_TYPES = {
    "oauth2": ("oa2", "backend_name", None),
    "saml": ("saml", "slug", "tpa-saml"),
    "lti": ("lti", "consumer_key", "lti"),
}
STRING_KEYS = ("type", "backend_name", "slug", "consumer_key", "name", "icon_class",
               "icon_image")
BOOLEAN_KEYS = ("visible", "enabled", "secondary", "skip_hinted_login_dialog",
                "skip_registration_form", "skip_email_verification",
                "send_to_registration_first", "sync_learner_profile_data")
OPTION_DEFAULTS = {
    "icon_class": "fa-sign-in", "icon_image": "", "secondary": False,
    "skip_hinted_login_dialog": False, "skip_registration_form": False,
    "skip_email_verification": False, "send_to_registration_first": False,
    "sync_learner_profile_data": False,
}


@dataclass(frozen=True)
class Provider:
    provider_id: str
    name: str
    backend_name: str
    # "<slug>:" when one backend serves several providers (SAML IdPs, LTI consumers).
    uid_prefix: str
    login_params: dict
    accepts_logins: bool
    visible: bool
    options: dict = field(default_factory=dict)

    @property
    def display_for_login(self):
        return self.accepts_logins and self.visible

    def matches(self, link):
        return link.provider == self.backend_name and link.uid.startswith(self.uid_prefix)

    def remote_id(self, link):
        return link.uid[len(self.uid_prefix):]

    def uid(self, remote_id):
        return self.uid_prefix + remote_id


def _provider(entry, position):
    where = f"accounts.third_party_auth_providers[{position}]"
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where} must be a JSON object")
    unknown = sorted(set(entry) - set(STRING_KEYS) - set(BOOLEAN_KEYS))
    if unknown:
        raise ConfigurationError(f"{where} has unknown keys: {', '.join(unknown)}")
    for key in STRING_KEYS:
        if key in entry and not isinstance(entry[key], str):
            raise ConfigurationError(f"{where}.{key} must be a string")
    for key in BOOLEAN_KEYS:
        if key in entry and not isinstance(entry[key], bool):
            raise ConfigurationError(f"{where}.{key} must be true or false")
    kind = entry.get("type", "oauth2")
    if kind not in PROVIDER_TYPES:
        raise ConfigurationError(f"{where}.type must be one of {', '.join(PROVIDER_TYPES)}")
    prefix, naming_key, default_backend = PROVIDER_TYPES[kind]
    slug = entry.get(naming_key, "")
    if not slug or any(char in slug for char in ":/ "):
        raise ConfigurationError(f"{where}.{naming_key} is required (no ':', '/' or spaces)")
    backend_name = slug if kind == "oauth2" else entry.get("backend_name", default_backend)
    return Provider(
        provider_id=f"{prefix}-{slug}",
        name=entry.get("name", ""),
        backend_name=backend_name,
        uid_prefix="" if kind == "oauth2" else slug + ":",
        login_params={"idp": slug} if kind == "saml" else {},
        accepts_logins=kind != "lti",
        visible=entry.get("visible", False),
        options={key: entry.get(key, default) for key, default in OPTION_DEFAULTS.items()},
    ), entry.get("enabled", True)


def parse_providers(text):
    """The enabled providers of the setting, sorted by name (upstream ``Registry.enabled``)."""
    if not (text or "").strip():
        return ()
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"accounts.third_party_auth_providers is not JSON: {exc}")
    if not isinstance(entries, list):
        raise ConfigurationError("accounts.third_party_auth_providers must be a JSON list")
    providers, seen = [], set()
    for position, entry in enumerate(entries):
        provider, enabled = _provider(entry, position)
        if provider.provider_id in seen:
            raise ConfigurationError(
                f"accounts.third_party_auth_providers names {provider.provider_id} twice")
        seen.add(provider.provider_id)
        if enabled:
            providers.append(provider)
    return tuple(sorted(providers, key=lambda provider: provider.name))


def configured_providers(registry):
    """The enabled providers (parsed at start-up, :mod:`plugins.accounts.config`)."""
    return accounts_config(registry).providers


def get_provider(registry, provider_id):
    return next((provider for provider in configured_providers(registry)
                 if provider.provider_id == provider_id), None)


def provider_states(request, user):
    """``[(provider, link or None)]`` as upstream ``get_provider_user_states``."""
    links = request.dbsession.scalars(
        select(SocialAuthLink).where(SocialAuthLink.user_id == user.id)
        .order_by(SocialAuthLink.id)).all()
    states = []
    for provider in configured_providers(request.registry):
        link = next((link for link in links if provider.matches(link)), None)
        if provider.accepts_logins or link is not None:
            states.append((provider, link))
    return states


# -- providers/user_status ----------------------------------------------------------

def login_url(request, provider):
    params = {"auth_entry": AUTH_ENTRY_ACCOUNT_SETTINGS}
    redirect = accounts_config(request.registry).account_microfrontend_url
    if redirect:
        params["next"] = redirect
    params.update(provider.login_params)
    return f"/auth/login/{provider.backend_name}/?{urlencode(params)}"


def disconnect_url(provider, link):
    association = f"{link.id}/" if link is not None else ""
    return f"/auth/disconnect/{provider.backend_name}/{association}?"


@user_status.get(responses={200: doc.PROVIDER_STATUSES})
def get_user_status(request):
    """The third-party login providers, and whether the caller's account is linked to each."""
    return [{
        "id": provider.provider_id,
        "name": provider.name,
        "connected": link is not None,
        "connect_url": login_url(request, provider),
        "accepts_logins": provider.accepts_logins,
        "disconnect_url": disconnect_url(provider, link),
    } for provider, link in provider_states(request, request.user)
        if provider.display_for_login or link is not None]


# -- providers/{provider_id}/users ------------------------------------------------------

def check_mapping_permission(request, provider_id):
    """``TPA_PERMISSIONS``: an unrestricted caller who is a superuser, staff or holds
    the API key; or a restricted JWT with ``tpa:read`` and ``tpa_provider:<id>``."""
    authentication = request.authentication
    payload = authentication.jwt_payload
    if payload and payload.get("is_restricted"):
        if REQUIRED_SCOPE not in authentication.scopes:
            raise permission_denied(message="JWT missing required scopes.")
        filters = [str(item).partition(":") for item in payload.get("filters") or ()]
        if not any(kind == "tpa_provider" and value == provider_id
                   for kind, _, value in filters):
            raise permission_denied(message="JWT missing required tpa_provider filter.")
        return
    user = request.user
    permissions.require(bool(user is not None and (user.is_superuser or user.is_staff))
                        or has_api_key(request))


def comma_values(request, name):
    """Every ``name`` parameter, comma-separated values split (empty: no filter)."""
    joined = ",".join(request.GET.getall(name))
    return set(joined.split(",")) if joined else set()


def one_of(column, values):
    """``column IN values``; a value holding NUL matches nothing (and PostgreSQL refuses it)."""
    usable = [value for value in values if "\x00" not in value]
    return column.in_(usable) if usable else false()


def mapping_remote_id(provider, link, field_name):
    if field_name:
        value = (link.extra_data or {}).get(field_name)
        return value[0] if value and isinstance(value, list) else value
    return provider.remote_id(link)


@user_mapping.get(query={"username": "Usernames (repeated or comma-separated).",
                         "remote_id": "Remote ids (repeated or comma-separated).",
                         "remote_id_field_name": "The extra-data field holding the remote id.",
                         "page": "Page number.", "page_size": "Page size."},
                  responses={200: page_of(doc.USER_MAPPING),
                             403: "Not staff, or a JWT without the tpa scope and filter.",
                             404: "No such provider, or an invalid page."})
def get_user_mapping(request):
    """Usernames and remote ids of the accounts linked to one provider (staff, or scoped JWT)."""
    provider_id = request.matchdict["provider_id"].partition(":")[0]
    check_mapping_permission(request, provider_id)
    provider = get_provider(request.registry, provider_id)
    if provider is None:
        raise detail(404, "Not found.")
    # Paged on the links' ids alone (index provider, id), then joined to usernames.
    keys = (select(SocialAuthLink.id).where(SocialAuthLink.provider == provider.backend_name)
            .order_by(SocialAuthLink.id))
    if provider.uid_prefix:
        keys = keys.where(SocialAuthLink.uid.startswith(provider.uid_prefix, autoescape=True))
    conditions = []
    usernames = comma_values(request, "username")
    if usernames:
        conditions.append(SocialAuthLink.user_id.in_(
            select(User.id).where(one_of(User.username, usernames))))
    remote_ids = comma_values(request, "remote_id")
    if remote_ids:
        conditions.append(one_of(SocialAuthLink.uid, [provider.uid(rid) for rid in remote_ids]))
    if conditions:
        keys = keys.where(or_(*conditions))
    field_name = request.GET.get("remote_id_field_name")
    return pagination.page_number(request, keys, lambda rows: [
        {"username": username, "remote_id": mapping_remote_id(provider, link, field_name)}
        for link, username in rows], rows=lambda page_keys: (
            select(SocialAuthLink, User.username).join(User, User.id == SocialAuthLink.user_id)
            .where(SocialAuthLink.id.in_(page_keys)).order_by(SocialAuthLink.id)))


# -- users/ and users/{username} ------------------------------------------------------------

def is_unprivileged(request, kind, value):
    """A query about someone else by a caller neither superuser nor API-key holder."""
    user = request.user
    if kind == "username" and value == (user.username if user is not None else ""):
        return False
    if kind == "email" and user is not None and value == user.email:
        return False
    return not (user is not None and user.is_superuser) and not has_api_key(request)


def throttle(request):
    """UserRateThrottle: per user, or per address for anonymous callers."""
    config = accounts_config(request.registry)
    ident = str(request.user.id) if request.user is not None else client_ip(request)
    waits = [hit(request, scope, ident, rate) for scope, rate in (
        ("accounts.tpa_sustained", config.tpa_sustained_rate),
        ("accounts.tpa_burst", config.tpa_burst_rate))]
    if max(waits):
        raise Throttled(max(waits))


def linked_providers(request, kind, value):
    """``{"active": [...]}`` for the user named by ``kind`` (``username`` or ``email``)."""
    unprivileged = is_unprivileged(request, kind, value)
    if unprivileged:
        throttle(request)
        if not accounts_config(request.registry).allow_unprivileged_sso_provider_query:
            raise APIError(403, raw=b"")
    column = User.username if kind == "username" else User.email
    user = None if "\x00" in value else request.dbsession.scalars(
        select(User).where(column == value).order_by(User.id)).first()
    if user is None:
        raise APIError(404, raw=b"")
    active = []
    for provider, link in provider_states(request, user):
        if link is None:
            continue
        entry = {"provider_id": provider.provider_id, "name": provider.name}
        if not unprivileged:
            entry["remote_id"] = provider.remote_id(link)
        active.append(entry)
    return {"active": active}


@users_query.get(query={"username": "Whose links.", "email": "Whose links (by email)."},
                 responses={200: doc.LINKED_PROVIDERS,
                            400: "Neither `email` nor `username`.",
                            403: "Someone else's links, and unprivileged queries are off.",
                            404: "No such user.", 429: "Throttled."})
def get_users_query(request):
    """The providers linked to an account named by `?username=` or `?email=`."""
    for kind in ("email", "username"):
        if kind in request.GET:
            return linked_providers(request, kind, request.GET[kind])
    raise APIError(400, ["Must provide one of ['email', 'username']"])


@user_links.get(responses={200: doc.LINKED_PROVIDERS,
                           403: "Someone else's links, and unprivileged queries are off.",
                           404: "No such user.", 429: "Throttled."})
def get_user_links(request):
    """The providers linked to one account (by username or email)."""
    value = request.matchdict["username"]
    return linked_providers(request, "email" if "@" in value else "username", value)
