"""course_home (upstream ``lms.djangoapps.course_home_api``), served at ``/api/course_home/``
and its ``/api/course_home/v1/`` alias.

- ``POST save_course_goal`` (JWT, session; IsAuthenticated) ``{"course_id",
  "subscribed_to_reminders", "days_per_week"?}`` → 200 ``{"header", "message"}``;
- ``POST unsubscribe_from_course_goal/{token}`` (no authentication) → 200
  ``{"course_title"}``; unknown token 404;
- ``POST dismiss_welcome_message`` (IsAuthenticated) body exactly ``{"course_id"}`` → 200
  ``{"message"}``;
- ``GET progress/{key}[/{student_id}]`` (IsAuthenticated): grades from
  :func:`plugins.grades.course_grades.course_grade`; another learner's id needs course staff
  (else 404); not enrolled and not staff → 401 ``"User not enrolled."``;
- ``GET dates/{key}``: course start/end and (instructor-paced) assignment due dates, same
  401 rule;
- ``GET course_metadata/{key}`` and ``GET outline/{key}``: anonymous callers allowed; the
  outline tree (course → chapter → sequential) only for the enrolled, staff or a public
  course.
"""
from lms import auth, permissions
from lms.errors import detail, not_found
from lms.keys import parse_course_key
from lms.openapi import BOOLEAN, INTEGER, STRING, array, nullable, obj
from lms.request import data_fields
from lms.routing import COURSE_KEY
from lms.timeutil import utcnow
from lms.service import Service
from plugins.courses import api as courses_api
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_home

BASE = "/api/course_home/"
OUTLINE_AUTH = (auth.JWT, auth.BEARER, auth.SESSION)

save_goal = Service("grades.save_course_goal", BASE + "save_course_goal",
                    auth=(auth.JWT, auth.SESSION))
unsubscribe = Service("grades.unsubscribe_from_course_goal",
                      BASE + "unsubscribe_from_course_goal/{token:[^/]+}", auth=(),
                      anonymous=True)
dismiss = Service("grades.dismiss_welcome_message", BASE + "dismiss_welcome_message",
                  auth=OUTLINE_AUTH)

save_goal_v1 = save_goal.alias("grades.save_course_goal_v1", BASE + "v1/save_course_goal")
unsubscribe_v1 = unsubscribe.alias("grades.unsubscribe_from_course_goal_v1",
                                   BASE + "v1/unsubscribe_from_course_goal/{token:[^/]+}")
dismiss_v1 = dismiss.alias("grades.dismiss_welcome_message_v1",
                           BASE + "v1/dismiss_welcome_message")


def json_payload(request):
    """The body's fields through the shared request layer (DRF's parsers: a malformed
    body is a 400, an unsupported type a 415, a JSON array or scalar carries none)."""
    return data_fields(request)


def as_bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def has_enrolled_access(db, user, course):
    """Upstream's ``get_course_with_access(..., check_if_enrolled=True)`` outcome, simplified:
    course staff, or an active enrollment."""
    if permissions.has_course_staff_access(db, user, parse_course_key(course.course_key)):
        return True
    enrollment = enrollment_api.get_enrollment(db, user.id, course.course_key)
    return bool(enrollment and enrollment.get("is_active"))


@save_goal.post(body=obj({"course_id": STRING, "subscribed_to_reminders": BOOLEAN,
                          "days_per_week": INTEGER},
                         required=["course_id", "subscribed_to_reminders"]),
                responses={200: obj({"header": STRING, "message": STRING}),
                           400: "A field missing, or the goal could not be saved.",
                           401: "Not signed in."})
def post_save_goal(request):
    """Create or update the caller's course goal."""
    payload = json_payload(request)
    if not payload.get("course_id"):
        raise detail(400, "'course_id' is required.")
    if "subscribed_to_reminders" not in payload:
        raise detail(400, "'subscribed_to_reminders' is required.")
    db = request.dbsession
    key = parse_course_key(str(payload["course_id"]))
    course = courses_api.get_course(db, key) if key is not None else None
    days = payload.get("days_per_week")
    try:
        days = None if days in (None, "") else int(days)
    except (TypeError, ValueError):
        days = -1
    if course is None or (days is not None and days < 0):
        raise detail(400, "Unable to save course goal")
    course_home.save_goal(db, request.user.id, course.course_key, days_per_week=days,
                          subscribed_to_reminders=as_bool(payload["subscribed_to_reminders"]))
    return {"header": "Your course goal has been successfully set.",
            "message": "Course goal updated successfully."}


@unsubscribe.post(responses={200: obj({"course_title": STRING}),
                             404: "No goal has this token."})
def post_unsubscribe(request):
    """Stop the reminders of the goal holding this token (no sign-in needed)."""
    db = request.dbsession
    goal = course_home.goal_by_token(db, request.matchdict["token"])
    if goal is None:
        raise not_found()
    goal.subscribed_to_reminders = False
    course = courses_api.get_course(db, goal.course_key)
    return {"course_title": course.display_name if course is not None else goal.course_key}


@dismiss.post(body=obj({"course_id": STRING}, additionalProperties=False),
              responses={200: obj({"message": STRING}), 401: "Not signed in.",
                         400: "`course_id` missing, other keys, or no enrolled access."})
def post_dismiss(request):
    """Hide the current welcome message (until its content changes)."""
    payload = json_payload(request)
    if not payload.get("course_id"):
        raise detail(400, "'course_id' is required.")
    if set(payload) != {"course_id"}:
        raise detail(400, "Only 'course_id' is expected.")
    db = request.dbsession
    key = parse_course_key(str(payload["course_id"]))
    course = courses_api.get_course(db, key) if key is not None else None
    if course is None or not has_enrolled_access(db, request.user, course):
        raise detail(400, "Unable to dismiss welcome message.")
    course_home.dismiss_welcome_message(db, request.user.id, course)
    return {"message": "Welcome message successfully dismissed."}


# -- progress ---------------------------------------------------------------------------------

progress = Service("grades.progress", BASE + f"progress/{COURSE_KEY}", auth=OUTLINE_AUTH)
progress_student = Service("grades.progress_student",
                           BASE + f"progress/{COURSE_KEY}/{{student_id:[^/]+}}",
                           auth=OUTLINE_AUTH)
progress_v1 = progress.alias("grades.progress_v1", BASE + f"v1/progress/{COURSE_KEY}")
progress_student_v1 = progress_student.alias(
    "grades.progress_student_v1", BASE + f"v1/progress/{COURSE_KEY}/{{student_id:[^/]+}}")

PROGRESS_RESPONSES = {401: "Not signed in, or (`\"User not enrolled.\"`) the learner is "
                           "not enrolled and the caller not course staff.",
                      404: "No such course; or another learner's id and not course staff."}


def _certificate_data(request, user, course, passed):
    from plugins.grades import certificates

    enrollment = enrollment_api.get_enrollment(request.dbsession, user.id, course.course_key)
    return certificates.certificate_data(request.registry, request.dbsession, user.id, course,
                                         enrollment, passed)


def _certificates_viewable(course):
    from plugins.grades import certificates

    return certificates.certificates_viewable(course)


def _outline_cert_data(request, user, course):
    """The outline's ``cert_data``: as progress, from the stored course grade."""
    from plugins.grades import course_grades

    row = course_grades.course_grades_for(request.registry, request.dbsession, course,
                                          [user.id]).get(user.id)
    return _certificate_data(request, user, course, bool(row is not None and row.passed))


def _iso(value):
    from lms.timeutil import isoformat

    return isoformat(courses_api.parse_date(value)) if value is not None else None


def assignment_type_summary(view, staff):
    """Upstream's ``assignment_type_grade_summary``: per GRADER entry, the type's average
    after padding and drops, its weighted contribution, whether hidden correctness
    keeps some of it from the learner (``"none"``, ``"some"``, ``"all"``) and the latest
    due date among its subsections (None without any)."""
    from plugins.grades import grading

    breakdown = (view.summary or {}).get("grade_breakdown") or {}
    summary = []
    for entry in view.grading_policy.get("GRADER") or ():
        if "min_count" not in entry or "type" not in entry:
            continue
        kind, weight = entry["type"], float(entry.get("weight") or 0)
        weighted = float((breakdown.get(kind) or {}).get("percent") or 0.0)
        subsections = [sub for sub in view.subsections if sub.graded and sub.format == kind]
        hidden = [sub for sub in subsections if not grading.correctness_available(
            sub.show_correctness, courses_api.parse_date(sub.due), staff)]
        dues = [courses_api.parse_date(sub.due) for sub in subsections if sub.due]
        summary.append({
            "type": kind, "short_label": entry.get("short_label") or "",
            "weight": weight, "num_droppable": int(entry.get("drop_count") or 0),
            "num_total": int(entry.get("min_count") or 0),
            "average_grade": round(weighted / weight, 4) if weight else 0.0,
            "weighted_grade": round(weighted, 4),
            "has_hidden_contribution": ("none" if not hidden else
                                        "all" if len(hidden) == len(subsections) else "some"),
            "last_grade_publish_date": _iso(max(dues)) if dues else None,
        })
    return summary


def completion_summary(request, user, course):
    """Upstream's ``get_course_blocks_completion_summary``: the completable blocks the
    learner may see, complete or not (no content is locked by gating here)."""
    from plugins.grades import completion

    db = request.dbsession
    access = courses_api.content_access(request.registry, db, user, course)
    visible = access.visible_keys(require_enrollment=False)
    completions = completion.completions_for(db, user.id, course.course_key)
    leaves = courses_api.completable_leaves(access.structure, access.structure.root, visible)
    complete = sum(1 for key in leaves if float(completions.get(key) or 0.0) >= 1.0)
    return {"complete_count": complete, "incomplete_count": len(leaves) - complete,
            "locked_count": 0}


def progress_body(request, user, course, staff):
    from plugins.grades import course_grades, grading

    db = request.dbsession
    view = course_grades.course_grade(request.registry, db, user.id, course)
    policy = view.grading_policy
    cutoffs = dict(policy.get("GRADE_CUTOFFS") or {})
    lowest = min(cutoffs.values()) if cutoffs else 0
    enrollment = enrollment_api.get_enrollment(db, user.id, course.course_key)
    sections = []
    for chapter in view.chapters:
        subsections = []
        for sub in chapter.subsections:
            if sub.show_correctness == "never_but_include_grade":
                continue
            subsections.append({
                "assignment_type": sub.format or None,
                "block_key": sub.usage_key,
                "display_name": sub.display_name,
                "due": _iso(sub.due),
                "has_graded_assignment": bool(sub.graded and sub.possible_graded > 0),
                "override": ({"system": sub.override.get("system"),
                              "reason": sub.override.get("reason")}
                             if sub.override else None),
                "learner_has_access": True,
                "num_points_earned": sub.earned_graded if sub.graded else sub.earned_all,
                "num_points_possible": sub.possible_graded if sub.graded else sub.possible_all,
                "percent_graded": sub.percent_graded,
                "problem_scores": [{"earned": earned, "possible": possible}
                                   for earned, possible in sub.problem_scores.values()],
                "show_correctness": sub.show_correctness,
                "show_grades": grading.correctness_available(
                    sub.show_correctness, courses_api.parse_date(sub.due), staff),
                "url": request.application_url + f"/courses/{course.course_key}/jump_to/"
                                                  f"{sub.usage_key}",
            })
        sections.append({"display_name": chapter.display_name, "subsections": subsections})
    return {
        "access_expiration": None,
        "certificate_data": _certificate_data(request, user, course, view.passed),
        "completion_summary": completion_summary(request, user, course),
        "course_grade": {"letter_grade": view.letter_grade, "percent": view.percent,
                         "is_passing": view.passed},
        "credit_course_requirements": None,
        "end": _iso(course.end),
        "enrollment_mode": enrollment.get("mode") if enrollment else None,
        "grading_policy": {
            "assignment_policies": [{"num_droppable": entry.get("drop_count", 0),
                                     "num_total": float(entry.get("min_count", 0)),
                                     "short_label": entry.get("short_label") or "",
                                     "type": entry.get("type"),
                                     "weight": entry.get("weight")}
                                    for entry in policy.get("GRADER") or ()],
            "grade_range": cutoffs},
        "has_scheduled_content": False,
        "section_scores": sections,
        "studio_url": None,
        "username": user.username,
        "user_has_passing_grade": bool(cutoffs) and view.percent >= lowest,
        "verification_data": {"link": None, "status": "none", "status_date": None},
        "disable_progress_graph": False,
        "assignment_type_grade_summary": assignment_type_summary(view, staff),
        "final_grades": view.percent,
        "verified_mode": None,
        "can_show_upgrade_sock": False,
    }


def _progress(request, student_id=None):
    from lms.models import User

    db = request.dbsession
    key = parse_course_key(request.matchdict["course_key_string"])
    course = courses_api.get_course(db, key) if key is not None else None
    if course is None:
        raise not_found()
    staff = permissions.has_course_staff_access(db, request.user, key)
    user = request.user
    if student_id is not None:
        if not student_id.isdigit():
            raise not_found()
        if int(student_id) != request.user.id:
            if not staff:
                raise not_found()
            user = db.get(User, int(student_id))
            if user is None:
                raise not_found()
    enrollment = enrollment_api.get_enrollment(db, user.id, course.course_key)
    if not (enrollment and enrollment.get("is_active")) and not staff:
        from lms.errors import APIError

        raise APIError(401, "User not enrolled.")
    return progress_body(request, user, course, staff)


@progress.get(responses={200: obj({"course_grade": obj({})}, required=False),
                         **PROGRESS_RESPONSES})
def get_progress(request):
    """The caller's progress in a course (grades per section, policy, certificate)."""
    return _progress(request)


@progress_student.get(responses={200: obj({"course_grade": obj({})}, required=False),
                                 **PROGRESS_RESPONSES})
def get_progress_student(request):
    """A learner's progress (the learner themself, or course staff)."""
    return _progress(request, request.matchdict["student_id"])


# -- dates ------------------------------------------------------------------------------------

dates = Service("grades.dates", BASE + f"dates/{COURSE_KEY}", auth=OUTLINE_AUTH)
dates_v1 = dates.alias("grades.dates_v1", BASE + f"v1/dates/{COURSE_KEY}")

END_UPCOMING_CERT = ("After this date, the course will be archived, which means you can review "
                     "the course content but can no longer participate in graded assignments "
                     "or work towards earning a certificate.")
END_UPCOMING = "After the course ends, the course content will be archived and no longer active."
END_PAST = ("This course is archived, which means you can review course content but it is no "
            "longer active.")
CERTIFICATE_MODES = ("verified", "professional", "no-id-professional", "credit",
                     "executive-education", "masters")


def _date_block(date_type, date, title, description="", **extra):
    from lms.timeutil import isoformat

    block = {"assignment_type": None, "complete": None, "date": isoformat(date),
             "date_type": date_type, "description": description, "learner_has_access": True,
             "link": "", "link_text": "", "title": title, "extra_info": None,
             "first_component_block_id": None}
    block.update(extra)
    return block


def certificate_available_date(db, course):
    """Upstream's CertificateAvailableDate block: an instructor-paced course with a
    certificate available date, a mode other than audit (expired ones count) and an
    active web certificate."""
    from plugins.grades import certificates

    available = courses_api.parse_date(course.certificate_available_date)
    if available is None or course.self_paced:
        return None
    if certificates.active_web_certificate(course) is None:
        return None
    modes = enrollment_api.course_modes(db, course.course_key, include_expired=True)
    if not any(mode.mode_slug != "audit" for mode in modes):
        return None
    return available


def date_blocks(request, user, course, enrollment):
    """Assignment due dates (instructor-paced), course start, the certificate available
    date and course end, by date."""
    now = utcnow()
    blocks = []
    if not course.self_paced:
        access = courses_api.content_access(request.registry, request.dbsession, user, course)
        structure = access.structure
        for node in structure.blocks.values():
            if node.block_type != "sequential" or not node.get("graded"):
                continue
            due = courses_api.parse_date(node.get("due"))
            if due is None or not access.may_see(node.usage_key):
                continue
            first = next(iter(node.children), None)
            blocks.append(_date_block(
                "assignment-due-date", due, node.display_name or "", "",
                assignment_type=node.get("format"),
                link=request.application_url + f"/courses/{course.course_key}/jump_to/"
                                               f"{node.usage_key}",
                first_component_block_id=first))
    start = courses_api.parse_date(course.start)
    if start is not None:
        blocks.append(_date_block("course-start-date", start, "Course starts"))
    available = certificate_available_date(request.dbsession, course)
    if available is not None:
        blocks.append(_date_block(
            "certificate-available-date", available, "Certificate Available",
            "Day certificates will become available for passing verified learners."))
    end = courses_api.parse_date(course.end)
    if end is not None:
        if now <= end:
            eligible = (enrollment and enrollment.get("is_active")
                        and enrollment.get("mode") in CERTIFICATE_MODES)
            description = END_UPCOMING_CERT if eligible else END_UPCOMING
        else:
            description = END_PAST
        blocks.append(_date_block("course-end-date", end, "Course ends", description))
    order = {"assignment-due-date": 0}
    blocks.sort(key=lambda block: (block["date"], order.get(block["date_type"], 1)))
    return blocks


@dates.get(responses={200: obj({"course_date_blocks": array(), "has_ended": BOOLEAN,
                                "learner_is_full_access": BOOLEAN,
                                "user_timezone": nullable(STRING),
                                "dates_banner_info": obj({})}, required=False),
                      401: "Not signed in, or (`\"User not enrolled.\"`) not enrolled and "
                           "not course staff.",
                      404: "No such course."})
def get_dates(request):
    """The course's dates for the caller (past ones included)."""
    from lms.errors import APIError

    db = request.dbsession
    key = parse_course_key(request.matchdict["course_key_string"])
    course = courses_api.get_course(db, key) if key is not None else None
    if course is None:
        raise not_found()
    enrollment = enrollment_api.get_enrollment(db, request.user.id, course.course_key)
    enrolled = bool(enrollment and enrollment.get("is_active"))
    if not enrolled and not permissions.has_course_staff_access(db, request.user, key):
        raise APIError(401, "User not enrolled.")
    end = courses_api.parse_date(course.end)
    return {"course_date_blocks": date_blocks(request, request.user, course, enrollment),
            "has_ended": end is not None and end < utcnow(),
            "learner_is_full_access": True,
            "user_timezone": None,
            "dates_banner_info": course_home.dates_banner_info(course, request.user)}


# -- course_metadata --------------------------------------------------------------------------

metadata = Service("grades.course_metadata", BASE + f"course_metadata/{COURSE_KEY}",
                   auth=OUTLINE_AUTH, anonymous=True)
metadata_v1 = metadata.alias("grades.course_metadata_v1",
                             BASE + f"v1/course_metadata/{COURSE_KEY}")

TABS = (("courseware", "Course", "home"), ("progress", "Progress", "progress"),
        ("dates", "Dates", "dates"))


def access_response(error_code):
    """AccessResponse.to_json() (messages of the error kinds are not reproduced yet)."""
    return {"has_access": error_code is None, "error_code": error_code,
            "developer_message": None, "user_message": None,
            "additional_context_user_message": None, "user_fragment": None}


@metadata.get(responses={200: obj({"course_id": STRING, "course_access": obj({})},
                                  required=False),
                         404: "No such course (or an invalid key)."})
def get_course_metadata(request):
    """The course home's header data: tabs, enrollment, the caller's access."""
    db = request.dbsession
    user = request.user
    key = parse_course_key(request.matchdict["course_key_string"])
    course = courses_api.get_course(db, key) if key is not None else None
    if course is None:
        raise not_found()
    staff = user is not None and permissions.has_course_staff_access(db, user, key)
    enrollment = (enrollment_api.get_enrollment(db, user.id, course.course_key)
                  if user is not None else None)
    enrolled = bool(enrollment and enrollment.get("is_active"))
    error = courses_api.load_error(courses_api.course_access(request, user), course)
    if error is None and user is None:
        error = "authentication_required"
    elif error is None and not enrolled and not staff:
        error = "enrollment_required"
    base = str(request.registry.settings.get("grades.learning_mfe_url") or "").rstrip("/")
    modes = enrollment_api.course_modes(db, course.course_key)
    return {
        "course_id": course.course_key,
        "username": user.username if user is not None else None,
        "studio_access": bool(staff),
        "is_staff": bool(staff),
        "original_user_is_staff": bool(staff),
        "number": courses_api.display_number(course),
        "org": courses_api.display_org(course),
        "start": _iso(courses_api.course_start(course)),
        "tabs": [{"tab_id": tab_id, "title": title,
                  "url": f"{base}/course/{course.course_key}/{page}"}
                 for tab_id, title, page in TABS],
        "title": course.display_name,
        "is_self_paced": bool(course.self_paced),
        "is_enrolled": enrolled,
        "course_access": access_response(error),
        "celebrations": {"first_section": False, "streak_length_to_celebrate": None,
                         "streak_discount_enabled": False, "weekly_goal": False},
        "user_timezone": None,
        "can_view_certificate": _certificates_viewable(course),
        "course_modes": [{"slug": mode.mode_slug, "name": mode.mode_display_name}
                         for mode in modes],
        "is_new_discussion_sidebar_view_enabled": False,
        "has_course_author_access": bool(staff),
        "course_theme_variant": None,
        "verified_mode": None,
        "can_show_upgrade_sock": False,
    }


# -- outline ----------------------------------------------------------------------------------

outline = Service("grades.outline", BASE + f"outline/{COURSE_KEY}", auth=OUTLINE_AUTH,
                  anonymous=True)
outline_v1 = outline.alias("grades.outline_v1", BASE + f"v1/outline/{COURSE_KEY}")

GRADED_ICON = "fa-pencil-square-o"


def _completions(db, user, course_key):
    from plugins.grades import completion

    if user is None:
        return {}
    return completion.completions_for(db, user.id, course_key)


def _problems_under(structure, node):
    count, stack = 0, list(node.children)
    while stack:
        child = structure.blocks.get(stack.pop())
        if child is None:
            continue
        if child.block_type == "problem":
            count += 1
        stack.extend(child.children)
    return count


def resume_course(course_blocks, structure):
    """Upstream's ``resume_course``: the deepest outline block on the resume path."""
    path = [key for key, block in course_blocks["blocks"].items() if block["resume_block"]]
    if not path:
        return {"has_visited_course": False, "url": None}
    deepest = max(path, key=lambda key: len(structure.ancestors(key)))
    return {"has_visited_course": True, "url": course_blocks["blocks"][deepest]["lms_web_url"]}


def outline_blocks(request, user, course, access, staff, completions):
    """The outline's chapters and sequentials; ``complete`` as upstream's completion
    transformer (every completable leaf the learner may see is complete), and
    ``resume_block`` on the path to the block completed last."""
    from plugins.grades import completion

    structure = access.structure
    base = request.application_url + f"/courses/{course.course_key}/jump_to/"
    blocks = {}
    seen = (set(structure.blocks) if staff
            else access.visible_keys(require_enrollment=False))
    complete = completion.completed_keys(structure, seen, completions) if completions else set()
    resume_path = set()
    if user is not None and completions:
        resume_key = completion.resume_block(request.dbsession, user.id, course.course_key)
        if resume_key in structure.blocks and resume_key in seen:
            resume_path = {resume_key, *structure.ancestors(resume_key)}

    def visible(node):
        return staff or bool(access.may_see(node.usage_key))

    def entry(node, children):
        display_name = node.display_name or ""
        icon = None
        if node.block_type == "sequential" and node.get("graded"):
            problems = _problems_under(structure, node)
            if problems:
                icon = GRADED_ICON
                display_name += f" ({problems} Question{'s' if problems != 1 else ''})"
        due = courses_api.parse_date(node.get("due"))
        blocks[node.usage_key] = {
            "children": children, "complete": node.usage_key in complete,
            "description": node.get("format") if node.block_type == "sequential" else None,
            "display_name": display_name, "due": _iso(due), "effort_activities": None,
            "effort_time": None, "icon": icon, "id": node.usage_key,
            "lms_web_url": base + node.usage_key,
            "resume_block": node.usage_key in resume_path,
            "type": node.block_type, "has_scheduled_content": None,
            "hide_from_toc": bool(node.fields.get("hide_from_toc")),
        }

    root = structure.blocks[structure.root]
    chapters = []
    for chapter_key in root.children:
        chapter = structure.blocks.get(chapter_key)
        if chapter is None or chapter.block_type != "chapter" or not visible(chapter):
            continue
        sequences = [structure.blocks[key] for key in chapter.children
                     if key in structure.blocks
                     and structure.blocks[key].block_type == "sequential"
                     and visible(structure.blocks[key])]
        for sequence in sequences:
            entry(sequence, [])
        entry(chapter, [sequence.usage_key for sequence in sequences])
        chapters.append(chapter_key)
    entry(root, chapters)
    return {"blocks": blocks}


@outline.get(responses={200: obj({"course_blocks": nullable(obj({}))},
                                 required=False),
                        403: "The caller may not load the course (not started, hidden...).",
                        404: "No such course (or an invalid key)."})
def get_outline(request):
    """The course home outline (chapters and sequentials), goals, dates widget, handouts."""
    db = request.dbsession
    user = request.user
    key = parse_course_key(request.matchdict["course_key_string"])
    course = courses_api.get_course(db, key) if key is not None else None
    if course is None:
        raise not_found()
    if courses_api.load_error(courses_api.course_access(request, user), course) is not None:
        raise detail(403, "You do not have access to this course.")
    staff = user is not None and permissions.has_course_staff_access(db, user, key)
    enrollment = (enrollment_api.get_enrollment(db, user.id, course.course_key)
                  if user is not None else None)
    enrolled = bool(enrollment and enrollment.get("is_active"))
    public = course.course_visibility == "public"
    settings = request.registry.settings
    body = {
        "access_expiration": None, "cert_data": None, "course_blocks": None,
        "course_goals": {"selected_goal": None, "weekly_learning_goal_enabled": False},
        "course_tools": [],
        "dates_banner_info": course_home.dates_banner_info(course, user),
        "dates_widget": {"course_date_blocks": [],
                         "dates_tab_link": course_home.dates_tab_link(settings, course.course_key),
                         "user_timezone": None},
        "enroll_alert": {"can_enroll": True, "extra_text": None},
        "enrollment_mode": enrollment.get("mode") if enrollment else None,
        "enable_proctored_exams": False, "handouts_html": None,
        "has_ended": bool(course.end and courses_api.parse_date(course.end)
                          < utcnow()),
        "offer": None,
        "resume_course": {"has_visited_course": False, "url": None},
        "verified_mode": None, "welcome_message_html": None,
        "user_has_passing_grade": False, "can_show_upgrade_sock": False,
    }
    if enrolled or staff or public:
        access = courses_api.content_access(request.registry, db, user, course)
        body["course_blocks"] = outline_blocks(request, user, course, access, staff,
                                               _completions(db, user, course.course_key))
        body["resume_course"] = resume_course(body["course_blocks"], structure=access.structure)
        body["handouts_html"] = courses_api.info_html(course, "handouts")
    if enrolled or staff:
        body["cert_data"] = _outline_cert_data(request, user, course) if enrolled else None
        body["welcome_message_html"] = course_home.welcome_message_for(db, user, course)
        goal = course_home.get_goal(db, user.id, course.course_key) if enrolled else None
        if enrolled:
            body["course_goals"] = {
                "selected_goal": ({"days_per_week": goal.days_per_week,
                                   "subscribed_to_reminders": goal.subscribed_to_reminders}
                                  if goal else None),
                "weekly_learning_goal_enabled": True}
    if user is not None and not enrolled:
        body["enroll_alert"] = {"can_enroll": True, "extra_text": None}
    request.response.headers["Access-Control-Expose-Headers"] = "Date"
    return body
