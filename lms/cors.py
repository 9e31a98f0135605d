"""CORS for the micro-frontends, as django-cors-headers answers it in Open edX.

Open edX runs ``corsheaders.middleware.CorsMiddleware`` first in its middleware
stack with ``CORS_ORIGIN_WHITELIST``, ``CORS_ALLOW_CREDENTIALS = True`` and
the default headers plus ``use-jwt-cookie``; its URL pattern matches every
path. So, on every path and every status (errors included):

- every response varies on ``Origin``;
- a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered
  here with an empty 200, whatever the path and whoever asks;
- a request whose ``Origin`` is allowed (``cors.origins``: scheme and host
  compared; ``cors.origin_regexes``: regular expressions matched at the start
  of the origin) gets ``Access-Control-Allow-Origin: <origin>`` and
  ``Access-Control-Allow-Credentials: true``, plus, for any ``OPTIONS``, the
  allowed headers, methods and the preflight max-age. Other origins get none.

The tween sits at the top of the chain, so answers from other tweens (413) and
from the exception views (404, 405, 500...) carry the headers too.
"""
import logging
import re
from urllib.parse import urlsplit

from pyramid.response import Response
from pyramid.tweens import EXCVIEW, INGRESS

from lms.settings import as_list

log = logging.getLogger(__name__)

# corsheaders.defaults.default_headers (4.x) + "use-jwt-cookie", as Open edX sets it.
ALLOWED_HEADERS = ("accept", "authorization", "content-type", "user-agent", "x-csrftoken",
                   "x-requested-with", "use-jwt-cookie")
# corsheaders.defaults.default_methods
ALLOWED_METHODS = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
# CORS_PREFLIGHT_MAX_AGE's default (one day).
PREFLIGHT_MAX_AGE = 86400


class CorsPolicy:
    """Which origins may read answers with credentials (django-cors-headers' whitelist)."""

    def __init__(self, origins=(), regexes=()):
        self.origins = tuple(origins)
        self.parsed = [(parts.scheme, parts.netloc) for parts in map(_split, self.origins)
                       if parts is not None]
        self.regexes = [re.compile(pattern) for pattern in regexes]

    @classmethod
    def from_settings(cls, settings):
        return cls(as_list(settings, "cors.origins"), as_list(settings, "cors.origin_regexes"))

    def allows(self, origin):
        if origin == "null":  # sandboxed frames and file:// pages send the literal "null"
            return "null" in self.origins
        parts = _split(origin)
        if parts is None:
            return False
        return ((parts.scheme, parts.netloc) in self.parsed
                or any(regex.match(origin) for regex in self.regexes))

    def add_headers(self, request, response):
        _add_vary_origin(response)
        origin = request.headers.get("Origin")
        if not origin or not self.allows(origin):
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
            response.headers["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
            response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return response


def _split(url):
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None


def _add_vary_origin(response):
    """Add ``Origin`` to ``Vary`` unless it is there already (Django's patch_vary_headers)."""
    current = response.headers.get("Vary", "")
    names = [name.strip() for name in current.split(",") if name.strip()]
    if "*" in names or "origin" in (name.lower() for name in names):
        return
    response.headers["Vary"] = ", ".join(names + ["Origin"])


def is_preflight(request):
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def cors_tween_factory(handler, registry):
    policy = CorsPolicy.from_settings(registry.settings)

    def cors_tween(request):
        if is_preflight(request):
            response = Response(status=200, body=b"")
        else:
            try:
                response = handler(request)
            except Exception:
                # Raised above the exception-view tween (e.g. by a commit): rendered by the
                # same exception views, so the browser still sees the status.
                response = request.invoke_exception_view()
        return policy.add_headers(request, response)

    return cors_tween


def includeme(config):
    # First in the chain, as CorsMiddleware is first in Open edX's middleware: over the
    # tweens that answer by themselves (413) and the exception views.
    config.add_tween("lms.cors.cors_tween_factory", under=INGRESS,
                     over=("lms.limits.body_limit_tween_factory", EXCVIEW))
