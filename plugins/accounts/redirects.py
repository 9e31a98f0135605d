"""Where the browser goes after login or registration (``get_next_url_for_login_page``)."""
import mimetypes
from urllib.parse import urlencode, urlsplit, urlunsplit

from lms.session import is_safe_redirect

# Parameters that send the browser through /account/finish_auth after login.
POST_AUTH_PARAMS = ("course_id", "enrollment_action", "course_mode", "email_opt_in",
                    "purchase_workflow")
DASHBOARD_PATH = "/dashboard"
STATIC_PATH = "/static/"

def next_url_for_login_page(request, params):
    """``next`` when safe (else the dashboard), via finish_auth for course parameters."""
    redirect_to = params.get("next")
    if redirect_to:
        accept = request.headers.get("Accept", "")
        mime_type, _ = mimetypes.guess_type(redirect_to, strict=False)
        if (not is_safe_redirect(request, redirect_to)
                or not any(kind in accept for kind in ("*/*", "text/*", "text/html"))
                or mime_type or STATIC_PATH in redirect_to):
            redirect_to = None
    if not redirect_to:
        redirect_to = DASHBOARD_PATH
    present = [(name, params[name]) for name in POST_AUTH_PARAMS if name in params]
    if present:
        redirect_to = "/account/finish_auth?" + urlencode(present + [("next", redirect_to)])
    return redirect_to


def with_host(base_url, url):
    """A relative URL on the LMS host (get_redirect_url_with_host)."""
    parts = urlsplit(url)
    if parts.netloc:
        return url
    base = urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))
