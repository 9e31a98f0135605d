"""``/api/courses/v1|v2/block_metadata/{usage_key}``: course staff only."""
import json

import pytest

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from plugins.courses.api import store_course
from tests.plugins.courses.factories import DEMO_KEY, PAST, Node, flatten, make_course, usage_key

V1, V2 = "/api/courses/v1/block_metadata/", "/api/courses/v2/block_metadata/"


def key(block_type, block_id):
    return usage_key(DEMO_KEY, block_type, block_id)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


@pytest.fixture
def course(db):
    return make_course(db)


def get(app, path, user=None, status=200, **params):
    headers = jwt_headers(app, user) if user is not None else {}
    return app.get(path, params, headers=headers, status=status)


def test_html_index_dictionary(app, course, staff):
    intro = key("html", "intro")
    assert get(app, V1 + intro, staff, include="index_dictionary").json == {
        "id": intro, "type": "html",
        "index_dictionary": {"content": {"html_content": "Hello learners", "display_name": "Intro"},
                             "content_type": "Text"}}


def test_without_include_only_id_and_type(app, course, staff):
    intro = key("html", "intro")
    assert get(app, V1 + intro, staff).json == {"id": intro, "type": "html"}
    assert get(app, V1 + intro, staff, include="children,student_view_data").json == {
        "id": intro, "type": "html"}


def test_v2_and_trailing_slash_are_the_same(app, course, staff):
    quiz = key("problem", "quiz")
    expected = get(app, V1 + quiz, staff, include="index_dictionary").json
    assert expected["index_dictionary"]["content_type"] == "CAPA"
    assert get(app, V2 + quiz, staff, include="index_dictionary").json == expected
    assert get(app, V2 + quiz + "/", staff, include="index_dictionary").json == expected
    assert get(app, V1 + quiz + "/", staff, include="index_dictionary").json == expected


def test_text_extraction_of_html_problem_and_containers(app, db, staff):
    problem_xml = (
        '<problem><p>Pick  one</p>\n<optionresponse><optioninput options="(\'A\',\'B\')" '
        'correct="A"></optioninput></optionresponse>'
        '<choiceresponse><checkboxgroup/></choiceresponse>'
        '<solution><p>secret</p></solution><script>var x;</script>'
        '<demandhint><hint>nope</hint></demandhint></problem>')
    make_course(db, Node("course", "course", display_name="C", children=[
        Node("vertical", "v", display_name="Unit", children=[
            Node("html", "h", data={"html": "<style>p{}</style><p>A&amp;B&nbsp;c</p>"
                                            "<!-- note --><script>x()</script> <i>d</i>"}),
            Node("problem", "p", data={"xml": problem_xml}),
            Node("discussion", "d"),
        ])]))
    body = get(app, V1 + key("html", "h"), staff, include="index_dictionary").json
    # No display_name: the html field default; entities decoded, runs of spaces joined.
    assert body["index_dictionary"] == {
        "content": {"html_content": "A&B c d", "display_name": "Text"}, "content_type": "Text"}
    body = get(app, V1 + key("problem", "p"), staff, include="index_dictionary").json
    assert body["index_dictionary"] == {
        "content": {"capa_content": "Pick one 'A','B'", "display_name": "Blank Problem"},
        "content_type": "CAPA", "problem_types": ["choiceresponse", "optionresponse"]}
    assert get(app, V1 + key("vertical", "v"), staff, include="index_dictionary").json[
        "index_dictionary"] == {"content": {"display_name": "Unit"}, "content_type": "Sequence"}
    assert get(app, V1 + key("discussion", "d"), staff, include="index_dictionary").json[
        "index_dictionary"] == {}


def test_video_index_dictionary_reads_transcript_files(app, db, staff):
    tree = Node("course", "course", display_name="C", children=[
        Node("video", "v", display_name="Clip", sub="abc",
             data={"transcripts": {"fr": "clip-fr.srt"}})])
    sjson = json.dumps({"start": [0, 10], "end": [5, 15], "text": ["Hello", "", "world &amp; all"]})
    srt = "1\n00:00:00,000 --> 00:00:05,000\nBonjour\nle monde\n\n2\n00:00:05,000 --> 00:00:06,000\nSalut\n"
    store_course(db, DEMO_KEY, {"display_name": "C", "start": PAST}, flatten(DEMO_KEY, tree),
                 assets=[{"name": "subs_abc.srt.sjson", "content": sjson.encode()},
                         {"name": "clip-fr.srt", "content": srt.encode()}])
    db.commit()
    body = get(app, V1 + key("video", "v"), staff, include="index_dictionary").json
    assert body == {"id": key("video", "v"), "type": "video", "index_dictionary": {
        "content": {"display_name": "Clip", "transcript_en": "Hello world & all",
                    "transcript_fr": "Bonjour le monde Salut"},
        "content_type": "Video"}}


def test_orphans_have_metadata_too(app, db, staff):
    course = make_course(db)
    from plugins.courses.models import Block
    db.add(Block(course_id=course.id, course_key=DEMO_KEY, version=course.version,
                 usage_key=key("html", "orphan"), block_type="html", block_id="orphan",
                 position=99, display_name="Lost", children=[], fields={},
                 data={"html": "<p>lost</p>"}))
    db.commit()
    assert get(app, V1 + key("html", "orphan"), staff).json == {
        "id": key("html", "orphan"), "type": "html"}


def test_anonymous_and_learners_are_403(app, db, course):
    intro = key("html", "intro")
    message = {"developer_message": f"You do not have permission to access block '{intro}'."}
    assert get(app, V1 + intro, status=403).json == message
    learner = create_user(db, "learner", password=None)
    assert get(app, V1 + intro, learner, status=403).json == message
    # Beta testers and other roles are not staff.
    grant_role(db, learner, "beta_testers", parse_course_key(DEMO_KEY))
    db.commit()
    assert get(app, V1 + intro, learner, status=403).json == message


def test_course_staff_and_instructors_may_read(app, db, course):
    intro = key("html", "intro")
    for role in ("staff", "instructor"):
        member = create_user(db, f"member_{role}", password=None)
        grant_role(db, member, role, parse_course_key(DEMO_KEY))
        db.commit()
        assert get(app, V1 + intro, member).json == {"id": intro, "type": "html"}
    org_staff = create_user(db, "orgstaff", password=None)
    grant_role(db, org_staff, "staff", org="edX")
    db.commit()
    assert get(app, V2 + intro, org_staff).json == {"id": intro, "type": "html"}


def test_invalid_key_is_400(app, course, staff):
    assert get(app, V1 + "not-a-key", staff, status=400).json == {
        "developer_message": "'not-a-key' is not a valid usage key."}
    # Anonymous callers get the same 400 (the key is checked first).
    assert get(app, V2 + "block-v1:x", status=400).json == {
        "developer_message": "'block-v1:x' is not a valid usage key."}


def test_unknown_blocks_and_courses(app, db, course, staff):
    missing = key("html", "missing")
    assert get(app, V1 + missing, staff, status=404).json == {
        "developer_message": f"Block not found: {missing}"}
    unknown = "block-v1:No+Such+Run+type@html+block@x"
    assert get(app, V1 + unknown, staff, status=404).json == {
        "developer_message": f"Block not found: {unknown}"}
    # Without staff access the permission check answers first.
    assert get(app, V1 + unknown, status=403).json == {
        "developer_message": f"You do not have permission to access block '{unknown}'."}
