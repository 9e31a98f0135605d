"""``GET /heartbeat``: is this LMS able to serve? (Open edX's heartbeat view.)

The body follows upstream: one entry per check,
``{"sql": {"status": true, "message": "OK"}, ...}``, and the status is 503
as soon as one check fails, 200 otherwise, so a load balancer can use it.

Checks: the database (``SELECT 1``, then that it has every migration of the
core and of the enabled plugins: ``sql`` fails and names what is pending,
since every API call would fail), the Celery broker when
``heartbeat.check_broker`` is true (or ``?extended`` is asked, as upstream's
extended checks) and a real broker is configured, and whatever enabled
plugins return from ``lms_heartbeat_checks``.
"""
import logging

from pyramid.response import Response
from sqlalchemy import text

from lms.settings import as_bool

log = logging.getLogger(__name__)

OK = "OK"
BROKER_TIMEOUT_SECONDS = 3
# Brokers living inside the process: nothing to reach.
IN_PROCESS_BROKERS = ("memory", "cache")


def _failure_message(exc):
    """One line naming the error, without a traceback."""
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__


def check_database(engine):
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
        return True, OK
    except Exception as exc:  # any driver error means "not reachable"
        return False, _failure_message(exc)


def check_migrations(registry):
    from lms.migrate import pending_message

    try:
        message = pending_message(registry)
    except Exception as exc:
        return False, _failure_message(exc)
    return (False, f"{message} (run `lms migrate`)") if message else (True, OK)


def broker_url(settings):
    """The configured broker URL, or None when the broker lives in-process."""
    url = (settings.get("celery.broker_url") or "").strip()
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if not url or scheme in IN_PROCESS_BROKERS:
        return None
    return url


def check_broker(url, timeout=BROKER_TIMEOUT_SECONDS):
    import kombu

    connection = kombu.Connection(url, connect_timeout=timeout)
    try:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                     timeout=timeout)
        return True, OK
    except Exception as exc:
        return False, _failure_message(exc)
    finally:
        connection.release()


def plugin_checks(request):
    """``{component: (ok, message)}`` from each plugin; a broken check fails only itself."""
    results = {}
    hook = request.registry["lms.plugin_manager"].hook.lms_heartbeat_checks
    for impl in hook.get_hookimpls():
        try:
            # pluggy lets an implementation take a subset of the hook's arguments.
            arguments = {"request": request}
            returned = impl.function(*[arguments[name] for name in impl.argnames]) or {}
            for component, (ok, message) in dict(returned).items():
                results[str(component)] = (bool(ok), str(message))
        except Exception as exc:
            log.exception("heartbeat check of plugin %s failed", impl.plugin_name)
            results[impl.plugin_name] = (False, _failure_message(exc))
    return results


def run_checks(request, extended=False):
    settings = request.registry.settings
    results = {"sql": check_database(request.registry["lms.engine"])}
    if results["sql"][0]:
        results["sql"] = check_migrations(request.registry)
    url = broker_url(settings)
    if url and (extended or as_bool(settings, "heartbeat.check_broker")):
        results["broker"] = check_broker(url)
    for component, result in plugin_checks(request).items():
        results.setdefault(component, result)
    return results


def get_heartbeat(request):
    results = run_checks(request, extended="extended" in request.GET)
    body = {name: {"status": ok, "message": message} for name, (ok, message) in results.items()}
    healthy = all(ok for ok, _ in results.values())
    if not healthy:
        log.error("Heartbeat check failed (503): %s", body)
    response = Response(json_body=body, status=200 if healthy else 503)
    response.cache_control = "no-cache, no-store, must-revalidate"
    return response


def includeme(config):
    config.add_route("lms.heartbeat", "/heartbeat")
    config.add_view(get_heartbeat, route_name="lms.heartbeat", request_method="GET")
