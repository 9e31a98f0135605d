"""A browser running Open edX micro-frontends against openlms (tests/mfe).

The tests replay, request by request, what frontend-platform's axios clients send
from an MFE page (frontend-app-authn, frontend-app-account). :class:`Browser` adds
only what a browser adds on its own to such a cross-origin XHR:

- ``Origin`` and ``Referer`` (the MFE's origin: strict-origin-when-cross-origin);
- with ``withCredentials`` (frontend-platform's clients, except the plain
  ``getHttpClient()`` and the runtime-config client), the LMS cookies it holds, as a
  ``Cookie`` header; it stores every ``Set-Cookie`` the LMS answers, as sent;
- the CORS preflight of a non-simple request (any header beyond the safelisted
  ones, or PATCH/PUT/DELETE), cached for ``Access-Control-Max-Age``;
- the CORS checks that decide whether the page may read the answer: a refused
  check is an assertion error, as the MFE would only see a network error.

The deployment is a typical subdomain one: the LMS at ``local.openedx.io``, the MFEs
at ``apps.local.openedx.io`` (Tutor's development names), cookies on
``.local.openedx.io`` so that the MFEs' JavaScript can read the JWT header.payload
cookie and the user-info cookie.
"""
import base64
import json
import time
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import pytest
import webtest

LMS_HOST = "local.openedx.io"
LMS = f"http://{LMS_HOST}"
COOKIE_DOMAIN = ".local.openedx.io"
AUTHN_MFE = "http://apps.local.openedx.io:1999"
ACCOUNT_MFE = "http://apps.local.openedx.io:1997"
AUTHN_URL = AUTHN_MFE + "/authn"
ACCOUNT_URL = ACCOUNT_MFE + "/account/"
PLATFORM_NAME = "My Open edX"

# frontend-platform's cookie names (ACCESS_TOKEN_COOKIE_NAME, USER_INFO_COOKIE_NAME).
JWT_HEADER_PAYLOAD = "edx-jwt-cookie-header-payload"
JWT_SIGNATURE = "edx-jwt-cookie-signature"
USER_INFO = "edx-user-info"

# MFE_CONFIG as an operator would set it for these two MFEs.
MFE_CONFIG = {
    "LMS_BASE_URL": LMS,
    "LOGIN_URL": AUTHN_URL + "/login",
    "LOGOUT_URL": LMS + "/logout",
    "REFRESH_ACCESS_TOKEN_ENDPOINT": LMS + "/login_refresh",
    "CSRF_TOKEN_API_PATH": "/csrf/api/v1/token",
    "ACCESS_TOKEN_COOKIE_NAME": JWT_HEADER_PAYLOAD,
    "USER_INFO_COOKIE_NAME": USER_INFO,
    "LANGUAGE_PREFERENCE_COOKIE_NAME": "openedx-language-preference",
    "SITE_NAME": PLATFORM_NAME,
    "ACCOUNT_SETTINGS_URL": ACCOUNT_URL,
}

MFE_SETTINGS = {
    "lms.base_url": LMS,
    "lms.platform_name": PLATFORM_NAME,
    "jwt.issuer": LMS + "/oauth2",
    "cors.origins": f"{AUTHN_MFE} {ACCOUNT_MFE}",
    "csrf.trusted_origins": f"{AUTHN_MFE} {ACCOUNT_MFE}",
    "session.cookie_domain": COOKIE_DOMAIN,
    "accounts.authn_mfe_url": AUTHN_URL,
    "accounts.account_microfrontend_url": ACCOUNT_URL,
    # Upstream ENABLE_DYNAMIC_REGISTRATION_FIELDS: /api/mfe_context describes the
    # registration page's extra fields (here upstream's defaults: honor_code required).
    "accounts.enable_dynamic_registration_fields": "true",
    "accounts.released_languages": "en fr",
    "accounts.mfe_config": json.dumps(MFE_CONFIG),
    # The authn MFE renders the fields /api/mfe_context describes only with this flag.
    "accounts.mfe_config_overrides.authn.ENABLE_DYNAMIC_REGISTRATION_FIELDS": "true",
}

# axios' default Accept header.
AXIOS_ACCEPT = "application/json, text/plain, */*"
FORM = "application/x-www-form-urlencoded"
MERGE_PATCH = "application/merge-patch+json"

# Fetch: headers a page may send without a preflight, and the simple content types.
SAFELISTED_HEADERS = {"accept", "accept-language", "content-language", "content-type"}
SIMPLE_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data",
                        "text/plain"}
SIMPLE_METHODS = {"GET", "HEAD", "POST"}
# What encodeURIComponent leaves as is, besides letters, digits and '-_.~'.
SAFE_JS = "!'()*"
NAVIGATION_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def settings(settings):
    settings.update(MFE_SETTINGS)
    return settings


@pytest.fixture
def lms(app):
    """The LMS as the browser reaches it, at ``http://local.openedx.io``."""
    return webtest.TestApp(app.app, extra_environ={"HTTP_HOST": LMS_HOST})


@pytest.fixture
def browser(lms):
    """``browser(origin)``: a fresh browser (no cookies) on an MFE page."""
    return lambda origin=AUTHN_MFE: Browser(lms, origin)


def js_value(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def query_string(data):
    """query-string's ``stringify`` (authn's login and registration bodies): keys sorted,
    strict RFC 3986 escaping."""
    return "&".join(f"{quote(key, safe='')}={quote(js_value(value), safe='')}"
                    for key, value in sorted(data.items()))


def form_urlencoded(data):
    """The form-urlencoded package (forgot/reset password, tracking events): keys in
    order, encodeURIComponent escaping."""
    return "&".join(f"{quote(key, safe=SAFE_JS)}={quote(js_value(value), safe=SAFE_JS)}"
                    for key, value in data.items())


def axios_params(data):
    """axios' ``params`` serialisation of a GET query: keys in order, encodeURIComponent
    then ':', '$', ',', '[', ']' restored and spaces as '+'."""
    def encode(text):
        return quote(js_value(text), safe=SAFE_JS + ":$,[]").replace("%20", "+")
    return "&".join(f"{encode(key)}={encode(value)}" for key, value in data.items()
                    if value is not None)


def json_body(data):
    """JSON.stringify: no spaces."""
    return json.dumps(data, separators=(",", ":"))


def parse_set_cookie(header):
    """A ``Set-Cookie`` value as a browser stores it: the raw value and its attributes."""
    pair, *attributes = header.split(";")
    name, _, value = pair.strip().partition("=")
    cookie = {"name": name, "value": value}
    for attribute in attributes:
        key, _, attribute_value = attribute.strip().partition("=")
        cookie[key.lower()] = attribute_value if attribute_value else True
    return cookie


def is_expired(cookie):
    if "max-age" in cookie:
        return int(cookie["max-age"]) <= 0
    if "expires" in cookie:
        return parsedate_to_datetime(cookie["expires"]).timestamp() <= time.time()
    return False


def jwt_payload(header_payload):
    """What frontend-platform's jwt-decode reads from the header.payload cookie."""
    payload = header_payload.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Browser:
    """One browser: its LMS cookies, its preflight cache, the MFE page it is on."""

    def __init__(self, lms, origin):
        self.lms = lms
        self.origin = origin
        self.cookies = {}
        self.preflights = []  # every OPTIONS sent: (method, path, requested headers)
        self.log = []  # every request sent, preflights included: (method, path, status)
        # (origin, path) -> (expiry, methods, headers): a browser caches every method and
        # header a preflight answer allows, per origin and URL.
        self._preflight_cache = {}
        self.csrf_token_cache = None  # AxiosCsrfTokenService's cache (one page load)

    # -- navigation ------------------------------------------------------------

    def open(self, origin):
        """Load a page of another MFE (or reload): the JavaScript state starts over."""
        self.origin = origin
        self.csrf_token_cache = None

    def navigate(self, path):
        """A top-level GET of an LMS page (a link in an email, the header's sign-out link):
        cookies, no Origin nor Referer, redirects not followed."""
        return self._send("GET", path, {"Accept": NAVIGATION_ACCEPT}, b"", True, referer=False)

    # -- cookies ----------------------------------------------------------------

    def cookie(self, name):
        return self.cookies.get(name)

    def js_cookie(self, name):
        """``document.cookie`` on the MFE page: a cookie that is not HttpOnly and whose
        domain covers the MFE's host; None otherwise."""
        cookie = self.cookies.get(name)
        if cookie is None or cookie.get("httponly"):
            return None
        domain = cookie.get("domain")
        host = urlsplit(self.origin).hostname
        if not domain or not ("." + host).endswith("." + domain.lstrip(".")):
            return None
        return cookie["value"]

    def drop_cookies(self, *names):
        """The browser lets these cookies go (expired)."""
        for name in names:
            self.cookies.pop(name, None)

    def _cookie_header(self):
        return "; ".join(f"{name}={cookie['value']}" for name, cookie in self.cookies.items())

    def _store_cookies(self, response):
        for header in response.headers.getall("Set-Cookie"):
            cookie = parse_set_cookie(header)
            if is_expired(cookie):
                self.cookies.pop(cookie["name"], None)
            else:
                self.cookies[cookie["name"]] = cookie

    # -- XHR ----------------------------------------------------------------------

    def fetch(self, method, path, *, headers=None, body=b"", credentials=True):
        """An XHR from the MFE page to the LMS: preflight when needed, then the request.

        ``headers`` are those the MFE's code (axios) sets; ``credentials`` is axios'
        ``withCredentials``. Returns the webtest response once the CORS checks pass.
        """
        sent = {"Accept": AXIOS_ACCEPT}
        sent.update(headers or {})
        if isinstance(body, str):
            body = body.encode()
        self._preflight(method, path, sent, credentials)
        sent["Origin"] = self.origin
        response = self._send(method, path, sent, body, credentials)
        self._check_cors(response, credentials, f"{method} {path}")
        return response

    def _send(self, method, path, headers, body, credentials, referer=True):
        headers = dict(headers)
        if referer:
            headers["Referer"] = self.origin + "/"
        if credentials and self.cookies:
            headers["Cookie"] = self._cookie_header()
        self.lms.cookiejar.clear()  # this class is the cookie jar
        response = self.lms.request(LMS + path, method=method, headers=headers, body=body,
                                    expect_errors=True)
        self.log.append((method, path, response.status_int))
        if credentials:
            self._store_cookies(response)
        return response

    def _check_cors(self, response, credentials, what):
        assert response.headers.get("Access-Control-Allow-Origin") == self.origin, (
            f"{what}: the browser hides the answer ({response.status}) from {self.origin}: "
            f"Access-Control-Allow-Origin is "
            f"{response.headers.get('Access-Control-Allow-Origin')!r}")
        if credentials:
            assert response.headers.get("Access-Control-Allow-Credentials") == "true", (
                f"{what}: no Access-Control-Allow-Credentials: true on a credentialed answer")
        vary = [item.strip().lower() for item in response.headers.get("Vary", "").split(",")]
        assert "origin" in vary, f"{what}: the answer depends on Origin but is not Vary: Origin"

    def _preflight(self, method, path, headers, credentials):
        unsafe = sorted(name.lower() for name, value in headers.items()
                        if name.lower() not in SAFELISTED_HEADERS or (
                            name.lower() == "content-type"
                            and value.split(";")[0].strip().lower() not in SIMPLE_CONTENT_TYPES))
        if method in SIMPLE_METHODS and not unsafe:
            return
        cached = self._preflight_cache.get((self.origin, path))
        if cached and cached[0] > time.time() and (
                method in SIMPLE_METHODS or method in cached[1]) and set(unsafe) <= cached[2]:
            return
        request_headers = {"Origin": self.origin, "Accept": "*/*",
                           "Access-Control-Request-Method": method}
        if unsafe:
            request_headers["Access-Control-Request-Headers"] = ",".join(unsafe)
        self.preflights.append((method, path, ",".join(unsafe)))
        # A preflight never carries cookies.
        response = self._send("OPTIONS", path, request_headers, b"", credentials=False)
        what = f"preflight of {method} {path}"
        assert 200 <= response.status_int < 300, f"{what}: {response.status}"
        self._check_cors(response, credentials, what)
        allowed_methods = {item.strip().upper() for item in
                           response.headers.get("Access-Control-Allow-Methods", "").split(",")}
        allowed_headers = {item.strip().lower() for item in
                           response.headers.get("Access-Control-Allow-Headers", "").split(",")}
        assert method in SIMPLE_METHODS or method in allowed_methods, (
            f"{what}: {method} not in Access-Control-Allow-Methods")
        missing = set(unsafe) - allowed_headers
        assert not missing, f"{what}: {sorted(missing)} not in Access-Control-Allow-Headers"
        max_age = int(response.headers.get("Access-Control-Max-Age", "5"))
        self._preflight_cache[(self.origin, path)] = (time.time() + max_age, allowed_methods,
                                                      allowed_headers)


# -- frontend-platform's services, as the MFEs use them -----------------------------

def runtime_config(browser, app_id):
    """initialize() → runtimeConfig(): ``GET MFE_CONFIG_API_URL?mfe=APP_ID`` with
    ``Accept: application/json``, from a client without credentials."""
    response = browser.fetch("GET", f"/api/mfe_config/v1?mfe={app_id}",
                             headers={"Accept": "application/json"}, credentials=False)
    assert response.status_int == 200, response.text
    return response.json


def csrf_token(browser):
    """AxiosCsrfTokenService.getCsrfToken: ``GET <LMS>/csrf/api/v1/token`` with
    ``USE-JWT-COOKIE: true`` and credentials, cached for the page load."""
    if browser.csrf_token_cache is None:
        response = browser.fetch("GET", "/csrf/api/v1/token", headers={"USE-JWT-COOKIE": "true"})
        assert response.status_int == 200, response.text
        assert list(response.json) == ["csrfToken"]
        browser.csrf_token_cache = response.json["csrfToken"]
    return browser.csrf_token_cache


def jwt_token(browser):
    """AxiosJwtTokenService.getJwtToken: the decoded header.payload cookie while it has
    not expired, else ``POST REFRESH_ACCESS_TOKEN_ENDPOINT`` (no body) and the cookie
    again; None for an anonymous browser (the refresh answered 401)."""
    cookie = browser.js_cookie(JWT_HEADER_PAYLOAD)
    if cookie and jwt_payload(cookie)["exp"] > time.time():
        return jwt_payload(cookie)
    response = browser.fetch("POST", "/login_refresh")
    if response.status_int == 401:
        assert response.json == "Unauthorized"
        browser.drop_cookies(JWT_HEADER_PAYLOAD)
        return None
    assert response.status_int == 200, response.text
    cookie = browser.js_cookie(JWT_HEADER_PAYLOAD)
    assert cookie, "Access token is still null after successful refresh."
    return jwt_payload(cookie)


def authenticated_get(browser, path):
    """getAuthenticatedHttpClient().get(url): the JWT interceptor first (getJwtToken),
    then the request with ``USE-JWT-COOKIE: true`` and credentials."""
    assert jwt_token(browser) is not None
    return browser.fetch("GET", path, headers={"USE-JWT-COOKIE": "true"})


def authenticated_write(browser, method, path, body, content_type, extra_headers=None):
    """getAuthenticatedHttpClient().post/patch(url, body, {headers}): the JWT
    interceptor, the CSRF interceptor (``X-CSRFToken``), then the request."""
    assert jwt_token(browser) is not None
    headers = {"Content-Type": content_type, "USE-JWT-COOKIE": "true",
               "X-CSRFToken": csrf_token(browser)}
    headers.update(extra_headers or {})
    return browser.fetch(method, path, headers=headers, body=body)


def submit_login(browser, email_or_username, password, next_url=None):
    """frontend-app-authn's login form (LoginPage → loginRequest): the authenticated
    client with ``isPublic`` (no JWT refresh), so only the CSRF interceptor runs; the
    body is ``QueryString.stringify`` of the form and the page's ``next``."""
    form = {"email_or_username": email_or_username, "password": password}
    if next_url:
        form["next"] = next_url
    return browser.fetch("POST", "/api/user/v2/account/login_session/",
                         headers={"Content-Type": FORM, "X-CSRFToken": csrf_token(browser)},
                         body=query_string(form))
