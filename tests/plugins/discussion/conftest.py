import pytest

from tests.plugins.discussion.world import make_world


@pytest.fixture
def world(app, db):
    return make_world(db)
