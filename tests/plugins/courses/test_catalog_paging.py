"""The catalog lists filter in SQL and page on course keys (``lms.pagination``'s keyed
form): each page's courses are the ones ``has_access`` passes, in the same order at
every page size, and the queries stay fixed whatever the catalog's size or the page.

What only Python can tell (an audit learner's expired access) is checked per page:
such a course is counted but not shown.
"""
import pytest

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import jwt_headers
from tests.plugins.courses.test_catalog import (  # noqa: F401  (fixtures)
    IDS, LIST, app, days, enroll, enrollments, learner, small, staff,
)

# Every visibility rule of upstream's _has_access_course, one course each (for the
# learner: staff on Staffed, org staff on OrgX, beta tester of Beta).
CATALOG = {
    "course-v1:A+About+1": {"catalog_visibility": "about"},
    "course-v1:A+Beta+1": {"start": days(5), "days_early_for_beta": 10,
                           "enrollment_end": days(-1)},
    "course-v1:A+Closed+1": {"enrollment_end": days(-1)},
    "course-v1:A+Expired+1": {"enrollment_end": days(-1)},
    "course-v1:A+Future+1": {"start": days(30), "enrollment_start": days(10)},
    "course-v1:A+FutureOpen+1": {"start": days(30)},
    "course-v1:A+Hidden+1": {"enrollment_end": days(-1),
                             "settings": {"visible_to_staff_only": True}},
    "course-v1:A+Invited+1": {"start": days(30), "invitation_only": True},
    "course-v1:A+Mobile+1": {"mobile_available": True},
    "course-v1:A+Open+1": {},
    "course-v1:A+Staffed+1": {"start": days(30), "enrollment_end": days(-1),
                              "settings": {"visible_to_staff_only": True}},
    "course-v1:OrgX+Any+1": {"start": days(30), "enrollment_end": days(-1)},
}
LEARNER_SEES = [
    "course-v1:A+About+1", "course-v1:A+Beta+1", "course-v1:A+Closed+1",
    "course-v1:A+FutureOpen+1", "course-v1:A+Mobile+1", "course-v1:A+Open+1",
    "course-v1:A+Staffed+1", "course-v1:OrgX+Any+1"]
ANONYMOUS_SEES = [
    "course-v1:A+About+1", "course-v1:A+Closed+1", "course-v1:A+Expired+1",
    "course-v1:A+FutureOpen+1", "course-v1:A+Mobile+1", "course-v1:A+Open+1"]
LEARNER_ROLES = {
    "load": ["course-v1:A+About+1", "course-v1:A+Beta+1", "course-v1:A+Closed+1",
             "course-v1:A+Mobile+1", "course-v1:A+Open+1", "course-v1:A+Staffed+1",
             "course-v1:OrgX+Any+1"],
    "load_mobile": ["course-v1:A+Beta+1", "course-v1:A+Mobile+1", "course-v1:A+Staffed+1",
                    "course-v1:OrgX+Any+1"],
    "enroll": ["course-v1:A+About+1", "course-v1:A+FutureOpen+1", "course-v1:A+Mobile+1",
               "course-v1:A+Open+1", "course-v1:A+Staffed+1", "course-v1:OrgX+Any+1"],
    "see_in_catalog": sorted(set(CATALOG) - {"course-v1:A+About+1"}),
    "see_about_page": sorted(CATALOG),
    # Upstream's short cut: course-level roles only, not org ones.
    "staff": ["course-v1:A+Staffed+1"],
    "instructor": [],
}


@pytest.fixture
def catalog(db, learner, enrollments):
    for course_key, overview in CATALOG.items():
        small(db, course_key, **overview)
    grant_role(db, learner, "staff", parse_course_key("course-v1:A+Staffed+1"))
    grant_role(db, learner, "staff", org="OrgX")
    grant_role(db, learner, "beta_testers", parse_course_key("course-v1:A+Beta+1"))
    db.commit()
    enroll(enrollments, learner, "course-v1:A+Expired+1", audit_access_deadline=days(-2))


def walk(app, url, size, headers=None, **params):
    """Every page's ids, and the counts the pages report."""
    pages, counts, number = [], set(), 1
    while True:
        body = app.get(url, {**params, "page_size": size, "page": number},
                       headers=headers or {}).json
        pages.append([course if isinstance(course, str) else course["id"]
                      for course in body["results"]])
        counts.add(body["pagination"]["count"])
        if body["pagination"]["next"] is None:
            return pages, counts
        number += 1


def flat(pages):
    return [course for page in pages for course in page]


@pytest.mark.parametrize("size", [1, 3, 100])
def test_the_learner_sees_the_courses_has_access_passes(app, catalog, learner, size):
    pages, counts = walk(app, LIST, size, jwt_headers(app, learner), username="learner")
    assert flat(pages) == LEARNER_SEES
    # The expired course passes SQL (only its enrollment tells): counted, not shown.
    assert counts == {len(LEARNER_SEES) + 1}


@pytest.mark.parametrize("size", [1, 4, 100])
def test_anonymous_sees_the_courses_has_access_passes(app, catalog, size):
    pages, counts = walk(app, LIST, size)
    assert flat(pages) == ANONYMOUS_SEES
    assert counts == {len(ANONYMOUS_SEES)}


def test_filters_and_permissions_combine_with_the_access_rule(app, catalog, learner):
    headers = jwt_headers(app, learner)
    as_learner = {"username": "learner"}
    pages, _ = walk(app, LIST, 2, headers, mobile="true", **as_learner)
    assert flat(pages) == ["course-v1:A+Mobile+1"]
    pages, _ = walk(app, LIST, 2, headers, org="orgx", **as_learner)
    assert flat(pages) == ["course-v1:OrgX+Any+1"]
    pages, _ = walk(app, LIST, 2, headers, permissions="staff,see_in_catalog", **as_learner)
    assert flat(pages) == ["course-v1:A+Staffed+1", "course-v1:OrgX+Any+1"]
    pages, _ = walk(app, LIST, 2, headers, search_term="open", **as_learner)
    assert flat(pages) == ["course-v1:A+FutureOpen+1", "course-v1:A+Open+1"]


@pytest.mark.parametrize("role", sorted(LEARNER_ROLES))
def test_course_ids_of_each_role(app, catalog, learner, role):
    pages, _ = walk(app, IDS, 2, jwt_headers(app, learner), role=role, username="learner")
    assert flat(pages) == LEARNER_ROLES[role]


def test_global_staff_see_every_course(app, catalog, staff):
    pages, counts = walk(app, LIST, 5, jwt_headers(app, staff), username="staffer")
    assert flat(pages) == sorted(CATALOG) and counts == {len(CATALOG)}


# -- fixed queries ----------------------------------------------------------------------------

def add_courses(db, first, last):
    for number in range(first, last):
        # Half closed to enrollment: those alone ask the enrollment hook.
        small(db, f"course-v1:B+C{number:03d}+1",
              enrollment_end=days(-1) if number % 2 else None)


def queries_of(app, query_counter, url, headers, **params):
    with query_counter() as queries:
        app.get(url, params, headers=headers)
    return len(queries)


@pytest.mark.parametrize("url,params", [
    (LIST, {}), (LIST, {"username": "learner"}),
    (IDS, {"role": "load", "username": "learner"}),
    (IDS, {"role": "see_exists", "username": "learner"}),
])
def test_queries_are_the_same_for_1_and_40_courses_and_any_page(
        app, db, learner, query_counter, url, params):
    headers = jwt_headers(app, learner) if params.get("username") else {}
    add_courses(db, 0, 1)
    one = queries_of(app, query_counter, url, headers, **params)
    add_courses(db, 1, 40)
    counts = {queries_of(app, query_counter, url, headers, page_size=5, page=page, **params)
              for page in (1, 4, "last")}
    # (The caller's roles,) the count, the page's courses (and their enrollments).
    assert counts == {one} and one == (4 if headers else 2)
