"""Request size limit: refuse oversized bodies before anything reads them.

Waitress de-chunks request bodies and sets Content-Length, so the header is
always there by the time a request reaches the app.
"""
from lms.errors import json_error
from lms.settings import as_int


def body_limit_tween_factory(handler, registry):
    limit = as_int(registry.settings, "lms.max_request_body_bytes")

    def body_limit_tween(request):
        length = request.content_length
        if length is not None and length > limit:
            return json_error(413, {"detail": f"Request body too large (limit {limit} bytes)."})
        return handler(request)

    return body_limit_tween


def includeme(config):
    config.add_tween("lms.limits.body_limit_tween_factory")
