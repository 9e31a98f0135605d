"""Team memberships kept true as people leave: an unenrolled learner leaves the course's
teams (upstream's ``handle_unenroll``), a retired one leaves every team; team sizes follow."""
from sqlalchemy import delete, func, select, update

from plugins.teams.models import CourseTeam, CourseTeamMembership


def _recount(db, team_ids):
    for team_id in team_ids:
        size = db.scalar(select(func.count(CourseTeamMembership.id))
                         .where(CourseTeamMembership.team_id == team_id))
        db.execute(update(CourseTeam).where(CourseTeam.id == team_id).values(team_size=size))


def _remove(db, user_id, team_ids):
    team_ids = list(team_ids)
    if not team_ids:
        return
    db.execute(delete(CourseTeamMembership).where(CourseTeamMembership.user_id == user_id,
                                                  CourseTeamMembership.team_id.in_(team_ids)))
    _recount(db, team_ids)


def remove_from_course(db, user_id, course_key):
    _remove(db, user_id, db.scalars(
        select(CourseTeamMembership.team_id)
        .join(CourseTeam, CourseTeam.id == CourseTeamMembership.team_id)
        .where(CourseTeamMembership.user_id == user_id,
               CourseTeam.course_key == str(course_key))).all())


def remove_everywhere(db, user_id):
    _remove(db, user_id, db.scalars(select(CourseTeamMembership.team_id).where(
        CourseTeamMembership.user_id == user_id)).all())
