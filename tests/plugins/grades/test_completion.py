"""Completion: completion-batch, subsection-completion, the publish_completion handler,
scores completing problems, and what the courses plugin (blocks API, resume) and
course_home (outline, progress) make of it."""
import json
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades.models import BlockCompletion
from tests.plugins.courses.factories import Node, make_course, usage_key

KEY = "course-v1:edX+Done+2026"
OTHER_KEY = "course-v1:edX+Other+2026"
BATCH = "/api/completion/v1/completion-batch"
MC = {"xml": '<problem><multiplechoiceresponse><choicegroup type="MultipleChoice">'
             '<choice correct="true">a</choice><choice correct="false">b</choice>'
             "</choicegroup></multiplechoiceresponse></problem>"}


def key(block_type, block_id, course_key=KEY):
    return usage_key(course_key, block_type, block_id)


def tree():
    return Node("course", "course", display_name="Done", children=[
        Node("chapter", "ch", display_name="Week", children=[
            Node("sequential", "seq", display_name="Lesson", children=[
                Node("vertical", "u1", display_name="Unit 1", children=[
                    Node("html", "h1", data={"html": "<p>one</p>"}),
                    Node("video", "v1"),
                ]),
                Node("vertical", "u2", display_name="Unit 2", children=[
                    Node("problem", "p1", display_name="P1", data=MC),
                    Node("discussion", "d1"),
                    Node("html", "secret", visible_to_staff_only=True,
                         data={"html": "<p>staff</p>"}),
                ]),
            ]),
            Node("sequential", "seq2", display_name="Later", children=[
                Node("vertical", "u3", children=[Node("html", "h3", data={"html": "x"})])]),
        ]),
    ])


@pytest.fixture
def world(app, db):
    make_course(db, tree(), course_key=KEY)
    make_course(db, Node("course", "course", children=[]), course_key=OTHER_KEY)
    learner = create_user(db, "done_learner", password=None)
    other = create_user(db, "done_other", password=None)
    staff = create_user(db, "done_staff", is_staff=True, password=None)
    outsider = create_user(db, "done_outsider", password=None)
    for user in (learner, other):
        enrollment_api.enroll(db, user.id, KEY)
    db.commit()
    return dict(learner=learner, other=other, staff=staff, outsider=outsider)


def stored(db, user):
    return dict(db.execute(select(BlockCompletion.block_key, BlockCompletion.completion)
                           .where(BlockCompletion.user_id == user.id)).all())


def batch(app, caller, body, status=200):
    return app.post(BATCH, json.dumps(body), content_type="application/json",
                    headers=jwt_headers(app, caller), status=status).json


# -- completion-batch ---------------------------------------------------------------------

def test_batch_records_and_only_real_changes_move_modified(app, db, world):
    learner = world["learner"]
    body = {"username": "done_learner", "course_key": KEY,
            "blocks": {key("html", "h1"): 1.0, key("video", "v1"): 0.5}}
    assert batch(app, learner, body) == {"detail": "ok"}
    assert stored(db, learner) == {key("html", "h1"): 1.0, key("video", "v1"): 0.5}
    row = db.scalar(select(BlockCompletion).where(BlockCompletion.block_key == key("html", "h1")))
    assert (row.course_key, row.block_type) == (KEY, "html")
    first = row.modified
    batch(app, learner, {**body, "blocks": {key("html", "h1"): 1}})
    db.expire_all()
    assert db.scalar(select(BlockCompletion.modified).where(
        BlockCompletion.block_key == key("html", "h1"))) == first
    # staff may record for a learner
    batch(app, world["staff"], {**body, "blocks": {key("video", "v1"): "1.0"}})
    assert stored(db, learner)[key("video", "v1")] == 1.0


def test_batch_who_may_call(app, db, world):
    body = {"username": "done_learner", "course_key": KEY, "blocks": {key("html", "h1"): 1.0}}
    app.post(BATCH, json.dumps(body), content_type="application/json", status=401)
    assert batch(app, world["other"], body, status=403) == {
        "detail": "You do not have permission to perform this action."}
    batch(app, world["other"], {"course_key": KEY, "blocks": {}}, status=403)
    assert stored(db, world["learner"]) == {}


@pytest.mark.parametrize("body,status,message", [
    ({"course_key": KEY, "blocks": {}}, 400, "Key 'username' not found."),
    ({"username": "done_learner", "course_key": KEY}, 400, "Key 'blocks' not found."),
    ({"username": "nobody", "course_key": KEY, "blocks": {}}, 404,
     "User matching query does not exist."),
    ({"username": "done_learner", "course_key": "not-a-key", "blocks": {}}, 400,
     "Invalid course key: not-a-key"),
    ({"username": "done_outsider", "course_key": KEY, "blocks": {}}, 400,
     "User is not enrolled in course."),
    ({"username": "done_learner", "course_key": KEY, "blocks": {"block-v1:bad": 1}}, 400,
     "Invalid block key: block-v1:bad"),
    ({"username": "done_learner", "course_key": KEY,
      "blocks": {usage_key(OTHER_KEY, "html", "x"): 1}}, 400,
     f"Block with key: '{usage_key(OTHER_KEY, 'html', 'x')}' is not in course {KEY}"),
    ({"username": "done_learner", "course_key": KEY,
      "blocks": {key("html", "h1"): 1, key("video", "v1"): "abc"}}, 400,
     "could not convert string to float: 'abc'"),
    ({"username": "done_learner", "course_key": KEY,
      "blocks": {key("html", "h1"): 1, key("video", "v1"): 1.5}}, 400,
     "1.5 must be between 0.0 and 1.0"),
    ({"username": "done_learner", "course_key": KEY, "blocks": {key("html", "h1"): None}},
     400, "float() argument must be a string or a real number, not 'NoneType'"),
    ({"username": "done_learner", "course_key": KEY, "blocks": ["x"]}, 400,
     '"[\'x\']" is not a mapping type: Does not implement dict-like functionality.'),
])
def test_batch_bad_input_stores_nothing(app, db, world, body, status, message):
    answer = batch(app, world["staff"], body, status=status)
    if body.get("blocks") == ["x"]:
        assert answer["detail"].startswith("blocks: ")
    else:
        assert answer == {"detail": message}
    assert db.scalar(select(BlockCompletion.id).limit(1)) is None


def test_batch_malformed_json_and_tracking_switch(app, app_factory, db, world):
    response = app.post(BATCH, "{not json", content_type="application/json",
                        headers=jwt_headers(app, world["learner"]), status=400)
    assert "detail" in response.json
    off = app_factory(**{"grades.completion_tracking": "false"})
    body = {"username": "done_learner", "course_key": KEY, "blocks": {key("html", "h1"): 1}}
    answer = off.post(BATCH, json.dumps(body), content_type="application/json",
                      headers=jwt_headers(off, world["learner"]), status=400).json
    assert answer == {"detail": "BlockCompletion.objects.submit_batch_completion should not "
                                "be called when the feature is disabled."}
    assert stored(db, world["learner"]) == {}


# -- subsection-completion -----------------------------------------------------------------

def subsection_url(username, block=None, course_key=KEY):
    block = block or key("sequential", "seq")
    return f"/api/completion/v1/subsection-completion/{username}/{course_key}/{quote(block)}"


def test_subsection_completion_counts_every_visible_block(app, db, world):
    learner = world["learner"]
    headers = jwt_headers(app, learner)
    url = subsection_url("done_learner")
    assert app.get(url, headers=headers).json == {"completion": 0}
    blocks = {key("html", "h1"): 1.0, key("video", "v1"): 1.0, key("problem", "p1"): 1.0}
    batch(app, learner, {"username": "done_learner", "course_key": KEY, "blocks": blocks})
    # upstream counts the discussion too: still not complete
    assert app.get(url, headers=headers).json == {"completion": 0}
    batch(app, learner, {"username": "done_learner", "course_key": KEY,
                         "blocks": {key("discussion", "d1"): 1.0}})
    # the staff-only html is not the learner's to complete
    assert app.get(url, headers=headers).json == {"completion": 1}
    assert app.get(subsection_url("DONE_LEARNER"), headers=headers).json == {"completion": 1}


def test_subsection_completion_who_and_bad_keys(app, db, world):
    url = subsection_url("done_learner")
    app.get(url, status=401)
    app.get(url, headers=jwt_headers(app, world["other"]), status=404)
    app.get(url, headers=jwt_headers(app, world["staff"]), status=403)
    headers = jwt_headers(app, world["learner"])
    app.get(subsection_url("done_learner", block="nonsense"), headers=headers, status=404)
    app.get(subsection_url("done_learner", course_key="bad"), headers=headers, status=404)
    app.get(subsection_url("done_learner", block=key("sequential", "nope")), headers=headers,
            status=404)
    # a block of another course than the URL's
    app.get(subsection_url("done_learner", course_key=OTHER_KEY), headers=headers, status=404)


# -- the publish_completion handler and scores ----------------------------------------------

def handler_path(app, user, block_type, block_id, name):
    url = (f"/api/xblock/v2/xblocks/{quote(key(block_type, block_id), safe=':+@')}"
           f"/handler_url/{name}/")
    return urlsplit(app.get(url, headers=jwt_headers(app, user)).json["handler_url"]).path


def test_publish_completion_for_blocks_completed_by_viewing(app, db, world):
    learner = world["learner"]
    path = handler_path(app, learner, "html", "h1", "publish_completion")
    assert app.post(path, json.dumps({"completion": 1.0}),
                    content_type="application/json").json == {"result": "ok"}
    assert stored(db, learner) == {key("html", "h1"): 1.0}
    bad = app.post(path, json.dumps({"completion": 2}), content_type="application/json",
                   status=400).json
    assert bad == {"error": "2.0 must be between 0.0 and 1.0"}
    app.post(path, json.dumps({"completion": "x"}), content_type="application/json",
             status=400)
    app.post(path, json.dumps({}), content_type="application/json", status=400)
    problem = handler_path(app, learner, "problem", "p1", "publish_completion")
    assert app.post(problem, json.dumps({"completion": 1.0}), content_type="application/json",
                    status=400).json == {"error": "Block not configured for completion on view."}
    assert stored(db, learner) == {key("html", "h1"): 1.0}


def test_publish_completion_with_tracking_off(app_factory, db, world):
    off = app_factory(**{"grades.completion_tracking": "false"})
    path = handler_path(off, world["learner"], "html", "h1", "publish_completion")
    assert off.post(path, json.dumps({"completion": 1.0}), content_type="application/json",
                    status=404).json == {
        "error": "Completion tracking is not enabled and API calls are unexpected"}


def test_a_scored_problem_is_complete(app, db, world):
    learner = world["learner"]
    path = handler_path(app, learner, "problem", "p1", "problem_check")
    assert app.post(path, {"input_p1_2_1": "choice_1"}).json["success"] == "incorrect"
    assert stored(db, learner) == {key("problem", "p1"): 1.0}


# -- what the other APIs make of it -----------------------------------------------------------

def test_blocks_api_courseware_resume_and_course_home(app, db, world):
    learner = world["learner"]
    headers = jwt_headers(app, learner)
    batch(app, learner, {"username": "done_learner", "course_key": KEY,
                         "blocks": {key("html", "h1"): 1.0, key("video", "v1"): 1.0}})
    blocks = app.get("/api/courses/v2/blocks/", {
        "course_id": KEY, "username": "done_learner", "depth": "all",
        "requested_fields": "completion,complete,resume_block"}, headers=headers).json["blocks"]
    assert blocks[key("html", "h1")]["completion"] == 1.0
    assert blocks[key("problem", "p1")]["completion"] == 0.0
    assert blocks[key("vertical", "u1")]["complete"] is True
    assert blocks[key("video", "v1")]["resume_block"] is True
    resume = app.get(f"/api/courseware/resume/{KEY}", headers=headers).json
    assert resume == {"block_id": key("video", "v1"), "section_id": key("sequential", "seq"),
                      "unit_id": key("vertical", "u1")}

    outline = app.get(f"/api/course_home/outline/{KEY}", headers=headers).json
    outline_blocks = outline["course_blocks"]["blocks"]
    assert outline_blocks[key("sequential", "seq")]["complete"] is False
    assert outline_blocks[key("sequential", "seq")]["resume_block"] is True
    assert outline_blocks[key("chapter", "ch")]["resume_block"] is True
    assert outline_blocks[key("sequential", "seq2")]["resume_block"] is False
    assert outline["resume_course"] == {
        "has_visited_course": True,
        "url": f"http://localhost/courses/{KEY}/jump_to/{key('sequential', 'seq')}"}
    progress = app.get(f"/api/course_home/progress/{KEY}", headers=headers).json
    # h1, v1 complete; p1, h3 not (the discussion is excluded, the staff-only html hidden)
    assert progress["completion_summary"] == {"complete_count": 2, "incomplete_count": 2,
                                              "locked_count": 0}
    batch(app, learner, {"username": "done_learner", "course_key": KEY,
                         "blocks": {key("problem", "p1"): 1.0, key("html", "h3"): 1.0}})
    outline_blocks = app.get(f"/api/course_home/outline/{KEY}",
                             headers=headers).json["course_blocks"]["blocks"]
    assert all(outline_blocks[key(t, b)]["complete"]
               for t, b in (("sequential", "seq"), ("sequential", "seq2"), ("chapter", "ch")))


def test_no_completions_for_another_learner_or_course(app, db, world):
    batch(app, world["learner"], {"username": "done_learner", "course_key": KEY,
                                  "blocks": {key("html", "h1"): 1.0}})
    other = app.get(f"/api/course_home/outline/{KEY}",
                    headers=jwt_headers(app, world["other"])).json
    assert other["resume_course"] == {"has_visited_course": False, "url": None}
    assert not any(block["complete"] for block in other["course_blocks"]["blocks"].values())
