"""Team memberships (upstream ``MembershipListView`` and ``MembershipDetailView``).

- ``GET /api/team/v0/team_membership/?username=&team_id=&teamset_id=&course_id=`` (10 a
  page) and ``POST`` ``{"username", "team_id"}`` (200 with the membership): a learner
  joins for themself; staff privileges add anyone;
- ``GET`` and ``DELETE /api/team/v0/team_membership/{team_id},{username}`` (every failure
  of the read is 404; leaving a managed team needs staff privileges).

``expand=user,team`` gives the member's account and the team (without its members).

A team holds at most the course's default team size (upstream counts against that size,
not the teamset's); joins lock the team's row so that parallel joins cannot pass it.
"""
from sqlalchemy import func, select

from lms.auth import BEARER, SESSION
from lms.errors import APIError
from lms.keys import parse_course_key
from lms.models import User
from lms.openapi import STRING, obj
from lms.pagination import page_number
from lms.request import query_params, request_data
from lms.responses import no_content
from lms.service import Service
from lms.timeutil import isoformat, utcnow
from plugins.courses import api as courses_api
from plugins.enrollment import api as enrollment_api
from plugins.teams import access, config
from plugins.teams.models import CourseTeam, CourseTeamMembership
from plugins.teams.views.teams import (MAX_PAGE_SIZE, TEAM_ID, TEAMS_PAGE_SIZE, USER,
                                       accounts_for, api_error, empty, expanded, page_of,
                                       serialize_team, user_field, visible_teams_filter)

AUTH = (BEARER, SESSION)
USERNAME = r"{username:[\w.@+-]+}"

memberships = Service("teams.memberships", "/api/team/v0/team_membership/", auth=AUTH)
membership = Service("teams.membership", f"/api/team/v0/team_membership/{TEAM_ID},{USERNAME}",
                     auth=AUTH)

EXPAND = {"expand": "`user`, `team` (comma-separated): the member's account, the team."}
MEMBERSHIP = obj({"user": USER, "team": obj({"team_id": STRING, "url": STRING}),
                  "date_joined": STRING, "last_activity_at": STRING})


def serialize(request, row, team, user, accounts=None):
    """A membership; ``expand=team`` gives the team (without its members), ``expand=user``
    the member's account."""
    if "team" in expanded(request):
        team_body = serialize_team(request, team, [])
        del team_body["membership"]
    else:
        team_body = {"team_id": team.team_id,
                     "url": f"{request.application_url}/api/team/v0/teams/{team.team_id}"}
    return {"user": user_field(request, user, accounts), "team": team_body,
            "date_joined": isoformat(row.date_joined),
            "last_activity_at": isoformat(row.last_activity_at)}


def serialize_page(request, rows):
    accounts = accounts_for(request, {user.id: user for _, _, user in rows}.values())
    return [serialize(request, row, team, user, accounts) for row, team, user in rows]


def team_context(db, team):
    course = courses_api.get_course(db, team.course_key)
    teams_config = config.for_course(course) if course is not None else config.parse({})
    return course, teams_config, teams_config.teamset(team.topic_id)


def may_act_for(db, caller, username, course_key):
    """Upstream ``has_team_api_access(user, course, access_username)``: staff privileges,
    or an enrolled caller acting on themself."""
    if caller.staff:
        return True
    return caller.enrolled and username.lower() == caller.user.username.lower()


def recount(db, team):
    team.team_size = db.scalar(select(func.count(CourseTeamMembership.id))
                               .where(CourseTeamMembership.team_id == team.id))
    team.last_activity_at = utcnow()


# -- the list ----------------------------------------------------------------------------

@memberships.get(query={"username": "One user's memberships.", "team_id": "One team.",
                        "teamset_id": "The teams of one teamset (needs `course_id`).",
                        "course_id": "One course.", "page": "Page number.",
                        "page_size": "Memberships per page (10).", **EXPAND},
                 responses={200: page_of(MEMBERSHIP),
                            400: "Neither `username`, `team_id` nor `teamset_id`; both "
                                 "`team_id` and `teamset_id`; a team of another course.",
                            401: "Not signed in.", 403: "A team the caller may not see.",
                            404: "Unknown course, team or teamset."})
def get_memberships(request):
    """Memberships of a team, a teamset or a user."""
    params = query_params(request)
    db, user = request.dbsession, request.user
    raw_course, team_id, teamset_id = (params.get("course_id"), params.get("team_id"),
                                       params.get("teamset_id"))
    username = params.get("username")
    if any("\x00" in (value or "") for value in (raw_course, team_id, teamset_id, username)):
        raise empty(404)  # no key, team or user holds NUL (nor may any database)
    course = None
    if raw_course:
        key = parse_course_key(raw_course)
        course = courses_api.get_course(db, key) if key is not None else None
        if course is None:
            raise empty(404)
    if team_id and teamset_id:
        raise api_error("teamset_id and team_id are mutually exclusive options.")
    stmt = (select(CourseTeamMembership, CourseTeam, User)
            .join(CourseTeam, CourseTeam.id == CourseTeamMembership.team_id)
            .join(User, User.id == CourseTeamMembership.user_id))
    if team_id:
        team = db.scalar(select(CourseTeam).where(CourseTeam.team_id == team_id))
        if team is None:
            raise empty(404)
        if course is not None and course.course_key != team.course_key:
            raise empty(400)
        caller = access.caller(db, user, team.course_key)
        if not caller.api_access:
            raise empty(404)
        _, _, teamset = team_context(db, team)
        if not caller.sees_team(team, teamset):
            raise empty(403)
        stmt = stmt.where(CourseTeam.id == team.id)
    elif teamset_id:
        if course is None:
            raise api_error("teamset_id requires course_id to also be provided.")
        caller = access.caller(db, user, course.course_key)
        if not caller.api_access:
            raise empty(404)
        teams_config = config.for_course(course)
        teamset = teams_config.teamset(teamset_id)
        if teamset is None or not caller.sees_teamset(teamset):
            raise api_error("No teamset found in given course with given id", 404)
        stmt = stmt.where(CourseTeam.course_key == course.course_key,
                          CourseTeam.topic_id == teamset_id,
                          *visible_teams_filter(caller, teams_config))
    elif not username:
        raise api_error("username or (team_id or teamset_id) must be specified.")
    if username:
        stmt = stmt.where(User.username == username)
        if not (user.is_staff and user.is_active):
            # Only the courses where the caller learns or is course staff.
            allowed = access.courses_of(db, user)
            if course is not None and course.course_key not in allowed:
                raise empty(400)
            stmt = stmt.where(CourseTeam.course_key.in_(sorted(allowed) or [""]))
    if course is not None:
        stmt = stmt.where(CourseTeam.course_key == course.course_key)
    stmt = stmt.order_by(CourseTeamMembership.id)
    return page_number(request, stmt, lambda rows: serialize_page(request, rows),
                       default_size=TEAMS_PAGE_SIZE, max_size=MAX_PAGE_SIZE, remember=False)


# -- joining -------------------------------------------------------------------------------

@memberships.post(query=EXPAND,
                  body=obj({"username": STRING, "team_id": STRING},
                           required=["username", "team_id"]),
                  responses={200: MEMBERSHIP,
                             400: "A missing field, a full team, already in a team of the "
                                  "teamset, not enrolled, or another track's team.",
                             401: "Not signed in.",
                             403: "A managed team and no staff privileges.",
                             404: "Unknown team or user, or not the caller's to act on."})
def post_membership(request):
    """Add a user to a team."""
    body = request_data(request)
    body = body if isinstance(body, dict) else {}
    errors = {}
    if not body.get("username"):
        errors["username"] = "Username is required."
    if not body.get("team_id"):
        errors["team_id"] = "Team id is required."
    if errors:
        raise APIError(400, {"field_errors": {field: {"developer_message": message,
                                                      "user_message": message}
                                              for field, message in errors.items()}})
    username, team_id = str(body["username"]), str(body["team_id"])
    if "\x00" in username or "\x00" in team_id:
        raise empty(404)  # no team or user holds NUL (nor may any database)
    db = request.dbsession
    team = db.scalar(select(CourseTeam).where(CourseTeam.team_id == team_id)
                     .with_for_update())  # parallel joins wait here: the size check holds
    if team is None:
        raise empty(404)
    caller = access.caller(db, request.user, team.course_key)
    if not may_act_for(db, caller, username, team.course_key):
        raise empty(404)
    course, teams_config, teamset = team_context(db, team)
    if not caller.sees_team(team, teamset):
        raise empty(404)
    target = db.scalar(select(User).where(User.username == username))
    if target is None:
        raise empty(404)
    members = db.scalar(select(func.count(CourseTeamMembership.id))
                        .where(CourseTeamMembership.team_id == team.id))
    if members >= teams_config.default_max_team_size:
        raise api_error("This team is already full.")
    if teamset is not None and teamset.is_managed and not caller.staff:
        raise api_error("You can't join an instructor managed team.", 403)
    in_teamset = db.scalar(
        select(CourseTeamMembership.id)
        .join(CourseTeam, CourseTeam.id == CourseTeamMembership.team_id)
        .where(CourseTeamMembership.user_id == target.id,
               CourseTeam.course_key == team.course_key,
               CourseTeam.topic_id == team.topic_id).limit(1))
    if in_teamset is not None:
        raise api_error(f"The user {username} is already a member of a team in this teamset.")
    row = enrollment_api.get_enrollment_row(db, target.id, team.course_key)
    if row is None or not row.is_active:
        raise api_error(f"The user {username} is not enrolled in the course associated "
                        f"with this team.")
    if bool(row.mode == access.MASTERS) != bool(team.organization_protected):
        # upstream fails with a 500 here; a clear refusal instead
        raise api_error(f"The user {username} may not join a team of another track "
                        f"(master's track teams are kept apart).")
    now = utcnow()
    created = CourseTeamMembership(user_id=target.id, team_id=team.id, date_joined=now,
                                   last_activity_at=now)
    db.add(created)
    db.flush()
    recount(db, team)
    db.flush()
    return serialize_page(request, [(created, team, target)])[0]


# -- one membership ------------------------------------------------------------------------

def membership_for(request, leaving=False):
    db = request.dbsession
    team = db.scalar(select(CourseTeam).where(CourseTeam.team_id == request.matchdict["team_id"]))
    if team is None:
        raise empty(404)
    username = request.matchdict["username"]
    caller = access.caller(db, request.user, team.course_key)
    if leaving:
        if not may_act_for(db, caller, username, team.course_key):
            raise empty(404)
    elif not caller.api_access:
        raise empty(404)
    _, _, teamset = team_context(db, team)
    if not caller.sees_team(team, teamset):
        raise empty(404)
    if leaving and teamset is not None and teamset.is_managed and not caller.staff:
        raise api_error("You can't leave an instructor managed team.", 403)
    found = db.execute(select(CourseTeamMembership, User)
                       .join(User, User.id == CourseTeamMembership.user_id)
                       .where(CourseTeamMembership.team_id == team.id,
                              User.username == username)).first()
    if found is None:
        raise empty(404)
    return team, found[0], found[1]


@membership.get(query=EXPAND, responses={200: MEMBERSHIP, 401: "Not signed in.",
                           404: "Unknown team, user or membership, or no access."})
def get_membership(request):
    """One user's membership of a team."""
    team, row, user = membership_for(request)
    return serialize_page(request, [(row, team, user)])[0]


@membership.delete(query={"admin": "Said by staff removing someone (changes nothing here)."},
                   responses={204: "Left (or removed).", 401: "Not signed in.",
                              403: "A managed team and no staff privileges.",
                              404: "Unknown team, user or membership, or not the caller's "
                                   "to remove."})
def delete_membership(request):
    """Leave a team, or (staff privileges) remove someone from it."""
    team, row, _ = membership_for(request, leaving=True)
    db = request.dbsession
    db.delete(row)
    db.flush()
    recount(db, team)
    db.flush()
    return no_content()
