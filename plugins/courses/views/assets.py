"""Course static files, ``GET /asset-v1:<org>+<course>+<run>+type@asset+block@<name>``.

Upstream's "contentserver" (``openedx/core/djangoapps/contentserver``): a plain
Django view outside ``/api``, so its answers are not JSON: 400 (key does not
parse) and 404 (no such asset) have empty bodies, 403 says ``Unauthorized``.

- A locked asset is served to signed-in learners enrolled in the course, to
  global staff and (an openlms addition) to the course's own staff; it is
  never cacheable.
- The course code library (``python_lib.zip``) is served to course staff only.
- ``Last-Modified``/``If-Modified-Since`` as upstream; openlms adds an ``ETag``
  (MD5 of the content, upstream's content digest) and ``If-None-Match``.
- A single ``Range: bytes=first-last`` gets 206, an unsatisfiable one 416.
"""
import hashlib
from datetime import UTC, datetime, timedelta

from pyramid.response import Response
from sqlalchemy import select

from lms import permissions
from lms.auth import SESSION_STRICT
from lms.responses import bare
from lms.service import Service
from plugins.courses import openapi_schemas as doc
from plugins.courses.config import courses_config
from lms.timeutil import aware
from plugins.courses.models import Asset

# Django's session middleware only: the browser's cookie.
asset = Service("courses.asset", "/asset-v1:{asset_key:.+}", auth=(SESSION_STRICT,),
                anonymous=("GET",))

HTTP_DATE_FORMAT = "%a, %d %b %Y %H:%M:%S GMT"
CODE_LIBRARY_NAME = "python_lib.zip"


def parse_asset_key(raw):
    """The AssetKey of the path, or None; ``…+block/<name>`` is accepted as upstream does."""
    from opaque_keys import InvalidKeyError
    from opaque_keys.edx.keys import AssetKey

    raw = "asset-v1:" + raw.replace("block/", "block@", 1)
    try:
        return AssetKey.from_string(raw)
    except (InvalidKeyError, TypeError, ValueError):
        return None


def is_authorized(request, row, course_key):
    """Upstream ``is_user_authorized``, with course staff also allowed locked files."""
    user = request.user
    db = request.dbsession
    if row.name == CODE_LIBRARY_NAME and not permissions.has_course_staff_access(
            db, user, course_key):
        return False
    if not row.locked:
        return True
    if user is None:
        return False
    if permissions.has_course_staff_access(db, user, course_key):
        return True
    hooks = request.registry["lms.plugin_manager"].hook
    enrollment = hooks.lms_get_enrollment(dbsession=db, user_id=user.id, course_key=course_key)
    return bool(enrollment and enrollment.get("is_active"))


def parse_range(header, length):
    """``(first, last)`` of a single byte range, None to ignore the header, or "unsatisfiable"."""
    unit, _, ranges = header.partition("=")
    if unit.strip() != "bytes" or not ranges or "," in ranges or "-" not in ranges:
        return None
    first_text, _, last_text = ranges.strip().partition("-")
    try:
        if first_text == "":  # the last N bytes
            count = int(last_text)
            first, last = max(0, length - count), length - 1
        else:
            first = int(first_text)
            last = int(last_text) if last_text else length - 1
            last = min(last, length - 1)
    except ValueError:
        return None
    if first < 0 or last < first:
        return "unsatisfiable"
    if not 0 <= first <= last < length:
        return "unsatisfiable"
    return first, last


def caching_headers(request, response, row, last_modified):
    ttl = courses_config(request.registry).asset_cache_ttl
    restricted = row.locked or row.name == CODE_LIBRARY_NAME
    if ttl > 0 and not restricted:
        expires = datetime.now(UTC) + timedelta(seconds=ttl)
        response.headers["Expires"] = expires.strftime(HTTP_DATE_FORMAT)
        response.headers["Cache-Control"] = f"public, max-age={ttl}, s-maxage={ttl}"
    elif restricted:
        response.headers["Cache-Control"] = "private, no-cache, no-store"
    response.headers["Last-Modified"] = last_modified
    response.headers["Vary"] = "Origin"


@asset.get(responses={200: doc.ASSET, 206: doc.ASSET, 304: "Not modified.",
                      400: "Not an asset key.", 403: "A locked file.", 404: "No such file.",
                      416: "Range not satisfiable."})
def get_asset(request):
    """A course file (static asset), with byte ranges and conditional requests."""

    key = parse_asset_key(request.matchdict["asset_key"])
    if key is None:
        return bare(400)
    if key.block_type != "asset":
        return bare(404)  # no thumbnails are generated
    course_key = key.course_key.replace(branch=None, version_guid=None)
    row = request.dbsession.scalar(select(Asset).where(
        Asset.course_key == str(course_key), Asset.name == key.path))
    if row is None:
        return bare(404)
    if not is_authorized(request, row, course_key):
        return bare(403, b"Unauthorized")
    last_modified = aware(row.created).strftime(HTTP_DATE_FORMAT)
    etag = '"' + hashlib.md5(row.content, usedforsecurity=False).hexdigest() + '"'
    if (request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == last_modified):
        response = bare(304)
        response.headers["ETag"] = etag
        return response
    content = row.content
    response = Response(status=200)
    span = parse_range(request.headers["Range"], len(content)) if "Range" in request.headers \
        else None
    if span == "unsatisfiable":
        return bare(416)
    if span is not None:
        first, last = span
        response.status = 206
        response.headers["Content-Range"] = f"bytes {first}-{last}/{len(content)}"
        content = content[first:last + 1]
    response.body = content
    response.headers["Accept-Ranges"] = "bytes"
    response.content_type = row.content_type
    response.headers["X-Frame-Options"] = "ALLOW"
    response.headers["ETag"] = etag
    caching_headers(request, response, row, last_modified)
    return response
