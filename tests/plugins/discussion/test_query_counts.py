"""Thread and comment lists read a fixed number of SQL statements whatever the page size
(authors, labels, votes, flags, follows, read states, edits and images at once)."""
from plugins.discussion import posts
from tests.plugins.discussion.world import KEY, auth

THREADS = "/api/discussion/v1/threads/"
COMMENTS = "/api/discussion/v1/comments/"


def many_posts(db, world, count):
    authors = [world[name] for name in ("ann", "bob", "ta", "mod", "gmod")]
    first = None
    for number in range(count):
        author = authors[number % len(authors)]
        thread = posts.create_thread(db, course_key=KEY, author_id=author.id,
                                     topic_id="course", thread_type="discussion",
                                     title=f"Thread {number}", body=f"Body **{number}**")
        first = first or thread
        posts.set_vote(db, world["bob"].id, thread, True)
        posts.set_flag(db, world["ann"].id, thread, True, privileged=False)
        posts.record_edit(db, thread, world["mod"].id, f"Edited {number}", "needs-clarity")
        posts.create_comment(db, thread=first, parent=None, author_id=author.id,
                             body=f"Response {number}")
    db.commit()
    return first


def statements(app, query_counter, user, path, params):
    headers = auth(app, user)
    with query_counter() as queries:
        body = app.get(path, params, headers=headers).json
    return len(queries), body


def test_thread_list_statements_do_not_grow_with_the_page(app, db, world, query_counter):
    many_posts(db, world, 25)
    for viewer in ("bob", "mod"):
        params = {"course_id": KEY, "requested_fields": "profile_image"}
        small, body = statements(app, query_counter, world[viewer], THREADS,
                                 {**params, "page_size": "2"})
        assert len(body["results"]) == 2
        large, body = statements(app, query_counter, world[viewer], THREADS,
                                 {**params, "page_size": "25"})
        assert len(body["results"]) == 25
        assert large == small, viewer


def test_comment_list_statements_do_not_grow_with_the_page(app, db, world, query_counter):
    first = many_posts(db, world, 25)
    for viewer in ("bob", "mod"):
        params = {"thread_id": first.content_id}
        small, body = statements(app, query_counter, world[viewer], COMMENTS,
                                 {**params, "page_size": "2"})
        assert len(body["results"]) == 2
        large, body = statements(app, query_counter, world[viewer], COMMENTS,
                                 {**params, "page_size": "25"})
        assert len(body["results"]) == 25
        assert large == small, viewer
