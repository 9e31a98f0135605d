"""The core alone (with the core's fake plugin): security regression tests of issue 7."""
import pytest

from lms.testing import create_user


@pytest.fixture
def make_app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    return lambda **settings: app_factory(**{"lms.plugins": "fake", **settings})


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def alice(db):
    return create_user(db, "alice", password="s3cret-pass")
