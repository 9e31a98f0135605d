"""Scores with history; lms_report_score stores them."""
from sqlalchemy import select

from lms.testing import create_user
from plugins.grades import scores
from plugins.grades.models import Score, ScoreHistory

KEY = "course-v1:edX+Scores+2026"
BLOCK = "block-v1:edX+Scores+2026+type@problem+block@p1"


def test_record_score_upserts_and_keeps_history(app, db, monkeypatch):
    calls = []
    import plugins.grades.course_grades as course_grades
    monkeypatch.setattr(course_grades, "schedule_refresh", lambda *a: calls.append(a))
    user = create_user(db, "scorer", password=None)
    scores.record_score(db, user_id=user.id, course_key=KEY, usage_key=BLOCK, earned=1,
                        possible=2, source="capa")
    first = db.scalar(select(Score)).first_attempted
    app.registry["lms.plugin_manager"].hook.lms_report_score(
        dbsession=db, user_id=user.id, course_key=KEY, usage_key=BLOCK, earned=2.0,
        possible=2.0, source="lti", actor_id=None, reason="AGS")
    row = db.scalar(select(Score))
    assert (row.earned, row.possible, row.source, row.first_attempted) == (2.0, 2.0, "lti", first)
    assert [(h.earned, h.source, h.reason) for h in
            db.scalars(select(ScoreHistory).order_by(ScoreHistory.id))] == \
        [(1.0, "capa", ""), (2.0, "lti", "AGS")]
    assert calls == [(db, user.id, KEY), (db, user.id, KEY)]
    answer = scores.scores_for(db, KEY, [user.id, 999])
    assert answer[999] == {} and answer[user.id][BLOCK].earned == 2.0
