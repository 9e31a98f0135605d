"""Activity stats, uploads, and the retirement pipeline's forum steps."""
import io

from sqlalchemy import select

from lms.testing import create_user
from plugins.discussion import posts
from plugins.discussion.models import Comment, EditHistory, Subscription, Thread, Upload
from tests.plugins.discussion.world import KEY, auth, get, patch, post_json

THREADS = "/api/discussion/v1/threads/"
STATS = f"/api/discussion/v1/courses/{KEY}/activity_stats"
UPLOAD = f"/api/discussion/v1/courses/{KEY}/upload"


def activity(db, world):
    ann, bob = world["ann"], world["bob"]
    first = posts.create_thread(db, course_key=KEY, author_id=ann.id, topic_id="course",
                                thread_type="discussion", title="A", body="a")
    posts.create_thread(db, course_key=KEY, author_id=ann.id, topic_id="course",
                        thread_type="discussion", title="Secret", body="s", anonymous=True)
    response = posts.create_comment(db, thread=first, parent=None, author_id=bob.id, body="r")
    posts.create_comment(db, thread=first, parent=response, author_id=bob.id, body="reply")
    posts.create_comment(db, thread=first, parent=response, author_id=ann.id, body="reply")
    posts.set_flag(db, world["ta"].id, response, True, privileged=False)
    db.commit()


def test_activity_stats(app, db, world):
    activity(db, world)
    learner_view = get(app, STATS, world["bob"]).json
    assert learner_view["results"] == [
        {"threads": 1, "replies": 1, "responses": 0, "active_flags": None,
         "inactive_flags": None, "username": "ann"},
        {"threads": 0, "replies": 1, "responses": 1, "active_flags": None,
         "inactive_flags": None, "username": "bob"}]
    moderator_view = get(app, STATS, world["mod"]).json["results"]
    assert [(s["username"], s["active_flags"]) for s in moderator_view] == [("bob", 1),
                                                                           ("ann", 0)]
    assert get(app, STATS, world["bob"], {"order_by": "flagged"}, status=400).json == {
        "field_errors": {"order_by": {"developer_message":
                                      "Only moderators may order by flags."}}}
    only_bob = get(app, STATS, world["mod"], {"username": "BO"}).json["results"]
    assert [s["username"] for s in only_bob] == ["bob"]
    # upstream IsStaffOrCourseTeamOrEnrolled answers before the course is looked up
    assert get(app, STATS, world["out"], status=403).json == {
        "developer_message": "You do not have permission to perform this action."}
    assert app.get(STATS, status=401).json == {
        "developer_message": "Authentication credentials were not provided."}


def png(size=(4, 4)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_upload_and_serve(app, db, world):
    answer = app.post(UPLOAD, {"thread_key": "root"}, upload_files=[
        ("uploaded_file", "pixel.png", png())], headers=auth(app, world["ann"])).json
    location = answer["location"]
    assert location.startswith(f"http://localhost/media/discussion/{KEY}/root/")
    assert location.endswith(".png")
    served = app.get(location.replace("http://localhost", ""))
    assert served.content_type == "image/png" and served.body == png()
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    stored = db.scalar(select(Upload))
    assert stored.user_id == world["ann"].id and stored.course_key == KEY


def test_upload_refusals(app, db, world):
    headers = auth(app, world["ann"])
    none = app.post(UPLOAD, {"thread_key": "root"}, headers=headers, status=400).json
    assert none == {"developer_message": "no `uploaded_file` was provided"}
    script = app.post(UPLOAD, upload_files=[("uploaded_file", "x.html", b"<script>")],
                      headers=headers, status=403).json
    assert script == {"developer_message": "The file must end with one of the following "
                                           "extensions: '.jpg, .jpeg, .gif, .bmp, .png, "
                                           ".tiff'."}
    fake = app.post(UPLOAD, upload_files=[("uploaded_file", "x.png", b"not an image")],
                    headers=headers, status=400).json
    assert fake == {"developer_message": "The file is not a valid image."}
    bad_key = app.post(UPLOAD, {"thread_key": "../../etc"}, upload_files=[
        ("uploaded_file", "x.png", png())], headers=headers, status=400).json
    assert "thread_key" in bad_key["developer_message"]
    json_body = app.post_json(UPLOAD, {"thread_key": "root"}, headers=headers, status=415)
    assert "developer_message" in json_body.json
    app.post(UPLOAD, upload_files=[("uploaded_file", "x.png", png())],
             headers=auth(app, world["out"]), status=403)
    assert db.scalar(select(Upload.id)) is None


def test_upload_size_limit(app_factory, db, world):
    app = app_factory(**{"discussion.upload_max_bytes": "1024"})
    big = png((400, 400))
    assert len(big) > 1024
    refused = app.post(UPLOAD, upload_files=[("uploaded_file", "big.png", big)],
                       headers=auth(app, world["ann"]), status=403).json
    assert refused == {"developer_message": "Maximum upload file size is 1KB."}


def retiring(db, app, user, state="RETIRING_FORUMS"):
    from plugins.accounts import retirement

    status = retirement.create_retirement(db, app.registry.settings, user)
    found = retirement.find_state(retirement.all_states(db), state)
    status.current_state_id = found.id
    db.commit()
    return status


def test_retire_forum_blanks_posts_and_forgets_marks(app, db, world):
    admin = create_user(db, "admin", is_staff=True, is_superuser=True)
    thread_id = post_json(app, THREADS, {"course_id": KEY, "topic_id": "course",
                                         "type": "discussion", "title": "Mine",
                                         "raw_body": "Personal story"}, world["ann"]).json["id"]
    patch(app, THREADS + thread_id + "/", {"raw_body": "Even more personal"}, world["ann"])
    post_json(app, "/api/discussion/v1/comments/", {"thread_id": thread_id,
                                                    "raw_body": "About me"}, world["ann"])
    url = "/api/discussion/v1/accounts/retire_forum"
    nobody = app.post_json(url, {"username": "ann"}, headers=auth(app, admin), status=404)
    assert nobody.body == b""
    retiring(db, app, world["ann"])
    app.post_json(url, {"username": "ann"}, headers=auth(app, world["bob"]), status=403)
    app.post_json(url, {"username": "ann"}, headers=auth(app, admin), status=204)
    thread = db.scalar(select(Thread))
    assert (thread.title, thread.body) == ("[deleted]", "[deleted]")
    assert db.scalar(select(Comment.body)) == "[deleted]"
    assert db.scalar(select(EditHistory.id)) is None
    assert db.scalar(select(Subscription.id)) is None
    assert app.post_json(url, {}, headers=auth(app, admin), status=400).json == {
        "username": ["This field is required."]}
    app.post_json(url, {"username": "ann"}, status=401)


def test_replace_username(app_factory, db):
    app = app_factory(**{"accounts.username_replacement_worker": "renamer"})
    worker = create_user(db, "renamer", is_staff=True)
    other = create_user(db, "someone", is_staff=True)
    url = "/api/discussion/v1/accounts/replace_username"
    body = {"username_mappings": [{"old_name": "new_name"}]}
    answer = app.post_json(url, body, headers=auth(app, worker)).json
    assert answer == {"successful_replacements": [{"old_name": "new_name"}],
                      "failed_replacements": []}
    app.post_json(url, body, headers=auth(app, other), status=403)
    bad = app.post_json(url, {"username_mappings": [{"a": "b", "c": "d"}]},
                        headers=auth(app, worker), status=400).json
    assert bad == {"detail": "Request data does not match schema"}


def test_bad_settings_stop_the_start_up(app_factory):
    import pytest
    from pyramid.exceptions import ConfigurationError

    for name, value in (("discussion.max_comment_depth", "zero"),
                        ("discussion.upload_max_bytes", "0"),
                        ("discussion.content_rate", "fast"),
                        ("discussion.upload_extensions", "png")):
        with pytest.raises(ConfigurationError, match=name.split(".")[1] if name !=
                           "discussion.content_rate" else "invalid rate"):
            app_factory(**{name: value})


def test_retirement_hook_scrubs_the_forum(app, db, world):
    thread_id = post_json(app, THREADS, {"course_id": KEY, "topic_id": "course",
                                         "type": "discussion", "title": "About me",
                                         "raw_body": "My address is..."}, world["bob"]).json["id"]
    hooks = app.registry["lms.plugin_manager"].hook
    hooks.lms_retire_user(dbsession=db, user=world["bob"], retired_username="retired_bob",
                          retired_email="retired@retired.invalid",
                          original_email="bob@example.com")
    db.commit()
    thread = db.scalar(select(Thread).where(Thread.content_id == thread_id))
    db.refresh(thread)
    assert (thread.title, thread.body) == ("[deleted]", "[deleted]")
    assert db.scalar(select(Subscription.id).where(
        Subscription.user_id == world["bob"].id)) is None
    # a rename needs nothing here: answers read the current username
    assert hooks.lms_username_replaced(dbsession=db, user_id=world["bob"].id,
                                       old_username="bob", new_username="robert") == []


def test_an_upload_is_served_with_its_extensions_type(app, db, world):
    # a PNG that claims to be HTML comes back as an image, never as a page of this site
    answer = app.post(UPLOAD, upload_files=[("uploaded_file", "pixel.png", png(),
                                             "text/html")],
                      headers=auth(app, world["ann"])).json
    served = app.get(answer["location"].replace("http://localhost", ""))
    assert served.content_type == "image/png"
    assert db.scalar(select(Upload.content_type)) == "image/png"
