"""Course grades from a course's structure and scores: persisted, refreshed after commit,
recomputed course-wide (job with progress, on re-import with a new policy, CLI)."""
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms.testing import create_user
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_grades
from plugins.grades.models import (CourseGrade, RecomputeJob, SubsectionGrade,
                                   SubsectionOverride)
from tests.plugins.courses.factories import Node, make_course, usage_key

KEY = "course-v1:edX+Grades+2026"
POLICY = {"GRADER": [{"type": "Homework", "short_label": "HW", "min_count": 2,
                      "drop_count": 0, "weight": 1.0}],
          "GRADE_CUTOFFS": {"Pass": 0.5}}
ONE_RESPONSE = {"xml": "<problem><multiplechoiceresponse/></problem>"}
TWO_RESPONSES = {"xml": "<problem><stringresponse/><numericalresponse/></problem>"}
WHEN = datetime(2026, 3, 1, tzinfo=timezone.utc)


def tree():
    return Node("course", "course", display_name="Grades Course", children=[
        Node("chapter", "ch1", display_name="Week 1", children=[
            Node("sequential", "hw1", display_name="HW one", graded=True, format="Homework",
                 children=[Node("vertical", "u1", children=[
                     Node("problem", "p1", display_name="P1", weight=2, data=ONE_RESPONSE)])]),
            Node("sequential", "hw2", display_name="HW two", graded=True, format="Homework",
                 children=[Node("vertical", "u2", children=[
                     Node("problem", "p2", display_name="P2", data=TWO_RESPONSES),
                     Node("html", "h2", data={"html": "<p>x</p>"})])]),
            Node("sequential", "practice", display_name="Practice", children=[
                Node("vertical", "u3", children=[
                    Node("problem", "p3", display_name="P3", data=ONE_RESPONSE)])]),
        ]),
    ])


def key(block_type, block_id):
    return usage_key(KEY, block_type, block_id)


@dataclass
class FakeScore:
    earned: float
    possible: float
    first_attempted: object = WHEN


SCORES = {}


@pytest.fixture(autouse=True)
def fake_scores(monkeypatch):
    """Scores as helper A's scores.scores_for answers them (raw points)."""
    SCORES.clear()

    def scores_for(db, course_key, user_ids):
        return {uid: dict(SCORES.get(uid, {})) for uid in user_ids}

    monkeypatch.setattr(course_grades, "scores_for", scores_for)
    yield SCORES


@pytest.fixture
def course(db):
    return make_course(db, tree(), course_key=KEY, grading_policy=POLICY)


def test_course_grade_from_structure_and_scores(app, db, course):
    user = create_user(db, "ann")
    # p1: 1 of 1 raw, weight 2 -> 2/2; p2 never attempted: 0 of its 2 responses;
    # p3 is in an ungraded subsection
    SCORES[user.id] = {key("problem", "p1"): FakeScore(1, 1), key("problem", "p3"): FakeScore(1, 1)}
    view = course_grades.course_grade(app.registry, db, user.id, course)
    db.commit()
    assert (view.percent, view.letter_grade, view.passed) == (0.5, "Pass", True)
    hw1, hw2, practice = view.subsections
    assert (hw1.earned_graded, hw1.possible_graded, hw1.percent_graded, hw1.attempted) == (
        2.0, 2.0, 1.0, True)
    assert hw1.problem_scores == {key("problem", "p1"): (2.0, 2.0)}
    assert (hw2.earned_all, hw2.possible_all, hw2.attempted) == (0.0, 2.0, False)
    assert (practice.graded, practice.earned_all, practice.possible_graded) == (False, 1.0, 0.0)
    assert [c.display_name for c in view.chapters] == ["Week 1"]
    assert [e["label"] for e in view.summary["section_breakdown"]] == ["HW 01", "HW 02", "HW Avg"]
    rows = db.execute(select(SubsectionGrade.usage_key, SubsectionGrade.earned_graded)
                      .order_by(SubsectionGrade.usage_key)).all()
    assert rows == [(key("sequential", "hw1"), 2.0), (key("sequential", "practice"), 0.0)]
    stored = course_grades.course_grades_for(app.registry, db, course, [user.id])[user.id]
    assert (stored.percent, stored.letter_grade, stored.passed) == (0.5, "Pass", True)


def test_override_counts(app, db, course):
    user = create_user(db, "ann")
    grade = SubsectionGrade(user_id=user.id, course_key=KEY, usage_key=key("sequential", "hw2"))
    db.add(grade)
    db.flush()
    db.add(SubsectionOverride(grade_id=grade.id, earned_graded_override=2.0, system="GRADEBOOK"))
    db.commit()
    view = course_grades.course_grade(app.registry, db, user.id, course, persist=False)
    hw2 = view.subsection(key("sequential", "hw2"))
    assert (hw2.earned_graded, hw2.possible_graded, hw2.attempted) == (2.0, 2.0, True)
    assert hw2.override["earned_graded_override"] == 2.0
    assert (hw2.original.earned_graded, view.percent) == (0.0, 0.5)


def test_schedule_refresh_runs_after_commit_only(app, db, course):
    user = create_user(db, "ann")
    SCORES[user.id] = {key("problem", "p1"): FakeScore(1, 1)}
    course_grades.schedule_refresh(db, user.id, KEY)
    db.rollback()
    assert db.scalar(select(CourseGrade)) is None
    course_grades.schedule_refresh(db, user.id, KEY)
    db.commit()
    row = db.scalar(select(CourseGrade).where(CourseGrade.user_id == user.id))
    assert (row.percent, row.letter_grade) == (0.5, "Pass")


def test_schedule_refresh_uses_the_task_for_large_courses(app_factory, settings, monkeypatch):
    app = app_factory(**{**settings, "grades.sync_refresh_max_blocks": "3"})
    db = app.registry["lms.dbsession_factory"]()
    try:
        make_course(db, tree(), course_key=KEY, grading_policy=POLICY)
        user = create_user(db, "ann")
        SCORES[user.id] = {key("problem", "p1"): FakeScore(1, 1)}
        sent = []
        from plugins.grades import tasks
        real = tasks.send_task
        monkeypatch.setattr(tasks, "send_task",
                            lambda registry, task, *args: sent.append(
                                (task.name, real(registry, task, *args).traceback)))
        course_grades.schedule_refresh(db, user.id, KEY)
        db.commit()
        assert sent == [("grades.refresh", None)]  # no traceback
        assert db.scalar(select(CourseGrade.percent)) == 0.5
    finally:
        db.rollback()
        db.close()


def test_course_recompute_job_and_policy_change(app, db, course):
    ann, bob = create_user(db, "ann"), create_user(db, "bob")
    for user in (ann, bob):
        enrollment_api.enroll(db, user.id, KEY)
    db.commit()
    SCORES[ann.id] = {key("problem", "p1"): FakeScore(1, 1)}
    job = course_grades.start_recompute(db, KEY, reason="test")
    db.commit()  # eager Celery: the task runs after commit
    db.expire_all()
    job = db.get(RecomputeJob, job.id)
    assert (job.status, job.total, job.done) == ("succeeded", 2, 2)
    grades = dict(db.execute(select(CourseGrade.user_id, CourseGrade.percent)).all())
    assert grades == {ann.id: 0.5, bob.id: 0.0}
    # re-import with the same policy: no job; with a new one: a job recomputes everyone
    make_course(db, tree(), course_key=KEY, grading_policy=POLICY)
    assert db.scalar(select(RecomputeJob.id).where(RecomputeJob.id != job.id)) is None
    new_policy = {**POLICY, "GRADE_CUTOFFS": {"Pass": 0.6}}
    make_course(db, tree(), course_key=KEY, grading_policy=new_policy)
    db.expire_all()
    jobs = db.scalars(select(RecomputeJob).order_by(RecomputeJob.id)).all()
    assert [(j.status, j.reason, j.done) for j in jobs[1:]] == [
        ("succeeded", "grading policy changed", 2)]
    row = db.scalar(select(CourseGrade).where(CourseGrade.user_id == ann.id))
    assert (row.letter_grade, row.passed) == ("", False)


def test_cli_recompute(run_cli, cli_database_url):
    from sqlalchemy.orm import Session

    from lms.db import make_engine
    from lms.models import User
    from tests.plugins.courses.factories import flatten

    assert run_cli("migrate").exit_code == 0
    engine = make_engine({"sqlalchemy.url": cli_database_url})
    try:
        with Session(engine) as db:
            from plugins.courses.api import store_course
            store_course(db, KEY, {"display_name": "Grades Course", "grading_policy": POLICY},
                         flatten(KEY, tree()))
            user = User(username="cli_ann", email="cli_ann@example.com")
            db.add(user)
            db.flush()
            enrollment_api.enroll(db, user.id, KEY)
            db.commit()
        result = run_cli("grades", "recompute", KEY)
        assert result.exit_code == 0, result.output
        assert result.output.endswith("succeeded, 1/1 learners\n")
        with Session(engine) as db:
            assert db.scalar(select(CourseGrade.percent)) == 0.0
            assert db.scalar(select(RecomputeJob.status)) == "succeeded"
        bad = run_cli("grades", "recompute", "nope")
        assert bad.exit_code == 1 and "not a valid course key" in bad.output
        missing = run_cli("grades", "recompute", "course-v1:edX+None+1")
        assert missing.exit_code == 1 and "does not exist" in missing.output
    finally:
        engine.dispose()
