"""A plugin used only by tests/core/test_plugin_isolation.py: it reads a table of the
courses plugin without requiring it (hidden coupling the isolation check must report)."""
from sqlalchemy import text

from lms.auth import STANDARD_AUTH
from lms.hookspecs import hookimpl
from lms.service import Service

name = "leaky"
version = "1.0"
requires = ()


@hookimpl
def lms_includeme(config):
    config.scan(__name__)


course_count = Service("leaky.course_count", "/api/leaky/v1/courses/{course_id}/count",
                       auth=STANDARD_AUTH, anonymous=("GET",))


@course_count.get(responses={200: {"type": "object"}})
def get_course_count(request):
    """How many courses share this id: a query on courses' table, undeclared."""
    count = request.dbsession.execute(
        text("SELECT count(*) FROM courses_course WHERE course_key = :key"),
        {"key": request.matchdict["course_id"]}).scalar()
    return {"count": count}
