"""A course's topics: v1 categories, v2 flat, v3 outline."""
from urllib.parse import quote

from lms.testing import create_user
from plugins.discussion import posts
from tests.plugins.discussion.world import KEY, get, make_world

V1 = f"/api/discussion/v1/course_topics/{KEY}"
V2 = f"/api/discussion/v2/course_topics/{KEY}"
V3 = f"/api/discussion/v3/course_topics/{KEY}"
BASE = "http://localhost/api/discussion/v1/threads/?course_id=" + quote(KEY, safe="")


def url(*topics):
    return BASE + "".join(f"&topic_id={topic}" for topic in topics)


def usage(block_type, block_id):
    return f"block-v1:edX+Forum+2026+type@{block_type}+block@{block_id}"


def some_threads(db, world):
    for topic, kind in (("topic-intro", "question"), ("topic-intro", "discussion"),
                        ("course", "discussion")):
        posts.create_thread(db, course_key=KEY, author_id=world["ann"].id, topic_id=topic,
                            thread_type=kind, title="T", body="B")
    db.commit()


def test_v1_for_a_learner(app, db, world):
    some_threads(db, world)
    body = get(app, V1, world["ann"]).json
    assert body == {
        "courseware_topics": [{
            "id": None, "name": "Week 1", "thread_list_url": url("topic-intro",
                                                                 "topic-questions"),
            "thread_counts": None,
            "children": [
                {"id": "topic-intro", "name": "Introductions",
                 "thread_list_url": url("topic-intro"), "children": [],
                 "thread_counts": {"discussion": 1, "question": 1}},
                {"id": "topic-questions", "name": "Questions",
                 "thread_list_url": url("topic-questions"), "children": [],
                 "thread_counts": {"discussion": 0, "question": 0}}]}],
        # in policy order
        "non_courseware_topics": [
            {"id": "course", "name": "General", "thread_list_url": url("course"),
             "children": [], "thread_counts": {"discussion": 1, "question": 0}},
            {"id": "announcements", "name": "Announcements",
             "thread_list_url": url("announcements"), "children": [],
             "thread_counts": {"discussion": 0, "question": 0}}]}
    # unreleased discussions are left out for staff too
    staff = get(app, V1, world["teacher"]).json
    assert [c["name"] for c in staff["courseware_topics"]] == ["Week 1"]


def test_v1_categories_in_alphanumeric_order(app, db):
    from tests.plugins.courses.factories import PAST, Node, make_course
    from tests.plugins.discussion.world import TABS

    key = "course-v1:edX+Order+2026"
    blocks = [Node("discussion", f"d{n}", discussion_id=f"t{n}",
                   discussion_category=f"Week {n}", discussion_target="Talk")
              for n in (10, 2, 1)]
    make_course(db, Node("course", "course", children=[
        Node("chapter", "c", start=PAST, children=[Node("sequential", "s", children=[
            Node("vertical", "v", children=blocks)])])]), course_key=key,
        settings={"tabs": TABS})
    root = create_user(db, "orderroot", is_staff=True)
    body = get(app, f"/api/discussion/v1/course_topics/{key}", root).json
    assert [c["name"] for c in body["courseware_topics"]] == ["Week 1", "Week 2", "Week 10"]


def test_v1_topic_filter(app, db, world):
    only = get(app, V1, world["ann"], {"topic_id": "course,topic-questions"}).json
    assert [t["id"] for t in only["non_courseware_topics"]] == ["course"]
    assert [c["id"] for c in only["courseware_topics"][0]["children"]] == ["topic-questions"]
    missing = get(app, V1, world["ann"], {"topic_id": "course,nope,topic-later"},
                  status=404).json
    # a topic the learner may not see yet is as unknown as one that does not exist
    assert missing == {"developer_message": "Discussion not found for 'nope, topic-later'."}


def test_v2_orders(app, db, world):
    some_threads(db, world)
    topics = get(app, V2, world["ann"]).json
    assert [t["id"] for t in topics] == ["course", "announcements", "topic-intro",
                                         "topic-questions"]
    assert topics[2] == {"id": "topic-intro", "usage_key": usage("discussion", "intro"),
                         "name": "Introductions", "enabled_in_context": True,
                         "thread_counts": {"discussion": 1, "question": 1}}
    assert topics[0]["usage_key"] is None
    by_name = get(app, V2, world["ann"], {"order_by": "name"}).json
    assert [t["name"] for t in by_name] == ["Announcements", "General", "Introductions",
                                            "Questions"]
    by_activity = get(app, V2, world["ann"], {"order_by": "activity"}).json
    assert [t["id"] for t in by_activity][:2] == ["topic-intro", "course"]
    assert get(app, V2, world["ann"], {"order_by": "nope"}, status=400).json == {
        "field_errors": {"order_by": {"developer_message": "Select a valid choice. nope is "
                                                           "not one of the available choices."}}}


def test_v3_outline(app, db, world):
    some_threads(db, world)
    body = get(app, V3, world["ann"]).json
    assert [t["id"] for t in body if not t["courseware"]] == ["course", "announcements"]
    chapter = body[2]
    assert chapter["courseware"] is True and chapter["type"] == "chapter"
    assert chapter["id"] == usage("chapter", "week1") and chapter["block_id"] == "week1"
    assert chapter["display_name"] == "Week 1"
    assert chapter["lms_web_url"] == (f"http://localhost/courses/{KEY}/jump_to/"
                                      f"{usage('chapter', 'week1')}")
    sequential = chapter["children"][0]
    assert sequential["type"] == "sequential" and sequential["display_name"] == "Lesson 1"
    assert sequential["thread_counts"] == {"discussion": 1, "question": 1}
    assert [t["id"] for t in sequential["children"]] == ["topic-intro", "topic-questions"]
    assert len(body) == 3  # the unreleased chapter is not shown to a learner
    assert len(get(app, V3, world["teacher"]).json) == 4


def test_who_may_ask(app, db, world):
    for path in (V1, V2, V3):
        assert app.get(path, status=401).json == {
            "developer_message": "Authentication credentials were not provided."}
        assert get(app, path, world["out"], status=404).json == {
            "developer_message": "Course not found."}
        assert get(app, path, world["root"]).status_int == 200
    assert get(app, "/api/discussion/v1/course_topics/not-a-key", world["root"],
               status=404).json == {"developer_message": "Course not found."}


def test_discussions_off(app, db):
    key = "course-v1:edX+Quiet+2026"
    people = make_world(db, key=key, settings={"tabs": [{"type": "courseware"}]})
    off = {"developer_message": "Discussion is disabled for the course."}
    assert get(app, f"/api/discussion/v1/course_topics/{key}", people["ann"],
               status=404).json == off
    # v2 and v3 do not ask about the tab (upstream)
    for version in ("v2", "v3"):
        assert get(app, f"/api/discussion/{version}/course_topics/{key}",
                   people["ann"]).status_int == 200
    assert get(app, "/api/discussion/v1/threads/", people["ann"], {"course_id": key},
               status=404).json == off
