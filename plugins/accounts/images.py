"""Profile images: validation, resizing and storage (upstream ``profile_images``).

An upload is checked in upstream's order (size, file-name extension, part
Content-Type, magic bytes), then decoded with Pillow under a pixel budget,
converted to RGB, cropped to a centred square and written as JPEGs at every
size of :data:`~plugins.accounts.serializers.PROFILE_IMAGE_SIZES`, under
``md5(seed + username)_<size>.jpg`` in ``accounts.profile_image_dir``.
"""
import io
import os
from dataclasses import dataclass

from lms.settings import as_int
from plugins.accounts.config import accounts_config
from plugins.accounts.serializers import (
    PROFILE_IMAGE_SIZES,
    account_config,
    profile_image_file_names,
)

# name → (extensions, part Content-Types, leading magic bytes)
IMAGE_TYPES = {
    "jpeg": ((".jpeg", ".jpg"), ("image/jpeg", "image/pjpeg"), (b"\xff\xd8",)),
    "png": ((".png",), ("image/png",), (b"\x89PNG\r\n\x1a\n",)),
    "gif": ((".gif",), ("image/gif",), (b"GIF89a", b"GIF87a")),
}
PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF"}
UPLOAD_MEDIA_TYPES = frozenset(t for _, types, _ in IMAGE_TYPES.values() for t in types)
# TypedFileUploadParser's extension check for raw (non-multipart) uploads.
RAW_UPLOAD_EXTENSIONS = {
    "image/gif": (".gif",), "image/jpeg": (".jpeg", ".jpg"), "image/pjpeg": (".jpeg", ".jpg"),
    "image/png": (".png",),
}
JPEG_QUALITY = 90


class ImageValidationError(ValueError):
    """A refusal whose message is shown to the user as is."""


@dataclass(frozen=True)
class ImageSettings:
    directory: str
    max_bytes: int
    min_bytes: int
    max_pixels: int

    @classmethod
    def from_settings(cls, settings):
        return cls(
            directory=settings["accounts.profile_image_dir"],
            max_bytes=as_int(settings, "accounts.profile_image_max_bytes"),
            min_bytes=as_int(settings, "accounts.profile_image_min_bytes"),
            max_pixels=as_int(settings, "accounts.profile_image_max_pixels"),
        )


def image_settings(registry):
    return accounts_config(registry).images


def user_friendly_size(size):
    """``1048576`` → ``"1 MB"``, as upstream words its limits."""
    units = ["bytes", "KB", "MB"]
    index = 0
    while size >= 1024 and index < len(units) - 1:
        size //= 1024
        index += 1
    return f"{size} {units[index]}"


def valid_file_types():
    return ", ".join(", ".join(extensions) for extensions, _, _ in IMAGE_TYPES.values())


def validate_upload(settings, filename, content_type, data):
    """Raise :class:`ImageValidationError` with upstream's message; return the image type."""
    if len(data) > settings.max_bytes:
        raise ImageValidationError(
            f"The file must be smaller than {user_friendly_size(settings.max_bytes)} in size.")
    if len(data) < settings.min_bytes:
        raise ImageValidationError(
            f"The file must be at least {user_friendly_size(settings.min_bytes)} in size.")
    lowered = (filename or "").lower()
    found = [name for name, (extensions, _, _) in IMAGE_TYPES.items()
             if lowered.endswith(extensions)]
    if not found:
        raise ImageValidationError(
            f"The file must be one of the following types: {valid_file_types()}.")
    image_type = found[0]
    _, content_types, magic = IMAGE_TYPES[image_type]
    if content_type not in content_types:
        raise ImageValidationError("The Content-Type header for this file does not match the "
                                   "file data. The file may be corrupted.")
    if not any(data.startswith(prefix) for prefix in magic):
        raise ImageValidationError("The file name extension for this file does not match the "
                                   "file data. The file may be corrupted.")
    return image_type


def decode(settings, image_type, data):
    """Decode under a pixel budget; anything Pillow cannot read safely is refused.

    Returns the first frame, already turned upright by its EXIF orientation.
    Raises :class:`ImageValidationError` with a developer-facing reason.
    """
    # Pillow is imported by the functions that draw or decode, not at start-up.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        # Only the header is read here; the pixel budget is checked before decoding.
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[image_type]])
        width, height = image.size
        if width < 1 or height < 1 or width * height > settings.max_pixels:
            raise ImageValidationError(
                f"the image is {width}x{height} pixels; at most {settings.max_pixels} "
                "pixels are accepted")
        image.load()
        image = ImageOps.exif_transpose(image)
        return image.convert("RGB")
    except ImageValidationError:
        raise
    except Image.DecompressionBombError:
        # Pillow's own MAX_IMAGE_PIXELS guard, raised while opening.
        raise ImageValidationError("the image has too many pixels")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageValidationError(f"the image data cannot be read ({exc})")


def crop_to_square(image):
    width, height = image.size
    if width == height:
        return image
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def render_sizes(image):
    """``{size: jpeg_bytes}`` for every profile-image size."""
    from PIL import Image

    square = crop_to_square(image)
    rendered = {}
    for _, size in PROFILE_IMAGE_SIZES:
        buffer = io.BytesIO()
        square.resize((size, size), Image.LANCZOS).save(buffer, format="JPEG",
                                                        quality=JPEG_QUALITY)
        rendered[size] = buffer.getvalue()
    return rendered


def store(registry, username, rendered):
    """Write the files (atomically, each through a temporary name); return their paths."""
    directory = image_settings(registry).directory
    os.makedirs(directory, exist_ok=True)
    names = profile_image_file_names(account_config(registry), username)
    paths = []
    for size, content in rendered.items():
        path = os.path.join(directory, names[size])
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
        paths.append(path)
    return paths


def remove(registry, username):
    """Delete a user's image files; missing ones are fine."""
    directory = image_settings(registry).directory
    for name in profile_image_file_names(account_config(registry), username).values():
        try:
            os.remove(os.path.join(directory, name))
        except FileNotFoundError:
            pass


def stored_file(registry, name):
    """The path of a stored image file named ``name``, or None (no path tricks)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = os.path.join(image_settings(registry).directory, name)
    return path if os.path.isfile(path) else None


# -- the default (placeholder) images -------------------------------------------------

_default_images = {}


def default_image(size):
    """A neutral silhouette PNG, drawn once per size."""
    if size not in _default_images:
        from PIL import Image, ImageDraw

        scale = 4  # draw large, then downsample for smooth edges
        side = size * scale
        image = Image.new("RGB", (side, side), (222, 226, 230))
        draw = ImageDraw.Draw(image)
        colour = (160, 168, 176)
        head = side * 0.19
        centre = side / 2
        draw.ellipse((centre - head, side * 0.2, centre + head, side * 0.2 + 2 * head),
                     fill=colour)
        draw.ellipse((side * 0.18, side * 0.62, side * 0.82, side * 1.26), fill=colour)
        buffer = io.BytesIO()
        image.resize((size, size), Image.LANCZOS).save(buffer, format="PNG", optimize=True)
        _default_images[size] = buffer.getvalue()
    return _default_images[size]
