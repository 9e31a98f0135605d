"""OLX import: the bundled sample course, the real Open edX test course, OLX rules,
atomic re-import and failed imports that leave the database unchanged."""
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from lms.testing import create_user
from lms.timeutil import utcnow
from plugins.courses import api
from plugins.courses.access import UserContext, visible_blocks
from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.courses.importer import ImportLimits, OLXError, import_course
from plugins.courses.models import Asset, Block, Course, Organization
from tests.plugins.courses.test_import_helpers import (
    SAMPLE_KEY,
    copy_sample,
    course_state,
    find_test_course,
    minimal_course,
    tar_directory,
    write_files,
)


def key(block_type, block_id, course_key=SAMPLE_KEY):
    return f"block-v1:{course_key[len('course-v1:'):]}+type@{block_type}+block@{block_id}"


def blocks_of(db, course):
    rows = db.scalars(select(Block).where(Block.version == course.version)
                      .order_by(Block.position)).all()
    return {row.usage_key: row for row in rows}


def import_sample(db, path=SAMPLE_COURSE_DIR, **kw):
    result = import_course(db, path, **kw)
    db.commit()
    return result


# -- the sample course -----------------------------------------------------------------

SAMPLE_TREE = [
    ("course", "course", "openlms Sample Course"),
    ("chapter", "getting_started", "Getting Started"),
    ("sequential", "welcome", "Welcome"),
    ("vertical", "welcome_unit", "Welcome to the course"),
    ("html", "welcome_text", "Welcome"),
    ("video", "welcome_video", "Welcome video"),
    ("discussion", "introductions", "Introduce yourself"),
    ("vertical", "choose_track", "Your track"),
    ("html", "track_intro", "About tracks"),
    ("html", "track_science", "Science track"),
    ("html", "track_engineering", "Engineering track"),
    ("chapter", "week_1", "Week 1: Orders of Magnitude"),
    ("sequential", "lesson_1", "Lesson 1: Estimating"),
    ("vertical", "estimating_unit", "Estimating"),
    ("html", "estimating_text", "How to estimate"),
    ("problem", "practice_estimate", "Practice: seconds in a day"),
    ("vertical", "staff_notes", "Notes for course staff"),
    ("html", "answer_key", "Answer key"),
    ("sequential", "homework_1", "Homework 1"),
    ("vertical", "homework_1_unit", "Homework 1 problems"),
    ("problem", "largest_planet", "Largest planet"),
    ("problem", "light_second", "One light second"),
]


def test_sample_course_tree_in_document_order(app, db):
    result = import_sample(db)
    assert (result.course_key, result.block_count, result.asset_count) == (SAMPLE_KEY, 22, 2)
    blocks = blocks_of(db, result.course)
    assert [(b.block_type, b.block_id, b.display_name) for b in blocks.values()] == SAMPLE_TREE
    assert [b.position for b in blocks.values()] == list(range(22))
    assert all(b.usage_key == key(b.block_type, b.block_id) for b in blocks.values())
    assert blocks[key("course", "course")].children == [
        key("chapter", "getting_started"), key("chapter", "week_1")]
    assert blocks[key("sequential", "lesson_1")].children == [
        key("vertical", "estimating_unit"), key("vertical", "staff_notes")]
    assert blocks[key("vertical", "welcome_unit")].children == [
        key("html", "welcome_text"), key("video", "welcome_video"),
        key("discussion", "introductions")]
    assert blocks[key("html", "answer_key")].children == []


def test_sample_course_fields_and_content(app, db):
    blocks = blocks_of(db, import_sample(db).course)
    homework = blocks[key("sequential", "homework_1")]
    assert homework.fields == {"graded": True, "format": "Homework",
                               "due": "2030-06-30T23:59:00+00:00"}
    assert blocks[key("sequential", "lesson_1")].fields == {}
    assert blocks[key("vertical", "staff_notes")].fields == {"visible_to_staff_only": True}
    assert blocks[key("html", "track_science")].fields == {"group_access": {"1000": [1]}}
    assert blocks[key("html", "track_engineering")].fields == {"group_access": {"1000": [2]}}
    # html: the xml+html pair (body read verbatim), and an inline definition
    welcome = blocks[key("html", "welcome_text")]
    assert welcome.data == {"html": (SAMPLE_COURSE_DIR / "html/welcome_text.html").read_text()}
    assert welcome.fields == {}  # "filename" is export bookkeeping
    inline = blocks[key("html", "track_intro")].data["html"]
    assert "<p>This course has two tracks." in inline and "<html" not in inline
    # problems: raw XML, markdown apart, settings decoded
    planet = blocks[key("problem", "largest_planet")]
    assert planet.fields == {"max_attempts": 2, "weight": 1.0, "showanswer": "finished"}
    assert planet.data["xml"].startswith('<problem display_name="Largest planet"')
    assert '<choice correct="true">Jupiter</choice>' in planet.data["xml"]
    assert planet.data["markdown"].startswith(
        ">>Which planet of the solar system is the largest?<<\n")
    light = blocks[key("problem", "light_second")]
    assert '<numericalresponse answer="299792">' in light.data["xml"]
    assert "markdown" not in light.data
    video = blocks[key("video", "welcome_video")]
    assert video.data == {"youtube_id_1_0": "3_yD_cEKoCk", "html5_sources": [],
                          "transcripts": {}, "only_on_web": False}
    assert video.fields == {"download_video": False, "show_captions": True}
    assert blocks[key("discussion", "introductions")].fields == {
        "discussion_category": "Getting Started", "discussion_target": "Introductions",
        "discussion_id": "openlms-sample-introductions"}
    course_block = blocks[key("course", "course")]
    assert course_block.fields["start"] == "2026-01-05T00:00:00+00:00"
    assert course_block.fields["user_partitions"][0]["id"] == 1000


def test_sample_course_overview_settings_and_assets(app, db):
    import_sample(db)
    course = db.scalar(select(Course))
    assert (course.course_key, course.org, course.number, course.run) == (
        SAMPLE_KEY, "OpenLMS", "Sample", "2026")
    assert course.display_name == "openlms Sample Course"
    assert course.start == datetime(2026, 1, 5, tzinfo=timezone.utc)
    assert course.end is None and course.enrollment_start is None
    assert (course.language, course.course_image, course.banner_image) == (
        "en", "images_course_image.png", "images_course_image.png")
    assert (course.display_org, course.display_number) == ("openlms", None)
    assert (course.mobile_available, course.self_paced, course.invitation_only) == (
        True, False, False)
    assert (course.catalog_visibility, course.course_visibility) == ("both", "private")
    assert course.overview == (SAMPLE_COURSE_DIR / "about/overview.html").read_text()
    assert course.short_description == "Learn to estimate anything to within a factor of ten."
    assert course.effort == "1 hour per week"
    assert course.handouts_html == (
        '<ol><li><a href="/static/syllabus.txt">Syllabus</a></li></ol>\n')
    assert course.updates_html.startswith("<ol><li><h2>January 5, 2026</h2>")
    assert course.grading_policy == {
        "GRADER": [{"type": "Homework", "short_label": "HW", "min_count": 1,
                    "drop_count": 0, "weight": 1.0}],
        "GRADE_CUTOFFS": {"Pass": 0.6}}
    settings = course.settings
    assert settings["about"] == {"subtitle": None}  # empty about file → None
    assert settings["wiki_slug"] == "OpenLMS.Sample.2026"
    assert [tab["type"] for tab in settings["tabs"]] == [
        "course_info", "courseware", "progress", "dates", "discussion"]
    assert settings["discussion_topics"] == {"General": {"id": "course"}}
    assert settings["user_partitions"][0]["groups"] == [
        {"id": 1, "name": "Science", "version": 1}, {"id": 2, "name": "Engineering", "version": 1}]
    assert settings["certificates_display_behavior"] == "early_no_info"
    assert settings["show_calculator"] is True
    assert not {"display_name", "start", "language", "course_image"} & set(settings)
    assets = db.execute(select(Asset.name, Asset.content_type, Asset.locked, Asset.content)
                        .order_by(Asset.name)).all()
    png = (SAMPLE_COURSE_DIR / "static/images/course_image.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert assets == [
        ("images_course_image.png", "image/png", False, png),
        ("syllabus.txt", "text/plain", True,
         (SAMPLE_COURSE_DIR / "static/syllabus.txt").read_bytes()),
    ]
    assert db.scalar(select(Organization.short_name)) == "OpenLMS"


def test_sample_course_access_rules(app, db):
    course = import_sample(db).course
    structure = api.get_structure(app.registry, db, course)
    assert structure.root == key("course", "course")
    assert len(structure.blocks) == 22
    learner = UserContext(user=create_user(db, "learner"), now=utcnow())
    seen = visible_blocks(structure, course, learner)
    assert key("vertical", "staff_notes") not in seen and key("html", "answer_key") not in seen
    assert key("html", "track_science") not in seen  # not in a content group
    assert key("problem", "light_second") in seen
    assert structure.blocks[key("problem", "light_second")].get("due") == datetime(
        2030, 6, 30, 23, 59, tzinfo=timezone.utc)
    learner.groups = {1000: 1}
    seen = visible_blocks(structure, course, learner)
    assert key("html", "track_science") in seen and key("html", "track_engineering") not in seen


def test_archive_imports_like_the_folder(app, db, tmp_path):
    archive = tar_directory(SAMPLE_COURSE_DIR, tmp_path / "sample.tar.gz")
    from_archive = import_sample(db, archive)
    first = [(b.usage_key, b.children, b.fields, b.data)
             for b in blocks_of(db, from_archive.course).values()]
    from_folder = import_sample(db)
    second = [(b.usage_key, b.children, b.fields, b.data)
              for b in blocks_of(db, from_folder.course).values()]
    assert first == second and len(first) == 22


def test_course_key_override(app, db):
    other = "course-v1:Other+Copy+2027"
    result = import_sample(db, course_key=other)
    assert result.course_key == other
    blocks = blocks_of(db, result.course)
    assert key("problem", "light_second", other) in blocks
    assert db.scalar(select(Course.course_key)) == other
    assert db.scalar(select(Organization.short_name)) == "Other"
    with pytest.raises(OLXError, match=r"--course-key: 'nope' is not a valid course-v1 course key"):
        import_course(db, SAMPLE_COURSE_DIR, course_key="nope")


# -- the real Open edX test course ------------------------------------------------------

TEST_KEY = "course-v1:TestX+Course+1"
TEST_COUNTS = {
    "vertical": 28, "problem": 19, "html": 17, "sequential": 3, "video": 3, "chapter": 2,
    "library_content": 2, "split_test": 2, "course": 1, "annotatable": 1, "done": 1,
    "edx_sga": 1, "google-calendar": 1, "google-document": 1, "lti": 1, "lti_consumer": 1,
    "library_sourced": 1, "poll": 1, "rate": 1, "scorm": 1, "survey": 1,
}


@pytest.fixture
def test_course():
    path = find_test_course()
    if path is None:
        pytest.skip("the shared Open edX test course export is not available")
    return path


def tkey(block_type, block_id):
    return key(block_type, block_id, TEST_KEY)


def test_openedx_test_course_blocks(app, db, test_course):
    result = import_sample(db, test_course)
    assert (result.course_key, result.block_count, result.asset_count) == (TEST_KEY, 89, 1)
    blocks = blocks_of(db, result.course)
    assert Counter(b.block_type for b in blocks.values()) == TEST_COUNTS
    root = blocks[tkey("course", "course")]
    assert root.position == 0 and root.display_name == "Open edX Test Course"
    assert root.children == [tkey("chapter", "46e3a4903a8a4921a35bcde7fcde9b0f"),
                             tkey("chapter", "95fb18c69516483e9dabef359c5bd381")]
    # orphans and drafts are not imported
    assert tkey("conditional", "f8ab9cd0fad04f608b06f90a73592479") not in blocks
    assert tkey("vertical", "47b6b8c202854d828d14704948446e7e") not in blocks
    assert tkey("html", "64d679c316c14de78b24f926ff38d3b3") not in blocks
    assert blocks[tkey("sequential", "293eb66432aa467585816f59629afb82")].children == [
        tkey("vertical", v) for v in ("71f98b1fbcb848cca4e075f6ae194cfd",
                                      "c1c8c1d6cc4441648d7f807aa3f774a6",
                                      "ce50e055bb294aeeb9ee52f32591efbe",
                                      "c04065cb9afe4a5c94affa80abb9b622")]
    assert len(blocks[tkey("sequential", "150d38f114ac4998a2b55f5c77ba01b3")].children) == 17
    # every stored block is reachable from the root
    structure = api.get_structure(app.registry, db, result.course)
    assert len(structure.blocks) == 89


def test_openedx_test_course_split_test_and_library_content(app, db, test_course):
    blocks = blocks_of(db, import_sample(db, test_course).course)
    split = blocks[tkey("split_test", "17c9c74e7f4f4af887d3611bee41337b")]
    assert split.display_name == "Content Experiment - Question that relates to video"
    assert split.fields == {
        "user_partition_id": 1617092182,
        "group_id_to_child": {
            "1510747468": tkey("vertical", "9ddfbdb864b64d65a78b6b55a4e42490"),
            "1299116708": tkey("vertical", "ca4b73c26a0b467fbdc08352b694f0d5"),
            "1203097969": tkey("vertical", "37c4cdabe1224273a41f3977d84a8981"),
        }}
    assert split.children == list(split.fields["group_id_to_child"].values())
    library = blocks[tkey("library_content", "b940ac754160478188dd7e7358061e0c")]
    assert library.fields == {"capa_type": "choiceresponse", "max_count": 2,
                              "source_library_id": "library-v1:TestX+ProblemBank",
                              "source_library_version": "6286b19872d204109f1e483c"}
    assert len(library.children) == 4
    copied = blocks[library.children[0]]
    assert copied.display_name is None and "<choiceresponse>" in copied.data["xml"]


def test_openedx_test_course_leaves(app, db, test_course):
    blocks = blocks_of(db, import_sample(db, test_course).course)
    # pure XBlocks written inline with xblock-family: kept, all fields at defaults
    for block_type, block_id in [("done", "fba1965990764842bd555eb5c82b371d"),
                                 ("edx_sga", "ad208e0a41ab48118d47d07aa52cf93b"),
                                 ("scorm", "73ac74b0ec6743f7b4f86c3cc24f4ac7")]:
        block = blocks[tkey(block_type, block_id)]
        assert block.fields == {} and block.children == []
        assert block.data == {"olx": f'<{block_type} url_name="{block_id}" />'}
    assert blocks[tkey("lti", "68db40c5640942b88d90b4261410f7b0")].data == {"olx": "<lti/>"}
    annotatable = blocks[tkey("annotatable", "5f3526e63fab40088f652ec038879c54")]
    assert annotatable.children == []
    assert annotatable.data["olx"].startswith("<annotatable>\n  <instructions>")
    readme = blocks[tkey("html", "d805819821e249e8a9ead66d7a5f9103")]
    assert readme.display_name is None
    assert readme.data["html"].startswith(
        "<h3>Welcome</h3>\n<p>Welcome to the Open edX Test Course.")
    restricted = blocks[tkey("html", "3dcd11a570a84df59d3157824268b02c")]
    assert restricted.display_name == "Group (X|Z) Test"
    assert restricted.fields == {"group_access": {"2084052488": [597655586, 1255884249]}}
    assert sum(1 for b in blocks.values() if "group_access" in b.fields) == 6
    video = blocks[tkey("video", "b56f0c7436894d67ad452d79dda6fb4c")]
    assert video.display_name == "Video for Group 1A"
    assert video.data == {"youtube_id_1_0": "3_yD_cEKoCk", "html5_sources": [],
                          "transcripts": {}, "edx_video_id": "fb2d0c33-9d0b-4735-83f9-b8c1b71ad1bb",
                          "duration": 0.0, "only_on_web": False}
    assert video.fields == {}
    problem = blocks[tkey("problem", "28378a09af53410ba03ed072863488a4")]
    assert problem.display_name == "Question accompanying video "  # trailing space kept
    assert problem.data["markdown"].startswith(">>Which video were you shown? <<")
    problems = Counter(next(tag for tag in ("choiceresponse", "multiplechoiceresponse",
                                            "optionresponse") if f"<{tag}" in b.data["xml"])
                       for b in blocks.values() if b.block_type == "problem")
    assert problems == {"choiceresponse": 8, "multiplechoiceresponse": 7, "optionresponse": 4}


def test_openedx_test_course_overview(app, db, test_course):
    import_sample(db, test_course)
    course = db.scalar(select(Course))
    assert course.display_name == "Open edX Test Course"
    assert course.start == datetime(2022, 4, 9, tzinfo=timezone.utc)
    assert (course.course_image, course.language) == ("images_course_image.jpg", "en")
    assert course.overview.startswith("<section class=\"about\">\n  <h2>Welcome to the Advanced")
    assert len(course.overview) == 1174
    assert course.short_description is None and course.effort is None
    assert course.handouts_html == "<ol></ol>" and course.updates_html == "<ol></ol>"
    assert [g["type"] for g in course.grading_policy["GRADER"]] == [
        "Homework", "Lab", "Midterm Exam", "Final Exam"]
    assert course.grading_policy["GRADE_CUTOFFS"] == {"Pass": 0.5}
    settings = course.settings
    assert settings["about"]["entrance_exam_minimum_score_pct"] == "50"
    assert settings["about"]["title"] is None and settings["about"]["description"] is None
    assert [p["id"] for p in settings["user_partitions"]] == [1617092182, 2084052488]
    assert settings["discussion_topics"] == {"General": {"id": "course"}}  # from policy.json
    assert len(settings["tabs"]) == 7
    assert "staffgradedxblock" in settings["advanced_modules"]
    assert settings["instructor_info"] == {"instructors": []}
    assert settings["wiki_slug"] == "TestX.Course.1"
    assert "xml_attributes" not in settings
    [asset] = db.execute(select(Asset.name, Asset.content_type, Asset.locked)).all()
    assert asset == ("Screenshot_2022-05-17_12-45-12.png", "image/png", False)


# -- OLX rules on small exports -----------------------------------------------------------

def test_policy_wins_over_xml_attributes(app, db, tmp_path):
    root = minimal_course(tmp_path / "c", '<chapter url_name="ch"/>', extra={
        "chapter/ch.xml": '<chapter display_name="From XML" start="2030-01-01T00:00:00">'
                          '<sequential url_name="s1" display_name="Inline" graded="false"/>'
                          '</chapter>',
        "policies/R/policy.json": """{
            "course/R": {"display_name": "From policy", "self_paced": true,
                         "xml_attributes": {"filename": ["course/R.xml"]}},
            "chapter/ch": {"display_name": "Chapter from policy"},
            "sequential/s1": {"graded": true, "due": "2031-02-03T04:05:06Z",
                              "format": "Homework"}
        }""",
    }, attributes=' start="2020-01-01T00:00:00Z"')
    result = import_sample(db, root)
    blocks = blocks_of(db, result.course)
    chapter = blocks[key("chapter", "ch", "course-v1:T+C+R")]
    assert chapter.display_name == "Chapter from policy"
    assert chapter.fields == {"start": "2030-01-01T00:00:00+00:00"}  # naive = UTC
    sequential = blocks[key("sequential", "s1", "course-v1:T+C+R")]
    assert sequential.display_name == "Inline"
    assert sequential.fields == {"graded": True, "format": "Homework",
                                 "due": "2031-02-03T04:05:06+00:00"}
    assert result.course.display_name == "From policy" and result.course.self_paced is True
    assert "xml_attributes" not in result.course.settings


def test_pointer_and_inline_rules(app, db, tmp_path):
    root = minimal_course(tmp_path / "c", '<chapter url_name="ch"/>', extra={
        "chapter/ch.xml": """<chapter display_name="Chapter">
            <vertical url_name="week1:unit1"/>
            <vertical display_name="No id">
              <html>Plain <b>inline</b> body</html>
              <problem display_name="Inline problem"><optionresponse/></problem>
            </vertical>
            <wiki slug="ignored"/>
          </chapter>""",
        # ":" in url_name → "/" in the path
        "vertical/week1/unit1.xml": """<vertical display_name="Unit 1">
            <my_container url_name="box" max_items="3" label="2024">
              <html url_name="in_box" filename="box_body"/>
              <custom_leaf url_name="leaf" xblock-family="xblock.v1" enabled="true"/>
            </my_container>
            <openassessment url_name="ora" title="Essay">
              <prompts><prompt>Why?</prompt></prompts>
            </openassessment>
          </vertical>""",
        "html/box_body.html": "<p>body file</p>",
    })
    blocks = list(blocks_of(db, import_sample(db, root).course).values())
    types = [(b.block_type, b.block_id) for b in blocks]
    generated = [b for b in blocks if b.block_id not in ("course", "ch", "week1:unit1", "box",
                                                          "in_box", "leaf", "ora")]
    assert types[:4] == [("course", "course"), ("chapter", "ch"), ("vertical", "week1:unit1"),
                         ("my_container", "box")]
    assert [b.block_type for b in generated] == ["vertical", "html", "problem"]
    assert all(len(b.block_id) == 20 for b in generated)
    by_id = {b.block_id: b for b in blocks}
    assert by_id["box"].fields == {"max_items": 3, "label": 2024}
    assert by_id["box"].children == [key("html", "in_box", "course-v1:T+C+R"),
                                     key("custom_leaf", "leaf", "course-v1:T+C+R")]
    assert by_id["in_box"].data == {"html": "<p>body file</p>"}
    assert by_id["leaf"].fields == {"enabled": True}
    assert by_id["leaf"].data == {"olx": '<custom_leaf url_name="leaf" enabled="true" />'}
    assert by_id["ora"].children == []
    assert by_id["ora"].fields == {"title": "Essay"}
    assert "<prompt>Why?</prompt>" in by_id["ora"].data["olx"]
    assert generated[1].data == {"html": "Plain <b>inline</b> body"}
    assert generated[2].data["xml"] == ('<problem display_name="Inline problem">'
                                        "<optionresponse /></problem>")
    # the same export imports to the same ids (generated ids are stable)
    again = blocks_of(db, import_sample(db, root).course)
    assert sorted(b.block_id for b in again.values()) == sorted(b.block_id for b in blocks)


def test_shared_block_is_stored_once(app, db, tmp_path):
    root = minimal_course(tmp_path / "c", '<chapter url_name="a"/><chapter url_name="b"/>', extra={
        "chapter/a.xml": '<chapter><vertical url_name="shared"/></chapter>',
        "chapter/b.xml": '<chapter><vertical url_name="shared"/></chapter>',
        "vertical/shared.xml": '<vertical display_name="Shared"/>',
    })
    result = import_sample(db, root)
    assert result.block_count == 4
    structure = api.get_structure(app.registry, db, result.course)
    shared = structure.blocks[key("vertical", "shared", "course-v1:T+C+R")]
    assert len(shared.parents) == 2


@pytest.mark.parametrize("files, message", [
    ({"chapter/ch.xml": '<chapter><vertical url_name="missing"/></chapter>'},
     ("chapter/ch.xml: <vertical url_name='missing'> points at vertical/missing.xml, "
      "which does not exist")),
    ({"chapter/ch.xml": '<chapter><vertical url_name="v"/></chapter>',
      "vertical/v.xml": "<vertical><html url_name='x'></vertical>"},
     "vertical/v.xml: malformed XML (mismatched tag: line 1, column 31)"),
    ({"chapter/ch.xml": '<chapter><vertical url_name="v"/></chapter>',
      "vertical/v.xml": '<sequential/>'},
     "vertical/v.xml: the root element is <sequential>, expected <vertical>"),
    ({"chapter/ch.xml": '<chapter><vertical url_name="loop"/></chapter>',
      "vertical/loop.xml": '<vertical><vertical url_name="loop"/></vertical>'},
     "vertical/loop.xml: <vertical> 'loop' contains itself"),
    ({"chapter/ch.xml": '<chapter><vertical url_name="..:..:etc"/></chapter>'},
     "chapter/ch.xml: <vertical> has an invalid url_name '..:..:etc'"),
    ({"chapter/ch.xml": '<chapter><html url_name="h" filename="nope"/></chapter>'},
     "chapter/ch.xml: the html body html/nope.html does not exist"),
    ({"chapter/ch.xml": '<chapter><html url_name="h" filename="..:secret"/></chapter>'},
     "chapter/ch.xml: invalid html filename '..:secret'"),
    ({"chapter/ch.xml": '<chapter/>', "policies/R/policy.json": "{not json"},
     "policies/R/policy.json: malformed JSON"),
    ({"chapter/ch.xml": '<chapter/>', "about/overview.html": b"\xff\xfe bad"},
     "about/overview.html: not UTF-8 text"),
    ({"chapter/ch.xml": '<chapter><html url_name="bad id"/></chapter>'},
     "chapter/ch.xml: <html> has an invalid url_name 'bad id'"),
    ({"chapter/ch.xml": '<chapter><x:tag xmlns:x="urn:a" url_name="q"/></chapter>'},
     "chapter/ch.xml: <{urn:a}tag> is not a valid block type"),
])
def test_invalid_exports_are_refused_clearly(app, db, tmp_path, files, message):
    root = minimal_course(tmp_path / "c", '<chapter url_name="ch"/>', extra=files)
    with pytest.raises(OLXError) as error:
        import_course(db, root)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
    db.rollback()
    assert course_state(db)["courses"] == []


def test_course_xml_problems(app, db, tmp_path):
    write_files(tmp_path / "a", {"course.xml": '<course url_name="R" org="T"/>'})
    with pytest.raises(OLXError, match="course.xml: the <course> element needs org, course "
                                       "and url_name"):
        import_course(db, tmp_path / "a")
    write_files(tmp_path / "b", {"course.xml": '<chapter/>'})
    with pytest.raises(OLXError, match=r"course.xml: the root element is <chapter>"):
        import_course(db, tmp_path / "b")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OLXError, match="no course.xml at the top or in a top-level folder"):
        import_course(db, tmp_path / "empty")
    with pytest.raises(OLXError, match="no such file or folder"):
        import_course(db, tmp_path / "nothing-here")
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(OLXError, match="not a folder or a tar archive"):
        import_course(db, tmp_path / "plain.txt")


def test_inline_course_xml(app, db, tmp_path):
    """Old exports define the course in course.xml itself."""
    root = write_files(tmp_path / "c", {
        "course.xml": '<course url_name="R" org="T" course="C" display_name="Inline">'
                      '<chapter url_name="c1" display_name="One"/></course>'})
    result = import_sample(db, root)
    assert result.course.display_name == "Inline" and result.block_count == 2


def test_too_many_blocks(app, db, tmp_path):
    root = minimal_course(tmp_path / "c", "<chapter/>" * 5)
    with pytest.raises(OLXError, match=r"more than 3 blocks \(setting courses.import_max_blocks\)"):
        import_course(db, root, limits=ImportLimits(max_blocks=3))


# -- re-import and failures ---------------------------------------------------------------

def test_reimport_replaces_atomically(app, db, tmp_path):
    first = import_sample(db)
    course_id, old_version = first.course.id, first.version
    cache = app.registry[api.STRUCTURE_CACHE_KEY]
    assert len(api.get_structure(app.registry, db, first.course).blocks) == 22
    changed = copy_sample(tmp_path)
    (changed / "course/2026.xml").write_text(
        (changed / "course/2026.xml").read_text()
        .replace('display_name="openlms Sample Course"', 'display_name="Renamed"')
        .replace('<chapter url_name="week_1"/>', ""))
    (changed / "policies/2026/policy.json").write_text(
        (changed / "policies/2026/policy.json").read_text().replace(
            '"display_name": "openlms Sample Course",', ""))
    (changed / "static/syllabus.txt").unlink()
    second = import_sample(db, changed)
    assert second.course.id == course_id and second.version != old_version
    assert second.block_count == 11
    db.expire_all()
    assert db.scalar(select(func.count(Course.id))) == 1
    assert db.scalar(select(Course.display_name)) == "Renamed"
    assert db.scalar(select(func.count(Block.id)).where(Block.version == old_version)) == 0
    assert db.scalar(select(func.count(Block.id))) == 11
    assert key("problem", "light_second") not in blocks_of(db, second.course)
    assert db.scalars(select(Asset.name)).all() == ["images_course_image.png"]
    course = api.get_course(db, SAMPLE_KEY)
    assert len(api.get_structure(app.registry, db, course).blocks) == 11
    assert cache.builds == 2


def test_failed_reimport_changes_nothing(app, db, tmp_path):
    import_sample(db)
    before = course_state(db)
    broken = copy_sample(tmp_path)
    # bad XML in a block read late in the walk (the last problem of the course)
    (broken / "problem/light_second.xml").write_text("<problem><numericalresponse></problem>")
    (broken / "course/2026.xml").write_text(
        (broken / "course/2026.xml").read_text().replace("openlms Sample Course", "Changed"))
    with pytest.raises(OLXError, match=r"^problem/light_second.xml: malformed XML"):
        import_course(db, broken)
    db.rollback()
    assert course_state(db) == before
    assert before["blocks"] == 22 and len(before["block_versions"]) == 1


def test_failed_store_rolls_back(app, db, tmp_path, monkeypatch):
    """A database error while storing (after reading succeeded) leaves the old course."""
    import_sample(db)
    before = course_state(db)
    store = api.store_course

    def store_then_fail(db, *args):
        store(db, *args)
        raise RuntimeError("disk full")

    monkeypatch.setattr(api, "store_course", store_then_fail)
    with pytest.raises(RuntimeError):
        import_course(db, SAMPLE_COURSE_DIR)
    db.rollback()
    assert course_state(db) == before


def test_column_values_are_checked(app, db, tmp_path):
    long_effort = minimal_course(tmp_path / "a", extra={"about/effort.html": "e" * 300})
    with pytest.raises(OLXError, match="the course's effort is longer than 255 characters"):
        import_course(db, long_effort)
    listed_name = minimal_course(tmp_path / "b", extra={
        "policies/R/policy.json": '{"course/R": {"display_name": ["a", "b"]}}'})
    with pytest.raises(OLXError, match="the course's display_name must be text, not list"):
        import_course(db, listed_name)
    long_block_name = minimal_course(tmp_path / "c", f'<chapter display_name="{"n" * 1025}"/>')
    with pytest.raises(OLXError, match=r"course/R.xml: the display_name of <chapter> "
                                       r"'[0-9a-f]{20}' is longer than 1024 characters"):
        import_course(db, long_block_name)
    db.rollback()
    assert course_state(db)["courses"] == []
    # Python-style booleans and numbers where text is expected
    mixed = minimal_course(tmp_path / "d", attributes=' self_paced="True" invitation_only="False"'
                                                      ' display_coursenumber="101"')
    course = import_sample(db, mixed).course
    assert (course.self_paced, course.invitation_only, course.display_number) == (
        True, False, "101")


def test_key_override_maps_old_references(app, db, test_course):
    other = "course-v1:Copy+Of+Test"
    blocks = blocks_of(db, import_sample(db, test_course, course_key=other).course)
    split = blocks[key("split_test", "ae94e062721248639bd1543e77d9a0bd", other)]
    assert split.fields["group_id_to_child"]["1510747468"] == key(
        "vertical", "9544970dc23644abb0d5f67e7d7c969a", other)
    assert all(k.startswith("block-v1:Copy+Of+Test+type@") for k in blocks)
