"""Storing a course, its block tree (built once per version) and access rules."""
from sqlalchemy import func, select

from lms.testing import create_user
from plugins.courses import api
from plugins.courses.access import UserContext, random_group, visible_blocks
from plugins.courses.models import Block, Course, Organization
from tests.plugins.courses.factories import DEMO_KEY, Node, make_course, usage_key


def key(block_type, block_id):
    return usage_key(DEMO_KEY, block_type, block_id)


def test_store_course_creates_overview_blocks_and_org(app, db):
    course = make_course(db)
    assert course.version and len(course.version) == 24
    assert db.scalar(select(func.count(Block.id))) == 13
    assert db.scalar(select(Organization.short_name)) == "edX"


def test_structure_inherits_and_orders(app, db):
    course = make_course(db)
    structure = api.get_structure(app.registry, db, course)
    assert structure.root == key("course", "course")
    assert list(structure.blocks)[:4] == [key("course", "course"), key("chapter", "week1"),
                                          key("sequential", "lesson1"), key("vertical", "unit1")]
    intro = structure.blocks[key("html", "intro")]
    assert intro.get("due").year == 2030  # inherited from the sequential
    assert intro.depth == 4
    assert structure.blocks[key("html", "later")].get("start") > intro.get("due").replace(
        year=2000)


def test_reimport_replaces_atomically_and_cache_follows(app, db):
    first = make_course(db)
    version = first.version
    cache = app.registry[api.STRUCTURE_CACHE_KEY]
    api.get_structure(app.registry, db, first)
    api.get_structure(app.registry, db, first)
    assert cache.builds == 1
    second = make_course(db, Node("course", "course", display_name="Renamed",
                                  children=[Node("chapter", "only")]))
    assert second.id == first.id and second.version != version
    assert db.scalar(select(func.count(Block.id))) == 2
    assert db.scalar(select(Course.display_name)) == "Renamed"
    assert len(api.get_structure(app.registry, db, second).blocks) == 2


def test_failed_store_changes_nothing(app, db):
    make_course(db)
    try:
        api.store_course(db, DEMO_KEY, {"no_such_field": 1}, [])
    except ValueError:
        db.rollback()
    assert db.scalar(select(func.count(Block.id))) == 13


def test_learner_does_not_see_future_or_staff_only_blocks(app, db):
    course = make_course(db)
    structure = api.get_structure(app.registry, db, course)
    learner = UserContext(user=create_user(db, "learner"))
    from lms.timeutil import utcnow
    learner.now = utcnow()
    seen = visible_blocks(structure, course, learner)
    assert key("html", "intro") in seen
    assert key("chapter", "week2") not in seen and key("html", "later") not in seen
    assert key("vertical", "staffnotes") not in seen and key("html", "secret") not in seen
    staff = UserContext(user=learner.user, is_staff=True, now=learner.now)
    assert visible_blocks(structure, course, staff) == set(structure.blocks)


def test_group_access_and_split_test(app, db):
    partitions = [{"id": 50, "scheme": "cohort", "groups": [{"id": 1}, {"id": 2}]},
                  {"id": 60, "scheme": "random", "groups": [{"id": 7}, {"id": 8}]}]
    tree = Node("course", "course", children=[Node("chapter", "c", children=[
        Node("html", "g1", group_access={"50": [1]}),
        Node("split_test", "ab", user_partition_id=60,
             group_id_to_child={"7": key("vertical", "a"), "8": key("vertical", "b")},
             children=[Node("vertical", "a"), Node("vertical", "b")]),
    ])])
    course = make_course(db, tree, settings={"user_partitions": partitions})
    structure = api.get_structure(app.registry, db, course)
    from lms.timeutil import utcnow
    user = create_user(db, "grouped")
    outsider = visible_blocks(structure, course, UserContext(user=user, now=utcnow()))
    assert key("html", "g1") not in outsider
    member = visible_blocks(structure, course, UserContext(user=user, groups={50: 1},
                                                           now=utcnow()))
    assert key("html", "g1") in member
    chosen = "a" if random_group(partitions[1], user.id) == 7 else "b"
    other = "b" if chosen == "a" else "a"
    assert key("vertical", chosen) in member and key("vertical", other) not in member
