"""edx-val's views for the video pipeline: statuses, videos missing their HLS encoding,
a course's video images, transcripts. Errors are ``{"message": ...}`` as upstream's.

Upstream declares no permission class on these (DRF's project default); openlms asks
the same edx-val permissions as the video views, so that no anonymous or ordinary
account changes a video.
"""
import json

from sqlalchemy import delete, func, select

from lms.errors import APIError
from lms.openapi import NO_BODY, NUMBER, STRING, Body, array, obj
from lms.request import parse_body, request_data
from lms.responses import empty_response
from lms.service import Service
from lms.settings import as_int
from lms.timeutil import utcnow
from plugins.video.models import CourseVideo, EncodedVideo, Profile, Transcript, Video
from plugins.video.serializers import get_video
from plugins.video.views.videos import AUTH, JSON_OR_FORM, require_val

status = Service("video.status", "/api/val/v0/videos/status/", auth=AUTH)
missing_hls = Service("video.missing_hls", "/api/val/v0/videos/missing-hls/", auth=AUTH)
images = Service("video.images", "/api/val/v0/videos/video-images/update/", auth=AUTH)
transcripts = Service("video.transcripts", "/api/val/v0/videos/video-transcripts/create/",
                      auth=AUTH)

# VideoStatusView: the statuses the pipeline may set.
SETTABLE_STATUSES = ("file_complete", "partial_failure", "pipeline_error",
                     "transcription_in_progress", "transcript_failed", "transcript_ready",
                     "transcode_active")
PROVIDERS = ("Custom", "3PlayMedia", "Cielo24", "edx_ai_translations")
FILE_FORMATS = ("srt", "sjson")
MAX_GENERATED_IMAGES = 3


def message(text, status_code=400):
    return APIError(status_code, {"message": text})


def body_of(request):
    data = request_data(request, JSON_OR_FORM)
    if not isinstance(data, dict):
        raise message("Request data must be an object.")
    return data


def text_field(data, name):
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return None
    return value.strip()


# -- status --------------------------------------------------------------------------------------

@status.patch(validators=(require_val,),
              body=obj({"edx_video_id": STRING, "status": STRING,
                        "error_description": STRING}),
              responses={200: NO_BODY, 400: "An unknown video or status "
                                                         "(`message`).",
                         401: "Not signed in.", 403: "Without edx-val's permissions."})
def patch_status(request):
    """Set a video's status (and error description)."""
    data = body_of(request)
    edx_video_id, new_status = text_field(data, "edx_video_id"), data.get("status")
    if not isinstance(new_status, str) or new_status not in SETTABLE_STATUSES:
        raise message(f'"{new_status}" is not a valid Video status.')
    video = get_video(request.dbsession, edx_video_id)
    if video is None:
        raise message(f"Video is not found for specified edx_video_id: {edx_video_id}")
    video.status = new_status
    description = data.get("error_description")
    if isinstance(description, str):
        video.error_description = description[:1024]
    return empty_response(200)


# -- missing HLS ---------------------------------------------------------------------------------

def without_hls():
    has_hls = (select(EncodedVideo.video_id).join(Profile, Profile.id == EncodedVideo.profile_id)
               .where(Profile.profile_name == "hls"))
    return select(Video).where(Video.status == "file_complete", Video.id.not_in(has_hls))


def whole_number(data, name, default):
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise message(f"{name} must be a whole number.")
    return value


@missing_hls.post(validators=(require_val,),
                  body=obj({"courses": array(STRING), "batch_size": NUMBER, "offset": NUMBER},
                           required=False),
                  responses={200: obj({"videos": array(STRING), "total": NUMBER,
                                       "offset": NUMBER, "batch_size": NUMBER},
                                      required=False),
                             400: "A bad `courses`, `batch_size` or `offset` (`message`).",
                             401: "Not signed in.", 403: "Without edx-val's permissions."})
def list_missing_hls(request):
    """Completed videos without an HLS encoding: of some courses, or a batch of all."""
    db = request.dbsession
    data = body_of(request)
    courses = data.get("courses")
    if courses:
        if not isinstance(courses, list) or not all(
                isinstance(c, str) and "\x00" not in c for c in courses):
            raise message("courses must be a list of course ids.")
        stmt = (without_hls().join(CourseVideo, CourseVideo.video_id == Video.id)
                .where(CourseVideo.course_id.in_(courses)).with_only_columns(Video.edx_video_id)
                .distinct().order_by(Video.edx_video_id))
        return {"videos": list(db.scalars(stmt))}
    batch_size = whole_number(data, "batch_size", 50)
    offset = whole_number(data, "offset", 0)
    total = db.scalar(select(func.count()).select_from(without_hls().subquery()))
    page = db.scalars(without_hls().with_only_columns(Video.edx_video_id)
                      .order_by(Video.id).offset(offset).limit(batch_size))
    return {"videos": list(page), "total": total, "offset": offset, "batch_size": batch_size}


@missing_hls.put(validators=(require_val,),
                 body=obj({"edx_video_id": STRING, "profile": STRING,
                           "encode_data": obj({"url": STRING, "file_size": NUMBER,
                                               "bitrate": NUMBER})}),
                 responses={200: NO_BODY,
                            400: "An unknown video or profile, or bad `encode_data`.",
                            401: "Not signed in.", 403: "Without edx-val's permissions."})
def put_missing_hls(request):
    """Store (replace) one encoding of a video."""
    import colander

    from plugins.video.serializers import EncodedSchema

    db = request.dbsession
    data = body_of(request)
    video = get_video(db, text_field(data, "edx_video_id"))
    if video is None:
        raise message("Video not found.")
    from plugins.video.serializers import profile_ids

    profile_id = profile_ids(db).get(data.get("profile")) \
        if isinstance(data.get("profile"), str) else None
    if profile_id is None:
        raise message("Profile not found.")
    profile = db.get(Profile, profile_id)
    encode_data = data.get("encode_data")
    if not isinstance(encode_data, dict):
        raise message("encode_data must be an object.")
    try:
        values = EncodedSchema().deserialize({**{k: encode_data.get(k, colander.null)
                                                 for k in ("url", "file_size", "bitrate")},
                                              "profile": profile.profile_name})
    except colander.Invalid as exc:
        raise APIError(400, {name: [text] for name, text in exc.asdict().items()})
    db.execute(delete(EncodedVideo).where(EncodedVideo.video_id == video.id,
                                          EncodedVideo.profile_id == profile.id))
    now = utcnow()
    db.add(EncodedVideo(video_id=video.id, profile_id=profile.id, url=values["url"],
                        file_size=values["file_size"], bitrate=values["bitrate"],
                        created=now, modified=now))
    return empty_response(200)


# -- images --------------------------------------------------------------------------------------

@images.post(validators=(require_val,),
             body=obj({"course_id": STRING, "edx_video_id": STRING,
                       "generated_images": array(STRING)}),
             responses={200: NO_BODY, 400: "Bad input or no such course video "
                                                       "(`message`).",
                        401: "Not signed in.", 403: "Without edx-val's permissions."})
def update_images(request):
    """The pipeline's candidate images of a course's video (at most three); the first
    becomes the course's image when it has none."""
    db = request.dbsession
    data = body_of(request)
    course_id, edx_video_id = text_field(data, "course_id"), text_field(data, "edx_video_id")
    generated = data.get("generated_images")
    if not isinstance(generated, list) or not all(
            isinstance(name, str) and name and len(name) <= 500 and "\x00" not in name
            for name in generated):
        raise message("generated_images must be a list of image names.")
    if len(generated) > MAX_GENERATED_IMAGES:
        raise message(f"Number of generated images must be less than or equal to "
                      f"{MAX_GENERATED_IMAGES}.")
    video = get_video(db, edx_video_id)
    row = None if video is None or course_id is None else db.scalar(
        select(CourseVideo).where(CourseVideo.course_id == course_id,
                                  CourseVideo.video_id == video.id))
    if row is None:
        raise message(f"CourseVideo not found for course_id: {course_id}")
    row.generated_images = list(generated)
    if not row.image and generated:
        row.image = generated[0]
    return empty_response(200)


# -- transcripts ---------------------------------------------------------------------------------

def srt_to_sjson(text):
    """Parse SRT with the ``srt`` library; edx's SJSON (milliseconds)."""
    import srt

    subtitles = list(srt.parse(text))
    if not subtitles:
        raise ValueError("no subtitles")
    return {"start": [int(s.start.total_seconds() * 1000) for s in subtitles],
            "end": [int(s.end.total_seconds() * 1000) for s in subtitles],
            "text": [s.content.replace("\n", " ") for s in subtitles]}


def valid_sjson(value):
    if not isinstance(value, dict) or set(value) < {"start", "end", "text"}:
        return False
    starts, ends, texts = value.get("start"), value.get("end"), value.get("text")
    return (isinstance(starts, list) and isinstance(ends, list) and isinstance(texts, list)
            and len(starts) == len(ends) == len(texts)
            and all(isinstance(n, (int, float)) and not isinstance(n, bool)
                    for n in starts + ends)
            and all(isinstance(t, str) for t in texts))


def uploaded_transcript(request, file_format):
    """The multipart ``file``, validated and stored as SJSON bytes; None without one."""
    if not request.content_type.startswith("multipart/"):
        return None
    upload = parse_body(request, ("multipart/form-data",)).files.get("file")
    if upload is None:
        return None
    limit = as_int(request.registry.settings, "video.transcript_max_bytes")
    raw = upload.file.read(limit + 1)
    if len(raw) > limit:
        raise message(f"The transcript file is larger than {limit} bytes.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise message("The transcript file is not UTF-8 text.")
    try:
        if file_format == "srt":
            parsed = srt_to_sjson(text)
        else:
            parsed = json.loads(text)
            if not valid_sjson(parsed):
                raise ValueError("not SJSON")
    except Exception:  # noqa: BLE001 - any parse failure is the client's bad file
        raise message(f"The transcript file is not valid {file_format.upper()}.")
    return json.dumps(parsed).encode()


@transcripts.post(validators=(require_val,),
                  body=Body(obj({"video_id": STRING, "name": STRING, "language_code": STRING,
                                 "provider": STRING, "file_format": STRING}),
                            "JSON or a form; a multipart `file` (SRT or SJSON) is validated "
                            "and kept as SJSON.", "multipart/form-data"),
                  responses={200: NO_BODY,
                             400: "A missing field, an unsupported format or provider, an "
                                  "unknown video, a taken language, or a bad file "
                                  "(`message`).",
                             401: "Not signed in.", 403: "Without edx-val's permissions."})
def create_transcript(request):
    """A video's transcript in one language (never replacing an existing one)."""
    db = request.dbsession
    data = body_of(request)
    names = ("video_id", "name", "language_code", "provider", "file_format")
    values = {name: text_field(data, name) for name in names}
    missing = [name for name in names if values[name] is None]
    if missing:
        raise message(f"{' and '.join(missing)} must be specified.")
    if values["file_format"] not in FILE_FORMATS:
        raise message(f'"{values["file_format"]}" transcript file type is not supported. '
                      f"Supported formats are {list(FILE_FORMATS)}")
    if values["provider"] not in PROVIDERS:
        raise message(f'"{values["provider"]}" provider is not supported. Supported '
                      f"providers are {list(PROVIDERS)}")
    video = get_video(db, values["video_id"])
    if video is None:
        raise message(f"Video with id {values['video_id']} not found.")
    if db.scalar(select(Transcript.id).where(Transcript.video_id == video.id,
                                             Transcript.language_code ==
                                             values["language_code"])):
        raise message(f'Can not override existing transcript for video "{values["video_id"]}" '
                      f'and language code "{values["language_code"]}".')
    content = uploaded_transcript(request, values["file_format"])
    db.add(Transcript(video_id=video.id, name=values["name"][:255],
                      language_code=values["language_code"][:50], provider=values["provider"],
                      file_format="sjson" if content is not None else values["file_format"],
                      content=content))
    return empty_response(200)
