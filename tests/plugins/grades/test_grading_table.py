"""Hand-computed course grades pinned against upstream's arithmetic (plugins.grades.grading)."""
import json
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from plugins.grades import grading

TEST_COURSE = Path(__file__).resolve().parents[3] / "../shared/courses/openedx-test-course.tar.gz"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def sub(fmt, name, earned, possible, graded=True, **extra):
    totals = grading.subsection_totals([(earned, possible)], graded)
    return dict(format=fmt, display_name=name, graded=graded,
                earned_graded=totals.earned_graded, possible_graded=totals.possible_graded,
                percent_graded=totals.percent_graded, **extra)


def hw(min_count, drop_count, weight=1.0, **extra):
    return dict(type="Homework", short_label="HW", min_count=min_count,
                drop_count=drop_count, weight=weight, **extra)


def labels(result):
    return [entry["label"] for entry in result.summary["section_breakdown"]]


def test_problem_weight_and_subsection_percent():
    assert grading.weighted_score(1, 2, 5) == (2.5, 5.0)
    assert grading.weighted_score(1, 2, None) == (1, 2)
    assert grading.weighted_score(0, 0, 5) == (0, 0)  # raw possible 0: weight ignored
    totals = grading.subsection_totals([(1, 3), (0, 0), (1, 3)], graded=True)
    assert (totals.earned_all, totals.possible_all, totals.percent_graded) == (2, 6, 0.33)
    # numpy.around: 0.675 scales to 67.5, which rounds to even (68); 0.125 -> 12
    assert (grading.compute_percent(0.675, 1), grading.compute_percent(1, 8)) == (0.68, 0.12)
    ungraded = grading.subsection_totals([(1, 3)], graded=False)
    assert (ungraded.earned_all, ungraded.possible_graded, ungraded.percent_graded) == (1, 0, 0.0)


CASES = [
    # (policy GRADER, cutoffs, subsections, percent, letter, passed, labels)
    pytest.param([hw(3, 1)], {"Pass": 0.5},
                 [sub("Homework", "A", 2, 2), sub("Homework", "B", 1, 2), sub("Homework", "C", 0, 2)],
                 0.75, "Pass", True, ["HW 01", "HW 02", "HW 03", "HW Avg"], id="drop-lowest"),
    pytest.param([hw(4, 0)], {"Pass": 0.5}, [sub("Homework", "A", 4, 5)],
                 0.2, None, False, ["HW 01", "HW 02", "HW 03", "HW 04", "HW Avg"], id="padding"),
    pytest.param([hw(1, 0), dict(type="Bonus", min_count=1, drop_count=0, weight=0.5)],
                 {"Pass": 0.5}, [sub("Homework", "A", 1, 1), sub("Bonus", "X", 1, 1)],
                 1.5, "Pass", True, ["HW", "Bonus"], id="weights-above-1"),
    # raw 0.8345 -> 83.45 + 0.05 = 83.5 -> 84 (away from zero)
    pytest.param([hw(1, 0, weight=0.8345)], {"A": 0.9, "B": 0.84, "Pass": 0.5},
                 [sub("Homework", "A", 1, 1)], 0.84, "B", True, ["HW"], id="rounding-up"),
    pytest.param([hw(1, 0, weight=0.8244)], {"A": 0.9, "B": 0.83, "Pass": 0.5},
                 [sub("Homework", "A", 1, 1)], 0.82, "Pass", True, ["HW"], id="rounding-down"),
    pytest.param([hw(1, 0)], {"Pass": 0.5}, [sub("Homework", "U", 1, 1, graded=False)],
                 0.0, None, False, ["HW"], id="ungraded-ignored"),
    pytest.param([hw(2, 0), {"type": "Broken", "weight": 1.0}], {"Pass": 0.5},
                 [sub("Homework", "A", 1, 1), sub("Broken", "B", 1, 1)],
                 0.5, "Pass", True, ["HW 01", "HW 02", "HW Avg"], id="entry-without-min-count"),
]


@pytest.mark.parametrize("grader, cutoffs, subsections, percent, letter, passed, expected", CASES)
def test_course_grade_table(grader, cutoffs, subsections, percent, letter, passed, expected):
    result = grading.course_result({"GRADER": grader, "GRADE_CUTOFFS": cutoffs}, subsections)
    assert (result.percent, result.letter_grade, result.passed) == (percent, letter, passed)
    assert labels(result) == expected
    assert result.summary["percent"] == percent and result.summary["grade"] == letter


def test_breakdown_details_drops_and_padding():
    result = grading.course_result(
        {"GRADER": [hw(4, 1, weight=0.5)], "GRADE_CUTOFFS": {"Pass": 0.5}},
        [sub("Homework", "Intro", 1, 2), sub("Homework", "Loops", 2.5, 2.5)])
    breakdown = result.summary["section_breakdown"]
    assert breakdown[0] == {"percent": 0.5, "label": "HW 01", "category": "Homework",
                            "detail": "Homework 1 - Intro - 50% (1/2)"}
    assert breakdown[1]["detail"] == "Homework 2 - Loops - 100% (2.5/2.5)"
    assert breakdown[2]["detail"] == "Homework 3 Unreleased - 0% (?/?)"
    # two zeros tie: the later one is dropped
    assert "mark" not in breakdown[2]
    assert breakdown[3]["mark"] == {"detail": "The lowest 1 Homework scores are dropped."}
    assert breakdown[4] == {"percent": 0.5, "label": "HW Avg", "category": "Homework",
                            "detail": "Homework Average = 50%", "prominent": True}
    assert result.summary["grade_breakdown"] == {"Homework": {
        "percent": 0.25, "category": "Homework",
        "detail": "Homework = 25.00% of a possible 50.00%"}}
    assert (result.percent, result.passed) == (0.25, False)


def test_overrides_replace_set_fields_only():
    totals = grading.subsection_totals([(1, 4)], graded=True)
    overridden = grading.apply_override(totals, {"earned_graded_override": 3,
                                                 "possible_graded_override": None})
    assert (overridden.earned_all, overridden.possible_all) == (1, 4)
    assert (overridden.earned_graded, overridden.possible_graded) == (3.0, 4)
    assert overridden.percent_graded == 0.75
    subsection = dict(format="Homework", display_name="A", graded=True,
                      earned_graded=overridden.earned_graded,
                      possible_graded=overridden.possible_graded,
                      percent_graded=overridden.percent_graded)
    result = grading.course_result({"GRADER": [hw(1, 0)], "GRADE_CUTOFFS": {"Pass": 0.8}},
                                   [subsection])
    assert (result.percent, result.passed) == (0.75, False)


def test_hidden_correctness():
    future, past = NOW + timedelta(days=1), NOW - timedelta(days=1)
    subsections = [
        sub("Homework", "Never", 1, 1, show_correctness="never"),
        sub("Homework", "Later", 1, 1, show_correctness="past_due", due=future),
        sub("Homework", "Past", 1, 1, show_correctness="past_due", due=past),
        sub("Homework", "Always", 0, 1, show_correctness="always"),
    ]
    policy = {"GRADER": [hw(1, 0)], "GRADE_CUTOFFS": {"Pass": 0.5}}
    full = grading.course_result(policy, subsections, now=NOW)
    assert full.percent == 0.75 and labels(full)[-1] == "HW Avg"
    visible = grading.course_result(policy, subsections, visible_only=True, now=NOW)
    assert visible.percent == 0.5
    assert [e["detail"] for e in visible.summary["section_breakdown"]][:2] == [
        "Homework 1 - Past - 100% (1/1)", "Homework 2 - Always - 0% (0/1)"]
    assert grading.correctness_available("never", None, has_staff_access=True) is False
    assert grading.correctness_available("past_due", future, has_staff_access=True, now=NOW)


def test_default_policy_when_course_has_none():
    assert grading.effective_policy({}) == grading.DEFAULT_GRADING_POLICY
    result = grading.course_result(None, [])
    assert (result.percent, result.letter_grade, result.passed) == (0.0, None, False)


def test_shared_test_course_policy():
    with tarfile.open(TEST_COURSE) as tar:
        policy = json.load(tar.extractfile("course/policies/1/grading_policy.json"))
    subsections = ([sub("Homework", f"H{i}", i % 2, 1) for i in range(10)]  # 5 of 10 full
                   + [sub("Lab", "L1", 1, 2)]
                   + [sub("Midterm Exam", "Mid", 9, 10), sub("Final Exam", "Fin", 3, 4)])
    result = grading.course_result(policy, subsections)
    # HW: 5 ones + 7 zeros, drop 2 -> 5/10 = 0.5; Lab: 0.5 + 11 zeros, drop 2 -> 0.05
    # 0.15*0.5 + 0.15*0.05 + 0.3*0.9 + 0.4*0.75 = 0.6525 -> 65.3 -> 65
    assert (result.percent, result.letter_grade, result.passed) == (0.65, "Pass", True)
    assert labels(result) == (
        [f"HW {i:02d}" for i in range(1, 13)] + ["HW Avg"]
        + [f"Lab {i:02d}" for i in range(1, 13)] + ["Lab Avg", "Midterm", "Final"])
    breakdown = {e["label"]: e for e in result.summary["section_breakdown"]}
    assert breakdown["HW Avg"]["percent"] == 0.5
    assert breakdown["Lab 12"]["detail"] == "Lab 12 Unreleased - 0% (?/?)"
    assert breakdown["Midterm"] == {"percent": 0.9, "label": "Midterm", "category": "Midterm Exam",
                                    "detail": "Midterm Exam = 90%", "prominent": True}
    assert list(result.summary["grade_breakdown"]) == [
        "Homework", "Lab", "Midterm Exam", "Final Exam"]
    assert result.summary["grade_breakdown"]["Final Exam"]["detail"] == (
        "Final Exam = 30.00% of a possible 40.00%")
