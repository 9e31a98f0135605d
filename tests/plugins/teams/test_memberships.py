"""Team memberships: list, join, read, leave, as upstream's views answer them, and
parallel joins that never push a team past its size (PostgreSQL)."""
import json
import threading

import pytest
import requests
from sqlalchemy import func, select

from plugins.enrollment import api as enrollment_api
from plugins.teams.models import CourseTeam, CourseTeamMembership
from tests.plugins.teams.test_teams_api import CONFIGURATION, KEY, anonymous, create, session

URL = "/api/team/v0/team_membership/"


def join(app, headers, username, team_id, status=200):
    return app.post(URL, json.dumps({"username": username, "team_id": team_id}),
                    content_type="application/json", headers=headers, status=status)


def test_join_read_list_and_leave(app, db, world):
    team = create(app, session(app, "ann")).json
    bob = session(app, "bob")
    joined = join(app, bob, "bob", team["id"]).json
    assert joined["user"] == {"username": "bob",
                              "url": "http://localhost/api/user/v1/accounts/bob"}
    assert joined["team"] == {"team_id": team["id"],
                              "url": f"http://localhost/api/team/v0/teams/{team['id']}"}
    row = db.scalar(select(CourseTeam).where(CourseTeam.team_id == team["id"]))
    db.refresh(row)
    assert row.team_size == 2
    listed = app.get(URL, {"team_id": team["id"]}, headers=bob).json
    assert [m["user"]["username"] for m in listed["results"]] == ["ann", "bob"]
    by_teamset = app.get(URL, {"teamset_id": "zeta", "course_id": KEY}, headers=bob).json
    assert by_teamset["count"] == 2
    mine = app.get(URL, {"username": "bob"}, headers=bob).json
    assert [m["team"]["team_id"] for m in mine["results"]] == [team["id"]]
    one = app.get(f"{URL}{team['id']},bob", headers=bob).json
    assert one == joined
    # bob may not remove ann; he may leave
    app.delete(f"{URL}{team['id']},ann", headers=bob, status=404)
    app.delete(f"{URL}{team['id']},bob", headers=bob, status=204)
    db.refresh(row)
    assert row.team_size == 1
    assert db.scalar(select(func.count(CourseTeamMembership.id))) == 1
    # staff remove anyone
    app.delete(f"{URL}{team['id']},ann", headers=session(app, "teacher"), status=204)
    assert db.scalar(select(func.count(CourseTeamMembership.id))) == 0


def test_join_rules(app, db, world):
    team = create(app, session(app, "ann")).json
    bob = session(app, "bob")
    # a learner joins for themself only
    join(app, bob, "ann", team["id"], status=404)
    join(app, bob, "bob", "no-such-team", status=404)
    assert app.post(URL, json.dumps({}), content_type="application/json", headers=bob,
                    status=400).json == {"field_errors": {
        "username": {"developer_message": "Username is required.",
                     "user_message": "Username is required."},
        "team_id": {"developer_message": "Team id is required.",
                    "user_message": "Team id is required."}}}
    join(app, bob, "bob", team["id"])
    other = create(app, session(app, "teacher"), name="Second").json
    assert join(app, session(app, "bob"), "bob", other["id"], status=400).json[
        "developer_message"] == "The user bob is already a member of a team in this teamset."
    # staff add others, but not the unenrolled nor into a full team (course default size 4)
    teacher = session(app, "teacher")
    assert join(app, teacher, "out", other["id"], status=400).json["developer_message"] == (
        "The user out is not enrolled in the course associated with this team.")
    assert join(app, teacher, "nobody", other["id"], status=404).body == b""
    managed = create(app, teacher, topic_id="alpha", name="Managed").json
    assert join(app, session(app, "bob"), "bob", managed["id"], status=403).json == {
        "developer_message": "You can't join an instructor managed team.",
        "user_message": "You can't join an instructor managed team."}
    # master's track learners and others are kept apart
    assert join(app, session(app, "teacher"), "meg", team["id"], status=400).json[
        "developer_message"].startswith("The user meg may not join a team of another track")
    anonymous(app).post(URL, json.dumps({"username": "bob", "team_id": team["id"]}),
                        content_type="application/json", status=401)


def test_list_errors(app, db, world):
    team = create(app, session(app, "ann")).json
    headers = session(app, "ann")

    def message(query, status=400):
        return app.get(URL, query, headers=headers, status=status).json["developer_message"]

    assert message({}) == "username or (team_id or teamset_id) must be specified."
    assert message({"team_id": team["id"], "teamset_id": "zeta"}) == \
        "teamset_id and team_id are mutually exclusive options."
    assert message({"teamset_id": "zeta"}) == \
        "teamset_id requires course_id to also be provided."
    assert message({"teamset_id": "secret", "course_id": KEY}, 404) == \
        "No teamset found in given course with given id"
    app.get(URL, {"course_id": "bad", "username": "ann"}, headers=headers, status=404)
    app.get(URL, {"team_id": "no-such-team"}, headers=headers, status=404)
    # out is not enrolled: no access to the team (404), nor to the course's memberships
    out = session(app, "out")
    app.get(URL, {"team_id": team["id"]}, headers=out, status=404)
    app.get(URL, {"username": "ann", "course_id": KEY}, headers=out, status=400)
    assert app.get(URL, {"username": "ann"}, headers=out).json["results"] == []
    anonymous(app).get(URL, {"username": "ann"}, status=401)


@pytest.mark.commits  # served from other threads
def test_parallel_joins_never_overfill_a_team(app, db, engine, world):
    if engine.dialect.name != "postgresql":
        pytest.skip("parallel writers need PostgreSQL (set LMS_TEST_DATABASE_URL)")
    from datetime import timedelta
    import secrets

    from lms import auth
    from lms.models import OAuthAccessToken
    from lms.oauth import create_application
    from lms.testing import create_user, serve_in_thread
    from lms.timeutil import utcnow

    team = CourseTeam(team_id="race-team", discussion_topic_id="race", name="Race",
                      course_key=KEY, topic_id="zeta", description="d")
    db.add(team)
    racers = [create_user(db, f"racer{n}") for n in range(10)]
    application, _ = create_application(db, name="teams-race", user=racers[0],
                                        grant_type="password")
    tokens = {}
    for racer in racers:
        enrollment_api.enroll(db, racer.id, KEY)
        token = secrets.token_urlsafe(30)
        db.add(OAuthAccessToken(token_hash=auth.token_digest(token),
                                application_id=application.id, user_id=racer.id,
                                scopes=["read", "write"],
                                expires=utcnow() + timedelta(hours=1)))
        tokens[racer.username] = token
    db.commit()
    start = threading.Barrier(len(racers))
    statuses = {}
    with serve_in_thread(app.app, threads=12) as url:
        def send(username):
            start.wait(timeout=30)
            response = requests.post(url + URL, json={"username": username,
                                                      "team_id": "race-team"},
                                     headers={"Authorization": f"Bearer {tokens[username]}"},
                                     timeout=60)
            statuses[username] = response.status_code

        threads = [threading.Thread(target=send, args=(r.username,)) for r in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sorted(statuses.values()) == [200] * 4 + [400] * 6, statuses
    db.rollback()
    assert db.scalar(select(func.count(CourseTeamMembership.id)).where(
        CourseTeamMembership.team_id == team.id)) == CONFIGURATION["max_team_size"]
