"""User preferences, ``/api/user/v1/preferences/...`` (upstream ``user_api.preferences``).

- ``preferences/{username}``: GET (the owner or staff) and PATCH (the owner
  only; ``application/merge-patch+json``; ``null`` deletes a key). Every key is
  validated before anything is written.
- ``preferences/{username}/{preference_key}``: GET / PUT / DELETE of one key.
  Upstream authenticates it with Bearer tokens and sessions only: a JWT is
  ignored (the caller is anonymous).
- ``preferences/email_opt_in/``: a learner's marketing consent for the
  organisation of a course (``UserOrgTag`` ``email-optin``).
- ``preferences/time_zones/``: pytz's common time zones, optionally those of
  one country (``?country_code=``, ISO 3166-1 alpha-2 from pycountry).

These two are also served at upstream's legacy ``/user_api/v1/preferences/...``.

Value rules (upstream ``validate_user_preference_serializer``), in this order:
the value is stringified as Python does (``true`` -> ``"True"``); blank is an
error; the key must be 1-255 characters with at least one of ``[-_a-zA-Z0-9]``
(upstream's unanchored regex), key and value without NUL or surrogate
characters (both are stored trimmed); ``time_zone`` must be one of pytz's
common time zones. openlms adds one rule the issue asks for: ``pref-lang``
must be a released language.

Settings (declared in :mod:`plugins.accounts`):

- ``accounts.released_languages``: the language codes learners may choose as
  ``pref-lang`` (space- or comma-separated, compared case-insensitively;
  default ``en``).

Deliberate differences from upstream: a PUT with an empty body is the
"empty value" error (upstream stores the text ``{}``); email_opt_in for a user
without a profile treats them as not needing parental consent (upstream
answers 500), and a course id whose org is longer than the column is "No
course ... found"; the org of the course id is used whether or not the course
exists, as upstream does.

Route order matters: ``preferences/{username}`` would also match
``email_opt_in/`` and ``time_zones/``. Venusian registers a module's services
in the alphabetical order of their variable names, so the fixed paths are
named to sort first (``email_opt_in``, ``time_zones`` < ``user_preference*``).
``preferences/{pref_key}/users/`` lives in :mod:`.listings`, scanned earlier.
"""
import re
from datetime import datetime

import pytz
from pyramid.response import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms import permissions
from lms.auth import BEARER, DEFAULT_AUTH, SESSION, STANDARD_AUTH, ensure_csrf_cookie
from lms.errors import APIError
from lms.keys import parse_course_key
from lms.openapi import Body
from lms.request import MERGE_PATCH, FormData, form_fields, has_body, request_data
from lms.responses import empty, no_content
from lms.routing import USERNAME
from lms.service import Service
from lms.timeutil import utcnow
from lms.users import get_by_username
from plugins.accounts import api
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import accounts_config
from plugins.accounts.models import UserOrgTag
from plugins.accounts.schemas import COUNTRIES

BASE = "/api/user/v1/preferences/"

SETTINGS = {
    # Language codes learners may choose as pref-lang (space- or comma-separated).
    "accounts.released_languages": "en",
}

email_opt_in = Service("accounts.preferences_email_opt_in", BASE + "email_opt_in/",
                       auth=(SESSION,))
time_zones = Service("accounts.preferences_time_zones", BASE + "time_zones/",
                     auth=DEFAULT_AUTH, anonymous=True)
# BearerAuthenticationAllowInactiveUser, SessionAuthenticationAllowInactiveUser: no JWT.
user_preference_detail = Service(
    "accounts.preference_detail",
    BASE + USERNAME + "/{preference_key:[a-zA-Z0-9_]+}",
    auth=(BEARER, SESSION),
)
# The fixed siblings above are not usernames, whatever order the routes end up in.
PREFERENCES_USERNAME = r"{username:(?!(?:time_zones|email_opt_in)/?$)[\w .@_+-]+}"
user_preferences = Service("accounts.preferences", BASE + PREFERENCES_USERNAME,
                           auth=STANDARD_AUTH)

KEY_MAX_LENGTH = 255
KEY_RE = re.compile(r"[-_a-zA-Z0-9]+")
NO_DATA = "No data provided for user preference update"
EMAIL_OPTIN_KEY = "email-optin"
# Upstream EMAIL_OPTIN_MINIMUM_AGE (PARENTAL_CONSENT_AGE_LIMIT).
EMAIL_OPTIN_MINIMUM_AGE = 13
ORG_MAX_LENGTH = 255


# -- shared helpers ------------------------------------------------------------

def require_user_in_url_or_staff(request, username):
    """``IsUserInUrlOrStaff``: staff, or the caller's username (any case) is in the URL."""
    permissions.require(permissions.is_staff(request.user)
                        or permissions.is_user_in_url(request, username))


def authorized_user(request, username, allow_staff=False):
    """Upstream ``_get_authorized_user``: the owner (exact username), or staff when
    allowed, else 403 with an empty body; an unknown user is 404 (empty)."""
    if request.user.username != username and not (
            allow_staff and permissions.is_staff(request.user)):
        raise empty(403)
    user = get_by_username(request.dbsession, username)
    if user is None:
        raise empty(404)
    return user


def stringified(value):
    """Upstream's ``str(value)`` of a parsed JSON value (``true`` -> ``"True"``)."""
    return str(value)


def has_bad_characters(text):
    return "\x00" in text or any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def _character_errors(text):
    errors = []
    if "\x00" in text:
        errors.append("Null characters are not allowed.")
    for char in text:
        if 0xD800 <= ord(char) <= 0xDFFF:
            errors.append(f"Surrogate characters are not allowed: U+{ord(char):X}.")
            break
    return errors


def _serializer_errors(key, value):
    """``RawUserPreferenceSerializer`` field errors, in field order (key, value)."""
    errors = {}
    stripped_key = key.strip()
    if not stripped_key:
        errors["key"] = ["This field may not be blank."]
    else:
        key_errors = []
        if not KEY_RE.search(stripped_key):
            key_errors.append("Enter a valid value.")
        if len(stripped_key) > KEY_MAX_LENGTH:
            key_errors.append(f"Ensure this field has no more than {KEY_MAX_LENGTH} characters.")
        key_errors.extend(_character_errors(stripped_key))
        if key_errors:
            errors["key"] = key_errors
    value_errors = _character_errors(value.strip())
    if value_errors:
        errors["value"] = value_errors
    return errors


def preference_error(request, key, value):
    """``{"developer_message", "user_message"}`` when ``key: value`` may not be saved."""
    if value is None or value.strip() == "":
        message = f"Preference '{key}' cannot be set to an empty value."
        return {"developer_message": message, "user_message": message}
    errors = _serializer_errors(key, value)
    if errors:
        if "key" in errors:
            user_message = f"Invalid user preference key '{key}'."
        else:
            user_message = f"Value '{value}' is not valid for user preference '{key}'."
        return {"developer_message": f"Value '{value}' not valid for preference '{key}': "
                                     f"{errors!r}",
                "user_message": user_message}
    if key == "time_zone" and value not in pytz.common_timezones_set:
        return {"developer_message": f"Value '{value}' not valid for preference '{key}': "
                                     "Not in timezone set.",
                "user_message": f"Value '{value}' is not a valid time zone selection."}
    if key == "pref-lang" and value.strip().lower() not in accounts_config(
            request.registry).released_languages:
        return {"developer_message": f"Value '{value}' not valid for preference '{key}': "
                                     "Not a released language.",
                "user_message": f"Value '{value}' is not a valid language selection."}
    return None


def save_preference(db, user_id, key, value):
    # The serializer stores the trimmed key and value.
    api.set_preference(db, user_id, key.strip(), value.strip())


# -- preferences/{username} ------------------------------------------------------

@user_preferences.get(responses={200: doc.PREFERENCES, 403: "Not the owner nor staff.",
                                 404: "No such user."})
def get_preferences(request):
    """All of a user's preferences (`{key: value}`), for the owner or staff."""
    username = request.matchdict["username"]
    require_user_in_url_or_staff(request, username)
    user = authorized_user(request, username, allow_staff=True)
    return api.get_preferences(request.dbsession, user.id)


@user_preferences.patch(body=doc.PREFERENCES_PATCH,
                        responses={204: doc.NO_BODY, 403: "Not the owner.",
                                   404: "No such user."})
def patch_preferences(request):
    """Set or (with null) delete several of the caller's preferences (a JSON merge patch)."""
    username = request.matchdict["username"]
    require_user_in_url_or_staff(request, username)
    # Surrogates are refused key by key, with the serializer's message.
    data = request_data(request, (MERGE_PATCH,), allow_lone_surrogates=True)
    if not data or not isinstance(data, dict):
        raise APIError(400, {"developer_message": NO_DATA, "user_message": NO_DATA})
    user = authorized_user(request, username)
    errors = {}
    for key, value in data.items():
        if value is not None:
            error = preference_error(request, key, stringified(value))
            if error:
                errors[key] = error
    if errors:
        raise APIError(400, {"field_errors": errors})
    db = request.dbsession
    for key, value in data.items():
        if value is not None:
            save_preference(db, user.id, key, stringified(value))
        elif not has_bad_characters(key):  # such a key cannot exist
            api.delete_preference(db, user.id, key)
    return no_content()


# -- preferences/{username}/{preference_key} -----------------------------------------

def put_body_value(request):
    """What DRF's default parsers make of the body (JSON, form or multipart)."""
    if not has_body(request):
        return None
    data = request_data(request, allow_lone_surrogates=True)
    if isinstance(data, FormData):
        return f"<QueryDict: {data.lists()!r}>"  # str(QueryDict), as upstream stores it
    return data


@user_preference_detail.get(responses={200: doc.PREFERENCE_VALUE, 403: "Not the owner nor staff.",
                                       404: "No such user or preference."})
def get_preference_detail(request):
    """One preference's value (a JSON string)."""
    username = request.matchdict["username"]
    require_user_in_url_or_staff(request, username)
    user = authorized_user(request, username, allow_staff=True)
    value = api.get_preference(request.dbsession, user.id, request.matchdict["preference_key"])
    if value is None:
        raise empty(404)
    return value


@user_preference_detail.put(body=doc.PREFERENCE_VALUE,
                            responses={204: doc.NO_BODY, 403: "Not the owner.",
                                       404: "No such user."})
def put_preference_detail(request):
    """Set one of the caller's preferences (the body is the value)."""
    username = request.matchdict["username"]
    key = request.matchdict["preference_key"]
    require_user_in_url_or_staff(request, username)
    value = put_body_value(request)
    user = authorized_user(request, username)
    text = None if value is None else stringified(value)
    error = preference_error(request, key, text)
    if error:
        raise APIError(400, error)
    save_preference(request.dbsession, user.id, key, text)
    return no_content()


@user_preference_detail.delete(responses={204: doc.NO_BODY, 403: "Not the owner.",
                                          404: "No such user or preference."})
def delete_preference_detail(request):
    """Delete one of the caller's preferences."""
    username = request.matchdict["username"]
    require_user_in_url_or_staff(request, username)
    user = authorized_user(request, username)
    if not api.delete_preference(request.dbsession, user.id, request.matchdict["preference_key"]):
        raise empty(404)
    return no_content()


# -- preferences/email_opt_in/ ----------------------------------------------------------

def text_response(text, status, content_type):
    return Response(body=text.encode(), status=status, content_type=content_type,
                    charset="utf-8")


def requires_parental_consent(profile, minimum_age):
    """``UserProfile.requires_parental_consent(default_requires_consent=False)``:
    the youngest age a birth year allows is below ``minimum_age``."""
    if profile is None or profile.year_of_birth is None:
        return False
    youngest_age = utcnow().year - profile.year_of_birth - 1
    return youngest_age < minimum_age


def set_email_opt_in(db, user, org, opt_in):
    """Upsert the ``email-optin`` tag; a concurrent insert wins and is then updated."""
    value = str(opt_in)
    query = select(UserOrgTag).where(UserOrgTag.user_id == user.id, UserOrgTag.org == org,
                                     UserOrgTag.key == EMAIL_OPTIN_KEY)
    tag = db.scalar(query)
    if tag is None:
        try:
            with db.begin_nested():
                db.add(UserOrgTag(user_id=user.id, org=org, key=EMAIL_OPTIN_KEY, value=value))
            return
        except IntegrityError:
            tag = db.scalar(query)
    tag.value = value


@email_opt_in.post(body=doc.EMAIL_OPT_IN_FORM, responses={
    200: doc.EMPTY_HTML, 415: None,
    400: Body({"type": "string"}, "Missing parameters, or no such course (text).",
              ("text/html", "text/plain"))})

def post_email_opt_in(request):
    """Opt in or out of an organization's marketing email (form: `course_id`, `email_opt_in`)."""
    posted = form_fields(request)  # a Django view: request.POST
    missing = [name for name in ("course_id", "email_opt_in") if name not in posted]
    if missing:
        # Django's HttpResponseBadRequest (text/html), before the CSRF cookie is ensured.
        return text_response(f"Missing POST parameters: {', '.join(missing)}", 400, "text/html")
    ensure_csrf_cookie(request)
    course_id = posted["course_id"]
    course_key = parse_course_key(course_id)
    if course_key is None or len(course_key.org) > ORG_MAX_LENGTH:
        return text_response(f"No course '{course_id}' found", 400, "text/plain")
    opt_in = posted["email_opt_in"].lower() == "true"
    db = request.dbsession
    if requires_parental_consent(api.get_profile(db, request.user.id), EMAIL_OPTIN_MINIMUM_AGE):
        opt_in = False
    set_email_opt_in(db, request.user, course_key.org, opt_in)
    return text_response("", 200, "text/html")


# -- preferences/time_zones/ --------------------------------------------------------------

COUNTRY_CODES = COUNTRIES  # ISO 3166-1 alpha-2, read from pycountry on first use


def display_time_zone(name, now):
    """``Europe/Paris (CET, UTC+0100)``; underscores read as spaces, as upstream."""
    zone = pytz.timezone(name)
    local = now.astimezone(zone)
    return f"{zone} ({local.strftime('%Z')}, UTC{local.strftime('%z')})".replace("_", " ")


def country_time_zone_names(country_code):
    """The country's zones; all common zones for no, an unknown, or a zoneless country."""
    if country_code and country_code.upper() in COUNTRY_CODES:
        try:
            return pytz.country_timezones[country_code]
        except KeyError:  # e.g. BV, HM: valid countries without a zone of their own
            pass
    return pytz.common_timezones


@time_zones.get(query={"country_code": "Only this country's time zones."},
                responses={200: doc.TIME_ZONES})
def get_time_zones(request):
    """Time zones with their current offset (a country's, or all common ones)."""
    now = datetime.now(pytz.utc)
    entries = [{"time_zone": name, "description": display_time_zone(name, now)}
               for name in country_time_zone_names(request.GET.get("country_code"))]
    return sorted(entries, key=lambda entry: entry["description"])


# -- upstream's legacy paths (the same views) ---------------------------------------------------

email_opt_in_legacy = email_opt_in.alias("accounts.preferences_email_opt_in_legacy",
                                         "/user_api/v1/preferences/email_opt_in/")
time_zones_legacy = time_zones.alias("accounts.preferences_time_zones_legacy",
                                     "/user_api/v1/preferences/time_zones/")
