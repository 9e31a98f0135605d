"""video tables (upstream edx-val): videos, their encodings per profile, the courses
they belong to (with a course's image of the video), and transcripts."""
from datetime import datetime

from sqlalchemy import (JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime
from lms.timeutil import utcnow

# The profiles edx-val seeds (its data migrations).
PROFILES = ("audio_mp3", "desktop_mp4", "desktop_webm", "hls", "mobile_high", "mobile_low",
            "youtube")


class Profile(Base):
    __tablename__ = "video_profile"
    __table_args__ = {"info": {"reference_data": True}}  # seeded by video_0001

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_name: Mapped[str] = mapped_column(String(50), unique=True)


class Video(Base):
    __tablename__ = "video_video"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edx_video_id: Mapped[str] = mapped_column(String(100), unique=True)
    client_video_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(255), default="", index=True)
    error_description: Mapped[str | None] = mapped_column(String(1024), nullable=True)


class EncodedVideo(Base):
    __tablename__ = "video_encoded"
    __table_args__ = (UniqueConstraint("video_id", "profile_id",
                                       name="uq_video_encoded_video_profile"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    url: Mapped[str] = mapped_column(String(200))
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    bitrate: Mapped[int] = mapped_column(Integer, default=0)
    profile_id: Mapped[int] = mapped_column(ForeignKey("video_profile.id", ondelete="CASCADE"))
    video_id: Mapped[int] = mapped_column(ForeignKey("video_video.id", ondelete="CASCADE"),
                                          index=True)


class CourseVideo(Base):
    """A video used in a course, with the course's image of it (``generated_images``:
    the pipeline's candidates, at most three)."""

    __tablename__ = "video_course_video"
    __table_args__ = (UniqueConstraint("course_id", "video_id",
                                       name="uq_video_course_video_course_video"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(String(255), index=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("video_video.id", ondelete="CASCADE"),
                                          index=True)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    image: Mapped[str | None] = mapped_column(String(500), nullable=True)
    generated_images: Mapped[list] = mapped_column(JSON, default=list)


class Transcript(Base):
    """A video's transcript in one language; ``content`` holds the file when it was
    uploaded here (SJSON, converted from SRT), else ``name`` names it in storage."""

    __tablename__ = "video_transcript"
    __table_args__ = (UniqueConstraint("video_id", "language_code",
                                       name="uq_video_transcript_video_language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("video_video.id", ondelete="CASCADE"),
                                          index=True)
    name: Mapped[str] = mapped_column(String(255))
    language_code: Mapped[str] = mapped_column(String(50))
    provider: Mapped[str] = mapped_column(String(30))
    file_format: Mapped[str] = mapped_column(String(20))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
