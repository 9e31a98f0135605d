"""A request id per request, on the response and on every log record, and JSON logs.

Each request gets an id: the ``X-Request-ID`` header when ``lms.trust_request_id_header``
is true (the reverse proxy sets that header itself, overwriting the client's, e.g.
nginx ``proxy_set_header X-Request-ID $request_id;``) and the value is well-formed,
else a new random one. The response carries it in ``X-Request-ID``, and every log
record made while the request runs carries it as ``record.request_id`` (``-``
outside requests), so a proxy's access log, the app's log lines and a user's bug
report meet on one value.

``JsonFormatter`` writes one JSON object per line, for log collectors; production.ini
selects it in its ``[formatter_json]`` section.
"""
import contextvars
import json
import logging
import re
import uuid
from datetime import datetime, timezone

from pyramid.tweens import EXCVIEW

from lms.settings import as_bool

HEADER = "X-Request-ID"
# nginx's $request_id is 32 hex digits, others use UUIDs; anything else from outside
# (spaces, quotes, newlines, very long values) could forge log lines: a new id instead.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
NO_REQUEST = "-"

current_request_id = contextvars.ContextVar("lms_request_id", default=NO_REQUEST)


def new_request_id():
    return uuid.uuid4().hex


def incoming_request_id(request, trust_header):
    value = request.headers.get(HEADER, "") if trust_header else ""
    return value if WELL_FORMED.match(value) else new_request_id()


def request_id_tween_factory(handler, registry):
    trust_header = as_bool(registry.settings, "lms.trust_request_id_header")

    def request_id_tween(request):
        request_id = incoming_request_id(request, trust_header)
        request.environ["lms.request_id"] = request_id
        token = current_request_id.set(request_id)
        try:
            try:
                response = handler(request)
            except Exception:
                # Raised above the exception-view tween (e.g. by a commit): rendered here,
                # as the CORS tween would, so the error's log lines and answer carry the id.
                response = request.invoke_exception_view(reraise=True)
        finally:
            current_request_id.reset(token)
        response.headers[HEADER] = request_id
        return response

    return request_id_tween


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` (for handlers configured with filters, e.g. dictConfig);
    records made in this process get it anyway once the app is built."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


_record_factory_installed = False


def install_record_factory():
    """Give every log record the current request id, whatever its handler or formatter."""
    global _record_factory_installed
    if _record_factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def record_with_request_id(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = current_request_id.get()
        return record

    logging.setLogRecordFactory(record_with_request_id)
    _record_factory_installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message,
    request_id, process, thread, and the traceback when there is one."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id.get(),
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def includeme(config):
    install_record_factory()
    # Right under the CORS tween, which stays first: every response but CORS preflights,
    # and every log line of the request, carry the id.
    config.add_tween("lms.request_ids.request_id_tween_factory",
                     under="lms.cors.cors_tween_factory",
                     over=("lms.limits.body_limit_tween_factory", EXCVIEW))
