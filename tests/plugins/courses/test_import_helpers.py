"""Helpers for the importer tests (no tests here): course exports written into ``tmp_path``."""
import io
import shutil
import tarfile
from pathlib import Path

from sqlalchemy import func, select

from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.courses.models import Asset, Block, Course

SAMPLE_KEY = "course-v1:OpenLMS+Sample+2026"
TEST_COURSE_NAME = "openedx-test-course.tar.gz"
TEST_COURSE_CANDIDATES = [
    Path(__file__).resolve().parents[3].parent / "shared" / "courses" / TEST_COURSE_NAME,
    Path("/work/shared/courses") / TEST_COURSE_NAME,
]


def find_test_course():
    """The real Open edX test course export from the shared folder, or None."""
    return next((path for path in TEST_COURSE_CANDIDATES if path.is_file()), None)


def copy_sample(tmp_path, name="sample"):
    target = tmp_path / name
    shutil.copytree(SAMPLE_COURSE_DIR, target)
    return target


def write_files(root, files):
    """``files``: {relative path: text or bytes}."""
    root = Path(root)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def minimal_course(root, course_body="", extra=None, attributes=""):
    """A course ``course-v1:T+C+R`` whose course/R.xml holds ``course_body``."""
    files = {
        "course.xml": '<course url_name="R" org="T" course="C"/>',
        "course/R.xml": f'<course display_name="Mini"{attributes}>{course_body}</course>',
    }
    files.update(extra or {})
    return write_files(root, files)


def tar_directory(directory, archive, top="course"):
    """A .tar.gz of ``directory`` under a top folder, as Studio exports it."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(directory, arcname=top)
    return archive


def add_member(tar, name, data=b"", **attributes):
    info = tarfile.TarInfo(name)
    for key, value in attributes.items():
        setattr(info, key, value)
    if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def course_state(db):
    """What a failed import must leave unchanged."""
    db.expire_all()
    return {
        "courses": db.execute(select(Course.course_key, Course.version, Course.display_name)
                              .order_by(Course.course_key)).all(),
        "blocks": db.scalar(select(func.count(Block.id))),
        "block_versions": db.scalars(select(Block.version).distinct()).all(),
        "assets": db.execute(select(Asset.name, Asset.content_type).order_by(Asset.name)).all(),
    }
