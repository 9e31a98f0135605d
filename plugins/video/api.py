"""The video plugin's public API: the encodings other plugins show."""
from sqlalchemy import select

from plugins.video.models import EncodedVideo, Profile, Video


def video_data(db, edx_video_ids):
    """``{edx_video_id: {"duration", "encoded_videos": {profile: {"url", "file_size"}}}}``
    of the known ids among ``edx_video_ids`` (one query)."""
    ids = [video_id for video_id in dict.fromkeys(edx_video_ids or ()) if video_id]
    found = {}
    if not ids:
        return found
    rows = db.execute(
        select(Video.edx_video_id, Video.duration, Profile.profile_name, EncodedVideo.url,
               EncodedVideo.file_size)
        .outerjoin(EncodedVideo, EncodedVideo.video_id == Video.id)
        .outerjoin(Profile, Profile.id == EncodedVideo.profile_id)
        .where(Video.edx_video_id.in_(ids)))
    for edx_video_id, duration, profile, url, file_size in rows:
        entry = found.setdefault(edx_video_id, {"duration": duration, "encoded_videos": {}})
        if profile is not None:
            entry["encoded_videos"][profile] = {"url": url, "file_size": file_size}
    return found
