"""frontend-app-discussions against openlms, request by request.

A learner signed in through the authn MFE opens the discussions MFE of a course. The
MFE loads the course's discussion configuration and topics, lists threads, posts a
thread, follows it, answers it and reads the answers, every call through
frontend-platform's ``getAuthenticatedHttpClient()`` (JWT cookie, credentials, CSRF on
writes, CORS preflights for its custom header and for PATCH). See tests/mfe/conftest.py.
"""
import json
from urllib.parse import quote

import pytest
from sqlalchemy import select

from lms.testing import create_user
from plugins.discussion.models import Comment, Subscription, Thread
from plugins.enrollment import api as enrollment_api
from tests.mfe.conftest import (AUTHN_MFE, MERGE_PATCH, authenticated_get,
                                authenticated_write, submit_login)
from tests.plugins.discussion.world import TABS, tree
from tests.plugins.courses.factories import make_course

DISCUSSIONS_MFE = "http://apps.local.openedx.io:2002"
COURSE = "course-v1:edX+MFE+2026"
USERNAME, PASSWORD = "dana", "a-fine-pass-42"
API = "/api/discussion/v1"


@pytest.fixture
def settings(settings):
    settings["cors.origins"] += f" {DISCUSSIONS_MFE}"
    settings["csrf.trusted_origins"] += f" {DISCUSSIONS_MFE}"
    return settings


@pytest.fixture
def learner(browser, db):
    make_course(db, tree(), course_key=COURSE,
                settings={"discussion_topics": {"General": {"id": "course"}}, "tabs": TABS})
    user = create_user(db, USERNAME, password=PASSWORD)
    enrollment_api.enroll(db, user.id, COURSE)
    db.commit()
    page = browser(AUTHN_MFE)
    discussions = f"{DISCUSSIONS_MFE}/{COURSE}/posts"
    assert submit_login(page, USERNAME, PASSWORD, next_url=discussions).json["success"]
    page.open(DISCUSSIONS_MFE)
    page.log.clear()
    page.preflights.clear()
    return page


def test_learner_reads_and_posts(learner, db):
    config = authenticated_get(learner, f"{API}/courses/{COURSE}/")
    assert config.status_int == 200, config.text
    assert config.json["is_posting_enabled"] is True
    assert config.json["user_roles"] == ["Student"]
    topics = authenticated_get(learner, f"/api/discussion/v3/course_topics/{COURSE}")
    assert [t["id"] for t in topics.json if not t["courseware"]] == ["course"]
    empty = authenticated_get(learner, f"{API}/threads/?course_id={quote(COURSE)}&page=1"
                                       "&page_size=10&order_by=last_activity_at")
    assert empty.json["results"] == [] and empty.json["pagination"]["count"] == 0

    # PostEditor's createNewThread: anonymity fields only where the course allows them
    # (allow_anonymous, not allow_anonymous_to_peers), no cohort for a learner.
    body = json.dumps({"course_id": COURSE, "topic_id": "course", "type": "question",
                       "title": "How?", "raw_body": "Tell me *how*.",
                       "anonymous": False}).encode()
    created = authenticated_write(learner, "POST", f"{API}/threads/", body,
                                  "application/json")
    assert created.status_int == 200, created.text
    thread_id = created.json["id"]
    assert created.json["rendered_body"] == "<p>Tell me <em>how</em>.</p>"

    followed = authenticated_write(learner, "PATCH", f"{API}/threads/{thread_id}/",
                                   json.dumps({"following": False}).encode(), MERGE_PATCH)
    assert followed.status_int == 200 and followed.json["following"] is False
    answer = authenticated_write(learner, "POST", f"{API}/comments/",
                                 json.dumps({"thread_id": thread_id,
                                             "raw_body": "Like this."}).encode(),
                                 "application/json")
    assert answer.status_int == 200, answer.text
    answers = authenticated_get(learner, f"{API}/comments/?thread_id={thread_id}"
                                         "&endorsed=false&page=1&page_size=10"
                                         "&requested_fields=profile_image")
    assert [c["raw_body"] for c in answers.json["results"]] == ["Like this."]
    assert answers.json["results"][0]["profile_image"]["has_image"] is False
    assert db.scalar(select(Thread.title)) == "How?"
    assert db.scalar(select(Comment.body)) == "Like this."
    assert db.scalar(select(Subscription.id)) is None
    # PATCH and the custom header needed preflights; the page could read every answer
    assert ("PATCH", f"{API}/threads/{thread_id}/", "content-type,use-jwt-cookie,"
            "x-csrftoken") in learner.preflights


def test_a_write_without_the_csrf_token_is_refused(learner):
    authenticated_get(learner, f"{API}/courses/{COURSE}/")
    response = learner.fetch("POST", f"{API}/threads/", headers={
        "Content-Type": "application/json", "USE-JWT-COOKIE": "true"},
        body=json.dumps({"course_id": COURSE, "topic_id": "course", "type": "discussion",
                         "title": "x", "raw_body": "y"}).encode())
    assert response.status_int == 403
