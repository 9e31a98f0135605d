"""Threads (``/api/discussion/v1/threads/``) as the discussions MFE calls them (JWT)."""
from sqlalchemy import select

from plugins.discussion.models import EditHistory, Subscription, Thread
from tests.plugins.discussion.world import KEY, get, patch, post_json

THREADS = "/api/discussion/v1/threads/"


def new_thread(app, user, status=200, **fields):
    body = {"course_id": KEY, "topic_id": "course", "type": "discussion",
            "title": "Hello", "raw_body": "Some **bold** text", **fields}
    return post_json(app, THREADS, body, user, status=status)


def test_create_then_read_a_thread(app, db, world):
    created = new_thread(app, world["ann"]).json
    assert created["author"] == "ann" and created["author_label"] is None
    assert created["rendered_body"] == "<p>Some <strong>bold</strong> text</p>"
    assert created["preview_body"] == "Some bold text"
    assert created["comment_count"] == 1 and created["unread_comment_count"] == 0
    assert created["read"] is True and created["following"] is True
    assert created["editable_fields"] == [
        "abuse_flagged", "anonymous", "copy_link", "following", "raw_body", "read", "title",
        "topic_id", "type", "voted"]
    assert created["comment_list_url"] == (
        f"http://localhost/api/discussion/v1/comments/?thread_id={created['id']}")
    row = db.scalar(select(Thread).where(Thread.content_id == created["id"]))
    assert (row.title, row.author_id, row.course_key) == ("Hello", world["ann"].id, KEY)
    assert db.scalar(select(Subscription.user_id).where(Subscription.thread_id == row.id)) \
        == world["ann"].id
    seen_by_bob = get(app, THREADS + created["id"] + "/", world["bob"]).json
    assert seen_by_bob["read"] is False and seen_by_bob["unread_comment_count"] == 1
    assert seen_by_bob["editable_fields"] == ["abuse_flagged", "copy_link", "following",
                                              "read", "voted"]
    assert seen_by_bob["can_delete"] is False
    listed = get(app, THREADS, world["bob"], {"course_id": KEY}).json
    assert listed["pagination"] == {"next": None, "previous": None, "count": 1,
                                    "num_pages": 1}
    assert listed["text_search_rewrite"] is None
    assert [t["id"] for t in listed["results"]] == [created["id"]]


def test_patch_edits_body_with_history(app, db, world):
    created = new_thread(app, world["ann"]).json
    changed = patch(app, THREADS + created["id"] + "/",
                    {"raw_body": "Changed", "edit_reason_code": "needs-clarity"},
                    world["mod"]).json
    assert changed["raw_body"] == "Changed" and changed["read"] is True
    assert changed["last_edit"]["original_body"] == "Some **bold** text"
    assert changed["last_edit"]["reason"] == "Content needs clarity"
    assert changed["edit_by_label"] == "Moderator"
    assert db.scalar(select(EditHistory.reason_code)) == "needs-clarity"
    refused = patch(app, THREADS + created["id"] + "/", {"pinned": True}, world["bob"],
                    status=400).json
    assert refused == {"field_errors": {"pinned": {"developer_message":
                                                   "This field is not editable."}}}
