"""Security review of the mobile API: restricted-application JWTs are not accepted,
and another learner's data stays hidden (404, no account details in the body)."""
from lms.testing import jwt_headers


def test_restricted_jwt_is_refused(app, alice):
    headers = jwt_headers(app, alice, is_restricted=True, filters=["content_org:edX"])
    answer = app.get("/api/mobile/v1/users/alice", headers=headers, status=403)
    assert b"alice@" not in answer.body


def test_other_learners_enrollments_are_hidden(app, alice, bob):
    answer = app.get("/api/mobile/v1/users/bob/course_enrollments/",
                     headers=jwt_headers(app, alice), status=404)
    assert b"bob" not in answer.body
