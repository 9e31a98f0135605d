"""The blocks API costs a fixed number of queries, whatever the course size, and
never rebuilds a course's tree another request built."""
from urllib.parse import urlencode

import pytest

from tests.plugins.courses.factories import Node, make_course
from tests.plugins.courses.test_blocks_support import (
    build_app, enroll, make_user, structure_builds, user_headers,
)

SMALL_KEY, LARGE_KEY = "course-v1:Perf+Small+1", "course-v1:Perf+Large+1"


@pytest.fixture(name="app")
def learning_app(app_factory, settings, add_plugins):
    return build_app(app_factory, settings, add_plugins)


def course_tree(chapters, sequentials, verticals, leaves):
    """course -> chapters -> sequentials -> verticals -> leaves (html/problem/video)."""
    kinds = ("html", "problem", "video")
    return Node("course", "course", display_name="Perf", children=[
        Node("chapter", f"c{c}", display_name=f"Chapter {c}", children=[
            Node("sequential", f"c{c}s{s}", graded=True, format="Homework", children=[
                Node("vertical", f"c{c}s{s}v{v}", children=[
                    Node(kinds[leaf % 3], f"c{c}s{s}v{v}l{leaf}",
                         data={"html": "<p>x</p>", "youtube_id_1_0": "abc"})
                    for leaf in range(leaves)])
                for v in range(verticals)])
            for s in range(sequentials)])
        for c in range(chapters)])


@pytest.fixture
def courses(db):
    small = make_course(db, course_tree(2, 1, 1, 4), course_key=SMALL_KEY)  # 15 blocks
    large = make_course(db, course_tree(4, 5, 3, 4), course_key=LARGE_KEY)  # 325 blocks
    return small, large


def blocks_url(course_key):
    return "/api/courses/v2/blocks/?" + urlencode({"course_id": course_key})


PARAMS = {"depth": "all", "return_type": "list",
          "requested_fields": "children,graded,format,due,start,completion,has_score",
          "block_counts": "video,problem", "student_view_data": "video,html", "nav_depth": "3"}


@pytest.mark.parametrize("as_staff", [False, True])
def test_query_count_does_not_grow_with_the_course(app, db, courses, query_counter, as_staff):
    small, large = courses
    user = make_user(db, "perf", is_staff=as_staff)
    for course in courses:
        enroll(user, course.course_key)
    params = {**PARAMS, **({"all_blocks": "true"} if as_staff else {"username": "perf"})}
    headers = user_headers(app, user)
    counts = {}
    for course in (small, large):
        app.get(blocks_url(course.course_key), params, headers=headers)  # warm the tree cache
        with query_counter() as queries:
            body = app.get(blocks_url(course.course_key), params, headers=headers).json
        counts[course.course_key] = len(queries)
        assert len(body) == {SMALL_KEY: 15, LARGE_KEY: 325}[course.course_key]
    assert counts[SMALL_KEY] == counts[LARGE_KEY]
    # Authentication, the course row, and the role look-ups of the viewer; a learner's
    # content groups add the enrollment plugin's cohort settings and the course's
    # cohort_config (lms_user_partition_groups).
    assert counts[SMALL_KEY] == (3 if as_staff else 6)


def test_a_second_request_reuses_the_tree(app, db, courses):
    user = make_user(db, "perf")
    enroll(user, LARGE_KEY)
    headers = user_headers(app, user)
    before = structure_builds(app)
    first = app.get(blocks_url(LARGE_KEY), {**PARAMS, "username": "perf"}, headers=headers).json
    assert structure_builds(app) == before + 1
    second = app.get(blocks_url(LARGE_KEY), {**PARAMS, "username": "perf"}, headers=headers).json
    assert structure_builds(app) == before + 1
    assert first == second
