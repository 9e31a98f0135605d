"""video: upstream's edx-val (``/api/val/v0/``): videos with their encodings per profile
(the standard profiles seeded), statuses, the courses that use them with their images,
and transcripts; and the ``lms_video_data`` hook, through which the courses plugin's
video blocks with an ``edx_video_id`` show these encodings.

Its one name, ``video``, is its settings prefix, table prefix (``video_*``), alembic
branch and service-name prefix.

Upstream guards edx-val with Django model permissions (reading needs
``change_video``) that openlms does not have: superusers, and the accounts named in
``video.api_users`` (the video pipeline's service accounts), are granted them all.
"""
from lms.hookspecs import hookimpl

name = "video"
version = "0.1.0"
requires = ()


@hookimpl
def lms_default_settings():
    return {
        # Usernames (space separated) holding edx-val's model permissions besides
        # superusers: the video pipeline's and Studio's service accounts.
        "video.api_users": "",
        # Transcripts uploaded with video-transcripts/create: the largest file in bytes.
        "video.transcript_max_bytes": "2097152",
    }


@hookimpl
def lms_includeme(config):
    from pyramid.exceptions import ConfigurationError

    raw = str(config.registry.settings.get("video.transcript_max_bytes", "")).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError("video.transcript_max_bytes must be a whole number of at "
                                 f"least 1, not {raw!r}")
    config.scan("plugins.video.views")


@hookimpl
def lms_permission_matrix():
    from plugins.video.permission_matrix import MATRIX

    return MATRIX


@hookimpl
def lms_video_data(dbsession, course_key, edx_video_ids):
    from plugins.video import api

    return api.video_data(dbsession, edx_video_ids)
