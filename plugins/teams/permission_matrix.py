"""Who may call each teams endpoint (checked by ``lms.testing``'s permission matrix).

Upstream: Bearer or session authentication (no JWT: the restricted JWT is no credential),
IsAuthenticated, then team API access (staff privileges or an active enrollment: the
world's other learner and course staff, who is staff of another course, get 403). A
course of this plugin's own has one open teamset with a team of the learner's and an
empty second one, where the learner may create theirs."""
from lms.matrix import PluginMatrix, Row

TEAMS_COURSE_KEY = "course-v1:MatrixX+Teams+2026_T1"
TEAMS_CONFIGURATION = {"max_team_size": 5, "team_sets": [
    {"id": "open-one", "name": "Open one", "type": "open"},
    {"id": "open-two", "name": "Open two", "type": "open"},
    {"id": "open-three", "name": "Open three", "type": "open"}]}

TEAM_API = {"*": "ok", "anonymous": "unauthenticated", "restricted_jwt": "unauthenticated",
            "other_learner": "forbidden", "course_staff": "forbidden"}


def setup(world):
    from plugins.courses import api as courses_api
    from plugins.enrollment import api as enrollment_api
    from plugins.teams.models import CourseTeam, CourseTeamMembership

    root = "block-v1:MatrixX+Teams+2026_T1+type@course+block@course"
    courses_api.store_course(
        world.db, TEAMS_COURSE_KEY,
        {"display_name": "Matrix Teams", "start": "2020-01-01T00:00:00+00:00",
         "settings": {"teams_configuration": TEAMS_CONFIGURATION}},
        [{"usage_key": root, "block_type": "course", "block_id": "course",
          "display_name": "Matrix Teams", "children": [], "fields": {}, "data": {}}])
    learner = world.users["learner"]
    enrollment_api.enroll(world.db, learner.id, TEAMS_COURSE_KEY)
    team = CourseTeam(team_id="matrix-team-0123456789abcdef",
                      discussion_topic_id="0123456789abcdef", name="Matrix team",
                      course_key=TEAMS_COURSE_KEY, topic_id="open-one",
                      description="The learner's team", team_size=1)
    world.db.add(team)
    world.db.flush()
    world.db.add(CourseTeamMembership(user_id=learner.id, team_id=team.id))
    joinable = CourseTeam(team_id="matrix-join-0123456789abcdef",
                          discussion_topic_id="join0123456789abcdef", name="Joinable",
                          course_key=TEAMS_COURSE_KEY, topic_id="open-three",
                          description="Empty", team_size=0)
    world.db.add(joinable)
    world.values.update(teams_course_key=TEAMS_COURSE_KEY, matrix_team_id=team.team_id,
                        joinable_team_id=joinable.team_id)


def new_team(world):
    return {"course_id": TEAMS_COURSE_KEY, "topic_id": "open-two",
            "name": f"Team of {world.role}", "description": "Made by the matrix"}


# Writes to a team: staff privileges (global staff, course staff or instructor of the
# team's course); an enrolled learner, even a member, is 403.
TEAM_WRITE = {**TEAM_API, "learner": "forbidden"}


def fresh_team(world):
    """A team of its own for each cell that deletes one."""
    from plugins.teams.models import CourseTeam

    team = CourseTeam(team_id=f"gone-{world.role}", discussion_topic_id=f"gone-{world.role}",
                      name="To delete", course_key=TEAMS_COURSE_KEY, topic_id="open-one",
                      description="d")
    world.db.add(team)
    world.db.commit()
    return {"team_id": team.team_id}


# Acting on a membership: staff privileges, or the enrolled learner on themself; anyone
# else is told nothing (404).
MEMBERSHIP = {**TEAM_API, "other_learner": "hidden", "course_staff": "hidden"}


def fresh_membership(world):
    """A team of its own with the learner in it, for each cell that removes them."""
    from plugins.teams.models import CourseTeam, CourseTeamMembership

    team = CourseTeam(team_id=f"leave-{world.role}", discussion_topic_id=f"leave-{world.role}",
                      name="To leave", course_key=TEAMS_COURSE_KEY, topic_id="open-three",
                      description="d", team_size=1)
    world.db.add(team)
    world.db.flush()
    world.db.add(CourseTeamMembership(user_id=world.users["learner"].id, team_id=team.id))
    world.db.commit()
    return {"team_id": team.team_id, "username": world.users["learner"].username}


# The bulk CSV: staff privileges only (enrolled learners too are 403).
BULK = {**TEAM_API, "learner": "forbidden"}

ROWS = [
    Row("teams.topics", "GET", TEAM_API, query={"course_id": "{teams_course_key}"},
        note="Bearer/session; IsAuthenticated; team API access"),
    Row("teams.topic", "GET", TEAM_API,
        path={"topic_id": "open-one", "course_id": "{teams_course_key}"},
        note="Bearer/session; IsAuthenticated; team API access"),
    Row("teams.teams", "GET", TEAM_API, query={"course_id": "{teams_course_key}"},
        note="Bearer/session; IsAuthenticated; team API access"),
    Row("teams.teams", "POST", TEAM_API, body=new_team,
        note="team API access; a learner may create one team per teamset"),
    Row("teams.team", "GET", TEAM_API, path={"team_id": "{matrix_team_id}"},
        note="IsEnrolledOrIsStaff (403), then HasSpecificTeamAccess (404)"),
    Row("teams.team", "PATCH", TEAM_WRITE, path={"team_id": "{matrix_team_id}"},
        body={"description": "Changed"}, content_type="application/merge-patch+json",
        note="IsEnrolledOrIsStaff, HasSpecificTeamAccess, then staff privileges to write"),
    Row("teams.team", "DELETE", TEAM_WRITE, path=fresh_team,
        note="IsEnrolledOrIsStaff, HasSpecificTeamAccess, then staff privileges to write"),
    Row("teams.assignments", "GET", TEAM_API, path={"team_id": "{matrix_team_id}"},
        note="team submissions on; team API access (403), then access to the team (404)"),
    Row("teams.bulk_membership", "GET", BULK, path={"course_id": "{teams_course_key}"},
        note="BearerAuthentication, SessionAuthentication; staff privileges only"),
    Row("teams.bulk_membership", "POST", BULK, path={"course_id": "{teams_course_key}"},
        upload=[("csv", "teams.csv", b"username,external_user_id,mode,open-one\r\n")],
        note="BearerAuthentication, SessionAuthentication; staff privileges only"),
    Row("teams.memberships", "GET", MEMBERSHIP, query={"team_id": "{matrix_team_id}"},
        note="team API access (else 404), then access to the team (else 403)"),
    Row("teams.memberships", "POST", MEMBERSHIP, isolated=True,
        body={"username": "{learner}", "team_id": "{joinable_team_id}"},
        note="has_team_api_access(access_username): staff privileges or the learner on "
             "themself (else 404)"),
    Row("teams.membership", "GET", MEMBERSHIP,
        path={"team_id": "{matrix_team_id}", "username": "{learner}"},
        note="every failure is 404"),
    Row("teams.membership", "DELETE", MEMBERSHIP, path=fresh_membership,
        note="has_team_api_access(access_username): staff privileges or the learner on "
             "themself (else 404)"),
]

MATRIX = PluginMatrix(rows=ROWS, setup=setup,
                      settings={"teams.ora_team_submissions": "true"})
