"""The registration form's fields: names, limits, choices and Open edX's messages.

Shared by the form description (:mod:`plugins.accounts.forms`), the form's
validation (:mod:`plugins.accounts.validation`) and the settings that choose
the extra fields (:mod:`plugins.accounts.config`).
"""
from lms.users import USERNAME_MAX, USERNAME_MIN

NAME_MAX_LENGTH = 255
EMAIL_MIN_LENGTH, EMAIL_MAX_LENGTH = 3, 254
PROFILE_CHOICE_MAX_LENGTH = 6  # gender / level_of_education columns

USERNAME_BAD_LENGTH = f"Username must be between {USERNAME_MIN} and {USERNAME_MAX} characters long."
USERNAME_INVALID_CHARS = ("Usernames can only contain letters (A-Z, a-z), numerals (0-9), "
                          "underscores (_), and hyphens (-).")
USERNAME_CONFLICT = "It looks like this username is already taken"
USERNAME_EXISTS = "An account with the Public Username '{username}' already exists."
EMAIL_CONFLICT = "This email is already associated with an existing account"
EMAIL_EXISTS = "An account with the Email '{email}' already exists."
EMAIL_INVALID_FORM = "A properly formatted e-mail is required"
EMAIL_TOO_LONG_FORM = f"Email cannot be more than {EMAIL_MAX_LENGTH} characters long"
EMAIL_UNAUTHORIZED = "Unauthorized email address."
EMAIL_INVALID = "Enter a valid email address"
EMAIL_BAD_LENGTH = (f"Enter a valid email address that contains at least {EMAIL_MIN_LENGTH} "
                    "characters.")
NAME_TOO_SHORT = "Your legal name must be a minimum of one character long"
NAME_TOO_LONG = f"Your legal name is too long. It must not exceed {NAME_MAX_LENGTH} characters"
NAME_HTML = "Full Name cannot contain the following characters: < >"
NAME_INVALID = "Enter a valid name"
NAME_REQUIRED = "Enter your surname and name"
NAME_TOO_LONG_VALIDATION = f"Full name can't be longer than {NAME_MAX_LENGTH} symbols"
CONFIRM_EMAIL_MISMATCH = "The email addresses do not match"
COUNTRY_REQUIRED = "Select your country or region of residence"
INVALID_UNICODE = "Input not valid unicode"
PASSWORD_BAD_TYPE = "Password must be a string"
FIELD_REQUIRED = "This field is required."
NULL_CHARACTERS = "Null characters are not allowed."
HONOR_CODE_REQUIRED = "To enroll, you must follow the honor code."
TERMS_REQUIRED = "You must accept the terms of service."
EXTRA_FIELD_REQUIRED = {
    "level_of_education": "A level of education is required",
    "gender": "Your gender is required",
    "year_of_birth": "Your year of birth is required",
    "mailing_address": "Your mailing address is required",
    "goals": "A description of your goals is required",
    "city": "A city is required",
    "country": "A country is required",
}
EXTRA_FIELD_MISSING = "You are missing one or more required fields"

# Form-description error messages (REQUIRED_FIELD_*_MSG upstream).
DESCRIPTION_REQUIRED = {
    "confirm_email": CONFIRM_EMAIL_MISMATCH,
    "country": COUNTRY_REQUIRED,
    "city": "Enter your city",
    "goals": "Tell us your goals",
    "level_of_education": "Select the highest level of education you have completed",
    "mailing_address": "Enter your educational institution",
    "profession": "Enter your profession",
    "specialty": "Enter your specialty",
}

# The required fields' messages in the authn MFE's context (also REQUIRED_FIELD_*_MSG
# upstream, some worded differently from the form description's). Upstream gives
# specialty its select message even as a text field, and company, title and
# job_title none.
MFE_REQUIRED = {
    "confirm_email": "Enter your confirm email",
    "first_name": "Enter your first name",
    "last_name": "Enter your last name",
    "city": "Enter your city",
    "state": "Enter your state",
    "country": COUNTRY_REQUIRED,
    "gender": "Select your gender",
    "year_of_birth": "Select your year of birth",
    "level_of_education": DESCRIPTION_REQUIRED["level_of_education"],
    "mailing_address": DESCRIPTION_REQUIRED["mailing_address"],
    "goals": DESCRIPTION_REQUIRED["goals"],
    "profession": "Enter your profession",
    "specialty": "Select your specialty",
    "company": "",
    "title": "",
    "job_title": "",
}

GENDER_CHOICES = (("m", "Male"), ("f", "Female"), ("o", "Other/Prefer Not to Say"))
LEVEL_OF_EDUCATION_CHOICES = (
    ("p", "Doctorate"),
    ("m", "Master's or professional degree"),
    ("b", "Bachelor's degree"),
    ("a", "Associate degree"),
    ("hs", "Secondary/high school"),
    ("jhs", "Junior secondary/junior high/middle school"),
    ("el", "Elementary/primary school"),
    ("none", "No formal education"),
    ("other", "Other education"),
)
YEARS_OF_BIRTH = 120

DEFAULT_FIELDS = ("email", "name", "username", "password")
EXTRA_FIELDS = (
    "confirm_email", "first_name", "last_name", "city", "state", "country", "gender",
    "year_of_birth", "level_of_education", "company", "job_title", "title", "mailing_address",
    "goals", "honor_code", "terms_of_service", "profession", "specialty",
    "marketing_emails_opt_in",
)
FIELD_POLICIES = ("required", "optional", "hidden")
# Extra fields that are UserProfile columns upstream: the MFE context lists only
# these, the two agreements and the extended profile fields (what can be saved).
PROFILE_COLUMNS = ("city", "state", "country", "gender", "year_of_birth",
                   "level_of_education", "mailing_address", "goals")
PROFILE_FIELDS = ("level_of_education", "gender", "mailing_address", "city", "country", "goals",
                  "year_of_birth")
# The largest integer the database columns hold (year of birth, user ids in links).
MAX_DB_INTEGER = 2**31 - 1
