"""End to end over HTTP on the sample course: a learner enrolls, answers the graded
homework's problems through the signed handler URLs (one right, one wrong until its
attempts run out, then refused), and the grades API, the gradebook and course_home's
progress all tell the same grade; completion (a read html block, the answered problems)
and the verified certificate generated with the passing grade agree with them.

The sample course's policy: Homework (min_count 1, drop 0, weight 1.0), Pass at 0.6.
Homework 1 holds "Largest planet" (1 point, weight 1, max 2 attempts) and "One light
second" (1 point, weight 2, max 3 attempts). Jupiter wrong twice and light right:
0/1 + 2/2 weighted = 2 of 3 points, 0.6667, shown as 0.67 and passing."""
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from lms.testing import create_user, jwt_headers
from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.courses.importer import import_course
from plugins.grades.models import BlockCompletion, CourseGrade, Score

KEY = "course-v1:OpenLMS+Sample+2026"
PLANET = "block-v1:OpenLMS+Sample+2026+type@problem+block@largest_planet"
LIGHT = "block-v1:OpenLMS+Sample+2026+type@problem+block@light_second"
HOMEWORK = "block-v1:OpenLMS+Sample+2026+type@sequential+block@homework_1"
INTRO_HTML = "block-v1:OpenLMS+Sample+2026+type@html+block@welcome_text"
STATE_CHANGED = ("The state of this problem has changed since you loaded this page. "
                 "Please refresh your page.")


@pytest.fixture
def settings(settings):
    return {**settings, "grades.writable_gradebook": "true",
            "courses.auto_certificate_generation": "true"}


@pytest.fixture
def people(app, db):
    result = import_course(db, SAMPLE_COURSE_DIR)
    assert str(result.course_key) == KEY
    learner = create_user(db, "ada", email="ada@example.com", password=None)
    admin = create_user(db, "root", is_staff=True, password=None)
    db.commit()
    return {"learner": learner, "admin": admin}


def handler_path(app, user, usage_key, name):
    url = (f"/api/xblock/v2/xblocks/{quote(usage_key, safe=':+@')}"
           f"/handler_url/{name}/")
    return urlsplit(app.get(url, headers=jwt_headers(app, user)).json["handler_url"]).path


def check_path(app, user, usage_key):
    return handler_path(app, user, usage_key, "problem_check")


def test_answers_through_the_handler_agree_everywhere(app, db, people):
    learner, admin = people["learner"], people["admin"]
    as_learner, as_admin = jwt_headers(app, learner), jwt_headers(app, admin)
    response = app.post_json("/api/enrollment/v1/enrollment",
                             {"course_details": {"course_id": KEY}}, headers=as_learner)
    assert response.json["is_active"] is True
    # Global staff offers the verified track and moves the learner to it.
    app.post_json(f"/api/course_modes/v1/courses/{KEY}/", {
        "course_id": KEY, "mode_slug": "verified", "mode_display_name": "Verified",
        "min_price": 49, "currency": "usd"}, headers=as_admin, status=201)
    response = app.post_json("/api/enrollment/v1/enrollment", {
        "user": "ada", "mode": "verified", "course_details": {"course_id": KEY}},
        headers=as_admin)
    assert response.json["mode"] == "verified"

    # The learner reads the first unit (its html completed on view, as the learning MFE's
    # JavaScript reports it).
    intro = handler_path(app, learner, INTRO_HTML, "publish_completion")
    assert app.post_json(intro, {"completion": 1.0}).json == {"result": "ok"}

    planet = check_path(app, learner, PLANET)
    for attempt in (1, 2):
        body = app.post(planet, {"input_largest_planet_2_1": "choice_0"}).json  # Earth
        assert (body["success"], body["current_score"], body["attempts_used"]) == \
            ("incorrect", 0.0, attempt)
    # Out of attempts: the right answer is refused as upstream refuses it.
    assert app.post(planet, {"input_largest_planet_2_1": "choice_1"}).json == \
        {"success": STATE_CHANGED}
    body = app.post(check_path(app, learner, LIGHT), {"input_light_second_2_1": "300000"}).json
    assert (body["success"], body["current_score"], body["total_possible"]) == \
        ("correct", 1.0, 1.0)

    stored = {row.usage_key: (row.earned, row.possible)
              for row in db.scalars(select(Score).where(Score.user_id == learner.id))}
    assert stored == {PLANET: (0.0, 1.0), LIGHT: (1.0, 1.0)}
    grade = db.scalar(select(CourseGrade).where(CourseGrade.user_id == learner.id))
    assert (grade.percent, grade.letter_grade) == (0.67, "Pass")

    # The grades API, as the learner (the email is shown for masters enrollments only).
    body = app.get(f"/api/grades/v1/courses/{KEY}/", {"username": "ada"},
                   headers=as_learner).json
    assert body == [{"username": "ada", "email": "", "course_id": KEY,
                     "passed": True, "percent": 0.67, "letter_grade": "Pass"}]

    # The gradebook, as global staff.
    entry = app.get(f"/api/grades/v1/gradebook/{KEY}/", {"username": "ada"},
                    headers=as_admin).json
    assert entry["percent"] == 0.67
    [homework] = [item for item in entry["section_breakdown"]
                  if item["module_id"] == HOMEWORK]
    assert (homework["score_earned"], homework["score_possible"], homework["percent"],
            homework["attempted"], homework["label"]) == (2.0, 3.0, 0.67, True, "HW 01")

    # course_home progress, as the learner.
    progress = app.get(f"/api/course_home/v1/progress/{KEY}", headers=as_learner).json
    assert progress["course_grade"] == {"letter_grade": "Pass", "percent": 0.67,
                                        "is_passing": True}
    subsections = [sub for section in progress["section_scores"]
                   for sub in section["subsections"]]
    [scored] = [sub for sub in subsections if sub["block_key"] == HOMEWORK]
    assert scored["problem_scores"] == [{"earned": 0.0, "possible": 1.0},
                                        {"earned": 2.0, "possible": 2.0}]
    # The grader averages subsection percents, which are rounded to 2 places.
    assert progress["assignment_type_grade_summary"] == [{
        "type": "Homework", "short_label": "HW", "weight": 1.0, "num_droppable": 0,
        "num_total": 1, "average_grade": 0.67, "weighted_grade": 0.67,
        "has_hidden_contribution": "none",
        "last_grade_publish_date": "2030-06-30T23:59:00Z"}]
    # Completion: both problems were answered (complete, right or wrong) and the html read.
    assert progress["completion_summary"]["complete_count"] == 3
    done = {row.block_key: row.completion for row in db.scalars(
        select(BlockCompletion).where(BlockCompletion.user_id == learner.id))}
    assert done == {INTRO_HTML: 1.0, PLANET: 1.0, LIGHT: 1.0}
    outline = app.get(f"/api/course_home/v1/outline/{KEY}", headers=as_learner).json
    assert outline["course_blocks"]["blocks"][HOMEWORK]["complete"] is True
    assert outline["resume_course"]["has_visited_course"] is True
    path = quote(HOMEWORK)
    assert app.get(f"/api/completion/v1/subsection-completion/ada/{KEY}/{path}",
                   headers=as_learner).json == {"completion": 1}

    # The certificate: passing in the verified track, generated with the grade.
    certificate = app.get(f"/api/certificates/v0/certificates/ada/courses/{KEY}/",
                          headers=as_learner).json
    assert (certificate["status"], certificate["certificate_type"], certificate["grade"],
            certificate["is_passing"]) == ("downloadable", "verified", "0.67", True)
    page = app.get(urlsplit(certificate["download_url"]).path)
    assert "openlms Sample Course" in page.text and certificate["username"] == "ada"
    assert progress["certificate_data"]["cert_status"] == "downloadable"


@pytest.mark.parametrize("name, value", [("grades.freeze_days", "soon"),
                                         ("grades.sync_refresh_max_blocks", "0"),
                                         ("grades.recompute_batch_size", "-5")])
def test_bad_numbers_stop_the_start_up(app_factory, name, value):
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match=name):
        app_factory(**{name: value})
