"""Comments (``/api/discussion/v1/comments/``): responses, replies, endorsement, edits."""
from sqlalchemy import select

from plugins.discussion.models import Comment, Thread
from tests.plugins.discussion.world import KEY, auth, get, patch, post_json

COMMENTS = "/api/discussion/v1/comments/"
THREADS = "/api/discussion/v1/threads/"


def thread(app, user, **fields):
    body = {"course_id": KEY, "topic_id": "course", "type": "discussion", "title": "T",
            "raw_body": "B", **fields}
    return post_json(app, THREADS, body, user).json["id"]


def comment(app, user, thread_id, status=200, **fields):
    return post_json(app, COMMENTS, {"thread_id": thread_id, "raw_body": "A reply", **fields},
                     user, status=status)


def test_responses_and_replies(app, db, world):
    thread_id = thread(app, world["ann"])
    response = comment(app, world["bob"], thread_id).json
    assert response["thread_id"] == thread_id and response["parent_id"] is None
    assert response["author"] == "bob" and response["child_count"] == 0
    assert response["editable_fields"] == ["abuse_flagged", "anonymous", "raw_body"]
    by_ann = get(app, COMMENTS, world["ann"], {"thread_id": thread_id}).json["results"][0]
    assert by_ann["editable_fields"] == ["abuse_flagged", "voted"]
    assert response["abuse_flagged_any_user"] is None and response["children"] == []
    reply = comment(app, world["ann"], thread_id, parent_id=response["id"]).json
    assert reply["parent_id"] == response["id"]
    # MAX_COMMENT_DEPTH 2: a reply to a reply (depth 2) is allowed, none below it
    deepest = comment(app, world["bob"], thread_id, parent_id=reply["id"]).json
    too_deep = comment(app, world["ann"], thread_id, status=400, parent_id=deepest["id"]).json
    assert too_deep == {"field_errors": {"non_field_errors": {
        "developer_message": "Comment level is too deep."}}}
    assert db.scalar(select(Comment.depth).where(Comment.content_id == deepest["id"])) == 2
    listed = get(app, COMMENTS, world["bob"], {"thread_id": thread_id}).json
    assert [c["id"] for c in listed["results"]] == [response["id"]]
    assert listed["results"][0]["child_count"] == 1
    replies = get(app, COMMENTS + response["id"] + "/", world["bob"]).json
    assert [c["id"] for c in replies["results"]] == [reply["id"]]
    seen = get(app, THREADS + thread_id + "/", world["ann"]).json
    assert seen["comment_count"] == 4 and seen["response_count"] == 1
    # ann read the thread when she replied; bob's reply came after
    assert seen["unread_comment_count"] == 1 and seen["read"] is False
    by_bob = get(app, THREADS + thread_id + "/", world["bob"]).json
    assert by_bob["unread_comment_count"] == 0 and by_bob["read"] is True
    never = get(app, THREADS + thread_id + "/", world["ta"]).json
    # never read: every comment and the post itself
    assert never["unread_comment_count"] == 4 and never["read"] is False
    row = db.scalar(select(Thread).where(Thread.content_id == thread_id))
    assert (row.comment_count, row.response_count) == (3, 1)


def test_question_threads_need_endorsed(app, db, world):
    question = thread(app, world["ann"], type="question")
    answer = comment(app, world["bob"], question).json
    assert get(app, COMMENTS, world["ann"], {"thread_id": question}, status=400).json == {
        "field_errors": {"endorsed": {"developer_message":
                                      "This field is required for question threads."}}}
    assert "endorsed" in get(app, COMMENTS, world["ann"],
                             {"thread_id": question, "endorsed": "false"}).json[
        "results"][0]["editable_fields"]
    endorsed = patch(app, COMMENTS + answer["id"] + "/", {"endorsed": True}, world["ann"]).json
    assert endorsed["endorsed"] is True and endorsed["endorsed_by"] == "ann"
    assert endorsed["endorsed_at"] is not None
    assert get(app, COMMENTS, world["ann"], {"thread_id": question, "endorsed": "true"}).json[
        "pagination"]["count"] == 1
    assert get(app, THREADS + question + "/", world["bob"]).json["has_endorsed"] is True
    assert get(app, THREADS, world["bob"], {"course_id": KEY, "view": "unanswered"}).json[
        "results"] == []
    discussion = thread(app, world["ann"])
    assert get(app, COMMENTS, world["ann"], {"thread_id": discussion, "endorsed": "true"},
               status=400).json == {"field_errors": {"endorsed": {
                   "developer_message": "This field may not be specified for discussion "
                                        "threads."}}}
    response = comment(app, world["bob"], discussion).json
    assert patch(app, COMMENTS + response["id"] + "/", {"endorsed": True}, world["ann"],
                 status=400).json == {"field_errors": {"endorsed": {
                     "developer_message": "This field is not editable."}}}
    assert patch(app, COMMENTS + response["id"] + "/", {"endorsed": True},
                 world["ta"]).json["endorsed_by_label"] == "Community TA"


def test_closed_threads_and_blackouts(app, db, world):
    thread_id = thread(app, world["ann"])
    patch(app, THREADS + thread_id + "/", {"closed": True}, world["mod"])
    assert comment(app, world["bob"], thread_id, status=403).json == {
        "developer_message": "You do not have permission to perform this action."}
    from plugins.courses import api as courses_api

    course = courses_api.get_course(db, KEY)
    course.settings = {**course.settings, "discussion_blackouts": [
        ["2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"]]}
    db.commit()
    open_thread = db.scalar(select(Thread).where(Thread.content_id == thread_id))
    open_thread.closed = False
    db.commit()
    assert comment(app, world["bob"], thread_id, status=403).json == {
        "developer_message": "Discussions are in blackout period."}
    assert comment(app, world["mod"], thread_id).json["author_label"] == "Moderator"
    refused = post_json(app, THREADS, {"course_id": KEY, "topic_id": "course",
                                       "type": "discussion", "title": "T", "raw_body": "B"},
                        world["bob"], status=403).json
    assert refused == {"developer_message": "Discussions are in blackout period."}


def test_bad_comment_input(app, db, world):
    thread_id = thread(app, world["ann"])
    assert post_json(app, COMMENTS, {"raw_body": "x"}, world["bob"], status=400).json == {
        "field_errors": {"thread_id": {"developer_message": "This field is required."}}}
    assert comment(app, world["bob"], "0" * 24, status=404).json == {
        "developer_message": "Thread not found."}
    assert post_json(app, COMMENTS, {"thread_id": thread_id, "raw_body": " "}, world["bob"],
                     status=400).json == {"field_errors": {"raw_body": {
                         "developer_message": "This field may not be blank."}}}
    other = thread(app, world["bob"])
    elsewhere = comment(app, world["bob"], other).json["id"]
    assert comment(app, world["bob"], thread_id, status=400, parent_id=elsewhere).json == {
        "field_errors": {"non_field_errors": {"developer_message":
                                              "parent_id does not identify a comment in the "
                                              "thread identified by thread_id."}}}
    assert comment(app, world["bob"], thread_id, status=400, endorsed=True).json == {
        "field_errors": {"endorsed": {"developer_message": "This field is not initializable."}}}
    assert get(app, COMMENTS, world["bob"], {}, status=400).json == {
        "field_errors": {"thread_id": {"developer_message": "This field is required."}}}
    assert get(app, COMMENTS + "nope/", world["bob"], status=404).json == {
        "developer_message": "Comment not found."}
    assert comment(app, world["out"], thread_id, status=404).json == {
        "developer_message": "Course not found."}
    app.post(COMMENTS, "[1, 2]", content_type="application/json",
             headers=auth(app, world["bob"]), status=400)
    assert db.scalar(select(Comment.id).where(Comment.thread_id == db.scalar(
        select(Thread.id).where(Thread.content_id == thread_id)))) is None


def test_edit_vote_flag_and_delete(app, db, world):
    thread_id = thread(app, world["ann"])
    response = comment(app, world["bob"], thread_id).json
    url = COMMENTS + response["id"] + "/"
    assert patch(app, url, {"raw_body": "x"}, world["ann"], status=400).json == {
        "field_errors": {"raw_body": {"developer_message": "This field is not editable."}}}
    edited = patch(app, url, {"raw_body": "Better"}, world["bob"]).json
    assert edited["raw_body"] == "Better" and edited["last_edit"]["original_body"] == "A reply"
    assert get(app, COMMENTS, world["ann"], {"thread_id": thread_id}).json["results"][0][
        "last_edit"] is None
    assert patch(app, url, {"voted": True}, world["ann"]).json["vote_count"] == 1
    assert patch(app, url, {"abuse_flagged": True}, world["ann"]).json["abuse_flagged"] is True
    assert get(app, COMMENTS, world["mod"], {"thread_id": thread_id}).json["results"][0][
        "abuse_flagged_any_user"] is True
    reply = comment(app, world["ann"], thread_id, parent_id=response["id"]).json
    app.delete(COMMENTS + reply["id"] + "/", headers=auth(app, world["bob"]), status=403)
    app.delete(url, headers=auth(app, world["bob"]), status=204)
    row = db.scalar(select(Thread).where(Thread.content_id == thread_id))
    db.refresh(row)
    assert (row.comment_count, row.response_count) == (0, 0)
    assert db.scalar(select(Comment.id)) is None


def test_user_comments_in_a_course(app, db, world):
    thread_id = thread(app, world["ann"])
    first = comment(app, world["bob"], thread_id).json["id"]
    comment(app, world["bob"], thread_id, anonymous=True)
    listed = get(app, COMMENTS, world["ann"], {"username": "bob", "course_id": KEY}).json
    assert [c["id"] for c in listed["results"]] == [first]
    assert get(app, COMMENTS, world["ann"], {"username": "ghost", "course_id": KEY},
               status=404).json == {"developer_message": "No User matches the given query."}
    assert get(app, COMMENTS, world["ann"], {"username": "bob"}, status=400).json == {
        "field_errors": {"course_id": {"developer_message": "This field is required."}}}
