"""Videos (upstream edx-val ``VideoList`` and ``VideoDetail``): JWT then session
authentication; edx-val's model permissions, which openlms grants to superusers and the
``video.api_users`` accounts (reading needs ``change_video`` upstream, so nobody else
reads either).

- ``GET /api/val/v0/videos/?course=&youtube=`` (DRF's default pages) and ``POST`` (201);
- ``GET``, ``PUT``, ``PATCH`` and ``DELETE /api/val/v0/videos/{edx_video_id}`` (no
  trailing slash): PUT replaces the encodings, courses are only ever added.
"""
from sqlalchemy import false, select

from lms import pagination, permissions
from lms.auth import JWT, SESSION
from lms.errors import APIError, detail
from lms.openapi import NUMBER, PAGE_QUERY, STRING, array, nullable, obj, page_of
from lms.request import query_params, request_data
from lms.responses import no_content
from lms.service import Service
from plugins.video import serializers
from plugins.video.models import CourseVideo, EncodedVideo, Profile, Video

AUTH = (JWT, SESSION)
JSON_OR_FORM = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")

videos = Service("video.videos", "/api/val/v0/videos/", auth=AUTH)
video_detail = Service("video.video", "/api/val/v0/videos/{edx_video_id:[^/]+}", auth=AUTH,
                       path_info=r".*[^/]$")

ENCODED = obj({"created": STRING, "modified": STRING, "url": STRING, "file_size": NUMBER,
               "bitrate": NUMBER, "profile": STRING})
VIDEO = obj({"encoded_videos": array(ENCODED), "courses": array(obj({})), "url": STRING,
             "created": STRING, "edx_video_id": STRING, "client_video_id": STRING,
             "duration": NUMBER, "status": STRING, "error_description": nullable(STRING)})
VIDEO_BODY = obj({"edx_video_id": STRING, "client_video_id": STRING, "duration": NUMBER,
                  "status": STRING, "encoded_videos": array(ENCODED),
                  "courses": array(STRING)}, required=False)


def may_use_val(request):
    """edx-val's model permissions: superusers and the configured service accounts."""
    user = request.user
    if user is None or not user.is_active:
        return False
    if permissions.is_superuser(user):
        return True
    allowed = request.registry.settings.get("video.api_users", "").split()
    return user.username in allowed


def require_val(request, **kwargs):
    permissions.require(may_use_val(request))


def video_or_404(request):
    video = serializers.get_video(request.dbsession, request.matchdict["edx_video_id"])
    if video is None:
        raise detail(404, "Not found.")
    return video


@videos.get(validators=(require_val,),
            query={"course": "Videos of this course.",
                   "youtube": "Videos with this YouTube id.", **PAGE_QUERY},
            responses={200: page_of(VIDEO), 401: "Not signed in.",
                       403: "Without edx-val's permissions.", 404: "Invalid page."})
def list_videos(request):
    """Videos, oldest first."""
    params = query_params(request)
    stmt = select(Video.id)
    course = params.get("course")
    if course:
        stmt = stmt.where(Video.id.in_(select(CourseVideo.video_id).where(
            CourseVideo.course_id == course if "\x00" not in course else false())))
    youtube = params.get("youtube")
    if youtube:
        stmt = stmt.where(Video.id.in_(
            select(EncodedVideo.video_id).join(Profile, Profile.id == EncodedVideo.profile_id)
            .where(Profile.profile_name == "youtube",
                   EncodedVideo.url == youtube if "\x00" not in youtube else false())))
    return pagination.page_number(
        request, stmt.order_by(Video.id),
        lambda rows: serializers.serialize_videos(
            request, request.dbsession.scalars(
                select(Video).where(Video.id.in_([row[0] for row in rows]))
                .order_by(Video.id)).all()))


@videos.post(validators=(require_val,), body=VIDEO_BODY,
             responses={201: VIDEO, 400: "Bad fields (DRF's errors), or a taken id.",
                        401: "Not signed in.", 403: "Without edx-val's permissions."})
def create_video(request):
    """A new video with its encodings and courses."""
    db = request.dbsession
    values, encodings, courses = serializers.parse_video(db, request_data(request, JSON_OR_FORM))
    if serializers.get_video(db, values["edx_video_id"]) is not None:
        raise APIError(400, {"edx_video_id": ["video with this edx video id already exists."]})
    video = Video(**values)
    db.add(video)
    db.flush()
    serializers.replace_encodings(db, video, encodings or [])
    serializers.add_courses(db, video, courses or [])
    db.flush()
    request.response.status_code = 201
    return serializers.serialize_videos(request, [video])[0]


@video_detail.get(validators=(require_val,),
                  responses={200: VIDEO, 401: "Not signed in.",
                             403: "Without edx-val's permissions.", 404: "No such video."})
def get_video(request):
    """One video."""
    return serializers.serialize_videos(request, [video_or_404(request)])[0]


def update(request, partial):
    db = request.dbsession
    video = video_or_404(request)
    values, encodings, courses = serializers.parse_video(
        db, request_data(request, JSON_OR_FORM), partial=partial)
    new_id = values.get("edx_video_id")
    if new_id and new_id != video.edx_video_id and serializers.get_video(db, new_id):
        raise APIError(400, {"edx_video_id": ["video with this edx video id already exists."]})
    for name, value in values.items():
        setattr(video, name, value)
    if encodings is not None:
        serializers.replace_encodings(db, video, encodings)
    if courses:
        serializers.add_courses(db, video, courses)
    db.flush()
    return serializers.serialize_videos(request, [video])[0]


@video_detail.put(validators=(require_val,), body=VIDEO_BODY,
                  responses={200: VIDEO, 400: "Bad fields.", 401: "Not signed in.",
                             403: "Without edx-val's permissions.", 404: "No such video."})
def put_video(request):
    """Replace a video's fields and encodings (courses are added)."""
    return update(request, partial=False)


@video_detail.patch(validators=(require_val,), body=VIDEO_BODY,
                    responses={200: VIDEO, 400: "Bad fields.", 401: "Not signed in.",
                               403: "Without edx-val's permissions.", 404: "No such video."})
def patch_video(request):
    """Change some of a video's fields."""
    return update(request, partial=True)


@video_detail.delete(validators=(require_val,),
                     responses={204: "Deleted.", 401: "Not signed in.",
                                403: "Without edx-val's permissions.", 404: "No such video."})
def delete_video(request):
    """Delete a video with its encodings, courses and transcripts."""
    request.dbsession.delete(video_or_404(request))
    return no_content()
