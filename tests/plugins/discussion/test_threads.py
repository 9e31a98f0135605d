"""Threads (``/api/discussion/v1/threads/``) as the discussions MFE calls them (JWT)."""
from sqlalchemy import func, select

from plugins.discussion.models import EditHistory, Subscription, Thread
from tests.plugins.discussion.world import KEY, auth, get, patch, post_json

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
    # upstream: an author does not vote for their own post
    assert created["editable_fields"] == [
        "abuse_flagged", "anonymous", "copy_link", "following", "raw_body", "read", "title",
        "topic_id", "type"]
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


def ids(response):
    return [t["id"] for t in response.json["results"]]


def test_list_orders_pinned_first_then_by_activity_votes_and_comments(app, db, world):
    first = new_thread(app, world["ann"], title="First").json["id"]
    second = new_thread(app, world["ann"], title="Second").json["id"]
    third = new_thread(app, world["bob"], title="Third").json["id"]
    assert ids(get(app, THREADS, world["bob"], {"course_id": KEY})) == [third, second, first]
    patch(app, THREADS + first + "/", {"pinned": True}, world["mod"])
    patch(app, THREADS + second + "/", {"voted": True}, world["bob"])
    post_json(app, "/api/discussion/v1/comments/", {"thread_id": third, "raw_body": "r"},
              world["ann"])
    by_votes = get(app, THREADS, world["bob"], {"course_id": KEY, "order_by": "vote_count"})
    assert ids(by_votes) == [first, second, third]
    by_comments = get(app, THREADS, world["bob"],
                      {"course_id": KEY, "order_by": "comment_count"})
    assert ids(by_comments) == [first, third, second]
    by_activity = get(app, THREADS, world["bob"], {"course_id": KEY})
    assert ids(by_activity) == [first, third, second]


def test_list_filters(app, db, world):
    general = new_thread(app, world["ann"], title="Photosynthesis basics").json["id"]
    question = new_thread(app, world["bob"], topic_id="topic-intro", type="question",
                          title="Why", raw_body="Chlorophyll question").json["id"]
    params = {"course_id": KEY}
    assert ids(get(app, THREADS, world["ann"], {**params, "topic_id": "topic-intro"})) == [
        question]
    assert ids(get(app, THREADS, world["ann"], {**params, "thread_type": "question"})) == [
        question]
    assert ids(get(app, THREADS, world["ann"], {**params, "author": "ann"})) == [general]
    nobody = get(app, THREADS, world["ann"], {**params, "author": "no-such-user"}).json
    assert nobody["results"] == [] and nobody["pagination"]["count"] == 0
    assert ids(get(app, THREADS, world["ann"], {**params, "following": "true"})) == [general]
    assert ids(get(app, THREADS, world["ann"], {**params, "text_search": "chlorophyll"})) \
        == [question]
    assert ids(get(app, THREADS, world["ann"], {**params, "view": "unanswered"})) == [question]
    assert ids(get(app, THREADS, world["ann"], {**params, "view": "unread"})) == [question]
    assert set(ids(get(app, THREADS, world["ann"], {**params, "view": "unresponded"}))) == {
        general, question}


def test_list_refuses_bad_parameters(app, db, world):
    both = get(app, THREADS, world["ann"],
               {"course_id": KEY, "topic_id": "course", "text_search": "x"}, status=400)
    assert both.json == {"developer_message": "The following query parameters are mutually "
                                              "exclusive: topic_id, text_search, following"}
    missing = get(app, THREADS, world["ann"], {}, status=400).json
    assert missing == {"field_errors": {"course_id": {"developer_message":
                                                      "This field is required."}}}
    bad_key = get(app, THREADS, world["ann"], {"course_id": "nope"}, status=400).json
    assert bad_key == {"field_errors": {"course_id": {
        "developer_message": "'nope' is not a valid course id"}}}
    bad_order = get(app, THREADS, world["ann"], {"course_id": KEY, "order_by": "x"},
                    status=400).json
    assert bad_order["field_errors"]["order_by"]["developer_message"] == (
        "Select a valid choice. x is not one of the available choices.")
    page = get(app, THREADS, world["ann"], {"course_id": KEY, "page": "0"}, status=400).json
    assert page["field_errors"]["page"]["developer_message"] == (
        "Ensure this value is greater than or equal to 1.")
    beyond = get(app, THREADS, world["ann"], {"course_id": KEY, "page": "2"}, status=404).json
    assert beyond == {"developer_message": "Page not found (No results on this page)."}
    flagged = get(app, THREADS, world["ann"], {"course_id": KEY, "count_flagged": "true"},
                  status=403).json
    assert flagged == {"developer_message": "`count_flagged` can only be set by users with "
                                            "moderator access or higher."}


def test_pagination_links_and_page_size_cap(app, db, world):
    for number in range(3):
        new_thread(app, world["ann"], title=f"T{number}")
    body = get(app, THREADS, world["bob"], {"course_id": KEY, "page_size": "2"}).json
    assert body["pagination"]["count"] == 3 and body["pagination"]["num_pages"] == 2
    assert body["pagination"]["next"] == (
        f"http://localhost/api/discussion/v1/threads/?course_id={KEY.replace(':', '%3A')}"
        "&page_size=2&page=2").replace("+", "%2B")
    huge = get(app, THREADS, world["bob"], {"course_id": KEY, "page_size": "1000"}).json
    assert len(huge["results"]) == 3 and huge["pagination"]["num_pages"] == 1


def test_who_may_read(app, db, world):
    created = new_thread(app, world["ann"]).json["id"]
    anonymous = app.get(THREADS, {"course_id": KEY}, status=401).json
    assert anonymous == {"developer_message": "Authentication credentials were not provided."}
    outsider = get(app, THREADS, world["out"], {"course_id": KEY}, status=404).json
    assert outsider == {"developer_message": "Course not found."}
    assert get(app, THREADS + created + "/", world["out"], status=404).json == {
        "developer_message": "Course not found."}
    for staff in ("teacher", "root"):
        assert ids(get(app, THREADS, world[staff], {"course_id": KEY})) == [created]
    unknown = get(app, THREADS + "0123456789abcdef01234567/", world["ann"], status=404).json
    assert unknown == {"developer_message": "Thread not found."}
    wrong_course = get(app, THREADS + created + "/", world["ann"],
                       {"course_id": "course-v1:edX+Other+2026"}, status=404).json
    assert wrong_course == {"developer_message": "Thread not found."}


def test_create_refuses_what_the_caller_may_not_set(app, db, world):
    pinned = new_thread(app, world["ann"], status=400, pinned=True).json
    assert pinned == {"field_errors": {"pinned": {"developer_message":
                                                  "This field is not initializable."}}}
    missing = post_json(app, THREADS, {"course_id": KEY, "topic_id": "course"}, world["ann"],
                        status=400).json
    assert missing == {"field_errors": {
        "type": {"developer_message": "This field is required."},
        "title": {"developer_message": "This field is required."},
        "raw_body": {"developer_message": "This field is required."}}}
    bad_type = new_thread(app, world["ann"], status=400, type="poll").json
    assert bad_type["field_errors"]["type"]["developer_message"] == (
        "Select a valid choice. poll is not one of the available choices.")
    bad_topic = new_thread(app, world["ann"], status=400, topic_id="nope").json
    assert bad_topic == {"field_errors": {"topic_id": {"developer_message": "Invalid topic id"}}}
    # a topic in a chapter not yet released is no topic for learners
    assert new_thread(app, world["ann"], status=400, topic_id="topic-later").json[
        "field_errors"]["topic_id"]
    assert new_thread(app, world["teacher"], topic_id="topic-later").json["topic_id"] == \
        "topic-later"
    assert new_thread(app, world["out"], status=404).json == {
        "developer_message": "Course not found."}
    malformed = app.post(THREADS, "{not json", content_type="application/json",
                         headers=auth(app, world["ann"]), status=400)
    assert "developer_message" in malformed.json
    assert db.scalar(select(Thread.id).where(Thread.author_id == world["ann"].id)) is None


def test_create_takes_json_only(app, db, world):
    # ThreadViewSet parses JSON only (the MFE and the apps send JSON)
    response = app.post(THREADS, {"course_id": KEY, "topic_id": "course",
                                  "type": "question", "title": "Form", "raw_body": "Body"},
                        headers=auth(app, world["ann"]), status=415)
    assert "developer_message" in response.json
    question = new_thread(app, world["ann"], type="question").json
    assert question["endorsed_comment_list_url"].endswith("&endorsed=True")
    assert question["comment_list_url"] is None
    assert db.scalar(select(func.count(Thread.id))) == 1


def test_patch_rules(app, db, world):
    created = new_thread(app, world["ann"]).json["id"]
    url = THREADS + created + "/"
    not_merge = patch(app, url, {"title": "x"}, world["ann"], status=415,
                      content_type="application/json").json
    assert "developer_message" in not_merge
    assert patch(app, url, {"title": "Renamed"}, world["ann"]).json["title"] == "Renamed"
    assert patch(app, url, {"title": "Other"}, world["bob"], status=400).json == {
        "field_errors": {"title": {"developer_message": "This field is not editable."}}}
    blank = patch(app, url, {"title": "  "}, world["ann"], status=400).json
    assert blank == {"field_errors": {"title": {"developer_message":
                                                "This field may not be blank."}}}
    closed = patch(app, url, {"closed": True, "close_reason_code": "duplicate"},
                   world["ta"]).json
    assert closed["closed"] is True and closed["closed_by"] == "ta"
    assert closed["close_reason"] == "Post is a duplicate"
    assert closed["closed_by_label"] == "Community TA"
    by_author = get(app, url, world["ann"]).json
    assert by_author["editable_fields"] == ["abuse_flagged", "copy_link", "read"]
    assert by_author["close_reason_code"] == "duplicate"
    by_peer = get(app, url, world["bob"]).json
    assert by_peer["closed_by"] is None and by_peer["close_reason"] is None
    assert patch(app, url, {"voted": True}, world["bob"], status=400).json == {
        "field_errors": {"voted": {"developer_message": "This field is not editable."}}}
    bad_reason = patch(app, url, {"close_reason_code": "nope"}, world["ta"], status=400).json
    assert bad_reason == {"field_errors": {"close_reason_code": {
        "developer_message": "Invalid close reason code"}}}
    reopened = patch(app, url, {"closed": False}, world["mod"]).json
    assert reopened["closed"] is False and reopened["close_reason_code"] is None


def test_votes_flags_and_following(app, db, world):
    created = new_thread(app, world["ann"]).json["id"]
    url = THREADS + created + "/"
    voted = patch(app, url, {"voted": True}, world["bob"]).json
    assert voted["voted"] is True and voted["vote_count"] == 1
    assert patch(app, url, {"voted": True}, world["bob"]).json["vote_count"] == 1
    assert get(app, url, world["ann"]).json["voted"] is False
    flagged = patch(app, url, {"abuse_flagged": True}, world["bob"]).json
    assert flagged["abuse_flagged"] is True and flagged["abuse_flagged_count"] is None
    by_ann = get(app, url, world["ann"]).json
    assert by_ann["abuse_flagged"] is False
    by_mod = get(app, url, world["mod"]).json
    assert by_mod["abuse_flagged"] is True and by_mod["abuse_flagged_count"] is None
    flagged_list = get(app, THREADS, world["mod"], {"course_id": KEY, "flagged": "true"}).json
    assert [t["id"] for t in flagged_list["results"]] == [created]
    # count_flagged: moderators get each thread's flagged comments counted
    response = post_json(app, "/api/discussion/v1/comments/",
                         {"thread_id": created, "raw_body": "spam"}, world["bob"]).json
    patch(app, "/api/discussion/v1/comments/" + response["id"] + "/",
          {"abuse_flagged": True}, world["ann"])
    counted = get(app, THREADS, world["mod"], {"course_id": KEY, "count_flagged": "true"})
    assert counted.json["results"][0]["abuse_flagged_count"] == 1
    patch(app, url, {"abuse_flagged": False}, world["mod"])
    assert get(app, url, world["mod"]).json["abuse_flagged"] is False
    unfollowed = patch(app, url, {"following": False}, world["ann"]).json
    assert unfollowed["following"] is False
    assert db.scalar(select(Subscription.id)) is None


def test_delete(app, db, world):
    created = new_thread(app, world["ann"]).json["id"]
    url = THREADS + created + "/"
    refused = app.delete(url, headers=auth(app, world["bob"]), status=403).json
    assert refused == {"developer_message": "You do not have permission to perform this "
                                            "action."}
    app.delete(url, headers=auth(app, world["ta"]), status=204)
    assert db.scalar(select(Thread.id)) is None
    app.delete(url, headers=auth(app, world["ta"]), status=404)


def test_learner_threads_view(app, db, world):
    mine = new_thread(app, world["bob"]).json["id"]
    new_thread(app, world["bob"], anonymous=True)
    new_thread(app, world["ann"])
    path = f"/api/discussion/v1/courses/{KEY}/learner/"
    listed = get(app, path, world["ann"], {"username": "bob"}).json
    assert [t["id"] for t in listed["results"]] == [mine]
    assert len(get(app, path, world["bob"], {"username": "bob"}).json["results"]) == 2
    # a plain DRF view upstream: DRF's error bodies
    assert get(app, path, world["ann"], {}, status=404).json == {"detail": "Not found."}
    assert get(app, path, world["ann"], {"username": "bob", "status": "odd"},
               status=400).json == {"status": [
                   "Invalid value. 'odd' must be 'flagged', 'unanswered', 'unread' or "
                   "'unresponded"]}
    assert get(app, path, world["out"], {"username": "bob"}, status=403).json == {
        "detail": "You do not have permission to perform this action."}
    assert app.get(path, {"username": "bob"}, status=401).json == {
        "detail": "Authentication credentials were not provided."}


def test_posting_rate_limit(app_factory, db, world):
    app = app_factory(**{"throttle.enabled": "true", "discussion.content_rate": "2/m"})
    body = {"course_id": KEY, "topic_id": "course", "type": "discussion", "title": "T",
            "raw_body": "B"}
    post_json(app, THREADS, body, world["ann"])
    post_json(app, THREADS, body, world["ann"])
    limited = post_json(app, THREADS, body, world["ann"], status=429)
    assert limited.json == "Too many requests"
    assert int(limited.headers["Retry-After"]) >= 1
    # moderators are not limited; others have their own budget
    for _ in range(3):
        post_json(app, THREADS, body, world["mod"])
    post_json(app, THREADS, body, world["bob"])
    assert db.scalar(select(func.count(Thread.id)).where(
        Thread.author_id == world["ann"].id)) == 2


def test_read_state_and_following_on_create(app, db, world):
    created = new_thread(app, world["ann"], following=False).json
    assert created["following"] is False
    url = THREADS + created["id"] + "/"
    assert get(app, url, world["bob"]).json["read"] is False
    marked = patch(app, url, {"read": True}, world["bob"]).json
    assert marked["read"] is True and marked["unread_comment_count"] == 0
    assert get(app, url, world["bob"]).json["read"] is True
    listed = get(app, THREADS, world["bob"], {"course_id": KEY, "view": "unread"}).json
    assert listed["results"] == []
