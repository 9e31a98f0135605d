"""The enrollment API, ``/api/enrollment/v1/`` (upstream ``openedx.core.djangoapps.enrollments``).

- ``GET enrollment``: the caller's active enrollments, oldest first (``?user=``: the
  user themselves, global staff and API-key callers see all of them; anyone else only
  those in courses where they hold the course-level staff role);
- ``POST enrollment``: enroll (learners: themselves, in audit or honor); global staff
  and API-key callers may enroll others (``user`` or ``email``), change the mode or
  deactivate an existing enrollment, attach ``enrollment_attributes``; global staff may
  ``force_enrollment`` outside the enrollment window;
- ``GET enrollment/{course_id}`` and ``enrollment/{username},{course_id}``: one
  enrollment, active or not (200 with an empty body when there is none);
- ``GET course/{course_id}``: the course's enrollment facts and modes (no auth);
- ``GET enrollments/``: every enrollment, filtered (global staff; cursor pages of 100);
- ``GET roles/``: the caller's course access roles;
- ``POST unenroll/``: the retirement pipeline's RETIRING_ENROLLMENTS step.

Throttled as upstream's ``EnrollmentUserThrottle`` (settings ``enrollment.throttle_rate``
and ``enrollment.throttle_staff_rate``; API-key callers are exempt).
"""
from sqlalchemy import select

from lms import auth, pagination, permissions, throttle
from lms.auth import BEARER, JWT, NO_AUTH, SESSION
from lms.errors import APIError, field_errors, permission_denied
from lms.keys import parse_course_key
from lms.models import CourseAccessRole, User
from lms.openapi import NO_BODY
from lms.responses import empty_response
from lms.routing import COURSE_ID, USERNAME
from lms.service import Service, colander_querystring_validator
from lms.timeutil import utcnow
from lms.users import UserError, is_storable_text, is_storable_username, validate_username
from plugins.accounts import api as accounts_api
from plugins.courses import api as courses_api
from plugins.enrollment import api, cohorts, schemas, serializers
from plugins.enrollment.models import Enrollment

# JwtAuthentication, BearerAuthenticationAllowInactiveUser, Session(AllowInactiveUser).
ENROLLMENT_AUTH = (JWT, BEARER, SESSION)
PREFIX = "/api/enrollment/v1/"
# A course key never holds a comma, so "user,course" never reads as one course here.
COURSE_ID_NO_COMMA = COURSE_ID.replace("{course_id:[^/+]+", "{course_id:[^/+,]+", 1)

enrollment_list = Service("enrollment.enrollment_list", PREFIX + "enrollment",
                          auth=ENROLLMENT_AUTH, api_key=True)
enrollment_of_user = Service("enrollment.enrollment_of_user",
                             PREFIX + f"enrollment/{USERNAME},{COURSE_ID}",
                             auth=ENROLLMENT_AUTH, api_key=True)
enrollment_detail = Service("enrollment.enrollment_detail",
                            PREFIX + f"enrollment/{COURSE_ID_NO_COMMA}",
                            auth=ENROLLMENT_AUTH, api_key=True)
course_detail = Service("enrollment.course_detail", PREFIX + f"course/{COURSE_ID}",
                        auth=NO_AUTH, anonymous=True)
enrollments_api_list = Service("enrollment.enrollments", PREFIX + "enrollments/",
                               auth=ENROLLMENT_AUTH, errors="developer")
user_roles = Service("enrollment.roles", PREFIX + "roles/", auth=ENROLLMENT_AUTH,
                     api_key=True)
unenrollment = Service("enrollment.unenroll", PREFIX + "unenroll/", auth=(JWT,))

# Modes any learner may ask for (CourseMode.AUDIT, CourseMode.HONOR).
SELF_SERVICE_MODES = ("audit", "honor", None)
# Attributes some modes require (upstream REQUIRED_ATTRIBUTES).
REQUIRED_ATTRIBUTES = {"credit": ["credit:provider_id"]}
MAX_INPUT_COUNT = 100  # CourseEnrollmentsApiListForm.MAX_INPUT_COUNT
STAFF_ROLES = ("staff", "instructor", "limited_staff")
THROTTLED = "Request was throttled. Expected available in {} seconds."

MSG_NO_COURSE_ID = "Course ID must be specified to create a new enrollment."
MSG_NO_COURSE_FOR_ENROLLMENT = "No course '{}' found for enrollment"
MSG_MODE_FORBIDDEN = "User does not have permission to create enrollment with mode [{}]."
MSG_NO_USER = "The user {} does not exist."
MSG_NO_USER_EMAIL = "The user with the email address {} does not exist."
MSG_BAD_ACTIVE = "'{}' is an invalid enrollment activation status."
MSG_BAD_FORCE = "'{}' is an invalid force enrollment status."
MSG_MODE_MISMATCH = ("Enrollment mode mismatch: active mode={}, requested mode={}. "
                     "Won't deactivate.")
MSG_MISSING_ATTRIBUTES = "Missing enrollment attributes: requested mode={} required attributes={}"
MSG_MODE_UNAVAILABLE = ("The [{}] course mode is expired or otherwise unavailable for "
                        "course run [{}].")
MSG_CREATE_FAILED = ("An error occurred while creating the new course enrollment for user "
                     "'{}' in course '{}'")
MSG_RETRIEVE_FAILED = "An error occurred while retrieving enrollments for user '{}' in course '{}'"
MSG_NO_COURSE = "No course found for course ID '{}'"
# Upstream's message really lacks the closing quote.
MSG_ROLES_FAILED = "An error occurred while retrieving roles for user '{}"
MSG_NO_COHORT = "An error occured while adding to cohort [{}]"  # sic
MSG_NO_USERNAME = "Username not specified."
MSG_NO_RETIREMENT = "No retirement request status for username."


def message(status, text, **extra):
    return APIError(status, {"message": text, **extra})


def python_str(value):
    """How upstream's ``str.format`` prints a JSON value it refuses (``True``, ``[1]``)."""
    return str(value)


# -- throttling and callers ---------------------------------------------------------------

def enrollment_throttle(request, **kwargs):
    """``EnrollmentUserThrottle``: the user rate, the staff rate for global staff and
    superusers; a valid ``X-Edx-Api-Key`` is never throttled. Anonymous callers (the
    course detail view) count by address."""
    if auth.has_api_key(request):
        return
    rates = request.registry["enrollment.throttle_rates"]
    user = request.user
    staff = user is not None and user.is_active and (user.is_staff or user.is_superuser)
    bucket = "staff" if staff else "user"
    ident = str(user.id) if user is not None else throttle.client_ip(request)
    wait = throttle.hit(request, f"enrollment.{bucket}", ident, rates[bucket])
    if wait:
        raise throttle.Throttled(wait)


def caller_username(request):
    """``request.user.username``: an API-key caller is Django's anonymous user ("")."""
    return request.user.username if request.user is not None else ""


def is_global_staff(request):
    return permissions.is_staff(request.user)


def may_act_for_others(request):
    """``has_api_key_permissions(request) or GlobalStaff().has_user(request.user)``."""
    return auth.has_api_key(request) or is_global_staff(request)


def find_user(db, username):
    if not is_storable_username(username):
        return None
    return db.scalar(select(User).where(User.username == username))


def user_id_of(db, username):
    if not is_storable_username(username):
        return None
    return db.scalar(select(User.id).where(User.username == username))


def staffed_course_keys(db, user, course_keys):
    """The keys among ``course_keys`` where ``user`` holds a course-level staff role
    (``CourseStaffRole``; org-wide roles do not count), in one query."""
    if user is None or not user.is_active or not course_keys:
        return set()
    return set(db.scalars(select(CourseAccessRole.course_key).where(
        CourseAccessRole.user_id == user.id, CourseAccessRole.role.in_(STAFF_ROLES),
        CourseAccessRole.course_key.in_(list(course_keys)))))


# -- reading enrollments ------------------------------------------------------------------

def enrollments_of(db, username):
    """``api.get_enrollments(username)``: active enrollments, oldest first, with their
    course details; enrollments of deleted courses are skipped. Four queries."""
    user_id = user_id_of(db, username)
    if user_id is None:
        return []
    rows = api.user_enrollment_rows(db, user_id)
    details = serializers.load_course_details(db, [row.course_key for row in rows])
    return [serializers.enrollment_body(row, username, details[row.course_key])
            for row in rows if row.course_key in details]


def enrollment_of(db, username, course_key):
    """``api.get_enrollment``: the enrollment (active or not) with its course details,
    or None."""
    user_id = user_id_of(db, username)
    if user_id is None:
        return None
    row = api.get_enrollment_row(db, user_id, course_key)
    if row is None:
        return None
    details = serializers.load_course_details(db, [row.course_key])
    return serializers.enrollment_body(row, username, details.get(row.course_key))


@enrollment_list.get(schema=schemas.EnrollmentListQuery(),
                     validators=(enrollment_throttle, colander_querystring_validator),
                     responses={200: schemas.ENROLLMENT_LIST,
                                429: "Throttled (``EnrollmentUserThrottle``)."})
def get_enrollment_list(request):
    """The active enrollments of the caller, or of ``?user=``, oldest first.

    The user themselves, global staff and API-key callers see every active enrollment;
    anyone else only those in courses where they hold the course-level staff role
    (possibly none). Enrollments in deleted courses are left out.
    """
    auth.ensure_csrf_cookie(request)
    db = request.dbsession
    username = request.validated.get("user", caller_username(request))
    found = enrollments_of(db, username)
    if username == caller_username(request) or may_act_for_others(request):
        return found
    keys = [item["course_details"]["course_id"] for item in found]
    staffed = staffed_course_keys(db, request.user, keys)
    return [item for item in found if item["course_details"]["course_id"] in staffed]


def _enrollment_detail(request):
    username = request.matchdict.get("username") or caller_username(request)
    course_id = request.matchdict["course_id"]
    if (username != caller_username(request) and not auth.has_api_key(request)
            and not is_global_staff(request)):
        # 404, not 403: nobody may learn whether another user is enrolled.
        raise APIError(404, raw=b"")
    course_key = parse_course_key(course_id)
    if course_key is None:
        raise message(400, MSG_RETRIEVE_FAILED.format(username, course_id))
    found = enrollment_of(request.dbsession, username, course_key)
    if found is None:
        # DRF renders ``Response(None)`` as an empty JSON-typed body.
        response = request.response
        response.content_type = "application/json"
        response.body = b""
        return response
    return found


ENROLLMENT_DETAIL_RESPONSES = {
    200: schemas.ENROLLMENT_OR_EMPTY,
    400: "An invalid course key.",
    404: "Another user's enrollment, and the caller is neither global staff nor an API "
         "key caller (empty body).",
    429: "Throttled (``EnrollmentUserThrottle``).",
}


@enrollment_detail.get(validators=(enrollment_throttle,),
                       responses=ENROLLMENT_DETAIL_RESPONSES)
def get_enrollment_detail(request):
    """The caller's enrollment in a course, active or not (200 with an empty body when
    there is none)."""
    auth.ensure_csrf_cookie(request)
    return _enrollment_detail(request)


@enrollment_of_user.get(validators=(enrollment_throttle,),
                        responses=ENROLLMENT_DETAIL_RESPONSES)
def get_enrollment_of_user(request):
    """A user's enrollment in a course, active or not (200 with an empty body when there
    is none): the user themselves, global staff and API-key callers."""
    auth.ensure_csrf_cookie(request)
    return _enrollment_detail(request)


@course_detail.get(schema=schemas.CourseDetailsQuery(),
                   validators=(enrollment_throttle, colander_querystring_validator),
                   responses={200: schemas.COURSE_DETAILS,
                              400: "No such course, or an invalid course key.",
                              429: "Throttled (``EnrollmentUserThrottle``)."})
def get_course_detail(request):
    """A course run's enrollment facts and modes; no authentication.

    ``include_expired`` (any non-empty value) also lists expired modes. A course
    without configured modes offers upstream's default audit mode.
    """
    course_id = request.matchdict["course_id"]
    course_key = parse_course_key(course_id)
    details = {}
    if course_key is not None:
        details = serializers.load_course_details(
            request.dbsession, [course_key],
            include_expired=bool(request.validated.get("include_expired")))
    if str(course_key) not in details:
        # Upstream crashes (500) on a key it cannot parse; both answer 400 here.
        raise message(400, MSG_NO_COURSE.format(course_id))
    return details[str(course_key)]


# -- enrolling ----------------------------------------------------------------------------

class EnrollmentRefused(Exception):
    """Upstream's ``CourseEnrollmentError`` family: closed, invitation only, full."""


def default_mode(available_slugs):
    """``_default_course_mode``: audit, unless the course offers honor and not audit."""
    if "audit" not in available_slugs and "honor" in available_slugs:
        return "honor"
    return "audit"


def available_modes(db, course_key, include_expired):
    slugs = [mode.mode_slug for mode in api.modes_for_courses(
        db, [course_key], include_expired=include_expired)[str(course_key)]]
    return slugs or ["audit"]


def check_mode(db, course, mode, is_active, include_expired, requested_mode):
    """``validate_course_mode``: refuse a mode the course does not offer (expired modes
    count when deactivating or when ``include_expired``)."""
    if not include_expired:
        include_expired = not is_active if is_active is not None else False
    if mode not in available_modes(db, course.course_key, include_expired):
        details = serializers.load_course_details(db, [course.course_key],
                                                  include_expired=include_expired)
        raise message(400, MSG_MODE_UNAVAILABLE.format(requested_mode, course.course_key),
                      course_details=details[course.course_key])


def may_enroll(db, user, course, now):
    """``has_access(user, 'enroll', course)``: an allowed enrollment for the user's
    email, course staff (course or org; global staff), else not invitation-only and
    inside the enrollment window."""
    if api.is_enrollment_allowed(db, user.email, course.course_key):
        return True
    if permissions.has_course_staff_access(db, user, parse_course_key(course.course_key)):
        return True
    if course.invitation_only:
        return False
    start, end = course.enrollment_start, course.enrollment_end
    return (start is None or start < now) and (end is None or now < end)


def max_students(course):
    value = (course.settings or {}).get("max_student_enrollments_allowed")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def add_enrollment(request, user, course, mode, is_active, force_enrollment, requested_mode):
    """``api.add_enrollment``: create or reactivate the enrollment as
    ``CourseEnrollment.enroll(check_access=True)`` does; an active enrollment is
    answered unchanged (``CourseEnrollmentExistsError``)."""
    db = request.dbsession
    if mode is None:
        mode = default_mode(available_modes(db, course.course_key, False))
    check_mode(db, course, mode, is_active, force_enrollment, requested_mode)
    if not may_enroll(db, user, course, utcnow()) and not force_enrollment:
        raise EnrollmentRefused("enrollment closed")
    limit = max_students(course)
    # Upstream checks the seats before looking for an enrollment, so an enrolled
    # learner of a full course is refused too; api.enroll re-checks under a lock.
    if limit is not None and api.count_active(db, course.course_key) >= limit:
        raise EnrollmentRefused("course full")
    row = api.get_enrollment_row(db, user.id, course.course_key)
    if row is not None and row.is_active:
        return row, False
    try:
        row = api.enroll(db, user.id, course.course_key, mode=mode, changed_by_id=request.user
                         and request.user.id, max_students=limit)
    except api.CourseFull:
        raise EnrollmentRefused("course full")
    if is_active is False:
        row = api.update_enrollment(db, row, is_active=False,
                                    changed_by_id=request.user and request.user.id)
    return row, True


def attributes_problem(attributes):
    """``_invalid_attribute``'s message for the first malformed attribute, or None."""
    if not isinstance(attributes, list):
        return "'namespace' not in enrollment attribute"
    for attribute in attributes:
        for key in ("namespace", "name", "value"):
            if not isinstance(attribute, dict) or key not in attribute:
                return f"'{key}' not in enrollment attribute"
            if not is_storable_text(str(attribute[key]), 255):
                return f"'{key}' is not a valid enrollment attribute value"
    return None


def opt_in_flag(value):
    """``email_opt_in`` as a flag: JSON booleans as they are, text "true" (any case)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def embargo_refusal(request, course_key, user):
    """The embargo's answer when the user may not enroll from where they are, else None.

    Upstream asks ``embargo_api.get_embargo_response`` right after finding the user."""
    from plugins.enrollment import embargo

    error = embargo.enrollment_error(request, course_key, user)
    return error.response() if error is not None else None


@enrollment_list.post(schema=schemas.EnrollmentCreateBody(),
                      validators=(enrollment_throttle, schemas.lenient_body_validator),
                      responses={200: schemas.ENROLLMENT,
                                 400: schemas.ENROLLMENT_ERROR,
                                 403: schemas.MESSAGE,
                                 404: "Another user, and the caller is neither global "
                                      "staff nor an API key caller (empty body).",
                                 406: schemas.MESSAGE,
                                 429: "Throttled (``EnrollmentUserThrottle``)."})
def post_enrollment_list(request):
    """Enroll a user in a course (learners: themselves, in audit or honor).

    Global staff and API-key callers may name another user (``user`` or ``email``),
    ask for any mode, and change the mode or active flag of an existing enrollment
    (``is_active`` false deactivates it). Global staff may ``force_enrollment`` outside
    the enrollment window. Already enrolled: 200 with the enrollment.
    """
    db = request.dbsession
    data = request.validated
    details = data.get("course_details", {})
    course_id = details.get("course_id") if isinstance(details, dict) else None
    if not course_id:
        raise message(400, MSG_NO_COURSE_ID)
    course_key = parse_course_key(course_id) if isinstance(course_id, str) else None
    if course_key is None:
        raise message(400, MSG_NO_COURSE_FOR_ENROLLMENT.format(python_str(course_id)))
    course_id = str(course_key)
    mode = data.get("mode")
    has_api_key = auth.has_api_key(request)
    privileged = has_api_key or is_global_staff(request)
    username = data.get("user")
    if username and username != caller_username(request) and not privileged:
        # 404, not 403: nobody may learn whether another user exists.
        raise APIError(404, raw=b"")
    if not username:
        email = data.get("email")
        if email:
            if not privileged:
                raise APIError(404, raw=b"")
            user = (db.scalar(select(User).where(User.email == email))
                    if is_storable_text(email, 254) else None)
            if user is None:
                raise message(406, MSG_NO_USER_EMAIL.format(python_str(email)))
            username = user.username
        else:
            username = caller_username(request)
    if mode not in SELF_SERVICE_MODES and not privileged:
        raise message(403, MSG_MODE_FORBIDDEN.format(python_str(mode)))
    user = find_user(db, username) if isinstance(username, str) else None
    if user is None:
        raise message(406, MSG_NO_USER.format(python_str(username)))

    refusal = embargo_refusal(request, course_key, user)
    if refusal is not None:
        return refusal

    is_active = data.get("is_active")
    if is_active is not None and not isinstance(is_active, bool):
        raise message(400, MSG_BAD_ACTIVE.format(python_str(is_active)))
    force_enrollment = data.get("force_enrollment")
    if force_enrollment is not None and not isinstance(force_enrollment, bool):
        raise message(400, MSG_BAD_FORCE.format(python_str(force_enrollment)))
    force_enrollment = bool(force_enrollment) and is_global_staff(request)
    if not isinstance(mode, (str, type(None))):
        # Upstream would look the value up as a slug and find nothing.
        course = courses_api.get_course(db, course_key)
        if course is None:
            raise message(400, MSG_NO_COURSE_FOR_ENROLLMENT.format(course_id))
        check_mode(db, course, mode, is_active, False, python_str(mode))
    attributes = data.get("enrollment_attributes")
    if attributes is not None:
        problem = attributes_problem(attributes)
        if problem:
            raise message(400, problem, localizedMessage=problem)

    row = api.get_enrollment_row(db, user.id, course_key)
    mode_changed = row is not None and mode is not None and row.mode != mode
    active_changed = row is not None and is_active is not None and row.is_active != is_active
    missing = set()
    if attributes:
        given = {f"{attribute['namespace']}:{attribute['name']}" for attribute in attributes}
        missing = set(REQUIRED_ATTRIBUTES.get(mode, [])) - given
    changed_by = request.user.id if request.user is not None else None
    course = courses_api.get_course(db, course_key)
    already_enrolled = False
    if privileged and (mode_changed or active_changed):
        if mode_changed and active_changed and not is_active:
            # The caller's view of the enrollment is out of date: change nothing.
            raise message(400, MSG_MODE_MISMATCH.format(row.mode, mode))
        if missing:
            raise message(400, MSG_MISSING_ATTRIBUTES.format(
                mode, python_str(REQUIRED_ATTRIBUTES.get(mode))))
        if mode is not None:
            if course is None:
                raise message(400, MSG_NO_COURSE_FOR_ENROLLMENT.format(course_id))
            # API-key callers (ecommerce) may move learners into expired modes.
            check_mode(db, course, mode, is_active, has_api_key, mode)
        row = api.update_enrollment(db, row, mode=mode, is_active=is_active,
                                    changed_by_id=changed_by)
    else:
        if course is None:
            raise message(400, MSG_NO_COURSE_FOR_ENROLLMENT.format(course_id))
        try:
            row, changed = add_enrollment(request, user, course, mode, is_active,
                                          force_enrollment, mode)
        except EnrollmentRefused:
            raise message(400, MSG_CREATE_FAILED.format(username, course_id))
        if not changed:
            # Already enrolled (CourseEnrollmentExistsError): answered as it stands.
            attributes = None
            already_enrolled = True
    if attributes:
        api.set_attributes(db, row, [{key: str(attribute[key])
                                      for key in ("namespace", "name", "value")}
                                     for attribute in attributes])
    cohort_name = data.get("cohort")
    if cohort_name is not None:
        try:
            if not isinstance(cohort_name, str):
                raise cohorts.CohortNotFound(cohort_name)
            cohorts.add_user_to_cohort_by_name(db, course_key, user, cohort_name)
        except cohorts.CohortNotFound:
            # Upstream keeps the enrollment it made; here the request changes nothing.
            raise message(400, MSG_NO_COHORT.format(python_str(cohort_name)))
    email_opt_in = data.get("email_opt_in")
    if email_opt_in is not None and request.user is not None and not already_enrolled:
        # Upstream keeps it for the caller (``request.user``), for the course's org, and
        # only once the enrollment went through (not for "already enrolled").
        accounts_api.update_email_opt_in(db, request.user, course_key.org,
                                         opt_in_flag(email_opt_in))
    found = serializers.load_course_details(db, [course_id])
    return serializers.enrollment_body(row, user.username, found.get(course_id))


# -- every enrollment (global staff) -------------------------------------------------------

def split_csv(value, name, label, problems):
    if not value:
        return None
    items = value.split(",")
    if len(items) > MAX_INPUT_COUNT:
        problems[name] = (f"Too many {label} in a single request - {len(items)}. "
                          f"A maximum of {MAX_INPUT_COUNT} is allowed")
    return items


def require_global_staff(request, **kwargs):
    """``IsAdminUser`` (checked before the throttle, as DRF does)."""
    if not is_global_staff(request):
        raise permission_denied("developer")


@enrollments_api_list.get(schema=schemas.EnrollmentsApiListQuery(),
                          validators=(require_global_staff, enrollment_throttle,
                                      colander_querystring_validator),
                          query={"page_size": "Enrollments per page (at most and by default 100)."},
                          responses={200: schemas.ENROLLMENTS_PAGE,
                                     403: "The caller is not global staff.",
                                     404: "An invalid cursor.",
                                     429: "Throttled (``EnrollmentUserThrottle``)."})
def get_enrollments_api_list(request):
    """Every enrollment, newest first, filtered by course and user (global staff).

    ``course_id`` (one key), ``course_ids``, ``username`` and ``email`` (comma-separated,
    at most 100 each). Cursor pages of ``page_size`` enrollments (at most and by default
    100, as upstream's ``CourseEnrollmentsApiListPagination``).
    """
    query = request.validated
    problems = {}
    course_id = query.get("course_id")
    course_key = None
    if course_id:
        course_key = parse_course_key(course_id)
        if course_key is None:
            problems["course_id"] = f"'{course_id}' is not a valid course id."
    usernames = split_csv(query.get("username"), "username", "usernames", problems)
    if usernames and "username" not in problems:
        for name in usernames:
            try:
                validate_username(name)
            except UserError as error:
                problems["username"] = str(error)
                break
    course_ids = split_csv(query.get("course_ids"), "course_ids", "course_ids", problems)
    emails = split_csv(query.get("email"), "email", "emails", problems)
    if problems:
        raise field_errors(problems, "developer")
    stmt = select(Enrollment, User.username).join(User, User.id == Enrollment.user_id)
    if course_key is not None:
        stmt = stmt.where(Enrollment.course_key == str(course_key))
    if course_ids:
        stmt = stmt.where(Enrollment.course_key.in_(course_ids))
    if usernames:
        stmt = stmt.where(User.username.in_(usernames))
    if emails:
        stmt = stmt.where(User.email.in_([email for email in emails
                                          if is_storable_text(email, 254)]))
    return pagination.cursor(
        request, stmt, Enrollment.id,
        lambda rows: [serializers.enrollment_list_item(row, name) for row, name in rows],
        page_size=100, descending=True, honour_page_size=True, max_page_size=100)


# -- roles --------------------------------------------------------------------------------

@user_roles.get(schema=schemas.RolesQuery(),
                validators=(enrollment_throttle, colander_querystring_validator),
                responses={200: schemas.ROLES,
                           400: schemas.MESSAGE,
                           429: "Throttled (``EnrollmentUserThrottle``)."})
def get_user_roles(request):
    """The caller's course access roles (only those of ``?course_id=`` when given) and
    whether the caller is global staff."""
    auth.ensure_csrf_cookie(request)
    user = request.user
    if user is None:
        # An API-key caller is nobody: upstream fails to find user "" this way.
        raise message(400, MSG_ROLES_FAILED.format(""))
    rows = request.dbsession.scalars(select(CourseAccessRole).where(
        CourseAccessRole.user_id == user.id).order_by(CourseAccessRole.id)).all()
    course_id = request.validated.get("course_id")
    # Upstream prints an empty course key as "None" (org-wide and global roles).
    roles = [{"org": row.org, "course_id": row.course_key or "None", "role": row.role}
             for row in rows]
    if course_id:
        roles = [role for role in roles if role["course_id"] == course_id]
    return {"roles": roles, "is_staff": bool(user.is_staff)}


# -- retirement ---------------------------------------------------------------------------

def can_retire_user(request, **kwargs):
    """``CanRetireUser``: a superuser or the retirement service account."""
    permissions.require(accounts_api.may_retire_users(request.registry, request.user))


@unenrollment.post(schema=schemas.UnenrollBody(),
                   validators=(can_retire_user, schemas.lenient_body_validator),
                   responses={200: schemas.ORG_LIST,
                              204: NO_BODY,
                              400: "The retirement is not in a state retirement steps may "
                                   "act on (a bare JSON string).",
                              404: "No username, or no retirement for it (a bare JSON "
                                   "string)."})
def post_unenrollment(request):
    """Retirement: deactivate every enrollment of a learner being retired.

    Called by the retirement service (step ``RETIRING_ENROLLMENTS``) with the learner's
    original username in ``username``. 200 with the orgs of the learner's enrollments,
    204 when none was active.
    """
    db = request.dbsession
    data = request.validated
    if "username" not in data:
        raise APIError(404, MSG_NO_USERNAME)
    username = data["username"]
    try:
        user_id = (accounts_api.retirement_user_id_for_action(db, username)
                   if isinstance(username, str) else None)
    except accounts_api.RetirementStateError as error:
        # Upstream answers 500 with this text; a wrong state is the caller's error.
        raise APIError(400, str(error))
    if user_id is None:
        raise APIError(404, MSG_NO_RETIREMENT)
    changed = api.unenroll_all(db, user_id, changed_by_id=request.user.id)
    if not changed:
        return empty_response(204)
    # Upstream answers the orgs of every enrollment the learner has, active or not.
    return api.enrollment_orgs(db, user_id)
