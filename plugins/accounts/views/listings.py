"""Legacy server-to-server user listings (upstream ``user_api.views``).

``users/``, ``users/{id}/``, ``user_prefs/``, ``user_prefs/{id}/`` and
``preferences/{pref_key}/users/``, under ``/api/user/v1/`` and upstream's legacy
``/user_api/v1/`` alike, are for services holding the deprecated
``X-Edx-Api-Key`` (``lms.edx_api_key``): upstream's only permission is
``ApiKeyHeaderPermission``, so staff without the key are refused and an
anonymous caller with the key is served. Lists use ``DefaultPagination``
(ordered by id: upstream leaves the order to the database).

A user is ``{"id", "url", "email", "name", "username", "preferences"}``; a
preference is ``{"user": <user>, "key", "value", "url"}``. The ``url`` is the
legacy one under both mounts: upstream includes the same DRF router in both, and
Django's ``reverse`` of a name defined twice gives the pattern included last
(``user_api.legacy_urls``, after ``api/user/`` in ``lms/urls.py``). ``user_prefs``
filters on ``?key=`` and ``?user=<id>`` (django-filter: an id that is no user
is a 400), on the detail route too, as upstream's filter backend does.
"""
from sqlalchemy import false, select

from lms import pagination, permissions
from lms.auth import DEFAULT_AUTH, has_api_key
from lms.errors import APIError, detail
from lms.models import User
from lms.openapi import PAGE_QUERY, page_of
from lms.service import Service
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.models import UserPreference

USERS = "/api/user/v1/users/"
USER_PREFS = "/api/user/v1/user_prefs/"
LEGACY = "/user_api/v1/"
MAX_ROW_ID = 2**31 - 1
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."

users_list = Service("accounts.users", USERS, auth=DEFAULT_AUTH, api_key=True)
user_detail = Service("accounts.user", USERS + "{id}/", auth=DEFAULT_AUTH, api_key=True)
user_prefs_list = Service("accounts.user_prefs", USER_PREFS, auth=DEFAULT_AUTH, api_key=True)
user_pref_detail = Service("accounts.user_pref", USER_PREFS + "{id}/", auth=DEFAULT_AUTH,
                           api_key=True)
# Only with its trailing slash: without it, the path is the preference named
# "users" of a user (preferences/{username}/{preference_key}), as upstream.
preference_users = Service(
    "accounts.preference_users", "/api/user/v1/preferences/{pref_key:[-_a-zA-Z0-9]+}/users/",
    auth=DEFAULT_AUTH, api_key=True, path_info=r".*/users/$",
)


def require_api_key(request, **kwargs):
    """``ApiKeyHeaderPermission`` (validator): nothing else grants access."""
    permissions.require(has_api_key(request))


def preferences_by_user(db, user_ids):
    """``{user_id: {key: value}}`` for every id, in one query."""
    found = {user_id: {} for user_id in user_ids}
    if found:
        rows = db.execute(select(UserPreference.user_id, UserPreference.key, UserPreference.value)
                          .where(UserPreference.user_id.in_(found))
                          .order_by(UserPreference.id))
        for user_id, key, value in rows:
            found[user_id][key] = value
    return found


def serialize_user(request, user, preferences):
    return {
        "id": user.id,
        "url": f"{request.application_url}{LEGACY}users/{user.id}/",
        "email": user.email,
        "name": user.name,
        "username": user.username,
        "preferences": preferences,
    }


def serialize_users(request, users):
    preferences = preferences_by_user(request.dbsession, [user.id for user in users])
    return [serialize_user(request, user, preferences[user.id]) for user in users]


def serialize_preferences(request, rows):
    """Rows of ``(UserPreference, User)``."""
    preferences = preferences_by_user(request.dbsession, {user.id for _, user in rows})
    return [{
        "user": serialize_user(request, user, preferences[user.id]),
        "key": preference.key,
        "value": preference.value,
        "url": f"{request.application_url}{LEGACY}user_prefs/{preference.id}/",
    } for preference, user in rows]


def detail_id(request):
    """The ``{id}`` of a detail route: not a number is DRF's bare "Not found."."""
    raw = request.matchdict["id"]
    if not raw.isascii() or not raw.isdigit():
        raise detail(404, "Not found.")
    return int(raw)


def no_match(model_name):
    # Django's get_object_or_404 message, which DRF passes on.
    return detail(404, f"No {model_name} matches the given query.")


def filtered_preferences(request, stmt):
    """django-filter's ``key`` (exact) and ``user`` (a user's id) filters."""
    key = request.GET.get("key")
    if key:
        # No stored key holds NUL (and PostgreSQL refuses it in a query).
        stmt = stmt.where(UserPreference.key == key if "\x00" not in key else false())
    user = request.GET.get("user")
    if user:
        user_id = int(user) if user.isascii() and user.isdigit() else None
        exists = user_id is not None and user_id <= MAX_ROW_ID and request.dbsession.scalar(
            select(User.id).where(User.id == user_id)) is not None
        if not exists:
            raise APIError(400, {"user": [INVALID_CHOICE]})
        stmt = stmt.where(UserPreference.user_id == user_id)
    return stmt


def preference_rows():
    return (select(UserPreference, User).join(User, User.id == UserPreference.user_id)
            .order_by(UserPreference.id))


@users_list.get(validators=(require_api_key,), query=PAGE_QUERY,
                responses={200: page_of(doc.LISTED_USER), 403: "No API key.",
                           404: "Invalid page."})
def get_users(request):
    """Every user with their preferences (server-to-server, `X-Edx-Api-Key`)."""
    return pagination.page_number(
        request, select(User.id).order_by(User.id),
        lambda rows: serialize_users(request, [row[0] for row in rows]),
        rows=lambda page: select(User).where(User.id.in_(page)).order_by(User.id))


@user_detail.get(validators=(require_api_key,),
                 responses={200: doc.LISTED_USER, 403: "No API key.", 404: "No such user."})
def get_user(request):
    """One user with their preferences (server-to-server, `X-Edx-Api-Key`)."""
    user_id = detail_id(request)
    user = request.dbsession.get(User, user_id) if user_id <= MAX_ROW_ID else None
    if user is None:
        raise no_match("User")
    return serialize_users(request, [user])[0]


@user_prefs_list.get(validators=(require_api_key,),
                     query={"key": "Only this preference.", "user": "Only this user's (an id).",
                            **PAGE_QUERY},
                     responses={200: page_of(doc.LISTED_PREFERENCE), 400: "`user` is no user id.",
                                403: "No API key.", 404: "Invalid page."})
def get_user_prefs(request):
    """Every stored preference (server-to-server, `X-Edx-Api-Key`)."""
    keys = filtered_preferences(request, select(UserPreference.id).order_by(UserPreference.id))
    return pagination.page_number(
        request, keys, lambda rows: serialize_preferences(request, rows),
        rows=lambda page: preference_rows().where(UserPreference.id.in_(page)))


@user_pref_detail.get(validators=(require_api_key,),
                      query={"key": "Only this preference.", "user": "Only this user's (an id)."},
                      responses={200: doc.LISTED_PREFERENCE, 400: "`user` is no user id.",
                                 403: "No API key.", 404: "No such preference."})
def get_user_pref(request):
    """One stored preference (server-to-server, `X-Edx-Api-Key`)."""
    stmt = filtered_preferences(request, preference_rows())  # DRF filters before the lookup
    preference_id = detail_id(request)
    row = request.dbsession.execute(stmt.where(UserPreference.id == preference_id)).first() \
        if preference_id <= MAX_ROW_ID else None
    if row is None:
        raise no_match("UserPreference")
    return serialize_preferences(request, [row])[0]


@preference_users.get(validators=(require_api_key,), query=PAGE_QUERY,
                      responses={200: page_of(doc.LISTED_USER), 403: "No API key.",
                                 404: "Invalid page."})
def get_preference_users(request):
    """The users who set one preference (server-to-server, `X-Edx-Api-Key`)."""
    # A user holds a key at most once: the key's user ids are the list.
    keys = (select(UserPreference.user_id)
            .where(UserPreference.key == request.matchdict["pref_key"])
            .order_by(UserPreference.user_id))
    return pagination.page_number(
        request, keys, lambda rows: serialize_users(request, [row[0] for row in rows]),
        rows=lambda page: select(User).where(User.id.in_(page)).order_by(User.id))


# -- upstream's legacy mount (the same views) ---------------------------------------------------

users_list_legacy = users_list.alias("accounts.users_legacy", LEGACY + "users/")
user_detail_legacy = user_detail.alias("accounts.user_legacy", LEGACY + "users/{id}/")
user_prefs_list_legacy = user_prefs_list.alias("accounts.user_prefs_legacy",
                                               LEGACY + "user_prefs/")
user_pref_detail_legacy = user_pref_detail.alias("accounts.user_pref_legacy",
                                                 LEGACY + "user_prefs/{id}/")
preference_users_legacy = preference_users.alias(
    "accounts.preference_users_legacy",
    LEGACY + "preferences/{pref_key:[-_a-zA-Z0-9]+}/users/")
