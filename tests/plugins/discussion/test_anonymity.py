"""An anonymous post never names its author to a learner, in any field of any answer a
learner can ask for; ``anonymous_to_peers`` hides the author from learners only."""
import pytest

from lms.testing import create_user
from plugins.enrollment import api as enrollment_api
from tests.plugins.discussion.world import KEY, get, patch, post_json

AUTHOR = "zelda_hidden_author"
THREADS = "/api/discussion/v1/threads/"
COMMENTS = "/api/discussion/v1/comments/"


@pytest.fixture
def posts(app, db, world):
    from plugins.courses import api as courses_api

    course = courses_api.get_course(db, KEY)
    course.settings = {**course.settings, "allow_anonymous_to_peers": True}
    author = create_user(db, AUTHOR, name="Zelda Hidden")
    enrollment_api.enroll(db, author.id, KEY)
    db.commit()
    made = {}
    for kind in ("anonymous", "anonymous_to_peers"):
        thread = post_json(app, THREADS, {
            "course_id": KEY, "topic_id": "course", "type": "question", "title": kind,
            "raw_body": "Who wrote this?", kind: True}, author).json
        response = post_json(app, COMMENTS, {"thread_id": thread["id"], "raw_body": "Me",
                                             kind: True}, author).json
        reply = post_json(app, COMMENTS, {"thread_id": thread["id"], "raw_body": "Again",
                                          "parent_id": response["id"], kind: True},
                          author).json
        # the anonymous author endorses a response on their own question
        other = post_json(app, COMMENTS, {"thread_id": thread["id"], "raw_body": "Answer"},
                          world["bob"]).json
        patch(app, COMMENTS + other["id"] + "/", {"endorsed": True}, author)
        patch(app, THREADS + thread["id"] + "/", {"raw_body": "Edited by me"}, author)
        made[kind] = (thread["id"], response["id"], reply["id"])
    return author, made


def learner_answers(app, viewer, made):
    """Every answer a learner can ask for about the course's discussions."""
    calls = [(THREADS, {"course_id": KEY}),
             (THREADS, {"course_id": KEY, "requested_fields": "profile_image"}),
             (THREADS, {"course_id": KEY, "author": AUTHOR}),
             (THREADS, {"course_id": KEY, "text_search": "wrote"}),
             (THREADS, {"course_id": KEY, "view": "unanswered"}),
             (f"/api/discussion/v1/courses/{KEY}/learner/", {"username": AUTHOR}),
             (f"/api/discussion/v1/courses/{KEY}/activity_stats", {}),
             (COMMENTS, {"username": AUTHOR, "course_id": KEY}),
             (f"/api/discussion/v1/courses/{KEY}", {}),
             (f"/api/discussion/v1/course_topics/{KEY}", {}),
             (f"/api/discussion/v2/course_topics/{KEY}", {}),
             (f"/api/discussion/v3/course_topics/{KEY}", {})]
    for thread_id, response_id, _ in made.values():
        calls += [(THREADS + thread_id + "/", {}),
                  (THREADS + thread_id + "/", {"requested_fields": "profile_image"}),
                  (COMMENTS, {"thread_id": thread_id, "endorsed": "true"}),
                  (COMMENTS, {"thread_id": thread_id, "endorsed": "false",
                              "requested_fields": "profile_image"}),
                  (COMMENTS + response_id + "/", {})]
    answers = []
    for path, params in calls:
        response = get(app, path, viewer, params, status="*")
        assert response.status_int in (200, 404), (path, response.status)
        answers.append((path, params, response.text))
    return answers


def test_learners_never_see_an_anonymous_author(app, db, world, posts):
    author, made = posts
    answers = learner_answers(app, world["bob"], made)
    assert len(answers) > 20
    for path, params, text in answers:
        assert AUTHOR not in text, (path, params)
        assert "Zelda" not in text, (path, params)
    # the posts themselves are listed (the scan saw them)
    listed = get(app, THREADS, world["bob"], {"course_id": KEY}).json["results"]
    assert {t["title"] for t in listed} == {"anonymous", "anonymous_to_peers"}
    assert all(t["author"] is None and t["author_label"] is None for t in listed)


def test_staff_see_authors_anonymous_to_peers_only(app, db, world, posts):
    author, made = posts
    thread_id = made["anonymous_to_peers"][0]
    assert get(app, THREADS + thread_id + "/", world["teacher"]).json["author"] == AUTHOR
    anonymous = get(app, THREADS + made["anonymous"][0] + "/", world["teacher"]).json
    assert anonymous["author"] is None
    # the author finds their own posts by the author filter; upstream hides the author
    # field from them too
    mine = get(app, THREADS, author, {"course_id": KEY, "author": AUTHOR}).json
    assert len(mine["results"]) == 2
    assert [t["author"] for t in mine["results"]] == [None, None]


def test_staff_answers_do_not_name_a_fully_anonymous_author(app, db, world, posts):
    author, made = posts
    thread_id, response_id, _ = made["anonymous"]
    for path, params in ((THREADS + thread_id + "/", {}),
                         (COMMENTS, {"thread_id": thread_id, "endorsed": "true"}),
                         (COMMENTS, {"thread_id": thread_id, "endorsed": "false"}),
                         (COMMENTS + response_id + "/", {})):
        text = get(app, path, world["teacher"], params).text
        assert AUTHOR not in text, path
