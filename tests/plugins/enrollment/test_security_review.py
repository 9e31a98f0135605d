"""Security review of the enrollment views: privilege never follows from a flag an
inactive account still carries."""
from sqlalchemy import update

from lms.keys import parse_course_key
from lms.models import User
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api
from tests.plugins.enrollment.test_enrollment_views import COURSE, make_course


def test_inactive_staff_may_not_read_another_users_enrollment(app, db):
    make_course(db)
    alice = create_user(db, "alice")
    former = create_user(db, "former_staff", is_staff=True)
    api.enroll(db, alice.id, parse_course_key(COURSE), mode="audit")
    db.commit()
    headers = jwt_headers(app, former)
    db.execute(update(User).where(User.id == former.id).values(is_active=False))
    db.commit()
    # JWTs of inactive users authenticate (as upstream), but an inactive account is not
    # global staff (permissions.is_staff): another user's enrollment stays hidden.
    answer = app.get(f"/api/enrollment/v1/enrollment/alice,{COURSE}", headers=headers,
                     status=404)
    assert answer.body == b""
