"""edx-val (``/api/val/v0/``) as Studio and the video pipeline call it (JWT)."""
import json

import pytest
from sqlalchemy import select

from lms.testing import create_user, jwt_headers
from plugins.video.models import CourseVideo, EncodedVideo, Transcript, Video

COURSE = "course-v1:edX+Video+2026"
VIDEOS = "/api/val/v0/videos/"


@pytest.fixture
def people(app_factory, db):
    app = app_factory(**{"video.api_users": "pipeline"})
    found = {"pipeline": create_user(db, "pipeline", is_staff=True),
             "admin": create_user(db, "admin", is_staff=True, is_superuser=True),
             "staff": create_user(db, "staffer", is_staff=True),
             "learner": create_user(db, "learner")}
    return app, found


def headers(app, user):
    return jwt_headers(app, user)


def video_body(**fields):
    return {"edx_video_id": "intro-video", "client_video_id": "Intro.mp4", "duration": 42.5,
            "status": "file_complete",
            "encoded_videos": [
                {"profile": "mobile_low", "url": "http://cdn.example/low.mp4",
                 "file_size": 1000, "bitrate": 200},
                {"profile": "youtube", "url": "3_yD_cEKoCk", "file_size": 0, "bitrate": 0}],
            "courses": [COURSE], **fields}


def test_create_read_update_delete(people, db):
    app, users = people
    pipeline = headers(app, users["pipeline"])
    created = app.post_json(VIDEOS, video_body(), headers=pipeline, status=201).json
    assert created["edx_video_id"] == "intro-video" and created["duration"] == 42.5
    assert created["url"] == "/api/val/v0/videos/intro-video"
    assert created["courses"] == [{COURSE: None}]
    assert [(e["profile"], e["url"]) for e in created["encoded_videos"]] == [
        ("mobile_low", "http://cdn.example/low.mp4"), ("youtube", "3_yD_cEKoCk")]
    got = app.get(VIDEOS + "intro-video", headers=pipeline).json
    assert got["client_video_id"] == "Intro.mp4"
    listed = app.get(VIDEOS, {"course": COURSE}, headers=pipeline).json
    assert listed["count"] == 1 and listed["results"][0]["edx_video_id"] == "intro-video"
    assert app.get(VIDEOS, {"youtube": "3_yD_cEKoCk"}, headers=pipeline).json["count"] == 1
    assert app.get(VIDEOS, {"course": "course-v1:edX+None+2026"},
                   headers=pipeline).json["count"] == 0
    # PUT replaces the encodings; courses are only added
    replaced = app.put_json(VIDEOS + "intro-video", video_body(
        encoded_videos=[{"profile": "desktop_mp4", "url": "http://cdn.example/d.mp4",
                         "file_size": 5, "bitrate": 9}],
        courses=["course-v1:edX+Second+2026"]), headers=pipeline).json
    assert [e["profile"] for e in replaced["encoded_videos"]] == ["desktop_mp4"]
    assert replaced["courses"] == [{COURSE: None}, {"course-v1:edX+Second+2026": None}]
    patched = app.patch_json(VIDEOS + "intro-video", {"status": "transcode_active"},
                             headers=pipeline).json
    assert patched["status"] == "transcode_active"
    assert [e["profile"] for e in patched["encoded_videos"]] == ["desktop_mp4"]
    app.delete(VIDEOS + "intro-video", headers=pipeline, status=204)
    assert db.scalar(select(Video.id)) is None
    assert db.scalar(select(EncodedVideo.id)) is None


def test_bad_input(people, db):
    app, users = people
    pipeline = headers(app, users["pipeline"])
    unknown_profile = app.post_json(VIDEOS, video_body(encoded_videos=[
        {"profile": "hd_4k", "url": "u", "file_size": 1, "bitrate": 1}]),
        headers=pipeline, status=400).json
    assert unknown_profile == {"encoded_videos": [{"profile": [
        "Object with profile_name=hd_4k does not exist."]}]}
    duplicate = app.post_json(VIDEOS, video_body(encoded_videos=[
        {"profile": "hls", "url": "a", "file_size": 1, "bitrate": 1},
        {"profile": "hls", "url": "b", "file_size": 1, "bitrate": 1}]),
        headers=pipeline, status=400).json
    assert duplicate == {"encoded_videos": ["Invalid data: duplicate profiles"]}
    bad_fields = app.post_json(VIDEOS, video_body(edx_video_id="no spaces!", duration=-1),
                               headers=pipeline, status=400).json
    assert bad_fields == {"edx_video_id": ["edx_video_id has invalid characters"],
                          "duration": ["Ensure this value is greater than or equal to 0."]}
    missing = app.post_json(VIDEOS, {"edx_video_id": "x"}, headers=pipeline, status=400).json
    assert missing["duration"] == ["This field is required."]
    assert missing["encoded_videos"] == ["This field is required."]
    app.post(VIDEOS, "{oops", content_type="application/json", headers=pipeline, status=400)
    app.post_json(VIDEOS, video_body(), headers=pipeline, status=201)
    taken = app.post_json(VIDEOS, video_body(), headers=pipeline, status=400).json
    assert taken == {"edx_video_id": ["video with this edx video id already exists."]}
    assert db.scalar(select(Video.edx_video_id)) == "intro-video"
    app.get(VIDEOS + "nope", headers=pipeline, status=404)


def test_who_may_call(people, db):
    app, users = people
    assert app.get(VIDEOS, status=401).json == {
        "detail": "Authentication credentials were not provided."}
    for name in ("staff", "learner"):
        app.get(VIDEOS, headers=headers(app, users[name]), status=403)
        app.post_json(VIDEOS, video_body(), headers=headers(app, users[name]), status=403)
    assert app.get(VIDEOS, headers=headers(app, users["admin"])).json["count"] == 0
    assert db.scalar(select(Video.id)) is None


def test_status_missing_hls_and_images(people, db):
    app, users = people
    pipeline = headers(app, users["pipeline"])
    app.post_json(VIDEOS, video_body(), headers=pipeline, status=201)
    bad = app.patch_json(VIDEOS + "status/", {"edx_video_id": "intro-video",
                                              "status": "upload"},
                         headers=pipeline, status=400).json
    assert bad == {"message": '"upload" is not a valid Video status.'}
    unknown = app.patch_json(VIDEOS + "status/", {"edx_video_id": "nope",
                                                  "status": "pipeline_error"},
                             headers=pipeline, status=400).json
    assert unknown == {"message": "Video is not found for specified edx_video_id: nope"}
    app.patch_json(VIDEOS + "status/", {"edx_video_id": "intro-video",
                                        "status": "file_complete",
                                        "error_description": "ok"}, headers=pipeline)
    missing = app.post_json(VIDEOS + "missing-hls/", {}, headers=pipeline).json
    assert missing == {"videos": ["intro-video"], "total": 1, "offset": 0, "batch_size": 50}
    by_course = app.post_json(VIDEOS + "missing-hls/", {"courses": [COURSE]},
                              headers=pipeline).json
    assert by_course == {"videos": ["intro-video"]}
    app.put_json(VIDEOS + "missing-hls/", {"edx_video_id": "intro-video", "profile": "hls",
                                           "encode_data": {"url": "http://cdn/v.m3u8",
                                                           "file_size": 0, "bitrate": 0}},
                 headers=pipeline)
    assert app.post_json(VIDEOS + "missing-hls/", {}, headers=pipeline).json["total"] == 0
    images = VIDEOS + "video-images/update/"
    app.post_json(images, {"course_id": COURSE, "edx_video_id": "intro-video",
                           "generated_images": ["a.png", "b.png"]}, headers=pipeline)
    row = db.scalar(select(CourseVideo))
    db.refresh(row)
    assert row.generated_images == ["a.png", "b.png"] and row.image == "a.png"
    got = app.get(VIDEOS + "intro-video", headers=pipeline).json
    assert got["courses"] == [{COURSE: "http://localhost/media/video-images/a.png"}]
    too_many = app.post_json(images, {"course_id": COURSE, "edx_video_id": "intro-video",
                                      "generated_images": ["1", "2", "3", "4"]},
                             headers=pipeline, status=400).json
    assert too_many == {"message": "Number of generated images must be less than or equal "
                                   "to 3."}
    assert app.post_json(images, {"course_id": "course-v1:edX+No+1", "edx_video_id":
                                  "intro-video", "generated_images": []},
                         headers=pipeline, status=400).json == {
        "message": "CourseVideo not found for course_id: course-v1:edX+No+1"}


SRT = "1\n00:00:01,000 --> 00:00:02,500\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n"


def test_transcripts(people, db):
    app, users = people
    pipeline = headers(app, users["pipeline"])
    app.post_json(VIDEOS, video_body(), headers=pipeline, status=201)
    url = VIDEOS + "video-transcripts/create/"
    fields = {"video_id": "intro-video", "name": "intro.srt", "language_code": "en",
              "provider": "Custom", "file_format": "srt"}
    app.post(url, fields, upload_files=[("file", "intro.srt", SRT.encode())],
             headers=pipeline)
    stored = db.scalar(select(Transcript))
    assert stored.file_format == "sjson"
    assert json.loads(stored.content) == {"start": [1000, 3000], "end": [2500, 4000],
                                          "text": ["Hello", "World"]}
    again = app.post_json(url, fields, headers=pipeline, status=400).json
    assert again == {"message": 'Can not override existing transcript for video '
                                '"intro-video" and language code "en".'}
    broken = app.post(url, {**fields, "language_code": "fr"},
                      upload_files=[("file", "bad.srt", b"not subtitles at all")],
                      headers=pipeline, status=400).json
    assert broken == {"message": "The transcript file is not valid SRT."}
    bad_sjson = app.post(url, {**fields, "language_code": "de", "file_format": "sjson"},
                         upload_files=[("file", "x.sjson", b'{"start": [1], "end": []}')],
                         headers=pipeline, status=400).json
    assert bad_sjson == {"message": "The transcript file is not valid SJSON."}
    assert app.post_json(url, {**fields, "language_code": "es", "file_format": "vtt"},
                         headers=pipeline, status=400).json == {
        "message": "\"vtt\" transcript file type is not supported. Supported formats are "
                   "['srt', 'sjson']"}
    assert app.post_json(url, {"video_id": "intro-video"}, headers=pipeline,
                         status=400).json == {
        "message": "name and language_code and provider and file_format must be specified."}
    # without a file: the record alone, as upstream (the file is in storage)
    app.post_json(url, {**fields, "language_code": "es"}, headers=pipeline)
    assert sorted(db.scalars(select(Transcript.language_code))) == ["en", "es"]


def test_blocks_api_shows_the_encodings(people, db):
    from lms.keys import parse_course_key
    from lms.permissions import grant_role
    from tests.plugins.courses.factories import Node, make_course

    app, users = people
    make_course(db, Node("course", "course", children=[
        Node("chapter", "c", children=[Node("sequential", "s", children=[
            Node("vertical", "v", children=[
                Node("video", "known", edx_video_id="intro-video",
                     html5_sources=["http://example/fallback.mp4"]),
                Node("video", "unknown", edx_video_id="not-in-val",
                     html5_sources=["http://example/other.mp4"])])])])]), course_key=COURSE)
    grant_role(db, users["staff"], "staff", parse_course_key(COURSE))
    db.commit()
    app.post_json(VIDEOS, video_body(), headers=headers(app, users["pipeline"]), status=201)
    body = app.get("/api/courses/v1/blocks/", {
        "course_id": COURSE, "all_blocks": "true", "depth": "all",
        "requested_fields": "student_view_data", "student_view_data": "video"},
        headers=headers(app, users["staff"])).json
    known = body["blocks"][f"block-v1:edX+Video+2026+type@video+block@known"]
    data = known["student_view_data"]
    assert data["duration"] == 42.5
    low = data["encoded_videos"]["mobile_low"]
    assert (low["url"], low["file_size"]) == ("http://cdn.example/low.mp4", 1000)
    # the profiles the blocks API shows (YouTube is VAL's but not among them)
    assert set(data["encoded_videos"]) == {"mobile_low"}
    unknown = body["blocks"]["block-v1:edX+Video+2026+type@video+block@unknown"]
    assert set(unknown["student_view_data"]["encoded_videos"]) == {"fallback"}


def test_oversized_transcripts_and_image_names(app_factory, db):
    app = app_factory(**{"video.api_users": "pipeline", "video.transcript_max_bytes": "64"})
    pipeline = headers(app, create_user(db, "pipeline", is_staff=True))
    app.post_json(VIDEOS, video_body(), headers=pipeline, status=201)
    fields = {"video_id": "intro-video", "name": "long.srt", "language_code": "en",
              "provider": "Custom", "file_format": "srt"}
    big = app.post(VIDEOS + "video-transcripts/create/", fields,
                   upload_files=[("file", "long.srt", SRT.encode() * 3)], headers=pipeline,
                   status=400).json
    assert big == {"message": "The transcript file is larger than 64 bytes."}
    long_name = app.post_json(VIDEOS + "video-images/update/", {
        "course_id": COURSE, "edx_video_id": "intro-video",
        "generated_images": ["x" * 501]}, headers=pipeline, status=400).json
    assert long_name == {"message": "generated_images must be a list of image names."}
    assert db.scalar(select(Transcript.id)) is None
