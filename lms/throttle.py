"""Fixed-window throttling shared by every worker (counters live in the database).

Counting uses its own short transaction, so a request that fails (and rolls
back) still counts — which is the point for login and token endpoints.
"""
import math
import time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms.db import separate_transaction
from lms.errors import APIError
from lms.models import ThrottleHit
from lms.settings import as_bool, parse_rate


class Throttled(APIError):
    def __init__(self, wait, body=None):
        wait = max(1, int(math.ceil(wait)))
        super().__init__(
            429,
            body or {"detail": f"Request was throttled. Expected available in {wait} seconds."},
            {"Retry-After": str(wait)},
        )
        self.wait = wait


def hit(request, scope, ident, rate, now=None):
    """Count one request; return seconds to wait if over the limit, else 0.

    ``rate`` is "<count>/<period>" (e.g. "120/m"). Does nothing when
    ``throttle.enabled`` is false.
    """
    if not as_bool(request.registry.settings, "throttle.enabled"):
        return 0
    limit, period = parse_rate(rate)
    now = time.time() if now is None else now
    window = int(now // period) * period
    with separate_transaction(request.registry) as conn:
        result = conn.execute(
            update(ThrottleHit)
            .where(ThrottleHit.scope == scope, ThrottleHit.ident == ident,
                   ThrottleHit.window_start == window)
            .values(count=ThrottleHit.count + 1)
        )
        if result.rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(ThrottleHit.__table__.insert().values(
                        scope=scope, ident=ident, window_start=window, count=1))
            except IntegrityError:  # another worker created the window first
                conn.execute(
                    update(ThrottleHit)
                    .where(ThrottleHit.scope == scope, ThrottleHit.ident == ident,
                           ThrottleHit.window_start == window)
                    .values(count=ThrottleHit.count + 1))
        count = conn.scalar(select(ThrottleHit.count).where(
            ThrottleHit.scope == scope, ThrottleHit.ident == ident,
            ThrottleHit.window_start == window))
        # Old windows are useless; keep the table small.
        conn.execute(ThrottleHit.__table__.delete().where(
            ThrottleHit.scope == scope, ThrottleHit.window_start < window - period))
    if count > limit:
        return window + period - now
    return 0


def client_ip(request):
    # REMOTE_ADDR, which the server or lms.proxies sets from X-Forwarded-For only for a
    # trusted proxy; never WebOb's client_addr, which believes any client's X-Forwarded-For.
    return request.remote_addr or "unknown"


def enforce(request, scope, ident, rate, body=None):
    """Raise 429 + Retry-After when over the limit."""
    wait = hit(request, scope, ident, rate)
    if wait:
        raise Throttled(wait, body)
