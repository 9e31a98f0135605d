"""The course API catalog (upstream ``lms/djangoapps/course_api``):

- ``GET /api/courses/v1/courses/``: the courses a user may see (namespaced pages);
- ``GET /api/courses/v1/courses/{course_key_string}``: one course, with ``overview``;
- ``GET /api/courses/v1/course_ids/``: keys of the courses where a user has a role.

Whose view: ``?username=`` (default ``""``) names the *effective user*: the
caller's own name is the caller, ``""`` is the anonymous user (also for a
logged-in caller, as upstream's code does), anyone else needs global staff.

What a user may see is Open edX's ``has_access(user, action, course)``,
evaluated in memory by :class:`CatalogAccess` with the user's roles loaded
once. The enrollment hook is only asked when the answer depends on it (a
course that is not enrollable; ``is_enrolled``). The lists do not load the
catalog: :meth:`CatalogAccess.sql_superset` turns each check into SQL that
keeps every course the check passes (exactly those, but for what only Python
knows: an audit learner's expired access, a beta tester's early start, a
``visible_to_staff_only`` that is truthy but no ``true``), the keyed paginator
pages the keys that SQL keeps, and each page's courses are checked in memory
(the authority). A course only the in-memory check drops is counted but not
shown, so such a page holds fewer results.

``search_term``: Open edX filters through its search engine (and ignores the
term without one). openlms has none; it keeps the courses whose name, short
description, organisation or number contains the term, case-insensitively.
"""
import math
from datetime import timedelta

import colander
from sqlalchemy import and_, false, func, not_, or_, select, true
from sqlalchemy.orm import defer

from lms import pagination, permissions, throttle
from lms.auth import STANDARD_AUTH
from lms.errors import developer, field_errors, permission_denied
from lms.keys import parse_course_key
from lms.models import CourseAccessRole, OAuthApplication
from lms.routing import COURSE_KEY
from lms.service import Service, colander_querystring_validator
from lms.timeutil import aware, utcnow
from lms.users import get_by_username
from plugins.courses import api
from plugins.courses import openapi_schemas as doc
from plugins.courses.config import courses_config
from plugins.courses.models import Course
from plugins.courses.serializers import (
    course_start,
    serialize_course,
    serialize_course_detail,
)
from plugins.courses.structure import DEFAULT_START

course_list = Service("courses.course_list", "/api/courses/v1/courses/",
                      auth=STANDARD_AUTH, errors="developer", anonymous=("GET",))
course_detail = Service("courses.course_detail", f"/api/courses/v1/courses/{COURSE_KEY}",
                        auth=STANDARD_AUTH, errors="developer", anonymous=("GET",))
course_ids = Service("courses.course_ids", "/api/courses/v1/course_ids/",
                     auth=STANDARD_AUTH, errors="developer")

COURSE_LIST_MAX_PAGE_SIZE = 100
COURSE_IDS_MAX_PAGE_SIZE = 1000
# settings.MOBILE_SEARCH_COURSE_LIMIT: courses searched when ``mobile_search`` is on.
MOBILE_SEARCH_COURSE_LIMIT = 100
INVALID_PAGE = {"developer_message": "Invalid page."}
USER_NOT_FOUND = "User matching query does not exist."
COURSE_NOT_FOUND = "Course not found."
CLIENT_CREDENTIALS = "client-credentials"
# The actions of upstream's ``_has_access_course``; anything else crashes there.
ACTIONS = ("load", "load_mobile", "enroll", "see_exists", "staff", "instructor",
           "see_in_catalog", "see_about_page")
# COURSE_CATALOG_VISIBILITY_PERMISSION and COURSE_ABOUT_VISIBILITY_PERMISSION.
CATALOG_PERMISSION = "see_exists"
# The course columns the list never shows; not loaded for the whole catalog.
HEAVY_COLUMNS = (Course.overview, Course.handouts_html, Course.updates_html,
                 Course.grading_policy)
# The checks whose answer depends on the time of the request: their lists' page
# boundaries could not be reused (lms.pagination), so they are not remembered.
TIMED_ACTIONS = frozenset(("load", "load_mobile", "enroll", "see_exists"))


# -- query parameters (Django forms of upstream, as colander types) ---------------------

def _last(cstruct):
    """A repeated parameter counts once, with its last value (Django's QueryDict.get)."""
    return cstruct[-1] if isinstance(cstruct, list) else cstruct


class QueryText(colander.String):
    """``forms.CharField(required=False)``: stripped; absent or blank is ``""``."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        return str(_last(cstruct)).strip()


class RequiredText(QueryText):
    """``forms.CharField(required=True)``."""

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if not value:
            raise colander.Invalid(node, "This field is required.")
        return value


class NullBoolean(colander.Boolean):
    """``ExtendedNullBooleanField``: True/true/1, False/false/0, empty is None."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return None
        value = _last(cstruct)
        if value in ("True", "true", "1"):
            return True
        if value in ("False", "false", "0"):
            return False
        if not value:
            return None
        raise colander.Invalid(node, "Invalid Boolean Value.")


class MultiValue(colander.String):
    """``MultiValueField``: repeated parameters and comma lists merged into a set."""

    multi_value = True  # every value of a repeated parameter (lms.service)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return set()
        values = cstruct if isinstance(cstruct, list) else [cstruct]
        joined = ",".join(values)
        found = set(joined.split(",")) if joined else set()
        if "" in found:
            raise colander.Invalid(node, "This field cannot be empty.")
        return found


class CourseKeySet(MultiValue):
    def deserialize(self, node, cstruct):
        keys = set()
        for value in sorted(super().deserialize(node, cstruct)):
            key = parse_course_key(value)
            if key is None:
                raise colander.Invalid(node, f"'{value}' is not a valid course key.")
            keys.add(str(key))
        return keys


def _known_action(node, value):
    if value not in ACTIONS:
        raise colander.Invalid(node, f"'{value}' is not a valid permission.")


def _known_actions(node, values):
    for value in sorted(values):
        _known_action(node, value)


def _known_role(node, value):
    if value not in ACTIONS:
        raise colander.Invalid(node, f"'{value}' is not a valid role.")


class CourseListQuery(colander.MappingSchema):
    """``CourseListGetForm``; other parameters are ignored."""

    username = colander.SchemaNode(QueryText(), missing="")
    org = colander.SchemaNode(QueryText(), missing="")
    search_term = colander.SchemaNode(QueryText(), missing="")
    mobile = colander.SchemaNode(NullBoolean(), missing=None)
    active_only = colander.SchemaNode(NullBoolean(), missing=None)
    mobile_search = colander.SchemaNode(NullBoolean(), missing=None)
    permissions = colander.SchemaNode(MultiValue(), missing=set(), validator=_known_actions)
    course_keys = colander.SchemaNode(CourseKeySet(), missing=set())
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)


class CourseDetailQuery(colander.MappingSchema):
    username = colander.SchemaNode(QueryText(), missing="")


class CourseIdsQuery(colander.MappingSchema):
    """``CourseIdListGetForm``: ``role`` is matched case-sensitively, as upstream's code does."""

    username = colander.SchemaNode(QueryText(), missing="")
    role = colander.SchemaNode(RequiredText(), missing_msg="This field is required.",
                               validator=_known_role)
    page = colander.SchemaNode(colander.String(), missing=colander.drop)
    page_size = colander.SchemaNode(colander.String(), missing=colander.drop)


# -- who is asking, for whom --------------------------------------------------------------

def effective_user(request, username):
    """Upstream ``get_effective_user``: the user whose view of the catalog is computed.

    None is the anonymous user. Naming someone else needs global staff (403);
    staff naming an unknown user get 404.
    """
    caller = request.user
    if caller is not None and username == caller.username:
        return caller
    if username == "":
        return None
    if not permissions.is_staff(caller):
        raise permission_denied("developer")
    user = get_by_username(request.dbsession, username)
    if user is None:
        raise developer(404, USER_NOT_FOUND)
    return user


def _is_client_credentials(request):
    authentication = request.authentication
    if authentication.jwt_payload is not None:
        return authentication.jwt_payload.get("grant_type") == CLIENT_CREDENTIALS
    token = authentication.access_token
    if token is None:
        return False
    application = request.dbsession.get(OAuthApplication, token.application_id)
    return application is not None and application.grant_type == CLIENT_CREDENTIALS


def course_list_throttle(scope):
    """A validator: upstream ``CourseListUserThrottle`` (its own bucket per endpoint).

    Staff and superusers get the staff rate, or the service-user rate when they
    call with a client-credentials token; everybody else (anonymous callers by
    address) the user rate.
    """

    def validator(request, **kwargs):
        config = courses_config(request.registry)
        user = request.user
        if user is not None and (user.is_staff or user.is_superuser):
            if _is_client_credentials(request):
                bucket, rate = "service_user", config.course_list_service_user_rate
            else:
                bucket, rate = "staff", config.course_list_staff_rate
        else:
            bucket, rate = "user", config.course_list_rate
        ident = str(user.id) if user is not None else throttle.client_ip(request)
        wait = throttle.hit(request, f"courses.{scope}.{bucket}", ident, rate)
        if wait:
            seconds = max(1, math.ceil(wait))
            raise throttle.Throttled(seconds, {
                "developer_message": f"Request was throttled. Expected available in "
                                     f"{seconds} seconds."})

    return validator


# -- has_access for many courses ------------------------------------------------------------

class CatalogAccess:
    """Open edX ``has_access(user, action, course)`` for course overviews.

    The user's course and org roles are read in one query; course staff
    (global staff, course or org staff/instructor) pass every check except
    loading an old-style (slash) course. Prerequisites and entrance milestones
    are off, as in a default Open edX.
    """

    def __init__(self, request, user):
        self.request = request
        self.user = user
        self.now = utcnow()
        self.global_staff = permissions.is_staff(user)
        self.course_roles, self.org_roles = {}, {}
        if user is not None and user.is_active and not self.global_staff:
            rows = request.dbsession.execute(
                select(CourseAccessRole.org, CourseAccessRole.course_key, CourseAccessRole.role)
                .where(CourseAccessRole.user_id == user.id))
            for org, course_key, role in rows:
                if course_key:
                    self.course_roles.setdefault(course_key, set()).add(role)
                elif org:
                    self.org_roles.setdefault(org, set()).add(role)
        self._enrollments = {}

    def roles(self, course):
        return (self.course_roles.get(course.course_key, set())
                | self.org_roles.get(course.org, set()))

    def is_staff(self, course):
        return self.global_staff or bool(self.roles(course) & set(permissions.STAFF_ROLES))

    def is_instructor(self, course):
        return self.global_staff or "instructor" in self.roles(course)

    def is_beta_tester(self, course):
        return "beta_testers" in self.roles(course)

    def enrollment(self, course):
        """The ``lms_get_enrollment`` answer for the user (asked once per course)."""
        if self.user is None:
            return None
        if course.course_key not in self._enrollments:
            hooks = self.request.registry["lms.plugin_manager"].hook
            self._enrollments[course.course_key] = hooks.lms_get_enrollment(
                dbsession=self.request.dbsession, user_id=self.user.id,
                course_key=parse_course_key(course.course_key))
        return self._enrollments[course.course_key]

    def prefetch_enrollments(self, courses):
        """Ask for the user's enrollments in ``courses`` at once (``lms_get_enrollments``).

        Without a batch answer, :meth:`enrollment` falls back to one
        ``lms_get_enrollment`` call per course that needs it.
        """
        if self.user is None or not courses:
            return
        hooks = self.request.registry["lms.plugin_manager"].hook
        answer = hooks.lms_get_enrollments(
            dbsession=self.request.dbsession, user_id=self.user.id,
            course_keys=[parse_course_key(course.course_key) for course in courses])
        if answer is None:
            return
        for course in courses:
            self._enrollments[course.course_key] = answer.get(course.course_key)

    def is_enrolled(self, course):
        enrollment = self.enrollment(course)
        return bool(enrollment and enrollment.get("is_active"))

    # The checks of upstream's ``_has_access_course``.

    def enrollment_open(self, course):
        start, end = aware(course.enrollment_start), aware(course.enrollment_end)
        return (start is None or start < self.now) and (end is None or self.now < end)

    def can_enroll(self, course):
        if self.is_staff(course):
            return True
        if course.invitation_only:
            return False
        return self.enrollment_open(course)

    def started(self, course):
        start = course_start(course)
        if self.is_beta_tester(course) and course.days_early_for_beta:
            start = start - timedelta(days=float(course.days_early_for_beta))
        return self.now > start

    def access_expired(self, course):
        """Course duration limits: an audit learner's access deadline has passed."""
        enrollment = self.enrollment(course)
        deadline = aware((enrollment or {}).get("audit_access_deadline"))
        return deadline is not None and self.now > deadline

    def can_load(self, course):
        if parse_course_key(course.course_key).deprecated:
            return False
        if self.is_staff(course):
            return True
        if (course.settings or {}).get("visible_to_staff_only"):
            return False
        return self.started(course) and not self.access_expired(course)

    def can_load_mobile(self, course):
        mobile = course.mobile_available or self.is_beta_tester(course) or self.is_staff(course)
        return mobile and self.can_load(course)

    def see_exists(self, course):
        # Enrollment first: it never needs the enrollment hook.
        return self.can_enroll(course) or self.can_load(course)

    def see_in_catalog(self, course):
        return course.catalog_visibility == "both" or self.is_staff(course)

    def see_about_page(self, course):
        return course.catalog_visibility in ("both", "about") or self.is_staff(course)

    def has_access(self, action, course):
        checks = {
            "load": self.can_load,
            "load_mobile": self.can_load_mobile,
            "enroll": self.can_enroll,
            "see_exists": self.see_exists,
            "staff": self.is_staff,
            "instructor": self.is_instructor,
            "see_in_catalog": self.see_in_catalog,
            "see_about_page": self.see_about_page,
        }
        return checks[action](course)

    def has_all(self, actions, course):
        return all(self.has_access(action, course) for action in actions)

    # The same checks as SQL over Course, each keeping at least the courses it passes.

    def _holds_role(self, roles):
        """SQL: the user holds one of ``roles`` on the course or on its org."""
        roles = set(roles)
        keys = sorted(key for key, held in self.course_roles.items() if held & roles)
        orgs = sorted(org for org, held in self.org_roles.items() if held & roles)
        return or_(false(), *([Course.course_key.in_(keys)] if keys else []),
                   *([Course.org.in_(orgs)] if orgs else []))

    def _staff_sql(self):
        return true() if self.global_staff else self._holds_role(permissions.STAFF_ROLES)

    def _instructor_sql(self):
        return true() if self.global_staff else self._holds_role(("instructor",))

    def _enrollment_open_sql(self):
        return and_(or_(Course.enrollment_start.is_(None), Course.enrollment_start < self.now),
                    or_(Course.enrollment_end.is_(None), Course.enrollment_end > self.now))

    def _can_enroll_sql(self):
        return or_(self._staff_sql(), and_(Course.invitation_only.is_not(True),
                                           self._enrollment_open_sql()))

    def _not_certainly_staff_only_sql(self):
        """SQL: ``visible_to_staff_only`` is not JSON ``true`` (nor ``1``/``"true"`` on
        SQLite/PostgreSQL): every course it drops Python drops too."""
        if self.request.dbsession.get_bind().dialect.name == "postgresql":
            value = func.coalesce(Course.settings["visible_to_staff_only"].as_string(), "")
            return value != "true"
        return func.coalesce(func.json_extract(Course.settings, "$.visible_to_staff_only"),
                             0) != 1

    def _can_load_sql(self):
        """A superset of :meth:`can_load`: a beta tester may start early, and an audit
        learner's access may have expired (both left to Python)."""
        started = and_(Course.start.is_not(None), Course.start < self.now)
        if self.now > DEFAULT_START:
            started = or_(started, Course.start.is_(None))
        beta = self._holds_role(("beta_testers",))
        # Old-style (deprecated) course keys are the only ones holding a slash.
        return and_(not_(Course.course_key.contains("/")), or_(
            self._staff_sql(),
            and_(self._not_certainly_staff_only_sql(), or_(started, beta))))

    def sql_superset(self, action):
        """SQL over Course keeping every course :meth:`has_access` passes for ``action``
        (exactly those for all but ``load``, ``load_mobile`` and ``see_exists``)."""
        if action == "load":
            return self._can_load_sql()
        if action == "load_mobile":
            return and_(or_(Course.mobile_available.is_(True),
                            self._holds_role(("beta_testers",)), self._staff_sql()),
                        self._can_load_sql())
        if action == "enroll":
            return self._can_enroll_sql()
        if action == "see_exists":
            return or_(self._can_enroll_sql(), self._can_load_sql())
        if action == "staff":
            return self._staff_sql()
        if action == "instructor":
            return self._instructor_sql()
        if action == "see_in_catalog":
            return or_(Course.catalog_visibility == "both", self._staff_sql())
        if action == "see_about_page":
            return or_(Course.catalog_visibility.in_(("both", "about")), self._staff_sql())
        raise ValueError(action)

    def passing(self, actions, courses):
        """The ``courses`` (one page) that pass every check, enrollments asked at once."""
        self.prefetch_enrollments(courses)
        return [course for course in courses if self.has_all(actions, course)]


def matches_search(course, term):
    """openlms's search without a search engine (see the module docstring)."""
    needle = term.casefold()
    haystack = (course.display_name, course.short_description, course.org,
                course.display_org, course.number, course.display_number)
    return any(needle in value.casefold() for value in haystack if value)


def light_courses():
    return select(Course).options(*(defer(column) for column in HEAVY_COLUMNS))


def checked_page(request, keys, access, actions, serialize, max_size):
    """Namespaced keyed page over ``keys`` (course keys a superset of SQL keeps), each
    page's courses checked in memory; ``serialize(courses)`` shows those that pass."""
    return pagination.page_number(
        request, keys, lambda rows: serialize(access.passing(actions, [c for c, in rows])),
        rows=lambda page: light_courses().where(Course.course_key.in_(page))
        .order_by(Course.course_key),
        max_size=max_size, namespaced=True, invalid_page_body=INVALID_PAGE,
        remember=TIMED_ACTIONS.isdisjoint(actions))


def ids_page(request, course_ids, serialize, stmt, max_size):
    """Namespaced page over the courses (by id) that passed the in-memory checks."""
    ids = list(course_ids)
    stmt = stmt.where(Course.id.in_(ids)) if ids else stmt.where(false())
    return pagination.page_number(request, stmt, serialize, max_size=max_size,
                                  namespaced=True, invalid_page_body=INVALID_PAGE)


# -- GET /api/courses/v1/courses/ -----------------------------------------------------------

@course_list.get(schema=CourseListQuery(),
                 validators=(course_list_throttle("course_list"),
                             colander_querystring_validator),
                 responses={200: doc.COURSE_PAGE, 403: "Another user's view, and not staff.",
                            404: "No such user, or an invalid page.", 429: "Throttled."})
def get_course_list(request):
    """The courses of the catalog the caller (or, for staff, `?username=`) may see."""
    query = request.validated
    db = request.dbsession
    user = effective_user(request, query["username"])
    access = CatalogAccess(request, user)
    wanted = sorted({CATALOG_PERMISSION} | query["permissions"])
    filters = [access.sql_superset(action) for action in wanted]
    if query["course_keys"]:
        filters.append(Course.course_key.in_(sorted(query["course_keys"])))
    if query["mobile"] is not None:
        filters.append(Course.mobile_available == query["mobile"])
    if query["active_only"]:
        filters.append((Course.end.is_(None)) | (Course.end >= access.now))
    org = query["org"].casefold()
    if org:
        # Matched in Python: SQL lower() differs between databases for non-ASCII text.
        orgs = [name for name in db.scalars(select(Course.org).distinct())
                if name.casefold() == org]
        filters.append(Course.org.in_(orgs))

    def serialize(courses):
        return [serialize_course(request, course) for course in courses]

    if not query["search_term"]:
        keys = select(Course.course_key).where(*filters).order_by(Course.course_key)
        return checked_page(request, keys, access, wanted, serialize, COURSE_LIST_MAX_PAGE_SIZE)
    # Searching: no search engine, so every candidate is checked and searched here.
    candidates = db.scalars(light_courses().where(*filters).order_by(Course.course_key)).all()
    visible = access.passing(wanted, candidates)
    if query["mobile_search"]:
        visible = visible[:MOBILE_SEARCH_COURSE_LIMIT]
    visible = [course for course in visible if matches_search(course, query["search_term"])]
    return ids_page(request, (course.id for course in visible),
                    lambda rows: serialize([course for course, in rows]),
                    light_courses().order_by(Course.course_key), COURSE_LIST_MAX_PAGE_SIZE)


# -- GET /api/courses/v1/courses/{course_key_string} ----------------------------------------

@course_detail.get(schema=CourseDetailQuery(), validators=(colander_querystring_validator,),
                   responses={200: doc.COURSE_DETAIL,
                              403: "Another user's view, and not staff.",
                              404: "No such course (or not visible), or no such user."})
def get_course_detail(request):
    """One course of the catalog, with its overview."""
    raw_key = request.matchdict["course_key_string"]
    course_key = parse_course_key(raw_key)
    if course_key is None:
        raise field_errors({"course_key": f"'{raw_key}' is not a valid course key."},
                           "developer")
    user = effective_user(request, request.validated["username"])
    course = api.get_course(request.dbsession, course_key)
    access = CatalogAccess(request, user)
    if course is None or not access.has_access(CATALOG_PERMISSION, course):
        # Access errors are disguised as a missing course, as upstream does.
        raise developer(404, COURSE_NOT_FOUND)
    show_certificate_date = (courses_config(request.registry).auto_certificate_generation
                             and not course.self_paced)
    return serialize_course_detail(request, course, show_certificate_date=show_certificate_date,
                                   is_enrolled=is_enrolled_field(request, user, access, course))


def is_enrolled_field(request, user, access, course):
    """``is_enrolled`` when ``?username=`` is given by that user, staff or a superuser."""
    requested = request.GET.get("username")
    caller = request.user
    if not requested or caller is None:
        return None
    if not (caller.username == requested or caller.is_staff or caller.is_superuser):
        return None
    if user is None or user.username != requested:
        # Upstream looks the raw parameter up again (``User.objects.get``).
        user = get_by_username(request.dbsession, requested)
        if user is None:
            raise developer(404, USER_NOT_FOUND)
        access = CatalogAccess(request, user)
    return access.is_enrolled(course)


# -- GET /api/courses/v1/course_ids/ --------------------------------------------------------

def _keys(rows):
    return [course_key for course_key, in rows]


@course_ids.get(schema=CourseIdsQuery(),
                validators=(course_list_throttle("course_ids"), colander_querystring_validator),
                responses={200: doc.COURSE_IDS_PAGE, 403: "Another user's view, and not staff.",
                           404: "No such user, or an invalid page.", 429: "Throttled."})
def get_course_ids(request):
    """The keys of the courses a user has access to (`?role=staff`: staff roles only)."""

    query = request.validated
    user = effective_user(request, query["username"])
    role = query["role"]
    keys = select(Course.course_key).order_by(Course.course_key)
    if permissions.is_staff(user):
        # Global staff have access to every course.
        return pagination.page_number(request, keys, _keys, max_size=COURSE_IDS_MAX_PAGE_SIZE,
                                      namespaced=True, invalid_page_body=INVALID_PAGE)
    if role == "staff":
        # Upstream's short cut: course-level staff/instructor rows only (no org roles).
        if user is None:
            keys = keys.where(false())
        else:
            keys = keys.where(Course.course_key.in_(
                select(CourseAccessRole.course_key).where(
                    CourseAccessRole.user_id == user.id,
                    CourseAccessRole.role.in_(("staff", "instructor")),
                    CourseAccessRole.course_key != "")))
        return pagination.page_number(request, keys, _keys, max_size=COURSE_IDS_MAX_PAGE_SIZE,
                                      namespaced=True, invalid_page_body=INVALID_PAGE)
    access = CatalogAccess(request, user)
    return checked_page(request, keys.where(access.sql_superset(role)), access, [role],
                        lambda courses: [course.course_key for course in courses],
                        COURSE_IDS_MAX_PAGE_SIZE)


