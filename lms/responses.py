"""Small responses every plugin answers the way Django and DRF answer them.

- :func:`no_content`: DRF's ``Response(status=204)``: no body, no content type;
- :func:`empty_response` / :func:`empty`: ``Response(status=...)`` without data
  (returned, or raised as an :class:`~lms.errors.APIError` from a validator);
- :func:`bare`: Django's ``HttpResponse(body, status=...)`` (``text/html``
  unless told otherwise), empty and untyped when there is no body;
- :func:`unsupported_media_type` (415) lives in :mod:`lms.request`.
"""
from pyramid.response import Response

from lms.errors import APIError
from lms.request import unsupported_media_type  # noqa: F401  (re-exported for views)


def empty_response(status=200):
    """DRF's ``Response(status=status)``: no body and no content type."""
    response = Response(status=status)
    del response.content_type
    return response


def no_content():
    return empty_response(204)


def empty(status):
    """:func:`empty_response` as an exception, for validators and early exits."""
    return APIError(status, raw=b"")


def bare(status, body=b"", content_type="text/html"):
    """Django's ``HttpResponse``: ``body`` as ``content_type`` (UTF-8), or nothing at all."""
    response = Response(body=body, status=status)
    if body:
        response.content_type = content_type
        response.charset = "utf-8"
    else:
        response.content_type = None
    return response
