"""Upstream's grade arithmetic as pure functions (no database, no request).

The facts follow Open edX (``xmodule/graders.py`` and ``lms/djangoapps/grades``):

1. a problem's score is its raw earned/possible, scaled to ``weight`` points when the
   block has a weight and raw possible > 0 (:func:`weighted_score`);
2. a subsection sums its problems into an *all* total and a *graded* total; its
   ``percent_graded`` is graded earned/possible rounded to 2 places (:func:`subsection_totals`);
   an override replaces any of the four totals that it sets (:func:`apply_override`);
3. the grade sheet holds graded subsections with graded possible > 0, grouped by format
   (:func:`grade_sheet`); learner-visible grades leave out subsections whose correctness
   is hidden (:func:`correctness_available`);
4. each GRADER entry is an assignment-type grader (:func:`grade_assignment_type`): pad to
   ``min_count`` with "Unreleased" zeros, drop the ``drop_count`` lowest, average the rest;
5. the course's raw percent is the sum of average × weight, weights not normalised
   (:func:`grade_policy`);
6. the course percent is rounded half away from zero to whole points after adding 0.05
   (:func:`round_course_percent`); letter grade and passed come from ``GRADE_CUTOFFS``.
"""
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone

#: The policy of a course that has none (Open edX's default course policy).
DEFAULT_GRADING_POLICY = {
    "GRADER": [
        {"type": "Homework", "min_count": 12, "drop_count": 2, "short_label": "HW",
         "weight": 0.15},
        {"type": "Lab", "min_count": 12, "drop_count": 2, "weight": 0.15},
        {"type": "Midterm Exam", "min_count": 1, "drop_count": 0, "short_label": "Midterm",
         "weight": 0.3},
        {"type": "Final Exam", "min_count": 1, "drop_count": 0, "short_label": "Final",
         "weight": 0.4},
    ],
    "GRADE_CUTOFFS": {"Pass": 0.5},
}

OVERRIDE_FIELDS = ("earned_all_override", "possible_all_override",
                   "earned_graded_override", "possible_graded_override")


def effective_policy(policy):
    """The course's policy, or the default one when it has no GRADER/GRADE_CUTOFFS."""
    policy = policy or {}
    return {
        "GRADER": list(policy.get("GRADER") or DEFAULT_GRADING_POLICY["GRADER"]),
        "GRADE_CUTOFFS": dict(policy.get("GRADE_CUTOFFS")
                              or DEFAULT_GRADING_POLICY["GRADE_CUTOFFS"]),
    }


def weighted_score(raw_earned, raw_possible, weight):
    """``(earned, possible)`` of a problem with its ``weight`` applied."""
    if weight is None or not raw_possible:
        return raw_earned, raw_possible
    return float(raw_earned) * float(weight) / float(raw_possible), float(weight)


def compute_percent(earned, possible):
    """earned/possible rounded to 2 places as numpy's ``around`` does (the ratio scaled
    by 100 in floating point, then halves to even); 0 when nothing is possible."""
    if possible and possible > 0:
        return round(float(earned) / float(possible) * 100) / 100
    return 0.0


@dataclass
class Totals:
    """A subsection's sums: all problems and graded problems."""
    earned_all: float = 0.0
    possible_all: float = 0.0
    earned_graded: float = 0.0
    possible_graded: float = 0.0

    @property
    def percent_graded(self):
        return compute_percent(self.earned_graded, self.possible_graded)


def subsection_totals(problem_scores, graded):
    """Sum ``[(earned, possible), ...]`` (weights applied) into :class:`Totals`; the
    graded total counts only when the subsection is graded (the flag is inherited)."""
    totals = Totals()
    for earned, possible in problem_scores:
        totals.earned_all += earned
        totals.possible_all += possible
        if graded:
            totals.earned_graded += earned
            totals.possible_graded += possible
    return totals


def apply_override(totals, override):
    """Totals with an override's non-null fields replacing the computed ones."""
    if not override:
        return totals
    out = Totals(totals.earned_all, totals.possible_all, totals.earned_graded,
                 totals.possible_graded)
    for name in OVERRIDE_FIELDS:
        value = override.get(name)
        if value is not None:
            setattr(out, name[:-len("_override")], float(value))
    return out


def correctness_available(show_correctness, due=None, has_staff_access=False, now=None):
    """Open edX ShowCorrectness: ``never`` hides from everyone, staff see otherwise,
    ``past_due`` shows once the due date (if any) is past, ``always`` (default) shows."""
    if show_correctness == "never":
        return False
    if has_staff_access:
        return True
    if show_correctness == "past_due":
        now = now or datetime.now(timezone.utc)
        return due is None or due < now
    return True


@dataclass
class SheetEntry:
    """What an assignment-type grader reads from one subsection."""
    display_name: str
    earned_graded: float
    possible_graded: float
    percent_graded: float


def grade_sheet(subsections, visible_only=False, now=None):
    """``{format: [SheetEntry]}`` in course order from subsection dicts or objects having
    ``graded, format, display_name, earned_graded, possible_graded, percent_graded`` (and
    ``show_correctness``, ``due`` for ``visible_only``)."""
    sheet = OrderedDict()
    for sub in subsections:
        get = sub.get if isinstance(sub, dict) else (lambda n, s=sub: getattr(s, n, None))
        if not get("graded") or not (get("possible_graded") or 0) > 0:
            continue
        if visible_only and not correctness_available(get("show_correctness"), get("due"),
                                                      False, now):
            continue
        sheet.setdefault(get("format") or "", []).append(SheetEntry(
            get("display_name") or "", get("earned_graded"), get("possible_graded"),
            get("percent_graded")))
    return sheet


def _short_label(prefix, index):
    return f"{prefix} {index:02d}"


def grade_assignment_type(entry, scores):
    """One GRADER entry applied to its subsections' :class:`SheetEntry` list:
    ``{"percent", "section_breakdown"}`` as upstream's assignment-format grader."""
    section_type = entry["type"]
    category = entry["type"]
    short_label = entry.get("short_label") or section_type
    min_count = int(float(entry.get("min_count") or 0))
    drop_count = int(entry.get("drop_count") or 0)
    breakdown = []
    for i in range(max(min_count, len(scores))):
        index = i + 1
        if i < len(scores):
            score = scores[i]
            percent = score.percent_graded
            detail = "{} {} - {} - {:.0%} ({:.3n}/{:.3n})".format(
                section_type, index, score.display_name, percent,
                float(score.earned_graded), float(score.possible_graded))
        else:
            percent = 0.0
            detail = f"{section_type} {index} Unreleased - 0% (?/?)"
        breakdown.append({"percent": percent, "label": _short_label(short_label, index),
                          "detail": detail, "category": category})
    # the lowest drop_count are dropped; among equal percents the later ones go first
    ranked = sorted(enumerate(breakdown), key=lambda pair: -pair[1]["percent"])
    dropped = [i for i, _ in ranked[-drop_count:]] if drop_count > 0 else []
    total = sum(mark["percent"] for i, mark in enumerate(breakdown) if i not in dropped)
    if len(breakdown) - drop_count > 0:
        total /= len(breakdown) - drop_count
    for i in dropped:
        breakdown[i]["mark"] = {
            "detail": f"The lowest {drop_count} {section_type} scores are dropped."}
    if len(breakdown) == 1:
        breakdown = [{"percent": total, "label": short_label,
                      "detail": "{} = {:.0%}".format(section_type, total),
                      "category": category, "prominent": True}]
    else:
        breakdown.append({"percent": total, "label": f"{short_label} Avg",
                          "detail": "{} Average = {:.0%}".format(section_type, total),
                          "category": category, "prominent": True})
    return {"percent": total, "section_breakdown": breakdown}


def grade_policy(policy, sheet):
    """The weighted sum over the policy's GRADER entries (only those with ``min_count``,
    as upstream accepts): ``{"percent" (raw), "section_breakdown", "grade_breakdown"}``."""
    total = 0.0
    section_breakdown = []
    grade_breakdown = OrderedDict()
    for entry in policy["GRADER"]:
        if "min_count" not in entry or "type" not in entry:
            continue
        weight = float(entry.get("weight") or 0)
        result = grade_assignment_type(entry, sheet.get(entry["type"], []))
        weighted = result["percent"] * weight
        total += weighted
        section_breakdown += result["section_breakdown"]
        grade_breakdown[entry["type"]] = {
            "percent": weighted,
            "detail": "{} = {:.2%} of a possible {:.2%}".format(entry["type"], weighted, weight),
            "category": entry["type"],
        }
    return {"percent": total, "section_breakdown": section_breakdown,
            "grade_breakdown": grade_breakdown}


def round_away_from_zero(number):
    """Round to an integer, halves away from zero (Python's round() goes to even)."""
    return float(math.copysign(math.floor(abs(number) + 0.5), number))


def round_course_percent(raw):
    """The course percent: whole points, ``round_away_from_zero(raw*100 + 0.05) / 100``."""
    return round_away_from_zero(raw * 100 + 0.05) / 100


def letter_grade(cutoffs, percent):
    """The highest cutoff's letter whose cutoff ≤ percent, else None."""
    for letter, cutoff in sorted(cutoffs.items(), key=lambda item: item[1], reverse=True):
        if percent >= cutoff:
            return letter
    return None


def passed(cutoffs, percent):
    """True when percent reaches the smallest non-zero cutoff."""
    nonzero = [cutoff for cutoff in cutoffs.values() if cutoff > 0]
    return bool(nonzero) and percent >= min(nonzero)


@dataclass
class CourseResult:
    percent: float
    letter_grade: object
    passed: bool
    summary: dict = field(default_factory=dict)


def course_result(policy, subsections, visible_only=False, now=None):
    """Everything a course grade needs from its subsections (see :func:`grade_sheet`):
    a :class:`CourseResult` whose ``summary`` is upstream's grade summary dict."""
    policy = effective_policy(policy)
    graded = grade_policy(policy, grade_sheet(subsections, visible_only, now))
    percent = round_course_percent(graded["percent"])
    letter = letter_grade(policy["GRADE_CUTOFFS"], percent)
    summary = {"percent": percent, "grade": letter,
               "section_breakdown": graded["section_breakdown"],
               "grade_breakdown": graded["grade_breakdown"]}
    return CourseResult(percent, letter, passed(policy["GRADE_CUTOFFS"], percent), summary)
