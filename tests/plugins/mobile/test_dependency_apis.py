"""What the mobile plugin reads through its requirements' api modules."""
from datetime import timedelta

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user
from lms.timeutil import utcnow
from plugins.courses import api as courses
from plugins.enrollment import api as enrollment
from plugins.enrollment.models import CourseMode
from tests.plugins.courses.factories import FUTURE, make_course
from tests.plugins.mobile.conftest import DEMO_KEY


class FakeRequest:
    def __init__(self, app, db):
        self.registry, self.dbsession = app.registry, db


def test_get_courses_in_one_query(db, query_counter):
    make_course(db)
    make_course(db, course_key="course-v1:edX+Two+2026")
    with query_counter() as queries:
        found = courses.get_courses(db, [DEMO_KEY, "course-v1:edX+Two+2026", "course-v1:x+y+z"])
    assert sorted(found) == ["course-v1:edX+Demo+2026", "course-v1:edX+Two+2026"]
    assert len(queries) == 1
    assert courses.get_courses(db, []) == {}


def test_load_error_codes(app, db):
    learner, staff = create_user(db, "learner"), create_user(db, "boss", is_staff=True)
    course = make_course(db, mobile_available=False)
    request = FakeRequest(app, db)
    learner_access = courses.course_access(request, learner)
    assert courses.load_error(learner_access, course) is None
    assert courses.load_error(learner_access, course, mobile=True) == "mobile_unavailable"
    assert courses.load_error(courses.course_access(request, staff), course, mobile=True) is None
    grant_role(db, learner, "beta_testers", parse_course_key(DEMO_KEY))
    db.commit()
    beta = courses.course_access(request, learner)
    assert courses.load_error(beta, course, mobile=True) is None
    later = make_course(db, start=FUTURE, mobile_available=True)
    assert courses.load_error(courses.course_access(request, learner), later) == (
        "course_not_started")
    hidden = make_course(db, settings={"visible_to_staff_only": True})
    assert courses.load_error(courses.course_access(request, learner), hidden) == (
        "not_visible_to_user")
    old = make_course(db, course_key="edX/Old/2012")
    assert courses.load_error(courses.course_access(request, staff), old) == "old_mongo"


def test_info_html_and_update_items(db):
    course = make_course(db, handouts_html='<img src="/static/img/a.png">',
                         settings={"course_updates": [{"id": 1, "content": "x"}]})
    assert courses.info_html(course, "handouts") == (
        '<img src="/asset-v1:edX+Demo+2026+type@asset+block@img_a.png">')
    assert courses.info_html(course, "updates") is None
    assert courses.update_items(course) == [{"id": 1, "content": "x"}]
    assert courses.update_items(make_course(db)) is None


def test_info_content_is_imported_from_olx(db, tmp_path):
    """info/handouts.html, info/updates.html and info/updates.items.json of an export."""
    from plugins.courses.importer import import_course

    root = tmp_path / "course"
    (root / "course").mkdir(parents=True)
    (root / "info").mkdir()
    (root / "course.xml").write_text('<course url_name="2026" org="edX" course="Info"/>')
    (root / "course" / "2026.xml").write_text('<course display_name="Info"/>')
    (root / "info" / "handouts.html").write_text("<p>Handouts</p>")
    (root / "info" / "updates.html").write_text("<ol><li><h2>May 1, 2026</h2>Hi</li></ol>")
    (root / "info" / "updates.items.json").write_text(
        '[{"id": 1, "date": "May 1, 2026", "content": "Hi", "status": "visible"}]')
    course = import_course(db, root).course
    assert courses.info_html(course, "handouts") == "<p>Handouts</p>"
    assert courses.info_html(course, "updates") == "<ol><li><h2>May 1, 2026</h2>Hi</li></ol>"
    assert courses.update_items(course) == [
        {"id": 1, "date": "May 1, 2026", "content": "Hi", "status": "visible"}]


def test_modes_for_courses_in_one_query(db, query_counter):
    db.add_all([
        CourseMode(course_key=DEMO_KEY, mode_slug="verified", mode_display_name="V"),
        CourseMode(course_key=DEMO_KEY, mode_slug="audit", mode_display_name="A"),
        CourseMode(course_key=DEMO_KEY, mode_slug="old", mode_display_name="Old",
                   expiration_datetime=utcnow() - timedelta(days=1)),
    ])
    db.commit()
    with query_counter() as queries:
        found = enrollment.modes_for_courses(db, [DEMO_KEY, "course-v1:x+y+z"])
    assert len(queries) == 1
    assert [m.mode_slug for m in found[DEMO_KEY]] == ["audit", "verified"]
    assert found["course-v1:x+y+z"] == []
    with_expired = enrollment.modes_for_courses(db, [DEMO_KEY], include_expired=True)
    assert [m.mode_slug for m in with_expired[DEMO_KEY]] == ["audit", "old", "verified"]


def test_organization_logos_in_one_query(db, query_counter):
    make_course(db)
    courses.ensure_organization(db, "Other").logo = "https://cdn.example/o.png"
    db.commit()
    with query_counter() as queries:
        assert courses.organization_logos(db, ["edX", "Other", "Nope"]) == {
            "edX": None, "Other": "https://cdn.example/o.png"}
    assert len(queries) == 1
