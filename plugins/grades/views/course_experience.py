"""course_experience (upstream ``openedx.features.course_experience.api.v1.views``).

- ``GET /api/course_experience/v1/course_deadlines_info/{course_key_string}``:
  ``{"dates_banner_info": {...}}`` (STD-AUTH, IsAuthenticated; unknown course 404);
- ``POST /api/course_experience/v1/reset_course_deadlines`` ``{"course_key"}``: a
  self-paced learner's schedule restarts today so relative due dates move; 200 with the
  upstream message even when nothing moved; ``course_key`` missing → 400 ``"'course_key'
  is required."``; any failure → 400 ``"Unable to reset deadlines."``.
"""
from lms.auth import STANDARD_AUTH
from lms.errors import detail, not_found
from lms.keys import parse_course_key
from lms.openapi import BOOLEAN, STRING, nullable, obj
from lms.request import data_fields
from lms.routing import COURSE_KEY
from lms.service import Service
from plugins.courses import api as courses_api
from plugins.grades import course_home

deadlines_info = Service("grades.course_deadlines_info",
                         f"/api/course_experience/v1/course_deadlines_info/{COURSE_KEY}",
                         auth=STANDARD_AUTH)
reset_deadlines = Service("grades.reset_course_deadlines",
                          "/api/course_experience/v1/reset_course_deadlines", auth=STANDARD_AUTH)

OBJECT = {"type": "object"}
BANNER = obj({"missed_deadlines": BOOLEAN, "missed_gated_content": BOOLEAN,
              "content_type_gating_enabled": BOOLEAN, "verified_upgrade_link": nullable(STRING)})
RESET = obj({"body": STRING, "header": STRING, "link": STRING, "link_text": STRING,
             "message": STRING})


@deadlines_info.get(responses={200: obj({"dates_banner_info": BANNER}),
                               401: "Not signed in.",
                               404: "No such course (or an invalid key)."})
def get_deadlines_info(request):
    """The dates banner of the caller in a course."""
    key = parse_course_key(request.matchdict["course_key_string"])
    course = courses_api.get_course(request.dbsession, key) if key is not None else None
    if course is None:
        raise not_found()
    return {"dates_banner_info": course_home.dates_banner_info(course, request.user)}


@reset_deadlines.post(body=obj({"course_key": STRING, "research_event_data": OBJECT},
                               required=["course_key"]),
                      responses={200: RESET, 401: "Not signed in.",
                                 400: "`course_key` missing, or the deadlines could not be "
                                      "reset (unknown course or key)."})
def post_reset_deadlines(request):
    """Shift the caller's self-paced due dates to start today."""
    payload = data_fields(request)
    if not payload.get("course_key"):
        raise detail(400, "'course_key' is required.")
    key = parse_course_key(str(payload["course_key"]))
    db = request.dbsession
    course = courses_api.get_course(db, key) if key is not None else None
    if course is None:
        raise detail(400, "Unable to reset deadlines.")
    banner = course_home.dates_banner_info(course, request.user)
    if not banner["missed_gated_content"]:
        course_home.reset_self_paced_schedule(db, request.user.id, course)
    link = course_home.dates_tab_link(request.registry.settings, course.course_key)
    return {"body": f'<a href="{link}">View all dates</a>',
            "header": "Your due dates have been successfully shifted to help you stay on "
                      "track.",
            "link": link, "link_text": "View all dates",
            "message": "Deadlines successfully reset."}
