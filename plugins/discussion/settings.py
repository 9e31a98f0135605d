"""The plugin's settings (``discussion.*``), checked when the app starts so that a typo
stops the start-up instead of failing requests."""
from pyramid.exceptions import ConfigurationError

from lms.settings import parse_rate

DEFAULTS = {
    # Upstream MAX_COMMENT_DEPTH: responses are depth 0, their replies depth 1, and so
    # on; replying to a comment of this depth is "Comment level is too deep." (empty: no
    # limit).
    "discussion.max_comment_depth": "2",
    # Threads and comments a learner may post per period ("<count>/<s|m|h|d>") before
    # 429 "Too many requests"; "0" or empty: no limit. Privileged users are exempt.
    "discussion.content_rate": "100/m",
    # Attachments (courses/{id}/upload): the largest file in bytes and the extensions
    # taken (upstream's MAX_UPLOAD_FILE_SIZE and ALLOWED_UPLOAD_FILE_TYPES).
    "discussion.upload_max_bytes": "1048576",
    "discussion.upload_extensions": ".jpg .jpeg .gif .bmp .png .tiff",
}


def _whole(settings, name, minimum, allow_empty=False):
    value = str(settings.get(name, "")).strip()
    if allow_empty and not value:
        return
    if not value.isdigit() or int(value) < minimum:
        raise ConfigurationError(f"{name} must be a whole number of at least {minimum}, "
                                 f"not {value!r}")


def check(settings):
    _whole(settings, "discussion.max_comment_depth", 1, allow_empty=True)
    _whole(settings, "discussion.upload_max_bytes", 1)
    rate = str(settings.get("discussion.content_rate", "")).strip()
    if rate and rate != "0":
        parse_rate(rate)
    extensions = str(settings.get("discussion.upload_extensions", "")).split()
    bad = [ext for ext in extensions if not ext.startswith(".") or len(ext) < 2]
    if bad:
        raise ConfigurationError("discussion.upload_extensions lists extensions such as "
                                 f"'.png', not {' '.join(bad)!r}")
