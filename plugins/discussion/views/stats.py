"""Learners' activity in a course's discussions (upstream ``CourseActivityStatsView``):
``GET /api/discussion/v1/courses/{course_key_string}/activity_stats``.

Per user with posts in the course: ``threads``, ``responses``, ``replies`` and, for
privileged requesters only, ``active_flags`` and ``inactive_flags`` on their posts.
Anonymous posts count for nobody, so that the stats never betray their authors. Learners
order by ``activity`` only; privileged users default to ``flagged``. One count and one
page query whatever the page size.
"""
import colander
from sqlalchemy import case, func, literal, select, union_all

from lms.errors import PERMISSION_DENIED, developer
from lms.models import User
from lms.openapi import NUMBER, STRING, array, nullable, obj
from lms.request import query_params
from lms.service import Service
from plugins.discussion import access, forms
from plugins.discussion.forms import Choice, PositiveInteger, Text, optional, validated
from plugins.discussion.models import Comment, Flag, Thread
from plugins.discussion.pages import paginate

activity_stats = Service("discussion.activity_stats",
                         "/api/discussion/v1/courses/{course_key_string}/activity_stats",
                         errors="developer")

STAT = obj({"threads": NUMBER, "replies": NUMBER, "responses": NUMBER,
            "active_flags": nullable(NUMBER), "inactive_flags": nullable(NUMBER),
            "username": STRING})


class StatsForm(colander.MappingSchema):
    page = optional(PositiveInteger())
    page_size = optional(PositiveInteger())
    order_by = optional(Choice(("activity", "flagged", "recency")))
    username = optional(Text())


def public(model):
    return (model.anonymous.is_(False), model.anonymous_to_peers.is_(False))


def per_user_counts(course_key):
    """``(user_id, threads, responses, replies, active_flags, inactive_flags,
    last_activity)`` rows, one per post or flag, to be summed per user."""
    zero = literal(0)
    threads = select(Thread.author_id.label("user_id"), literal(1).label("threads"),
                     zero.label("responses"), zero.label("replies"),
                     zero.label("active_flags"), zero.label("inactive_flags"),
                     Thread.created_at.label("moment")).where(
        Thread.course_key == course_key, *public(Thread))
    comments = select(Comment.author_id, zero,
                      case((Comment.parent_id.is_(None), 1), else_=0),
                      case((Comment.parent_id.is_(None), 0), else_=1), zero, zero,
                      Comment.created_at).where(Comment.course_key == course_key,
                                                *public(Comment))
    active = case((Flag.cleared.is_(False), 1), else_=0)
    inactive = case((Flag.cleared.is_(True), 1), else_=0)
    thread_flags = (select(Thread.author_id, zero, zero, zero, active, inactive,
                           Thread.created_at)
                    .join(Flag, Flag.thread_id == Thread.id)
                    .where(Thread.course_key == course_key, *public(Thread)))
    comment_flags = (select(Comment.author_id, zero, zero, zero, active, inactive,
                            Comment.created_at)
                     .join(Flag, Flag.comment_id == Comment.id)
                     .where(Comment.course_key == course_key, *public(Comment)))
    return union_all(threads, comments, thread_flags, comment_flags).subquery()


@activity_stats.get(query={"page": "Page (from 1).", "page_size": "Users per page (10).",
                           "order_by": "`activity`, `recency`, or `flagged` (privileged "
                                       "users only; their default).",
                           "username": "Only usernames that contain this text."},
                    responses={200: obj({"results": array(STAT), "pagination": obj({})}),
                               400: "A bad parameter (`field_errors`).",
                               401: "Not signed in.",
                               403: "Not a member of the course (upstream "
                                    "IsStaffOrCourseTeamOrEnrolled).",
                               404: "Unknown or hidden course, or a page past the end."})
def get_activity_stats(request):
    """Each user's posts (and, for moderators, flags) in the course."""
    if not access.is_member(request, request.matchdict["course_key_string"]):
        raise developer(403, PERMISSION_DENIED)
    context = access.load_course(request, request.matchdict["course_key_string"])
    values = validated(StatsForm(), dict(query_params(request)))
    privileged = context.privileged
    order_by = values.get("order_by") or ("flagged" if privileged else "activity")
    if order_by == "flagged" and not privileged:
        raise forms.invalid("order_by", "Only moderators may order by flags.")
    rows = per_user_counts(context.course_key)
    totals = (select(rows.c.user_id, func.sum(rows.c.threads).label("threads"),
                     func.sum(rows.c.responses).label("responses"),
                     func.sum(rows.c.replies).label("replies"),
                     func.sum(rows.c.active_flags).label("active_flags"),
                     func.sum(rows.c.inactive_flags).label("inactive_flags"),
                     func.max(rows.c.moment).label("moment"))
              .group_by(rows.c.user_id).subquery())
    stmt = select(totals, User.username).join(User, User.id == totals.c.user_id)
    if values.get("username"):
        pattern = "%" + values["username"].lower().replace("\\", "\\\\").replace(
            "%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(User.username).like(pattern, escape="\\"))
    activity = totals.c.threads + totals.c.responses + totals.c.replies
    orders = {
        "activity": (activity.desc(), User.username),
        "recency": (totals.c.moment.desc(), User.username),
        "flagged": (totals.c.active_flags.desc(), totals.c.inactive_flags.desc(),
                    User.username),
    }
    stmt = stmt.order_by(*orders[order_by])

    def serialize(found):
        return [{"threads": int(row.threads), "replies": int(row.replies),
                 "responses": int(row.responses),
                 "active_flags": int(row.active_flags) if privileged else None,
                 "inactive_flags": int(row.inactive_flags) if privileged else None,
                 "username": row.username} for row in found]

    return paginate(request, stmt, serialize)

