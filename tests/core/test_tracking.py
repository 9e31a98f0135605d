"""Tracking events (lms.tracking): GET/POST /event as track.views.user_track, server
events from plugins, the tracking log's JSON lines and its backends."""
import json
import logging
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.request import Request, apply_request_extensions

from lms import auth
from lms.models import LoginSession
from lms.testing import create_user
from lms.timeutil import utcnow
from lms.tracking import Tracker, emit, tracker_of

COURSE = "course-v1:edX+DemoX+Demo_Course"
PAGE = f"http://localhost:2000/course/{COURSE}/home"
MFE = "http://localhost:2000"
# Open edX's field order of a tracking-log line.
FIELDS = ["name", "context", "username", "session", "ip", "agent", "host", "referer",
          "accept_language", "event", "time", "event_type", "event_source", "page"]


def lines(app):
    return [json.loads(line) for line in tracker_of(app.registry).lines]


def start_session(app, db, user):
    """A browser session (as login leaves it) and a CSRF token; returns the headers."""
    config = app.registry["lms.auth_config"]
    key = secrets.token_urlsafe(32)
    db.add(LoginSession(key_hash=auth.token_digest(key), user_id=user.id,
                        expires=utcnow() + timedelta(hours=1)))
    db.commit()
    app.set_cookie(config.session_cookie_name, auth.sign(config.secret_key, key))
    return key, csrf_headers(app)


def csrf_headers(app):
    secret = auth.new_csrf_secret()
    app.set_cookie(app.registry["lms.auth_config"].csrf_cookie_name, secret)
    return {"X-CSRFToken": auth.mask_csrf(secret)}


def assert_recent(value):
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(minutes=1)


@pytest.fixture
def alice(db):
    user = create_user(db, "alice")
    db.commit()
    return user


def test_signed_in_post_with_course_page(app_factory, db, alice):
    app = app_factory(**{"cors.origins": MFE, "csrf.trusted_origins": MFE})
    key, headers = start_session(app, db, alice)
    headers.update({"Origin": MFE, "User-Agent": "Mozilla/5.0 test", "Referer": PAGE,
                    "Accept-Language": "fr-FR,fr;q=0.9"})
    response = app.post("/event", {"event_type": "edx.ui.lms.outline.selected",
                                   "event": '{"target_name": "Intro", "widget": 3}',
                                   "page": PAGE}, headers=headers)
    assert response.body == b"success"
    assert response.content_type == "text/html"
    assert response.headers["Access-Control-Allow-Origin"] == MFE
    [line] = lines(app)
    assert list(line) == FIELDS
    assert_recent(line.pop("time"))
    session = line.pop("session")
    assert len(session) == 32 and int(session, 16) >= 0 and key not in session
    assert line == {
        "name": "edx.ui.lms.outline.selected",
        "context": {"user_id": alice.id, "path": "/event", "course_id": COURSE,
                    "org_id": "edX", "enterprise_uuid": ""},
        "username": "alice",
        "ip": "",
        "agent": "Mozilla/5.0 test",
        "host": "localhost",
        "referer": PAGE,
        "accept_language": "fr-FR,fr;q=0.9",
        # A browser event's object is logged as JSON text (track.shim).
        "event": '{"target_name": "Intro", "widget": 3}',
        "event_type": "edx.ui.lms.outline.selected",
        "event_source": "browser",
        "page": PAGE,
    }
    # The same session has the same tracking id.
    app.post("/event", {"event_type": "again"}, headers=headers)
    assert lines(app)[1]["session"] == session


def test_anonymous_get(app):
    response = app.get("/event", {"event_type": "edx.bi.user.anonymous", "event": "{}",
                                  "page": "http://localhost:1999/login"},
                       extra_environ={"REMOTE_ADDR": "10.1.2.3"})
    assert response.body == b"success"
    [line] = lines(app)
    assert line["username"] == "" and line["session"] == ""
    assert line["context"] == {"user_id": None, "path": "/event", "course_id": "",
                               "org_id": "", "enterprise_uuid": ""}
    assert line["ip"] == "10.1.2.3"
    assert (line["name"], line["event_type"], line["event"], line["page"]) == (
        "edx.bi.user.anonymous", "edx.bi.user.anonymous", "{}", "http://localhost:1999/login")


def test_anonymous_post_with_csrf_token(app):
    app.post("/event", {"event_type": "edx.bi.anonymous.post", "event": '{"a": 1}'},
             headers=csrf_headers(app))
    [line] = lines(app)
    assert (line["username"], line["event"], line["page"]) == ("", '{"a": 1}', "")


def test_missing_fields(app):
    app.get("/event")
    [line] = lines(app)
    # event-tracking names a nameless event "unknown" and its missing data {}.
    assert (line["name"], line["event_type"], line["event"], line["page"]) == (
        "unknown", "unknown", "{}", "")


@pytest.mark.parametrize("text", ['{"unterminated": ', "not json at all", "NaN",
                                  '{"big": 1e999}', "[" * 5000])
def test_malformed_event_is_logged_as_sent(app, text):
    app.post("/event", {"event_type": "x.malformed", "event": text},
             headers=csrf_headers(app))
    [line] = lines(app)
    assert line["event"] == text


def test_event_that_is_not_an_object(app):
    # The shim serializes only objects; other JSON values are logged as values.
    app.get("/event", {"event_type": "x.list", "event": '[1, "two"]'})
    app.get("/event", {"event_type": "x.string", "event": '"text"'})
    app.get("/event", {"event_type": "x.empty", "event": "[]"})
    assert [line["event"] for line in lines(app)] == [[1, "two"], "text", "{}"]


def test_username_in_the_event_gains_its_user_id(app, alice):
    app.get("/event", {"event_type": "x.named", "event": '{"username": "alice"}'})
    app.get("/event", {"event_type": "x.named", "event": '{"username": "nobody"}'})
    app.get("/event", {"event_type": "x.named", "event": '{"username": ["alice"]}'})
    assert [json.loads(line["event"]) for line in lines(app)] == [
        {"username": "alice", "user_id": alice.id}, {"username": "nobody"},
        {"username": ["alice"]}]


def test_course_from_courserun_key_or_courses_url(app):
    app.get("/event", {"event_type": "a", "courserun_key": COURSE, "page": "http://x/"})
    app.get("/event", {"event_type": "b", "page": f"http://localhost:18000/courses/{COURSE}/"})
    app.get("/event", {"event_type": "c", "page": "http://localhost:18000/courses/v1/blocks/"})
    app.get("/event", {"event_type": "d", "courserun_key": "not a key"})
    assert [line["context"]["course_id"] for line in lines(app)] == [COURSE, COURSE, "", ""]


def test_post_reads_the_form_only(app):
    # Django's request.POST: a JSON body carries no fields, and the query string is ignored.
    app.post_json("/event?event_type=from.query", {"event_type": "from.json"},
                  headers=csrf_headers(app))
    [line] = lines(app)
    assert (line["event_type"], line["event"]) == ("unknown", "{}")


def test_post_without_csrf_token_is_refused(app):
    response = app.post("/event", {"event_type": "x.forged"}, status=403)
    assert response.content_type == "text/html"
    assert b"CSRF cookie not set." in response.body
    assert lines(app) == []


def test_oversized_event_is_dropped(app_factory, caplog):
    app = app_factory(**{"tracking.max_event_size": "600"})
    with caplog.at_level(logging.WARNING, logger="lms.tracking"):
        response = app.get("/event", {"event_type": "x.big", "event": "y" * 600})
    assert response.body == b"success"
    assert lines(app) == []
    assert "tracking event 'x.big' dropped" in caplog.text
    app.get("/event", {"event_type": "x.small", "event": "y" * 10})
    assert [line["event_type"] for line in lines(app)] == ["x.small"]


def test_file_backend_writes_one_json_line_per_event(app_factory, tmp_path, alice):
    log_file = tmp_path / "logs" / "tracking.log"
    app = app_factory(**{"tracking.backend": "file", "tracking.log_file": str(log_file)})
    app.get("/event", {"event_type": "first", "event": '{"é": "\\ud800"}', "page": PAGE})
    app.get("/event", {"event_type": "second", "event": "plain\ntext"})
    raw = log_file.read_bytes()
    assert raw.isascii() and raw.endswith(b"\n")
    first, second = [json.loads(line) for line in raw.decode().splitlines()]
    assert list(first) == FIELDS
    assert first["event"] == '{"\\u00e9": "\\ud800"}'
    assert first["context"]["course_id"] == COURSE
    assert second["event"] == "plain\ntext"
    # Rotated by renaming: the next event starts a new file.
    log_file.rename(tmp_path / "logs" / "tracking.log.1")
    app.get("/event", {"event_type": "third"})
    assert json.loads(log_file.read_text())["event_type"] == "third"


def test_file_backend_failure_never_fails_the_request(app_factory, tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app = app_factory(**{"tracking.backend": "file",
                         "tracking.log_file": str(blocker / "tracking.log")})
    with caplog.at_level(logging.ERROR, logger="lms.tracking"):
        assert app.get("/event", {"event_type": "x.lost"}).body == b"success"
    assert "tracking event 'x.lost' not written" in caplog.text


def test_logging_backend(app_factory, caplog):
    app = app_factory(**{"tracking.backend": "logging"})
    with caplog.at_level(logging.INFO, logger="tracking"):
        app.get("/event", {"event_type": "x.logged"})
    [record] = [r for r in caplog.records if r.name == "tracking"]
    assert json.loads(record.getMessage())["event_type"] == "x.logged"


def test_off_backend_and_bad_settings(app_factory):
    app = app_factory(**{"tracking.backend": "off"})
    assert app.get("/event", {"event_type": "x"}).body == b"success"
    with pytest.raises(ConfigurationError, match="tracking.backend must be one of"):
        Tracker({"tracking.backend": "kafka", "tracking.max_event_size": "1"})
    with pytest.raises(ConfigurationError, match="tracking.log_file must be set"):
        Tracker({"tracking.backend": "file", "tracking.log_file": "",
                 "tracking.max_event_size": "1"})


def _request(app, path, user=None):
    request = Request.blank(path, headers={"User-Agent": "server-test"})
    request.registry = app.registry
    apply_request_extensions(request)
    request.user = user
    return request


def test_server_event_from_a_plugin(app, alice):
    request = _request(app, f"/api/courses/v1/courses/{COURSE}/", alice)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert emit(request, "edx.course.thing.happened", {"count": 2, "at": when}) is True
    [line] = lines(app)
    assert list(line) == FIELDS
    assert line["event"] == {"count": 2, "at": "2026-01-02T03:04:05+00:00"}
    assert line["event_source"] == "server" and line["page"] is None
    assert line["username"] == "alice" and line["agent"] == "server-test"
    # The course named by the request's URL (not an API version segment).
    assert line["context"] == {"user_id": alice.id, "path": f"/api/courses/v1/courses/{COURSE}/",
                               "course_id": COURSE, "org_id": "edX", "enterprise_uuid": ""}


def test_server_event_course_key_and_unserializable_data(app):
    request = _request(app, "/api/user/v1/accounts/")
    assert emit(request, "x.course", course_key="course-v1:O+C+R") is True
    assert lines(app)[0]["context"]["course_id"] == "course-v1:O+C+R"
    assert lines(app)[0]["event"] == {}
    assert emit(request, "x.nan", {"value": float("nan")}) is False  # no non-standard JSON
    assert len(lines(app)) == 1
