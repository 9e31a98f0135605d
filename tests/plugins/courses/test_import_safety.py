"""Hostile course exports are refused with a clear message and change nothing:
no file is written outside the scratch folder and the database keeps the old course."""
import io
import os
import tarfile

import pytest

from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.courses.importer import ImportLimits, OLXError, import_course
from tests.plugins.courses.test_import_helpers import (
    SAMPLE_KEY,
    add_member,
    copy_sample,
    course_state,
    minimal_course,
    tar_directory,
    write_files,
)

COURSE_XML = b'<course url_name="2026" org="OpenLMS" course="Sample"/>'

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<course url_name="2026" org="OpenLMS" course="Sample" display_name="&lol9;"/>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE problem [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<problem><p>&secret;</p></problem>"""


@pytest.fixture
def seeded(app, db):
    """The sample course is imported; return its state for the "unchanged" checks."""
    import_course(db, SAMPLE_COURSE_DIR)
    db.commit()
    return course_state(db)


@pytest.fixture
def make_archive(tmp_path):
    """``make_archive(*members)``: a .tar.gz holding a valid sample course under
    ``course/`` followed by the given members ``(name, data, attributes)``."""

    def make(*members, base=True):
        path = tmp_path / "hostile.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            if base:
                tar.add(SAMPLE_COURSE_DIR, arcname="course")
            for name, data, attributes in members:
                add_member(tar, name, data, **attributes)
        return path

    return make


def refused(db, path, before, message, limits=None):
    with pytest.raises(OLXError) as error:
        import_course(db, path, limits=limits)
    text = str(error.value)
    assert message in text, text
    assert "\n" not in text
    db.rollback()
    assert course_state(db) == before
    return text


def test_the_base_archive_imports(app, db, make_archive, seeded):
    """The hostile cases below differ from this one by one member only."""
    result = import_course(db, make_archive())
    assert result.course_key == SAMPLE_KEY and result.block_count == 22


@pytest.mark.parametrize("name, reason", [
    ("/tmp/openlms-evil.txt", "absolute path"),
    ("../openlms-evil.txt", "'..' in its path"),
    ("course/../../openlms-evil.txt", "'..' in its path"),
    ("course/static/../../../openlms-evil.txt", "'..' in its path"),
])
def test_path_escapes_are_refused(db, make_archive, seeded, tmp_path, name, reason):
    archive = make_archive((name, b"owned", {}))
    text = refused(db, archive, seeded, f"refused member {name!r}: {reason}")
    assert text.startswith("refused member ")
    assert not (tmp_path.parent / "openlms-evil.txt").exists()
    assert not os.path.exists("/tmp/openlms-evil.txt")


@pytest.mark.parametrize("member, reason", [
    (("course/static/passwd", b"", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}),
     "links are not allowed (it points at '/etc/passwd')"),
    (("course/static/up", b"", {"type": tarfile.SYMTYPE, "linkname": "../../.."}),
     "links are not allowed (it points at '../../..')"),
    (("course/static/inside", b"", {"type": tarfile.SYMTYPE, "linkname": "syllabus.txt"}),
     "links are not allowed"),
    (("course/static/hard", b"", {"type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}),
     "links are not allowed (it points at '/etc/passwd')"),
    (("course/static/hard2", b"", {"type": tarfile.LNKTYPE,
                                   "linkname": "course/static/syllabus.txt"}),
     "links are not allowed"),
    (("course/static/null", b"", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}),
     "device or fifo"),
    (("course/static/disk", b"", {"type": tarfile.BLKTYPE, "devmajor": 8, "devminor": 0}),
     "device or fifo"),
    (("course/static/pipe", b"", {"type": tarfile.FIFOTYPE}), "device or fifo"),
])
def test_links_and_special_files_are_refused(db, make_archive, seeded, member, reason):
    archive = make_archive(member)
    refused(db, archive, seeded, f"refused member {member[0]!r}: {reason}")


def test_member_over_the_size_limit(db, make_archive, seeded, tmp_path):
    archive = make_archive(("course/static/big.bin", b"x" * 4096, {}), base=False)
    limits = ImportLimits.from_settings({"courses.import_max_bytes": "1000"})
    assert limits.max_bytes == 1000
    refused(db, archive, seeded,
            "the export's files add up to more than 1000 bytes "
            "(setting courses.import_max_bytes)", limits=limits)


def test_huge_declared_size_is_refused_before_reading(db, seeded, tmp_path):
    """A header declaring 1 TB with no data behind it: refused on the header alone."""
    info = tarfile.TarInfo("course/static/huge.bin")
    info.size = 10**12
    archive = tmp_path / "huge.tar"
    archive.write_bytes(info.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024)
    refused(db, archive, seeded, "more than 536870912 bytes (setting courses.import_max_bytes)")


def test_total_size_over_the_limit(db, make_archive, seeded):
    """Many files each under the limit, together over it."""
    members = [(f"course/static/part{i}.bin", b"y" * 400, {}) for i in range(5)]
    archive = make_archive(*members, base=False)
    refused(db, archive, seeded, "add up to more than 1500 bytes",
            limits=ImportLimits(max_bytes=1500))


def test_too_many_members(db, make_archive, seeded):
    members = [(f"course/static/f{i}.txt", b"", {}) for i in range(20)]
    refused(db, make_archive(*members, base=False), seeded,
            "more than 10 archive members (setting courses.import_max_files)",
            limits=ImportLimits(max_files=10))


def test_billion_laughs_is_refused(db, make_archive, seeded):
    archive = make_archive(("course/course.xml", BILLION_LAUGHS, {}), base=False)
    refused(db, archive, seeded, "course.xml: refused XML with a DTD")


def test_external_entity_is_refused(db, seeded, tmp_path):
    export = copy_sample(tmp_path)
    (export / "problem/light_second.xml").write_bytes(EXTERNAL_ENTITY)
    archive = tar_directory(export, tmp_path / "xxe.tar.gz")
    refused(db, archive, seeded, "problem/light_second.xml: refused XML with a DTD")


def test_entity_declaration_without_doctype_use_is_refused(db, seeded, tmp_path):
    export = copy_sample(tmp_path)
    (export / "vertical/welcome_unit.xml").write_bytes(
        b'<!DOCTYPE vertical SYSTEM "http://127.0.0.1:1/evil.dtd"><vertical/>')
    refused(db, export, seeded, "vertical/welcome_unit.xml: refused XML with a DTD")


def test_malformed_xml_names_the_file(db, seeded, tmp_path):
    export = copy_sample(tmp_path)
    (export / "sequential/homework_1.xml").write_text("<sequential><vertical url_name='x'>")
    refused(db, tar_directory(export, tmp_path / "bad.tar.gz"), seeded,
            "sequential/homework_1.xml: malformed XML (no element found: line 1, column 35)")


def test_corrupt_archive(db, seeded, tmp_path):
    archive = tar_directory(SAMPLE_COURSE_DIR, tmp_path / "sample.tar.gz")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    refused(db, archive, seeded, "unreadable archive")


def test_folder_with_a_link_is_refused(db, seeded, tmp_path):
    export = copy_sample(tmp_path)
    os.symlink("/etc/passwd", export / "static" / "passwd")
    refused(db, export, seeded, "static/passwd: links are not allowed in a course export")
    os.unlink(export / "static" / "passwd")
    os.symlink("/etc", export / "html" / "etc")
    refused(db, export, seeded, "html/etc: links are not allowed in a course export")


def test_folder_limits(db, seeded, tmp_path):
    export = minimal_course(tmp_path / "c", "", extra={
        f"static/f{i}.txt": "z" * 100 for i in range(5)})
    refused(db, export, seeded, "more than 300 bytes", limits=ImportLimits(max_bytes=300))
    refused(db, export, seeded, "more than 4 files", limits=ImportLimits(max_files=4))


def test_folder_with_a_fifo_is_refused(db, seeded, tmp_path):
    export = copy_sample(tmp_path)
    os.mkfifo(export / "static" / "pipe")
    refused(db, export, seeded, "static/pipe: special files are not allowed")


def test_nothing_is_extracted_outside_the_scratch_folder(db, seeded, tmp_path, monkeypatch):
    """The scratch folder lives under TMPDIR and is removed after a refusal."""
    scratch_parent = tmp_path / "scratch"
    scratch_parent.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch_parent))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        add_member(tar, "course/course.xml", COURSE_XML)
        add_member(tar, "course/../escape.txt", b"owned")
    archive = write_files(tmp_path / "in", {"evil.tar.gz": buffer.getvalue()}) / "evil.tar.gz"
    refused(db, archive, seeded, "'..' in its path")
    assert list(scratch_parent.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()


def test_oversized_tar_headers_are_refused(db, seeded, tmp_path):
    """A pax record is read by tarfile itself: the stream limit stops it, whatever
    the member's declared size (0 here)."""
    archive = tmp_path / "pax.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("course/course.xml")
        info.pax_headers = {"comment": "p" * 200_000}
        tar.addfile(info, io.BytesIO(b""))
    refused(db, archive, seeded, "add up to more than 1000 bytes",
            limits=ImportLimits(max_bytes=1000, max_files=10))


@pytest.mark.parametrize("mode, suffix", [("w:bz2", "tar.bz2"), ("w:xz", "tar.xz"),
                                          ("w", "tar")])
def test_other_archive_formats(app, db, tmp_path, mode, suffix):
    archive = tmp_path / f"sample.{suffix}"
    with tarfile.open(archive, mode) as tar:
        tar.add(SAMPLE_COURSE_DIR, arcname="export")
    assert import_course(db, archive).block_count == 22
