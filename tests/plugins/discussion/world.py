"""The discussion tests' course and people, and calling the API as they do.

A course with two course-wide topics, two chapters of inline discussions (one
released, one in the future), a discussion tab; learners ann and bob (enrolled),
out (not enrolled), a Community TA, a Moderator, a Group Moderator, course staff
(teacher) and global staff (root). Every caller uses a JWT, as the MFE does.
"""
import json
from datetime import datetime, timedelta, timezone

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from plugins.discussion import roles
from plugins.enrollment import api as enrollment_api
from tests.plugins.courses.factories import FUTURE, PAST, Node, make_course

KEY = "course-v1:edX+Forum+2026"
PASSWORD = "Pa55word-long"
MERGE_PATCH = "application/merge-patch+json"
TOPICS = {"General": {"id": "course"}, "Announcements": {"id": "announcements",
                                                         "sort_key": "a"}}
TABS = [{"type": "courseware", "name": "Course"},
        {"type": "discussion", "name": "Discussion"}]


def tree():
    return Node("course", "course", display_name="Forum Course", children=[
        Node("chapter", "week1", display_name="Week 1", start=PAST, children=[
            Node("sequential", "lesson1", display_name="Lesson 1", children=[
                Node("vertical", "unit1", display_name="Unit 1", children=[
                    Node("discussion", "intro", display_name="Introductions",
                         discussion_id="topic-intro", discussion_category="Week 1",
                         discussion_target="Introductions"),
                    Node("discussion", "questions", display_name="Questions",
                         discussion_id="topic-questions", discussion_category="Week 1",
                         discussion_target="Questions"),
                ]),
            ]),
        ]),
        Node("chapter", "week2", display_name="Week 2", start=FUTURE, children=[
            Node("sequential", "lesson2", display_name="Lesson 2", children=[
                Node("vertical", "unit2", display_name="Unit 2", children=[
                    Node("discussion", "later", display_name="Later",
                         discussion_id="topic-later", discussion_category="Week 2",
                         discussion_target="Later"),
                ]),
            ]),
        ]),
    ])


def make_world(db, *, settings=None, key=KEY):
    """The course and its people (committed); returns ``{name: User}``."""
    policy = {"discussion_topics": TOPICS, "tabs": TABS, **(settings or {})}
    make_course(db, tree(), course_key=key, settings=policy)
    people = {name: create_user(db, name, password=PASSWORD)
              for name in ("ann", "bob", "out", "teacher", "ta", "mod", "gmod")}
    people["root"] = create_user(db, "root", password=PASSWORD, is_staff=True)
    for name in ("ann", "bob", "ta", "mod", "gmod"):
        enrollment_api.enroll(db, people[name].id, key)
    grant_role(db, people["teacher"], "staff", parse_course_key(key))
    roles.grant(db, people["ta"].id, key, roles.COMMUNITY_TA)
    roles.grant(db, people["mod"].id, key, roles.MODERATOR)
    roles.grant(db, people["gmod"].id, key, roles.GROUP_MODERATOR)
    db.commit()
    return people


def auth(app, user):
    return jwt_headers(app, user)


def post_json(app, path, body, user, status=200):
    return app.post(path, json.dumps(body), content_type="application/json",
                    headers=auth(app, user), status=status)


def patch(app, path, body, user, status=200, content_type=MERGE_PATCH):
    return app.patch(path, json.dumps(body), content_type=content_type,
                     headers=auth(app, user), status=status)


def get(app, path, user, params=None, status=200):
    headers = auth(app, user) if user is not None else {}
    return app.get(path, params or {}, headers=headers, status=status)


def later(days=1):
    return datetime.now(timezone.utc) + timedelta(days=days)
