"""Who may do what with teams (upstream ``lms.djangoapps.teams.api``).

- staff privileges: global staff, or the course's ``staff``/``instructor`` role (org roles
  do not count);
- team API access: staff privileges, or an active enrollment (acting on oneself);
  discussion roles would count too, but openlms keeps no forum roles yet;
- organization protection: staff are exempt; a learner in the ``masters`` track is
  protected, any other learner is not, and each sees only the teams of their kind;
- a team: staff, or its protection matches and (the caller is a member or its teamset is
  not ``private_managed``); a teamset: staff, not private, or a member of one of its
  teams; creating or changing teams of a managed teamset needs staff privileges.
"""
from dataclasses import dataclass, field

from sqlalchemy import select

from lms import permissions
from plugins.enrollment import api as enrollment_api
from plugins.teams.models import CourseTeam, CourseTeamMembership

MASTERS = "masters"


@dataclass
class Caller:
    """What the rules need about a user in one course, read once."""

    user: object
    course_key: str
    staff: bool
    enrolled: bool
    protected: bool | None  # None: exempt (staff privileges)
    team_ids: set = field(default_factory=set)  # teams the caller is a member of
    member_topics: set = field(default_factory=set)

    @property
    def api_access(self):
        return self.staff or self.enrolled

    def sees_team(self, team, teamset):
        if self.staff:
            return True
        if team.organization_protected != bool(self.protected):
            return False
        return team.id in self.team_ids or teamset is None or not teamset.is_private

    def sees_teamset(self, teamset):
        return self.staff or not teamset.is_private or teamset.teamset_id in self.member_topics

    def may_create_in(self, teamset):
        return self.staff or not teamset.is_managed


def has_staff_privileges(db, user, course_key):
    from lms.keys import parse_course_key

    return permissions.is_staff(user) or permissions.has_course_role(
        db, user, parse_course_key(str(course_key)), ("staff", "instructor"), include_org=False)


def caller(db, user, course_key):
    course_key = str(course_key)
    staff = has_staff_privileges(db, user, course_key)
    row = enrollment_api.get_enrollment_row(db, user.id, course_key)
    enrolled = bool(row is not None and row.is_active)
    protected = None if staff else bool(enrolled and row.mode == MASTERS)
    memberships = db.execute(
        select(CourseTeam.id, CourseTeam.topic_id)
        .join(CourseTeamMembership, CourseTeamMembership.team_id == CourseTeam.id)
        .where(CourseTeamMembership.user_id == user.id, CourseTeam.course_key == course_key)
    ).all()
    return Caller(user=user, course_key=course_key, staff=staff, enrolled=enrolled,
                  protected=protected, team_ids={team_id for team_id, _ in memberships},
                  member_topics={topic for _, topic in memberships})


def courses_of(db, user):
    """The course keys where ``user`` is actively enrolled or has the course ``staff``
    role (upstream's limit on ``team_membership/?username=`` for non-staff callers)."""
    from lms.models import CourseAccessRole

    keys = {row.course_key for row in enrollment_api.user_enrollment_rows(db, user.id)
            if row.is_active}
    keys.update(db.scalars(select(CourseAccessRole.course_key).where(
        CourseAccessRole.user_id == user.id, CourseAccessRole.role == "staff",
        CourseAccessRole.course_key != "")))
    return keys
