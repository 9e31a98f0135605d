"""Registration (upstream ``user_authn`` RegistrationView and friends).

- ``GET/POST /api/user/v1/account/registration/`` and ``/api/user/v2/...``: the
  form description (sets the CSRF cookie), and account creation from
  form-encoded fields (CSRF-exempt; a JSON body reads as empty, as upstream);
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
import json
from urllib.parse import urlencode

import colander
from pyramid.events import ApplicationCreated, subscriber
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from sqlalchemy import select

from lms import auth, throttle
from lms.errors import APIError, permission_denied
from lms.models import User
from lms.service import Service
from lms.session import log_in
from plugins.accounts.models import Registration
from plugins.accounts.registration import (
    DASHBOARD_PATH,
    EMAIL_CONFLICT,
    USERNAME_CONFLICT,
    AccountConflict,
    activate,
    clean_registration,
    country_error,
    create_account,
    email_exists_or_retired,
    escape,
    get_config,
    next_url_for_login_page,
    registration_for,
    registration_form,
    send_activation_email,
    username_exists_or_retired,
    username_suggestions,
    validation_decisions,
    with_host,
)

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


@subscriber(ApplicationCreated)
def check_registration_settings(event):
    """Bad ``accounts.*`` registration settings stop the start-up, not a request."""
    get_config(event.app.registry)


# -- request bodies ----------------------------------------------------------------------

class FormFields(colander.MappingSchema):
    """Posted form fields, all text; the registration rules are in clean_registration."""

    def schema_type(self, **kw):
        return colander.Mapping(unknown="preserve")


def form_fields_validator(request, **kwargs):
    # Django's request.POST: form fields only (JSON bodies have none; uploads are files).
    fields = {name: value for name, value in request.POST.items() if isinstance(value, str)}
    request.validated["form"] = FormFields().deserialize(fields)


def request_data(request):
    """DRF's ``request.data``: a JSON object or form fields (anything else is 415)."""
    if not request.body:
        return {}
    content_type = request.content_type
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise APIError(400, {"detail": f"JSON parse error - {exc}"})
        # Upstream fails on a JSON array or scalar; here it carries no fields.
        return data if isinstance(data, dict) else {}
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {name: value for name, value in request.POST.items() if isinstance(value, str)}
    if not content_type:
        return {}
    raise APIError(415, {"detail": "Unsupported media type "
                                   f"\"{request.headers.get('Content-Type')}\" in request."})


def empty_response(status=200):
    """DRF's ``Response(status=...)`` without data: no body, no content type."""
    return APIError(status, raw=b"").response()


def html_page(title, body, status=200):
    page = (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title></head>\n<body>\n{body}\n</body>\n</html>\n")
    return Response(body=page.encode(), status=status, content_type="text/html",
                    charset="utf-8")


# -- registration form and account creation ----------------------------------------------

def api_version(request):
    return "v1" if request.path.startswith("/api/user/v1/") else "v2"


@registration_v1.get()
@registration_v2.get()
def get_registration_form(request):
    auth.ensure_csrf_cookie(request)
    return registration_form(get_config(request.registry), api_version(request))


def registration_error(status, errors, error_code):
    body = {name: [{"user_message": message} for message in messages]
            for name, messages in errors.items()}
    body["error_code"] = error_code
    return APIError(status, body)


def duplicate_error(request, data):
    """409 when the email or username is taken or retired (only the colliding keys)."""
    settings = request.registry.settings
    db = request.dbsession
    email, username = data.get("email"), data.get("username")
    body, error_code = {}, "duplicate"
    if email is not None and email_exists_or_retired(db, settings, email):
        error_code += "-email"
        body["email"] = [{"user_message": EMAIL_CONFLICT}]
    if username is not None and username_exists_or_retired(db, settings, username):
        error_code += "-username"
        body["username"] = [{"user_message": USERNAME_CONFLICT}]
        body["username_suggestions"] = username_suggestions(db, settings, username)
    if body:
        body["error_code"] = error_code
        return APIError(409, body)
    return None


@registration_v1.post(validators=(form_fields_validator,))
@registration_v2.post(validators=(form_fields_validator,))
def post_registration(request):
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
        # A concurrent registration may have committed this address since the
        # duplicate check: that is a conflict (409), not a bad form.
        conflict = duplicate_error(request, data) if "email" in form.errors else None
        raise conflict or registration_error(400, form.errors, "validation-error")
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


@registration_validation.post(validators=(validation_throttle,))
def post_registration_validation(request):
    data = request_data(request)
    field_key = data.get("form_field_key")
    decisions, suggestions = validation_decisions(
        request, data, field_key if isinstance(field_key, str) else None)
    body = {"validation_decisions": decisions}
    if suggestions:
        body["username_suggestions"] = suggestions
    return body


# -- activation -------------------------------------------------------------------------------

@activation_email.post()
def post_send_activation_email(request):
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


@activation.get()
def get_activate(request):
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
