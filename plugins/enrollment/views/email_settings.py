"""``POST /api/change_email_settings`` (upstream ``student.views.management
.change_email_settings``): the caller opts in to or out of a course's bulk email."""
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lms import tracking
from lms.auth import STANDARD_AUTH
from lms.service import Service, colander_body_validator
from plugins.enrollment.models import CourseEmailOptout
from plugins.enrollment.schemas_email_settings import EMAIL_SETTINGS_ANSWER, EmailSettingsBody

email_settings = Service("enrollment.change_email_settings", "/api/change_email_settings",
                         auth=STANDARD_AUTH)


def opt_out(db, user_id, course_key):
    """Record the opt-out once, whoever wins a race to record it."""
    exists = select(CourseEmailOptout.id).where(CourseEmailOptout.user_id == user_id,
                                                CourseEmailOptout.course_key == course_key)
    if db.scalar(exists) is not None:
        return
    try:
        with db.begin_nested():
            db.add(CourseEmailOptout(user_id=user_id, course_key=course_key))
            db.flush()
    except IntegrityError:
        pass  # a concurrent request recorded it first


def opt_in(db, user_id, course_key):
    db.execute(delete(CourseEmailOptout).where(CourseEmailOptout.user_id == user_id,
                                               CourseEmailOptout.course_key == course_key))


@email_settings.post(schema=EmailSettingsBody(), validators=(colander_body_validator,),
                     responses={200: EMAIL_SETTINGS_ANSWER})
def post_change_email_settings(request):
    """Opt in to (``receive_emails`` true) or out of a course's bulk email.

    Any signed-in user, for themselves; the course need not exist nor the caller be
    enrolled, as upstream. Always ``{"success": true}``.
    """
    course_key = str(request.validated["course_id"])
    receive = request.validated["receive_emails"]
    user = request.user
    if receive:
        opt_in(request.dbsession, user.id, course_key)
    else:
        opt_out(request.dbsession, user.id, course_key)
    tracking.emit(request, "change-email-settings",
                  {"receive_emails": "yes" if receive else "no", "course": course_key},
                  page="dashboard")
    return {"success": True}
