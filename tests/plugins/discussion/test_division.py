"""Divided discussions: in a divided topic, learners see their own group's threads and
those of no group; privileged users see every group's and may post to one."""
from sqlalchemy import select

from plugins.discussion import config
from plugins.discussion.models import Thread
from plugins.enrollment import cohorts
from plugins.enrollment.models import CourseMode
from tests.plugins.discussion.world import KEY, get, post_json

THREADS = "/api/discussion/v1/threads/"


def divide(db, course_key=KEY, **settings):
    from plugins.courses import api as courses_api

    config.save_settings(db, courses_api.get_course(db, course_key), **settings)
    db.commit()


def by_cohort(db, world):
    cohorts.set_course_cohorted(db, KEY, True)
    red = cohorts.add_cohort(db, KEY, "Red")
    blue = cohorts.add_cohort(db, KEY, "Blue")
    cohorts.assign(db, red, world["ann"].id)
    cohorts.assign(db, blue, world["bob"].id)
    divide(db, division_scheme="cohort", divided_discussions=["course"])
    return red, blue


def post(app, user, topic="course", **fields):
    return post_json(app, THREADS, {"course_id": KEY, "topic_id": topic, "type": "discussion",
                                    "title": "T", "raw_body": "B", **fields}, user)


def test_learners_see_their_cohort_in_divided_topics(app, db, world):
    red, blue = by_cohort(db, world)
    mine = post(app, world["ann"]).json
    assert (mine["group_id"], mine["group_name"]) == (red.id, "Red")
    everyone = post(app, world["teacher"]).json  # not enrolled: in no cohort
    assert everyone["group_id"] is None
    listed = get(app, THREADS, world["bob"], {"course_id": KEY}).json["results"]
    assert [t["id"] for t in listed] == [everyone["id"]]
    assert get(app, THREADS + mine["id"] + "/", world["bob"], status=404).json == {
        "developer_message": "Thread not found."}
    assert {t["id"] for t in get(app, THREADS, world["mod"], {"course_id": KEY}).json[
        "results"]} == {mine["id"], everyone["id"]}
    to_blue = post(app, world["teacher"], group_id=blue.id).json
    assert to_blue["group_name"] == "Blue"
    assert to_blue["id"] in [t["id"] for t in get(app, THREADS, world["bob"],
                                                  {"course_id": KEY}).json["results"]]
    refused = post_json(app, THREADS, {"course_id": KEY, "topic_id": "course",
                                       "type": "discussion", "title": "T", "raw_body": "B",
                                       "group_id": blue.id}, world["ann"], status=400).json
    assert refused == {"field_errors": {"group_id": {
        "developer_message": "This field is not initializable."}}}
    # a topic not divided: no group
    assert post(app, world["ann"], topic="announcements").json["group_id"] is None


def test_inline_topics_are_divided_when_always_divide_is_on(app, db, world):
    red, _ = by_cohort(db, world)
    assert post(app, world["ann"], topic="topic-intro").json["group_id"] is None
    divide(db, always_divide_inline_discussions=True)
    assert post(app, world["ann"], topic="topic-intro").json["group_id"] == red.id


def test_enrollment_track_division(app, db, world):
    for slug, name in (("audit", "Audit"), ("verified", "Verified Certificate")):
        db.add(CourseMode(course_key=KEY, mode_slug=slug, mode_display_name=name))
    db.commit()
    verified = db.scalar(select(CourseMode).where(CourseMode.mode_slug == "verified"))
    from plugins.enrollment import api as enrollment_api

    row = enrollment_api.get_enrollment_row(db, world["bob"].id, KEY)
    enrollment_api.update_enrollment(db, row, mode="verified")
    db.commit()
    divide(db, division_scheme="enrollment_track", divided_discussions=["course"])
    posted = post(app, world["bob"]).json
    assert (posted["group_id"], posted["group_name"]) == (verified.id, "Verified Certificate")
    assert get(app, THREADS, world["ann"], {"course_id": KEY}).json["results"] == []
    assert db.scalar(select(Thread.group_id)) == verified.id
