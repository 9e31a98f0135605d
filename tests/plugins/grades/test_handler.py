"""Capa problems answered through the signed XBlock handler URLs."""
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from lms.testing import create_user, jwt_headers
from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.enrollment import api as enrollment_api
from plugins.grades.models import Score, ScoreHistory, StudentState, StudentStateHistory
from plugins.grades.problems import state_history
from tests.plugins.courses.factories import Node, make_course, usage_key

KEY = "course-v1:edX+Capa+2026"
PAST = datetime(2021, 1, 1, tzinfo=timezone.utc)
STATE_CHANGED = ("The state of this problem has changed since you loaded this page. "
                 "Please refresh your page.")


def sample(name):
    return {"xml": (Path(SAMPLE_COURSE_DIR) / "problem" / f"{name}.xml").read_text()}


def tree():
    planet = sample("largest_planet")
    return Node("course", "course", display_name="Capa", children=[
        Node("chapter", "ch", display_name="Week", children=[
            Node("sequential", "seq", display_name="HW", graded=True, format="Homework",
                 children=[Node("vertical", "u", children=[
                     Node("problem", "planet", display_name="Largest planet", max_attempts=2,
                          showanswer="finished", data=planet),
                     Node("problem", "light", display_name="Light", max_attempts=3,
                          showanswer="past_due", weight=2.0, data=sample("light_second")),
                     Node("problem", "late", display_name="Late", due=PAST.isoformat(),
                          graceperiod="1 day", data=planet),
                     Node("html", "h", data={"html": "<p>x</p>"}),
                 ])]),
        ]),
    ])


def key(block_id, block_type="problem"):
    return usage_key(KEY, block_type, block_id)


@pytest.fixture
def learner(db):
    user = create_user(db, "capa_learner", password=None)
    make_course(db, tree(), course_key=KEY)
    enrollment_api.enroll(db, user.id, KEY)
    db.commit()
    return user


def handler_path(app, user, block_id, name, block_type="problem"):
    from urllib.parse import quote

    url = (f"/api/xblock/v2/xblocks/{quote(key(block_id, block_type), safe=':+@')}"
           f"/handler_url/{name}/")
    body = app.get(url, headers=jwt_headers(app, user)).json
    return urlsplit(body["handler_url"]).path


def input_name(block_id):
    return f"input_{block_id}_2_1"


def test_multiple_choice_right_then_wrong_then_closed(app, db, learner):
    path = handler_path(app, learner, "planet", "problem_check")
    body = app.post(path, {input_name("planet"): "choice_0"}).json
    assert body["success"] == "incorrect"
    assert (body["current_score"], body["total_possible"], body["attempts_used"],
            body["attempts_allowed"], body["progress_changed"]) == (0.0, 1.0, 1, 2, True)
    assert 'id="problem_planet"' in body["contents"]
    body = app.post(path, {input_name("planet"): "choice_1"}).json
    assert (body["success"], body["current_score"], body["attempts_used"]) == ("correct", 1.0, 2)
    # max_attempts used up: upstream's ProcessingError, answered 200
    assert app.post(path, {input_name("planet"): "choice_1"}).json == {"success": STATE_CHANGED}
    score = db.scalar(select(Score).where(Score.usage_key == key("planet")))
    assert (score.earned, score.possible, score.source) == (1.0, 1.0, "capa")
    assert [h.earned for h in db.scalars(select(ScoreHistory).order_by(ScoreHistory.id))] == \
        [0.0, 1.0]
    state = db.scalar(select(StudentState).where(StudentState.usage_key == key("planet")))
    assert state.attempts == 2 and state.state["student_answers"] == {"planet_2_1": "choice_1"}
    history = state_history(db, KEY, learner.id)[key("planet")]
    assert [(h["grade"], h["max_grade"]) for h in history] == [(0.0, 1.0), (1.0, 1.0)]
    # showanswer=finished: closed, so answers are shown
    show = handler_path(app, learner, "planet", "problem_show")
    assert app.post(show).json["answers"] == {"planet_2_1": "choice_1"}


def test_numerical_with_percent_tolerance_and_show_past_due(app, db, learner):
    path = handler_path(app, learner, "light", "problem_check")
    assert app.post(path, {input_name("light"): "300000"}).json["success"] == "correct"
    assert app.post(path, {input_name("light"): "310000"}).json["success"] == "incorrect"
    assert app.post(path, {input_name("light"): "not a number"}).json["success"] == "incorrect"
    show = handler_path(app, learner, "light", "problem_show")
    assert app.post(show).json == {"success": STATE_CHANGED}  # showanswer=past_due


def test_past_due_after_grace_period_is_closed(app, db, learner):
    path = handler_path(app, learner, "late", "problem_check")
    assert app.post(path, {input_name("late"): "choice_1"}).json == {"success": STATE_CHANGED}
    assert db.scalar(select(Score)) is None
    save = handler_path(app, learner, "late", "problem_save")
    assert app.post(save, {input_name("late"): "choice_1"}).json == \
        {"success": False, "msg": "Problem is closed."}


def test_save_reset_and_get(app, db, learner):
    save = handler_path(app, learner, "light", "problem_save")
    body = app.post(save, {input_name("light"): "1"}).json
    assert body["success"] is True and body["msg"] == "Your answers have been saved."
    reset = handler_path(app, learner, "light", "problem_reset")
    assert app.post(reset).json == {
        "success": False, "msg": "You must submit an answer before you can select Reset."}
    check = handler_path(app, learner, "light", "problem_check")
    app.post(check, {input_name("light"): "1"})
    body = app.post(reset).json
    assert body["success"] is True and "problem_light" in body["html"]
    get = handler_path(app, learner, "light", "problem_get")
    assert "problem_light" in app.get(get).json["html"]
    assert db.scalar(select(StudentStateHistory.id).limit(1)) is not None


def test_reset_publishes_a_zero_score_and_keeps_attempts(app, db, learner):
    check = handler_path(app, learner, "light", "problem_check")
    assert app.post(check, {input_name("light"): "300000"}).json["current_score"] == 1.0
    reset = handler_path(app, learner, "light", "problem_reset")
    assert app.post(reset).json["success"] is True
    score = db.scalar(select(Score).where(Score.usage_key == key("light")))
    assert (score.earned, score.possible) == (0.0, 1.0)
    assert [h.earned for h in db.scalars(select(ScoreHistory).order_by(ScoreHistory.id))] == \
        [1.0, 0.0]
    state = db.scalar(select(StudentState).where(StudentState.usage_key == key("light")))
    assert state.attempts == 1 and "student_answers" not in state.state
    assert state.state["score"] == {"raw_earned": 0.0, "raw_possible": 1.0}
    body = app.post(check, {input_name("light"): "300000"}).json
    assert (body["attempts_used"], body["current_score"]) == (2, 1.0)


def test_xmodule_handler_dispatch_as_capa_javascript_calls_it(app, db, learner):
    base = handler_path(app, learner, "planet", "xmodule_handler")
    assert base.endswith("/xmodule_handler/")
    body = app.post(base + "problem_check", {input_name("planet"): "choice_1"}).json
    assert (body["success"], body["current_score"]) == ("correct", 1.0)
    score = db.scalar(select(Score).where(Score.usage_key == key("planet")))
    assert (score.earned, score.possible) == (1.0, 1.0)
    assert "problem_planet" in app.get(base + "problem_get").json["html"]
    app.post(base + "no_such_dispatch", status=404)
    # only xmodule_handler takes a dispatch
    other = handler_path(app, learner, "planet", "problem_check")
    app.post(other + "problem_check", status=404)
    # the token is still the credential
    user_part = base.split("/handler/")[1].split("/")[0]
    forged = base.replace(user_part, user_part[:-1] + ("0" if user_part[-1] != "0" else "1"))
    app.post(forged + "problem_check", status=403)


def test_tokens_users_and_bad_input(app, db, learner):
    path = handler_path(app, learner, "planet", "problem_check")
    user_part = path.split("/handler/")[1].split("/")[0]
    bad = path.replace(user_part, user_part[:-1] + ("0" if user_part[-1] != "0" else "1"))
    assert app.post(bad, status=403).json == {"detail": "Invalid/expired auth token."}
    other = create_user(db, "other_learner", password=None)
    db.commit()
    # a token for another user does not verify for this one
    swapped = path.replace(user_part, f"{other.id}-{user_part.split('-', 1)[1]}")
    app.post(swapped, status=403)
    # another user's own valid URL: not enrolled, may not see the block
    from plugins.courses.render import handler_url
    other_url = urlsplit(handler_url(app.registry.settings, "http://x", key("planet"), other.id,
                                     "problem_check")).path
    app.post(other_url, status=403)
    # anonymous tokens carry no learner
    anon = handler_url(app.registry.settings, "http://x", key("planet"), "anon0123",
                       "problem_check")
    app.post(urlsplit(anon).path, status=403)
    # unknown handlers and non-problem blocks are 404
    app.post(handler_path(app, learner, "planet", "nope"), status=404)
    app.post(handler_path(app, learner, "h", "problem_check", "html"), status=404)
    # malformed JSON body is 400, never 500
    app.post(path, b"{not json", content_type="application/json", status=400)
    app.post(path, b"[1]", content_type="application/json", status=400)
    body = app.post_json(path, {input_name("planet"): "choice_1"}).json
    assert body["success"] == "correct"
    app.post(path.replace("planet", "missing"), status=403)  # token is per block


def test_hostile_problem_does_not_crash(app, db):
    user = create_user(db, "hostile", password=None)
    hostile = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><problem>&b;</problem>'
    make_course(db, Node("course", "course", display_name="H", children=[
        Node("chapter", "c", children=[Node("sequential", "s", children=[
            Node("vertical", "v", children=[
                Node("problem", "bad", data={"xml": hostile})])])])]), course_key=KEY)
    enrollment_api.enroll(db, user.id, KEY)
    db.commit()
    path = handler_path(app, user, "bad", "problem_check")
    assert app.post(path, {"input_bad_2_1": "x"}).json == \
        {"success": "Error: the problem could not be loaded."}


@pytest.mark.parametrize("course", ["sample", "openedx-test-course"])
def test_real_courses_answered_right_and_wrong(app, db, tmp_path, course):
    """Every problem of the sample course and the shared test course, through the handler:
    even-numbered ones right, the others wrong."""
    import tarfile

    from plugins.courses import api as courses_api
    from plugins.courses.importer import import_course
    from plugins.grades import capa
    from tests.plugins.courses.test_import_helpers import find_test_course

    if course == "sample":
        root = Path(SAMPLE_COURSE_DIR)
    else:
        archive = find_test_course()
        if archive is None:
            pytest.skip("the shared Open edX test course export is not available")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp_path, filter="data")
        root = tmp_path / "course"
    result = import_course(db, root)
    course_key = str(result.course_key)
    user = create_user(db, "real_learner", password=None)
    enrollment_api.enroll(db, user.id, course_key)
    db.commit()
    structure = courses_api.get_structure(app.registry, db, courses_api.get_course(db, course_key))
    nodes = [n for n in structure.blocks.values() if n.block_type == "problem"]
    assert nodes
    checked = 0
    for index, node in enumerate(sorted(nodes, key=lambda n: n.usage_key)):
        if not courses_api.may_see_block(app.registry, db, user, node.usage_key):
            continue
        from urllib.parse import quote
        url = app.get(f"/api/xblock/v2/xblocks/{quote(node.usage_key, safe=':+@')}"
                      f"/handler_url/problem_check/", headers=jwt_headers(app, user)).json
        problem = capa.problem_for(node)
        right = capa.correct_answers(problem)
        answers = {f"input_{k}" + ("[]" if isinstance(v, list) else ""): v
                   for k, v in right.items()}
        if index % 2:
            answers = {k: ([] if isinstance(v, list) else "wrong-choice_99")
                       for k, v in answers.items()}
        body = app.post(urlsplit(url["handler_url"]).path, answers).json
        if body.get("success") == STATE_CHANGED:
            continue  # closed (past due) in this export
        assert body["success"] == ("incorrect" if index % 2 else "correct"), node.usage_key
        assert body["total_possible"] == problem.max_score
        checked += 1
    assert checked >= 2
    assert db.scalar(select(Score.id).limit(1)) is not None
