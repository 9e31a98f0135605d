"""``POST /i18n/setlang/``: the site-language cookie (Django's ``set_language``).

The account MFE posts ``language`` here (multipart, ``Accept: application/json``)
after saving the ``pref-lang`` preference, so that the LMS and the MFEs read the
same language cookie (``i18n.language_cookie_name``, upstream
``openedx-language-preference``, on the session cookie's domain so every MFE host
sees it). As in Django:

- CSRF is checked for everyone (CsrfViewMiddleware), signed in or not;
- an unknown or malformed language code sets nothing and is not an error;
- the answer is a redirect to ``next`` (when it is a safe URL), else to the
  ``Referer`` (when safe) or ``/`` for a caller that accepts HTML; a caller that
  does not accept HTML and gives no ``next`` gets 204;
- ``GET`` only redirects (a GET never changes the cookie).
"""
import re

from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response

from lms import auth
from lms.openapi import Body
from lms.request import form_fields
from lms.service import Service
from lms.session import csrf_protect, iri_to_uri, is_safe_redirect, set_cookie

SETTINGS_KEY = "lms.language_cookie_name"
# Django's language_code_re: a primary tag, subtags, an optional @variant.
LANGUAGE_CODE = re.compile(r"^[a-z]{1,8}(?:-[a-z0-9]{1,8})*(?:@[a-z0-9]{1,20})?$", re.IGNORECASE)
# Django's LANGUAGE_COOKIE_AGE default is None: a browser-session cookie.

FORM_BODY = Body({"type": "object", "properties": {
    "language": {"type": "string", "description": "The language code, e.g. `fr`."},
    "next": {"type": "string", "description": "Where to go afterwards (a safe URL)."},
}}, media_type="multipart/form-data")

set_language = Service("lms.set_language", "/i18n/setlang/", auth=auth.NO_AUTH, anonymous=True,
                       description="Set the site-language cookie (Django's set_language).")


def is_known_language(code):
    """A well-formed code whose primary tag is an ISO 639 language (pycountry)."""
    if not code or not LANGUAGE_CODE.match(code):
        return False
    import pycountry  # its data is loaded on first use: only this view needs it

    primary = code.split("@")[0].split("-")[0].lower()
    field = "alpha_2" if len(primary) == 2 else "alpha_3"
    return len(primary) in (2, 3) and pycountry.languages.get(**{field: primary}) is not None


def _query_next(request):
    try:
        return request.GET.get("next")
    except UnicodeDecodeError:  # a query string that is not UTF-8 names no usable target
        return None


def _accepts_html(request):
    return bool(request.accept.acceptable_offers(["text/html"]))


def _destination(request, next_url):
    """Django's choice: ``next``, else (for HTML callers) the Referer or ``/``."""
    if (next_url or _accepts_html(request)) and not (next_url and is_safe_redirect(request,
                                                                                   next_url)):
        referer = request.headers.get("Referer")
        next_url = referer if referer and is_safe_redirect(request, referer) else "/"
    return next_url


def _answer(request, next_url):
    target = _destination(request, next_url)
    return HTTPFound(location=iri_to_uri(target)) if target else Response(status=204)


@set_language.get(query={"next": "Where to go afterwards (a safe URL)."},
                  responses={302: "To `next`, the Referer or /.", 204: None})
def get_set_language(request):
    """Only redirect: the cookie changes on POST."""
    return _answer(request, _query_next(request))


@set_language.post(validators=(csrf_protect,),
                   body=FORM_BODY, query={"next": "Where to go when the form has no `next`."},
                   responses={204: "Cookie set (or the code ignored); the caller did not ask "
                                   "for HTML.",
                              302: "To `next`, the Referer or /.", 403: "No CSRF token.",
                              400: None, 415: None})
def post_set_language(request):
    """Set the site-language cookie to ``language`` when it is a known language."""
    fields = form_fields(request)
    next_url = fields.get("next") or _query_next(request)
    response = _answer(request, next_url)
    language = fields.get("language")
    if isinstance(language, str) and is_known_language(language):
        config = request.registry["lms.auth_config"]
        set_cookie(response, config, request.registry.settings[SETTINGS_KEY], language,
                   max_age=None)
    return response


def includeme(config):
    config.scan(__name__)
