"""Topics (teamsets) and teams (upstream ``lms.djangoapps.teams.views``).

- ``GET /api/team/v0/topics/?course_id=&order_by=name|team_count`` and
  ``GET /api/team/v0/topics/{topic_id},{course_id}``: the course's teamsets the caller
  may see, ``team_count`` counting the teams they may see; 12 a page, ``sort_order``.
- ``GET /api/team/v0/teams/?course_id=&topic_id=&username=&order_by=`` (10 a page,
  ``sort_order``) and ``POST`` (200 with the team; a learner becomes its first member);
- ``GET``, ``PATCH`` (``application/merge-patch+json``; staff privileges) and ``DELETE``
  (staff privileges; its memberships go too) ``/api/team/v0/teams/{team_id}``.

Authentication is upstream's Bearer or session (no JWT). Errors follow upstream's mix:
empty 403/404 bodies, ``{"developer_message", "user_message"}`` and ``field_errors``.
``text_search`` is ignored, as upstream does without its search engine. ``expand=user``
gives each member's account as the accounts API shows it to the caller.
"""
import re
import unicodedata
from uuid import uuid4

from sqlalchemy import delete, false, func, or_, select

from lms.auth import BEARER, SESSION
from lms.errors import APIError
from lms.keys import parse_course_key
from lms.models import User
from lms.openapi import BOOLEAN, NUMBER, STRING, array, nullable, obj
from lms.pagination import page_number, page_of_items
from lms.responses import no_content
from lms.request import MERGE_PATCH, query_params, request_data
from lms.service import Service
from lms.timeutil import isoformat, utcnow
from plugins.accounts import api as accounts_api
from plugins.courses import api as courses_api
from plugins.teams import access, config
from plugins.teams.models import CourseTeam, CourseTeamMembership

AUTH = (BEARER, SESSION)
TOPICS_PAGE_SIZE = 12
TEAMS_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
NAME_MAX, DESCRIPTION_MAX = 255, 300
TEAM_ID = "{team_id:[a-z0-9_-]+}"
EXPAND = {"expand": "`user`: each member's account as the accounts API shows it."}

topics = Service("teams.topics", "/api/team/v0/topics/", auth=AUTH)
topic = Service("teams.topic", "/api/team/v0/topics/{topic_id:[A-Za-z0-9_.-]+},{course_id}",
                auth=AUTH)
teams = Service("teams.teams", "/api/team/v0/teams/", auth=AUTH)
team_detail = Service("teams.team", f"/api/team/v0/teams/{TEAM_ID}", auth=AUTH)
assignments = Service("teams.assignments", f"/api/team/v0/teams/{TEAM_ID}/assignments",
                      auth=AUTH)

TOPIC = obj({"description": STRING, "name": STRING, "id": STRING, "type": STRING,
             "max_team_size": nullable(NUMBER), "team_count": NUMBER})
USER = obj({"username": STRING, "url": STRING})
TEAM = obj({"id": STRING, "discussion_topic_id": STRING, "name": STRING, "course_id": STRING,
            "topic_id": STRING, "date_created": STRING, "description": STRING,
            "country": STRING, "language": STRING, "last_activity_at": STRING,
            "membership": array(obj({"user": USER, "date_joined": STRING,
                                     "last_activity_at": STRING})),
            "organization_protected": BOOLEAN})


def page_of(item):
    return obj({"count": NUMBER, "num_pages": NUMBER, "current_page": NUMBER,
                "start": NUMBER, "next": nullable(STRING), "previous": nullable(STRING),
                "results": array(item), "sort_order": STRING})


def empty(status):
    return APIError(status, raw=b"")


def api_error(message, status=400):
    return APIError(status, {"developer_message": message, "user_message": message})


def field_error(field, message):
    return APIError(400, {"field_errors": {field: {"developer_message": message,
                                                   "user_message": message}}})


def bad_ordering(value):
    return APIError(400, {"developer_message": f"unsupported order_by value {value}",
                          "user_message": f"The ordering {value} is not supported"})


# -- serialization ---------------------------------------------------------------------------

def account_url(request, username):
    return f"{request.application_url}/api/user/v1/accounts/{username}"


def memberships_of(db, team_ids):
    """``{team pk: [(membership, user)]}`` in one query."""
    found = {team_id: [] for team_id in team_ids}
    if not team_ids:
        return found
    rows = db.execute(select(CourseTeamMembership, User)
                      .join(User, User.id == CourseTeamMembership.user_id)
                      .where(CourseTeamMembership.team_id.in_(list(team_ids)))
                      .order_by(CourseTeamMembership.id))
    for membership, user in rows:
        found[membership.team_id].append((membership, user))
    return found


def expanded(request):
    """The ``expand`` query parameter's names (``user``, ``team``)."""
    return {name.strip() for name in (query_params(request).get("expand") or "").split(",")}


def user_field(request, user, accounts):
    """The collapsed ``{"username", "url"}``, or with ``expand=user`` the accounts API's
    representation (visibility applied) plus ``url``."""
    url = account_url(request, user.username)
    if accounts is None:
        return {"username": user.username, "url": url}
    return {**accounts.get(user.username, {"username": user.username}), "url": url}


def accounts_for(request, users):
    if "user" not in expanded(request):
        return None
    return accounts_api.account_representations(request, users)


def serialize_team(request, team, members, accounts=None):
    return {
        "id": team.team_id, "discussion_topic_id": team.discussion_topic_id,
        "name": team.name, "course_id": team.course_key, "topic_id": team.topic_id,
        "date_created": isoformat(team.date_created), "description": team.description,
        "country": team.country, "language": team.language,
        "last_activity_at": isoformat(team.last_activity_at),
        "membership": [{"user": user_field(request, user, accounts),
                        "date_joined": isoformat(membership.date_joined),
                        "last_activity_at": isoformat(membership.last_activity_at)}
                       for membership, user in members],
        "organization_protected": bool(team.organization_protected),
    }


def serialize_teams(request, rows):
    """Teams with their members: two queries (three with ``expand=user``) per page."""
    found = memberships_of(request.dbsession, [team.id for team in rows])
    accounts = accounts_for(request, {user.id: user for members in found.values()
                                      for _, user in members}.values())
    return [serialize_team(request, team, found[team.id], accounts) for team in rows]


def serialize_topic(teamset, team_count):
    return {"description": teamset.description, "name": teamset.name,
            "id": teamset.teamset_id, "type": teamset.teamset_type,
            "max_team_size": teamset.max_team_size, "team_count": team_count}


# -- shared look-ups -------------------------------------------------------------------------

def course_or_404(db, raw_key):
    key = parse_course_key(raw_key) if raw_key else None
    course = courses_api.get_course(db, key) if key is not None else None
    if course is None:
        raise empty(404)
    return course


def visible_teams_filter(caller, teams_config):
    """The SQL filter of the teams ``caller`` may see (org protection, private teamsets)."""
    if caller.staff:
        return []
    private = [t.teamset_id for t in teams_config.teamsets if t.is_private]
    clauses = [CourseTeam.organization_protected.is_(bool(caller.protected))]
    if private:
        clauses.append(or_(CourseTeam.topic_id.not_in(private),
                           CourseTeam.id.in_(list(caller.team_ids) or [-1])))
    return clauses


def team_counts(db, course_key, caller, teams_config):
    rows = db.execute(select(CourseTeam.topic_id, func.count(CourseTeam.id))
                      .where(CourseTeam.course_key == course_key,
                             *visible_teams_filter(caller, teams_config))
                      .group_by(CourseTeam.topic_id))
    return dict(rows.all())


# -- topics ----------------------------------------------------------------------------------

TOPIC_ERRORS = {400: "No or a bad `course_id` (`field_errors`), or an unsupported `order_by`.",
                401: "Not signed in.",
                403: "No access to the course's teams (empty body).",
                404: "Unknown course or topic (empty body)."}


@topics.get(query={"course_id": "The course (required).",
                   "order_by": "`name` (default) or `team_count`.",
                   "page": "Page number.", "page_size": "Topics per page (12)."},
            responses={200: page_of(TOPIC), **TOPIC_ERRORS})
def get_topics(request):
    """The course's teamsets the caller may see, with their team counts."""
    params = query_params(request)
    raw_key = params.get("course_id")
    if not raw_key:
        raise field_error("course_id", "The supplied course id None is not valid.")
    db = request.dbsession
    course = course_or_404(db, raw_key)
    caller = access.caller(db, request.user, course.course_key)
    if not caller.api_access:
        raise empty(403)
    order_by = params.get("order_by", "name")
    if order_by not in ("name", "team_count"):
        raise bad_ordering(order_by)
    teams_config = config.for_course(course)
    counts = team_counts(db, course.course_key, caller, teams_config)
    shown = sorted((t for t in teams_config.teamsets if caller.sees_teamset(t)),
                   key=lambda t: t.name.lower())
    items = [serialize_topic(t, counts.get(t.teamset_id, 0)) for t in shown]
    if order_by == "team_count":
        items.sort(key=lambda item: item["team_count"], reverse=True)
    page = page_of_items(request, items, default_size=TOPICS_PAGE_SIZE, max_size=MAX_PAGE_SIZE)
    page["sort_order"] = order_by
    return page


@topic.get(responses={200: TOPIC, **TOPIC_ERRORS})
def get_topic(request):
    """One teamset of the course, with the number of teams the caller may see."""
    db = request.dbsession
    course = course_or_404(db, request.matchdict["course_id"])
    caller = access.caller(db, request.user, course.course_key)
    if not caller.api_access:
        raise empty(403)
    teams_config = config.for_course(course)
    teamset = teams_config.teamset(request.matchdict["topic_id"])
    if teamset is None or not caller.sees_teamset(teamset):
        raise empty(404)
    counts = team_counts(db, course.course_key, caller, teams_config)
    return serialize_topic(teamset, counts.get(teamset.teamset_id, 0))


# -- teams list and create -------------------------------------------------------------------

ORDERINGS = {
    "name": (func.lower(CourseTeam.name), CourseTeam.id),
    "open_slots": (CourseTeam.team_size, CourseTeam.last_activity_at.desc(), CourseTeam.id),
    "last_activity_at": (CourseTeam.last_activity_at.desc(), CourseTeam.team_size,
                         CourseTeam.id),
}


@teams.get(query={"course_id": "The course (required).", "topic_id": "One teamset.",
                  "username": "Teams this user is a member of.",
                  "order_by": "`name` (default), `open_slots` or `last_activity_at`.",
                  "text_search": "Ignored (no search engine), as upstream without one.",
                  "page": "Page number.", "page_size": "Teams per page (10).", **EXPAND},
           responses={200: page_of(TEAM),
                      400: "No or a bad `course_id`, an unknown `topic_id`, a bad `order_by` "
                           "or `order_by` with `text_search`.",
                      401: "Not signed in.", 403: "No access to the course's teams.",
                      404: "Unknown course."})
def get_teams(request):
    """The course's teams the caller may see."""
    params = query_params(request)
    raw_key = params.get("course_id")
    if not raw_key:
        raise api_error("course_id must be provided")
    key = parse_course_key(raw_key)
    if key is None:
        raise api_error(f"The supplied course id {raw_key} is not valid.")
    db = request.dbsession
    course = courses_api.get_course(db, key)
    if course is None:
        raise empty(404)
    caller = access.caller(db, request.user, course.course_key)
    if not caller.api_access:
        raise empty(403)
    if params.get("text_search") and params.get("order_by"):
        raise api_error("text_search and order_by cannot be provided together")
    teams_config = config.for_course(course)
    topic_id = params.get("topic_id")
    if topic_id and teams_config.teamset(topic_id) is None:
        raise api_error(f"The supplied topic id {topic_id} is not valid")
    order_by = params.get("order_by") or "name"
    if order_by not in ORDERINGS:
        raise bad_ordering(order_by)
    stmt = select(CourseTeam).where(CourseTeam.course_key == course.course_key,
                                    *visible_teams_filter(caller, teams_config))
    if topic_id:
        stmt = stmt.where(CourseTeam.topic_id == topic_id)
    username = params.get("username")
    if username and "\x00" in username:
        stmt = stmt.where(false())  # no username holds NUL (and no database may hold it)
    elif username:
        stmt = stmt.where(CourseTeam.id.in_(
            select(CourseTeamMembership.team_id)
            .join(User, User.id == CourseTeamMembership.user_id)
            .where(User.username == username)))
    stmt = stmt.order_by(*ORDERINGS[order_by])
    page = page_number(request, stmt,
                       lambda rows: serialize_teams(request, [row[0] for row in rows]),
                       default_size=TEAMS_PAGE_SIZE, max_size=MAX_PAGE_SIZE, remember=False)
    page["sort_order"] = order_by
    return page


def slugify(text):
    """Django's slugify: ASCII, lowercase, words joined by hyphens."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[-\s]+", "-", text).strip("-_")


def _text_field(body, name, maximum, errors):
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[name] = ("This field is required." if value is None
                        else "This field may not be blank.")
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        errors[name] = "Not a valid string."
        return None
    value = str(value).strip()
    if "\x00" in value:  # DRF's ProhibitNullCharactersValidator
        errors[name] = "Null characters are not allowed."
        return None
    if len(value) > maximum:
        errors[name] = f"Ensure this field has no more than {maximum} characters."
        return None
    return value


def validated_team_fields(body):
    """name, description, country, language as upstream's serializer checks them; a 400
    ``field_errors`` on the first problems found."""
    errors = {}
    name = _text_field(body, "name", NAME_MAX, errors)
    description = _text_field(body, "description", DESCRIPTION_MAX, errors)
    country = body.get("country") or ""
    if not isinstance(country, str) or (country and not accounts_api.is_country_code(country)):
        errors["country"] = f"{country} is not a valid country code"
    language = body.get("language") or ""
    if not isinstance(language, str) or (language and
                                         not accounts_api.is_language_code(language)):
        errors["language"] = f'"{language}" is not a valid choice.'
    if errors:
        raise APIError(400, {"field_errors": {
            field: {"developer_message": message, "user_message": message}
            for field, message in errors.items()}})
    return name, description, country, language


@teams.post(query=EXPAND,
            body=obj({"course_id": STRING, "topic_id": STRING, "name": STRING,
                      "description": STRING, "country": STRING, "language": STRING},
                     required=["course_id", "topic_id", "name", "description"]),
            responses={200: TEAM,
                       400: "A bad `course_id` or no `topic_id` (`field_errors`), invalid "
                            "fields, or the caller is already in a team of the teamset.",
                       401: "Not signed in.",
                       403: "No access to the course's teams, or a managed teamset.",
                       404: "Unknown course or teamset."})
def post_team(request):
    """Create a team; a learner (not staff) becomes its first member."""
    body = request_data(request)
    if not isinstance(body, dict):
        raise APIError(400, {"developer_message": "Expected a JSON object.",
                             "user_message": "Expected a JSON object."})
    raw_key = body.get("course_id")
    key = parse_course_key(raw_key) if isinstance(raw_key, str) else None
    if key is None:
        raise field_error("course_id", f"The supplied course_id {raw_key} is not valid.")
    db = request.dbsession
    course = courses_api.get_course(db, key)
    if course is None:
        raise empty(404)
    topic_id = body.get("topic_id")
    if not topic_id or not isinstance(topic_id, str):
        raise field_error("topic_id", "topic_id is required")
    caller = access.caller(db, request.user, course.course_key)
    if not caller.api_access:
        raise empty(403)
    teams_config = config.for_course(course)
    teamset = teams_config.teamset(topic_id)
    if teamset is None or not caller.sees_teamset(teamset):
        raise empty(404)
    if not caller.may_create_in(teamset):
        raise api_error("You can't create a team in an instructor managed topic.", 403)
    if not caller.staff and teamset.teamset_id in caller.member_topics:
        raise api_error("You are already in a team in this teamset.")
    name, description, country, language = validated_team_fields(body)
    now = utcnow()
    suffix = uuid4().hex
    team = CourseTeam(team_id=f"{slugify(name)[:20]}-{suffix}", discussion_topic_id=suffix,
                      name=name, course_key=course.course_key, topic_id=teamset.teamset_id,
                      date_created=now, description=description, country=country,
                      language=language, last_activity_at=now, team_size=0,
                      organization_protected=bool(caller.protected))
    db.add(team)
    db.flush()
    if not caller.staff:
        db.add(CourseTeamMembership(user_id=request.user.id, team_id=team.id,
                                    date_joined=now, last_activity_at=now))
        team.team_size = 1
        db.flush()
    return serialize_teams(request, [team])[0]


# -- one team --------------------------------------------------------------------------------

DENIED = {"detail": "You do not have permission to perform this action."}
EDITABLE = ("name", "topic_id", "description", "country", "language",
            "organization_protected")


def team_for(request, write=False):
    """The team of the path and the caller, in upstream's permission order: unknown team
    404, no team API access 403, no access to this team 404, a write without staff
    privileges 403."""
    db = request.dbsession
    team = db.scalar(select(CourseTeam).where(CourseTeam.team_id == request.matchdict["team_id"]))
    if team is None:
        raise APIError(404, {"detail": "Not found."})
    caller = access.caller(db, request.user, team.course_key)
    if not caller.api_access:
        raise APIError(403, DENIED)
    course = courses_api.get_course(db, team.course_key)
    teamset = config.for_course(course).teamset(team.topic_id) if course is not None else None
    if not caller.sees_team(team, teamset):
        raise APIError(404, {"detail": "Not found."})
    if write and not caller.staff:
        raise APIError(403, DENIED)
    return team


@team_detail.get(query=EXPAND, responses={200: TEAM, 401: "Not signed in.",
                            403: "No access to the course's teams.",
                            404: "No such team, or one the caller may not see."})
def get_team(request):
    """One team, with its members."""
    return serialize_teams(request, [team_for(request)])[0]


@team_detail.patch(query=EXPAND,
                   body=obj({"name": STRING, "topic_id": STRING, "description": STRING,
                             "country": STRING, "language": STRING,
                             "organization_protected": BOOLEAN}),
                   responses={200: TEAM, 400: "A field that is not editable, or invalid.",
                              401: "Not signed in.",
                              403: "No team API access, or no staff privileges.",
                              404: "No such team, or one the caller may not see.",
                              415: "Not application/merge-patch+json."})
def patch_team(request):
    """Change a team's editable fields (a JSON merge patch)."""
    team = team_for(request, write=True)
    patch = request_data(request, (MERGE_PATCH,))
    if not isinstance(patch, dict):
        raise api_error("Expected a JSON object.")
    fixed = sorted(key for key in patch if key not in EDITABLE)
    if fixed:
        raise APIError(400, {"field_errors": {key: {
            "developer_message": "This field is not editable",
            "user_message": "This field is not editable"} for key in fixed}})
    merged = {"name": team.name, "description": team.description, "country": team.country,
              "language": team.language, **patch}
    name, description, country, language = validated_team_fields(merged)
    topic_id = patch.get("topic_id", team.topic_id)
    protected = patch.get("organization_protected", team.organization_protected)
    if not isinstance(topic_id, str) or len(topic_id) > 255 or "\x00" in topic_id:
        raise field_error("topic_id", "Not a valid string.")
    if not isinstance(protected, bool):
        raise field_error("organization_protected", "Must be a valid boolean.")
    team.name, team.description, team.country, team.language = (name, description, country,
                                                                language)
    # Upstream does not check that the new topic_id names a teamset.
    team.topic_id, team.organization_protected = topic_id, protected
    request.dbsession.flush()
    return serialize_teams(request, [team])[0]


@team_detail.delete(responses={204: "Deleted, with its memberships.", 401: "Not signed in.",
                               403: "No team API access, or no staff privileges.",
                               404: "No such team, or one the caller may not see."})
def delete_team(request):
    """Delete a team and its memberships."""
    team = team_for(request, write=True)
    db = request.dbsession
    db.execute(delete(CourseTeamMembership).where(CourseTeamMembership.team_id == team.id))
    db.delete(team)
    db.flush()
    return no_content()


# -- a team's assignments --------------------------------------------------------------------

ORA = "openassessment"


def team_assignments(request, course, teamset_id):
    """The course's team ORA blocks of a teamset the caller may see, in course order:
    ``{"display_name": "<section>: <unit>", "location": "/courses/.../jump_to/<block>"}``."""
    db = request.dbsession
    content = courses_api.content_access(request.registry, db, request.user, course)
    structure = content.structure
    visible = content.visible_keys(require_enrollment=False)
    found = []
    for usage_key, node in structure.blocks.items():
        if node.block_type != ORA or usage_key not in visible:
            continue
        if not node.get("teams_enabled") or node.get("selected_teamset_id") != teamset_id:
            continue
        names = {structure.blocks[k].block_type: structure.blocks[k].display_name or ""
                 for k in structure.ancestors(usage_key) if k in structure.blocks}
        found.append({"display_name": f"{names.get('chapter', '')}: {names.get('vertical', '')}",
                      "location": f"/courses/{course.course_key}/jump_to/{usage_key}"})
    return found


@assignments.get(responses={200: array(obj({"display_name": STRING, "location": STRING})),
                            401: "Not signed in.", 403: "No access to the course's teams.",
                            404: "No such team, or one the caller may not see.",
                            503: "Team submissions are off (`teams.ora_team_submissions`)."})
def get_assignments(request):
    """The team's open response assessments (team submissions in its teamset)."""
    from lms.settings import as_bool

    db = request.dbsession
    team = db.scalar(select(CourseTeam).where(CourseTeam.team_id == request.matchdict["team_id"]))
    if team is None:
        raise APIError(404, {"detail": "Not found."})
    if not as_bool(request.registry.settings, "teams.ora_team_submissions"):
        raise empty(503)
    caller = access.caller(db, request.user, team.course_key)
    if not caller.api_access:
        raise empty(403)
    course = courses_api.get_course(db, team.course_key)
    teamset = config.for_course(course).teamset(team.topic_id) if course is not None else None
    if course is None or not caller.sees_team(team, teamset):
        raise empty(404)
    return team_assignments(request, course, team.topic_id)
