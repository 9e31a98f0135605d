"""``/api/team/v0/bulk_team_membership/{course_id}`` (upstream ``teams.csv``): every learner's
team per teamset as CSV, and that CSV taken back.

- ``GET``: ``username,external_user_id,mode,<teamset ids sorted>``, one row per active
  enrollment; a cell is the learner's team name in that teamset, or blank.
- ``POST`` (multipart field ``csv``, UTF-8, a BOM tolerated): validated whole first, in
  upstream's order and with its messages; any error answers 400 ``{"errors": [...]}`` and
  changes nothing. Otherwise, per row and teamset, a blank cell leaves the teamset's team,
  another name moves the learner there (a team of that name is created when missing), the
  same name changes nothing: 201 ``{"message": "N learners were affected."}``, all in the
  request's one transaction.

Staff privileges only (global staff, the course's staff or instructor role). Cells that
a spreadsheet would run as a formula are written with a leading ``'`` and read back
without it.
"""
import csv
import io
from uuid import uuid4

from sqlalchemy import select

from lms.auth import BEARER_STRICT, SESSION_STRICT
from lms.errors import APIError
from lms.keys import parse_course_key
from lms.models import User
from lms.request import MULTIPART, has_body, media_type, uploaded_files
from lms.service import Service
from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.enrollment import api as enrollment_api
from plugins.teams import access, config
from plugins.teams.models import CourseTeam, CourseTeamMembership
from plugins.teams.views.memberships import recount
from plugins.teams.views.teams import slugify

CSV_FIELD = "csv"
MAX_BYTES = 5_000_000
MAX_ROWS = 50_000
FIXED_COLUMNS = ("username", "external_user_id", "mode")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIXED = "Team {} cannot have Master\u2019s track users mixed with users in other tracks."

bulk = Service("teams.bulk_membership", "/api/team/v0/bulk_team_membership/{course_id}",
               auth=(BEARER_STRICT, SESSION_STRICT))


def detail(status, message):
    return APIError(status, {"detail": message})


def staff_course(request):
    raw_key = request.matchdict["course_id"]
    key = parse_course_key(raw_key)
    if key is None:
        raise detail(404, f"Invalid course key: {raw_key}")
    db = request.dbsession
    course = courses_api.get_course(db, key)
    if course is None:
        raise detail(404, f"Course not found: {raw_key}")
    if not access.has_staff_privileges(db, request.user, course.course_key):
        raise detail(403, f"To manage team membership of {course.course_key}, you must be "
                          f"course staff.")
    return course


def safe_cell(value):
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def read_cell(value):
    value = value.strip()
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def current_teams(db, course_key):
    """``{user_id: {teamset id: CourseTeam}}`` and ``{(teamset id, name): CourseTeam}``."""
    teams = db.scalars(select(CourseTeam).where(CourseTeam.course_key == course_key)).all()
    by_name = {(team.topic_id, team.name): team for team in teams}
    by_id = {team.id: team for team in teams}
    members = {}
    for user_id, team_id in db.execute(
            select(CourseTeamMembership.user_id, CourseTeamMembership.team_id)
            .where(CourseTeamMembership.team_id.in_(list(by_id) or [-1]))):
        team = by_id[team_id]
        members.setdefault(user_id, {})[team.topic_id] = team
    return members, by_name, by_id


@bulk.get(responses={200: {"type": "string", "description": "text/csv"},
                     401: "Not signed in.", 403: "Not course staff.",
                     404: "Invalid or unknown course."})
def get_bulk_membership(request):
    """Every active learner's team in each teamset, as CSV."""
    course = staff_course(request)
    db = request.dbsession
    teamset_ids = sorted(t.teamset_id for t in config.for_course(course).teamsets)
    rows = db.execute(enrollment_api.active_enrollees_select(course.course_key)
                      .order_by(User.username)).all()
    members, _, _ = current_teams(db, course.course_key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*FIXED_COLUMNS, *teamset_ids])
    for _, user_id, mode, username, _ in rows:
        mine = members.get(user_id, {})
        writer.writerow([safe_cell(username), "", mode] + [
            safe_cell(mine[t].name) if t in mine else "" for t in teamset_ids])
    key = parse_course_key(course.course_key)
    response = request.response
    response.content_type = "text/csv"
    response.charset = "utf-8"
    response.content_disposition = (f'attachment; filename="team-membership_{key.org}_'
                                    f'{key.course}_{key.run}.csv"')
    response.text = out.getvalue()
    return response


def read_csv(request):
    field = None
    if has_body(request) and media_type(request) == MULTIPART:
        field = uploaded_files(request).get(CSV_FIELD)
    if field is None or isinstance(field, str):
        raise APIError(400, {"errors": [f"No file uploaded with key '{CSV_FIELD}'."]})
    data = field.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise APIError(400, {"errors": [f"The file is larger than {MAX_BYTES} bytes."]})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise APIError(400, {"errors": ["The file is not UTF-8 text."]}) from None
    if "\x00" in text:  # no database stores it in text; no CSV of names holds it
        raise APIError(400, {"errors": ["The file contains NUL characters."]})
    try:
        rows = [[cell for cell in row]
                for row in csv.reader(io.StringIO("\n".join(line.strip()
                                                            for line in text.splitlines())))]
    except csv.Error as exc:
        raise APIError(400, {"errors": [f"The file is not a valid CSV file: {exc}"]}) from None
    if len(rows) > MAX_ROWS + 1:
        raise APIError(400, {"errors": [f"The file has more than {MAX_ROWS} rows."]})
    return rows


class Stop(Exception):
    """An error that ends upstream's validation at once."""


def validate(db, course, teams_config, rows):
    """``(errors, plan)``: ``plan`` is ``[(user, {teamset id: team name or ""})]``."""
    errors = []
    header = [cell.strip() for cell in (rows[0] if rows else [])]
    try:
        for column in ("username", "mode"):
            if column not in header:
                errors.append(f"Header must contain column '{column}'.")
                raise Stop
        teamset_columns = header[header.index("mode") + 1:]
        seen = set()
        for teamset_id in teamset_columns:
            if teamset_id in seen:
                errors.append(f"Teamset with id {teamset_id} is duplicated.")
                raise Stop
            seen.add(teamset_id)
            if teams_config.teamset(teamset_id) is None:
                errors.append(f"Teamset with id {teamset_id} does not exist.")
                raise Stop
        names_column, mode_column = header.index("username"), header.index("mode")
        wanted, usernames = [], set()
        for row in rows[1:]:
            if len(row) > len(header):
                extra = [read_cell(cell) for cell in row[len(header):]]
                errors.append(f"Team(s) {extra} don't have matching teamsets.")
                raise Stop
            row = row + [""] * (len(header) - len(row))
            username = read_cell(row[names_column])
            if not username:
                continue
            if username in usernames:
                errors.append(f"Username {username} listed more than once in file.")
                raise Stop
            usernames.add(username)
            cells = {teamset_id: read_cell(row[header.index(teamset_id)])
                     for teamset_id in teamset_columns}
            wanted.append((username, read_cell(row[mode_column]), cells))
        users = {user.username: user for user in db.scalars(
            select(User).where(User.username.in_([u for u, _, _ in wanted] or [""])))}
        enrollments = {row.user_id: row for row in enrollment_api.enrollment_rows_of(
            db, course.course_key, [user.id for user in users.values()])}
        plan = []
        for username, mode, cells in wanted:
            user = users.get(username)
            if user is None:
                errors.append(f"User {username} does not exist.")
                continue
            enrollment = enrollments.get(user.id)
            if enrollment is None or not enrollment.is_active:
                errors.append(f"User {username} is not enrolled in this course.")
                continue
            if enrollment.mode != mode:
                errors.append(f"User {username} enrollment mismatch.")
                continue
            plan.append((user, enrollment.mode, cells))
        if errors:
            return errors, []
        check_teams(db, course, teams_config, plan, errors)
    except Stop:
        return errors, []
    return errors, plan


def check_teams(db, course, teams_config, plan, errors):
    """Upstream's team checks on the memberships the file would leave: no team mixes the
    master's track with others (nor goes against an existing team's protection), and none
    grows past its teamset's size."""
    members, by_name, _ = current_teams(db, course.course_key)
    planned = {user.id for user, _, _ in plan}
    modes = {row.user_id: row.mode for row in db.execute(
        enrollment_api.active_enrollees_select(course.course_key))}
    projected = {}  # (teamset, name) -> set of user ids
    for user_id, teams in members.items():
        if user_id in planned:
            continue
        for teamset_id, team in teams.items():
            projected.setdefault((teamset_id, team.name), set()).add(user_id)
    for user, _, cells in plan:
        for teamset_id, team in members.get(user.id, {}).items():
            if teamset_id not in cells:  # a teamset the file leaves alone
                projected.setdefault((teamset_id, team.name), set()).add(user.id)
        for teamset_id, name in cells.items():
            if name:
                projected.setdefault((teamset_id, name), set()).add(user.id)
    for (teamset_id, name), user_ids in projected.items():
        masters = {modes.get(user_id) == access.MASTERS for user_id in user_ids}
        existing = by_name.get((teamset_id, name))
        if len(masters) > 1 or (existing is not None and user_ids
                                and masters != {bool(existing.organization_protected)}):
            errors.append(MIXED.format(name))
            raise Stop
        size = teams_config.max_team_size(teams_config.teamset(teamset_id))
        if len(user_ids) > size:
            errors.append(f"New membership for team {name} would exceed max size of {size}.")
            raise Stop


def apply(db, course, plan):
    """The plan's moves, in the request's transaction; the number of learners listed."""
    members, by_name, _ = current_teams(db, course.course_key)
    now, touched = utcnow(), set()
    for user, mode, cells in plan:
        current = members.get(user.id, {})
        for teamset_id, name in cells.items():
            team = current.get(teamset_id)
            if team is not None and team.name == name:
                continue
            if team is not None:
                db.execute(CourseTeamMembership.__table__.delete().where(
                    CourseTeamMembership.user_id == user.id,
                    CourseTeamMembership.team_id == team.id))
                touched.add(team)
            if not name:
                continue
            target = by_name.get((teamset_id, name))
            if target is None:
                suffix = uuid4().hex
                target = CourseTeam(team_id=f"{slugify(name)[:20]}-{suffix}",
                                    discussion_topic_id=suffix, name=name[:255],
                                    course_key=course.course_key, topic_id=teamset_id,
                                    description="Import from csv", date_created=now,
                                    last_activity_at=now,
                                    organization_protected=mode == access.MASTERS)
                db.add(target)
                db.flush()
                by_name[(teamset_id, name)] = target
            db.add(CourseTeamMembership(user_id=user.id, team_id=target.id, date_joined=now,
                                        last_activity_at=now))
            touched.add(target)
    db.flush()
    for team in touched:
        recount(db, team)
    db.flush()
    return len(plan)


@bulk.post(responses={201: {"type": "object", "description": '{"message": "N learners were '
                                                             'affected."}'},
                      400: "The file's errors (`{\"errors\": [...]}`); nothing changed.",
                      401: "Not signed in.", 403: "Not course staff.",
                      404: "Invalid or unknown course."})
def post_bulk_membership(request):
    """Apply a team membership CSV as a whole, or nothing of it."""
    course = staff_course(request)
    rows = read_csv(request)
    db = request.dbsession
    teams_config = config.for_course(course)
    errors, plan = validate(db, course, teams_config, rows)
    if errors:
        raise APIError(400, {"errors": errors})
    affected = apply(db, course, plan)
    request.response.status = 201
    return {"message": f"{affected} learners were affected."}
