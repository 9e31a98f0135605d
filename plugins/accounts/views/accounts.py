"""The user accounts API, ``/api/user/v1/`` (upstream ``user_api.accounts.views``).

- ``me``, ``accounts`` (list), ``accounts/{username}`` (GET, merge-patch PATCH)
  and ``accounts/search_emails``: ``AccountViewSet`` (JWT, Bearer, session;
  ``IsAuthenticated`` + ``CanGetAccountInfo``);
- ``accounts/{username}/deactivate/``: ``can_deactivate_users`` holders;
- ``accounts/name_change/`` and ``.../name_change/{username}/confirm/``;
- ``accounts/replace_usernames/``: the username-replacement worker only.

The links of the confirmation mails an email change sends are HTML pages,
in :mod:`.pages`. PATCH bodies are validated by :mod:`plugins.accounts.schemas`.
"""
import random
import re
import string
import uuid
from datetime import timedelta

from sqlalchemy import delete, select, update

from lms import permissions
from lms.auth import DEFAULT_AUTH, STANDARD_AUTH
from lms.errors import APIError
from lms.mail import send_mail
from lms.models import LoginSession, OAuthAccessToken, OAuthRefreshToken, User
from lms.passwords import make_unusable
from lms.request import FORM_MEDIA_TYPES, JSON, MERGE_PATCH, request_data
from lms.responses import empty, empty_response, no_content
from lms.routing import USERNAME
from lms.service import Service
from lms.throttle import hit
from lms.timeutil import utcnow
from lms.users import equal_ignoring_case, get_by_username
from plugins.accounts import api
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import accounts_config
from plugins.accounts.models import (
    PendingEmailChange,
    PendingNameChange,
    UserRetirementPartnerReport,
    UserRetirementStatus,
)
from plugins.accounts.schemas import (
    BIO_MAX_LENGTH,
    NOT_A_STRING,
    SOCIAL_PLATFORMS,
    account_update,
)
from plugins.accounts.serializers import (
    ACCOUNT_PRIVACY,
    account_config,
    get_account,
    get_accounts,
    has_profile_image,
    requires_parental_consent,
)

# ``accounts/{username}`` has no trailing slash upstream, so ``accounts/retire/``
# and its siblings never reach it; ``search_emails`` is routed to its own view.
ACCOUNT_USERNAME = r"{username:(?!search_emails/?$)[\w .@_+-]+(?!/)}"

me_service = Service("accounts.me", "/api/user/v1/me", auth=STANDARD_AUTH)
account_list = Service("accounts.account_list", "/api/user/v1/accounts", auth=STANDARD_AUTH)
search_emails = Service("accounts.search_emails", "/api/user/v1/accounts/search_emails",
                        auth=STANDARD_AUTH)
account_detail = Service("accounts.account_detail", f"/api/user/v1/accounts/{ACCOUNT_USERNAME}",
                         auth=STANDARD_AUTH)
deactivate = Service("accounts.deactivate", f"/api/user/v1/accounts/{USERNAME}/deactivate/",
                     auth=DEFAULT_AUTH)
name_change = Service("accounts.name_change", "/api/user/v1/accounts/name_change/",
                      auth=DEFAULT_AUTH)
name_change_confirm = Service("accounts.name_change_confirm",
                              f"/api/user/v1/accounts/name_change/{USERNAME}/confirm/",
                              auth=DEFAULT_AUTH)
replace_usernames = Service("accounts.replace_usernames",
                            "/api/user/v1/accounts/replace_usernames/", auth=DEFAULT_AUTH)

# AccountViewSet's parsers: JSON and merge-patch (PATCH reads merge-patch only).
JSON_TYPES = (JSON, MERGE_PATCH)
COOL_OFF_DAYS = 14
UNIQUE_SUFFIX_LENGTH = 4
COUNTRY_WITH_STATES = "US"
READ_ONLY_FIELDS = ("username", "date_joined", "is_active", "password_toggle_history",
                    "profile_image", "requires_parental_consent")
EMAIL_RE = re.compile(r"^[^@\s<>()\[\]\\,;:\"]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}$")
EMAIL_MAX_LENGTH = 254


# -- shared helpers -----------------------------------------------------------------

def can_get_account_info(request, **kwargs):
    """``CanGetAccountInfo``: only staff may look accounts up by email or id."""
    if "email" in request.GET or "lms_user_id" in request.GET:
        permissions.require(request.user.is_staff or request.user.is_superuser)


def find_user(request, username):
    return get_by_username(request.dbsession, username)


# -- me, list, detail --------------------------------------------------------------------

@me_service.get(validators=(can_get_account_info,), query=doc.STAFF_LOOKUP_QUERY,
                responses={200: doc.ME})
def get_me(request):
    """The caller's username."""
    return {"username": request.user.username}


def retired_email_response(request, email):
    """404 for an address that belonged to a retired account (with cancel details)."""
    db = request.dbsession
    since = utcnow() - timedelta(days=COOL_OFF_DAYS)
    retirement_id = db.scalar(select(UserRetirementStatus.id).where(
        UserRetirementStatus.original_email == email, UserRetirementStatus.created >= since)
        .order_by(UserRetirementStatus.id.desc()).limit(1))
    return APIError(404, {
        "error_msg": "This email is associated to a retired account.",
        "can_cancel_retirement": retirement_id is not None,
        "retirement_id": retirement_id,
    })


@account_list.get(validators=(can_get_account_info,),
                  query={"username": "Comma-separated usernames.",
                         "email": "An email address (staff only).",
                         "lms_user_id": "A user id (staff only).",
                         "view": "`shared`: the account as other users see it."},
                  responses={200: doc.ACCOUNT_LIST, 400: "An invalid `lms_user_id` (empty).",
                             403: "`email` or `lms_user_id` from a non-staff caller.",
                             404: "No such account."})
def get_account_list(request):
    """Accounts by username, email or user id (else the caller's), as an array.

    `?username=a,b` (else `?email=` or `?lms_user_id=`; else the caller).
    """
    db = request.dbsession
    usernames = request.GET.get("username")
    email = request.GET.get("email")
    lms_user_id = request.GET.get("lms_user_id")
    if usernames:
        # No stored username or email holds NUL (and PostgreSQL refuses it in a query).
        wanted = [name for name in usernames.strip(",").split(",") if "\x00" not in name]
        users = list(db.scalars(select(User).where(User.username.in_(wanted)).order_by(User.id)))
    elif email:
        user = db.scalar(select(User).where(User.email == email)) if "\x00" not in email else None
        if user is None:
            if api.is_email_retired(db, request.registry.settings, email):
                raise retired_email_response(request, email)
            raise empty(404)
        users = [user]
    elif lms_user_id:
        try:
            user_id = int(lms_user_id)
        except ValueError:
            raise empty(400)
        user = db.get(User, user_id) if -2**31 <= user_id < 2**31 else None
        if user is None:
            raise empty(404)
        users = [user]
    else:
        users = [request.user]
    if not users:
        raise empty(404)
    return get_accounts(request, users, view=request.GET.get("view"))


@account_detail.get(validators=(can_get_account_info,),
                    query={"view": "`shared`: the account as other users see it.",
                           **doc.STAFF_LOOKUP_QUERY},
                    responses={200: doc.ACCOUNT, 404: "No such account."})
def get_account_detail(request):
    """One account, with the fields the caller may see."""
    user = find_user(request, request.matchdict["username"])
    if user is None:
        raise empty(404)
    return get_account(request, user, view=request.GET.get("view"))


# -- search_emails --------------------------------------------------------------------------

@search_emails.post(validators=(can_get_account_info,), body=doc.SEARCH_EMAILS_BODY,
                    query=doc.STAFF_LOOKUP_QUERY,
                    responses={200: doc.EMAIL_MATCHES, 404: "Not staff."})
def post_search_emails(request):
    """The accounts with one of these email addresses (staff only).

    Others get a 404; exact matches of `emails`.
    """
    if not request.user.is_staff:
        raise APIError(404, {"developer_message": "not_found", "user_message": "Not Found"})
    data = request_data(request, JSON_TYPES)
    message = "'emails' field is required"
    if not isinstance(data, dict) or "emails" not in data:
        raise APIError(400, {"developer_message": message, "user_message": message})
    emails = data["emails"]
    if isinstance(emails, str):
        emails = [emails]
    if not isinstance(emails, list):
        message = "'emails' must be a list of email addresses"
        raise APIError(400, {"developer_message": message, "user_message": message})
    wanted = [email for email in emails if isinstance(email, str) and "\x00" not in email]
    if not wanted:
        return []
    rows = request.dbsession.execute(select(User.email, User.id, User.username)
                                     .where(User.email.in_(wanted)).order_by(User.id))
    return [{"email": email, "id": user_id, "username": username}
            for email, user_id, username in rows]


# -- PATCH accounts/{username} ------------------------------------------------------------

def field_error(developer_message, user_message):
    return {"developer_message": developer_message, "user_message": user_message}


def contains_html(value):
    return bool(re.search(r"(<|>)", value))


def contains_url(value):
    return "://" in value


def social_username(platform, link):
    """The user name a social link names, or None when it is not acceptable."""
    stub = SOCIAL_PLATFORMS[platform][1]
    match = re.match(r"^(?:[a-z][a-z0-9+.-]*://)?([^/?#]*)([^?#]*)", link, re.IGNORECASE)
    domain_and_path = (match.group(1) + match.group(2)) if match else link
    found = re.search(r"(www\.)?" + re.escape(stub) + r"(?P<username>.*?)[/]?$",
                      domain_and_path, re.IGNORECASE)
    username = found.group("username") if found else link
    return None if "/" in username or not username else username


def social_link_error(platform, link):
    display, stub = SOCIAL_PLATFORMS[platform]
    message = (f'Make sure that you are providing a valid username or a URL that contains '
               f'"{stub}". To remove the link from your {display} profile, leave this '
               "field blank.")
    return field_error(f"Error when adding new social link: '{message}'", message)


def valid_email(value):
    return (isinstance(value, str) and len(value) <= EMAIL_MAX_LENGTH
            and EMAIL_RE.match(value) is not None)


def email_in_use_or_retired(request, email):
    db = request.dbsession
    if db.scalar(select(User.id).where(equal_ignoring_case(User.email, email)).limit(1)):
        return True
    return api.is_email_retired(db, request.registry.settings, email)


def validate_update(request, user, profile, data):
    """Upstream's validation pass: ``(field_errors, cleaned)``; ``data`` loses dropped keys."""
    errors = {}
    for name in READ_ONLY_FIELDS:
        if name in data:
            errors[name] = field_error("This field is not editable via this API",
                                       f"The '{name}' field cannot be edited.")
            del data[name]
    cleaned, invalid = account_update(data)
    for name, messages in invalid.items():
        user_message = (f"The about me field must be at most {BIO_MAX_LENGTH} characters "
                        "long." if name == "bio" else "This value is invalid.")
        errors[name] = field_error(
            f"Value '{data[name]}' is not valid for field '{name}': {messages}", user_message)
    if "email" in data:
        if not account_config(request.registry).allow_email_change:
            raise APIError(400, {"developer_message": "Email address changes have been "
                                                      "disabled by the site operators.",
                                 "user_message": None})
        new_email = data["email"]
        message = None
        if not valid_email(new_email):
            message = "Valid e-mail address required."
        elif new_email == user.email:
            message = "Old email is the same as the new email."
        if message:
            errors["email"] = field_error(
                f"Error thrown from validate_new_email: '{message}'", message)
        elif email_in_use_or_retired(request, new_email):
            del data["email"]  # no enumeration: answered as a success
    if "secondary_email" in data:
        new_email = data["secondary_email"]
        message = None
        if not valid_email(new_email):
            message = "Valid e-mail address required."
        elif (profile is not None and profile.secondary_email_active
              and new_email == profile.secondary_email):
            message = "Old email is the same as the new email."
        elif new_email == user.email:
            message = "Cannot be same as your sign in email address."
        if message:
            errors["secondary_email"] = field_error(
                f"Error thrown from validate_secondary_email: '{message}'", message)
        elif email_in_use_or_retired(request, new_email):
            del data["secondary_email"]
    if "name" in data and "name" not in errors and data["name"] != user.name:
        new_name = cleaned["name"]
        message = ("Full Name cannot contain the following characters: < >"
                   if contains_html(new_name) else
                   "Enter a valid name" if contains_url(new_name) else None)
        if message:
            errors["name"] = field_error(f"Error thrown from validate_name: '{message}'",
                                         message)
    if "extended_profile" in data and data["extended_profile"]:
        if not isinstance(data["extended_profile"], list):
            errors["extended_profile"] = field_error("extended_profile must be a list",
                                                     "Invalid extended profile format")
    return errors, cleaned


def validate_saved_fields(request, data, cleaned):
    """Errors upstream only finds while saving: social links and the privacy preference."""
    errors = {}
    for item in cleaned.get("social_links") or []:
        if item["social_link"] and social_username(item["platform"], item["social_link"]) is None:
            errors["social_links"] = social_link_error(item["platform"], item["social_link"])
            break
    if ACCOUNT_PRIVACY in data:
        value = data[ACCOUNT_PRIVACY]
        if value is None or str(value).strip() == "":
            message = f"Preference '{ACCOUNT_PRIVACY}' cannot be set to an empty value."
            errors[ACCOUNT_PRIVACY] = field_error(message, message)
    return errors


def merged_social_links(current, requested):
    """Replace or add per platform; an empty link removes that platform."""
    by_platform = {item["platform"]: item for item in current or []}
    for item in requested:
        if not item["social_link"]:
            by_platform.pop(item["platform"], None)
            continue
        username = social_username(item["platform"], item["social_link"])
        stub = SOCIAL_PLATFORMS[item["platform"]][1]
        by_platform[item["platform"]] = {"platform": item["platform"],
                                         "social_link": f"https://www.{stub}{username}"}
    return sorted(by_platform.values(), key=lambda item: item["platform"])


def extended_profile_values(config, entries):
    """``{field_name: value}`` of the configured extended fields in a PATCH."""
    values = {}
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        name = entry.get("field_name")
        if name in config.extended_profile_fields and "field_value" in entry:
            value = entry["field_value"]
            values[name] = value if value is None or isinstance(value, str) else str(value)
    return values


def check_email_rate(request, data):
    config = account_config(request.registry)
    for field, rate in (("email", config.email_change_rate),
                        ("secondary_email", config.secondary_email_rate)):
        if data.get(field) and rate:
            if hit(request, f"accounts.{field}_change", str(request.user.id), rate):
                raise APIError(429, {"error": "Too many requests"})


def apply_update(request, user, profile, data, cleaned):
    config = account_config(request.registry)
    if "name" in cleaned and cleaned["name"] != user.name:
        meta = dict(profile.meta or {})
        meta["old_names"] = list(meta.get("old_names", [])) + [[
            user.name, f"Name change requested through account API by {request.user.username}",
            utcnow().isoformat()]]
        profile.meta = meta
        user.name = cleaned["name"]
    for name in ("gender", "goals", "year_of_birth", "level_of_education", "country", "state",
                 "city", "mailing_address", "bio", "phone_number"):
        if name in cleaned:
            setattr(profile, name, cleaned[name])
    if "language_proficiencies" in cleaned:
        profile.language_proficiencies = sorted(cleaned["language_proficiencies"],
                                                key=lambda item: item["code"])
    if cleaned.get("social_links"):
        profile.social_links = merged_social_links(profile.social_links,
                                                   cleaned["social_links"])
    if ACCOUNT_PRIVACY in data:
        api.set_preference(request.dbsession, user.id, ACCOUNT_PRIVACY,
                           str(data[ACCOUNT_PRIVACY]))
    values = extended_profile_values(config, data.get("extended_profile"))
    if values:
        meta = dict(profile.meta or {})
        meta.update(values)
        profile.meta = meta
    if "country" in data and cleaned.get("country") != COUNTRY_WITH_STATES:
        profile.state = None
    if has_profile_image(profile) and requires_parental_consent(config, profile):
        # Upstream's profile pre-save rule: minors have no profile image.
        from plugins.accounts.views.profile_images import forget_image

        forget_image(request, user, profile)
    request.dbsession.flush()
    if data.get("email"):
        request_email_change(request, user, data["email"], "primary")
    if data.get("secondary_email"):
        request_email_change(request, user, data["secondary_email"], "secondary")


def request_email_change(request, user, new_email, kind):
    """Record the pending change and mail its confirmation link to the new address."""
    db = request.dbsession
    key = uuid.uuid4().hex
    pending = db.scalar(select(PendingEmailChange).where(PendingEmailChange.user_id == user.id))
    if pending is None:
        pending = PendingEmailChange(user_id=user.id)
        db.add(pending)
    pending.new_email, pending.activation_key, pending.kind = new_email, key, kind
    db.flush()
    settings = request.registry.settings
    platform = settings["lms.platform_name"]
    path = "email_confirm" if kind == "primary" else "activate_secondary_email"
    link = f"{settings['lms.base_url'].rstrip('/')}/{path}/{key}"
    if kind == "primary":
        subject = f"Request to change {platform} account e-mail"
        text = (f"There was recently a request to change the e-mail address associated with "
                f"your {platform} account from {user.email} to {new_email}. If you requested "
                f"this change, please confirm your new e-mail address by following the link "
                f"below:\n\n{link}\n\nIf you don't want to change the e-mail address "
                f"associated with your account, ignore this message.\n")
    else:
        subject = f"Confirm your recovery email for {platform}"
        text = (f"You've registered this recovery email address for {platform}.\n\nIf you "
                f"set this email address, click the link below to confirm it:\n\n{link}\n\n"
                f"If you did not request this change, you can ignore this message.\n")
    send_mail(request, new_email, subject, text)


@account_detail.patch(validators=(can_get_account_info,), body=doc.ACCOUNT_PATCH,
                      query=doc.STAFF_LOOKUP_QUERY,

                      responses={200: doc.ACCOUNT, 403: "Not the caller's account.",
                                 404: "No such account.", 429: "Too many email changes."})
def patch_account_detail(request):
    """Update the caller's own account (a JSON merge patch).

    Checks in upstream's order (415, 429, 403, 400).
    """
    data = request_data(request, (MERGE_PATCH,))
    if not isinstance(data, dict):
        raise APIError(400, {"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    check_email_rate(request, data)
    username = request.matchdict["username"]
    if request.user.username != username:
        raise empty(403)
    user = find_user(request, username)
    if user is None:
        raise empty(404)
    profile = api.get_profile(request.dbsession, user.id)
    errors, cleaned = validate_update(request, user, profile, data)
    if errors:
        raise APIError(400, {"field_errors": errors})
    errors = validate_saved_fields(request, data, cleaned)
    if errors:
        raise APIError(400, {"field_errors": errors})
    profile = profile or api.get_profile(request.dbsession, user.id, create=True)
    apply_update(request, user, profile, data, cleaned)
    return get_account(request, user)


# -- deactivate ---------------------------------------------------------------------------

def can_deactivate_users(request, **kwargs):
    """``student.can_deactivate_users``: superusers and the configured accounts, which
    must be active global staff (a username alone grants nothing)."""
    user = request.user
    allowed = accounts_config(request.registry).services.deactivation_usernames
    permissions.require(permissions.is_superuser(user)
                        or (user.username in allowed and permissions.is_staff(user)))


@deactivate.post(validators=(can_deactivate_users,),
                 responses={200: doc.ACCOUNT, 400: None, 415: None,
                            403: "Not allowed to deactivate users.", 404: "No such account."})
def post_deactivate(request):
    """Make the password unusable and end the account's sessions and tokens.

    The account stays ``is_active`` as upstream leaves it; 200 with the account.
    """
    db = request.dbsession
    user = find_user(request, request.matchdict["username"])
    if user is None:
        raise empty(404)  # an unhandled error upstream
    user.password = make_unusable()
    db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.execute(delete(OAuthRefreshToken).where(OAuthRefreshToken.user_id == user.id))
    db.execute(delete(OAuthAccessToken).where(OAuthAccessToken.user_id == user.id))
    db.flush()
    return get_account(request, user)


# -- name change ----------------------------------------------------------------------------

@name_change.post(body=doc.NAME_CHANGE_BODY, responses={201: doc.NO_BODY})
def post_name_change(request):
    """Request a change of the caller's name (staff confirm it).

    `PendingNameChangeSerializer` on `name`: 201 empty.
    """
    data = request_data(request, JSON_TYPES + FORM_MEDIA_TYPES)
    new_name = data.get("name") if isinstance(data, dict) else None
    errors = None
    if new_name is None:
        errors = ["This field may not be null."]
    elif isinstance(new_name, bool) or not isinstance(new_name, (str, int, float)):
        errors = [NOT_A_STRING]
    else:
        new_name = str(new_name)
        if not new_name.strip():
            errors = ["This field may not be blank."]
        elif "\x00" in new_name:  # the CharField's ProhibitNullCharactersValidator
            errors = ["Null characters are not allowed."]
        elif contains_html(new_name):
            errors = ["Name cannot contain the following characters: < >"]
        elif contains_url(new_name):
            errors = ["Name cannot contain a URL"]
        elif len(new_name) > 255:
            errors = ["Ensure this field has no more than 255 characters."]
    if errors:
        raise APIError(400, {"new_name": errors})
    user = request.user
    if new_name == user.name:
        raise APIError(400, {"new_name": "The profile name given was identical to the current "
                                         "name."})
    db = request.dbsession
    pending = db.scalar(select(PendingNameChange).where(PendingNameChange.user_id == user.id))
    if pending is None:
        pending = PendingNameChange(user_id=user.id)
        db.add(pending)
    pending.new_name, pending.rationale, pending.created = new_name, "", utcnow()
    db.flush()
    return empty_response(201)


@name_change_confirm.post(responses={204: doc.NO_BODY, 400: None, 415: None,
                                     403: "Not staff.", 404: "No pending change."})
def post_name_change_confirm(request):
    """Apply a pending name change (staff).

    204; no pending change (or user): an empty 404.
    """
    if not request.user.is_staff:
        raise empty(403)
    db = request.dbsession
    user = find_user(request, request.matchdict["username"])
    if user is None:
        raise empty(404)
    pending = db.scalar(select(PendingNameChange).where(PendingNameChange.user_id == user.id))
    if pending is None:
        raise empty(404)
    profile = api.get_profile(db, user.id, create=True)
    meta = dict(profile.meta or {})
    meta["old_names"] = list(meta.get("old_names", [])) + [
        [user.name, pending.rationale or "", utcnow().isoformat()]]
    profile.meta = meta
    user.name = pending.new_name
    db.delete(pending)
    db.flush()
    return no_content()


# -- replace_usernames ------------------------------------------------------------------------

def can_replace_usernames(request, **kwargs):
    """``CanReplaceUsername``: only the configured replacement worker, while it is
    active global staff (a username alone grants nothing)."""
    worker = accounts_config(request.registry).services.username_replacement_worker
    permissions.require(bool(worker) and request.user.username == worker
                        and permissions.is_staff(request.user))


def unique_suffix(length=UNIQUE_SUFFIX_LENGTH):
    """Letters and digits alternating, e.g. ``k3x9``."""
    pool = (string.ascii_lowercase, string.digits)
    return "".join(random.SystemRandom().choice(pool[i % 2]) for i in range(length))


def available_username(db, desired):
    candidate = desired
    while db.scalar(select(User.id).where(User.username == candidate).limit(1)) is not None:
        candidate = f"{desired}-{unique_suffix()}"
    return candidate


def rename(request, current, new):
    """Rename everywhere in one savepoint; False (and nothing changed) on any error."""
    db = request.dbsession
    pm = request.registry["lms.plugin_manager"]
    try:
        with db.begin_nested():
            user_id = db.scalar(select(User.id).where(User.username == current))
            if user_id is not None:
                db.execute(update(User).where(User.id == user_id).values(username=new))
            for model in (UserRetirementStatus, UserRetirementPartnerReport):
                db.execute(update(model).where(model.original_username == current)
                           .values(original_username=new))
            if user_id is not None:
                pm.hook.lms_username_replaced(dbsession=db, user_id=user_id,
                                              old_username=current, new_username=new)
            db.flush()
    except Exception:  # noqa: BLE001 - upstream reports any failure as a failed pair
        import logging

        logging.getLogger(__name__).exception("cannot rename %r to %r", current, new)
        return False
    return True


@replace_usernames.post(validators=(can_replace_usernames,), body=doc.REPLACE_USERNAMES_BODY,
                        responses={200: doc.REPLACEMENTS,
                                   403: "Not the username replacement service."})
def post_replace_usernames(request):
    """Rename accounts (`username_mappings`: `[{current: desired}]`), as upstream's worker does."""
    data = request_data(request, JSON_TYPES + FORM_MEDIA_TYPES)
    mappings = data.get("username_mappings") if isinstance(data, dict) else None
    if not isinstance(mappings, list) or not all(
            isinstance(pair, dict) and len(pair) == 1 for pair in mappings):
        raise APIError(400, ["Request data does not match schema"])
    services = accounts_config(request.registry).services
    successful, failed = [], []
    for pair in mappings:
        (current, desired), = pair.items()
        # A service's (or any reserved) name is never handed out.
        if not isinstance(desired, str) or not desired or services.is_reserved(desired):
            failed.append({current: desired})
            continue
        new = available_username(request.dbsession, desired)
        (successful if rename(request, current, new) else failed).append({current: new})
    return {"successful_replacements": successful, "failed_replacements": failed}
