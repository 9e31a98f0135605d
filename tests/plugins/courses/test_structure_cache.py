"""The block tree cache: bounded in bytes (LRU), and the tree walks done once per version."""
import dataclasses
from types import SimpleNamespace

import pytest
from pyramid.config import ConfigurationError

from plugins.courses import api, blocks
from plugins.courses.blocks import BlocksParams, get_blocks
from plugins.courses.structure import (
    BYTES_PER_BLOCK,
    BYTES_PER_JSON_CHARACTER,
    StructureCache,
    build_structure,
)
from tests.plugins.courses.factories import Node, make_course
from tests.plugins.courses.test_blocks_support import (
    ROOT, build_app, enroll, key, make_user, user_headers,
)

V1 = "/api/courses/v1/blocks/"


@pytest.fixture(name="app")
def learning_app(app_factory, settings, add_plugins):
    return build_app(app_factory, settings, add_plugins)


def small_course(db, name, html=""):
    tree = Node("course", "course", display_name=name, children=[
        Node("chapter", "c", children=[Node("html", "h", data={"html": html})])])
    return make_course(db, tree, course_key=f"course-v1:Org+{name}+2026")


# -- bounded in bytes -----------------------------------------------------------------

def test_the_estimate_follows_the_blocks_and_their_json(app, db):
    plain, bulky = small_course(db, "Plain"), small_course(db, "Bulky", html="x" * 10_000)
    cache = StructureCache(size=10, max_bytes=10**9)
    cache.get(db, plain)
    plain_bytes = cache.bytes
    cache.get(db, bulky)
    bulky_bytes = cache.bytes - plain_bytes
    assert 3 * BYTES_PER_BLOCK < plain_bytes < 3 * BYTES_PER_BLOCK + 1000
    assert bulky_bytes - plain_bytes == 10_000 * BYTES_PER_JSON_CHARACTER


def test_least_recently_used_goes_first_when_the_bytes_run_out(app, db):
    first, second, third = (small_course(db, name) for name in ("One", "Two", "Six"))  # same sizes
    probe = StructureCache(size=10, max_bytes=10**9)
    probe.get(db, first)
    each = probe.bytes  # the three courses cost the same
    cache = StructureCache(size=10, max_bytes=2 * each)
    cache.get(db, first)
    cache.get(db, second)
    cache.get(db, first)  # now the most recent: the second goes next
    cache.get(db, third)
    assert cache.builds == 3 and cache.bytes == 2 * each
    cache.get(db, first)
    cache.get(db, third)
    assert cache.builds == 3  # both kept
    cache.get(db, second)
    assert cache.builds == 4 and cache.bytes == 2 * each


def test_the_entry_count_still_bounds_too(app, db):
    courses = [small_course(db, name) for name in ("One", "Two", "Three")]
    cache = StructureCache(size=2, max_bytes=10**9)
    for course in courses:
        cache.get(db, course)
    cache.get(db, courses[0])
    assert cache.builds == 4


def test_a_tree_over_the_budget_is_served_but_not_kept(app, db, caplog):
    course = small_course(db, "Big")
    cache = StructureCache(size=10, max_bytes=BYTES_PER_BLOCK)
    assert len(cache.get(db, course).blocks) == 3
    assert len(cache.get(db, course).blocks) == 3
    assert cache.builds == 2 and cache.bytes == 0
    assert "courses.structure_cache_bytes" in caplog.text


def test_the_budget_is_a_setting(app_factory):
    cache = app_factory().registry[api.STRUCTURE_CACHE_KEY]
    assert (cache.size, cache.max_bytes) == (64, 64 * 1024 * 1024)
    app = app_factory(**{"courses.structure_cache_bytes": "1000000"})
    assert app.registry[api.STRUCTURE_CACHE_KEY].max_bytes == 1_000_000
    with pytest.raises(ConfigurationError, match="courses.structure_cache_bytes"):
        app_factory(**{"courses.structure_cache_bytes": "lots"})


# -- walks once per version -------------------------------------------------------------

@pytest.fixture
def walks(monkeypatch):
    """The roots walked, one entry per walk built."""
    built = []
    original = blocks._build_walk

    def counting(structure, root):
        built.append((structure.version, root))
        return original(structure, root)

    monkeypatch.setattr(blocks, "_build_walk", counting)
    return built


def test_walks_are_built_once_per_version_and_root(app, db, walks):
    course = make_course(db)
    learner, staff = make_user(db, "learner"), make_user(db, "staffer", is_staff=True)
    enroll(learner)
    params = [{"depth": "all"}, {"depth": "1", "block_counts": "html"},
              {"nav_depth": "2", "requested_fields": "children"},
              {"depth": "all", "block_types_filter": "html,vertical"}]
    for query in params:
        for user, extra in ((learner, {"username": "learner"}), (staff, {"all_blocks": "true"})):
            app.get(V1, {"course_id": course.course_key, **query, **extra},
                    headers=user_headers(app, user))
    assert walks == [(course.version, ROOT)]
    unit = key("vertical", "unit1")
    for _ in range(2):
        app.get(f"{V1}{unit}/", {"all_blocks": "true"}, headers=user_headers(app, staff))
    assert walks == [(course.version, ROOT), (course.version, unit)]
    again = make_course(db)  # a new version: walked again
    app.get(V1, {"course_id": again.course_key, "all_blocks": "true"},
            headers=user_headers(app, staff))
    assert walks[2:] == [(again.version, ROOT)]


def rows(*blocks_):
    """Block rows for build_structure: ``(usage key, type, children)`` in document order."""
    return [SimpleNamespace(usage_key=usage, block_type=block_type, block_id=usage,
                            display_name=usage, children=list(children), fields={}, data={},
                            position=position)
            for position, (usage, block_type, children) in enumerate(blocks_)]


TREE = rows(("root", "course", ["a", "b"]), ("a", "chapter", ["a1", "a2"]),
            ("a1", "vertical", ["a1x"]), ("a1x", "html", []), ("a2", "vertical", []),
            ("b", "chapter", ["b1"]), ("b1", "vertical", ["b1x", "b1y"]),
            ("b1x", "html", []), ("b1y", "problem", []))
# "shared" has two parents, one of which the viewer may not see.
DAG = rows(("root", "course", ["a", "b"]), ("a", "chapter", ["shared", "a2"]),
           ("shared", "vertical", ["deep"]), ("deep", "html", []), ("a2", "vertical", []),
           ("b", "chapter", ["b1", "shared"]), ("b1", "vertical", ["shared"]))
PARAMS = [BlocksParams(depth=None), BlocksParams(depth=1), BlocksParams(depth=2),
          BlocksParams(depth=None, nav_depth=1,
                       requested_fields=frozenset({"type", "nav_depth", "children"})),
          BlocksParams(depth=None, block_counts=frozenset({"html", "vertical"}),
                       requested_fields=frozenset({"type", "block_counts", "children"})),
          BlocksParams(depth=None, block_types_filter=frozenset({"html", "chapter"}),
                       requested_fields=frozenset({"type", "children"}))]
VISIBLE = [None, {"root", "a", "a1", "a1x", "b", "b1", "b1y", "shared", "deep"},
           {"root", "b", "b1", "b1x", "shared", "deep", "a2"}, {"a", "a1"}, set()]


@pytest.mark.parametrize("tree_rows", [TREE, DAG], ids=["tree", "dag"])
def test_a_restricted_walk_answers_as_the_viewers_own_walk(monkeypatch, tree_rows):
    structure = build_structure("course-v1:O+C+R", "v1", tree_rows)
    cached = {}
    for visible in VISIBLE:
        for params in PARAMS:
            for root in ("root", "a", "b"):
                cached[(str(visible), params, root)] = get_blocks(
                    structure, root, visible, params, base_url="http://x")
    # The same answers when every viewer walks the tree anew (the code before the cache).
    own_walk = blocks.walk
    monkeypatch.setattr(blocks, "walk", lambda s, root: dataclasses.replace(
        own_walk(s, root), is_tree=False))
    for (visible, params, root), expected in cached.items():
        visible = next(v for v in VISIBLE if str(v) == visible)
        assert get_blocks(structure, root, visible, params, base_url="http://x") == expected


def test_only_trees_are_restricted():
    assert blocks.walk(build_structure("k", "v", TREE), "root").is_tree
    assert not blocks.walk(build_structure("k", "v", DAG), "root").is_tree
    assert blocks.walk(build_structure("k", "v", DAG), "b1").is_tree
