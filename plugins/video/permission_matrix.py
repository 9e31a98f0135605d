"""Who may call each edx-val endpoint (checked by ``lms.testing``'s permission matrix).

JWT then session authentication; edx-val's model permissions, held by superusers and the
``video.api_users`` accounts (the world's service user here). Upstream's pipeline views
declare no permission class; openlms guards them the same way (see the plugin's docs)."""
from lms.matrix import SERVICE_USERNAME, SUPERUSER_ONLY, PluginMatrix, Row

VAL = {**SUPERUSER_ONLY, "service_user": "ok"}
VIDEO_ID = "matrix-video"


def setup(world):
    from plugins.video.models import CourseVideo, Video

    video = Video(edx_video_id=VIDEO_ID, client_video_id="Matrix.mp4", duration=12.5,
                  status="file_complete")
    world.db.add(video)
    world.db.flush()
    world.db.add(CourseVideo(course_id=world.values["course_key"], video_id=video.id,
                             generated_images=[]))
    world.db.commit()


def new_video(world):
    return {"edx_video_id": f"matrix-{world.role}".replace("_", "-"),
            "client_video_id": "new.mp4", "duration": 3.0, "status": "upload",
            "encoded_videos": [{"profile": "mobile_low", "url": "http://cdn.example/v.mp4",
                                "file_size": 10, "bitrate": 100}],
            "courses": [world.values["course_key"]]}


def fresh_video(world):
    from sqlalchemy import select

    from plugins.video.models import Video

    edx_video_id = f"gone-{world.role}".replace("_", "-")
    if world.db.scalar(select(Video.id).where(Video.edx_video_id == edx_video_id)) is None:
        world.db.add(Video(edx_video_id=edx_video_id, duration=1.0, status="upload"))
        world.db.commit()
    return {"edx_video_id": edx_video_id}


def new_transcript(world):
    return {"video_id": VIDEO_ID, "name": "subs.srt", "language_code": f"x-{world.role}",
            "provider": "Custom", "file_format": "srt"}


ROWS = [
    Row("video.videos", "GET", VAL, note="ReadRestrictedDjangoModelPermissions (change_video)"),
    Row("video.videos", "POST", VAL, body=new_video, note="add_video"),
    Row("video.video", "GET", VAL, path={"edx_video_id": VIDEO_ID}, note="change_video"),
    Row("video.video", "PUT", VAL, path={"edx_video_id": VIDEO_ID},
        body={"edx_video_id": VIDEO_ID, "client_video_id": "Matrix.mp4", "duration": 12.5,
              "status": "file_complete", "encoded_videos": []}, note="change_video"),
    Row("video.video", "PATCH", VAL, path={"edx_video_id": VIDEO_ID},
        body={"client_video_id": "Renamed.mp4"}, note="change_video"),
    Row("video.video", "DELETE", VAL, path=fresh_video, note="delete_video"),
    Row("video.status", "PATCH", VAL,
        body={"edx_video_id": VIDEO_ID, "status": "transcode_active"}),
    Row("video.missing_hls", "POST", VAL, body={"batch_size": 5, "offset": 0}),
    Row("video.missing_hls", "PUT", VAL,
        body={"edx_video_id": VIDEO_ID, "profile": "hls",
              "encode_data": {"url": "http://cdn.example/v.m3u8", "file_size": 0,
                              "bitrate": 0}}),
    Row("video.images", "POST", VAL,
        body={"course_id": "{course_key}", "edx_video_id": VIDEO_ID,
              "generated_images": ["matrix-1.png"]}),
    Row("video.transcripts", "POST", VAL, body=new_transcript),
]

MATRIX = PluginMatrix(rows=ROWS, setup=setup, settings={"video.api_users": SERVICE_USERNAME})
