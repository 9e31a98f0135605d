"""Fixtures shared by the core's tests."""
import pytest

from lms.oauth import create_application
from lms.testing import create_user


@pytest.fixture
def mobile_client(db):
    """A public password-grant application (as the mobile apps use), owned by staff."""
    owner = create_user(db, "svc", password=None, is_staff=True)
    application, _ = create_application(db, name="mobile", user=owner, grant_type="password",
                                        public=True)
    db.commit()
    return application
