"""course_home: save_course_goal, unsubscribe_from_course_goal, dismiss_welcome_message
(both the unversioned and the /v1/ paths)."""
import pytest
from sqlalchemy import select

from lms import permissions
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_home
from plugins.grades.models import CourseGoal, WelcomeDismissal
from tests.plugins.courses.factories import make_course

KEY = "course-v1:edX+Home+2026"
BASES = ["/api/course_home/", "/api/course_home/v1/"]
UPDATES = [
    {"id": 1, "date": "January 5, 2026", "content": "<p>Old news</p>", "status": "visible"},
    {"id": 2, "date": "March 1, 2026", "content": "<p>Welcome!</p>", "status": "visible"},
    {"id": 3, "date": "April 1, 2026", "content": "<p>Draft</p>", "status": "deleted"},
]


@pytest.fixture
def course(db):
    return make_course(db, course_key=KEY, display_name="Home Course",
                       settings={"course_updates": UPDATES})


@pytest.fixture
def learner(db, course):
    user = create_user(db, "ann")
    enrollment_api.enroll(db, user.id, KEY)
    db.commit()
    return user


@pytest.mark.parametrize("base", BASES)
def test_save_goal_creates_then_updates(app, db, learner, base):
    headers = jwt_headers(app, learner)
    body = {"course_id": KEY, "subscribed_to_reminders": True, "days_per_week": 3}
    response = app.post_json(base + "save_course_goal", body, headers=headers)
    assert response.json == {"header": "Your course goal has been successfully set.",
                             "message": "Course goal updated successfully."}
    app.post_json(base + "save_course_goal", {"course_id": KEY, "subscribed_to_reminders":
                                              False}, headers=headers)
    db.expire_all()
    goals = db.scalars(select(CourseGoal)).all()
    assert [(g.user_id, g.course_key, g.days_per_week, g.subscribed_to_reminders)
            for g in goals] == [(learner.id, KEY, 3, False)]
    assert len(goals[0].unsubscribe_token) == 32


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("body, message", [
    ({}, "'course_id' is required."),
    ({"course_id": KEY}, "'subscribed_to_reminders' is required."),
    ({"course_id": "not a key", "subscribed_to_reminders": True}, "Unable to save course goal"),
    ({"course_id": KEY, "subscribed_to_reminders": True, "days_per_week": "x"},
     "Unable to save course goal"),
])
def test_save_goal_bad_input(app, learner, base, body, message):
    response = app.post_json(base + "save_course_goal", body,
                             headers=jwt_headers(app, learner), status=400)
    assert response.json == {"detail": message}


@pytest.mark.parametrize("base", BASES)
def test_save_goal_anonymous(app, course, base):
    app.post_json(base + "save_course_goal", {"course_id": KEY,
                                              "subscribed_to_reminders": True}, status=401)


@pytest.mark.parametrize("base", BASES)
def test_unsubscribe_by_token_without_sign_in(app, db, learner, base):
    goal = course_home.save_goal(db, learner.id, KEY, subscribed_to_reminders=True)
    token = goal.unsubscribe_token
    db.commit()
    response = app.post(base + f"unsubscribe_from_course_goal/{token}")
    assert response.json == {"course_title": "Home Course"}
    db.expire_all()
    assert db.scalar(select(CourseGoal.subscribed_to_reminders)) is False
    app.post(base + "unsubscribe_from_course_goal/nonsense", status=404)


def test_welcome_message_is_newest_visible_update(db, course):
    assert course_home.welcome_message_html(course) == "<p>Welcome!</p>"


@pytest.mark.parametrize("base", BASES)
def test_dismiss_welcome_message(app, db, course, learner, base):
    response = app.post_json(base + "dismiss_welcome_message", {"course_id": KEY},
                             headers=jwt_headers(app, learner))
    assert response.json == {"message": "Welcome message successfully dismissed."}
    db.expire_all()
    assert db.scalar(select(WelcomeDismissal.user_id)) == learner.id
    assert course_home.welcome_message_for(db, learner, course) is None


@pytest.mark.parametrize("base", BASES)
def test_dismiss_welcome_message_refusals(app, db, course, learner, base):
    url = base + "dismiss_welcome_message"
    headers = jwt_headers(app, learner)
    app.post_json(url, {"course_id": KEY}, status=401)
    assert app.post_json(url, {}, headers=headers, status=400).json == {
        "detail": "'course_id' is required."}
    assert app.post_json(url, {"course_id": KEY, "x": 1}, headers=headers, status=400).json == {
        "detail": "Only 'course_id' is expected."}
    assert app.post_json(url, {"course_id": "bad"}, headers=headers, status=400).json == {
        "detail": "Unable to dismiss welcome message."}
    other = create_user(db, "bob")
    staff = create_user(db, "carol")
    permissions.grant_role(db, staff, "staff", course_key=parse_course_key(KEY))
    admin = create_user(db, "root", is_staff=True)
    db.commit()
    assert app.post_json(url, {"course_id": KEY}, headers=jwt_headers(app, other),
                         status=400).json == {"detail": "Unable to dismiss welcome message."}
    app.post_json(url, {"course_id": KEY}, headers=jwt_headers(app, staff), status=200)
    app.post_json(url, {"course_id": KEY}, headers=jwt_headers(app, admin), status=200)
