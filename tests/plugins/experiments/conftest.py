"""Fixtures of the experiments tests: users, rows, and an app with a course catalog."""
import pytest

from lms.testing import create_user, jwt_headers
from plugins.experiments.models import ExperimentData, ExperimentKeyValue
from tests.plugins.experiments import catalog as catalog_plugin

NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}


@pytest.fixture
def alice(db):
    return create_user(db, "alice", password=None)


@pytest.fixture
def bob(db):
    return create_user(db, "bob", password=None)


@pytest.fixture
def staff(db):
    return create_user(db, "staffer", password=None, is_staff=True)


@pytest.fixture
def headers(app):
    """``headers(user)``: the Authorization header of a JWT for ``user``."""
    return lambda user: jwt_headers(app, user)


def add_data(db, user, experiment_id=1, key="color", value="blue"):
    row = ExperimentData(user_id=user.id, experiment_id=experiment_id, key=key, value=value)
    db.add(row)
    db.commit()
    return row


def add_key_value(db, experiment_id=1, key="banner", value="on"):
    row = ExperimentKeyValue(experiment_id=experiment_id, key=key, value=value)
    db.add(row)
    db.commit()
    return row


@pytest.fixture
def catalog(add_plugins):
    """The test-only course/enrollment plugin, installed and empty."""
    add_plugins("tests.plugins.experiments.catalog")
    catalog_plugin.COURSES.clear()
    catalog_plugin.ENROLLMENTS.clear()
    yield catalog_plugin
    catalog_plugin.COURSES.clear()
    catalog_plugin.ENROLLMENTS.clear()
