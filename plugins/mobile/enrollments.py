"""``users/{username}/course_enrollments/``: the learner's courses, per API version.

- v0.5: a bare array of ``{created, mode, is_active, course, certificate}``, without
  the enrollments whose (duration-limited) access expired;
- v1: a bare array; items add ``audit_access_expires`` and ``course_modes``;
- v2: ``{"configs", "user_timezone", "enrollments": [...]}``;
- v3: the same, ``enrollments`` a page (10 a page);
- v4: the ``status`` filter, pages of 5 (at most 50), and ``primary``: the course the
  learner was in last, taken out of the list (not with a valid ``status``).

The list is the caller's active enrollments, newest first, of courses that exist,
in ``org`` (ignoring case) and on mobile for the caller (or the caller is their
staff or beta tester; ``courseware_access`` tells whether they may load it now).
The query count does not grow with the number of enrollments.
"""
from urllib.parse import quote, urlparse

from lms.keys import parse_course_key
from lms.pagination import page_of_items
from lms.timeutil import aware, isoformat, utcnow
from plugins.accounts import api as accounts
from plugins.courses import api as courses
from plugins.enrollment import api as enrollment
from plugins.mobile import access as mobile_access
from plugins.mobile import api
from plugins.mobile.status import resume_block, status_body

V05, V1, V2, V3, V4 = "v0.5", "v1", "v2", "v3", "v4"
VERSIONS = (V05, V1, V2, V3, V4)
STATUSES = ("all", "in_progress", "completed", "expired")
PAGE_SIZES = {V3: (10, 100), V4: (5, 50)}  # (default, maximum)
# get_encoded_course_sharing_utm_params()
SHARING_UTM = {
    "facebook": "utm_medium=social&utm_campaign=social-sharing-db&utm_source=facebook",
    "twitter": "utm_medium=social&utm_campaign=social-sharing-db&utm_source=twitter",
}


def mobile_url(request, version, path):
    return f"{request.application_url}/api/mobile/{version}/{path}"


def discussion_url(request, course):
    """The discussion API of the course when it has a discussion tab, else None."""
    tabs = (course.settings or {}).get("tabs") or ()
    if any(isinstance(tab, dict) and tab.get("type") == "discussion" for tab in tabs):
        return f"{request.application_url}/api/discussion/v1/courses/{course.course_key}"
    return None


def subscription_id(course_key):
    """``clean_id(padding_char="_")``: every non-alphanumeric character becomes ``_``."""
    return "".join(char if char.isalnum() else "_" for char in course_key)


def org_logo_url(request, logos, course):
    """The absolute URL of the course organization's logo, or ``""``."""
    logo = logos.get(course.org)
    if not logo:
        return ""
    return courses.absolute_url(request, logo if urlparse(logo).netloc else "/" + logo.lstrip("/"))


def course_body(request, version, course, access, logos):
    """``CourseOverviewField``: the course of an enrollment item."""
    key = course.course_key
    image = courses.course_image_path(course)
    own = access.enrollment(course) or {}
    return {
        "id": key,
        "name": course.display_name,
        "number": courses.display_number(course),
        "org": courses.display_org(course),
        "org_logo": org_logo_url(request, logos, course),
        "start": isoformat(courses.course_start(course)),
        "start_display": courses.start_display(course),
        "start_type": courses.start_type(course),
        "end": isoformat(course.end),
        "dynamic_upgrade_deadline": isoformat(own.get("upgrade_deadline")),
        "subscription_id": subscription_id(key),
        "courseware_access": mobile_access.error_json(
            courses.load_error(access, course, mobile=True), course),
        "media": {"course_image": {"uri": image, "name": "Course Image"}},
        "course_image": image,
        "course_about": f"{request.application_url}/courses/{key}/about",
        "course_sharing_utm_parameters": dict(SHARING_UTM),
        "course_updates": mobile_url(request, version, f"course_info/{key}/updates"),
        "course_handouts": mobile_url(request, version, f"course_info/{key}/handouts"),
        "discussion_url": discussion_url(request, course),
        "video_outline": None,
        "is_self_paced": bool(course.self_paced),
    }


def mode_body(mode):
    return {"slug": mode.mode_slug, "sku": mode.sku, "android_sku": mode.android_sku,
            "ios_sku": mode.ios_sku, "min_price": mode.min_price}


def downloadable_certificates(request, user, courses):
    """``{course key: absolute URL}`` of the user's downloadable certificates among
    ``courses`` (``lms_downloadable_certificates``; none when no plugin issues them)."""
    hook = request.registry["lms.plugin_manager"].hook.lms_downloadable_certificates
    paths = hook(dbsession=request.dbsession, user_id=user.id,
                 course_keys=[course.course_key for course in courses]) or {}
    return {key: request.application_url + path if path.startswith("/") else path
            for key, path in paths.items()}


def certificate_body(certificates, course):
    """Upstream's ``certificate`` field: ``{"url"}`` once downloadable, else ``{}``."""
    url = (certificates or {}).get(course.course_key)
    return {"url": url} if url else {}


def item_body(request, version, row, course, access, modes, logos, certificates=None):
    created, mode, active = isoformat(row.created), row.mode, row.is_active
    course_json = course_body(request, version, course, access, logos)
    if version == V05:
        return {"created": created, "mode": mode, "is_active": active, "course": course_json,
                "certificate": certificate_body(certificates, course)}
    deadline = enrollment.enrollment_dict(row).get("audit_access_deadline")
    return {
        "audit_access_expires": isoformat(deadline),
        "created": created,
        "mode": mode,
        "is_active": active,
        "course": course_json,
        "certificate": certificate_body(certificates, course),
        "course_modes": [mode_body(m) for m in modes.get(course.course_key, ())],
    }


def expired(row, course, now):
    """Access is over: the course ended, or the audit access deadline passed."""
    end = aware(course.end)
    deadline = aware(enrollment.enrollment_dict(row).get("audit_access_deadline"))
    return (end is not None and end < now) or (deadline is not None and deadline < now)


def status_filter(status, row, course, now):
    if status == "expired":
        return expired(row, course, now)
    if status == "completed":
        return False  # no certificates or grades plugin says a course was completed
    if status == "in_progress":
        return not expired(row, course, now)
    return True


def user_timezone(request, user):
    return accounts.get_preference(request.dbsession, user.id, "time_zone") or "UTC"


def page_of(request, items, version):
    """DRF's DefaultPagination over an already filtered list (``Invalid page.`` 404)."""
    default, maximum = PAGE_SIZES[version]
    return page_of_items(request, items, default_size=default, max_size=maximum)


def listed(request, user, version, query):
    """``[(row, course)]``: the enrollments the version lists, newest first."""
    db = request.dbsession
    rows = sorted(enrollment.user_enrollment_rows(db, user.id),
                  key=lambda row: (aware(row.created), row.id), reverse=True)
    found = courses.get_courses(db, [row.course_key for row in rows])
    org = query.get("org")
    pairs = [(row, found[row.course_key]) for row in rows if row.course_key in found
             and (org is None or found[row.course_key].org.lower() == org.lower())]
    access = courses.course_access(request, user)
    access.prefetch_enrollments([course for _, course in pairs])
    pairs = [(row, course) for row, course in pairs if mobile_available(access, course)]
    if version == V05:
        pairs = [(row, course) for row, course in pairs if not access.access_expired(course)]
    return pairs, access


def mobile_available(access, course):
    """``is_mobile_available_for_user``: the course is on mobile, or the caller is its
    beta tester or staff. Courses the caller may not load yet stay listed: their
    ``courseware_access`` says why."""
    return bool(course.mobile_available or access.is_beta_tester(course)
                or access.is_staff(course))


def primary_course(db, user, pairs):
    """v4's primary: the newest enrollment, unless the learner visited a course after
    it was made; then the course visited last."""
    if not pairs:
        return None
    newest = pairs[0]
    latest = api.latest_positions(db, user.id, [course.course_key for _, course in pairs])
    if latest:
        course_key, when = max(latest.items(), key=lambda item: item[1])
        if when > aware(newest[0].created):
            return next(pair for pair in pairs if pair[1].course_key == course_key)
    return newest


def course_progress(request, course, user):
    """``{"total_assignments_count", "assignments_completed"}``: graded subsections the
    learner may see, and those whose every completable block is complete."""
    from plugins.courses.render import completable_leaves

    structure = courses.get_structure(request.registry, request.dbsession, course)
    access = courses.content_access(request.registry, request.dbsession, user, course)
    visible = access.visible_keys(require_enrollment=False)
    graded = [key for key in structure.blocks if key in visible
              and structure.blocks[key].block_type == "sequential"
              and structure.blocks[key].get("graded")]
    hook = request.registry["lms.plugin_manager"].hook.lms_block_completions
    completions = hook(dbsession=request.dbsession, user_id=user.id,
                       course_key=parse_course_key(course.course_key)) or {}
    done = 0
    for key in graded:
        leaves = completable_leaves(structure, key, visible)
        if leaves and all(completions.get(leaf, 0) >= 1 for leaf in leaves):
            done += 1
    return {"total_assignments_count": len(graded), "assignments_completed": done}, \
        structure, visible, completions


def course_assignments(request, course, structure, visible, completions, now):
    """Graded subsections with a due date, split into future and past."""
    from plugins.courses.render import completable_leaves

    future, past = [], []
    for key, node in structure.blocks.items():
        due = node.get("due")
        if key not in visible or node.block_type != "sequential" or not node.get("graded") \
                or due is None:
            continue
        leaves = completable_leaves(structure, key, visible)
        item = {
            "assignment_type": node.get("format"),
            "complete": bool(leaves) and all(completions.get(leaf, 0) >= 1 for leaf in leaves),
            "date": isoformat(due),
            "date_type": "assignment-due-date",
            "description": "",
            "learner_has_access": True,
            "link": f"{request.application_url}/courses/{course.course_key}/jump_to/{key}",
            "title": node.display_name or "",
            "extra_info": None,
            "first_component_block_id": "",
        }
        (future if aware(due) > now else past).append(item)
    return {"future_assignments": future, "past_assignments": past}


def primary_body(request, version, pair, access, modes, logos, user, certificates=None):
    row, course = pair
    body = item_body(request, version, row, course, access, modes, logos, certificates)
    saved = api.positions(request.dbsession, user.id, course.course_key)
    course_status = None
    if saved:
        status = status_body(request, course, user)
        path = list(reversed(status["last_visited_module_path"]))
        structure = courses.get_structure(request.registry, request.dbsession, course)
        last = structure.blocks.get(path[-1])
        course_status = {
            "last_visited_module_id": status["last_visited_module_id"],
            "last_visited_module_path": path,
            "last_visited_block_id": resume_block(request, course, user),
            "last_visited_unit_display_name": (last.display_name or "") if last else "",
        }
    progress, structure, visible, completions = course_progress(request, course, user)
    body["course_status"] = course_status
    body["course_progress"] = progress
    body["course_assignments"] = course_assignments(request, course, structure, visible,
                                                    completions, utcnow())
    return body


def enrollments_body(request, user, version, query):
    pairs, access = listed(request, user, version, query)
    now = utcnow()
    primary = None
    if version == V4:
        status = query.get("status")
        if status in STATUSES:
            pairs = [pair for pair in pairs if status_filter(status, *pair, now)]
        else:
            primary = primary_course(request.dbsession, user, pairs)
            pairs = [pair for pair in pairs if pair is not primary]
    modes = enrollment.modes_for_courses(request.dbsession, [c.course_key for _, c in pairs]
                                         + ([primary[1].course_key] if primary else []))
    logos = courses.organization_logos(
        request.dbsession, {course.org for _, course in pairs + ([primary] if primary else [])})
    with_progress = version == V4 and "course_progress" in (query.get("requested_fields")
                                                            or "").split(",")

    certificates = downloadable_certificates(
        request, user, [course for _, course in pairs + ([primary] if primary else [])])

    def item(pair):
        body = item_body(request, version, *pair, access, modes, logos, certificates)
        if with_progress:
            body["course_progress"] = course_progress(request, pair[1], user)[0]
        return body

    if version in (V05, V1):
        return [item(pair) for pair in pairs]
    if version in (V3, V4):
        page = page_of(request, pairs, version)
        page["results"] = [item(pair) for pair in page["results"]]
        enrollments = page
    else:
        enrollments = [item(pair) for pair in pairs]
    body = {"configs": {"iap_configs": {}}, "user_timezone": user_timezone(request, user),
            "enrollments": enrollments}
    if primary is not None:
        body["primary"] = primary_body(request, version, primary, access, modes, logos, user,
                                       certificates)
    return body


def user_body(request, version, user):
    """``UserSerializer``."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "name": user.name,
        "course_enrollments": mobile_url(
            request, version, f"users/{quote(user.username)}/course_enrollments/"),
    }
