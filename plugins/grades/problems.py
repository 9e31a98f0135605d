"""Capa problem handlers as upstream's ProblemBlock answers them (problem_get, problem_check,
problem_reset, problem_show, problem_save), learner state per block with its history.

Closed problems: attempts used up (``max_attempts``; upstream: 0 closes at once, unset is
unlimited) or past ``due`` + ``graceperiod``. Scores are raw points (``weight`` is applied
by the grading side). ``rerandomize`` is ignored (no randomised problems are evaluated).
"""
import html
import re
from datetime import timedelta

from sqlalchemy import select

from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.grades import capa
from plugins.grades.models import StudentState, StudentStateHistory
from plugins.grades.scores import record_score

HANDLERS = ("problem_get", "problem_check", "problem_reset", "problem_show", "problem_save")
# handle_ajax turns NotFoundError into this ProcessingError message (answered 200).
STATE_CHANGED = ("The state of this problem has changed since you loaded this page. "
                 "Please refresh your page.")


class ProcessingError(Exception):
    """Answered ``{"success": message}`` with status 200, as upstream's LMS does."""


def parse_graceperiod(text):
    """Upstream Timedelta field text ("2 days 3 hours 4 minutes 5 seconds") → timedelta."""
    if not text or not isinstance(text, str):
        return timedelta(0)
    parts = {unit: int(n) for n, unit in
             re.findall(r"(\d+)\s*(day|hour|minute|second)s?", text.lower())}
    return timedelta(days=parts.get("day", 0), hours=parts.get("hour", 0),
                     minutes=parts.get("minute", 0), seconds=parts.get("second", 0))


def _int(value):
    try:
        return None if value in (None, "", "null") else int(value)
    except (TypeError, ValueError):
        return None


class ProblemContext:
    def __init__(self, db, user, course, node, *, is_staff=False, now=None):
        self.db, self.user, self.course, self.node = db, user, course, node
        self.is_staff, self.now = is_staff, now or utcnow()
        self.problem = capa.problem_for(node)
        self.row = db.scalar(select(StudentState).where(
            StudentState.user_id == user.id, StudentState.usage_key == node.usage_key))
        self.state = dict(self.row.state) if self.row is not None else {}

    # -- settings (inherited) --
    @property
    def attempts(self):
        return self.row.attempts if self.row is not None else 0

    @property
    def max_attempts(self):
        return _int(self.node.get("max_attempts"))

    @property
    def close_date(self):
        due = courses_api.parse_date(self.node.get("due"))
        return None if due is None else due + parse_graceperiod(self.node.get("graceperiod"))

    def is_past_due(self):
        return self.close_date is not None and self.now > self.close_date

    def closed(self):
        if self.max_attempts is not None and self.attempts >= self.max_attempts:
            return True
        return self.is_past_due()

    def done(self):
        return bool(self.state.get("done"))

    def is_correct(self):
        score = self.state.get("score") or {}
        return bool(score) and score.get("raw_possible") and \
            score.get("raw_earned") == score.get("raw_possible")

    def answer_available(self):
        """Upstream ProblemBlock.answer_available for ``showanswer``."""
        rule = (self.node.get("showanswer") or "finished")
        if rule in ("", "never"):
            return False
        if self.is_staff or rule == "always":
            return True
        if rule == "attempted":
            return self.attempts > 0 or self.is_past_due()
        if rule == "attempted_no_past_due":
            return self.attempts > 0
        if rule == "answered":
            return self.done()
        if rule == "closed":
            return self.closed()
        if rule == "finished":
            return self.closed() or bool(self.is_correct())
        if rule == "correct_or_past_due":
            return bool(self.is_correct()) or self.is_past_due()
        if rule == "past_due":
            return self.is_past_due()
        if rule == "after_attempts":
            needed = _int(self.node.get("attempts_before_showanswer_button")) or 0
            return self.attempts >= needed or self.closed()
        if rule == "after_all_attempts":
            return self.max_attempts is not None and self.attempts >= self.max_attempts \
                or self.is_past_due()
        if rule == "after_all_attempts_or_correct":
            return self.max_attempts is not None and self.attempts >= self.max_attempts \
                or bool(self.is_correct()) or self.is_past_due()
        return False

    # -- persistence --
    def save(self, attempts=None, grade=None, max_grade=None):
        now = self.now
        if self.row is None:
            self.row = StudentState(user_id=self.user.id, course_key=self.course.course_key,
                                    usage_key=self.node.usage_key, block_type="problem",
                                    state={}, attempts=0, created=now)
            self.db.add(self.row)
        if attempts is not None:
            self.row.attempts = attempts
        self.state["attempts"] = self.row.attempts
        self.row.state, self.row.modified = dict(self.state), now
        self.db.flush()
        self.db.add(StudentStateHistory(state_id=self.row.id, state=dict(self.state),
                                        grade=grade, max_grade=max_grade, created=now))
        self.db.flush()

    def contents(self):
        from plugins.courses.render import render_problem  # noqa: PLC0415

        return render_problem(self.node)["content"]

    # -- handlers --
    def problem_get(self, answers):
        return {"html": self.contents()}

    def problem_check(self, answers):
        if self.closed():
            raise ProcessingError(STATE_CHANGED)  # upstream NotFoundError("Problem is closed.")
        before = (self.state.get("score") or {}).get("raw_earned")
        correct_map, earned, possible = capa.grade(self.problem, answers)
        attempts = self.attempts + 1
        self.state.update(student_answers=answers, correct_map=correct_map, done=True,
                          score={"raw_earned": earned, "raw_possible": possible},
                          last_submission_time=self.now.isoformat())
        self.save(attempts=attempts, grade=earned, max_grade=possible)
        if possible:
            record_score(self.db, user_id=self.user.id, course_key=self.course.course_key,
                         usage_key=self.node.usage_key, earned=earned, possible=possible,
                         source="capa", actor_id=self.user.id, reason="problem_check")
        success = "correct" if correct_map and all(
            m["correctness"] == "correct" for m in correct_map.values()) else "incorrect"
        return {"success": success, "contents": self.contents(),
                "progress_changed": before != earned, "current_score": earned,
                "total_possible": possible, "attempts_used": attempts,
                "attempts_allowed": self.max_attempts or 0}

    def problem_reset(self, answers):
        if self.closed():
            return {"success": False,
                    "msg": "You cannot select Reset for a problem that is closed."}
        if not self.done():
            return {"success": False,
                    "msg": "You must submit an answer before you can select Reset."}
        for name in ("student_answers", "correct_map"):
            self.state.pop(name, None)
        possible = self.problem.max_score
        # Upstream publishes the reset problem's grade: nothing earned, attempts kept.
        self.state.update(done=False, score={"raw_earned": 0.0, "raw_possible": possible})
        self.save(grade=0.0, max_grade=possible)
        if possible:
            record_score(self.db, user_id=self.user.id, course_key=self.course.course_key,
                         usage_key=self.node.usage_key, earned=0.0, possible=possible,
                         source="capa", actor_id=self.user.id, reason="problem_reset")
        return {"success": True, "html": self.contents()}

    def problem_show(self, answers):
        if not self.answer_available():
            raise ProcessingError(STATE_CHANGED)  # upstream NotFoundError
        return {"answers": capa.correct_answers(self.problem),
                "correct_status_html": "",
                "solution": html.escape(capa.solution_html((self.node.data or {}).get("xml")))}

    def problem_save(self, answers):
        if self.closed():
            return {"success": False, "msg": "Problem is closed."}
        self.state.update(student_answers=answers, done=False)
        self.save()
        return {"success": True, "msg": "Your answers have been saved.",
                "html": self.contents()}


def answers_from(items):
    """Upstream make_dict_of_responses: ``input_{id}`` → str, ``input_{id}[]`` → list."""
    answers = {}
    for name, value in items:
        if not isinstance(name, str) or not name.startswith("input_"):
            continue
        key = name[len("input_"):]
        if key.endswith("[]"):
            answers.setdefault(key[:-2], [])
            values = value if isinstance(value, list) else [value]
            answers[key[:-2]].extend(str(v) for v in values)
        else:
            answers[key] = value if isinstance(value, str) else str(value)
    return answers


def dispatch(db, user, course, node, handler, answers, *, is_staff=False, now=None):
    """Run a capa handler; KeyError for an unknown handler, ProcessingError to answer 200."""
    if handler not in HANDLERS:
        raise KeyError(handler)
    context = ProblemContext(db, user, course, node, is_staff=is_staff, now=now)
    return getattr(context, handler)(answers)


def state_history(db, course_key, user_id):
    """``{usage_key: [{state, grade, max_grade, created}...]}`` oldest first (one query)."""
    return state_histories(db, course_key, [user_id])[user_id]


def state_histories(db, course_key, user_ids):
    """:func:`state_history` of several learners: ``{user_id: {usage_key: [...]}}``, in
    one query whatever their number."""
    user_ids = list(user_ids)
    answer = {user_id: {} for user_id in user_ids}
    if not user_ids:
        return answer
    rows = db.execute(
        select(StudentState.user_id, StudentState.usage_key, StudentStateHistory)
        .join(StudentStateHistory, StudentStateHistory.state_id == StudentState.id)
        .where(StudentState.course_key == str(course_key), StudentState.user_id.in_(user_ids))
        .order_by(StudentStateHistory.created, StudentStateHistory.id)).all()
    for user_id, usage_key, item in rows:
        answer[user_id].setdefault(usage_key, []).append(
            {"state": item.state, "grade": item.grade, "max_grade": item.max_grade,
             "created": item.created})
    return answer
