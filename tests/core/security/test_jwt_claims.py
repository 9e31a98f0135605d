"""A signed JWT is trusted for who it names, never for the shape of its claims
(issue 7, defect 7): get-or-create validates them as registration validates a new
account, and claims of the wrong type are refused with the JWT 401."""
import pytest
from sqlalchemy import func, select

from lms import tokens
from lms.models import User
from lms.testing import create_user

FAKE = "/api/fake/v1/standard/"
INVALID_TOKEN = {"detail": "Invalid token."}


def claims(app, username="newcomer", **overrides):
    """The claims the LMS mints for a (not yet existing) user, with ``overrides``."""
    config = app.registry["lms.jwt_config"]
    user = User(username=username, email=f"{username}@example.com", name="New Comer",
                anonymous_id="b" * 32, is_active=True, is_staff=False, is_superuser=False)
    payload = tokens.build_payload(config, user, ["email", "profile"])
    payload.update(overrides)
    return payload


def jwt_auth(app, payload):
    return {"Authorization": "JWT " + tokens.encode(app.registry["lms.jwt_config"], payload)}


def user_count(db):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(User))


def refused(app, payload, status=401):
    response = app.post_json(FAKE, {"number": 1}, headers=jwt_auth(app, payload), status=status)
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'
    return response.json


def retrieval_failed(username):
    return {"detail": f"[edx-drf-extensions] User retrieval failed for username {username}."}


@pytest.mark.parametrize("username", [
    ["alice"], {"name": "alice"}, 12345, True, 1.5, "ab\x00cd", "a" * 5000, "a" * 151,
    "bad name", "semi;colon", "new\nline", "lone\ud800",
])
def test_malformed_username_claim_is_refused_and_creates_nobody(app, db, username):
    before = user_count(db)
    assert refused(app, claims(app, preferred_username=username)) == retrieval_failed(username)
    assert user_count(db) == before


def test_username_claim_is_checked_when_preferred_username_is_empty(app, db):
    payload = claims(app, preferred_username="")
    payload["username"] = ["x"]
    assert refused(app, payload) == retrieval_failed(["x"])
    assert user_count(db) == 0


@pytest.mark.parametrize("username", ["a", "x" * 31, "dotted.name", "plus+name", "mail@name",
                                      "ünïcode"])
def test_new_accounts_follow_the_registration_rules(app, db, username):
    """A username an older account may hold, but registration would refuse: not created."""
    assert refused(app, claims(app, username)) == retrieval_failed(username)
    assert user_count(db) == 0


def test_existing_accounts_with_older_usernames_still_authenticate(app, db):
    create_user(db, "dotted.name")
    response = app.post_json(FAKE, {"number": 1}, headers=jwt_auth(app, claims(app, "dotted.name")))
    assert response.json == {"user": "dotted.name", "number": 1}
    assert user_count(db) == 1


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "x" * 250 + "@example.com",
                                   "nul\x00@example.com", "two@@example.com",
                                   "space @example.com", "lone\ud800@example.com"])
def test_new_account_needs_a_valid_email_claim(app, db, email):
    assert refused(app, claims(app, email=email)) == retrieval_failed("newcomer")
    assert user_count(db) == 0


@pytest.mark.parametrize("name", ["N" * 256, "nul\x00name", "lone\udfffsurrogate"])
def test_new_account_needs_a_storable_name_claim(app, db, name):
    assert refused(app, claims(app, name=name)) == retrieval_failed("newcomer")
    assert user_count(db) == 0


def test_valid_claims_still_create_the_account(app, db):
    response = app.post_json(FAKE, {"number": 1}, headers=jwt_auth(app, claims(app)))
    assert response.json == {"user": "newcomer", "number": 1}
    db.expire_all()
    row = db.scalar(select(User).where(User.username == "newcomer"))
    assert (row.email, row.name) == ("newcomer@example.com", "New Comer")


def test_claims_never_modify_an_existing_account(app, db):
    create_user(db, "alice")
    response = app.get(FAKE, headers=jwt_auth(app, claims(app, "alice", email="garbage",
                                                          name="N" * 300)))
    assert response.json == {"user": "alice"}
    db.expire_all()
    assert db.scalar(select(User.email).where(User.username == "alice")) == "alice@example.com"


@pytest.mark.parametrize("claim, value", [
    ("email", {"a": 1}), ("email", ["alice@example.com"]), ("email", 7),
    ("name", ["N"]),
    ("is_restricted", "false"), ("is_restricted", []), ("is_restricted", 0),
    ("administrator", "true"), ("superuser", 1), ("email_verified", "yes"),
    ("scopes", "read"), ("scopes", [1]), ("scopes", {"read": True}),
    ("filters", "user:me"), ("filters", [{"a": 1}]),
    ("roles", "admin"),
    ("user_id", "1"), ("user_id", True),
    ("grant_type", ["password"]),
    ("exp", "99999999999"), ("iat", "1"),
])
def test_claims_of_the_wrong_type_are_refused(app, db, claim, value):
    create_user(db, "alice")
    assert refused(app, claims(app, "alice", **{claim: value})) == INVALID_TOKEN
    # Not on GET either, and nobody is created from such a token.
    response = app.get(FAKE, headers=jwt_auth(app, claims(app, **{claim: value})), status=401)
    assert response.json == INVALID_TOKEN
    assert user_count(db) == 1


def test_developer_style_endpoints_rewrap_the_refusal(app, db):
    response = app.get("/api/fake/v1/developer", status=401,
                       headers=jwt_auth(app, claims(app, preferred_username=["x"])))
    assert response.json == {"developer_message": retrieval_failed(["x"])["detail"]}


def test_malformed_claims_in_the_jwt_cookie_are_forgiven(app, db):
    from lms.auth import JWT_COOKIE_HEADER_PAYLOAD, JWT_COOKIE_SIGNATURE

    token = jwt_auth(app, claims(app, preferred_username={"a": 1}))["Authorization"][4:]
    header_payload, _, signature = token.rpartition(".")
    response = app.get(FAKE, headers={"Cookie": f"{JWT_COOKIE_HEADER_PAYLOAD}={header_payload}; "
                                                f"{JWT_COOKIE_SIGNATURE}={signature}"})
    assert response.json == {"user": None}
    assert user_count(db) == 0
