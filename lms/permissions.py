"""Permission helpers shared by every plugin (Open edX's roles and checks)."""
from sqlalchemy import or_, select

from lms.errors import APIError, permission_denied
from lms.models import CourseAccessRole, User

COURSE_ROLES = (
    "instructor", "staff", "limited_staff", "beta_testers", "ccx_coach",
    "data_researcher", "finance_admin", "sales_admin", "library_user",
)
GLOBAL_ROLES = ("support", "course_creator_group")
ORG_ROLES = ("org_course_creator_group",)
ALL_ROLES = COURSE_ROLES + GLOBAL_ROLES + ORG_ROLES
# Role inheritance when checking for staff access.
STAFF_ROLES = ("staff", "instructor", "limited_staff")


def is_staff(user):
    return bool(user is not None and user.is_active and user.is_staff)


def is_superuser(user):
    return bool(user is not None and user.is_active and user.is_superuser)


def user_roles(db, user, course_key=None, org=None):
    """Role names the user holds for the course (course-level and org-wide)."""
    if user is None or not user.is_active:
        return set()
    stmt = select(CourseAccessRole.role).where(CourseAccessRole.user_id == user.id)
    clauses = []
    if course_key is not None:
        org = course_key.org
        clauses.append(CourseAccessRole.course_key == str(course_key))
    if org is not None:
        clauses.append((CourseAccessRole.org == org) & (CourseAccessRole.course_key == ""))
    if clauses:
        stmt = stmt.where(or_(*clauses))
    return set(db.scalars(stmt))


def has_course_role(db, user, course_key, roles, include_org=True):
    if user is None or not user.is_active:
        return False
    stmt = select(CourseAccessRole.id).where(
        CourseAccessRole.user_id == user.id, CourseAccessRole.role.in_(roles)
    )
    course_match = CourseAccessRole.course_key == str(course_key)
    if include_org:
        course_match = or_(course_match, (CourseAccessRole.org == course_key.org)
                           & (CourseAccessRole.course_key == ""))
    return db.scalar(stmt.where(course_match).limit(1)) is not None


def course_roles_of_users(db, user_ids, course_key, include_org=True):
    """``{user_id: {role, ...}}`` of many users in a course (org-wide roles included), in
    one query; users without a role are left out."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    course_match = CourseAccessRole.course_key == str(course_key)
    if include_org:
        course_match = or_(course_match, (CourseAccessRole.org == course_key.org)
                           & (CourseAccessRole.course_key == ""))
    found = {}
    for user_id, role in db.execute(select(CourseAccessRole.user_id, CourseAccessRole.role)
                                    .where(CourseAccessRole.user_id.in_(user_ids),
                                           course_match)):
        found.setdefault(user_id, set()).add(role)
    return found


def has_course_staff_access(db, user, course_key):
    """``has_access(user, 'staff', course)``: global staff, course or org staff/instructor."""
    return is_staff(user) or has_course_role(db, user, course_key, STAFF_ROLES)


def has_course_instructor_access(db, user, course_key):
    return is_staff(user) or has_course_role(db, user, course_key, ("instructor",))


def grant_role(db, user, role, course_key=None, org=None):
    """Idempotently grant a role; returns the row."""
    if role not in ALL_ROLES:
        raise ValueError(f"unknown role {role!r}")
    course = str(course_key) if course_key is not None else ""
    org = course_key.org if course_key is not None else (org or "")
    row = db.scalar(select(CourseAccessRole).where(
        CourseAccessRole.user_id == user.id, CourseAccessRole.org == org,
        CourseAccessRole.course_key == course, CourseAccessRole.role == role))
    if row is None:
        row = CourseAccessRole(user_id=user.id, org=org, course_key=course, role=role)
        db.add(row)
        db.flush()
    return row


def require(condition, style="drf", message=None):
    """Raise the family's 403 unless ``condition``."""
    if not condition:
        raise permission_denied(style, message) if message else permission_denied(style)


def is_user_in_url(request, username):
    """``IsUserInUrl``: the caller's username (case-insensitive) equals ``username``."""
    user = request.user
    return user is not None and username is not None and user.username.lower() == username.lower()


def hide(style="drf"):
    """404 where Open edX hides existence."""
    from lms.errors import not_found

    return not_found(style)


__all__ = [
    "APIError", "User", "is_staff", "is_superuser", "has_course_role",
    "has_course_staff_access", "has_course_instructor_access", "grant_role", "require",
    "is_user_in_url", "user_roles", "hide",
]
