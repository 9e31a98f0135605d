"""Fixtures of the mobile plugin's tests: a mobile-available demo course, learners."""
import pytest

from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment
from tests.plugins.courses.factories import DEMO_KEY, make_course

VERSIONS = ("v0.5", "v1", "v2", "v3", "v4")


@pytest.fixture
def course(db):
    return make_course(db, mobile_available=True, handouts_html=(
        '<p>See <a href="/static/syllabus.pdf">the syllabus</a></p>'))


@pytest.fixture
def alice(db):
    return create_user(db, "alice", name="Alice Liddell")


@pytest.fixture
def bob(db):
    return create_user(db, "bob")


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", is_staff=True)


@pytest.fixture
def enrolled(db, alice, course):
    enrollment.enroll(db, alice.id, DEMO_KEY)
    db.commit()
    return alice


@pytest.fixture
def as_alice(app, alice):
    return jwt_headers(app, alice)
