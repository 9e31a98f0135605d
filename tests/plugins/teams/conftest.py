"""The teams tests' world: a course with teamsets, learners (one in the master's track),
course staff and global staff."""
import pytest

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user
from plugins.enrollment import api as enrollment_api
from tests.plugins.courses.factories import Node, make_course
from tests.plugins.teams.test_teams_api import CONFIGURATION, KEY, PASSWORD


@pytest.fixture
def world(app, db):
    make_course(db, Node("course", "course", children=[]), course_key=KEY,
                settings={"teams_configuration": CONFIGURATION})
    people = {name: create_user(db, name, password=PASSWORD)
              for name in ("ann", "bob", "meg", "out", "teacher")}
    people["root"] = create_user(db, "root", password=PASSWORD, is_staff=True)
    for name in ("ann", "bob"):
        enrollment_api.enroll(db, people[name].id, KEY)
    enrollment_api.enroll(db, people["meg"].id, KEY, mode="masters")
    grant_role(db, people["teacher"], "staff", parse_course_key(KEY))
    db.commit()
    return people
