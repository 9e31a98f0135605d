"""XBlock v2 API on course blocks, the student views and handler tokens (plugins.courses.render)."""
import re
import time
from urllib.parse import unquote

import pytest

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import TEST_SETTINGS, create_user, jwt_headers
from plugins.courses import render
from plugins.courses.api import store_course
from plugins.courses.structure import BlockNode
from tests.plugins.courses.factories import (
    DEMO_KEY,
    Node,
    flatten,
    make_course,
    usage_key,
)
from tests.plugins.courses.test_outline import learner_data  # noqa: F401  (fixture)

BASE = "/api/xblock/v2/xblocks/"
PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}


@pytest.fixture
def app(app_factory, settings, learner_data):  # noqa: F811
    return app_factory(**settings)


@pytest.fixture
def learner(db):
    return create_user(db, "learner", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


def key(block_type, block_id):
    return usage_key(DEMO_KEY, block_type, block_id)


def headers(app, user):
    return jwt_headers(app, user) if user is not None else {}


def url(block_key, suffix=""):
    return f"{BASE}{block_key}/{suffix}"


def empty_fragment(content, resources=()):
    return {"content": content, "resources": list(resources), "js_init_fn": None,
            "js_init_version": None, "json_init_args": None}


def node(block_type="html", block_id="b", display_name="Block", data=None, fields=None):
    return BlockNode(usage_key=key(block_type, block_id), block_type=block_type,
                     block_id=block_id, display_name=display_name, children=[],
                     fields=fields or {}, data=data or {})


# -- GET .../{usage_key_str}/ ---------------------------------------------------------------

def test_metadata_for_an_enrolled_learner(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    response = app.get(url(key("html", "intro")), headers=headers(app, learner))
    assert response.json == {"block_id": key("html", "intro"), "block_type": "html",
                             "display_name": "Intro"}


def test_metadata_includes(app, db, staff):
    make_course(db)
    body = app.get(url(key("html", "intro")), params={"include": "index_dictionary,other"},
                   headers=headers(app, staff)).json
    assert body == {"block_id": key("html", "intro"), "block_type": "html",
                    "display_name": "Intro",
                    "index_dictionary": {"content": {"html_content": "Hello learners",
                                                     "display_name": "Intro"},
                                         "content_type": "Text"}}
    body = app.get(url(key("video", "welcome")), params={"include": "student_view_data"},
                   headers=headers(app, staff)).json
    assert body["student_view_data"]["encoded_videos"] == {"youtube": {
        "url": "https://www.youtube.com/watch?v=3_yD_cEKoCk", "file_size": 0,
        "stream_priority": 5}}
    body = app.get(url(key("problem", "quiz")),
                   params={"include": "student_view_data,index_dictionary"},
                   headers=headers(app, staff)).json
    assert body == {"block_id": key("problem", "quiz"), "block_type": "problem",
                    "display_name": "Quiz", "student_view_data": None,
                    "index_dictionary": {"content": {"capa_content": "",
                                                     "display_name": "Quiz"},
                                         "content_type": "CAPA",
                                         "problem_types": ["multiplechoiceresponse"]}}


def test_html_student_view_data_follows_the_setting(app_factory, settings, db, staff):
    make_course(db)
    block_url = url(key("html", "intro"))
    params = {"include": "student_view_data"}
    app = app_factory(**settings)
    assert app.get(block_url, params=params, headers=headers(app, staff)).json[
        "student_view_data"] == {
        "enabled": False,
        "message": 'To enable, set FEATURES["ENABLE_HTML_XBLOCK_STUDENT_VIEW_DATA"]'}
    enabled = app_factory(**{**settings, "courses.html_student_view_data": "true"})
    assert enabled.get(block_url, params=params, headers=headers(enabled, staff)).json[
        "student_view_data"] == {"enabled": True, "html": "<p>Hello <b>learners</b></p>"}


def test_display_name_defaults_to_the_block_class_default(app, db, staff):
    make_course(db, Node("course", "course", display_name="Demo Course", children=[
        Node("chapter", "c", children=[Node("problem", "p", data={"xml": "<problem/>"}),
                                       Node("vertical", "v")])]))
    assert app.get(url(key("problem", "p")), headers=headers(app, staff)).json[
        "display_name"] == "Blank Problem"
    assert app.get(url(key("vertical", "v")), headers=headers(app, staff)).json[
        "display_name"] == "vertical"


def test_anonymous_users_see_public_courses_only(app, db):
    make_course(db)
    assert app.get(url(key("html", "intro")), status=403).json == PERMISSION_DENIED
    make_course(db, course_visibility="public")
    assert app.get(url(key("html", "intro"))).json["display_name"] == "Intro"
    # Public or not, unreleased and staff-only content stays hidden.
    assert app.get(url(key("html", "later")), status=403).json == PERMISSION_DENIED
    assert app.get(url(key("html", "secret")), status=403).json == PERMISSION_DENIED


def test_learners_need_an_enrollment_and_a_visible_block(app, db, learner,
                                                         learner_data):  # noqa: F811
    make_course(db)
    assert app.get(url(key("html", "intro")), headers=headers(app, learner),
                   status=403).json == PERMISSION_DENIED
    learner_data.enroll(learner)
    for hidden in (key("html", "secret"), key("html", "later"), key("chapter", "week2")):
        assert app.get(url(hidden), headers=headers(app, learner), status=403).json == \
            PERMISSION_DENIED
        assert app.get(url(hidden, "view/student_view/"), headers=headers(app, learner),
                       status=403).json == PERMISSION_DENIED


def test_course_staff_see_hidden_blocks(app, db, learner):
    make_course(db)
    permissions.grant_role(db, learner, "instructor", parse_course_key(DEMO_KEY))
    db.commit()
    assert app.get(url(key("html", "secret")), headers=headers(app, learner)).json[
        "display_name"] == "Secret"


def test_unknown_blocks_and_bad_keys(app, db, staff):
    make_course(db)
    for unknown in (key("html", "nope"), usage_key("course-v1:A+B+C", "html", "x"),
                    "lb:Org:LIB:html:abc"):
        assert app.get(url(unknown), headers=headers(app, staff), status=404).json == {
            "detail": f"The component '{unknown}' does not exist."}
    assert app.get(url("not-a-key"), headers=headers(app, staff), status=404).json == \
        {"detail": "Not found."}
    assert app.get(url("i4x://edX/Demo/html/intro".replace("/", "%2F")),
                   headers=headers(app, staff), status=404).status_code == 404


# -- GET .../view/{view_name}/ ---------------------------------------------------------------

def test_html_student_view(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    body = app.get(url(key("html", "intro"), "view/student_view/"),
                   headers=headers(app, learner)).json
    assert body == {"block_id": key("html", "intro"), "block_type": "html",
                    "display_name": "Intro", **empty_fragment("<p>Hello <b>learners</b></p>")}


def test_html_is_sanitised(app, db, staff):
    dangerous = ('<p onclick="steal()">Hi<script>alert(1)</script>'
                 '<img src="/static/images/cat.png" onerror="alert(2)">'
                 '<a href="javascript:alert(3)">link</a><a href="https://example.com/x">ok</a>'
                 '<iframe src="https://evil.example"></iframe><style>p{}</style></p>')
    make_course(db, Node("course", "course", display_name="Demo Course", children=[
        Node("html", "bad", display_name="Bad", data={"html": dangerous})]))
    content = app.get(url(key("html", "bad"), "view/student_view/"),
                      headers=headers(app, staff)).json["content"]
    assert content == (
        '<p>Hi<img src="/asset-v1:edX+Demo+2026+type@asset+block@images_cat.png">'
        '<a rel="noopener noreferrer">link</a>'
        '<a href="https://example.com/x" rel="noopener noreferrer">ok</a></p>')
    for forbidden in ("script", "onerror", "onclick", "javascript:", "iframe", "style"):
        assert forbidden not in content


def test_views_other_names_and_fallbacks(app, db, staff):
    make_course(db)
    html_url = url(key("html", "intro"), "view/{}/")
    for view in ("public_view", "author_view"):
        assert app.get(html_url.format(view), headers=headers(app, staff)).json["content"] == \
            "<p>Hello <b>learners</b></p>"
    assert app.get(html_url.format("studio_view"), headers=headers(app, staff),
                   status=404).json == {
        "detail": f"The component '{key('html', 'intro')}' has no view named 'studio_view'."}
    body = app.get(url(key("vertical", "unit1"), "view/student_view/"),
                   headers=headers(app, staff)).json
    assert body == {"block_id": key("vertical", "unit1"), "block_type": "vertical",
                    "display_name": "Unit 1", **empty_fragment(
                        '<div class="xblock xblock-vertical" data-block-type="vertical">'
                        "<p>Unit 1</p></div>")}


def test_video_views(app, db, staff):
    make_course(db, Node("course", "course", display_name="Demo Course", children=[
        Node("video", "yt", display_name="On <YouTube>", data={"youtube_id_1_0": "abc-123_X"}),
        Node("video", "mp4", display_name="File", download_video=True, data={
            "html5_sources": ["https://cdn.example.com/v.mp4", "javascript:alert(1)",
                              "/static/clip.webm"]}),
        Node("video", "none", data={"youtube_id_1_0": "bad id\"><script>"}),
    ]))
    css = render.resource(render.VIDEO_CSS)
    body = app.get(url(key("video", "yt"), "view/student_view/"),
                   headers=headers(app, staff)).json
    assert body["content"] == (
        '<div class="xblock-video-player" data-block-id="yt">'
        '<h3 class="hd hd-2">On &lt;YouTube&gt;</h3>'
        '<iframe src="https://www.youtube.com/embed/abc-123_X" title="On &lt;YouTube&gt;" '
        'allow="encrypted-media; picture-in-picture" allowfullscreen></iframe></div>')
    assert body["resources"] == [css]
    body = app.get(url(key("video", "mp4"), "view/student_view/"),
                   headers=headers(app, staff)).json
    assert body["content"] == (
        '<div class="xblock-video-player" data-block-id="mp4"><h3 class="hd hd-2">File</h3>'
        '<video controls preload="metadata">'
        '<source src="https://cdn.example.com/v.mp4" type="video/mp4">'
        '<source src="/asset-v1:edX+Demo+2026+type@asset+block@clip.webm" type="video/webm">'
        '</video><a class="video-download-button" href="https://cdn.example.com/v.mp4">'
        'Download video file</a></div>')
    body = app.get(url(key("video", "none"), "view/student_view/"),
                   headers=headers(app, staff)).json
    assert body["display_name"] == "Video"
    assert "<script" not in body["content"] and "iframe" not in body["content"]
    assert "No playable video sources found." in body["content"]


PROBLEM_XML = """<problem display_name="Capitals" markdown="x">
  <p>Answer the questions.</p>
  <multiplechoiceresponse>
    <label>Capital of France?</label>
    <description>Pick one.</description>
    <choicegroup type="MultipleChoice">
      <choice correct="false">Lyon</choice>
      <choice correct="true">Paris <choicehint>Right!</choicehint></choice>
    </choicegroup>
  </multiplechoiceresponse>
  <choiceresponse>
    <checkboxgroup label="Rivers">
      <choice correct="true" name="seine">Seine</choice>
      <choice correct="false">Nile</choice>
    </checkboxgroup>
  </choiceresponse>
  <optionresponse>
    <optioninput options="('red','blue')" correct="blue" label="Color"/>
  </optionresponse>
  <stringresponse answer="Paris" type="ci">
    <additional_answer answer="paris"/>
    <textline size="10" label="Type it"/>
  </stringresponse>
  <script type="loncapa/python">secret = 42</script>
  <solution><div class="detailed-solution"><p>Paris is the capital.</p></div></solution>
  <demandhint><hint>Think of the Eiffel tower.</hint></demandhint>
  <customtag onload="x()">kept text</customtag>
</problem>"""


def test_problem_student_view_renders_inputs_without_answers(app, db, staff):
    make_course(db, Node("course", "course", display_name="Demo Course", children=[
        Node("problem", "capitals", display_name="Capitals", data={"xml": PROBLEM_XML})]))
    body = app.get(url(key("problem", "capitals"), "view/student_view/"),
                   headers=headers(app, staff)).json
    content = body["content"]
    assert body["resources"] == [] and body["display_name"] == "Capitals"
    compact = re.sub(r">\s+<", "><", content)
    assert compact.startswith('<div class="problem" id="problem_capitals">'
                              '<h3 class="hd hd-3 problem-header">Capitals</h3>')
    assert '<p class="problem-group-label">Capital of France?</p>' in compact
    assert '<p class="question-description">Pick one.</p>' in compact
    assert ('<label class="response-label"><input type="radio" name="input_capitals_2_1" '
            'value="choice_0"> Lyon</label>') in compact
    assert ('<input type="radio" name="input_capitals_2_1" value="choice_1"> Paris') in compact
    assert '<legend>Rivers</legend>' in compact
    assert ('<input type="checkbox" name="input_capitals_3_1[]" value="choice_0"> Seine'
            in compact)
    assert ('<select name="input_capitals_4_1" id="input_capitals_4_1">'
            '<option value="option_0_dummy_default">Select an option</option>'
            '<option value="red">red</option><option value="blue">blue</option></select>'
            in compact)
    assert ('<input type="text" name="input_capitals_5_1" id="input_capitals_5_1" size="10">'
            in compact)
    assert "kept text" in compact
    for secret in ("correct", "Right!", "secret = 42", "Eiffel", "Paris is the capital",
                   "<script", "loncapa", "onload", "answer="):
        assert secret not in content


def test_unparsable_problem_renders_a_notice():
    fragment = render.render_problem(node("problem", "p", data={"xml": "<problem><p>"}))
    assert "This problem could not be displayed." in fragment["content"]
    hostile = ('<!DOCTYPE x [<!ENTITY a "aaaa">]><problem>&a;</problem>')
    assert "could not be displayed" in render.render_problem(
        node("problem", "p", data={"xml": hostile}))["content"]


# -- GET .../handler_url/{handler_name}/ ----------------------------------------------------------

HANDLER_RE = re.compile(r"^http://localhost/api/xblock/v2/xblocks/(?P<key>[^/]+)/handler/"
                        r"(?P<user>\w+)-(?P<token>\w+)/(?P<name>[^/]+)/$")


def test_handler_url_for_a_user(app, db, learner, learner_data):  # noqa: F811
    make_course(db)
    learner_data.enroll(learner)
    block = key("problem", "quiz")
    body = app.get(url(block, "handler_url/submit/"), headers=headers(app, learner)).json
    assert list(body) == ["handler_url"]
    match = HANDLER_RE.match(body["handler_url"])
    assert match and unquote(match["key"]) == block and match["name"] == "submit"
    assert match["user"] == str(learner.id)
    assert render.verify_handler_token(app.registry.settings, learner.id, block,
                                       match["token"])
    assert not render.verify_handler_token(app.registry.settings, learner.id + 1, block,
                                           match["token"])


def test_handler_url_for_anonymous_users_and_missing_blocks(app, db):
    # Upstream does not check that the block exists; anonymous users get an "anon" id.
    block = key("html", "does-not-exist")
    body = app.get(url(block, "handler_url/any_handler/")).json
    match = HANDLER_RE.match(body["handler_url"])
    assert match and match["user"].startswith("anon")
    assert render.verify_handler_token(app.registry.settings, match["user"], block,
                                       match["token"])
    assert app.get(url("not-a-key", "handler_url/x/"), status=404).json == \
        {"detail": "Not found."}


def test_handler_tokens_valid_tampered_and_expired():
    settings = dict(TEST_SETTINGS)
    block = key("problem", "quiz")
    now = time.time()
    token = render.handler_token(settings, 7, block, now=now)
    assert render.verify_handler_token(settings, 7, block, token, now=now)
    assert render.verify_handler_token(settings, "7", block, token,
                                       now=now + render.HANDLER_TOKEN_MIN_SECONDS)
    # Expired: more than three days later.
    assert not render.verify_handler_token(settings, 7, block, token, now=now + 3 * 86400 + 1)
    # Tampered: another user, block or secret, a changed expiry or signature.
    assert not render.verify_handler_token(settings, 8, block, token, now=now)
    assert not render.verify_handler_token(settings, 7, key("problem", "other"), token,
                                           now=now)
    assert not render.verify_handler_token({**settings, "lms.secret_key": "other"}, 7, block,
                                           token, now=now)
    expiry, digest = token.split("_")
    later = f"{int(expiry, 16) + 86400:x}_{digest}"
    assert not render.verify_handler_token(settings, 7, block, later, now=now)
    flipped = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    assert not render.verify_handler_token(settings, 7, block, f"{expiry}_{flipped}", now=now)
    for junk in ("", "abc", "zz_" + "0" * 32, None):
        assert not render.verify_handler_token(settings, 7, block, junk, now=now)
    assert not render.verify_handler_token({}, 7, block, token, now=now)
    # The same URL all day long (the expiry is rounded to a day).
    assert render.handler_token(settings, 7, block, now=now) == token


def test_store_helpers_cover_unreachable_nodes(db, app):
    # A block the tree never reaches is not part of the course: 404, not a crash.
    blocks = flatten(DEMO_KEY, Node("course", "course", display_name="Demo Course"))
    blocks.append({"usage_key": key("html", "orphan"), "block_type": "html",
                   "block_id": "orphan", "display_name": "Orphan", "children": [],
                   "fields": {}, "data": {"html": "x"}})
    store_course(db, DEMO_KEY, {"display_name": "Demo Course"}, blocks)
    db.commit()
    staff = create_user(db, "boss", password=None, is_staff=True)
    app.get(url(key("html", "orphan")), headers=headers(app, staff), status=404)
