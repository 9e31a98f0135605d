"""Helpers shared by the preferences-family tests (no tests here).

Credentials of every kind the endpoints accept: a JWT header, an opaque
Bearer token, a browser session (with its CSRF pair) and the legacy API key.
"""
import json
import secrets
from datetime import timedelta

from lms import auth
from lms.models import LoginSession, OAuthAccessToken
from lms.oauth import create_application
from lms.timeutil import utcnow

NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}
API_KEY = "test-edx-api-key"
MERGE_PATCH = "application/merge-patch+json"


def session_headers(app, db, user):
    """Cookie and X-CSRFToken headers of a logged-in browser."""
    config = app.registry["lms.auth_config"]
    key = secrets.token_urlsafe(32)
    db.add(LoginSession(key_hash=auth.token_digest(key), user_id=user.id,
                        expires=utcnow() + timedelta(days=1)))
    db.commit()
    csrf = auth.new_csrf_secret()
    cookie = (f"{config.session_cookie_name}={auth.sign(config.secret_key, key)}; "
              f"{config.csrf_cookie_name}={csrf}")
    return {"Cookie": cookie, "X-CSRFToken": csrf}


def bearer_headers(db, user, scopes=("read", "write")):
    """An Authorization header with a fresh opaque access token of ``user``."""
    application, _ = create_application(db, name=f"client-{secrets.token_hex(4)}", user=user,
                                        grant_type="password")
    token = secrets.token_urlsafe(30)
    db.add(OAuthAccessToken(token_hash=auth.token_digest(token), application_id=application.id,
                            user_id=user.id, scopes=list(scopes),
                            expires=utcnow() + timedelta(hours=1)))
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def api_key_headers():
    return {"X-Edx-Api-Key": API_KEY}


def merge_patch(app, url, body, headers, status=204, content_type=MERGE_PATCH):
    """PATCH ``body`` (an object, or raw bytes) with the merge-patch content type."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.patch(url, raw, headers=dict(headers, **{"Content-Type": content_type}),
                     status=status)

