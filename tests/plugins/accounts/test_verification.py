"""Identity verification: ``verification_status/``, ``verifications/``,
``verifications/{attempt_id}/`` and ``lms record-verification``."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.db import make_engine
from lms.testing import create_user, jwt_headers
from lms.timeutil import isoformat, utcnow
from plugins.accounts.identity import MANUAL, PHOTO, SSO, record_verification
from plugins.accounts.models import VerificationAttempt
from tests.plugins.accounts.test_accounts import DENIED, JWT_401

STATUS_URL = "/api/user/v1/accounts/{}/verification_status/"
LIST_URL = "/api/user/v1/accounts/{}/verifications/"
ATTEMPT_URL = "/api/user/v1/accounts/verifications/{}/"
NOT_FOUND = {"detail": "Not found."}


def attempt(db, user, status, kind=MANUAL, created=None, expires=None, **fields):
    created = created or utcnow()
    row = VerificationAttempt(user_id=user.id, verification_type=kind, status=status,
                              created=created, updated=created, expiration_datetime=expires,
                              **fields)
    db.add(row)
    db.commit()
    return row


def status_of(app, user, caller=None):
    return app.get(STATUS_URL.format(user.username), headers=jwt_headers(app, caller or user),
                   status="*")


def test_no_attempts_is_404(app, db):
    alice = create_user(db, "alice")
    response = status_of(app, alice)
    assert response.status_int == 404 and response.json == NOT_FOUND
    response = app.get(LIST_URL.format("alice"), headers=jwt_headers(app, alice), status=404)
    assert response.json == NOT_FOUND


def test_approved_verification(app, db):
    alice = create_user(db, "alice")
    attempt(db, alice, "approved", expires=utcnow() + timedelta(days=200))
    assert status_of(app, alice).json == {"is_verified": True, "status": "approved",
                                          "expiration_datetime": ""}


def test_an_approval_expiring_soon_shows_its_date(app, db):
    alice = create_user(db, "alice")
    expires = utcnow() + timedelta(days=10)
    attempt(db, alice, "approved", expires=expires)
    assert status_of(app, alice).json == {"is_verified": True, "status": "approved",
                                          "expiration_datetime": expires.strftime("%m/%d/%Y")}


@pytest.mark.parametrize("status, kind, expected", [
    ("submitted", PHOTO, "pending"),
    ("must_retry", PHOTO, "pending"),
    ("denied", MANUAL, "must_reverify"),
])
def test_pending_and_denied(app, db, status, kind, expected):
    alice = create_user(db, "alice")
    attempt(db, alice, status, kind=kind)
    assert status_of(app, alice).json == {"is_verified": False, "status": expected,
                                          "expiration_datetime": ""}


def test_expired_approvals(app, db):
    alice = create_user(db, "alice")
    old = utcnow() - timedelta(days=400)
    attempt(db, alice, "approved", kind=SSO, created=old)  # hidden from learners: "none"
    assert status_of(app, alice).status_int == 404
    attempt(db, alice, "approved", kind=PHOTO, created=old + timedelta(days=1))
    assert status_of(app, alice).json == {"is_verified": False, "status": "expired",
                                          "expiration_datetime": ""}


def test_a_valid_approval_wins_over_a_later_denial(app, db):
    alice = create_user(db, "alice")
    attempt(db, alice, "approved", created=utcnow() - timedelta(days=5))
    attempt(db, alice, "denied")
    assert status_of(app, alice).json["status"] == "approved"


def test_status_permissions(app, db):
    alice = create_user(db, "alice")
    bob = create_user(db, "bob")
    staff = create_user(db, "staff", is_staff=True)
    attempt(db, alice, "submitted", kind=PHOTO)
    assert status_of(app, alice, staff).json["status"] == "pending"
    response = status_of(app, alice, bob)
    assert response.status_int == 403 and response.json == DENIED
    # ?username=<caller> does not open someone else's records
    response = app.get(STATUS_URL.format("alice") + "?username=bob",
                       headers=jwt_headers(app, bob), status=403)
    assert response.json == DENIED
    response = app.get(STATUS_URL.format("alice"), status=401)
    assert response.json == JWT_401 and response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    assert app.get(STATUS_URL.format("ghost"), headers=jwt_headers(app, staff),
                   status=404).json == NOT_FOUND
    assert app.get(LIST_URL.format("alice"), headers=jwt_headers(app, bob),
                   status=403).json == DENIED
    assert app.get(LIST_URL.format("alice"), status=401).json == JWT_401


def test_inactive_users_are_refused_on_bearer(app, db):
    from lms.oauth import create_application
    from lms.auth import token_digest
    from lms.models import OAuthAccessToken

    alice = create_user(db, "alice", is_active=False)
    application, _ = create_application(db, name="app", user=alice, grant_type="password")
    db.add(OAuthAccessToken(token_hash=token_digest("tok"), application_id=application.id,
                            user_id=alice.id, scopes=[], expires=utcnow() + timedelta(hours=1)))
    db.commit()
    response = app.get(STATUS_URL.format("alice"), headers={"Authorization": "Bearer tok"},
                       status=401)
    assert response.json["error_code"] == "user_not_active"


def test_verifications_list_newest_first(app, db):
    alice = create_user(db, "alice")
    first = attempt(db, alice, "denied", kind=PHOTO, created=utcnow() - timedelta(days=3),
                    error_msg="Photo was blurry")
    second = attempt(db, alice, "approved", kind=MANUAL, reason="Checked passport",
                     expires=utcnow() + timedelta(days=365))
    third = attempt(db, alice, "approved", kind=SSO, created=utcnow() - timedelta(days=1))
    body = app.get(LIST_URL.format("alice"), headers=jwt_headers(app, alice)).json
    assert body == [
        {"type": "Manual", "status": "approved",
         "expiration_datetime": isoformat(second.expiration_datetime),
         "message": "Checked passport", "updated_at": isoformat(second.updated),
         "receipt_id": None},
        {"type": "SSO", "status": "approved",
         "expiration_datetime": isoformat(third.created + timedelta(days=365)),
         "message": "", "updated_at": isoformat(third.updated), "receipt_id": None},
        {"type": "Software Secure", "status": "denied",
         "expiration_datetime": isoformat(first.created + timedelta(days=365)),
         "message": "Photo was blurry", "updated_at": isoformat(first.updated),
         "receipt_id": None},
    ]


def test_attempt_detail_is_staff_only(app, db):
    alice = create_user(db, "alice")
    staff = create_user(db, "staff", is_staff=True)
    row = attempt(db, alice, "approved", kind=SSO)
    body = app.get(ATTEMPT_URL.format(row.id), headers=jwt_headers(app, staff)).json
    assert body["type"] == "SSO" and body["status"] == "approved"
    assert app.get(ATTEMPT_URL.format(row.id), headers=jwt_headers(app, alice),
                   status=403).json == DENIED
    assert app.get(ATTEMPT_URL.format(row.id), status=401).json == JWT_401
    for missing in (row.id + 1, 99999999999):
        assert app.get(ATTEMPT_URL.format(missing), headers=jwt_headers(app, staff),
                       status=404).json == NOT_FOUND
    app.get(ATTEMPT_URL.format("abc"), headers=jwt_headers(app, staff), status=404)


def test_record_verification_helper(app, db):
    alice = create_user(db, "alice", name="Alice A")
    row = record_verification(db, app.registry.settings, alice, "approved")
    db.commit()
    assert row.verification_type == MANUAL and row.name == "Alice A"
    assert (row.expiration_datetime - utcnow()).days in (364, 365)
    with pytest.raises(ValueError):
        record_verification(db, app.registry.settings, alice, "bogus")


# -- lms record-verification ---------------------------------------------------------------

def test_record_verification_command(run_cli, cli_database_url):
    assert run_cli("migrate").exit_code == 0
    result = run_cli("create-user", "alice", "alice@example.com", "--password", "pw-12345678")
    assert result.exit_code == 0, result.output
    result = run_cli("record-verification", "alice", "--status", "approved", "--name",
                     "Alice L", "--expires", "2030-01-02")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("recorded manual verification ")
    assert "for 'alice': approved, expires 2030-01-02T00:00:00Z" in result.output
    result = run_cli("record-verification", "alice", "--status", "denied", "--type", "sso",
                     "--reason", "mismatch")
    assert result.exit_code == 0, result.output
    engine = make_engine({"sqlalchemy.url": cli_database_url})
    with engine.connect() as conn:
        rows = conn.execute(select(VerificationAttempt.verification_type,
                                   VerificationAttempt.status, VerificationAttempt.name,
                                   VerificationAttempt.reason)
                            .order_by(VerificationAttempt.id)).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(MANUAL, "approved", "Alice L", ""),
                                            (SSO, "denied", "", "mismatch")]
    result = run_cli("record-verification", "ghost", "--status", "approved")
    assert result.exit_code == 1 and "no user named 'ghost'" in result.output
    result = run_cli("record-verification", "alice", "--status", "maybe")
    assert result.exit_code == 2
    result = run_cli("record-verification", "alice", "--status", "approved", "--expires", "soon")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
