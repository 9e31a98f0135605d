"""Bookmarks (``/api/bookmarks/v1/bookmarks/``) as the learning MFE calls them (session)
and the mobile apps (Bearer)."""
import json

import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user
from plugins.bookmarks.models import Bookmark
from plugins.enrollment import api as enrollment_api
from tests.plugins.courses.factories import FUTURE, PAST, Node, make_course, usage_key

KEY = "course-v1:edX+Marks+2026"
OTHER = "course-v1:edX+Other+2026"
PASSWORD = "Pa55word-long"
LIST = "/api/bookmarks/v1/bookmarks/"


def tree(renamed=False):
    return Node("course", "course", display_name="Marks", children=[
        Node("chapter", "week1", display_name="Week 1", start=PAST, children=[
            Node("sequential", "lesson1", display_name="Lesson One" if renamed else "Lesson 1",
                 children=[
                     Node("vertical", "unit1", display_name="Unit 1", children=[
                         Node("html", "intro", data={"html": "<p>hi</p>"})]),
                     Node("vertical", "hidden", display_name="Staff notes",
                          visible_to_staff_only=True),
                 ]),
        ]),
        Node("chapter", "week2", display_name="Week 2", start=FUTURE, children=[
            Node("sequential", "lesson2", display_name="Lesson 2", children=[
                Node("vertical", "unit2", display_name="Unit 2")])]),
    ])


def moved_tree():
    """A re-import: unit1 now sits in week 2's lesson, released."""
    return Node("course", "course", display_name="Marks", children=[
        Node("chapter", "week1", display_name="Week 1", start=PAST, children=[
            Node("sequential", "lesson1", display_name="Lesson 1")]),
        Node("chapter", "week2", display_name="Week Two", start=PAST, children=[
            Node("sequential", "lesson2", display_name="Lesson 2", children=[
                Node("vertical", "unit1", display_name="Unit 1 (moved)", children=[
                    Node("html", "intro", data={"html": "<p>hi</p>"})])])]),
    ])


def unit(block_id, block_type="vertical", course=KEY):
    return usage_key(course, block_type, block_id)


@pytest.fixture
def people(app, db):
    make_course(db, tree(), course_key=KEY)
    make_course(db, tree(), course_key=OTHER)
    found = {name: create_user(db, name, password=PASSWORD) for name in ("ann", "bob")}
    found["root"] = create_user(db, "root", password=PASSWORD, is_staff=True)
    found["teacher"] = create_user(db, "teacher", password=PASSWORD)
    grant_role(db, found["teacher"], "staff", parse_course_key(KEY))
    for name in ("ann", "bob"):
        enrollment_api.enroll(db, found[name].id, KEY)
        enrollment_api.enroll(db, found[name].id, OTHER)
    db.commit()
    return found




def session(app, username):
    app.reset()
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    app.post("/api/user/v1/account/login_session/",
             {"email": f"{username}@example.com", "password": PASSWORD},
             headers={"X-CSRFToken": token})
    return {"X-CSRFToken": app.get("/csrf/api/v1/token").json["csrfToken"]}


def create(app, headers, usage_id, status=201):
    return app.post(LIST, json.dumps({"usage_id": usage_id}), content_type="application/json",
                    headers=headers, status=status)


def test_create_list_and_paths(app, db, people):
    headers = session(app, "ann")
    made = create(app, headers, unit("unit1")).json
    assert made == {"id": f"ann,{unit('unit1')}", "course_id": KEY, "usage_id": unit("unit1"),
                    "block_type": "vertical", "created": made["created"],
                    "display_name": "Unit 1",
                    "path": [{"usage_key": unit("week1", "chapter"), "display_name": "Week 1"},
                             {"usage_key": unit("lesson1", "sequential"),
                              "display_name": "Lesson 1"}]}
    # a duplicate answers the existing bookmark
    assert create(app, headers, unit("unit1")).json["created"] == made["created"]
    html = create(app, headers, unit("intro", "html")).json
    assert html["display_name"] == "Text"  # the html block's default name
    listed = app.get(LIST, {"course_id": KEY}, headers=headers).json
    assert [b["usage_id"] for b in listed["results"]] == [unit("intro", "html"), unit("unit1")]
    assert "display_name" not in listed["results"][0]
    with_fields = app.get(LIST, {"course_id": KEY, "fields": "display_name,path,nope"},
                          headers=headers).json
    assert with_fields["results"][1]["path"][1]["display_name"] == "Lesson 1"
    assert app.get(LIST, {"course_id": "not a key"}, headers=headers).json["results"] == []
    assert db.scalar(select(Bookmark.user_id).where(Bookmark.usage_key == unit("unit1"))) == \
        people["ann"].id


def test_paths_follow_a_reimport(app, db, people):
    headers = session(app, "ann")
    create(app, headers, unit("unit1"))
    make_course(db, moved_tree(), course_key=KEY)
    moved = app.get(LIST, {"fields": "display_name,path", "course_id": KEY},
                    headers=headers).json["results"][0]
    assert moved["display_name"] == "Unit 1 (moved)"
    assert moved["path"] == [
        {"usage_key": unit("week2", "chapter"), "display_name": "Week Two"},
        {"usage_key": unit("lesson2", "sequential"), "display_name": "Lesson 2"}]


def test_create_refusals(app, db, people):
    headers = session(app, "ann")

    def refused(body, developer, user=None, status=400):
        response = app.post(LIST, json.dumps(body), content_type="application/json",
                            headers=headers, status=status)
        assert response.json == {"developer_message": developer,
                                 "user_message": user or
                                 "An error has occurred. Please try again."}

    refused({}, "No data provided.")
    refused({"other": 1}, "Parameter usage_id not provided.")
    refused({"usage_id": "nope"}, "Invalid usage_id: nope.")
    for hidden in (unit("hidden"), unit("unit2"), unit("missing"),
                   unit("unit1", course="course-v1:edX+Nowhere+2026")):
        refused({"usage_id": hidden}, f"Block with usage_id: {hidden} not found.")
    # staff see the staff-only unit
    assert create(app, session(app, "teacher"), unit("hidden")).json["display_name"] == \
        "Staff notes"
    assert db.scalar(select(Bookmark.id).where(Bookmark.user_id == people["ann"].id)) is None


def test_per_course_maximum_is_checked_before_duplicates(app_factory, db, people):
    app = app_factory(**{"bookmarks.max_per_course": "2"})
    headers = session(app, "ann")
    create(app, headers, unit("unit1"))
    create(app, headers, unit("intro", "html"))
    message = ("You can create up to 2 bookmarks. You must remove some bookmarks before you "
               "can add new ones.")
    for again in (unit("lesson1", "sequential"), unit("unit1")):
        assert create(app, headers, again, status=400).json == {
            "developer_message": message, "user_message": message}
    # another course has its own budget
    create(app, headers, unit("unit1", course=OTHER))


def test_detail_and_delete(app, db, people):
    headers = session(app, "ann")
    create(app, headers, unit("unit1"))
    url = f"{LIST}ann,{unit('unit1')}/"
    got = app.get(url, {"fields": "path"}, headers=headers).json
    assert got["id"] == f"ann,{unit('unit1')}" and len(got["path"]) == 2
    assert "display_name" not in got
    app.get(url[:-1], headers=headers, status=404)  # the slash is required
    missing = app.get(f"{LIST}ann,{unit('unit2')}/", headers=headers, status=404).json
    message = f"Bookmark with usage_id: {unit('unit2')} does not exist."
    assert missing == {"developer_message": message, "user_message": message}
    bad = app.get(f"{LIST}ann,nope/", headers=headers, status=404).json
    assert bad == {"developer_message": "Invalid usage_id: nope.",
                   "user_message": "Invalid usage_id: nope."}
    assert app.get(url, headers=session(app, "bob"), status=404).json == {
        "detail": "Not found."}
    assert app.get(url, headers=session(app, "root"), status=403).json == {
        "detail": "You do not have permission to perform this action."}
    headers = session(app, "ann")
    app.delete(url, headers=headers, status=204)
    assert db.scalar(select(Bookmark.id)) is None


def test_authentication(app, db, people):
    app.reset()
    assert app.get(LIST, status=401).json == {
        "detail": "Authentication credentials were not provided."}
    from lms.testing import jwt_headers

    # no JWT upstream: the token is no credential here
    app.get(LIST, headers=jwt_headers(app, people["ann"]), status=401)


def test_list_statements_do_not_grow_with_the_page(app, db, people, query_counter):
    for block_id in ("unit1", "intro", "lesson1", "week1", "hidden"):
        block_type = {"unit1": "vertical", "intro": "html", "lesson1": "sequential",
                      "week1": "chapter", "hidden": "vertical"}[block_id]
        db.add(Bookmark(user_id=people["ann"].id, course_key=KEY,
                        usage_key=unit(block_id, block_type)))
    db.commit()
    headers = session(app, "ann")
    app.get(LIST, {"course_id": KEY, "fields": "display_name,path"}, headers=headers)  # warm
    counts = []
    for size in ("1", "5"):
        with query_counter() as queries:
            body = app.get(LIST, {"course_id": KEY, "fields": "display_name,path",
                                  "page_size": size}, headers=headers).json
        assert len(body["results"]) == int(size)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    hidden = [b for b in body["results"] if b["usage_id"] == unit("hidden")][0]
    assert hidden["display_name"] == "" and hidden["path"] == []


def test_mobile_bearer_token(app, db, people):
    from datetime import timedelta

    from lms.models import OAuthAccessToken, OAuthApplication
    from lms.oauth import token_digest
    from lms.timeutil import utcnow

    application = OAuthApplication(name="mobile", client_id="mobile-client",
                                   grant_type="password", user_id=people["ann"].id)
    db.add(application)
    db.flush()
    db.add(OAuthAccessToken(token_hash=token_digest("mobile-token"),
                            application_id=application.id, user_id=people["ann"].id,
                            scopes=["read"], expires=utcnow() + timedelta(hours=1)))
    db.commit()
    app.reset()
    headers = {"Authorization": "Bearer mobile-token"}
    made = create(app, headers, unit("unit1")).json
    assert made["id"] == f"ann,{unit('unit1')}"
    assert app.get(LIST, headers=headers).json["count"] == 1
