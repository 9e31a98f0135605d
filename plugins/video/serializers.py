"""edx-val's serializers: a video as the API shows it and what a POST or PUT may send.

Input is read by colander schemas with DRF's messages; errors come back as DRF renders a
nested serializer's (``{"encoded_videos": [{"profile": [...]}, {}]}``).
"""
import re

import colander
from sqlalchemy import select

from lms.errors import APIError
from lms.schemas import DrfText, StrictInteger
from lms.timeutil import isoformat, utcnow
from plugins.video.models import CourseVideo, EncodedVideo, Profile, Video

EDX_VIDEO_ID = re.compile(r"^[a-zA-Z0-9_-]*$")
REQUIRED = "This field is required."


class Text(DrfText):
    """DRF's ``CharField`` (:class:`lms.schemas.DrfText`) with DRF's
    ``ProhibitNullCharactersValidator``."""

    def __init__(self, max_length, allow_blank=False):
        super().__init__(max_length=max_length, allow_blank=allow_blank)

    def deserialize(self, node, cstruct):
        text = super().deserialize(node, cstruct)
        if isinstance(text, str) and "\x00" in text:
            raise colander.Invalid(node, "Null characters are not allowed.")
        return text


class NonNegativeFloat(colander.SchemaType):
    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        if isinstance(cstruct, bool):
            raise colander.Invalid(node, "A valid number is required.")
        try:
            value = float(cstruct)
        except (TypeError, ValueError):
            raise colander.Invalid(node, "A valid number is required.")
        if value != value or value in (float("inf"), float("-inf")):
            raise colander.Invalid(node, "A valid number is required.")
        if value < 0:
            raise colander.Invalid(node, "Ensure this value is greater than or equal to 0.")
        return value


def non_negative(node, value):
    if value < 0 or value > 2**31 - 1:
        raise colander.Invalid(node, "Ensure this value is greater than or equal to 0."
                               if value < 0 else
                               "Ensure this value is less than or equal to 2147483647.")


class EncodedSchema(colander.MappingSchema):
    url = colander.SchemaNode(Text(200), missing_msg=REQUIRED)
    file_size = colander.SchemaNode(StrictInteger(), validator=non_negative,
                                    missing_msg=REQUIRED)
    bitrate = colander.SchemaNode(StrictInteger(), validator=non_negative,
                                  missing_msg=REQUIRED)
    profile = colander.SchemaNode(Text(50), missing_msg=REQUIRED)


class VideoSchema(colander.MappingSchema):
    edx_video_id = colander.SchemaNode(Text(100), missing_msg=REQUIRED)
    client_video_id = colander.SchemaNode(Text(255, allow_blank=True), missing="")
    duration = colander.SchemaNode(NonNegativeFloat(), missing_msg=REQUIRED)
    status = colander.SchemaNode(Text(255), missing_msg=REQUIRED)
    error_description = colander.SchemaNode(Text(1024, allow_blank=True), missing=None)


def _errors(exc):
    """colander's dotted names → DRF's nested error shape."""
    found = {}
    for name, message in exc.asdict().items():
        found[name] = [message.split("; ")[0]]
    return found


def parse_video(db, data, *, partial=False):
    """``(values, encodings, courses)`` of a video body; 400 with DRF's errors."""
    if not isinstance(data, dict):
        raise APIError(400, {"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    schema = VideoSchema().clone()  # its own nodes: PATCH changes their ``missing``
    if partial:
        for child in schema.children:
            child.missing = colander.drop
    errors = {}
    values = {}
    try:
        values = schema.deserialize({child.name: data[child.name]
                                     for child in schema.children if child.name in data})
    except colander.Invalid as exc:
        errors.update(_errors(exc))
    edx_video_id = data.get("edx_video_id")
    if "edx_video_id" not in errors and isinstance(edx_video_id, str) \
            and not EDX_VIDEO_ID.match(edx_video_id.strip()):
        errors["edx_video_id"] = ["edx_video_id has invalid characters"]
    encodings = None
    if "encoded_videos" in data or not partial:
        encodings, encoding_errors = parse_encodings(db, data.get("encoded_videos",
                                                                  colander.null))
        if encoding_errors:
            errors["encoded_videos"] = encoding_errors
    courses = None
    if "courses" in data:
        courses, course_errors = parse_courses(data["courses"])
        if course_errors:
            errors["courses"] = course_errors
    if errors:
        raise APIError(400, errors)
    return values, encodings, courses


def profile_ids(db):
    """``{profile name: id}``; the standard profiles (seeded by the migration) are made
    again if a table was emptied."""
    from sqlalchemy.exc import IntegrityError

    from plugins.video.models import PROFILES

    found = dict(db.execute(select(Profile.profile_name, Profile.id)).all())
    missing = [name for name in PROFILES if name not in found]
    if missing:
        try:
            with db.begin_nested():
                db.add_all([Profile(profile_name=name) for name in missing])
                db.flush()
        except IntegrityError:  # made by a concurrent request
            pass
        found = dict(db.execute(select(Profile.profile_name, Profile.id)).all())
    return found


def parse_encodings(db, raw):
    if raw is colander.null:
        return None, [REQUIRED]
    if not isinstance(raw, list):
        return None, [f'Expected a list of items but got type "{type(raw).__name__}".']
    profiles = profile_ids(db)
    parsed, errors, any_error = [], [], False
    for item in raw:
        if not isinstance(item, dict):
            errors.append({"non_field_errors": [
                f"Invalid data. Expected a dictionary, but got {type(item).__name__}."]})
            any_error = True
            continue
        try:
            value = EncodedSchema().deserialize(
                {k: item[k] for k in ("url", "file_size", "bitrate", "profile") if k in item})
        except colander.Invalid as exc:
            errors.append(_errors(exc))
            any_error = True
            continue
        if value["profile"] not in profiles:
            errors.append({"profile": [
                f"Object with profile_name={value['profile']} does not exist."]})
            any_error = True
            continue
        value["profile_id"] = profiles[value["profile"]]
        parsed.append(value)
        errors.append({})
    if any_error:
        return None, errors
    names = [value["profile"] for value in parsed]
    if len(names) != len(set(names)):
        return None, ["Invalid data: duplicate profiles"]
    return parsed, None


def parse_courses(raw):
    """Course ids, or ``{course_id: image}`` objects (edx-val's CourseSerializer)."""
    if not isinstance(raw, list):
        return None, [f'Expected a list of items but got type "{type(raw).__name__}".']
    from lms.keys import parse_course_key

    parsed = []
    for item in raw:
        image = None
        if isinstance(item, dict) and len(item) == 1:
            (course_id, image), = item.items()
        else:
            course_id = item
        if not isinstance(course_id, str) or parse_course_key(course_id) is None \
                or (image is not None and not isinstance(image, str)):
            return None, ["Invalid course data."]
        parsed.append((course_id, image))
    return parsed, None


# -- writing -----------------------------------------------------------------------------------

def replace_encodings(db, video, encodings):
    """Upstream's update: the encodings sent replace every existing one."""
    from sqlalchemy import delete

    db.execute(delete(EncodedVideo).where(EncodedVideo.video_id == video.id))
    now = utcnow()
    for value in encodings:
        db.add(EncodedVideo(video_id=video.id, profile_id=value["profile_id"], url=value["url"],
                            file_size=value["file_size"], bitrate=value["bitrate"],
                            created=now, modified=now))


def add_courses(db, video, courses):
    """Courses are only ever added (an image given is kept for its course)."""
    existing = {row.course_id: row for row in db.scalars(
        select(CourseVideo).where(CourseVideo.video_id == video.id))}
    for course_id, image in courses:
        row = existing.get(course_id)
        if row is None:
            row = CourseVideo(course_id=course_id, video_id=video.id, generated_images=[])
            db.add(row)
            existing[course_id] = row
        if image:
            row.image = image


# -- reading -----------------------------------------------------------------------------------

def image_url(request, image):
    if not image:
        return None
    if image.startswith(("http://", "https://")):
        return image
    return f"{request.application_url}/media/video-images/{image}"


def serialize_videos(request, videos):
    """Videos with their encodings and courses, in two queries for any number."""
    db = request.dbsession
    ids = [video.id for video in videos]
    encodings = {video_id: [] for video_id in ids}
    courses = {video_id: [] for video_id in ids}
    if ids:
        rows = db.execute(select(EncodedVideo, Profile.profile_name)
                          .join(Profile, Profile.id == EncodedVideo.profile_id)
                          .where(EncodedVideo.video_id.in_(ids)).order_by(EncodedVideo.id))
        for encoded, profile in rows:
            encodings[encoded.video_id].append({
                "created": isoformat(encoded.created), "modified": isoformat(encoded.modified),
                "url": encoded.url, "file_size": encoded.file_size,
                "bitrate": encoded.bitrate, "profile": profile})
        for row in db.scalars(select(CourseVideo).where(CourseVideo.video_id.in_(ids))
                              .order_by(CourseVideo.id)):
            courses[row.video_id].append({row.course_id: image_url(request, row.image)})
    return [{
        "encoded_videos": encodings[video.id],
        "courses": courses[video.id],
        "url": f"/api/val/v0/videos/{video.edx_video_id}",
        "created": isoformat(video.created),
        "edx_video_id": video.edx_video_id,
        "client_video_id": video.client_video_id,
        "duration": video.duration,
        "status": video.status,
        "error_description": video.error_description,
    } for video in videos]


def get_video(db, edx_video_id):
    if not isinstance(edx_video_id, str) or "\x00" in edx_video_id:
        return None
    return db.scalar(select(Video).where(Video.edx_video_id == edx_video_id))
