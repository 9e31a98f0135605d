"""Request and response bodies of the accounts plugin, for the OpenAPI document.

Only what the views parse by hand (bodies outside a colander schema) and what
they answer; ``lms.openapi`` adds the statuses every operation shares.
"""
from lms.openapi import (  # noqa: F401  (HTML, NO_BODY: re-exported for the views)
    ANY, ANY_OBJECT, BOOLEAN, HTML, INTEGER, NO_BODY, STRING, Body, array, nullable, obj,
)

TEXT = nullable(STRING)

PROFILE_IMAGE = obj({"has_image": BOOLEAN, "image_url_full": STRING,
                     "image_url_large": STRING, "image_url_medium": STRING,
                     "image_url_small": STRING}, required=["has_image"])

# The fields shown depend on the viewer and the account's privacy (and settings),
# so none is promised; most may be null.
ACCOUNT = obj({
    "username": STRING,
    "name": TEXT,
    "email": TEXT,
    "id": INTEGER,
    "account_privacy": TEXT,
    "profile_image": PROFILE_IMAGE,
    "bio": TEXT,
    "course_certificates": nullable(array()),
    "country": TEXT,
    "date_joined": TEXT,
    "language_proficiencies": array(obj({"code": STRING})),
    "level_of_education": TEXT,
    "social_links": array(obj({"platform": STRING, "social_link": STRING})),
    "time_zone": TEXT,
    "verified_name": TEXT,
    "extended_profile": array(obj({"field_name": STRING, "field_value": ANY})),
    "gender": TEXT,
    "state": TEXT,
    "goals": TEXT,
    "is_active": BOOLEAN,
    "last_login": TEXT,
    "mailing_address": TEXT,
    "requires_parental_consent": BOOLEAN,
    "secondary_email": TEXT,
    "secondary_email_enabled": nullable(BOOLEAN),
    "year_of_birth": nullable(INTEGER),
    "phone_number": TEXT,
    "pending_name_change": nullable(ANY),
}, required=False)
ACCOUNT_LIST = array(ACCOUNT)
ACCOUNT_PATCH = Body(obj({name: ANY for name in ACCOUNT["properties"]}, required=False),
                     media_type="application/merge-patch+json")

ME = obj({"username": STRING})
EMAIL_MATCHES = array(obj({"email": STRING, "id": INTEGER, "username": STRING}))
SEARCH_EMAILS_BODY = obj({"emails": array(STRING)})
NAME_CHANGE_BODY = obj({"name": STRING})
REPLACE_USERNAMES_BODY = obj({"username_mappings": array(
    {"type": "object", "additionalProperties": STRING})})
REPLACEMENTS = obj({
    "successful_replacements": array({"type": "object", "additionalProperties": STRING}),
    "failed_replacements": array({"type": "object", "additionalProperties": ANY}),
})

FORM_DESCRIPTION = obj({"method": STRING, "submit_url": STRING, "fields": array(ANY_OBJECT)})
FORM = "application/x-www-form-urlencoded"
REGISTRATION_BODY = Body(obj({
    "email": STRING, "name": STRING, "username": STRING, "password": STRING,
    "country": STRING, "honor_code": STRING, "terms_of_service": STRING,
    "confirm_email": STRING, "next": STRING,
}, required=False, additionalProperties=STRING), media_type=FORM)
REGISTERED = obj({
    "authenticated_user": obj({"username": STRING, "full_name": TEXT, "user_id": INTEGER}),
    "success": BOOLEAN,
    "redirect_url": STRING,
})
REGISTRATION_FIELDS = obj({
    "email": STRING, "name": STRING, "username": STRING, "password": STRING,
    "confirm_email": STRING, "country": STRING, "form_field_key": STRING,
}, required=False)
VALIDATION_DECISIONS = obj({
    "validation_decisions": {"type": "object", "additionalProperties": STRING},
    "username_suggestions": array(STRING),
}, required=["validation_decisions"])

IMAGE_UPLOAD = Body(obj({"file": {"type": "string", "format": "binary"}}, required=False),
                    media_type="multipart/form-data")

# -- retirement ---------------------------------------------------------------------
STATE = obj({"id": INTEGER, "state_name": STRING, "state_execution_order": INTEGER})
RETIREMENT_STATUS = obj({
    "id": INTEGER,
    "current_state": STATE,
    "last_state": STATE,
    "user": obj({"id": INTEGER, "username": STRING, "email": TEXT,
                 "profile": obj({"id": nullable(INTEGER), "name": TEXT})}),
    "created": STRING,
    "modified": STRING,
    "original_username": STRING,
    "original_email": STRING,
    "original_name": TEXT,
    "retired_username": STRING,
    "retired_email": STRING,
})
RETIREMENT_STATUSES = array(RETIREMENT_STATUS)
PARTNER_REPORT = array(obj({"user_id": INTEGER, "original_username": STRING,
                            "original_email": STRING, "original_name": TEXT,
                            "orgs": array(STRING), "created": STRING}))
PASSWORD_FORM = Body(obj({"password": STRING}), media_type=FORM)
USERNAME_BODY = obj({"username": STRING})
RETIREMENT_UPDATE_BODY = obj({"username": STRING, "new_state": STRING, "response": STRING,
                              "force": BOOLEAN}, required=["username", "new_state"])
PARTNER_CLEANUP_BODY = array(obj({"original_username": STRING}))
RETIREMENT_CLEANUP_BODY = obj({"usernames": array(STRING), "redacted_username": STRING,
                               "redacted_email": STRING, "redacted_name": STRING},
                              required=["usernames"])
CANCEL_RETIREMENT_BODY = obj({"retirement_id": INTEGER})
SUCCESS = obj({"success": BOOLEAN})
BARE_MESSAGE = "A JSON string: the reason."

# -- third-party auth -------------------------------------------------------------------
PROVIDER_STATUSES = array(obj({"id": STRING, "name": STRING, "connected": BOOLEAN,
                               "connect_url": STRING, "accepts_logins": BOOLEAN,
                               "disconnect_url": STRING}))
USER_MAPPING = obj({"username": STRING, "remote_id": nullable(ANY)})
LINKED_PROVIDERS = obj({"active": array(obj({"provider_id": STRING, "name": STRING,
                                             "remote_id": nullable(STRING)},
                                            required=["provider_id", "name"]))})

# -- preferences --------------------------------------------------------------------------
PREFERENCES = {"type": "object", "additionalProperties": STRING}
PREFERENCES_PATCH = Body({"type": "object", "additionalProperties": nullable(STRING)},
                         media_type="application/merge-patch+json")
PREFERENCE_VALUE = STRING
EMAIL_OPT_IN_FORM = Body(obj({"course_id": STRING, "email_opt_in": STRING}), media_type=FORM)
EMPTY_HTML = Body({"type": "string", "maxLength": 0}, "An empty page.", "text/html")
TIME_ZONES = array(obj({"time_zone": STRING, "description": STRING}))

# -- the smaller endpoints ------------------------------------------------------------------
VERIFICATION_STATUS = obj({"is_verified": BOOLEAN, "status": STRING,
                           "expiration_datetime": TEXT})
VERIFICATION = obj({"type": STRING, "status": STRING, "expiration_datetime": TEXT,
                    "message": STRING, "updated_at": TEXT, "receipt_id": TEXT})
VERIFICATIONS = array(VERIFICATION)
DEMOGRAPHICS_STATUS = obj({"display": BOOLEAN, "show_call_to_action": BOOLEAN})
TOGGLE = obj({"name": STRING, "class": STRING, "module": STRING, "computed_status": STRING,
              "note": STRING, "everyone": STRING, "is_active": ANY},
             required=["name", "class", "module"])
TOGGLE_REPORT = obj({"waffle_flags": array(TOGGLE), "waffle_switches": array(TOGGLE),
                     "django_settings": array(TOGGLE)})
MFE_CONFIG = {"type": "object", "additionalProperties": ANY}
AUTHN_CONTEXT = obj({"contextData": ANY_OBJECT,
                     "registrationFields": obj({"fields": ANY_OBJECT}),
                     "optionalFields": obj({"fields": ANY_OBJECT, "extended_profile": array()})})
USER_TOUR = obj({"course_home_tour_status": STRING, "show_courseware_tour": BOOLEAN})
DISCUSSION_TOUR = obj({"id": INTEGER, "tour_name": STRING, "show_tour": BOOLEAN,
                       "user": INTEGER})
DISCUSSION_TOURS = array(DISCUSSION_TOUR)
LISTED_USER = obj({"id": INTEGER, "url": STRING, "email": TEXT, "name": TEXT,
                   "username": STRING, "preferences": PREFERENCES})
LISTED_PREFERENCE = obj({"user": LISTED_USER, "key": STRING, "value": STRING, "url": STRING})

# -- password reset ---------------------------------------------------------------------------
TOKEN_BODY = obj({"token": STRING})
TOKEN_VALID = obj({"is_valid": BOOLEAN})
EMAIL_FORM = Body(obj({"email": STRING, "email_from_support_tools": STRING}, required=False),
                  media_type=FORM)
RESET_REQUESTED = obj({"success": BOOLEAN, "value": STRING})
NEW_PASSWORD_BODY = obj({"new_password1": STRING, "new_password2": STRING})
NEW_PASSWORD_FORM = Body(NEW_PASSWORD_BODY, media_type=FORM)
RESET_RESULT = obj({"reset_status": BOOLEAN, "token_invalid": BOOLEAN, "err_msg": STRING},
                   required=["reset_status"])
TEXT_PAGE = Body({"type": "string"}, "A text/html answer (Django's HttpResponse).", "text/html")

# CanGetAccountInfo reads these on every account operation: only staff may send them.
STAFF_LOOKUP_QUERY = {"email": "Look an account up by email (staff only; 403 for others).",
                      "lms_user_id": "Look an account up by id (staff only; 403 for others)."}
