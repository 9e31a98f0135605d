"""Course metadata, division settings and forum roles."""
from urllib.parse import quote

from sqlalchemy import select

from lms.testing import create_user
from plugins.discussion.models import CourseSettings, ForumRole
from plugins.enrollment import cohorts
from tests.plugins.discussion.world import KEY, auth, get, patch, post_json

META = f"/api/discussion/v1/courses/{KEY}"
SETTINGS = f"/api/discussion/v1/courses/{KEY}/settings"
ROLES = f"/api/discussion/v1/courses/{KEY}/roles/"


def test_metadata_for_a_learner(app, db, world):
    body = get(app, META, world["ann"]).json
    threads = "http://localhost/api/discussion/v1/threads/?course_id=" + quote(KEY, safe="")
    assert body == {
        "id": KEY, "is_posting_enabled": True, "blackouts": [],
        "thread_list_url": threads, "following_thread_list_url": threads + "&following=True",
        "topics_url": f"http://localhost/api/discussion/v1/course_topics/{KEY}",
        "allow_anonymous": True, "allow_anonymous_to_peers": False,
        "user_roles": ["Student"], "has_moderation_privileges": False, "is_group_ta": False,
        "is_user_admin": False, "is_course_staff": False, "is_course_admin": False,
        "provider": "legacy", "enable_in_context": True, "group_at_subsection": False,
        "edit_reasons": [
            {"code": "grammar-spelling", "label": "Has grammar / spelling issues"},
            {"code": "needs-clarity", "label": "Content needs clarity"},
            {"code": "academic-integrity", "label": "Has academic integrity concern"},
            {"code": "inappropriate-language", "label": "Has inappropriate language"},
            {"code": "format-change", "label": "Formatting changes needed"},
            {"code": "post-type-change", "label": "Post type needs change"},
            {"code": "contains-pii", "label": "Contains personally identifiable information"},
            {"code": "violates-guidelines", "label": "Violates community guidelines"}],
        "post_close_reasons": [
            {"code": "academic-integrity",
             "label": "Post violates honour code or academic integrity"},
            {"code": "read-only", "label": "Post should be read-only"},
            {"code": "duplicate", "label": "Post is a duplicate"},
            {"code": "off-topic", "label": "Post is off-topic"}],
        "show_discussions": True}


def test_metadata_roles_and_flags(app, db, world):
    def flags(name):
        body = get(app, META, world[name]).json
        return (body["user_roles"], body["has_moderation_privileges"], body["is_group_ta"],
                body["is_user_admin"], body["is_course_staff"])

    assert flags("mod") == (["Moderator", "Student"], True, False, False, False)
    assert flags("ta") == (["Community TA", "Student"], True, False, False, False)
    assert flags("gmod") == (["Group Moderator", "Student"], False, True, False, False)
    assert flags("teacher") == ([], False, False, False, True)
    assert flags("root") == ([], False, False, True, False)
    assert get(app, META, world["out"], status=404).json == {
        "developer_message": "Course not found."}
    assert app.get(META, status=401).json == {
        "developer_message": "Authentication credentials were not provided."}


def test_blackouts(app, db, world):
    from plugins.courses import api as courses_api

    course = courses_api.get_course(db, KEY)
    course.settings = {**course.settings, "discussion_blackouts": [
        ["2020-01-01T00:00:00Z", "2099-12-31T00:00:00+00:00"], ["bad"]]}
    db.commit()
    body = get(app, META, world["ann"]).json
    assert body["is_posting_enabled"] is False
    assert body["blackouts"] == [{"start": "2020-01-01T00:00:00Z",
                                  "end": "2099-12-31T00:00:00Z"}]


def test_settings_read_and_change(app, db, world):
    cohorts.set_course_cohorted(db, KEY, True)
    db.commit()
    body = get(app, SETTINGS, world["root"]).json
    assert body == {"id": body["id"], "divided_inline_discussions": [],
                    "divided_course_wide_discussions": [],
                    "always_divide_inline_discussions": False, "division_scheme": "none",
                    "available_division_schemes": ["none", "cohort"],
                    "reported_content_email_notifications": False,
                    "reported_content_email_notifications_flag": False}
    assert isinstance(body["id"], int)
    changed = patch(app, SETTINGS, {"division_scheme": "cohort",
                                    "divided_course_wide_discussions": ["course"],
                                    "divided_inline_discussions": ["topic-intro"]},
                    world["root"], status=204)
    assert changed.body == b""
    row = db.scalar(select(CourseSettings).where(CourseSettings.course_key == KEY))
    db.refresh(row)
    assert (row.division_scheme, row.divided_discussions) == ("cohort",
                                                              ["course", "topic-intro"])
    after = get(app, SETTINGS, world["mod"]).json
    assert after["divided_inline_discussions"] == ["topic-intro"]
    assert after["divided_course_wide_discussions"] == ["course"]


def test_settings_refusals(app, db, world):
    for name in ("ann", "teacher", "gmod"):  # course staff are not enough (upstream)
        assert get(app, SETTINGS, world[name], status=403).json == {
            "developer_message": "You do not have permission to perform this action."}
    patch(app, SETTINGS, {"division_scheme": "none"}, world["mod"], status=403)
    patch(app, SETTINGS, {"division_scheme": "none"}, world["root"], status=415,
          content_type="application/json")
    bad = patch(app, SETTINGS, {"division_scheme": "enrollment_track"}, world["root"],
                status=400).json
    assert bad == {"field_errors": {"division_scheme": {
        "developer_message": "Unsupported division scheme enrollment_track"}}}
    unknown = patch(app, SETTINGS, {"colour": "red"}, world["root"], status=400).json
    assert unknown == {"field_errors": {"colour": {"developer_message":
                                                   "This field is not allowed."}}}
    wrong_type = patch(app, SETTINGS, {"always_divide_inline_discussions": "maybe"},
                       world["root"], status=400).json
    assert wrong_type == {"field_errors": {"always_divide_inline_discussions": {
        "developer_message": "Must be a valid boolean."}}}
    assert db.scalar(select(CourseSettings.id)) is None


def test_roles(app, db, world):
    url = ROLES + "Community%20TA/"
    listed = get(app, url, world["root"]).json
    assert listed == {"course_id": KEY, "division_scheme": "none", "results": [
        {"username": "ta", "email": "ta@example.com", "first_name": "", "last_name": "",
         "group_name": None}]}
    granted = post_json(app, url, {"user_id": "bob@example.com", "action": "allow"},
                        world["root"]).json
    assert [m["username"] for m in granted["results"]] == ["bob", "ta"]
    assert db.scalar(select(ForumRole.name).where(ForumRole.user_id == world["bob"].id)) == \
        "Community TA"
    revoked = post_json(app, url, {"user_id": "ta", "action": "revoke"}, world["root"]).json
    assert [m["username"] for m in revoked["results"]] == ["bob"]
    assert get(app, META, world["bob"]).json["has_moderation_privileges"] is True


def test_role_refusals(app, db, world):
    url = ROLES + "Moderator/"
    assert get(app, url, world["teacher"], status=403).json == {
        "developer_message": "You do not have permission to perform this action."}
    assert get(app, ROLES + "Administrator/", world["root"], status=400).json == {
        "field_errors": {"rolename": {"developer_message":
                                      "Role 'Administrator' does not exist"}}}
    assert post_json(app, url, {"user_id": "ghost", "action": "allow"}, world["root"],
                     status=400).json == {"field_errors": {"user_id": {
                         "developer_message": "'ghost' is not a valid student identifier"}}}
    bad_both = post_json(app, url, {"user_id": "ghost", "action": "promote"}, world["root"],
                         status=400).json
    assert bad_both == {"field_errors": {
        "action": {"developer_message": '"promote" is not a valid choice.'},
        "user_id": {"developer_message": "'ghost' is not a valid student identifier"}}}
    assert post_json(app, url, {}, world["root"], status=400).json == {"field_errors": {
        "user_id": {"developer_message": "This field is required."},
        "action": {"developer_message": "This field is required."}}}
    assert get(app, "/api/discussion/v1/courses/course-v1:edX+None+2026/roles/Moderator/",
               world["root"], status=404).json == {
        "developer_message": "Course not found: course-v1:edX+None+2026."}
    assert db.scalar(select(ForumRole.id).where(ForumRole.user_id == world["bob"].id)) is None


def test_forum_role_users_for_api_key_holders(app_factory, db, world):
    app = app_factory(**{"lms.edx_api_key": "secret-key"})
    url = "/api/user/v1/forum_roles/Moderator/users/"
    body = app.get(url, {"course_id": KEY}, headers={"X-Edx-Api-Key": "secret-key"}).json
    assert body["count"] == 1
    assert body["results"][0]["username"] == "mod"
    assert body["results"][0]["url"] == f"http://localhost/user_api/v1/users/{world['mod'].id}/"
    legacy = app.get("/user_api/v1/forum_roles/Moderator/users/", {"course_id": KEY},
                     headers={"X-Edx-Api-Key": "secret-key"}).json
    assert legacy["results"] == body["results"]
    assert app.get(url, {}, headers={"X-Edx-Api-Key": "secret-key"}, status=400).json == {
        "detail": "course_id must be specified"}
    app.get(url, {"course_id": KEY}, headers=auth(app, world["root"]), status=403)
    admin = create_user(db, "superadmin", is_staff=True, is_superuser=True)
    app.get(url, {"course_id": KEY}, headers=auth(app, admin), status=403)


def test_v1_needs_the_discussion_tab_v2_does_not(app, db, world):
    from plugins.enrollment import api as enrollment_api
    from tests.plugins.courses.factories import make_course
    from tests.plugins.discussion.world import tree

    key = "course-v1:edX+NoTab+2026"
    make_course(db, tree(), course_key=key, settings={"tabs": [{"type": "courseware"}]})
    enrollment_api.enroll(db, world["ann"].id, key)
    db.commit()
    assert get(app, f"/api/discussion/v1/courses/{key}", world["ann"], status=404).json == {
        "developer_message": "Discussion is disabled for the course."}
    body = get(app, f"/api/discussion/v2/courses/{key}", world["ann"]).json
    assert body["show_discussions"] is False and body["id"] == key


def test_divided_discussions_replaces_the_list(app, db, world):
    patch(app, SETTINGS, {"divided_discussions": ["course", "topic-intro", "course"]},
          world["root"], status=204)
    after = get(app, SETTINGS, world["root"]).json
    assert after["divided_course_wide_discussions"] == ["course"]
    assert after["divided_inline_discussions"] == ["topic-intro"]
