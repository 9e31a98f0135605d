"""An imported course, seen through the blocks API, is the course its OLX describes.

The OLX is walked here independently of the importer (pointer files, inline
children), and every reachable block must appear in
``blocks/?all_blocks=true&depth=all`` with its type, display name and
children in OLX order.
"""
import tarfile
from pathlib import Path
from urllib.parse import quote

import defusedxml.ElementTree as ET
import pytest

from lms.testing import create_user, jwt_headers
from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.courses.importer import import_course
from tests.plugins.courses.test_import_helpers import find_test_course

NOT_BLOCKS = ("wiki",)
EXPORT_ONLY_ATTRIBUTES = ("url_name", "xblock-family")


def _is_pointer(element):
    return (set(element.attrib) == {"url_name"} and len(element) == 0
            and not (element.text or "").strip())


def walk_olx(root_dir):
    """``{(type, url_name): (display_name or None, [(type, url_name) children])}``."""
    root_dir = Path(root_dir)
    pointer = ET.parse(root_dir / "course.xml").getroot()
    run = pointer.get("url_name")
    found = {}

    def load(element):
        if element.tag != "course" and _is_pointer(element):
            path = root_dir / element.tag / (element.get("url_name").replace(":", "/") + ".xml")
            loaded = ET.parse(path).getroot()
            return loaded, element.get("url_name")
        return element, element.get("url_name")

    def visit(element, url_name):
        children = []
        for child in element:
            if child.tag in NOT_BLOCKS or not isinstance(child.tag, str):
                continue
            if child.tag == "video_asset" or (element.tag == "video" and child.tag in (
                    "source", "transcript", "handout", "encoded_video")):
                continue
            if element.tag in ("problem", "html", "annotatable", "poll_question", "lti"):
                continue  # leaf content, not child blocks
            definition, child_name = load(child)
            if child_name is None:
                continue
            children.append((child.tag, child_name))
            if (child.tag, child_name) not in found:
                visit(definition, child_name)
        found[(element.tag, url_name)] = (element.get("display_name"), children)

    course = ET.parse(root_dir / "course" / f"{run}.xml").getroot()
    visit(course, "course")
    return found, f"course-v1:{pointer.get('org')}+{pointer.get('course')}+{run}"


def _usage_key(course_key, block_type, block_id):
    return course_key.replace("course-v1:", "block-v1:", 1) + f"+type@{block_type}+block@{block_id}"


def assert_blocks_api_matches_olx(app, db, export_dir, archive=None):
    expected, course_key = walk_olx(export_dir)
    result = import_course(db, archive or export_dir)
    db.commit()
    staff = create_user(db, "olx-staff", is_staff=True)
    response = app.get(
        f"/api/courses/v1/blocks/?course_id={quote(course_key)}&all_blocks=true&depth=all"
        "&requested_fields=children,display_name,type", headers=jwt_headers(app, staff))
    blocks = response.json["blocks"]
    assert response.json["root"] == _usage_key(course_key, "course", "course")
    wanted = {_usage_key(course_key, t, i) for t, i in expected}
    assert set(blocks) == wanted
    for (block_type, block_id), (display_name, children) in expected.items():
        block = blocks[_usage_key(course_key, block_type, block_id)]
        assert block["type"] == block_type
        if display_name is not None:
            assert block["display_name"] == display_name.strip() or \
                block["display_name"] == display_name
        assert block.get("children", []) == [_usage_key(course_key, t, i) for t, i in children]
    return result, len(blocks)


def test_sample_course_blocks_match_its_olx(app, db):
    result, count = assert_blocks_api_matches_olx(app, db, SAMPLE_COURSE_DIR)
    assert count == result.block_count


def test_openedx_test_course_blocks_match_its_olx(app, db, tmp_path):
    archive = find_test_course()
    if archive is None:
        pytest.skip("the shared Open edX test course export is not available")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    result, count = assert_blocks_api_matches_olx(app, db, tmp_path / "course", archive)
    assert count == result.block_count == 89
