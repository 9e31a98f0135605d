"""Tracking events: Open edX's tracking log, fed by browsers and by the server.

Each event is one JSON object on one line, with the fields Open edX's tracking
log has (event-tracking with ``track.shim.LegacyFieldMappingProcessor``), so
tools that read Open edX tracking logs read these::

    {"name": "edx.ui.lms.outline.selected",
     "context": {"user_id": 7, "path": "/event", "course_id": "course-v1:X+Y+Z",
                 "org_id": "X", "enterprise_uuid": ""},
     "username": "alice", "session": "<32 hex digits>", "ip": "10.0.0.1",
     "agent": "<User-Agent>", "host": "lms.example.com", "referer": "<Referer>",
     "accept_language": "<Accept-Language>", "event": "{\\"target_name\\": \\"x\\"}",
     "time": "2026-01-01T12:00:00.123456+00:00", "event_type": "edx.ui.lms.outline.selected",
     "event_source": "browser", "page": "http://localhost:2000/course/course-v1:X+Y+Z/home"}

``session`` is a keyed hash of the browser session (never the session key),
empty without a session; ``user_id`` is null and ``username`` empty for
anonymous callers. The course comes from an explicit course key, else from a
``/course/`` or ``/courses/`` segment of the page (browser events) or of the
request's URL (server events).

**Browser events**: ``GET`` or ``POST /event`` (``track.views.user_track``),
with ``event_type``, ``event`` (a JSON text, logged as sent: re-serialized when
it parses to an object, the raw text when it does not parse), ``page`` and
optionally ``courserun_key``, from the query string (GET) or the form body
(POST, CSRF-protected as Django protects it). Anyone may send them; the answer
is the text ``success``.

**Server events**: plugins call :func:`emit` (``event_source`` ``server``;
``event`` is the data as given). The line is written at once, whether or not the
request's transaction commits, as Open edX's tracker does.

Backends (``tracking.backend``):

- ``file``: appended to ``tracking.log_file``, which is reopened for every event,
  so the operator rotates it by renaming (logrotate without ``copytruncate``);
- ``logging``: each line logged at INFO on the ``tracking`` logger (route it with
  the logging configuration: a handler of its own, stdout...);
- ``memory``: kept in ``Tracker.lines`` (tests);
- ``off``: nothing is written.

A line longer than ``tracking.max_event_size`` characters is dropped with a
warning, as event-tracking's logger backend drops it (``TRACK_MAX_EVENT``); the
browser is answered ``success`` all the same. A backend failure is logged and
never fails the request.
"""
import hashlib
import json
import logging
import math
import os
import re
import threading
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

from pyramid.exceptions import ConfigurationError
from pyramid.response import Response

from lms import auth, process_state
from lms.keys import parse_course_key
from lms.openapi import STRING, Body
from lms.request import form_fields, query_params
from lms.service import Service
from lms.session import csrf_protect
from lms.settings import as_int
from lms.users import get_by_username, is_storable_username

log = logging.getLogger(__name__)
tracking_log = logging.getLogger("tracking")

BACKENDS = ("file", "logging", "memory", "off")
UNKNOWN_EVENT_TYPE = "unknown"
# openedx.core.lib.request_utils.COURSE_REGEX: a course key after /course/ or /courses/,
# unless that segment is an API version (/courses/v1/...).
COURSE_IN_URL = re.compile(
    r"^(.*?/courses?/)(?!v[0-9]+/[^/]+)(?P<course_id>[^/+]+(/|\+)[^/+]+(/|\+)[^/?]+)")
SESSION_ID_BYTES = 16  # 32 hex digits, the length of a Django session key


class Tracker:
    """Writes events to the configured backend (one per app: ``tracker_of(registry)``)."""

    def __init__(self, settings):
        self.backend = (settings.get("tracking.backend") or "off").strip().lower()
        if self.backend not in BACKENDS:
            raise ConfigurationError(f"tracking.backend must be one of {', '.join(BACKENDS)}, "
                                     f"got {self.backend!r}")
        self.log_file = settings.get("tracking.log_file") or ""
        if self.backend == "file" and not self.log_file:
            raise ConfigurationError("tracking.log_file must be set for tracking.backend = file")
        self.max_event_size = as_int(settings, "tracking.max_event_size")
        self.secret = settings.get("lms.secret_key") or ""
        self.lines = []  # the memory backend's
        self._lock = threading.Lock()

    def clear(self):
        """Forget the memory backend's lines (see :mod:`lms.process_state`)."""
        self.lines = []

    def send(self, event):
        """Write one event (a dict); True when a line was written."""
        if self.backend == "off":
            return False
        try:
            line = json.dumps(event, default=_json_default, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            log.exception("tracking event %r could not be serialized", event.get("event_type"))
            return False
        if self.max_event_size and len(line) > self.max_event_size:
            log.warning("tracking event %r dropped: %d characters (tracking.max_event_size = %d)",
                        event.get("event_type"), len(line), self.max_event_size)
            return False
        try:
            self._write(line)
        except OSError as exc:
            log.error("tracking event %r not written to %s: %s", event.get("event_type"),
                      self.log_file, exc)
            return False
        return True

    def _write(self, line):
        if self.backend == "memory":
            self.lines.append(line)
        elif self.backend == "logging":
            tracking_log.info(line)
        else:
            with self._lock:
                directory = os.path.dirname(self.log_file)
                if directory:
                    os.makedirs(directory, exist_ok=True)
                # ensure_ascii output: every line is ASCII whatever the event holds.
                with open(self.log_file, "a", encoding="ascii") as handle:
                    handle.write(line + "\n")


def _json_default(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def tracker_of(registry):
    return registry["lms.tracker"]


# -- building events ------------------------------------------------------------------

def course_context(course_id_string=None, url=None):
    """``{"course_id", "org_id", "enterprise_uuid"}`` of a course key, or of the course a
    URL names; empty strings when there is none or it does not parse."""
    if not course_id_string and url:
        match = COURSE_IN_URL.match(url)
        if match:
            course_id_string = match.group("course_id")
    key = parse_course_key(course_id_string) if course_id_string else None
    return {"course_id": str(key) if key else "", "org_id": key.org if key else "",
            "enterprise_uuid": ""}


def _caller(request):
    """The authenticated user, else the browser session's (Django's request.user)."""
    user = getattr(request, "user", None)
    return user if user is not None else auth.session_user(request)


def _session_id(request, secret):
    """A stable stand-in for the session key: nobody can recover the key from it."""
    config = request.registry["lms.auth_config"]
    key = auth.unsign(config.secret_key, request.cookies.get(config.session_cookie_name))
    if not key or auth.session_user(request) is None:
        return ""
    digest = hashlib.blake2b(key.encode(), digest_size=SESSION_ID_BYTES,
                             key=hashlib.sha256(secret.encode()).digest())
    return digest.hexdigest()


def _header(request, name):
    return request.headers.get(name, "")


def build_event(request, event_type, event, *, source, page=None, context=None):
    """The tracking-log dict of one event (fields in Open edX's order)."""
    user = _caller(request)
    tracker = tracker_of(request.registry)
    full_context = {"user_id": user.id if user is not None else None, "path": request.path}
    full_context.update(context if context is not None else course_context(url=request.url))
    return {
        "name": event_type or UNKNOWN_EVENT_TYPE,
        "context": full_context,
        "username": user.username if user is not None else "",
        "session": _session_id(request, tracker.secret),
        "ip": request.remote_addr or "",  # the client address, as lms.throttle.client_ip
        "agent": _header(request, "User-Agent"),
        "host": urlsplit(request.host_url).hostname or "",
        "referer": _header(request, "Referer"),
        "accept_language": _header(request, "Accept-Language"),
        "event": event,
        "time": datetime.now(timezone.utc),
        "event_type": event_type or UNKNOWN_EVENT_TYPE,
        "event_source": source,
        "page": page,
    }


def emit(request, event_type, data=None, *, page=None, course_key=None):
    """Write a server event (``event_source`` ``server``) for the caller of ``request``.

    ``data``: a JSON-serializable dict (datetimes become ISO 8601 text);
    ``course_key``: the course it concerns (else the one in ``page`` or in the
    request's URL). Returns True when a line was written (False: backend off, event
    too large, or a write error, which is logged). Never raises for a backend failure.
    """
    if course_key is not None:
        context = course_context(str(course_key))
    elif page and course_context(url=page)["course_id"]:
        context = course_context(url=page)
    else:
        context = None
    event = build_event(request, event_type, data or {}, source="server", page=page,
                        context=context)
    return tracker_of(request.registry).send(event)


# -- GET/POST /event ----------------------------------------------------------------

def _refuse_constant(token):
    raise ValueError(token)


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise ValueError(text)
    return value


def _parse_event(text):
    """The event's data as upstream reads it: parsed JSON, else the text as sent."""
    if not isinstance(text, str) or not text:
        return text
    try:
        # No NaN/Infinity: every tracking line stays standard JSON.
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        return text


def _add_user_id_for_username(request, data):
    """Events that name a user by username also get its id (upstream does the same)."""
    username = data.get("username")
    if "user_id" in data or not is_storable_username(username):
        return
    user = get_by_username(request.dbsession, username)
    if user is not None:
        data["user_id"] = user.id


def browser_event(request, fields):
    """The tracking-log dict of ``user_track``'s fields (``event_type``, ``event``, ...)."""
    event_type = fields.get("event_type", "")
    data = _parse_event(fields.get("event", ""))
    if isinstance(data, dict):
        _add_user_id_for_username(request, data)
    data = data or {}  # event-tracking's "data or {}"
    page = fields.get("page", "")
    context = course_context(fields.get("courserun_key") or None, page)
    # The shim serializes a browser event's object: "event" is JSON text in the log.
    event = json.dumps(data) if isinstance(data, dict) else data
    return build_event(request, event_type, event, source="browser", page=page,
                       context=context)


def _success():
    return Response(body=b"success", content_type="text/html", charset="utf-8")


FIELD_DESCRIPTIONS = {
    "event_type": "The event's name (`unknown` when missing).",
    "event": "The event's data: a JSON text (logged as sent when it is not JSON).",
    "page": "The URL of the page the event happened on (its course, if any, is the "
            "event's course).",
    "courserun_key": "The event's course, when the page does not name it.",
}
FORM_BODY = Body({"type": "object",
                  "properties": {name: {"type": "string", "description": text}
                                 for name, text in FIELD_DESCRIPTIONS.items()}},
                 media_type="application/x-www-form-urlencoded")
SUCCESS = Body(STRING, "The text `success` (also when the event is dropped as too large).",
               "text/html")

event_service = Service(
    "lms.tracking_event", "/event", auth=auth.NO_AUTH, anonymous=True,
    description="Browser tracking events (track.views.user_track).")


@event_service.get(query=FIELD_DESCRIPTIONS,
                   responses={200: SUCCESS, 400: "The query string is not valid UTF-8."})
def get_event(request):
    """Log a browser tracking event given in the query string."""
    tracker_of(request.registry).send(browser_event(request, query_params(request)))
    return _success()


@event_service.post(validators=(csrf_protect,), body=FORM_BODY,
                    responses={200: SUCCESS, 403: "No CSRF token.", 415: None})
def post_event(request):
    """Log a browser tracking event given as form fields (frontend-platform's
    `sendTrackingLogEvent`); any other body is an event without fields, as upstream."""
    tracker_of(request.registry).send(browser_event(request, form_fields(request)))
    return _success()


def includeme(config):
    config.registry["lms.tracker"] = process_state.register(config.registry,
                                                            Tracker(config.get_settings()))
    config.scan(__name__)
