"""Form descriptions (upstream ``user_api.helpers.FormDescription``).

What ``GET`` on the registration and password reset endpoints returns: the
fields the authn micro-frontend draws, with their labels, restrictions and
messages, as Open edX's ``RegistrationFormFactory`` describes them.
"""
import html

from lms.timeutil import utcnow
from plugins.accounts.fields import (
    CONFIRM_EMAIL_MISMATCH,
    COUNTRY_REQUIRED,
    DEFAULT_FIELDS,
    DESCRIPTION_REQUIRED,
    EMAIL_MAX_LENGTH,
    EMAIL_MIN_LENGTH,
    EXTRA_FIELDS,
    GENDER_CHOICES,
    LEVEL_OF_EDUCATION_CHOICES,
    MFE_REQUIRED,
    NAME_MAX_LENGTH,
    PROFILE_COLUMNS,
    USERNAME_MAX,
    USERNAME_MIN,
    YEARS_OF_BIRTH,
)
from plugins.accounts.passwords import password_instructions, password_restrictions

def escape(value):
    """markupsafe.escape, as upstream's Text()/HTML() formatting escapes values."""
    return (html.escape(str(value), quote=False)
            .replace('"', "&#34;").replace("'", "&#39;"))


def form_field(name, label="", field_type="text", default="", placeholder="", instructions="",
               exposed=None, required=True, restrictions=None, options=None,
               include_default_option=False, error_messages=None):
    described = {
        "name": name,
        "label": label,
        "type": field_type,
        "defaultValue": default,
        "placeholder": placeholder,
        "instructions": instructions,
        "exposed": required if exposed is None else exposed,
        "required": required,
        "restrictions": dict(restrictions or {}),
        "errorMessages": dict(error_messages or {}),
        "supplementalLink": "",
        "supplementalText": "",
        "loginIssueSupportLink": "",
    }
    if field_type == "select":
        choices = []
        if include_default_option:
            choices.append({"value": "", "name": "--", "default": True})
        choices.extend({"value": value, "name": label_, "default": False}
                       for value, label_ in options)
        described["options"] = choices
    return described


_countries = None


def countries():
    """``{ISO 3166-1 alpha-2: name}``, sorted by name (the maintained pycountry list)."""
    global _countries
    if _countries is None:
        import pycountry

        names = {country.alpha_2: getattr(country, "common_name", None) or country.name
                 for country in pycountry.countries}
        _countries = dict(sorted(names.items(), key=lambda item: item[1]))
    return _countries


def years_of_birth():
    """UserProfile.VALID_YEARS, newest first, as text."""
    this_year = utcnow().year
    return [str(year) for year in range(this_year, this_year - YEARS_OF_BIRTH, -1)]


def _field_visible(policies, name):
    return policies.get(name) in ("required", "optional")


def _honor_code_field(config, policies, required):
    platform = escape(config.platform_name)
    link = escape(config.honor_code_url)
    if _field_visible(policies, "terms_of_service"):
        terms = "Honor Code"
        label = (f"I agree to the {platform} <a href='{link}' rel='noopener' "
                 f"target='_blank'>{terms}</a>")
        field_type = "checkbox"
    else:
        terms = "Terms of Service and Honor Code"
        privacy = escape(config.privacy_policy_url)
        spacing = " " * 18  # upstream's string continuation keeps the indentation
        label = (f"By creating an account, you agree to the {spacing}<a href='{link}' "
                 f"rel='noopener' target='_blank'>{terms}</a> {spacing}and you acknowledge "
                 f"that {platform} and each Member process your personal data in accordance "
                 f"{spacing}with the <a href='{privacy}' rel='noopener' target='_blank'>"
                 "Privacy Policy</a>.")
        field_type = "plaintext"
    return form_field("honor_code", label=label, field_type=field_type, default=False,
                      required=required, error_messages={
                          "required": f"You must agree to the {config.platform_name} {terms}"})


def _extra_field(config, policies, name, required):
    """The description of one optional/required extra field."""
    if name == "honor_code":
        return _honor_code_field(config, policies, required)
    if name == "terms_of_service":
        link = escape(config.terms_of_service_url)
        return form_field(
            "terms_of_service", field_type="checkbox", default=False, required=required,
            label=(f"I agree to the {escape(config.platform_name)} <a href='{link}' "
                   "rel='noopener' target='_blank'>Terms of Service</a>"),
            error_messages={"required": f"You must agree to the {config.platform_name} "
                                        "Terms of Service"})
    if name == "confirm_email":
        return form_field(name, label="Confirm Email", field_type="email", required=required,
                          error_messages={"required": CONFIRM_EMAIL_MISMATCH})
    if name == "gender":
        return form_field(name, label="Gender", field_type="select", options=GENDER_CHOICES,
                          include_default_option=True, required=required)
    if name == "year_of_birth":
        years = [(year, year) for year in years_of_birth()]
        return form_field(name, label="Year of birth", field_type="select", options=years,
                          include_default_option=True, required=required)
    if name == "level_of_education":
        return form_field(name, label="Highest level of education completed",
                          field_type="select", options=LEVEL_OF_EDUCATION_CHOICES,
                          include_default_option=True, required=required,
                          error_messages={"required": DESCRIPTION_REQUIRED[name]})
    if name == "country":
        return form_field(name, label="Country or Region of Residence", field_type="select",
                          instructions="The country or region where you live.",
                          options=list(countries().items()), include_default_option=True,
                          required=required, error_messages={"required": COUNTRY_REQUIRED})
    if name in ("mailing_address", "goals"):
        label = ("Mailing address" if name == "mailing_address" else
                 f"Tell us why you're interested in {config.platform_name}")
        return form_field(name, label=label, field_type="textarea", required=required,
                          error_messages={"required": DESCRIPTION_REQUIRED[name]})
    if name == "marketing_emails_opt_in":
        return form_field(name, field_type="checkbox", exposed=True, default=True,
                          required=required,
                          label=f"I agree that {config.platform_name} may send me marketing "
                                "messages.")
    labels = {"city": "City", "state": "State/Province/Region", "company": "Company",
              "title": "Title", "job_title": "Job Title", "first_name": "First Name",
              "last_name": "Last Name", "profession": "Profession", "specialty": "Specialty"}
    messages = ({"required": DESCRIPTION_REQUIRED[name]} if name in DESCRIPTION_REQUIRED
                else None)
    return form_field(name, label=labels[name], required=required, error_messages=messages)


def _default_field(config, name):
    if name == "email":
        return form_field("email", label="Email", field_type="email",
                          instructions="This is what you will use to login.",
                          restrictions={"min_length": EMAIL_MIN_LENGTH,
                                        "max_length": EMAIL_MAX_LENGTH})
    if name == "name":
        return form_field("name", label="Full Name",
                          instructions="This name will be used on any certificates that you "
                                       "earn.",
                          restrictions={"max_length": NAME_MAX_LENGTH})
    if name == "username":
        return form_field("username", label="Public Username",
                          instructions="The name that will identify you in your courses. It "
                                       "cannot be changed later.",
                          restrictions={"min_length": USERNAME_MIN, "max_length": USERNAME_MAX})
    return form_field("password", label="Password", field_type="password",
                      instructions=password_instructions(config),
                      restrictions=password_restrictions(config))


def registration_form(config, version):
    """The registration form description (RegistrationFormFactory) for ``v1`` or ``v2``."""
    policies = config.field_policies()
    known = list(DEFAULT_FIELDS) + list(EXTRA_FIELDS)
    order = list(config.field_order)
    order += sorted(set(known) - set(order))
    fields = []
    for name in order:
        if name in DEFAULT_FIELDS:
            fields.append(_default_field(config, name))
        elif name in EXTRA_FIELDS and _field_visible(policies, name):
            if version == "v1" and name == "confirm_email":
                continue
            fields.append(_extra_field(config, policies, name,
                                       policies[name] == "required"))
    return {"method": "post", "submit_url": f"/api/user/{version}/account/registration/",
            "fields": fields}


# -- the authn MFE's context (upstream ``user_authn.api.form_fields``) -----------------------

def _mfe_field(config, policies, name, required):
    """One extra field as ``/api/mfe_context`` describes it, or None (no description)."""
    message = MFE_REQUIRED.get(name, "") if required else ""
    platform = config.platform_name
    if name == "honor_code":
        # Separate checkboxes when the terms of service show; else one notice for both,
        # which the MFE answers with honor_code=true on its own.
        separate = _field_visible(policies, "terms_of_service")
        message = (f"You must agree to the {platform} Honor Code"
                   if separate and required else "")
        return {"name": name, "type": "honor_code" if separate else "tos_and_honor_code",
                "error_message": message}
    if name == "terms_of_service":
        return {"name": name,
                "error_message": (f"You must agree to the {platform} Terms of Service"
                                  if required else "")}
    if name == "country":  # the MFE draws its own country list
        return {"name": name, "error_message": message}
    if name in ("gender", "level_of_education", "year_of_birth"):
        label, choices = {
            "gender": ("Gender", GENDER_CHOICES),
            "level_of_education": ("Highest level of education completed",
                                   LEVEL_OF_EDUCATION_CHOICES),
            "year_of_birth": ("Year of birth", [(year, year) for year in years_of_birth()]),
        }[name]
        return {"name": name, "type": "select", "label": label, "error_message": message,
                "options": [[value, text] for value, text in choices]}
    if name in ("goals", "mailing_address"):
        label = (f"Tell us why you're interested in {platform}" if name == "goals"
                 else "Educational institution")
        return {"name": name, "type": "textarea", "label": label, "error_message": message}
    if name in ("first_name", "last_name", "city", "state", "confirm_email"):
        label = {"first_name": "First Name", "last_name": "Last Name", "city": "City",
                 "state": "State/Province/Region", "confirm_email": "Confirm Email"}[name]
        return {"name": name, "type": "text", "label": label, "error_message": message}
    if name in ("profession", "specialty", "company", "title", "job_title"):
        # Upstream's select-or-text fields; openlms has no EXTRA_FIELD_OPTIONS: text.
        label = {"profession": "Profession", "specialty": "Specialty", "company": "Company",
                 "title": "Title", "job_title": "Job Title"}[name]
        return {"name": name, "label": label, "error_message": message, "type": "text"}
    return None  # marketing_emails_opt_in has no MFE description upstream


def authn_mfe_fields(config, extended_profile_fields, policy):
    """The extra fields of one policy (``required`` or ``optional``), as ``/api/mfe_context``
    lists them (upstream RegistrationFieldsContext): in field order, only those a
    profile can store, and confirm_email never among the optional ones."""
    policies = config.field_policies()
    storable = {*PROFILE_COLUMNS, "honor_code", "terms_of_service", *extended_profile_fields}
    fields = {}
    for name in config.ordered_extra_fields():
        if policies[name] != policy or name not in storable:
            continue
        if name == "confirm_email" and policy == "optional":
            continue
        described = _mfe_field(config, policies, name, policy == "required")
        if described is not None:
            fields[name] = described
    return fields


def password_reset_form(config):
    return {
        "method": "post",
        "submit_url": "/account/password",
        "fields": [form_field(
            "email", label="Email", field_type="email", placeholder="username@domain.com",
            instructions=f"The email address you used to register with {config.platform_name}",
            restrictions={"min_length": EMAIL_MIN_LENGTH, "max_length": EMAIL_MAX_LENGTH})],
    }
