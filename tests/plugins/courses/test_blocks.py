"""``/api/courses/v1|v2/blocks/``: bodies, who sees what, depth, counts, filters, completion."""
from datetime import datetime, timezone

import pytest

from lms.permissions import grant_role
from lms.keys import parse_course_key
from tests.plugins.courses.factories import DEMO_KEY, FUTURE, Node, make_course
from tests.plugins.courses.test_blocks_support import (
    COMPLETIONS, RESUME, ROOT, basic, build_app, enroll, key, make_user, user_headers,
)

V1, V2 = "/api/courses/v1/blocks/", "/api/courses/v2/blocks/"
COURSE = parse_course_key(DEMO_KEY)
# Upstream serializes blocks in post-order: children first, the root last.
ALL_ORDER = [
    key("html", "intro"), key("problem", "quiz"), key("video", "welcome"),
    key("vertical", "unit1"), key("html", "secret"), key("vertical", "staffnotes"),
    key("sequential", "lesson1"), key("chapter", "week1"), key("html", "later"),
    key("vertical", "unit2"), key("sequential", "lesson2"), key("chapter", "week2"), ROOT,
]
LEARNER_ORDER = [
    key("html", "intro"), key("problem", "quiz"), key("video", "welcome"),
    key("vertical", "unit1"), key("sequential", "lesson1"), key("chapter", "week1"), ROOT,
]
FORBIDDEN_ANONYMOUS = {
    "developer_message": f"Course blocks for '{DEMO_KEY}' cannot be accessed anonymously."}


@pytest.fixture(name="app")
def learning_app(app_factory, settings, add_plugins):
    return build_app(app_factory, settings, add_plugins)


def tree(path=ROOT):
    return f"{V1}{path}/"


def in_course(**params):
    return V1, {"course_id": DEMO_KEY, **params}


@pytest.fixture
def staff(db):
    return make_user(db, "staffer", is_staff=True)


@pytest.fixture
def learner(db):
    return make_user(db, "learner")


@pytest.fixture
def course(db):
    return make_course(db)


def get(app, url, params=None, user=None, status=200):
    headers = user_headers(app, user) if user is not None else {}
    return app.get(url, params or {}, headers=headers, status=status)


# -- bodies --------------------------------------------------------------------------

def test_staff_all_blocks_body(app, course, staff):
    body = get(app, tree(), {"all_blocks": "true", "depth": "all",
                             "requested_fields": "children"}, staff).json
    assert body["root"] == ROOT
    assert list(body["blocks"]) == ALL_ORDER
    assert body["blocks"][ROOT] == basic("course", "course", "Demo Course", children=[
        key("chapter", "week1"), key("chapter", "week2")])
    assert body["blocks"][key("vertical", "unit1")] == basic(
        "vertical", "unit1", "Unit 1",
        children=[key("html", "intro"), key("problem", "quiz"), key("video", "welcome")])
    # Leaves have no children key; staff-only and future content is there.
    assert body["blocks"][key("html", "secret")] == basic("html", "secret", "Secret")
    assert body["blocks"][key("html", "later")] == basic("html", "later", "Later")


def test_requested_fields_only_when_not_null(app, course, staff):
    fields = ("graded,format,start,due,has_score,weight,show_correctness,hide_from_toc,"
              "icon_class,student_view_multi_device,visible_to_staff_only,hide_after_due,"
              "not_a_field,effort_time,special_exam_info")
    blocks = get(app, tree(), {"all_blocks": "true", "depth": "all",
                               "requested_fields": fields}, staff).json["blocks"]
    common = {"graded": False, "start": "2020-01-01T00:00:00Z", "has_score": False,
              "show_correctness": "always", "icon_class": "other",
              "student_view_multi_device": False, "visible_to_staff_only": False,
              "hide_after_due": False}
    assert blocks[ROOT] == basic("course", "course", "Demo Course", **common,
                                 hide_from_toc=False)
    assert blocks[key("sequential", "lesson1")] == basic(
        "sequential", "lesson1", "Lesson 1", **{**common, "graded": True},
        format="Homework", due="2030-06-01T00:00:00Z", hide_from_toc=False)
    # ``due`` is inherited; problems are scored and carry their weight.
    assert blocks[key("problem", "quiz")] == basic(
        "problem", "quiz", "Quiz", **{**common, "has_score": True, "icon_class": "problem"},
        due="2030-06-01T00:00:00Z", weight=1.0)
    assert blocks[key("html", "intro")] == basic(
        "html", "intro", "Intro", **{**common, "student_view_multi_device": True},
        due="2030-06-01T00:00:00Z")
    assert blocks[key("video", "welcome")]["icon_class"] == "video"
    # Merged from the staff-only unit.
    assert blocks[key("html", "secret")]["visible_to_staff_only"] is True
    # Inherited start of the future chapter.
    assert blocks[key("html", "later")]["start"] == FUTURE.isoformat().replace("+00:00", "Z")


def test_list_return_type(app, course, staff):
    body = get(app, tree(), {"all_blocks": "true", "depth": "all", "return_type": "list"},
               staff).json
    assert [block["id"] for block in body] == ALL_ORDER
    assert body[-1] == basic("course", "course", "Demo Course")


def test_display_name_defaults(app, db, staff):
    make_course(db, Node("course", "course", display_name="C", children=[
        Node("vertical", "v", children=[Node("html", "h"), Node("problem", "p"),
                                         Node("video", "vid")])]))
    blocks = get(app, tree(), {"all_blocks": "true", "depth": "all"}, staff).json["blocks"]
    assert {block["display_name"] for block in blocks.values()} == {
        "C", "", "Text", "Blank Problem", "Video"}
    assert blocks[key("vertical", "v")]["display_name"] == ""


# -- who sees what ---------------------------------------------------------------------

def test_enrolled_learner_sees_released_visible_blocks(app, course, learner):
    enroll(learner)
    body = get(app, tree(), {"username": "learner", "depth": "all",
                             "requested_fields": "children"}, learner).json
    assert list(body["blocks"]) == LEARNER_ORDER
    assert body["blocks"][ROOT]["children"] == [key("chapter", "week1")]
    assert body["blocks"][key("sequential", "lesson1")]["children"] == [key("vertical", "unit1")]


def test_username_is_case_insensitive_and_no_cache_headers(app, course, learner):
    enroll(learner)
    response = get(app, tree(), {"username": "LEARNER"}, learner)
    assert list(response.json["blocks"]) == [ROOT]
    assert "Cache-Control" not in response.headers and "Expires" not in response.headers


def test_learner_not_enrolled_is_403(app, course, learner):
    enroll(learner, is_active=False)
    response = get(app, tree(), {"username": "learner"}, learner, status=403)
    assert response.json == {"developer_message": "Course blocks for 'learner' cannot be accessed."}


def test_learner_not_enrolled_in_public_course_sees_own_view(app, db, learner):
    make_course(db, course_visibility="public")
    body = get(app, tree(), {"username": "learner", "depth": "all"}, learner).json
    assert list(body["blocks"]) == LEARNER_ORDER


def test_anonymous_view_of_public_course(app, db):
    make_course(db, course_visibility="public")
    response = get(app, tree(), {"username": "", "depth": "all"})
    assert list(response.json["blocks"]) == LEARNER_ORDER
    assert response.headers["Cache-Control"] == "max-age=600"
    assert response.headers["Expires"].endswith(" GMT")


def test_anonymous_private_course_and_other_rules(app, db, course):
    assert get(app, tree(), {"username": ""}, status=403).json == FORBIDDEN_ANONYMOUS
    assert get(app, tree(), {"username": "learner"}, status=403).json == {
        "developer_message": "Anonymous users cannot access another user's blocks."}
    assert get(app, tree(), {"all_blocks": "true"}, status=403).json == {
        "developer_message": "Anonymous users do not have permission to access all blocks "
                             f"in '{DEMO_KEY}'."}
    assert get(app, tree(), {"all_blocks": "true", "username": ""}, status=403).json[
        "developer_message"].startswith("Anonymous users do not have permission")
    assert get(app, tree(), status=400).json == {"field_errors": {"username": {
        "developer_message": "This field is required unless all_blocks is requested."}}}


def test_anonymous_public_course_with_username_or_all_blocks(app, db):
    make_course(db, course_visibility="public")
    assert get(app, tree(), {"username": "someone"}, status=403).json == {
        "developer_message": "Anonymous users cannot access another user's blocks."}
    assert get(app, tree(), {"all_blocks": "1"}, status=403).status_int == 403


def test_logged_in_blank_username_public_course_is_anonymous_view(app, db, learner):
    make_course(db, course_visibility="public")
    response = get(app, tree(), {"username": "", "depth": "all"}, learner)
    assert list(response.json["blocks"]) == LEARNER_ORDER
    assert response.headers["Cache-Control"] == "max-age=600"


def test_all_blocks_rules(app, db, course, learner, staff):
    assert get(app, tree(), {"all_blocks": "true"}, learner, status=403).json == {
        "developer_message": f"'learner' does not have permission to access all blocks in "
                             f"'{DEMO_KEY}'."}
    # all_blocks ignores username and is never cached.
    response = get(app, tree(), {"all_blocks": "True", "username": "", "depth": "all"}, staff)
    assert list(response.json["blocks"]) == ALL_ORDER
    assert "Cache-Control" not in response.headers
    course_staff = make_user(db, "coursestaff")
    grant_role(db, course_staff, "staff", COURSE)
    db.commit()
    body = get(app, tree(), {"all_blocks": "true", "depth": "all"}, course_staff).json
    assert list(body["blocks"]) == ALL_ORDER


def test_data_researcher_all_blocks_is_their_own_view(app, db, course):
    researcher = make_user(db, "researcher")
    grant_role(db, researcher, "data_researcher", COURSE)
    db.commit()
    body = get(app, tree(), {"all_blocks": "true", "depth": "all"}, researcher).json
    assert list(body["blocks"]) == LEARNER_ORDER


def test_other_username_rules(app, db, course, learner, staff):
    other = make_user(db, "other")
    enroll(other)
    assert get(app, tree(), {"username": "other"}, learner, status=403).json == {
        "developer_message": "'learner' does not have permission to access view for 'other'."}
    # Permission first: a learner cannot probe which users exist.
    assert get(app, tree(), {"username": "ghost"}, learner, status=403).status_int == 403
    assert get(app, tree(), {"username": "ghost"}, staff, status=404).json == {
        "developer_message": "Requested user 'ghost' does not exist."}
    assert get(app, tree(), {"username": ""}, staff, status=404).json == {
        "developer_message": "Requested user '' does not exist."}
    # Staff see the learner's view (staff-only and future blocks hidden).
    body = get(app, tree(), {"username": "other", "depth": "all"}, staff).json
    assert list(body["blocks"]) == LEARNER_ORDER
    # Staff asking for themselves see everything.
    body = get(app, tree(), {"username": "staffer", "depth": "all"}, staff).json
    assert list(body["blocks"]) == ALL_ORDER


# -- keys, unknown courses and blocks ----------------------------------------------------

def test_invalid_usage_key_is_400(app, course, staff):
    response = get(app, f"{V1}not-a-key/", {"all_blocks": "true"}, staff, status=400)
    assert response.json == {"field_errors": {"usage_key": {
        "developer_message": "'not-a-key' is not a valid usage key."}}}


def test_unknown_course(app, db, learner, staff):
    unknown = "block-v1:No+Such+Course+type@course+block@course"
    enroll(learner, "course-v1:No+Such+Course")
    # Learners fail the permission check first; staff pass it and find nothing.
    assert get(app, tree(unknown), {"username": "x"}, make_user(db, "x"),
               status=403).json == {"developer_message": "Course blocks for 'x' cannot be accessed."}
    assert get(app, tree(unknown), {"username": ""}, status=403).json == {
        "developer_message": "Course blocks for 'course-v1:No+Such+Course' cannot be accessed "
                             "anonymously."}
    assert get(app, tree(unknown), {"all_blocks": "true"}, staff, status=404).json == {
        "developer_message": f"Block not found: {unknown}"}
    assert get(app, V1, {"course_id": "course-v1:No+Such+Course", "username": "y"},
               make_user(db, "y"), status=403).status_int == 403
    # Enrolled (by the enrollment plugin's word) in a course that does not exist.
    assert get(app, tree(unknown), {"username": "learner"}, learner, status=404).json == {
        "developer_message": f"Block not found: {unknown}"}


def test_unknown_block_in_known_course(app, course, staff, learner):
    missing = key("html", "nope")
    assert get(app, tree(missing), {"all_blocks": "true"}, staff, status=404).json == {
        "developer_message": f"Block not found: {missing}"}
    assert get(app, tree(missing), {"username": "learner"}, learner, status=403).status_int == 403
    enroll(learner)
    assert get(app, tree(missing), {"username": "learner"}, learner, status=404).json == {
        "developer_message": f"Block not found: {missing}"}


def test_subtree_and_hidden_root(app, course, learner):
    enroll(learner)
    body = get(app, tree(key("sequential", "lesson1")),
               {"username": "learner", "depth": "all", "requested_fields": "children"},
               learner).json
    assert body["root"] == key("sequential", "lesson1")
    assert list(body["blocks"]) == LEARNER_ORDER[:5]
    assert body["blocks"][key("sequential", "lesson1")]["children"] == [key("vertical", "unit1")]
    # A block the learner may not see: the root with no blocks, as upstream.
    body = get(app, tree(key("chapter", "week2")), {"username": "learner", "depth": "all"},
               learner).json
    assert body == {"root": key("chapter", "week2"), "blocks": {}}


def test_paths_with_and_without_slash_and_v2_parity(app, course, staff):
    params = {"all_blocks": "true", "depth": "all", "requested_fields": "children,graded",
              "block_counts": "html", "student_view_data": "video"}
    expected = get(app, tree(), params, staff).json
    assert get(app, f"{V1}{ROOT}", params, staff).json == expected
    assert get(app, f"{V2}{ROOT}/", params, staff).json == expected
    assert get(app, f"{V2}{ROOT}", params, staff).json == expected
    assert get(app, V2, {**params, "course_id": DEMO_KEY}, staff).json == expected
    assert get(app, V1.rstrip("/"), {**params, "course_id": DEMO_KEY}, staff).json == expected


def test_course_id_form_errors(app, course, staff):
    assert get(app, V1, {"all_blocks": "true"}, staff, status=400).json == {
        "developer_message": "course_id is required."}
    assert get(app, V1, {"course_id": "", "depth": "x"}, staff, status=400).json == {
        "developer_message": "course_id is required."}
    assert get(app, V2, {"course_id": "bad"}, status=400).json == {
        "developer_message": "'bad' is not a valid course key."}


# -- depth, counts, navigation, filters -------------------------------------------------------

def test_depth(app, course, staff):
    params = {"all_blocks": "true", "requested_fields": "children"}
    body = get(app, tree(), params, staff).json
    # Default depth 0: the root alone, without its (pruned) children.
    assert body["blocks"] == {ROOT: basic("course", "course", "Demo Course")}
    body = get(app, tree(), {**params, "depth": "1"}, staff).json
    assert list(body["blocks"]) == [key("chapter", "week1"), key("chapter", "week2"), ROOT]
    assert "children" not in body["blocks"][key("chapter", "week1")]
    assert body["blocks"][ROOT]["children"] == [key("chapter", "week1"), key("chapter", "week2")]
    body = get(app, tree(), {**params, "depth": "3"}, staff).json
    assert len(body["blocks"]) == 8
    assert get(app, tree(), {**params, "depth": "-1"}, staff).json == {"root": ROOT, "blocks": {}}


def test_block_counts_are_counted_before_depth_pruning(app, course, staff, learner):
    enroll(learner)
    body = get(app, tree(), {"username": "learner", "block_counts": "html,video,chapter"},
               learner).json
    # block_counts is added to requested fields on its own.
    assert body["blocks"] == {ROOT: basic("course", "course", "Demo Course", block_counts={
        "chapter": 1, "html": 1, "video": 1})}
    body = get(app, tree(), {"all_blocks": "true", "depth": "all", "block_counts": "html",
                             "requested_fields": "block_counts"}, staff).json
    counts = {block_id: block["block_counts"] for block_id, block in body["blocks"].items()}
    assert counts[ROOT] == {"html": 3}
    assert counts[key("sequential", "lesson1")] == {"html": 2}
    assert counts[key("problem", "quiz")] == {"html": 0}


def test_student_view_data(app, course, staff):
    params = {"all_blocks": "true", "depth": "all", "student_view_data": "html,video,problem"}
    blocks = get(app, tree(), params, staff).json["blocks"]
    with_data = {block_id for block_id, block in blocks.items() if "student_view_data" in block}
    assert with_data == {key("html", "intro"), key("html", "secret"), key("html", "later"),
                         key("video", "welcome")}
    assert blocks[key("html", "intro")]["student_view_data"] == {
        "enabled": False,
        "message": 'To enable, set FEATURES["ENABLE_HTML_XBLOCK_STUDENT_VIEW_DATA"]'}
    welcome = key("video", "welcome")
    assert blocks[welcome]["student_view_data"] == {
        "only_on_web": False, "duration": None,
        "transcripts": {"en": f"http://localhost/courses/{DEMO_KEY}/xblock/{welcome}"
                              "/handler_noauth/transcript/download?lang=en"},
        "encoded_videos": {"youtube": {"url": "https://www.youtube.com/watch?v=3_yD_cEKoCk",
                                       "file_size": 0, "stream_priority": 5}},
        "all_sources": []}


def test_html_student_view_data_setting(app_factory, db, settings):
    app = app_factory(**{**settings, "courses.html_student_view_data": "true"})
    make_course(db, course_visibility="public")
    blocks = get(app, tree(), {"username": "", "depth": "all",
                               "student_view_data": "html"}).json["blocks"]
    assert blocks[key("html", "intro")]["student_view_data"] == {
        "enabled": True, "html": "<p>Hello <b>learners</b></p>"}


def test_video_student_view_data_variants(app, db, staff):
    make_course(db, Node("course", "course", display_name="C", children=[
        Node("video", "web", only_on_web=True, data={"youtube_id_1_0": "abc"}),
        Node("video", "files", data={
            "html5_sources": ["https://cdn/v.mp4", "https://cdn/v.webm"], "duration": 12.5,
            "transcripts": {"fr": "fr.srt", "de": "de.srt"}}),
        Node("video", "val", sub="subid", data={
            "youtube_id_1_0": "yt", "encoded_videos": {
                "desktop_mp4": {"url": "https://cdn/d.mp4", "file_size": 30},
                "mobile_low": {"url": "https://cdn/m.mp4", "file_size": 10},
                "hls": {"url": "https://cdn/h.m3u8", "file_size": 0}}}),
    ]))
    blocks = get(app, tree(), {"all_blocks": "true", "depth": "all",
                               "student_view_data": "video"}, staff).json["blocks"]
    assert blocks[key("video", "web")]["student_view_data"] == {"only_on_web": True}
    files = blocks[key("video", "files")]["student_view_data"]
    assert files["duration"] == 12.5
    assert files["all_sources"] == ["https://cdn/v.mp4", "https://cdn/v.webm"]
    assert files["encoded_videos"] == {"fallback": {"url": "https://cdn/v.mp4", "file_size": 0,
                                                    "stream_priority": 4}}
    assert sorted(files["transcripts"]) == ["de", "fr"]
    val = blocks[key("video", "val")]["student_view_data"]
    assert val["encoded_videos"] == {
        "mobile_low": {"url": "https://cdn/m.mp4", "file_size": 10, "stream_priority": 1},
        "desktop_mp4": {"url": "https://cdn/d.mp4", "file_size": 30, "stream_priority": 3}}
    assert list(val["transcripts"]) == ["en"]


def test_block_types_filter_relinks_children(app, course, staff):
    body = get(app, tree(), {"all_blocks": "true", "depth": "all",
                             "block_types_filter": "vertical,html",
                             "requested_fields": "children"}, staff).json
    # The root goes too (its key stays as "root"); kept blocks keep their order.
    assert body["root"] == ROOT
    assert list(body["blocks"]) == [
        key("html", "intro"), key("vertical", "unit1"), key("html", "secret"),
        key("vertical", "staffnotes"), key("html", "later"), key("vertical", "unit2")]
    assert body["blocks"][key("vertical", "unit1")]["children"] == [key("html", "intro")]
    assert all(block["type"] in ("vertical", "html") for block in body["blocks"].values())


def test_block_types_filter_appends_grandchildren_to_kept_parent(app, db, staff):
    make_course(db, Node("course", "course", display_name="C", children=[
        Node("vertical", "a"), Node("html", "kept"), Node("vertical", "b", children=[
            Node("html", "b1"), Node("html", "b2")])]))
    body = get(app, tree(), {"all_blocks": "true", "depth": "all", "requested_fields": "children",
                             "block_types_filter": "course,html"}, staff).json
    assert body["blocks"][ROOT]["children"] == [key("html", "kept"), key("html", "b1"),
                                                key("html", "b2")]


def test_nav_depth_descendants(app, course, staff):
    body = get(app, tree(), {"all_blocks": "true", "depth": "all", "nav_depth": "1"},
               staff).json["blocks"]
    assert body[ROOT]["descendants"] == [key("chapter", "week1"), key("chapter", "week2")]
    assert body[key("chapter", "week1")]["descendants"] == [
        key("sequential", "lesson1"), key("vertical", "unit1"), key("html", "intro"),
        key("problem", "quiz"), key("video", "welcome"), key("vertical", "staffnotes"),
        key("html", "secret")]
    assert "descendants" not in body[key("sequential", "lesson1")]


def test_nav_depth_skips_hidden_from_toc(app, db, staff):
    make_course(db, Node("course", "course", display_name="C", children=[
        Node("chapter", "shown", children=[Node("sequential", "s")]),
        Node("chapter", "hidden", hide_from_toc=True, children=[Node("sequential", "t")])]))
    blocks = get(app, tree(), {"all_blocks": "true", "depth": "all", "nav_depth": "0"},
                 staff).json["blocks"]
    assert blocks[ROOT]["descendants"] == [key("chapter", "shown"), key("sequential", "s")]


# -- ?course_id= extras --------------------------------------------------------------------

def discussion_course(db, provider):
    settings = {"discussions_settings": {"provider": provider}} if provider else {}
    return make_course(db, Node("course", "course", display_name="C", children=[
        Node("vertical", "u", children=[Node("html", "h"),
                                        Node("discussion", "d", discussion_id="topic")])]),
        settings=settings)


@pytest.mark.parametrize("return_type", ["dict", "list"])
def test_new_discussion_provider_hides_discussion_blocks(app, db, staff, return_type):
    discussion_course(db, "openedx")
    body = get(app, *in_course(all_blocks="true", depth="all", requested_fields="children",
                               return_type=return_type), staff).json
    blocks = body["blocks"] if return_type == "dict" else body
    # Upstream turns the list into a dict keyed by id.
    assert isinstance(blocks, dict)
    assert key("discussion", "d") not in blocks
    assert blocks[key("vertical", "u")]["children"] == [key("html", "h")]


def test_legacy_discussion_provider_keeps_discussion_blocks(app, db, staff):
    discussion_course(db, None)
    body = get(app, *in_course(all_blocks="true", depth="all", student_view_data="discussion",
                               return_type="list"), staff).json
    assert isinstance(body, list)
    discussion = [block for block in body if block["type"] == "discussion"]
    assert discussion[0]["student_view_data"] == {"topic_id": "topic"}
    assert discussion[0]["display_name"] == "Discussion"
    # The tree form never filters.
    discussion_course(db, "openedx")
    assert key("discussion", "d") in get(app, tree(), {"all_blocks": "true", "depth": "all"},
                                         staff).json["blocks"]


# -- completion ---------------------------------------------------------------------------

def test_completion_without_a_completion_source(app, course, learner):
    enroll(learner)
    blocks = get(app, *in_course(username="learner", depth="all",
                                 requested_fields="completion,complete,children"),
                 learner).json["blocks"]
    assert not any({"completion", "complete", "resume_block"} & set(block)
                   for block in blocks.values())


def test_completion_complete_and_resume(app, course, learner):
    enroll(learner)
    COMPLETIONS[(learner.id, DEMO_KEY)] = {key("html", "intro"): 1.0,
                                           key("problem", "quiz"): 0.5}
    RESUME[(learner.id, DEMO_KEY)] = key("html", "intro")
    fields = "completion,complete,resume_block,children"
    blocks = get(app, tree(), {"username": "learner", "depth": "all",
                               "requested_fields": fields}, learner).json["blocks"]
    assert blocks[key("html", "intro")]["completion"] == 1.0
    assert blocks[key("html", "intro")]["complete"] is True
    assert blocks[key("html", "intro")]["resume_block"] is True
    assert blocks[key("problem", "quiz")]["completion"] == 0.5
    assert "complete" not in blocks[key("problem", "quiz")]
    assert blocks[key("video", "welcome")]["completion"] == 0.0
    # Aggregators: no completion value; resume_block climbs to the root.
    assert "completion" not in blocks[key("vertical", "unit1")]
    assert "complete" not in blocks[key("vertical", "unit1")]
    assert blocks[ROOT]["resume_block"] is True and "resume_block" not in blocks[
        key("problem", "quiz")]


def test_course_id_form_rewrites_parent_completion(app, course, learner):
    enroll(learner)
    COMPLETIONS[(learner.id, DEMO_KEY)] = {key("html", "intro"): 1.0, key("problem", "quiz"): 1.0,
                                           key("video", "welcome"): 1.0}
    blocks = get(app, *in_course(username="learner", depth="all",
                                 requested_fields="completion,children"),
                 learner).json["blocks"]
    assert blocks[key("vertical", "unit1")]["completion"] == 1
    assert blocks[key("sequential", "lesson1")]["completion"] == 1
    assert blocks[ROOT]["completion"] == 1
    assert isinstance(blocks[ROOT]["completion"], int)
    COMPLETIONS[(learner.id, DEMO_KEY)] = {key("html", "intro"): 1.0}
    blocks = get(app, *in_course(username="learner", depth="all", return_type="list",
                                 requested_fields="completion,children"), learner).json
    by_id = {block["id"]: block for block in blocks}
    assert by_id[key("vertical", "unit1")]["completion"] == 0
    assert by_id[ROOT]["completion"] == 0


def test_dates_are_utc_with_z(app, db, staff):
    due = datetime(2031, 2, 3, 4, 5, 6, 700000, tzinfo=timezone.utc)
    make_course(db, Node("course", "course", display_name="C", children=[
        Node("sequential", "s", due=due)]), start=None)
    blocks = get(app, tree(), {"all_blocks": "true", "depth": "all",
                               "requested_fields": "due,start"}, staff).json["blocks"]
    assert blocks[key("sequential", "s")]["due"] == "2031-02-03T04:05:06.700000Z"
    # No start anywhere: Open edX's default start.
    assert blocks[ROOT]["start"] == "2030-01-01T00:00:00Z"
    assert "due" not in blocks[ROOT]


def test_deprecated_i4x_key_is_read_in_its_course_run(app, course, staff):
    body = get(app, f"{V1}i4x://edX/Demo/html/intro", {"all_blocks": "true"}, staff).json
    assert body == {"root": key("html", "intro"),
                    "blocks": {key("html", "intro"): basic("html", "intro", "Intro")}}
    # As upstream's pattern, a trailing slash becomes part of an i4x key.
    assert get(app, f"{V1}i4x://edX/Demo/html/intro/", {"all_blocks": "true"}, staff,
               status=400).json == {"field_errors": {"usage_key": {
                   "developer_message": "'i4x://edX/Demo/html/intro/' is not a valid usage key."}}}


def test_hide_after_due_hides_past_due_content_from_learners(app, db, learner, staff):
    past = datetime(2021, 1, 1, tzinfo=timezone.utc)
    make_course(db, Node("course", "course", display_name="Due", children=[
        Node("chapter", "week1", children=[
            Node("sequential", "exam", hide_after_due=True, due=past, children=[
                Node("vertical", "questions")]),
            Node("sequential", "open", hide_after_due=True, due=FUTURE, children=[
                Node("vertical", "later")]),
        ])]))
    enroll(learner)
    seen = get(app, tree(), {"username": "learner", "depth": "all"}, learner).json["blocks"]
    assert key("sequential", "exam") not in seen and key("vertical", "questions") not in seen
    assert key("sequential", "open") in seen and key("vertical", "later") in seen
    everything = get(app, tree(), {"all_blocks": "true", "depth": "all"}, staff).json["blocks"]
    assert key("sequential", "exam") in everything and key("vertical", "questions") in everything
