"""CORS for the micro-frontends: a whitelist of origins, with credentials."""
from lms.settings import as_list

ALLOWED_HEADERS = "Accept, Authorization, Content-Type, X-CSRFToken, X-Requested-With, USE-JWT-COOKIE"
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_PREFIXES = ("/api/", "/oauth2/", "/csrf/", "/login_refresh", "/logout")


def cors_tween_factory(handler, registry):
    origins = set(as_list(registry.settings, "cors.origins"))

    def cors_tween(request):
        origin = request.headers.get("Origin")
        allowed = origin is not None and origin in origins and request.path.startswith(CORS_PREFIXES)
        if allowed and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = request.response
            response.status = 200
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "86400"
        else:
            response = handler(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers.add("Vary", "Origin")
        return response

    return cors_tween


def includeme(config):
    config.add_tween("lms.cors.cors_tween_factory")
