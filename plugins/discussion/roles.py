"""Forum roles (upstream ``django_comment_common`` ``Role``): per course, a user may hold
Administrator, Moderator, Group Moderator, Community TA or Student.

- *moderators* are Administrators and Moderators, *TAs* Community TAs and Group
  Moderators: both have moderation privileges (pin, close, endorse, edit or delete
  others' posts, see flags); a Group Moderator's reach is their own group in divided
  discussions (``is_group_ta``).
- every enrolled learner is a Student (upstream seeds the role at enrollment; here it is
  implied by the enrollment).
"""
from sqlalchemy import delete, select

from plugins.discussion.models import ForumRole

ADMINISTRATOR = "Administrator"
MODERATOR = "Moderator"
GROUP_MODERATOR = "Group Moderator"
COMMUNITY_TA = "Community TA"
STUDENT = "Student"
ROLE_NAMES = (ADMINISTRATOR, MODERATOR, GROUP_MODERATOR, COMMUNITY_TA, STUDENT)
MODERATOR_ROLES = frozenset({ADMINISTRATOR, MODERATOR})
TA_ROLES = frozenset({COMMUNITY_TA, GROUP_MODERATOR})
PRIVILEGED_ROLES = MODERATOR_ROLES | TA_ROLES
# What the roles API may grant and revoke (upstream refuses Administrator there).
GRANTABLE_ROLES = (MODERATOR, COMMUNITY_TA, GROUP_MODERATOR)


def roles_of(db, user_id, course_key):
    """The forum role names ``user_id`` holds in the course."""
    return set(db.scalars(select(ForumRole.name).where(
        ForumRole.user_id == user_id, ForumRole.course_key == str(course_key))))


def roles_of_users(db, user_ids, course_key):
    """``{user_id: {role names}}`` of many users in one query."""
    user_ids = list(set(user_ids))
    found = {}
    if not user_ids:
        return found
    rows = db.execute(select(ForumRole.user_id, ForumRole.name).where(
        ForumRole.course_key == str(course_key), ForumRole.user_id.in_(user_ids)))
    for user_id, name in rows:
        found.setdefault(user_id, set()).add(name)
    return found


def user_ids_with_role(db, course_key, name):
    return set(db.scalars(select(ForumRole.user_id).where(
        ForumRole.course_key == str(course_key), ForumRole.name == name)))


def grant(db, user_id, course_key, name):
    if name not in roles_of(db, user_id, course_key):
        db.add(ForumRole(course_key=str(course_key), user_id=user_id, name=name))
        db.flush()


def revoke(db, user_id, course_key, name):
    db.execute(delete(ForumRole).where(ForumRole.user_id == user_id,
                                       ForumRole.course_key == str(course_key),
                                       ForumRole.name == name))
