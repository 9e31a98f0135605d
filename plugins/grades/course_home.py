"""Course goals, welcome message dismissal and personal schedules (upstream
``course_goals``, ``course_experience.course_updates`` and ``schedules``)."""
import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.grades.models import CourseGoal, Schedule, WelcomeDismissal


def get_goal(db, user_id, course_key):
    return db.scalar(select(CourseGoal).where(CourseGoal.user_id == user_id,
                                              CourseGoal.course_key == str(course_key)))


def save_goal(db, user_id, course_key, *, subscribed_to_reminders, days_per_week=None):
    """Create or update the learner's goal (upstream ``add_course_goal``)."""
    goal = get_goal(db, user_id, course_key)
    if goal is None:
        goal = CourseGoal(user_id=user_id, course_key=str(course_key), days_per_week=0,
                          subscribed_to_reminders=False,
                          unsubscribe_token=secrets.token_hex(16))
        db.add(goal)
    if days_per_week is not None:
        goal.days_per_week = days_per_week
    goal.subscribed_to_reminders = bool(subscribed_to_reminders)
    goal.modified = utcnow()
    db.flush()
    return goal


def goal_by_token(db, token):
    return db.scalar(select(CourseGoal).where(CourseGoal.unsubscribe_token == str(token)))


# -- welcome message --------------------------------------------------------------------------

def _update_date(item, today):
    try:
        return datetime.strptime(str(item.get("date") or ""), "%B %d, %Y").date()
    except ValueError:
        return today


def welcome_message_html(course):
    """The newest visible course update's content (by its date, unparsable = today, then
    id, newest first), or None."""
    items = [item for item in courses_api.update_items(course) or ()
             if isinstance(item, dict) and item.get("status") == "visible"]
    if not items:
        return None
    today = utcnow().date()
    newest = max(items, key=lambda item: (_update_date(item, today), item.get("id") or 0))
    content = newest.get("content")
    if content is None:
        return None
    return courses_api.replace_static_urls(content, course.course_key)


def content_hash(html):
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def welcome_message_for(db, user, course):
    """The welcome message unless ``user`` dismissed exactly this content."""
    html = welcome_message_html(course)
    if html is None or user is None:
        return html
    dismissal = db.scalar(select(WelcomeDismissal).where(
        WelcomeDismissal.user_id == user.id, WelcomeDismissal.course_key == course.course_key))
    if dismissal is not None and dismissal.content_hash == content_hash(html):
        return None
    return html


def dismiss_welcome_message(db, user_id, course):
    html = welcome_message_html(course)
    if html is None:
        return
    row = db.scalar(select(WelcomeDismissal).where(
        WelcomeDismissal.user_id == user_id, WelcomeDismissal.course_key == course.course_key))
    if row is None:
        row = WelcomeDismissal(user_id=user_id, course_key=course.course_key, content_hash="")
        db.add(row)
    row.content_hash = content_hash(html)
    row.created = utcnow()
    db.flush()


# -- personal schedules -----------------------------------------------------------------------

def get_schedule(db, user_id, course_key):
    return db.scalar(select(Schedule).where(Schedule.user_id == user_id,
                                            Schedule.course_key == str(course_key)))


def reset_self_paced_schedule(db, user_id, course, *, now=None):
    """Restart a self-paced learner's schedule today (not before the course starts), so
    relative due dates move; instructor-paced courses are left alone. Returns the
    schedule, or None when nothing changed."""
    if not course.self_paced:
        return None
    now = now or utcnow()
    start = courses_api.parse_date(course.start)
    new_start = max(now, start) if start is not None else now
    schedule = get_schedule(db, user_id, course.course_key)
    if schedule is None:
        schedule = Schedule(user_id=user_id, course_key=course.course_key, start_date=new_start)
        db.add(schedule)
    schedule.start_date = new_start
    schedule.modified = now
    db.flush()
    return schedule


def dates_banner_info(course=None, user=None):
    """Upstream ``dates_banner_should_display``: both flags stay false while the
    relative-dates flag is off (its default), as here."""
    return {"missed_deadlines": False, "missed_gated_content": False,
            "content_type_gating_enabled": False, "verified_upgrade_link": None}


def dates_tab_link(settings, course_key):
    base = str(settings.get("grades.learning_mfe_url") or "").rstrip("/")
    return f"{base}/course/{course_key}/dates"
