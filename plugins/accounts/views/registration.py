"""Registration (upstream ``user_authn`` RegistrationView and friends).

- ``GET/POST /api/user/v1/account/registration/`` and ``/api/user/v2/...``: the
  form description (sets the CSRF cookie), and account creation from
  form-encoded fields (CSRF-exempt; a JSON body reads as empty, as upstream);
  both are also served at upstream's legacy paths ``/user_api/v1/...`` (v1),
  ``/user_api/v2/...`` and ``/create_account`` (v2: no ``v1`` in the path);
- ``POST /api/user/v1/validation/registration``: per-field decisions, nothing
  created (JSON or form body);
- ``POST /api/send_account_activation_email``: re-send the activation mail
  (session only, CSRF);
- ``GET /activate/{key}``: the link of the activation mail. It activates the
  account and answers a small HTML page, or, when ``accounts.authn_mfe_url``
  is set and nobody is logged in, redirects to the authn MFE's login page
  with ``account_activation_status`` (``success``, ``info`` or ``error``) as
  upstream does. (Upstream otherwise redirects to ``/dashboard``, which this
  LMS does not serve.)

Checks run in upstream's order: per-IP limit (403 ``forbidden-request``),
duplicates (409, retired names count), country (400 ``invalid-country``),
the form (400 ``validation-error``); then the account is created, the new
user is logged in and the activation mail leaves once the request commits.
"""
from urllib.parse import urlencode

import colander
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from sqlalchemy import select

from lms import auth, throttle
from lms.errors import APIError, permission_denied
from lms.models import User
from lms.request import DEFAULT_MEDIA_TYPES, data_fields, form_fields
from lms.responses import empty_response
from lms.service import Service
from lms.session import log_in
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.availability import (
    email_exists_or_retired,
    username_exists_or_retired,
    username_suggestions,
)
from plugins.accounts.config import get_config
from plugins.accounts.creation import (
    AccountConflict,
    activate,
    create_account,
    registration_for,
    send_activation_email,
)
from plugins.accounts.fields import EMAIL_CONFLICT, USERNAME_CONFLICT
from plugins.accounts.forms import escape, registration_form
from plugins.accounts.models import Registration
from plugins.accounts.redirects import DASHBOARD_PATH, next_url_for_login_page, with_host
from plugins.accounts.validation import clean_registration, country_error, validation_decisions

registration_v1 = Service("accounts.registration_v1", "/api/user/v1/account/registration/",
                          auth=auth.NO_AUTH, anonymous=True,
                          description="Registration form and account creation (v1).")
registration_v2 = Service("accounts.registration_v2", "/api/user/v2/account/registration/",
                          auth=auth.NO_AUTH, anonymous=True,
                          description="Registration form and account creation (v2: "
                                      "confirm_email).")
registration_validation = Service(
    "accounts.registration_validation", "/api/user/v1/validation/registration",
    auth=auth.NO_AUTH, anonymous=True, description="Registration field validation.")
activation_email = Service(
    "accounts.send_account_activation_email", "/api/send_account_activation_email",
    auth=(auth.SESSION,), description="Re-send the account activation email.")
activation = Service("accounts.activate", "/activate/{key}", auth=(auth.SESSION,),
                     anonymous=True, description="Account activation link (HTML).")


# -- request bodies ----------------------------------------------------------------------

class FormFields(colander.MappingSchema):
    """Posted form fields, all text; the registration rules are in clean_registration."""

    def schema_type(self, **kw):
        return colander.Mapping(unknown="preserve")


def form_fields_validator(request, **kwargs):
    # DRF's request.POST: the body is parsed (a bad or unsupported one is refused),
    # but only a form's fields count: a JSON body has none, uploads are files.
    request.validated["form"] = FormFields().deserialize(
        dict(form_fields(request, DEFAULT_MEDIA_TYPES)))


def html_page(title, body, status=200):
    page = (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title></head>\n<body>\n{body}\n</body>\n</html>\n")
    return Response(body=page.encode(), status=status, content_type="text/html",
                    charset="utf-8")


# -- registration form and account creation ----------------------------------------------

def api_version(request):
    """Upstream ``is_registration_api_v1``: a v1 path (``/create_account`` is not)."""
    return "v1" if "/v1/" in request.path else "v2"


@registration_v1.get(responses={200: doc.FORM_DESCRIPTION})
@registration_v2.get(responses={200: doc.FORM_DESCRIPTION})
def get_registration_form(request):
    """The registration form's description (fields, their rules and order)."""
    auth.ensure_csrf_cookie(request)
    return registration_form(get_config(request.registry), api_version(request))


def registration_error(status, errors, error_code):
    body = {name: [{"user_message": message} for message in messages]
            for name, messages in errors.items()}
    body["error_code"] = error_code
    return APIError(status, body)


def duplicate_error(request, data):
    """409 when the email or username is taken or retired (only the colliding keys)."""
    registry = request.registry
    db = request.dbsession
    email, username = data.get("email"), data.get("username")
    if email is not None:
        email = email.strip()  # the address the form cleans and stores
    body, error_code = {}, "duplicate"
    if email is not None and email_exists_or_retired(db, registry, email):
        error_code += "-email"
        body["email"] = [{"user_message": EMAIL_CONFLICT}]
    if username is not None and username_exists_or_retired(db, registry, username):
        error_code += "-username"
        body["username"] = [{"user_message": USERNAME_CONFLICT}]
        body["username_suggestions"] = username_suggestions(db, registry, username)
    if body:
        body["error_code"] = error_code
        return APIError(409, body)
    return None


@registration_v1.post(validators=(form_fields_validator,), body=doc.REGISTRATION_BODY,
                      responses={200: doc.REGISTERED, 403: "Throttled (forbidden-request).",
                                 409: "The email or username is taken."})
@registration_v2.post(validators=(form_fields_validator,), body=doc.REGISTRATION_BODY,
                      responses={200: doc.REGISTERED, 403: "Throttled (forbidden-request).",
                                 409: "The email or username is taken."})
def post_registration(request):
    """Create an account and log it in (form fields, as the authn MFE posts them)."""
    config = get_config(request.registry)
    if throttle.hit(request, "accounts.registration", throttle.client_ip(request),
                    config.rates["registration"]):
        raise APIError(403, {"error_code": "forbidden-request"})
    data = dict(request.validated["form"])
    # One checkbox stands for both: honor_code also answers terms_of_service.
    if data.get("honor_code") and "terms_of_service" not in data:
        data["terms_of_service"] = data["honor_code"]
    conflict = duplicate_error(request, data)
    if conflict:
        raise conflict
    message = country_error(config, data.get("country"))
    if message:
        raise registration_error(400, {"country": [message]}, "invalid-country")
    form = clean_registration(request, data, api_version(request))
    if not form.is_valid:
        raise registration_error(400, form.errors, "validation-error")
    try:
        user, registration = create_account(request, form, data)
    except AccountConflict as conflict:
        raise registration_error(409, {conflict.field_name: [str(conflict)]},
                                 conflict.error_code)
    redirect_url = with_host(config.base_url, next_url_for_login_page(request, data))
    log_in(request, request.response, user)
    if config.skip_activation_email:
        activate(request.dbsession, registration, user)
    else:
        send_activation_email(request, user, registration, redirect_url)
    return {
        "authenticated_user": {"username": user.username, "full_name": user.name,
                               "user_id": user.id},
        "success": True,
        "redirect_url": redirect_url,
    }


# -- field validation ------------------------------------------------------------------------

def validation_throttle(request, **kwargs):
    """django-ratelimit with block=True: over the limit, the request is refused (403)."""
    config = get_config(request.registry)
    if throttle.hit(request, "accounts.registration_validation", throttle.client_ip(request),
                    config.rates["registration_validation"]):
        raise permission_denied()


@registration_validation.post(validators=(validation_throttle,),
                              body=doc.REGISTRATION_FIELDS,
                              responses={200: doc.VALIDATION_DECISIONS, 403: "Throttled."})
def post_registration_validation(request):
    """Check registration fields one by one: an error message (or "") per field."""
    data = data_fields(request)
    field_key = data.get("form_field_key")
    decisions, suggestions = validation_decisions(
        request, data, field_key if isinstance(field_key, str) else None)
    body = {"validation_decisions": decisions}
    if suggestions:
        body["username_suggestions"] = suggestions
    return body


# -- activation -------------------------------------------------------------------------------

@activation_email.post(responses={200: doc.NO_BODY, 400: None, 415: None})
def post_send_activation_email(request):
    """Send the caller's account activation email again (when not active yet)."""
    user = request.user
    if not user.is_active:
        send_activation_email(request, user, registration_for(request.dbsession, user))
    return empty_response()


ACTIVATION_MESSAGES = {
    "error": ("Your account could not be activated",
              "Something went wrong, please contact support to resolve this issue."),
    "info": ("This account has already been activated.", ""),
    "success": ("Success", "You have activated your account."),
    "success_anonymous": ("Success! You have activated your account.",
                          ("You will now receive email updates and alerts from us related to "
                           "the courses you are enrolled in. Sign In to continue.")),
}


@activation.get(query={"next": "Where to go after the login page."},
                responses={200: doc.HTML, 302: "To the authn MFE's login page."})
def get_activate(request):
    """Activate the account of an activation link (an HTML page, or back to the MFE)."""

    config = get_config(request.registry)
    db = request.dbsession
    auth.ensure_csrf_cookie(request)
    key = request.matchdict["key"]
    current = request.user
    registration = None
    if "\x00" not in key:
        registration = db.scalar(select(Registration).where(Registration.activation_key == key))
    if registration is None or (current is not None and current.id != registration.user_id):
        status = "error"
    else:
        user = db.get(User, registration.user_id)
        if user.is_active:
            status = "info"
        else:
            activate(db, registration, user)
            status = "success"
    redirect_url = None
    if request.GET.get("next"):
        target = with_host(config.base_url, next_url_for_login_page(request, request.GET))
        if target not in (config.base_url + DASHBOARD_PATH, DASHBOARD_PATH):
            redirect_url = target
    if config.authn_mfe_url and current is None:
        params = {"account_activation_status": status}
        if redirect_url:
            params["next"] = redirect_url
        return HTTPFound(location=f"{config.authn_mfe_url}/login?{urlencode(params)}")
    message_key = "success_anonymous" if status == "success" and current is None else status
    title, text = ACTIVATION_MESSAGES[message_key]
    link = redirect_url or f"{config.base_url}/"
    body = (f"<p class=\"message-title\">{escape(title)}</p>"
            + (f"<p>{escape(text)}</p>" if text else "")
            + f"<p><a href=\"{escape(link)}\">Continue to {escape(config.platform_name)}</a></p>")
    return html_page(title, body)


# -- upstream's legacy paths (the same RegistrationView) ---------------------------------------

registration_legacy_v1 = registration_v1.alias(
    "accounts.registration_legacy_v1", "/user_api/v1/account/registration/")
registration_legacy_v2 = registration_v2.alias(
    "accounts.registration_legacy_v2", "/user_api/v2/account/registration/")
create_account_legacy = registration_v2.alias("accounts.create_account",
                                              "/create_account")
