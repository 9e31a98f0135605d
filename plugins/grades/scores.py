"""Scores per learner and block (raw points, weight not applied), each change kept in
``grades_score_history``."""
from sqlalchemy import select

from lms.timeutil import utcnow
from plugins.grades.models import Score, ScoreHistory


def record_score(db, *, user_id, course_key, usage_key, earned, possible, source,
                 actor_id=None, reason=""):
    """Upsert the learner's score on a block, append its history, schedule a grade refresh."""
    now = utcnow()
    score = db.scalar(select(Score).where(Score.user_id == user_id,
                                          Score.usage_key == str(usage_key)))
    if score is None:
        score = Score(user_id=user_id, course_key=str(course_key), usage_key=str(usage_key),
                      first_attempted=now)
        db.add(score)
    score.earned, score.possible = float(earned), float(possible)
    score.source, score.modified = source, now
    db.flush()
    db.add(ScoreHistory(score_id=score.id, earned=float(earned), possible=float(possible),
                        source=source, actor_id=actor_id, reason=reason or "", created=now))
    db.flush()
    from plugins.grades.completion import score_recorded
    from plugins.grades.course_grades import schedule_refresh

    score_recorded(db, user_id, str(course_key), str(usage_key))
    schedule_refresh(db, user_id, str(course_key))
    return score


def scores_for(db, course_key, user_ids):
    """``{user_id: {usage_key: Score}}`` of a course for these learners (one query)."""
    user_ids = list(user_ids)
    answer = {user_id: {} for user_id in user_ids}
    if not user_ids:
        return answer
    for score in db.scalars(select(Score).where(Score.course_key == str(course_key),
                                                Score.user_id.in_(user_ids))):
        answer.setdefault(score.user_id, {})[score.usage_key] = score
    return answer
