"""Profile images (upstream ``profile_images.views``), and the files they point at.

- ``/api/user/v1/accounts/{username}/image``: POST (multipart ``file``, or a raw
  image body with a ``Content-Disposition`` filename) and DELETE. A
  ``DeveloperErrorViewMixin`` view: every error is ``{"developer_message"}``.
- ``/api/profile_images/v1/{username}/upload`` and ``.../remove``: the
  deprecated POST aliases, plain DRF views (``{"detail"}`` errors).

Only the account's owner may change its image (``IsUserInUrl``, staff
included). The stored JPEGs are served at ``accounts.profile_image_url`` and
the placeholders at ``/static/images/profiles/default_<size>.png``.
"""
import logging
import re

import venusian
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import FileResponse, Response

from lms import permissions
from lms.auth import STANDARD_AUTH
from lms.errors import APIError, detail
from lms.request import (
    FORM_MEDIA_TYPES,
    has_body,
    media_type,
    unsupported_media_type,
    uploaded_files,
)
from lms.responses import no_content
from lms.routing import USERNAME
from lms.service import Service
from lms.timeutil import utcnow
from plugins.accounts import api, images
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.serializers import (
    PROFILE_IMAGE_SIZES,
    account_config,
    requires_parental_consent,
)

log = logging.getLogger(__name__)

account_image = Service("accounts.profile_image", f"/api/user/v1/accounts/{USERNAME}/image",
                        auth=STANDARD_AUTH, errors="developer")
legacy_upload = Service("accounts.profile_image_upload",
                        f"/api/profile_images/v1/{USERNAME}/upload", auth=STANDARD_AUTH)
legacy_remove = Service("accounts.profile_image_remove",
                        f"/api/profile_images/v1/{USERNAME}/remove", auth=STANDARD_AUTH)

NO_FILE = "No file provided for profile image"
MISSING_FILENAME = ("Missing filename. Request should include a Content-Disposition header "
                    "with a filename parameter.")
FILENAME_RE = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def error(style, status, message):
    """An upload error in the view family's shape."""
    if style == "developer":
        return APIError(status, {"developer_message": message})
    return detail(status, message)


def both_messages(message, user_message=None):
    return APIError(400, {"developer_message": message, "user_message": user_message or message})


def user_in_url(style):
    def validator(request, **kwargs):
        """``IsUserInUrl``: the caller's own account only, staff included."""
        permissions.require(permissions.is_user_in_url(request, request.matchdict["username"]),
                            style)
    return validator


def uploaded_file(request, style):
    """``(filename, content_type, data)`` of the upload, or None when there is none.

    Multipart and form bodies use the ``file`` part; an image media type is a
    raw upload named by ``Content-Disposition`` (``TypedFileUploadParser``).
    """
    if not has_body(request):
        return None
    content_type = media_type(request)
    if content_type in FORM_MEDIA_TYPES:
        field = uploaded_files(request).get("file")  # a form body has no files
        if field is None:
            return None
        return field.filename, field.type, field.file.read()
    if content_type not in images.UPLOAD_MEDIA_TYPES:
        raise unsupported_media_type(request)
    found = FILENAME_RE.search(request.headers.get("Content-Disposition", ""))
    if not found:
        raise error(style, 400, MISSING_FILENAME)
    filename = found.group(1).strip()
    extension = "." + filename.rsplit(".", 1)[1].lower() if "." in filename else ""
    if extension not in images.RAW_UPLOAD_EXTENSIONS[content_type]:
        raise error(style, 400, "File extension does not match requested Content-type. "
                                f'Filename: "{filename}", Content-type: "{content_type}"')
    return filename, content_type, request.body


def forget_image(request, user, profile):
    """Clear the flag now; delete the files once the change is committed."""
    profile.profile_image_uploaded_at = None
    registry, username = request.registry, user.username

    def remove_files(success):
        if success:
            images.remove(registry, username)

    request.tm.get().addAfterCommitHook(remove_files)


def upload(request, style):
    upload_data = uploaded_file(request, style)
    if upload_data is None:
        raise both_messages(NO_FILE)
    filename, content_type, data = upload_data
    settings = images.image_settings(request.registry)
    try:
        image_type = images.validate_upload(settings, filename, content_type, data)
    except images.ImageValidationError as exc:
        raise both_messages(str(exc))
    try:
        image = images.decode(settings, image_type, data)
    except images.ImageValidationError as exc:
        raise both_messages(f"Upload failed for profile image: {exc}",
                            "Upload failed for profile image")
    user = request.user
    profile = api.get_profile(request.dbsession, user.id, create=True)
    if requires_parental_consent(account_config(request.registry), profile):
        # Upstream's profile pre-save rule drops the image of a minor.
        profile.profile_image_uploaded_at = None
        return no_content()
    images.store(request.registry, user.username, images.render_sizes(image))
    profile.profile_image_uploaded_at = utcnow().replace(microsecond=0)
    request.dbsession.flush()
    log.info("stored profile images for user %s", user.id)
    return no_content()


def remove(request):
    user = request.user
    profile = api.get_profile(request.dbsession, user.id, create=True)
    forget_image(request, user, profile)
    request.dbsession.flush()
    return no_content()


@account_image.post(validators=(user_in_url("developer"),), body=doc.IMAGE_UPLOAD,
                    responses={204: doc.NO_BODY, 403: "Not the caller's account."})
def post_account_image(request):
    """Upload the caller's profile image (multipart `file`, or the raw image)."""
    return upload(request, "developer")


@account_image.delete(validators=(user_in_url("developer"),),
                      responses={204: doc.NO_BODY, 403: "Not the caller's account."})
def delete_account_image(request):
    """Remove the caller's profile image."""
    return remove(request)


@legacy_upload.post(validators=(user_in_url("drf"),), body=doc.IMAGE_UPLOAD,
                    responses={204: doc.NO_BODY, 403: "Not the caller's account."})
def post_legacy_upload(request):
    """Upload the caller's profile image (the older path)."""
    return upload(request, "drf")


@legacy_remove.post(validators=(user_in_url("drf"),),
                    responses={204: doc.NO_BODY, 403: "Not the caller's account.",
                               400: None, 415: None})
def post_legacy_remove(request):
    """Remove the caller's profile image (the older path)."""
    return remove(request)


# -- serving the files ----------------------------------------------------------------

DEFAULT_SIZES = {size for _, size in PROFILE_IMAGE_SIZES}
YEAR = 365 * 24 * 3600


def get_stored_image(request):
    path = images.stored_file(request.registry, request.matchdict["name"])
    if path is None:
        raise HTTPNotFound()
    response = FileResponse(path, request=request, content_type="image/jpeg")
    # URLs carry ?v=<upload time>, so a file may be cached for long.
    response.cache_control = f"public, max-age={YEAR}"
    return response


def get_default_image(request):
    size = int(request.matchdict["size"])
    if size not in DEFAULT_SIZES:
        raise HTTPNotFound()
    response = Response(body=images.default_image(size), content_type="image/png")
    response.cache_control = "public, max-age=86400"
    return response


def add_image_routes(config):
    base = config.registry.settings["accounts.profile_image_url"]
    if base.startswith("/"):
        config.add_route("accounts.profile_image_file", base.rstrip("/") + "/{name}")
        config.add_view(get_stored_image, route_name="accounts.profile_image_file",
                        request_method=("GET", "HEAD"))
    config.add_route("accounts.default_profile_image",
                     r"/static/images/profiles/default_{size:\d+}.png")
    config.add_view(get_default_image, route_name="accounts.default_profile_image",
                    request_method=("GET", "HEAD"))


def _attach_routes(scanner, name, ob):
    add_image_routes(scanner.config)


venusian.attach(add_image_routes, _attach_routes, category="pyramid", depth=0)
