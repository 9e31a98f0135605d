"""The grades API (upstream ``lms.djangoapps.grades.rest_api.v1.views``).

- ``GET /api/grades/v1/courses/?course_id=`` and ``/api/grades/v1/courses/{course_id}/``
  (``CourseGradesView``): ``[{"username", "email", "course_id", "passed", "percent",
  "letter_grade"}]``; with ``?username=`` one learner (a list of one), else a cursor page
  of the active enrollees (enrollment order, 50 a page, ``page_size`` honoured). Who:
  ``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS`` with scope ``grades:read``: global staff,
  a learner naming themself in ``?username=``, or a restricted application's JWT with the
  scope and a ``content_org`` filter for the course's org (and its ``user`` filter, if
  any, naming the ``?username=``). ``email`` is shown only for ``masters`` enrollments.
- ``GET /api/grades/v1/policy/courses/{course_id}/`` (``CourseGradingPolicy``): the
  course's GRADER as ``[{"assignment_type", "count", "dropped", "weight"}]``; course
  staff or global staff.

Errors are upstream's ``DeveloperErrorViewMixin`` bodies ``{"developer_message",
"error_code"}``.
"""
from sqlalchemy import select

from lms import permissions
from lms.auth import STANDARD_AUTH
from lms.errors import developer
from lms.keys import parse_course_key
from lms.models import User
from lms.openapi import BOOLEAN, NUMBER, STRING, array, cursor_page_of, nullable, obj
from lms.pagination import cursor
from lms.request import query_params
from lms.routing import COURSE_ID
from lms.service import Service
from plugins.courses import api as courses_api
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_grades, grading

REQUIRED_SCOPE = "grades:read"
PAGE_SIZE = 50

courses_list = Service("grades.courses", "/api/grades/v1/courses/", auth=STANDARD_AUTH,
                       errors="developer", accept_restricted=True)
course_detail = Service("grades.course", f"/api/grades/v1/courses/{COURSE_ID}/",
                        auth=STANDARD_AUTH, errors="developer", accept_restricted=True)
policy = Service("grades.policy", f"/api/grades/v1/policy/courses/{COURSE_ID}/",
                 auth=STANDARD_AUTH, errors="developer")

USER_GRADE = obj({"username": STRING, "email": STRING, "course_id": STRING,
                  "passed": BOOLEAN, "percent": NUMBER, "letter_grade": nullable(STRING)})
POLICY_ENTRY = obj({"assignment_type": STRING, "count": NUMBER, "dropped": NUMBER,
                    "weight": NUMBER})
GRADES_QUERY = {"username": "One learner's grade (a list of one).",
                "page_size": "Learners per page (default 50).",
                "cursor": "The page's position (from `next`/`previous`)."}
GRADES_RESPONSES = {
    400: "An invalid course key (`invalid_course_key`).",
    403: "Neither global staff nor the learner named in `username`; or a restricted "
         "application without the scope, the course's org or the user filter.",
    404: "Unknown course (`course_does_not_exist`), user (`user_does_not_exist`), or "
         "the user is not enrolled (`user_not_enrolled`).",
}


def invalid_course_key():
    return developer(400, "The provided course key cannot be parsed.", "invalid_course_key")


def _filters(payload):
    return [str(item).partition(":")[::2] for item in payload.get("filters") or ()]


def check_grades_access(request, course_key, username):
    """``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS`` (scope ``grades:read``)."""
    payload = request.authentication.jwt_payload
    if payload and payload.get("is_restricted"):
        permissions.require(REQUIRED_SCOPE in request.authentication.scopes, "developer")
        filters = _filters(payload)
        permissions.require(course_key is not None
                            and ("content_org", course_key.org) in filters, "developer")
        user_filter = next((value for kind, value in filters if kind == "user"), None)
        if user_filter is not None:
            if user_filter == "me":
                user_filter = request.user.username
            permissions.require(username is not None
                                and user_filter.lower() == username.lower(), "developer")
        return
    permissions.require(permissions.is_staff(request.user)
                        or permissions.is_user_in_url(request, username), "developer")


def course_or_error(request, raw_key):
    """``verify_course_exists``: 400 for a bad key, 404 for an unknown course."""
    course_key = parse_course_key(raw_key) if raw_key else None
    if course_key is None:
        raise invalid_course_key()
    course = courses_api.get_course(request.dbsession, course_key)
    if course is None:
        raise developer(404, f"Requested grade for unknown course {course_key}",
                        "course_does_not_exist")
    return course


def serialize_grade(username, email, mode, course_key, percent, passed, letter):
    return {"username": username, "email": email if mode == "masters" else "",
            "course_id": course_key, "passed": bool(passed), "percent": percent,
            "letter_grade": letter or None}


def stored_or_computed(request, course, user_ids):
    """``{user_id: (percent, passed, letter)}``: stored grades, computing (and storing)
    the missing ones in one batch."""
    registry, db = request.registry, request.dbsession
    rows = course_grades.course_grades_for(registry, db, course, user_ids)
    found = {uid: (row.percent, row.passed, row.letter_grade) for uid, row in rows.items()}
    missing = [uid for uid in user_ids if uid not in found]
    if missing:
        for uid, view in course_grades.course_grades(registry, db, course, missing).items():
            found[uid] = (view.percent, view.passed, view.letter_grade)
    return found


def single_user_grade(request, course, username):
    db = request.dbsession
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise developer(404, "The user matching the requested username does not exist.",
                        "user_does_not_exist")
    enrollment = enrollment_api.get_enrollment_row(db, user.id, course.course_key)
    if enrollment is None:
        raise developer(404, "The user matching the requested username is not enrolled "
                             "in this course", "user_not_enrolled")
    percent, passed, letter = stored_or_computed(request, course, [user.id])[user.id]
    return [serialize_grade(user.username, user.email, enrollment.mode, course.course_key,
                            percent, passed, letter)]


def course_grades_answer(request, raw_key):
    params = query_params(request)
    username = params.get("username")
    check_grades_access(request, parse_course_key(raw_key) if raw_key else None, username)
    course = course_or_error(request, raw_key)
    if username:
        return single_user_grade(request, course, username)
    stmt = enrollment_api.active_enrollees_select(course.course_key)

    def serialize(rows):
        grades = stored_or_computed(request, course, [row.user_id for row in rows])
        return [serialize_grade(row.username, row.email, row.mode, course.course_key,
                                *grades[row.user_id]) for row in rows]

    return cursor(request, stmt, enrollment_api.ENROLLMENT_ID, serialize,
                  page_size=PAGE_SIZE, honour_page_size=True)


@courses_list.get(query={"course_id": "The course (required).", **GRADES_QUERY},
                  responses={200: cursor_page_of(USER_GRADE), **GRADES_RESPONSES})
def get_courses_grades(request):
    """Course grades of a course's learners (``course_id`` in the query)."""
    return course_grades_answer(request, query_params(request).get("course_id"))


@course_detail.get(query=GRADES_QUERY,
                   responses={200: cursor_page_of(USER_GRADE), **GRADES_RESPONSES})
def get_course_grades(request):
    """Course grades of a course's learners, or of one learner (``username``)."""
    return course_grades_answer(request, request.matchdict["course_id"])


@policy.get(responses={200: array(POLICY_ENTRY),
                       400: "An invalid course key (`invalid_course_key`).",
                       403: "Not course staff (`user_or_course_does_not_exist`).",
                       404: "No such course (`user_or_course_does_not_exist`)."})
def get_grading_policy(request):
    """The course's assignment types: ``count`` is ``min_count``, ``dropped`` is
    ``drop_count`` (the default policy when the course has none)."""
    course_key = parse_course_key(request.matchdict["course_id"])
    if course_key is None:
        raise invalid_course_key()
    if not (permissions.is_staff(request.user)
            or permissions.has_course_staff_access(request.dbsession, request.user,
                                                   course_key)):
        raise developer(403, "The course does not exist.", "user_or_course_does_not_exist")
    course = courses_api.get_course(request.dbsession, course_key)
    if course is None:
        raise developer(404, "The course does not exist.", "user_or_course_does_not_exist")
    grader = grading.effective_policy(course.grading_policy)["GRADER"]
    return [{"assignment_type": entry.get("type"), "count": entry.get("min_count"),
             "dropped": entry.get("drop_count"), "weight": entry.get("weight")}
            for entry in grader]


# -- subsection/{subsection_id}/ -------------------------------------------------------------

subsection = Service("grades.subsection", "/api/grades/v1/subsection/{subsection_id:[^/]+}/",
                     auth=STANDARD_AUTH, errors="developer")
breakdown = Service("grades.section_grades_breakdown",
                    "/api/grades/v1/section_grades_breakdown/", auth=STANDARD_AUTH,
                    errors="developer")
submission_history = Service("grades.submission_history",
                             f"/api/grades/v1/submission_history/{COURSE_ID}/",
                             auth=STANDARD_AUTH, errors="developer")

FOUR_TOTALS = obj({"earned_all": NUMBER, "possible_all": NUMBER, "earned_graded": NUMBER,
                   "possible_graded": NUMBER})


def _override_dict(row):
    return None if row is None else {name: getattr(row, name)
                                     for name in grading.OVERRIDE_FIELDS}


def _history_item(row, usernames):
    from lms.timeutil import isoformat

    return {"created": isoformat(row.created), "grade_id": row.grade_id,
            "history_id": row.history_id,
            "earned_all_override": row.earned_all_override,
            "earned_graded_override": row.earned_graded_override,
            "override_reason": row.override_reason, "system": row.system,
            "history_date": isoformat(row.history_date), "history_type": row.history_type,
            "history_user": usernames.get(row.history_user_id),
            "history_user_id": row.history_user_id, "id": row.id,
            "possible_all_override": row.possible_all_override,
            "possible_graded_override": row.possible_graded_override}


@subsection.get(query={"user_id": "The learner (required).",
                       "history_record_limit": "At most this many latest history records."},
                responses={200: obj({"success": BOOLEAN, "subsection_id": STRING,
                                     "user_id": NUMBER, "course_id": STRING,
                                     "original_grade": FOUR_TOTALS,
                                     "override": nullable(obj({})), "history": array(obj({}))}),
                           403: "No course author access (`user_permissions`).",
                           404: "Invalid usage key (`invalid_usage_key`) or user id "
                                "(`invalid_user_id`)."})
def get_subsection_grade(request):
    """A learner's stored subsection grade, its override and the override's history
    (oldest first); computed on the fly when never stored."""
    from lms.keys import parse_usage_key
    from plugins.grades.models import (SubsectionGrade, SubsectionOverride,
                                       SubsectionOverrideHistory)

    db = request.dbsession
    usage_key = parse_usage_key(request.matchdict["subsection_id"])
    if usage_key is None or getattr(usage_key, "course_key", None) is None:
        raise developer(404, "Invalid UsageKey", "invalid_usage_key")
    course_key = usage_key.course_key
    if not permissions.has_course_staff_access(db, request.user, course_key):
        raise developer(403, "The requesting user does not have course author permissions.",
                        "user_permissions")
    params = query_params(request)
    try:
        user_id = int(params.get("user_id"))
    except (TypeError, ValueError):
        raise developer(404, "Invalid UserID", "invalid_user_id")
    limit = params.get("history_record_limit")
    if limit is not None:
        try:
            limit = max(int(limit), 0)
        except ValueError:
            limit = 0
    success, message, override, history = True, "", None, []
    grade = db.scalar(select(SubsectionGrade).where(SubsectionGrade.user_id == user_id,
                                                    SubsectionGrade.usage_key == str(usage_key)))
    if grade is not None:
        original = {"earned_all": grade.earned_all, "possible_all": grade.possible_all,
                    "earned_graded": grade.earned_graded,
                    "possible_graded": grade.possible_graded}
        override = _override_dict(db.scalar(select(SubsectionOverride).where(
            SubsectionOverride.grade_id == grade.id)))
        if override is not None:
            query = (select(SubsectionOverrideHistory)
                     .where(SubsectionOverrideHistory.grade_id == grade.id)
                     .order_by(SubsectionOverrideHistory.history_date.desc(),
                               SubsectionOverrideHistory.history_id.desc()))
            if limit is not None:
                query = query.limit(limit)
            rows = list(reversed(db.scalars(query).all()))
            ids = {row.history_user_id for row in rows if row.history_user_id}
            usernames = dict(db.execute(select(User.id, User.username)
                                        .where(User.id.in_(ids))).all()) if ids else {}
            history = [_history_item(row, usernames) for row in rows]
    else:
        original = {"earned_all": 0, "possible_all": 0, "earned_graded": 0,
                    "possible_graded": 0}
        learner = db.get(User, user_id)
        visible = (learner is not None and bool(courses_api.may_see_block(
            request.registry, db, learner, str(usage_key))))
        course = courses_api.get_course(db, course_key) if visible else None
        if course is None:
            success = False
            message = ("Cannot override subsection grade: subsection is not available for "
                       "target learner.")
        else:
            view = course_grades.course_grade(request.registry, db, user_id, course,
                                              persist=False)
            sub = view.subsection(str(usage_key))
            if sub is not None:
                totals = sub.original
                original = {"earned_all": totals.earned_all,
                            "possible_all": totals.possible_all,
                            "earned_graded": totals.earned_graded,
                            "possible_graded": totals.possible_graded}
    body = {"success": success}
    if not success:
        body["error_message"] = message
    body.update({"subsection_id": str(usage_key), "user_id": user_id,
                 "course_id": str(course_key), "original_grade": original,
                 "override": override, "history": history})
    return body


# -- section_grades_breakdown/ ---------------------------------------------------------------

@breakdown.get(query={"course_id": "Only this course.",
                      "username": "Only these usernames (comma-separated).",
                      "page_size": "Default 50.", "cursor": "Page position."},
               responses={200: cursor_page_of(obj({"course_id": STRING, "username": STRING,
                                                   "passed": BOOLEAN, "current_grade": NUMBER,
                                                   "section_breakdown": array(obj({}))})),
                          400: "An invalid course key (`invalid_course_key`).",
                          403: "Not global staff.",
                          404: "A `cursor` this list did not hand out (`Invalid cursor`)."})
def get_section_grades_breakdown(request):
    """Every active enrollment's grader breakdown (global staff)."""
    permissions.require(permissions.is_staff(request.user), "developer")
    params = query_params(request)
    stmt = enrollment_api.active_enrollments_select()
    columns = stmt.selected_columns
    if params.get("course_id"):
        course_key = parse_course_key(params["course_id"])
        if course_key is None:
            raise invalid_course_key()
        stmt = stmt.where(columns.course_key == str(course_key))
    if params.get("username"):
        names = [name.strip() for name in params["username"].split(",") if name.strip()]
        stmt = stmt.where(User.username.in_(names))
    db, registry = request.dbsession, request.registry

    def serialize(rows):
        by_course = {}
        for row in rows:
            by_course.setdefault(row.course_key, []).append(row.user_id)
        courses = courses_api.get_courses(db, by_course)
        views = {}
        for course_key, user_ids in by_course.items():
            course = courses.get(course_key)
            if course is not None:
                for uid, view in course_grades.course_grades(registry, db, course, user_ids,
                                                             persist=False).items():
                    views[(course_key, uid)] = view
        answer = []
        for row in rows:
            view = views.get((row.course_key, row.user_id))
            if view is None:
                continue
            answer.append({"course_id": row.course_key, "username": row.username,
                           "passed": view.passed, "current_grade": int(view.percent * 100),
                           "section_breakdown": view.summary["section_breakdown"]})
        return answer

    return cursor(request, stmt, enrollment_api.ENROLLMENT_ID, serialize,
                  page_size=PAGE_SIZE, honour_page_size=True)


# -- submission_history/{course_id}/ ---------------------------------------------------------

@submission_history.get(query={"username": "Only this learner.", "cursor": "Page position.",
                               "page_size": "Default 50."},
                        responses={200: cursor_page_of(obj({})),
                                   400: "An invalid course key (`invalid_course_key`).",
                                   403: "Not global staff.",
                                   404: "No such course.",
                                   429: "Over `grades.submission_history_rate`."})
def get_submission_history(request):
    """Each enrolled learner's saved problem states (problems four levels down)."""
    from lms import throttle

    permissions.require(permissions.is_staff(request.user), "developer")
    # Upstream throttles the view per user (DRF's "user" rate); every page reads each
    # listed learner's whole state history.
    throttle.enforce(request, "grades.submission_history", str(request.user.id),
                     request.registry.settings["grades.submission_history_rate"])
    course_key = parse_course_key(request.matchdict["course_id"])
    if course_key is None:
        raise developer(400, "The provided course key cannot be parsed.", "invalid_course_key")
    db, registry = request.dbsession, request.registry
    course = courses_api.get_course(db, course_key)
    if course is None:
        raise developer(404, f"Requested grade for unknown course {course_key}",
                        "course_does_not_exist")
    structure = courses_api.get_structure(registry, db, course)
    problems = [node for node in structure.blocks.values()
                if node.block_type == "problem" and node.depth == 4]
    stmt = enrollment_api.active_enrollees_select(course.course_key)
    username = query_params(request).get("username")
    if username:
        stmt = stmt.where(User.username == username)
    from plugins.grades.problems import state_histories

    def serialize(rows):
        answer = []
        histories = state_histories(db, course.course_key, [row.user_id for row in rows])
        for row in rows:
            history = histories[row.user_id]
            answer.append({
                "course_id": course.course_key, "course_name": course.display_name,
                "user": row.username,
                "problems": [{
                    "location": node.usage_key, "name": node.display_name,
                    "submission_history": [
                        {"state": item.get("state"), "grade": item.get("grade"),
                         "max_grade": item.get("max_grade")}
                        for item in history.get(node.usage_key, [])],
                    "data": (node.data or {}).get("xml", "")} for node in problems]})
        return answer

    return cursor(request, stmt, enrollment_api.ENROLLMENT_ID, serialize,
                  page_size=PAGE_SIZE, honour_page_size=True)
