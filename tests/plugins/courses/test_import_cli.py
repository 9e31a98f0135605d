"""``lms import-course`` and the sample course ``lms bootstrap`` imports, run with
click's CliRunner against a temporary ini (as tests/core/test_cli.py does).

Each test gets its own database (``cli_database_url`` of lms.testing): a SQLite
file in ``tmp_path``, or, with ``LMS_TEST_DATABASE_URL`` set to PostgreSQL, a
sibling database.
"""
import re
import tarfile

import pytest
from sqlalchemy import func, select

from lms.db import make_engine
from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.courses.models import Asset, Block, Course
from tests.plugins.courses.test_import_helpers import (
    SAMPLE_KEY,
    add_member,
    minimal_course,
    tar_directory,
    write_files,
)

@pytest.fixture
def query(cli_database_url):
    """``query(stmt)`` → list of rows from the test's database."""
    engine = make_engine({"sqlalchemy.url": cli_database_url})

    def rows(stmt):
        with engine.connect() as conn:
            return list(conn.execute(stmt))

    yield rows
    engine.dispose()


@pytest.fixture
def migrated(run_cli):
    result = run_cli("migrate")
    assert result.exit_code == 0, result.output


def one_line_error(result):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def imported_line(result):
    assert result.exit_code == 0, result.output
    match = re.fullmatch(r"imported (\S+) \(version ([0-9a-f]{24})\): (\d+) blocks, (\d+) assets",
                         result.stdout.strip())
    assert match, result.output
    return match.group(1), match.group(2), int(match.group(3)), int(match.group(4))


def test_import_course_folder_then_archive(run_cli, migrated, query, tmp_path):
    key, version, blocks, assets = imported_line(
        run_cli("import-course", str(SAMPLE_COURSE_DIR)))
    assert (key, blocks, assets) == (SAMPLE_KEY, 22, 2)
    assert query(select(Course.course_key, Course.version)) == [(SAMPLE_KEY, version)]
    assert query(select(func.count(Block.id)).where(Block.version == version)) == [(22,)]
    # the same course again, as an archive: replaced under a new version
    archive = tar_directory(SAMPLE_COURSE_DIR, tmp_path / "sample.tar.gz")
    key2, version2, blocks2, _ = imported_line(run_cli("import-course", str(archive)))
    assert (key2, blocks2) == (SAMPLE_KEY, 22) and version2 != version
    assert query(select(func.count(Course.id))) == [(1,)]
    assert query(select(Block.version).distinct()) == [(version2,)]
    assert query(select(func.count(Asset.id))) == [(2,)]


def test_import_course_with_a_key_override(run_cli, migrated, query):
    result = run_cli("import-course", str(SAMPLE_COURSE_DIR), "--course-key",
                     "course-v1:Acme+Copy+R1")
    assert imported_line(result)[0] == "course-v1:Acme+Copy+R1"
    assert query(select(Block.usage_key).where(Block.block_type == "course")) == [
        ("block-v1:Acme+Copy+R1+type@course+block@course",)]
    error = one_line_error(run_cli("import-course", str(SAMPLE_COURSE_DIR),
                                   "--course-key", "x"))
    assert error == (f"Error: cannot import {SAMPLE_COURSE_DIR}: --course-key: 'x' is not "
                     "a valid course-v1 course key")


def test_import_course_errors_are_one_line_and_change_nothing(run_cli, migrated, query,
                                                              tmp_path):
    assert run_cli("import-course", str(SAMPLE_COURSE_DIR)).exit_code == 0
    before = query(select(Course.version)), query(select(func.count(Block.id)))
    missing = tmp_path / "missing"
    assert one_line_error(run_cli("import-course", str(missing))) == (
        f"Error: cannot import {missing}: no such file or folder")
    broken = write_files(tmp_path / "broken", {
        "course.xml": '<course url_name="2026" org="OpenLMS" course="Sample"/>',
        "course/2026.xml": '<course><chapter url_name="c"/></course>',
        "chapter/c.xml": "<chapter><sequential",
    })
    assert one_line_error(run_cli("import-course", str(broken))) == (
        f"Error: cannot import {broken}: chapter/c.xml: malformed XML "
        "(unclosed token: line 1, column 9)")
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        tar.add(SAMPLE_COURSE_DIR, arcname="course")
        add_member(tar, "course/static/x", type=tarfile.SYMTYPE, linkname="/etc/shadow")
    assert one_line_error(run_cli("import-course", str(hostile))) == (
        f"Error: cannot import {hostile}: refused member 'course/static/x': links are not "
        "allowed (it points at '/etc/shadow')")
    assert (query(select(Course.version)), query(select(func.count(Block.id)))) == before


def test_import_size_limit_from_the_ini(write_cli_ini, run_cli, migrated, query, tmp_path):
    ini = write_cli_ini("courses.import_max_bytes = 10000")
    archive = tar_directory(SAMPLE_COURSE_DIR, tmp_path / "sample.tar.gz")
    assert one_line_error(run_cli("import-course", str(archive), ini=ini)) == (
        f"Error: cannot import {archive}: the export's files add up to more than 10000 bytes "
        "(setting courses.import_max_bytes)")
    assert query(select(func.count(Course.id))) == [(0,)]


def test_import_without_migrations_says_so(run_cli):
    result = run_cli("import-course", str(SAMPLE_COURSE_DIR))
    assert one_line_error(result).startswith("Error: database error (")
    assert "(run `lms migrate` first)" in result.output


def test_large_course_shows_a_progress_bar(run_cli, migrated, query, tmp_path):
    count = 600
    root = minimal_course(tmp_path / "big", '<chapter url_name="ch"/>', extra={
        "chapter/ch.xml": "<chapter>" + "".join(f'<html url_name="h{i}"/>' for i in range(count))
                          + "</chapter>",
        **{f"html/h{i}.xml": f"<html display_name='Part {i}'>body {i}</html>"
           for i in range(count)},
    })
    result = run_cli("import-course", str(root))
    assert imported_line(result)[2] == count + 2
    assert "reading blocks" in result.stderr
    assert query(select(func.count(Block.id))) == [(count + 2,)]
    small = run_cli("import-course", str(SAMPLE_COURSE_DIR))
    assert small.stderr == ""


def test_import_course_is_listed(run_cli):
    assert "import-course" in run_cli("--help").output
    help_text = run_cli("import-course", "--help").output
    assert "Import (or replace) a course from an OLX export" in help_text
    assert "--course-key" in help_text


def test_bootstrap_imports_the_sample_course_once(run_cli, query):
    first = run_cli("bootstrap", "--sample-course")
    assert first.exit_code == 0, first.output
    assert (f"courses: imported the sample course {SAMPLE_KEY} (22 blocks)"
            in first.output.splitlines())
    [(version,)] = query(select(Course.version))
    second = run_cli("bootstrap", "--sample-course")
    assert second.exit_code == 0, second.output
    assert "courses: imported" not in second.output
    assert query(select(Course.course_key, Course.version)) == [(SAMPLE_KEY, version)]
    assert query(select(func.count(Block.id))) == [(22,)]


def test_bootstrap_imports_the_sample_course_only_when_asked(write_cli_ini, run_cli, query):
    plain = run_cli("bootstrap")  # lms.bootstrap_sample_course defaults to false
    assert plain.exit_code == 0, plain.output
    assert "courses: imported" not in plain.output
    assert query(select(Course.course_key)) == []
    ini = write_cli_ini("lms.bootstrap_sample_course = true", name="sample.ini")
    refused = run_cli("bootstrap", "--no-sample-course", ini=ini)
    assert "courses: imported" not in refused.output
    assert query(select(Course.course_key)) == []
    by_setting = run_cli("bootstrap", ini=ini)
    assert by_setting.exit_code == 0, by_setting.output
    assert f"courses: imported the sample course {SAMPLE_KEY} (22 blocks)" in by_setting.output
    assert query(select(Course.course_key)) == [(SAMPLE_KEY,)]
