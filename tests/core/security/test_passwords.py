"""Every password path shares one lockout and one throttle, discloses nothing about an
account before its password is verified, and costs the same whatever the account
(issue 7, defects 3, 4 and 5)."""
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from lms import passwords
from lms.lockout import LockoutPolicy
from lms.models import LoginFailure, LoginSession, OAuthAccessToken, OAuthRefreshToken, ThrottleHit
from lms.testing import create_user
from lms.timeutil import utcnow

V1 = "/api/user/v1/account/login_session/"
V2 = "/api/user/v2/account/login_session/"
TOKEN_URL = "/oauth2/access_token"
# Upstream answers (user_authn login and oauthlib's InvalidGrantError).
INVALID_GRANT = {"error": "invalid_grant", "error_description": "Invalid credentials given."}
RATE_LIMITED = "Too many failed login attempts. Try again later."
LOCKED_OUT_CODE = "account-locked-out"


def session_login(app, url=V1, status=400, **form):
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    return app.post(url, form, headers={"X-CSRFToken": token}, status=status)


def grant(app, client, username, password, status=400):
    return app.post(TOKEN_URL, {"grant_type": "password", "client_id": client.client_id,
                                "username": username, "password": password}, status=status)


def failure_count(db, user):
    db.expire_all()
    row = db.scalar(select(LoginFailure).where(LoginFailure.user_id == user.id))
    return None if row is None else row.failure_count


def token_rows(db):
    db.expire_all()
    return (db.scalar(select(func.count()).select_from(OAuthAccessToken))
            + db.scalar(select(func.count()).select_from(OAuthRefreshToken)))


def session_rows(db):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(LoginSession))


# -- defect 3: one lockout for every password path -----------------------------------------

def test_password_grant_refuses_an_account_locked_by_session_logins(app, db, alice,
                                                                     mobile_client):
    for attempt in range(6):
        session_login(app, email="alice@example.com", password=f"bad{attempt}")
    assert failure_count(db, alice) == 6
    # The right password: no token, upstream's invalid_grant answer, nothing counted.
    response = grant(app, mobile_client, "alice", "s3cret-pass")
    assert response.json == INVALID_GRANT
    assert token_rows(db) == 0 and failure_count(db, alice) == 6
    assert grant(app, mobile_client, "alice@example.com", "s3cret-pass").json == INVALID_GRANT
    assert token_rows(db) == 0


def test_password_grant_failures_lock_session_login(app, db, alice, mobile_client):
    for attempt in range(6):
        assert grant(app, mobile_client, "alice", f"bad{attempt}").json == INVALID_GRANT
    assert failure_count(db, alice) == 6
    body = session_login(app, email="alice@example.com", password="s3cret-pass").json
    assert body["error_code"] == LOCKED_OUT_CODE
    assert session_rows(db) == 0


def test_failures_of_both_paths_add_up(app, db, alice, mobile_client):
    for attempt in range(3):
        session_login(app, V2, email_or_username="alice", password=f"bad{attempt}")
        grant(app, mobile_client, "alice@example.com", f"worse{attempt}")
    assert failure_count(db, alice) == 6
    assert grant(app, mobile_client, "alice", "s3cret-pass").json == INVALID_GRANT
    assert token_rows(db) == 0
    # Once the period is over, the grant works again and clears the counter.
    db.execute(LoginFailure.__table__.update().values(
        lockout_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    body = grant(app, mobile_client, "alice", "s3cret-pass", status=200).json
    assert body["token_type"] == "Bearer" and token_rows(db) == 2
    assert failure_count(db, alice) is None


def test_password_grant_success_clears_the_counter(app, db, alice, mobile_client):
    session_login(app, email="alice@example.com", password="bad")
    grant(app, mobile_client, "alice", "bad")
    assert failure_count(db, alice) == 2
    grant(app, mobile_client, "alice", "s3cret-pass", status=200)
    assert failure_count(db, alice) is None


def test_password_grant_lockout_off_when_max_is_zero(make_app, db, alice, mobile_client):
    app = make_app(**{"login.max_failed_attempts": "0"})
    for _ in range(7):
        grant(app, mobile_client, "alice", "bad")
    assert failure_count(db, alice) is None
    grant(app, mobile_client, "alice", "s3cret-pass", status=200)


@pytest.mark.commits  # throttle hits commit apart from the request
def test_one_throttle_for_every_password_path(make_app, db, alice, mobile_client):
    app = make_app(**{"throttle.enabled": "true", "throttle.login_rate": "2/m"})
    grant(app, mobile_client, "alice", "bad")
    grant(app, mobile_client, "ALICE", "bad")  # the identifier is case folded
    # The session login of the same identifier, right password, is now over the limit.
    body = session_login(app, V2, email_or_username="alice", password="s3cret-pass").json
    assert body == {"success": False, "value": RATE_LIMITED, "email": "alice"}
    assert session_rows(db) == 0
    db.expire_all()
    per_ip = db.scalar(select(ThrottleHit.count).where(ThrottleHit.scope == "login_ip"))
    assert per_ip == 3


def test_session_attempts_throttle_the_password_grant(make_app, db, alice, mobile_client):
    app = make_app(**{"throttle.enabled": "true", "throttle.login_rate": "2/m"})
    for number in range(2):
        token = app.get("/csrf/api/v1/token").json["csrfToken"]
        app.post(V1, {"email": "alice@example.com", "password": "bad"},
                 headers={"X-CSRFToken": token},
                 extra_environ={"REMOTE_ADDR": f"10.0.0.{number}"}, status=400)
    # Another IP, the right password: the per-identifier count refuses the grant.
    response = app.post(TOKEN_URL, {"grant_type": "password", "client_id": mobile_client.client_id,
                                    "username": "alice@example.com", "password": "s3cret-pass"},
                        extra_environ={"REMOTE_ADDR": "10.0.0.9"}, status=400)
    assert response.json == INVALID_GRANT
    assert token_rows(db) == 0


def test_lockout_policy_is_shared_core_api(app, db, alice):
    """What plugins asking for a password (account deletion) use: lms.lockout."""
    from lms import session

    assert session.LockoutPolicy is LockoutPolicy


# -- defect 4: nothing about an account before its password is verified ----------------------

def test_v2_rate_limited_answer_does_not_reveal_the_email(make_app, db, alice):
    app = make_app(**{"throttle.enabled": "true", "throttle.login_rate": "2/m"})
    for _ in range(2):
        session_login(app, V2, email_or_username="alice", password="bad")
    response = session_login(app, V2, email_or_username="alice", password="bad")
    assert response.json == {"success": False, "value": RATE_LIMITED, "email": "alice"}
    assert "alice@example.com" not in response.text
    # Even with the right password: throttled before the password is verified.
    response = session_login(app, V2, email_or_username="alice", password="s3cret-pass")
    assert response.json == {"success": False, "value": RATE_LIMITED, "email": "alice"}


@pytest.mark.parametrize("password", ["bad", "s3cret-pass"])
def test_v2_locked_and_wrong_answers_do_not_reveal_the_email(app, db, alice, password):
    first = session_login(app, V2, email_or_username="alice", password="bad")
    assert first.json["email"] == "alice"
    for _ in range(5):
        session_login(app, V2, email_or_username="alice", password="bad")
    response = session_login(app, V2, email_or_username="alice", password=password)
    assert response.json["error_code"] == LOCKED_OUT_CODE
    assert response.json["email"] == "alice"
    assert "alice@example.com" not in response.text


def test_v2_inactive_account_shows_its_email_once_the_password_is_verified(app, db):
    create_user(db, "bob", password="s3cret-pass", is_active=False)
    body = session_login(app, V2, email_or_username="bob", password="s3cret-pass").json
    assert (body["error_code"], body["email"]) == ("inactive-user", "bob@example.com")
    body = session_login(app, V2, email_or_username="bob", password="bad").json
    assert (body["error_code"], body["email"]) == ("incorrect-email-or-password", "bob")


# -- defect 5: every branch costs one hash verification --------------------------------------

class VerificationCounter:
    """Counts the real argon2 verifications of every app's hasher."""

    def __init__(self, monkeypatch):
        self.verifications = 0
        original = PasswordHasher.verify

        def verify(hasher, hash, password):  # noqa: A002 (argon2's parameter name)
            try:
                result = original(hasher, hash, password)
            except InvalidHashError:
                raise  # refused before any hashing: costs nothing
            except VerificationError:
                self.verifications += 1
                raise
            self.verifications += 1
            return result

        monkeypatch.setattr(PasswordHasher, "verify", verify)


@pytest.fixture
def hasher(monkeypatch):
    return VerificationCounter(monkeypatch)


@pytest.fixture
def accounts(db, hasher):
    """One account per kind a login may hit; hashed with the counting hasher."""
    create_user(db, "alice", password="s3cret-pass")
    create_user(db, "ghost", password=None)  # unusable: a service or retired account
    broken = create_user(db, "broken", password="s3cret-pass")
    broken.password = "argon2$not-a-hash"  # a malformed stored hash
    locked = create_user(db, "locked", password="s3cret-pass")
    db.add(LoginFailure(user_id=locked.id, failure_count=6,
                        lockout_until=utcnow() + timedelta(minutes=30)))
    db.commit()
    hasher.verifications = 0


BRANCHES = [
    ("alice", "s3cret-pass"),        # success
    ("alice", "wrong-pass"),         # wrong password
    ("nobody", "s3cret-pass"),       # unknown account
    ("ghost", "s3cret-pass"),        # unusable password
    ("broken", "s3cret-pass"),       # malformed stored hash
    ("locked", "s3cret-pass"),       # locked out
]


@pytest.mark.parametrize("username, password", BRANCHES)
@pytest.mark.parametrize("url", [V1, V2])
def test_session_login_costs_one_verification_per_branch(app, db, accounts, hasher, url,
                                                         username, password):
    field = "email" if url == V1 else "email_or_username"
    token = app.get("/csrf/api/v1/token").json["csrfToken"]
    hasher.verifications = 0
    app.post(url, {field: f"{username}@example.com" if url == V1 else username,
                   "password": password}, headers={"X-CSRFToken": token}, status="*")
    assert hasher.verifications == 1


@pytest.mark.parametrize("username, password", BRANCHES)
def test_password_grant_costs_one_verification_per_branch(app, db, accounts, hasher,
                                                          mobile_client, username, password):
    hasher.verifications = 0
    response = app.post(TOKEN_URL, {"grant_type": "password",
                                    "client_id": mobile_client.client_id,
                                    "username": username, "password": password}, status="*")
    assert response.status_int == (200 if (username, password) == BRANCHES[0] else 400)
    assert hasher.verifications == 1


def test_throttled_attempts_cost_one_verification(make_app, db, accounts, hasher,
                                                  mobile_client):
    app = make_app(**{"throttle.enabled": "true", "throttle.login_rate": "1/m"})
    session_login(app, email="alice@example.com", password="bad")
    hasher.verifications = 0
    body = session_login(app, email="alice@example.com", password="s3cret-pass").json
    assert body["value"] == RATE_LIMITED and hasher.verifications == 1
    hasher.verifications = 0
    assert grant(app, mobile_client, "alice", "s3cret-pass").json == INVALID_GRANT
    assert hasher.verifications == 1


CHEAP_PASSWORDS = passwords.Passwords(time_cost=1, memory_cost=1024, parallelism=1)


def test_verify_password_burns_a_check_for_unusable_hashes(hasher):
    for encoded in (None, "", passwords.make_unusable(), "argon2$garbage", "pbkdf2_sha256$x"):
        hasher.verifications = 0
        assert CHEAP_PASSWORDS.verify("anything", encoded) == (False, False)
        assert hasher.verifications == 1
