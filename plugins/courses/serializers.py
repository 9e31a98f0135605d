"""The course object of Open edX's course API (``CourseSerializer`` and its detail form).

Course list/detail use :func:`serialize_course` / :func:`serialize_course_detail`;
the courseware endpoints reuse the pieces (:func:`course_media`,
:func:`start_display`, :func:`start_type`, :func:`asset_path`, ...).

Every function takes a :class:`plugins.courses.models.Course` row and, where a
URL must be absolute, the request (its ``application_url`` is the site root).
"""
from urllib.parse import urlencode, urlparse

from lms.keys import parse_course_key
from lms.timeutil import aware, isoformat
from plugins.courses.structure import DEFAULT_START

# CourseBlock's default ``course_image`` / ``banner_image`` (an OLX that names none).
DEFAULT_IMAGE_NAME = "images_course_image.jpg"
# settings.STATIC_URL + DEFAULT_COURSE_ABOUT_IMAGE_URL: the image of a course whose
# image field was explicitly emptied.
EMPTY_IMAGE_URL = "/static/images/pencils.jpg"
YOUTUBE_WATCH_URL = "http://www.youtube.com/watch?v="
# Django's "N" date format (AP style month names), as in ``N j, Y`` (en DATE_FORMAT).
AP_MONTHS = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.",
             "Oct.", "Nov.", "Dec.")


# -- keys and URLs ---------------------------------------------------------------------

def course_key_of(course):
    return parse_course_key(course.course_key)


def asset_path(course_key, name):
    """The site-relative URL of a course asset: ``/asset-v1:<org>+<course>+<run>+type@asset+block@<name>``.

    Like StaticContent.compute_location: ``/`` in a file path becomes ``_`` and
    characters an asset key cannot hold become ``_``. Old-style (slash) course
    keys give ``/c4x/<org>/<course>/asset/<name>``.
    """
    from opaque_keys.edx.locator import AssetLocator

    if isinstance(course_key, str):
        course_key = parse_course_key(course_key)
    cleaned = AssetLocator.clean_keeping_underscores(name.replace("/", "_"))
    url = str(course_key.make_asset_key("asset", cleaned))
    return url if url.startswith("/") else "/" + url


def absolute_url(request, url):
    """DRF ``AbsoluteURLField``: site-relative URLs get the request's scheme and host."""
    if not url or urlparse(url).netloc:
        return url
    return request.application_url + url


def blocks_url(request, course):
    """``blocks_url``: the v2 blocks API for the course (upstream reverses to v2)."""
    query = urlencode({"course_id": course.course_key})
    return f"{request.application_url}/api/courses/v2/blocks/?{query}"


# -- media ------------------------------------------------------------------------------

def image_path(course, field="course_image"):
    """``course_image_url`` / ``banner_image_url`` of the course overview.

    ``None`` means the OLX named no image (CourseBlock's default file name);
    an empty string means the image was cleared (upstream's static fallback).
    """
    name = getattr(course, field)
    if name is None:
        name = DEFAULT_IMAGE_NAME
    if not name:
        return EMPTY_IMAGE_URL
    return asset_path(course_key_of(course), name)


def course_image_path(course):
    return image_path(course, "course_image")


def banner_image_path(course):
    return image_path(course, "banner_image")


def course_video_url(course):
    """The about video as a YouTube watch URL, or None."""
    youtube_id = course.course_video_youtube_id
    return YOUTUBE_WATCH_URL + youtube_id if youtube_id else None


def image_urls(request, course):
    """``image``: raw/small/large, all the course image (no thumbnails are generated)."""
    url = absolute_url(request, course_image_path(course))
    return {"raw": url, "small": url, "large": url}


def course_media(request, course):
    """The ``media`` object of the course API."""
    banner = banner_image_path(course)
    return {
        "banner_image": {"uri": banner, "uri_absolute": absolute_url(request, banner) or ""},
        "course_image": {"uri": course_image_path(course)},
        "course_video": {"uri": course_video_url(course)},
        "image": image_urls(request, course),
    }


# -- start dates ------------------------------------------------------------------------

def course_start(course):
    """The course start; a course without one starts at Open edX's default (2030-01-01)."""
    return aware(course.start) if course.start is not None else DEFAULT_START


def format_date(value):
    """Django's ``date(value, "N j, Y")`` in UTC: ``July 17, 2015``, ``Sept. 5, 2022``."""
    value = aware(value)
    return f"{AP_MONTHS[value.month - 1]} {value.day}, {value.year}"


def start_type(course):
    """``string`` (advertised start), ``timestamp`` or ``empty`` (default start)."""
    if course.advertised_start:
        return "string"
    if course_start(course) != DEFAULT_START:
        return "timestamp"
    return "empty"


def start_display(course):
    """The advertised start, else the formatted start date, else None."""
    if course.advertised_start:
        return course.advertised_start
    start = course_start(course)
    if start != DEFAULT_START:
        return format_date(start)
    return None


# -- other derived fields ---------------------------------------------------------------

def display_name_escaped(course):
    """``display_name_with_default_escaped`` (upstream only escapes angle brackets)."""
    return (course.display_name or "").replace("<", "&lt;").replace(">", "&gt;")


def display_number(course):
    return course.display_number or course.number


def display_org(course):
    return course.display_org or course.org


def pacing(course):
    return "self" if course.self_paced else "instructor"


def is_hidden(course):
    """Hidden from the catalog: visibility about/none, or an old-style (slash) key."""
    key = course_key_of(course)
    return course.catalog_visibility in ("about", "none") or bool(key and key.deprecated)


# -- the course objects -----------------------------------------------------------------

def serialize_course(request, course):
    """One course of ``GET /api/courses/v1/courses/`` (keys in upstream's order)."""
    return {
        "blocks_url": blocks_url(request, course),
        "effort": course.effort,
        "end": isoformat(course.end),
        "enrollment_start": isoformat(course.enrollment_start),
        "enrollment_end": isoformat(course.enrollment_end),
        "id": course.course_key,
        "media": course_media(request, course),
        "name": display_name_escaped(course),
        "number": display_number(course),
        "org": display_org(course),
        "short_description": course.short_description,
        "start": isoformat(course_start(course)),
        "start_display": start_display(course),
        "start_type": start_type(course),
        "pacing": pacing(course),
        "mobile_available": bool(course.mobile_available),
        "hidden": is_hidden(course),
        "invitation_only": bool(course.invitation_only),
        "course_id": course.course_key,
    }


def serialize_course_detail(request, course, *, show_certificate_date=False, is_enrolled=None):
    """``CourseDetailSerializer``: the list object plus ``overview``.

    ``certificate_available_date`` is added when ``show_certificate_date``
    (auto certificate generation on and the course instructor-paced);
    ``is_enrolled`` when not None (the caller may know the named user's enrollment).
    """
    body = serialize_course(request, course)
    body["overview"] = course.overview
    if show_certificate_date:
        body["certificate_available_date"] = isoformat(course.certificate_available_date)
    if is_enrolled is not None:
        body["is_enrolled"] = bool(is_enrolled)
    return body
