"""Files attached to posts (upstream ``UploadFileView``).

``POST /api/discussion/v1/courses/{course_id}/upload`` (multipart: ``thread_key``, a
thread id or ``root``, and ``uploaded_file``), for course members (403 for anyone else): the file is kept in
this plugin's table and ``{"location": <absolute URL>}`` answered; the URL serves it to
anyone, as upstream's storage URLs do. Extensions and size follow
``discussion.upload_extensions`` and ``discussion.upload_max_bytes`` (403 otherwise, as
upstream); images must decode (Pillow, with its decompression-bomb limit).
"""
import io
import mimetypes
import re
import uuid
import warnings

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from sqlalchemy import select

from lms.errors import PERMISSION_DENIED, developer
from lms.openapi import STRING, Body, obj
from lms.request import (FORM, MULTIPART, has_body, media_type, parse_body,
                         unsupported_media_type)
from lms.service import Service
from lms.settings import as_int
from plugins.discussion import access
from plugins.discussion.models import Upload

upload = Service("discussion.upload", "/api/discussion/v1/courses/{course_id}/upload",
                 errors="developer")

THREAD_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff"}
FILE_ROUTE = "discussion.upload_file"
FILE_PATH = "/media/discussion/{course_id}/{thread_key}/{name}"


def allowed_extensions(settings):
    return [ext.strip().lower() for ext in
            settings.get("discussion.upload_extensions", "").split() if ext.strip()]


def is_valid_image(data):
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for hostile files
        return False
    return True


@upload.post(body=Body(obj({"thread_key": STRING,
                            "uploaded_file": {"type": "string", "format": "binary"}},
                           required=False),
                       "`thread_key` (a thread id or `root`) and `uploaded_file`.", MULTIPART),
             responses={200: obj({"location": STRING}),
                        400: "No file, a bad `thread_key` or an image that does not decode.",
                        401: "Not signed in.",
                        403: "Not a member of the course, or a file type or size the forum "
                             "does not take.",
                        404: "Unknown or hidden course.",
                        415: "Neither multipart nor a form."})
def post_upload(request):
    """Keep an attachment; answer where it is served."""
    if not access.is_member(request, request.matchdict["course_id"]):
        raise developer(403, PERMISSION_DENIED)
    context = access.load_course(request, request.matchdict["course_id"], check_tab=False)
    kind = media_type(request)
    if has_body(request) and kind not in (MULTIPART, FORM):
        raise unsupported_media_type(request)
    body = parse_body(request, (MULTIPART, FORM))
    thread_key = body.data.get("thread_key") or "root"
    if not isinstance(thread_key, str) or not THREAD_KEY.match(thread_key):
        raise developer(400, "`thread_key` must be a thread id or `root`.")
    field = (body.files or {}).get("uploaded_file")
    if field is None or not getattr(field, "filename", None):
        raise developer(400, "no `uploaded_file` was provided")
    settings = request.registry.settings
    extensions = allowed_extensions(settings)
    extension = ("." + field.filename.rsplit(".", 1)[1].lower()) if "." in field.filename else ""
    if extension not in extensions:
        raise developer(403, "The file must end with one of the following extensions: "
                             f"'{', '.join(extensions)}'.")
    limit = as_int(settings, "discussion.upload_max_bytes")
    data = field.file.read(limit + 1)
    if len(data) > limit:
        raise developer(403, f"Maximum upload file size is {limit // 1024}KB.")
    if extension in IMAGE_EXTENSIONS and not is_valid_image(data):
        raise developer(400, "The file is not a valid image.")
    name = f"{uuid.uuid4().hex}{extension}"
    # The served type follows the extension the checks allowed, never the client's claim
    # (a ".png" sent as text/html must not come back as a page of this site).
    content_type = mimetypes.types_map.get(extension, "application/octet-stream")
    request.dbsession.add(Upload(course_key=context.course_key, name=f"{thread_key}/{name}",
                                 content_type=content_type[:100], content=data,
                                 user_id=context.user.id))
    location = request.route_url(FILE_ROUTE, course_id=context.course_key,
                                 thread_key=thread_key, name=name)
    return {"location": location}


def get_upload_file(request):
    """An attachment, served as stored (never sniffed as something else)."""
    match = request.matchdict
    found = request.dbsession.scalar(select(Upload).where(
        Upload.course_key == match["course_id"],
        Upload.name == f"{match['thread_key']}/{match['name']}"))
    if found is None:
        raise HTTPNotFound()
    response = Response(body=found.content, content_type=found.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline" if found.content_type.startswith(
        "image/") else "attachment"
    response.cache_control = "public, max-age=31536000"
    return response


def includeme(config):
    config.add_route(FILE_ROUTE, FILE_PATH)
    config.add_view(get_upload_file, route_name=FILE_ROUTE, request_method=("GET", "HEAD"))
