"""The writable gradebook API (upstream ``grades.rest_api.v1.gradebook_views``).

- ``GET /api/grades/v1/gradebook/{course_id}/`` (``?username=``: one entry; else a cursor
  page of active enrollees, 50 a page, with ``total_users_count`` and
  ``filtered_users_count``; filters ``user_contains``, ``username_contains``,
  ``cohort_id``, ``enrollment_mode``, ``assignment`` + ``assignment_grade_min``/``_max``,
  ``course_grade_min``/``_max``, ``excluded_course_roles``);
- ``GET .../grading-info[?graded_only=true]``: assignment types and subsections;
- ``POST .../bulk-update``: subsection grade overrides, 202 when every item succeeded,
  else 422, with one ``{"user_id", "usage_id", "success", "reason"}`` per item.

Gates, in upstream's order: the course key and course (404 ``invalid_course_key`` /
``course_does_not_exist``), the writable gradebook feature (403 ``feature_not_enabled``;
not for grading-info) and course author access (403 ``user_permissions``).

The feature is upstream's ``grades.writable_gradebook`` course waffle flag: the setting
``grades.writable_gradebook = true`` turns it on everywhere, and a course turns it on
alone with the advanced setting ``"writable_gradebook": true``. Grades are frozen (bulk
updates 403 ``grades_frozen``) ``grades.freeze_days`` days after the course's end when
that setting is not empty (upstream's ``enforce_freeze_grade_after_course_end`` flag).
"""
from datetime import timedelta

import colander
from pyramid.settings import asbool
from sqlalchemy import and_, exists, func, or_, select

from lms import permissions
from lms.auth import STANDARD_AUTH
from lms.errors import developer
from lms.keys import parse_course_key, parse_usage_key
from lms.models import CourseAccessRole, User
from lms.openapi import BOOLEAN, NUMBER, STRING, ANY_OBJECT, array, nullable, obj
from lms.pagination import cursor
from lms.request import query_params, request_data
from lms.routing import COURSE_ID
from lms.service import Service
from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_grades, grading
from plugins.grades.models import (CourseGrade, SubsectionGrade, SubsectionOverride,
                                   SubsectionOverrideHistory)

PAGE_SIZE = 50
BASE = f"/api/grades/v1/gradebook/{COURSE_ID}/"

gradebook = Service("grades.gradebook", BASE, auth=STANDARD_AUTH, errors="developer")
grading_info = Service("grades.gradebook_grading_info", BASE + "grading-info",
                       auth=STANDARD_AUTH, errors="developer")
bulk_update = Service("grades.gradebook_bulk_update", BASE + "bulk-update",
                      auth=STANDARD_AUTH, errors="developer")

GATE_RESPONSES = {
    403: "The writable gradebook is off for the course (`feature_not_enabled`), or the "
         "caller lacks course author access (`user_permissions`).",
    404: "An invalid course key (`invalid_course_key`) or unknown course "
         "(`course_does_not_exist`).",
}
BREAKDOWN_ITEM = obj({"attempted": BOOLEAN, "category": STRING, "label": nullable(STRING),
                      "module_id": STRING, "percent": NUMBER, "score_earned": NUMBER,
                      "score_possible": NUMBER, "subsection_name": STRING})
ENTRY = obj({"user_id": {"type": "integer"}, "username": STRING, "email": STRING,
             "percent": NUMBER, "section_breakdown": array(BREAKDOWN_ITEM)})
PAGE = obj({"next": nullable(STRING), "previous": nullable(STRING), "results": array(ENTRY),
            "total_users_count": {"type": "integer"},
            "filtered_users_count": {"type": "integer"}})
UPDATE_ITEM = obj({"user_id": ANY_OBJECT, "usage_id": ANY_OBJECT, "success": BOOLEAN,
                   "reason": nullable(STRING)})


# -- gates ---------------------------------------------------------------------------------

def course_or_404(request):
    raw = request.matchdict["course_id"]
    course_key = parse_course_key(raw)
    if course_key is None:
        raise developer(404, "The provided course key cannot be parsed.", "invalid_course_key")
    course = courses_api.get_course(request.dbsession, course_key)
    if course is None:
        raise developer(404, f"Requested grade for unknown course {course_key}",
                        "course_does_not_exist")
    return course


def writable_gradebook_enabled(settings, course):
    return (asbool(settings.get("grades.writable_gradebook", False))
            or bool((course.settings or {}).get("writable_gradebook")))


def require_feature(request, course):
    if not writable_gradebook_enabled(request.registry.settings, course):
        raise developer(403, "The writable gradebook feature is not enabled for this course.",
                        "feature_not_enabled")


def require_author(request, course):
    """``has_course_author_access``: global staff, course staff or instructor."""
    if not permissions.has_course_staff_access(request.dbsession, request.user,
                                               parse_course_key(course.course_key)):
        raise developer(403, "The requesting user does not have course author permissions.",
                        "user_permissions")


def grades_frozen(settings, course, now=None):
    days = str(settings.get("grades.freeze_days", "") or "").strip()
    if not days or course.end is None:
        return False
    return (now or utcnow()) > course.end + timedelta(days=int(days))


def gated_course(request, feature=True):
    course = course_or_404(request)
    if feature:
        require_feature(request, course)
    require_author(request, course)
    return course


# -- course layout -------------------------------------------------------------------------

def visible_subsections(structure):
    """Subsections of visible sections (not staff-only, not hidden from the TOC)."""
    found = []
    for chapter, subs in course_grades.course_outline(structure):
        if chapter.fields.get("visible_to_staff_only") or chapter.fields.get("hide_from_toc"):
            continue
        found.extend(sub for sub in subs if not sub.fields.get("visible_to_staff_only")
                     and not sub.fields.get("hide_from_toc"))
    return found


def short_labels(policy, subsections):
    """``{usage_key: "HW 01"}`` for graded subsections, numbered per assignment type
    (upstream's default short labeler); types outside the policy get None."""
    prefixes = {entry["type"]: entry.get("short_label") or entry["type"]
                for entry in policy["GRADER"] if "type" in entry}
    counters, labels = {}, {}
    for sub in subsections:
        if not sub.get("graded"):
            continue
        fmt = sub.get("format")
        if fmt in prefixes:
            counters[fmt] = counters.get(fmt, 0) + 1
            labels[sub.usage_key] = f"{prefixes[fmt]} {counters[fmt]:02d}"
        else:
            labels[sub.usage_key] = None
    return labels


# -- GET gradebook ---------------------------------------------------------------------------

def entry(user_id, username, email, mode, view, graded_keys, labels):
    breakdown = []
    for key in graded_keys:
        sub = view.subsection(key)
        attempted = bool(sub.attempted)
        breakdown.append({
            "attempted": attempted, "category": sub.format, "label": labels.get(key),
            "module_id": key, "percent": sub.percent_graded,
            "score_earned": sub.earned_graded if attempted else 0,
            "score_possible": sub.possible_graded if attempted else 0,
            "subsection_name": sub.display_name})
    return {"user_id": user_id, "username": username,
            "email": email if mode == "masters" else "", "percent": view.percent,
            "section_breakdown": breakdown}


def _percent_param(params, name):
    value = params.get(name)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise developer(400, f"{name} must be a number.", "invalid_parameter")


def filtered(request, course, stmt):
    """The enrollee select with upstream's filters; ``(stmt, filtered?)``."""
    params = query_params(request)
    columns = stmt.selected_columns
    conditions = []
    if params.get("user_contains"):
        term = f"%{params['user_contains'].lower()}%"
        conditions.append(or_(func.lower(User.username).like(term),
                              func.lower(User.email).like(term)))
    if params.get("username_contains"):
        conditions.append(func.lower(User.username).like(
            f"%{params['username_contains'].lower()}%"))
    if params.get("cohort_id"):
        try:
            cohort_id = int(params["cohort_id"])
        except ValueError:
            cohort_id = -1
        conditions.append(columns.user_id.in_(
            enrollment_api.cohort_user_ids_select(course.course_key, cohort_id)))
    if params.get("enrollment_mode"):
        conditions.append(columns.mode == params["enrollment_mode"])
    low = _percent_param(params, "assignment_grade_min")
    high = _percent_param(params, "assignment_grade_max")
    if params.get("assignment") and (low is not None or high is not None):
        low, high = (0.0 if low is None else low), (100.0 if high is None else high)
        earned = func.coalesce(SubsectionOverride.earned_graded_override,
                               SubsectionGrade.earned_graded)
        possible = func.coalesce(SubsectionOverride.possible_graded_override,
                                 SubsectionGrade.possible_graded)
        percent = earned * 100.0 / func.nullif(possible, 0)
        conditions.append(exists(
            select(SubsectionGrade.id)
            .outerjoin(SubsectionOverride, SubsectionOverride.grade_id == SubsectionGrade.id)
            .where(SubsectionGrade.user_id == columns.user_id,
                   SubsectionGrade.course_key == course.course_key,
                   SubsectionGrade.usage_key == params["assignment"],
                   percent >= low, percent <= high)))
    grade_min = _percent_param(params, "course_grade_min")
    grade_max = _percent_param(params, "course_grade_max")
    if grade_min is not None or grade_max is not None:
        in_range = [CourseGrade.user_id == columns.user_id,
                    CourseGrade.course_key == course.course_key]
        if grade_min:
            in_range.append(CourseGrade.percent >= grade_min / 100)
        if grade_max is not None:
            in_range.append(CourseGrade.percent <= grade_max / 100)
        condition = exists(select(CourseGrade.id).where(and_(*in_range)))
        if not grade_min:
            condition = or_(condition, ~exists(select(CourseGrade.id).where(
                CourseGrade.user_id == columns.user_id,
                CourseGrade.course_key == course.course_key)))
        conditions.append(condition)
    roles = request.GET.getall("excluded_course_roles")
    if roles:
        role_filter = [CourseAccessRole.user_id == columns.user_id,
                       CourseAccessRole.course_key == course.course_key]
        if "all" not in roles:
            role_filter.append(CourseAccessRole.role.in_(roles))
        conditions.append(~exists(select(CourseAccessRole.id).where(*role_filter)))
    return (stmt.where(*conditions) if conditions else stmt), bool(conditions)


@gradebook.get(query={"username": "One learner's entry.", "page_size": "Default 50.",
                      "cursor": "Page position.", "user_contains": "Username or email part.",
                      "username_contains": "Username part.", "cohort_id": "A cohort.",
                      "enrollment_mode": "A mode slug.", "assignment": "A subsection id.",
                      "assignment_grade_min": "Percent (0-100).",
                      "assignment_grade_max": "Percent (0-100).",
                      "course_grade_min": "Percent (0-100).",
                      "course_grade_max": "Percent (0-100).",
                      "excluded_course_roles": "Roles to leave out (repeatable; `all`)."},
               responses={200: PAGE, **GATE_RESPONSES,
                          400: "A grade filter that is not a number."})
def get_gradebook(request):
    """Gradebook entries: course percent and graded subsection scores per learner."""
    course = gated_course(request)
    db, registry = request.dbsession, request.registry
    structure = courses_api.get_structure(registry, db, course)
    policy = grading.effective_policy(course.grading_policy)
    subsections = visible_subsections(structure)
    labels = short_labels(policy, subsections)
    graded_keys = [sub.usage_key for sub in subsections if sub.get("graded")]
    username = query_params(request).get("username")
    if username:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            raise developer(404, "The user matching the requested username does not exist.",
                            "user_does_not_exist")
        row = enrollment_api.get_enrollment_row(db, user.id, course.course_key)
        if row is None:
            raise developer(404, "The user matching the requested username is not enrolled "
                                 "in this course", "user_not_enrolled")
        view = course_grades.course_grade(registry, db, user.id, course, persist=False)
        return entry(user.id, user.username, user.email, row.mode, view, graded_keys, labels)
    base = enrollment_api.active_enrollees_select(course.course_key)
    stmt, has_filters = filtered(request, course, base)

    def serialize(rows):
        views = course_grades.course_grades(registry, db, course,
                                            [row.user_id for row in rows], persist=False)
        return [entry(row.user_id, row.username, row.email, row.mode, views[row.user_id],
                      graded_keys, labels) for row in rows]

    page = cursor(request, stmt, enrollment_api.ENROLLMENT_ID, serialize,
                  page_size=PAGE_SIZE, honour_page_size=True)
    total = db.scalar(select(func.count()).select_from(base.subquery()))
    page["total_users_count"] = total
    page["filtered_users_count"] = (db.scalar(select(func.count()).select_from(stmt.subquery()))
                                    if has_filters else total)
    return page


# -- grading-info ----------------------------------------------------------------------------

@grading_info.get(query={"graded_only": "Only graded subsections (`true`)."},
                  responses={200: obj({"grade_cutoffs": ANY_OBJECT,
                                       "assignment_types": ANY_OBJECT,
                                       "subsections": array(ANY_OBJECT),
                                       "grades_frozen": BOOLEAN,
                                       "can_see_bulk_management": BOOLEAN}),
                             403: "No course author access (`user_permissions`).",
                             404: GATE_RESPONSES[404]})
def get_grading_info(request):
    """Assignment types, subsections (with short labels), cutoffs (no feature flag)."""
    course = gated_course(request, feature=False)
    db = request.dbsession
    graded_only = str(query_params(request).get("graded_only") or "").lower() in (
        "true", "1", "yes", "on")
    structure = courses_api.get_structure(request.registry, db, course)
    policy = grading.effective_policy(course.grading_policy)
    subsections = visible_subsections(structure)
    labels = short_labels(policy, subsections)
    types = {}
    for item in policy["GRADER"]:
        if "type" in item and "min_count" in item:
            types[item["type"]] = {"type": item["type"],
                                   "short_label": item.get("short_label") or item["type"],
                                   "min_count": item.get("min_count"),
                                   "drop_count": item.get("drop_count"),
                                   "weight": item.get("weight")}
    modes = enrollment_api.course_modes(db, course.course_key, include_expired=True)
    has_masters = any(getattr(mode, "mode_slug", None) == "masters"
                      or (isinstance(mode, dict) and mode.get("slug") == "masters")
                      for mode in modes)
    return {
        "grade_cutoffs": policy["GRADE_CUTOFFS"],
        "assignment_types": types,
        "subsections": [
            {"assignment_type": sub.get("format"), "graded": bool(sub.get("graded")),
             "short_label": labels.get(sub.usage_key), "module_id": sub.usage_key,
             "display_name": sub.display_name}
            for sub in subsections if not graded_only or sub.get("graded")],
        "grades_frozen": grades_frozen(request.registry.settings, course),
        "can_see_bulk_management": has_masters or bool(
            (course.settings or {}).get("gradebook_bulk_management")),
    }


# -- bulk-update -----------------------------------------------------------------------------

class _Override(colander.MappingSchema):
    earned_all_override = colander.SchemaNode(colander.Float(), missing=None)
    possible_all_override = colander.SchemaNode(colander.Float(), missing=None)
    earned_graded_override = colander.SchemaNode(colander.Float(), missing=None)
    possible_graded_override = colander.SchemaNode(colander.Float(), missing=None)
    comment = colander.SchemaNode(colander.String(), missing="",
                                  validator=colander.Length(max=300))


def _item_error(index, message):
    return developer(400, f"Item {index}: {message}", "invalid_request")


def parse_items(request):
    body = request_data(request)
    if not isinstance(body, list):
        raise developer(400, "Expected a list of grade updates.", "invalid_request")
    items = []
    for index, item in enumerate(body):
        if not isinstance(item, dict) or "user_id" not in item or "usage_id" not in item \
                or not isinstance(item.get("grade"), dict):
            raise _item_error(index, "user_id, usage_id and grade are required.")
        grade = {k: v for k, v in item["grade"].items() if v is not None}
        try:
            values = _Override().deserialize(grade)
        except colander.Invalid as exc:
            raise _item_error(index, "; ".join(f"{k}: {v}" for k, v in exc.asdict().items()))
        items.append((item["user_id"], item["usage_id"], values))
    return items


def save_override(db, grade_row, values, actor_id):
    override = db.scalar(select(SubsectionOverride).where(
        SubsectionOverride.grade_id == grade_row.id))
    now = utcnow()
    history_type = "~"
    if override is None:
        override = SubsectionOverride(grade_id=grade_row.id, created=now)
        db.add(override)
        history_type = "+"
    for name in grading.OVERRIDE_FIELDS:
        setattr(override, name, values[name])
    override.override_reason = values["comment"] or None
    override.system = "GRADEBOOK"
    override.modified = now
    db.flush()
    db.add(SubsectionOverrideHistory(
        id=override.id, grade_id=grade_row.id, override_reason=override.override_reason,
        system=override.system, created=override.created, history_date=now,
        history_type=history_type, history_user_id=actor_id,
        **{name: values[name] for name in grading.OVERRIDE_FIELDS}))
    db.flush()
    return override


@bulk_update.post(responses={202: array(UPDATE_ITEM),
                             422: "Some items failed (each with its `reason`).",
                             400: "Not a list of `{user_id, usage_id, grade}`.",
                             **GATE_RESPONSES})
def post_bulk_update(request):
    """Override subsection grades; the learners' grades are recomputed at once."""
    course = gated_course(request)
    if grades_frozen(request.registry.settings, course):
        raise developer(403, "Grades are frozen for this course.", "grades_frozen")
    items = parse_items(request)
    db, registry = request.dbsession, request.registry
    structure = courses_api.get_structure(registry, db, course)
    results, touched = [], set()
    for user_id, usage_id, values in items:
        try:
            uid = int(user_id)
        except (TypeError, ValueError):
            uid = None
        user = db.get(User, uid) if uid is not None else None
        reason = None
        if user is None:
            reason = "User matching query does not exist."
        elif enrollment_api.get_enrollment_row(db, user.id, course.course_key) is None:
            reason = "CourseEnrollment matching query does not exist."
        else:
            key = parse_usage_key(str(usage_id))
            if key is None:
                reason = f"Invalid usage key: {usage_id}"
            elif str(key) not in structure.blocks:
                reason = f"usage_key {key} does not exist in this course."
        if reason is not None:
            results.append({"user_id": user_id, "usage_id": usage_id, "success": False,
                            "reason": reason})
            continue
        grade_row = db.scalar(select(SubsectionGrade).where(
            SubsectionGrade.user_id == user.id, SubsectionGrade.usage_key == str(key)))
        if grade_row is None:
            view = course_grades.course_grade(registry, db, user.id, course, persist=False)
            sub = view.subsection(str(key))
            totals = sub.original if sub is not None else grading.Totals()
            grade_row = SubsectionGrade(
                user_id=user.id, course_key=course.course_key, usage_key=str(key),
                earned_all=totals.earned_all, possible_all=totals.possible_all,
                earned_graded=totals.earned_graded, possible_graded=totals.possible_graded)
            db.add(grade_row)
            db.flush()
        save_override(db, grade_row, values, request.user.id)
        touched.add(user.id)
        results.append({"user_id": user.id, "usage_id": str(key), "success": True,
                        "reason": None})
    if touched:  # upstream recomputes synchronously
        course_grades.course_grades(registry, db, course, sorted(touched))
    request.response.status_code = 202 if all(r["success"] for r in results) else 422
    return results
