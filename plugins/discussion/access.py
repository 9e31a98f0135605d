"""Who may read and write a course's discussions (upstream ``discussion.rest_api.api``
``_get_course`` and ``get_context``).

- a course's discussions are open to whoever may ``load`` the course and is enrolled in
  it, or is course staff; anyone else is told ``Course not found.`` (404), and a course
  with its discussion tab off answers ``Discussion is disabled for the course.``;
- *privileged* (``has_moderation_privilege``): global staff, the course's staff and
  instructors, and the forum's Administrators, Moderators, Community TAs and Group
  Moderators;
- author labels: ``Staff`` (course staff, instructors, global staff), ``Moderator``
  (forum Administrators and Moderators), ``Community TA`` (TAs and Group Moderators).
"""
from functools import cached_property

from lms import permissions
from lms.errors import developer
from lms.keys import parse_course_key
from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.discussion import config, division, roles

COURSE_NOT_FOUND = "Course not found."
DISCUSSION_DISABLED = "Discussion is disabled for the course."
BLACKOUT = "Discussions are in blackout period."


def course_not_found():
    return developer(404, COURSE_NOT_FOUND)


class Context:
    """What the rules need about the requester in one course, each read once."""

    def __init__(self, request, course, user):
        self.request = request
        self.db = request.dbsession
        self.course = course
        self.course_key = course.course_key
        self.user = user
        self.now = utcnow()
        self.catalog = courses_api.course_access(request, user)

    @cached_property
    def is_global_staff(self):
        return permissions.is_staff(self.user)

    @cached_property
    def is_course_staff(self):
        return self.catalog.is_staff(self.course)

    @cached_property
    def is_course_admin(self):
        return self.catalog.is_instructor(self.course)

    @cached_property
    def forum_roles(self):
        if self.user is None or not self.user.is_active:
            return set()
        return roles.roles_of(self.db, self.user.id, self.course_key)

    @cached_property
    def is_enrolled(self):
        return self.catalog.is_enrolled(self.course)

    @property
    def privileged(self):
        return bool(self.is_course_staff or self.forum_roles & roles.PRIVILEGED_ROLES)

    @property
    def is_staff_or_admin(self):
        """Upstream's ``is_staff_or_admin``: the course's staff and instructors, and
        global staff (they may pin and vote whatever their forum roles)."""
        return bool(self.is_course_staff)

    @property
    def is_group_ta(self):
        return roles.GROUP_MODERATOR in self.forum_roles

    @property
    def is_user_admin(self):
        return roles.ADMINISTRATOR in self.forum_roles

    @property
    def user_roles(self):
        held = set(self.forum_roles)
        if self.is_enrolled:
            held.add(roles.STUDENT)
        return held

    def may_post(self):
        """Blackouts stop everyone but privileged users."""
        return self.privileged or not config.in_blackout(self.course, self.now)

    # -- division ------------------------------------------------------------------------

    @cached_property
    def settings(self):
        return config.get_settings(self.db, self.course)

    @cached_property
    def scheme(self):
        return division.effective_scheme(self.db, self.course_key, self.settings)

    @cached_property
    def course_wide_ids(self):
        return {topic.topic_id for topic in config.course_wide_topics(self.course)}

    def is_divided(self, topic_id):
        return division.is_divided(self.settings, self.scheme, topic_id, self.course_wide_ids)

    @cached_property
    def group(self):
        """The requester's ``(group id, name)`` under the course's scheme, or None."""
        if self.user is None or self.scheme == config.NONE:
            return None
        return division.group_of(self.db, self.course_key, self.user.id, self.scheme)

    @property
    def group_id(self):
        return self.group[0] if self.group else None

    @cached_property
    def group_names(self):
        return division.group_names(self.db, self.course_key, self.scheme)

    def may_see_group(self, group_id, topic_id):
        """A learner sees a divided topic's threads of their group and of no group."""
        if self.privileged or group_id is None or not self.is_divided(topic_id):
            return True
        mine = self.group_id
        return mine is None or mine == group_id


def load_course(request, raw_key, *, check_tab=True):
    """The course of ``raw_key`` when the requester may use its discussions (404s as
    upstream otherwise)."""
    key = parse_course_key(raw_key) if isinstance(raw_key, str) else None
    course = courses_api.get_course(request.dbsession, key) if key is not None else None
    if course is None:
        raise course_not_found()
    context = Context(request, course, request.user)
    if not (context.is_course_staff or (context.catalog.can_load(course)
                                        and context.is_enrolled)):
        raise course_not_found()
    if check_tab and not config.is_enabled(course):
        raise developer(404, DISCUSSION_DISABLED)
    return context


def is_member(request, raw_key):
    """Upstream ``IsStaffOrCourseTeamOrEnrolled``: global staff, the course's staff or
    instructors (course roles, not org ones), its enrolled learners, or a holder of its
    forum privileges; checked before the course is looked up (403 otherwise)."""
    user = request.user
    key = parse_course_key(raw_key) if isinstance(raw_key, str) else None
    if user is None or key is None:
        return False
    db = request.dbsession
    if permissions.is_staff(user) or permissions.has_course_role(
            db, user, key, ("staff", "instructor"), include_org=False):
        return True
    from plugins.enrollment import api as enrollment_api

    row = enrollment_api.get_enrollment_row(db, user.id, str(key))
    if row is not None and row.is_active:
        return True
    return bool(user.is_active and roles.roles_of(db, user.id, str(key)) & roles.PRIVILEGED_ROLES)


def labels_of(db, course_key, users):
    """``{user_id: author label or None}`` of many users (two queries)."""
    users = [user for user in users if user is not None]
    ids = [user.id for user in users]
    if not ids:
        return {}
    key = parse_course_key(str(course_key))
    course_roles = permissions.course_roles_of_users(db, ids, key)
    forum = roles.roles_of_users(db, ids, course_key)
    labels = {}
    for user in users:
        held = course_roles.get(user.id, set()) if user.is_active else set()
        if (user.is_active and user.is_staff) or held & set(permissions.STAFF_ROLES):
            labels[user.id] = "Staff"
        elif forum.get(user.id, set()) & roles.MODERATOR_ROLES:
            labels[user.id] = "Moderator"
        elif forum.get(user.id, set()) & roles.TA_ROLES:
            labels[user.id] = "Community TA"
        else:
            labels[user.id] = None
    return labels
