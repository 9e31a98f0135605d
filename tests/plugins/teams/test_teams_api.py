"""Topics and teams (``/api/team/v0/topics/``, ``teams/``, ``teams/{id}``) as upstream's
views answer them, over a session (teams take Bearer or session, not JWT)."""
import json

from sqlalchemy import select

from lms.testing import create_user
from plugins.enrollment import api as enrollment_api
from plugins.teams.models import CourseTeam, CourseTeamMembership
from tests.plugins.courses.factories import Node, make_course

KEY = "course-v1:edX+Teams+2026"
CONFIGURATION = {"max_team_size": 4, "team_sets": [
    {"id": "zeta", "name": "Zeta", "description": "Open teams", "type": "open"},
    {"id": "alpha", "name": "alpha", "type": "public_managed"},
    {"id": "secret", "name": "Secret", "type": "private_managed"},
    {"id": "bad id!", "name": "Dropped"},
    {"id": "zeta", "name": "Duplicate, dropped"},
]}
PASSWORD = "Pa55word-long"


def session(app, username):
    """Sign in with a browser session; the CSRF token for its writes."""
    app.reset()
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    app.post("/api/user/v1/account/login_session/",
             {"email": f"{username}@example.com", "password": PASSWORD},
             headers={"X-CSRFToken": token})
    return {"X-CSRFToken": app.get("/csrf/api/v1/token").json["csrfToken"]}


def create(app, headers, status=200, **fields):
    body = {"course_id": KEY, "topic_id": "zeta", "name": "Café Crew!",
            "description": "We study", **fields}
    return app.post("/api/team/v0/teams/", json.dumps(body), content_type="application/json",
                    headers=headers, status=status)


def test_topics_list_counts_and_orders(app, db, world):
    headers = session(app, "ann")
    create(app, headers)
    body = app.get("/api/team/v0/topics/", {"course_id": KEY}, headers=headers).json
    assert body["sort_order"] == "name" and body["count"] == 2
    assert [(t["id"], t["team_count"]) for t in body["results"]] == [("alpha", 0), ("zeta", 1)]
    assert body["results"][1] == {"description": "Open teams", "name": "Zeta", "id": "zeta",
                                  "type": "open", "max_team_size": None, "team_count": 1}
    by_count = app.get("/api/team/v0/topics/", {"course_id": KEY, "order_by": "team_count"},
                       headers=headers).json
    assert [t["id"] for t in by_count["results"]] == ["zeta", "alpha"]
    assert by_count["sort_order"] == "team_count"
    # course staff also see the private teamset
    staff = app.get("/api/team/v0/topics/", {"course_id": KEY},
                    headers=session(app, "teacher")).json
    assert [t["id"] for t in staff["results"]] == ["alpha", "secret", "zeta"]


def anonymous(app):
    app.reset()
    return app


def test_topics_errors(app, db, world):
    anonymous(app).get("/api/team/v0/topics/", {"course_id": KEY}, status=401)
    headers = session(app, "ann")
    assert app.get("/api/team/v0/topics/", headers=headers, status=400).json == {
        "field_errors": {"course_id": {
            "developer_message": "The supplied course id None is not valid.",
            "user_message": "The supplied course id None is not valid."}}}
    assert app.get("/api/team/v0/topics/", {"course_id": "bad"}, headers=headers,
                   status=404).body == b""
    assert app.get("/api/team/v0/topics/", {"course_id": KEY, "order_by": "size"},
                   headers=headers, status=400).json == {
        "developer_message": "unsupported order_by value size",
        "user_message": "The ordering size is not supported"}
    assert app.get("/api/team/v0/topics/", {"course_id": KEY, "page": 9}, headers=headers,
                   status=404).json == {"detail": "Invalid page."}
    out = session(app, "out")
    assert app.get("/api/team/v0/topics/", {"course_id": KEY}, headers=out,
                   status=403).body == b""


def test_topic_detail(app, db, world):
    headers = session(app, "ann")
    assert app.get(f"/api/team/v0/topics/zeta,{KEY}", headers=headers).json["team_count"] == 0
    app.get(f"/api/team/v0/topics/secret,{KEY}", headers=headers, status=404)
    app.get(f"/api/team/v0/topics/nope,{KEY}", headers=headers, status=404)
    app.get("/api/team/v0/topics/zeta,course-v1:edX+None+1", headers=headers, status=404)
    app.get(f"/api/team/v0/topics/zeta,{KEY}", headers=session(app, "out"), status=403)
    assert app.get(f"/api/team/v0/topics/secret,{KEY}",
                   headers=session(app, "root")).json["type"] == "private_managed"


def test_create_team_and_read_it(app, db, world):
    headers = session(app, "ann")
    team = create(app, headers, country="FR", language="fr").json
    assert team["id"].startswith("cafe-crew-") and len(team["id"]) == len("cafe-crew-") + 32
    assert team["discussion_topic_id"] == team["id"].rsplit("-", 1)[1]
    assert (team["name"], team["course_id"], team["topic_id"], team["country"],
            team["language"], team["organization_protected"]) == (
        "Café Crew!", KEY, "zeta", "FR", "fr", False)
    assert [m["user"] for m in team["membership"]] == [
        {"username": "ann", "url": "http://localhost/api/user/v1/accounts/ann"}]
    row = db.scalar(select(CourseTeam).where(CourseTeam.team_id == team["id"]))
    assert row.team_size == 1
    # one team per teamset for a learner
    assert create(app, headers, status=400).json == {
        "developer_message": "You are already in a team in this teamset.",
        "user_message": "You are already in a team in this teamset."}
    detail = app.get(f"/api/team/v0/teams/{team['id']}", headers=session(app, "bob")).json
    assert detail == team
    # staff create without joining, in managed teamsets too
    staff_team = create(app, session(app, "teacher"), topic_id="alpha", name="Staff made").json
    assert staff_team["membership"] == []
    assert db.scalar(select(CourseTeamMembership.id).where(
        CourseTeamMembership.team_id == db.scalar(select(CourseTeam.id).where(
            CourseTeam.team_id == staff_team["id"])))) is None


def test_create_errors_store_nothing(app, db, world):
    headers = session(app, "bob")
    assert create(app, headers, status=400, course_id="bad").json == {"field_errors": {
        "course_id": {"developer_message": "The supplied course_id bad is not valid.",
                      "user_message": "The supplied course_id bad is not valid."}}}
    create(app, headers, status=404, course_id="course-v1:edX+None+1")
    assert create(app, headers, status=400, topic_id="").json["field_errors"]["topic_id"][
        "developer_message"] == "topic_id is required"
    create(app, headers, status=404, topic_id="nope")
    create(app, headers, status=404, topic_id="secret")
    assert create(app, headers, status=403, topic_id="alpha").json == {
        "developer_message": "You can't create a team in an instructor managed topic.",
        "user_message": "You can't create a team in an instructor managed topic."}
    errors = create(app, headers, status=400, name=" ", description="x" * 301, country="XX",
                    language="xx").json["field_errors"]
    assert {field: e["developer_message"] for field, e in errors.items()} == {
        "name": "This field may not be blank.",
        "description": "Ensure this field has no more than 300 characters.",
        "country": "XX is not a valid country code",
        "language": '"xx" is not a valid choice.'}
    create(app, headers, status=400, name=["list"])
    app.post("/api/team/v0/teams/", "{bad json", content_type="application/json",
             headers=headers, status=400)
    create(app, session(app, "out"), status=403)
    anonymous(app).post("/api/team/v0/teams/", json.dumps({"course_id": KEY}),
                        content_type="application/json", status=401)
    assert db.scalar(select(CourseTeam.id).limit(1)) is None


def test_teams_list_filters_orders_and_protection(app, db, world):
    create(app, session(app, "ann"), name="Beta")
    create(app, session(app, "bob"), name="alpha squad")
    masters = create(app, session(app, "meg"), name="Masters").json
    assert masters["organization_protected"] is True
    headers = session(app, "ann")
    body = app.get("/api/team/v0/teams/", {"course_id": KEY}, headers=headers).json
    assert body["sort_order"] == "name"
    # ann (not masters) does not see the masters team; names sort case-insensitively
    assert [t["name"] for t in body["results"]] == ["alpha squad", "Beta"]
    mine = app.get("/api/team/v0/teams/", {"course_id": KEY, "username": "ann"},
                   headers=headers).json
    assert [t["name"] for t in mine["results"]] == ["Beta"]
    staff = app.get("/api/team/v0/teams/", {"course_id": KEY, "order_by": "open_slots"},
                    headers=session(app, "teacher")).json
    assert sorted(t["name"] for t in staff["results"]) == ["Beta", "Masters", "alpha squad"]
    meg = app.get("/api/team/v0/teams/", {"course_id": KEY}, headers=session(app, "meg")).json
    assert [t["name"] for t in meg["results"]] == ["Masters"]
    app.get(f"/api/team/v0/teams/{masters['id']}", headers=session(app, "ann"), status=404)


def test_teams_list_errors(app, db, world):
    headers = session(app, "ann")
    url = "/api/team/v0/teams/"

    def message(query):
        return app.get(url, query, headers=headers, status=400).json["developer_message"]

    assert message({}) == "course_id must be provided"
    assert message({"course_id": "bad"}) == "The supplied course id bad is not valid."
    assert message({"course_id": KEY, "topic_id": "nope"}) == \
        "The supplied topic id nope is not valid"
    assert message({"course_id": KEY, "text_search": "x", "order_by": "name"}) == \
        "text_search and order_by cannot be provided together"
    assert message({"course_id": KEY, "order_by": "size"}) == "unsupported order_by value size"
    app.get(url, {"course_id": "course-v1:edX+None+1"}, headers=headers, status=404)
    app.get(url, {"course_id": KEY}, headers=session(app, "out"), status=403)
    app.get("/api/team/v0/teams/no-such-team", headers=headers, status=404)
    anonymous(app).get(url, {"course_id": KEY}, status=401)
    app.get("/api/team/v0/teams/no-such-team", status=401)


def test_teams_list_uses_a_fixed_number_of_queries(app, db, world, query_counter):
    course_team = []
    for number in range(12):
        team = CourseTeam(team_id=f"t{number}-{number:032x}", discussion_topic_id=f"{number:032x}",
                          name=f"Team {number:02d}", course_key=KEY, topic_id="zeta",
                          description="d", team_size=1)
        db.add(team)
        course_team.append(team)
    db.flush()
    for team in course_team:
        db.add(CourseTeamMembership(user_id=world["bob"].id, team_id=team.id))
    db.commit()
    headers = session(app, "ann")
    url = "/api/team/v0/teams/"
    app.get(url, {"course_id": KEY, "page_size": 2}, headers=headers)
    with query_counter() as two:
        app.get(url, {"course_id": KEY, "page_size": 2}, headers=headers)
    with query_counter() as ten:
        body = app.get(url, {"course_id": KEY, "page_size": 10}, headers=headers).json
    assert len(body["results"]) == 10 and body["count"] == 12
    assert len(two) == len(ten)


def test_unenrolling_and_retiring_leave_teams(app, db, world):
    team = create(app, session(app, "ann")).json
    row = db.scalar(select(CourseTeam).where(CourseTeam.team_id == team["id"]))
    enrollment_api.enroll(db, world["ann"].id, KEY, is_active=False)
    db.commit()
    db.refresh(row)
    assert row.team_size == 0
    assert db.scalar(select(CourseTeamMembership.id)) is None


def test_switched_off_teams_answer_404_and_keep_their_tables(app_factory, db, world):
    from sqlalchemy import inspect

    off = app_factory(**{"lms.plugins.disabled": "teams"})
    off.get("/api/team/v0/topics/", {"course_id": KEY}, status=404)
    off.get("/api/team/v0/teams/", status=404)
    assert "teams_course_team" in inspect(db.get_bind()).get_table_names()


def patch(app, team_id, body, headers, status=200, content_type="application/merge-patch+json"):
    return app.patch(f"/api/team/v0/teams/{team_id}", json.dumps(body),
                     content_type=content_type, headers=headers, status=status)


def test_patch_and_delete_need_staff_privileges(app, db, world):
    team = create(app, session(app, "ann")).json
    # a member who is only a learner may not change their team
    assert patch(app, team["id"], {"name": "Mine"}, session(app, "ann"), status=403).json == {
        "detail": "You do not have permission to perform this action."}
    staff = session(app, "teacher")
    changed = patch(app, team["id"], {"name": "Renamed", "country": "DE",
                                      "organization_protected": True}, staff).json
    assert (changed["name"], changed["country"], changed["description"],
            changed["organization_protected"]) == ("Renamed", "DE", "We study", True)
    row = db.scalar(select(CourseTeam).where(CourseTeam.team_id == team["id"]))
    db.refresh(row)
    assert (row.name, row.country) == ("Renamed", "DE")
    assert patch(app, team["id"], {"id": "x", "course_id": KEY}, staff, status=400).json == {
        "field_errors": {key: {"developer_message": "This field is not editable",
                               "user_message": "This field is not editable"}
                         for key in ("course_id", "id")}}
    assert patch(app, team["id"], {"name": ""}, staff, status=400).json["field_errors"][
        "name"]["developer_message"] == "This field may not be blank."
    patch(app, team["id"], {"name": "x"}, staff, status=415, content_type="application/json")
    patch(app, "no-such-team", {"name": "x"}, staff, status=404)
    # now master's-track only: bob no longer sees it; meg does, but may not delete it
    app.delete(f"/api/team/v0/teams/{team['id']}", headers=session(app, "bob"), status=404)
    app.delete(f"/api/team/v0/teams/{team['id']}", headers=session(app, "meg"), status=403)
    app.delete(f"/api/team/v0/teams/{team['id']}", headers=session(app, "root"), status=204)
    assert db.scalar(select(CourseTeam.id)) is None
    assert db.scalar(select(CourseTeamMembership.id)) is None
    anonymous(app).delete(f"/api/team/v0/teams/{team['id']}", status=401)


def test_assignments_list_the_teamsets_team_oras(app_factory, db):
    on = app_factory(**{"teams.ora_team_submissions": "true"})
    key = "course-v1:edX+TeamORA+2026"
    tree = Node("course", "course", children=[
        Node("chapter", "week", display_name="Week 1", children=[
            Node("sequential", "seq", children=[
                Node("vertical", "unit", display_name="Project", children=[
                    Node("openassessment", "ora", teams_enabled=True,
                         selected_teamset_id="zeta"),
                    Node("openassessment", "other", teams_enabled=True,
                         selected_teamset_id="alpha"),
                    Node("openassessment", "solo"),
                    Node("openassessment", "hidden", teams_enabled=True,
                         selected_teamset_id="zeta", visible_to_staff_only=True),
                ])])])])
    make_course(db, tree, course_key=key, settings={"teams_configuration": CONFIGURATION})
    ann = create_user(db, "ora_ann", password=PASSWORD)
    enrollment_api.enroll(db, ann.id, key)
    team = CourseTeam(team_id="ora-team", discussion_topic_id="ora-team", name="ORA",
                      course_key=key, topic_id="zeta", description="d", team_size=1)
    db.add(team)
    db.flush()
    db.add(CourseTeamMembership(user_id=ann.id, team_id=team.id))
    db.commit()
    headers = session(on, "ora_ann")
    assert on.get("/api/team/v0/teams/ora-team/assignments", headers=headers).json == [
        {"display_name": "Week 1: Project",
         "location": f"/courses/{key}/jump_to/block-v1:edX+TeamORA+2026+type@openassessment"
                     "+block@ora"}]
    on.get("/api/team/v0/teams/nope/assignments", headers=headers, status=404)
    off = app_factory()
    assert off.get("/api/team/v0/teams/ora-team/assignments", headers=session(off, "ora_ann"),
                   status=503).body == b""


def test_expand_user_and_team_with_a_fixed_number_of_queries(app, db, world, query_counter):
    members = [create_user(db, f"member{n}", password=PASSWORD) for n in range(30)]
    for number in range(30):
        team = CourseTeam(team_id=f"x{number}-{number:032x}", discussion_topic_id=f"x{number}",
                          name=f"Expand {number:02d}", course_key=KEY, topic_id="zeta",
                          description="d", team_size=1)
        db.add(team)
        db.flush()
        db.add(CourseTeamMembership(user_id=members[number].id, team_id=team.id))
    db.commit()
    headers = session(app, "root")
    url = "/api/team/v0/teams/"
    query = {"course_id": KEY, "expand": "user"}
    app.get(url, dict(query, page_size=2), headers=headers)
    with query_counter() as two:
        app.get(url, dict(query, page_size=2), headers=headers)
    with query_counter() as thirty:
        body = app.get(url, dict(query, page_size=30), headers=headers).json
    assert len(two) == len(thirty)
    user = body["results"][0]["membership"][0]["user"]
    assert user["username"] == "member0" and user["url"].endswith("/accounts/member0")
    assert "date_joined" in user and "account_privacy" in user
    listed = app.get("/api/team/v0/team_membership/", {"username": "member3",
                                                       "expand": "team,user"},
                     headers=headers).json["results"]
    assert listed[0]["team"]["name"] == "Expand 03" and "membership" not in listed[0]["team"]
    assert listed[0]["user"]["username"] == "member3" and "account_privacy" in listed[0]["user"]


def test_nul_characters_are_refused_or_find_nothing(app, db, world):
    headers = session(app, "ann")
    errors = create(app, headers, status=400, name="a\x00b").json["field_errors"]
    assert errors["name"]["developer_message"] == "Null characters are not allowed."
    for query in ({"course_id": KEY, "topic_id": "ze\x00ta"},
                  {"course_id": KEY, "username": "a\x00n"}):
        response = app.get("/api/team/v0/teams/", query, headers=headers, expect_errors=True)
        assert response.status_int in (200, 400)
    app.get("/api/team/v0/team_membership/", {"username": "a\x00n"}, headers=headers,
            status=404)
    assert app.get("/api/team/v0/teams/", {"course_id": KEY, "username": "a\x00n"},
                   headers=headers).json["results"] == []
    app.get("/api/team/v0/teams/x\x00y", headers=headers, expect_errors=True)
    assert db.scalar(select(CourseTeam.id)) is None
