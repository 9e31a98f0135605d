"""``bulk_team_membership/{course_id}``: the membership CSV out and back in, atomically,
with upstream's per-row errors."""
from sqlalchemy import func, select

from lms.testing import create_user
from plugins.enrollment import api as enrollment_api
from plugins.teams.models import CourseTeam, CourseTeamMembership
from tests.plugins.teams.test_teams_api import KEY, anonymous, create, session

URL = f"/api/team/v0/bulk_team_membership/{KEY}"
HEADER = "username,external_user_id,mode,alpha,secret,zeta"


def upload(app, headers, text, status=201, encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return app.post(URL, upload_files=[("csv", "teams.csv", data)], headers=headers,
                    status=status)


def teams_of(db):
    rows = db.execute(select(CourseTeam.topic_id, CourseTeam.name, func.count(
        CourseTeamMembership.id)).join(CourseTeamMembership,
                                       CourseTeamMembership.team_id == CourseTeam.id,
                                       isouter=True)
        .group_by(CourseTeam.topic_id, CourseTeam.name).order_by(CourseTeam.name)).all()
    return [tuple(row) for row in rows]


def test_export_lists_every_learner_and_their_teams(app, db, world):
    create(app, session(app, "ann"), name="=HYPERLINK()")
    response = app.get(URL, headers=session(app, "teacher"))
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="team-membership_edX_Teams_2026.csv"'
    # teamsets sorted; a formula-looking team name is written inert
    assert response.text.splitlines() == [
        HEADER, "ann,,audit,,,'=HYPERLINK()", "bob,,audit,,,", "meg,,masters,,,"]


def test_import_moves_creates_and_leaves_atomically(app, db, world):
    create(app, session(app, "ann"), name="Old")
    headers = session(app, "teacher")
    text = "\ufeff" + "\r\n".join([
        HEADER,
        "ann,,audit,Managed A,,New zeta",   # moves from Old to a new team, joins alpha
        "bob,,audit,Managed A,,",            # joins alpha's new team
        ",,,,,",                             # blank username: skipped
        "meg,,masters,,,'=Masters",          # a team whose name starts like a formula
    ])
    assert upload(app, headers, text).json == {"message": "3 learners were affected."}
    assert teams_of(db) == [("zeta", "=Masters", 1), ("alpha", "Managed A", 2),
                            ("zeta", "New zeta", 1), ("zeta", "Old", 0)]
    created = db.scalar(select(CourseTeam).where(CourseTeam.name == "=Masters"))
    assert (created.description, created.organization_protected, created.team_size) == (
        "Import from csv", True, 1)
    # exporting gives the same file back (the import's round trip)
    exported = app.get(URL, headers=session(app, "teacher")).text.splitlines()
    assert exported[1:] == ["ann,,audit,Managed A,,New zeta", "bob,,audit,Managed A,,",
                            "meg,,masters,,,'=Masters"]


def errors(app, text, **kw):
    return upload(app, session(app, "teacher"), text, status=400, **kw).json["errors"]


def test_file_errors_change_nothing(app, db, world):
    create_user(db, "stranger")
    db.commit()
    create(app, session(app, "ann"), name="Kept")
    before = teams_of(db)
    assert errors(app, "user,mode\r\nann,audit") == ["Header must contain column 'username'."]
    assert errors(app, "username,external_user_id,mode,zeta,zeta\r\n") == [
        "Teamset with id zeta is duplicated."]
    assert errors(app, "username,external_user_id,mode,nope\r\n") == [
        "Teamset with id nope does not exist."]
    assert errors(app, "username,external_user_id,mode,zeta\r\nann,,audit,A,B,C") == [
        "Team(s) ['B', 'C'] don't have matching teamsets."]
    assert errors(app, "username,external_user_id,mode,zeta\r\nann,,audit,A\r\nann,,audit,B") \
        == ["Username ann listed more than once in file."]
    # these three go on to the next row
    assert errors(app, "username,external_user_id,mode,zeta\r\nghost,,audit,A\r\n"
                       "stranger,,audit,A\r\nbob,,verified,A") == [
        "User ghost does not exist.", "User stranger is not enrolled in this course.",
        "User bob enrollment mismatch."]
    assert errors(app, "username,external_user_id,mode,zeta\r\nann,,audit,Mix\r\n"
                       "meg,,masters,Mix") == [
        "Team Mix cannot have Master\u2019s track users mixed with users in other tracks."]
    assert errors(app, "username,external_user_id,mode,zeta\r\nmeg,,masters,Kept") == [
        "Team Kept cannot have Master\u2019s track users mixed with users in other tracks."]
    assert errors(app, b"username,external_user_id,mode,zeta\r\nann,,audit,\xe9t\xe9") == [
        "The file is not UTF-8 text."]
    assert teams_of(db) == before


def test_team_size_is_checked(app, db, world):
    for number in range(4):
        user = create_user(db, f"extra{number}")
        enrollment_api.enroll(db, user.id, KEY)
    db.commit()
    lines = ["username,external_user_id,mode,zeta"] + [
        f"{name},,audit,Big" for name in ("ann", "bob", "extra0", "extra1", "extra2")]
    # zeta is open without its own size: the course's 4
    assert errors(app, "\r\n".join(lines)) == [
        "New membership for team Big would exceed max size of 4."]


def test_a_large_file_in_one_request(app, db, world):
    lines = ["username,external_user_id,mode,zeta"] + [
        f"ghost{number},,audit,T{number % 100}" for number in range(10_000)]
    found = errors(app, "\r\n".join(lines))
    assert len(found) == 10_000 and found[0] == "User ghost0 does not exist."


def test_who_may_use_it(app, db, world):
    assert app.get(URL, headers=session(app, "ann"), status=403).json == {
        "detail": f"To manage team membership of {KEY}, you must be course staff."}
    upload(app, session(app, "ann"), HEADER, status=403)
    assert app.get("/api/team/v0/bulk_team_membership/bad", headers=session(app, "root"),
                   status=404).json == {"detail": "Invalid course key: bad"}
    assert app.get("/api/team/v0/bulk_team_membership/course-v1:edX+None+1",
                   headers=session(app, "root"), status=404).json == {
        "detail": "Course not found: course-v1:edX+None+1"}
    assert app.post(URL, headers=session(app, "root"), status=400).json == {
        "errors": ["No file uploaded with key 'csv'."]}
    anonymous(app).get(URL, status=401)
    assert app.get(URL, headers=session(app, "root")).text.startswith(HEADER)


def test_a_malformed_csv_is_refused(app, db, world):
    assert errors(app, 'username,external_user_id,mode,zeta\r\n"ann,,audit,"A\x00') == [
        "The file contains NUL characters."]
    # an unclosed quote swallows the rest of the file into one cell: no such user
    assert errors(app, 'username,external_user_id,mode,zeta\r\n"ann,,audit,A\r\nbob') == [
        "User ann,,audit,A\nbob does not exist."]
    assert teams_of(db) == []
