"""The benchmark-only plugin (``bench``): enabled in the harness's apps, never in the product.

- ``GET /_bench/bare``: a bare JSON view, the baseline every endpoint's latency and
  throughput are compared with (the same app, tweens and renderer; no
  authentication, no database);
- enrollments: every user is enrolled (audit) in every course, so the learner's
  course blocks go through the real access rules. The answer comes last
  (``trylast``): an enrollment plugin is asked first, so its queries count as
  they would in production; this one stands where ``lms_get_enrollment`` finds
  nothing (the enrollment plugin's data enrolls each user in one course of its
  own), while its batch answer (``lms_get_enrollments``) is the enrollment plugin's;
- the core's scenarios: the bare view and ``/heartbeat``.
"""
from lms.hookspecs import hookimpl

name = "bench"
version = "0"
requires = ()

BARE = "/_bench/bare"


def bare(request):
    return {"ok": True}


@hookimpl
def lms_includeme(config):
    config.add_route("bench.bare", BARE)
    config.add_view(bare, route_name="bench.bare", request_method="GET", renderer="json")


def _enrollment():
    from lms.timeutil import utcnow

    return {"mode": "audit", "is_active": True, "created": utcnow()}


@hookimpl(trylast=True)
def lms_get_enrollment(dbsession, user_id, course_key):
    return _enrollment()


@hookimpl(trylast=True)
def lms_get_enrollments(dbsession, user_id, course_keys):
    return {str(key): _enrollment() for key in course_keys}


@hookimpl
def lms_bench_scenarios(size):
    return [
        {"name": "bare JSON view", "path": BARE, "auth": None, "hot": True},
        {"name": "heartbeat", "path": "/heartbeat", "auth": None, "hot": True},
    ]
