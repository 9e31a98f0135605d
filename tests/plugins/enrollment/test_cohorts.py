"""``/api/cohorts/v1/``: settings, cohorts, members, placement on enrollment and content
groups (upstream ``course_groups``)."""
import pytest
from sqlalchemy import func, select

from lms.permissions import grant_role
from lms.keys import parse_course_key
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api, cohorts
from plugins.enrollment.models import (Cohort, CohortMembership, CohortPreassignment,
                                       CohortSettings)
from tests.plugins.courses.factories import Node, make_course, usage_key

COURSE = "course-v1:edX+Cohorts+2026"
KEY = parse_course_key(COURSE)
BASE = "/api/cohorts/v1"
SETTINGS = f"{BASE}/settings/{COURSE}"
LIST = f"{BASE}/courses/{COURSE}/cohorts/"
PERMISSION_DENIED = {"developer_message": "You do not have permission to perform this action."}


def detail(cohort_id):
    return f"{BASE}/courses/{COURSE}/cohorts/{cohort_id}"


def users(cohort_id, username=None):
    return f"{detail(cohort_id)}/users/" + (username or "")


@pytest.fixture
def course(db):
    return make_course(db, course_key=COURSE)


@pytest.fixture
def staff(db):
    return create_user(db, "gstaff", is_staff=True)


@pytest.fixture
def course_staff(db):
    user = create_user(db, "cstaff", name="Course Staff")
    grant_role(db, user, "staff", KEY)
    db.commit()
    return user


@pytest.fixture
def learner(db):
    return create_user(db, "learner", email="learner@example.com", name="Lea Rner")


@pytest.fixture
def as_staff(app, staff):
    return jwt_headers(app, staff)


def make_cohort(db, name, assignment_type="manual", **link):
    cohort = cohorts.add_cohort(db, COURSE, name, assignment_type)
    if link:
        cohorts.link_content_group(db, cohort, link["partition"], link["group"])
    db.commit()
    return cohort


# -- who may call ----------------------------------------------------------------------------

def test_anonymous_is_401_and_learner_403(app, course, learner):
    cohort = make_cohort(app.registry["lms.dbsession_factory"](), "A")
    for path in (SETTINGS, LIST, detail(cohort.id), users(cohort.id)):
        app.get(path, status=401)
        assert app.get(path, headers=jwt_headers(app, learner), status=403).json == \
            PERMISSION_DENIED
    app.post(f"{BASE}/courses/{COURSE}/users", status=401)
    assert app.post(f"{BASE}/courses/{COURSE}/users", headers=jwt_headers(app, learner),
                    status=403).json == PERMISSION_DENIED


def test_course_staff_may_manage_but_not_upload(app, db, course, course_staff):
    headers = jwt_headers(app, course_staff)
    assert app.post_json(LIST, {"name": "A", "assignment_type": "manual"},
                         headers=headers).json["name"] == "A"
    assert app.get(SETTINGS, headers=headers).json["is_cohorted"] is False
    response = app.post(f"{BASE}/courses/{COURSE}/users", headers=headers,
                        upload_files=[("uploaded-file", "c.csv", b"username,cohort\n")],
                        status=403)
    assert response.json == PERMISSION_DENIED


def test_staff_of_another_course_or_org_staff_is_403(app, db, course):
    other = create_user(db, "otherstaff")
    grant_role(db, other, "staff", parse_course_key("course-v1:edX+Other+2026"))
    org_staff = create_user(db, "orgstaff")
    grant_role(db, org_staff, "staff", org="edX")
    db.commit()
    for user in (other, org_staff):
        assert app.get(LIST, headers=jwt_headers(app, user), status=403).json == \
            PERMISSION_DENIED


def test_unknown_course_is_404_and_invalid_key_400(app, as_staff):
    assert app.get(f"{BASE}/settings/course-v1:edX+Nope+2026", headers=as_staff,
                   status=404).json == {"developer_message": "Course not found: "
                                                              "course-v1:edX+Nope+2026."}
    assert app.get(f"{BASE}/courses/course-v1:edX+No pe+2026/cohorts/", headers=as_staff,
                   status=400).json["error_code"] == "invalid-course-key"


# -- settings ----------------------------------------------------------------------------------

def test_settings_created_from_cohort_config_then_put(app, db, as_staff):
    make_course(db, course_key=COURSE,
                settings={"cohort_config": {"cohorted": True,
                                            "auto_cohort_groups": ["Auto A", "Auto B"]}})
    body = app.get(SETTINGS, headers=as_staff).json
    row = db.scalar(select(CohortSettings))
    assert body == {"id": row.id, "is_cohorted": True}
    assert [(c.name, c.assignment_type) for c in db.scalars(select(Cohort).order_by(Cohort.name))] \
        == [("Auto A", "random"), ("Auto B", "random")]
    assert app.put_json(SETTINGS, {"is_cohorted": False}, headers=as_staff).json == {
        "id": row.id, "is_cohorted": False}
    db.expire_all()
    assert db.scalar(select(CohortSettings.is_cohorted)) is False


def test_settings_bad_input(app, db, course, as_staff):
    assert app.put_json(SETTINGS, {}, headers=as_staff, status=400).json == {
        "developer_message": 'Missing field "is_cohorted".'}
    assert app.put_json(SETTINGS, {"is_cohorted": "yes"}, headers=as_staff, status=400).json \
        == {"developer_message": "Cohorted must be a boolean"}
    app.put(SETTINGS, "{not json", headers={**as_staff, "Content-Type": "application/json"},
            status=400)
    assert db.scalar(select(CohortSettings.is_cohorted)) in (None, False)


# -- cohorts ----------------------------------------------------------------------------------

def test_create_cohort_with_content_group(app, db, course, as_staff):
    body = app.post_json(LIST, {"name": "Group A", "assignment_type": "random",
                                "user_partition_id": 50, "group_id": 1},
                         headers=as_staff).json
    row = db.scalar(select(Cohort))
    assert body == {"name": "Group A", "id": row.id, "user_count": 0,
                    "assignment_type": "random", "user_partition_id": 50, "group_id": 1}
    assert (row.course_key, row.user_partition_id, row.group_id) == (COURSE, 50, 1)


@pytest.mark.parametrize("payload,status,code", [
    ({"assignment_type": "manual"}, 400, "missing-cohort-name"),
    ({"name": "", "assignment_type": "manual"}, 400, "missing-cohort-name"),
    ({"name": "A"}, 400, "missing-assignment-type"),
    ({"name": "A", "assignment_type": "manual", "group_id": 1}, 400,
     "missing-user-partition-id"),
])
def test_create_cohort_errors(app, db, course, as_staff, payload, status, code):
    assert app.post_json(LIST, payload, headers=as_staff, status=status).json["error_code"] \
        == code
    assert db.scalar(select(func.count()).select_from(Cohort)) == 0


def test_create_cohort_bad_types_and_duplicates(app, db, course, as_staff):
    for payload in ({"name": 5, "assignment_type": "manual"},
                    {"name": "A", "assignment_type": "sometimes"},
                    {"name": "A", "assignment_type": "manual", "group_id": "one",
                     "user_partition_id": 50},
                    {"name": "x" * 256, "assignment_type": "manual"},
                    {"name": "nul\x00", "assignment_type": "manual"}):
        assert "field_errors" in app.post_json(LIST, payload, headers=as_staff,
                                               status=400).json
    app.post(LIST, "[1, 2", headers={**as_staff, "Content-Type": "application/json"},
             status=400)
    make_cohort(db, "A")
    assert app.post_json(LIST, {"name": "A", "assignment_type": "manual"}, headers=as_staff,
                         status=400).json == {
        "developer_message": "You cannot create two cohorts with the same name",
        "error_code": "cohort-name-exists"}
    assert db.scalar(select(func.count()).select_from(Cohort)) == 1


def test_list_is_a_bare_ordered_page_with_user_counts(app, db, course, as_staff):
    b = make_cohort(db, "B")
    a = make_cohort(db, "A", "random", partition=50, group=2)
    active, inactive = create_user(db, "active"), create_user(db, "gone")
    api.enroll(db, active.id, COURSE)
    api.enroll(db, inactive.id, COURSE, is_active=False)
    cohorts.assign(db, b, active.id)
    cohorts.assign(db, b, inactive.id)
    db.commit()
    assert app.get(LIST, headers=as_staff).json == [
        {"name": "A", "id": a.id, "user_count": 0, "assignment_type": "random",
         "user_partition_id": 50, "group_id": 2},
        {"name": "B", "id": b.id, "user_count": 1, "assignment_type": "manual",
         "user_partition_id": None, "group_id": None}]
    assert [c["name"] for c in app.get(LIST, {"ordering": "DESC"}, headers=as_staff).json] \
        == ["B", "A"]
    assert [c["name"] for c in app.get(LIST, {"page": 2, "page_size": 1},
                                       headers=as_staff).json] == ["B"]
    assert app.get(LIST, {"ordering": "up"}, headers=as_staff, status=400).json == {
        "developer_message": 'Invalid ordering value. Must be "asc" or "desc".',
        "error_code": "invalid-ordering-value"}
    assert app.get(LIST, {"page": 9}, headers=as_staff, status=404).json == {
        "developer_message": "Invalid page."}


def test_list_query_count_is_fixed(app, db, course, as_staff, query_counter):
    make_cohort(db, "only")
    app.get(LIST, headers=as_staff)  # settings row created
    with query_counter() as one:
        assert len(app.get(LIST, {"page_size": 100}, headers=as_staff).json) == 1
    for n in range(30):
        cohort = make_cohort(db, f"c{n:02}")
        user = create_user(db, f"member{n}")
        api.enroll(db, user.id, COURSE)
        cohorts.assign(db, cohort, user.id)
    db.commit()
    with query_counter() as many:
        assert len(app.get(LIST, {"page_size": 100}, headers=as_staff).json) == 31
    assert len(many) == len(one)


def test_detail_and_wrong_endpoints(app, db, course, as_staff):
    cohort = make_cohort(db, "A")
    assert app.get(detail(cohort.id), headers=as_staff).json["name"] == "A"
    assert app.get(detail(cohort.id + 99), headers=as_staff, status=404).json == {
        "developer_message": "CourseUserGroup matching query does not exist."}
    assert app.post_json(detail(cohort.id), {"name": "B"}, headers=as_staff,
                         status=405).json == {"developer_message": "Please use the parent "
                                                                   "endpoint.",
                                              "error_code": "wrong-endpoint"}
    assert app.patch_json(LIST, {"name": "B"}, headers=as_staff, status=405).json == {
        "developer_message": "Request method requires cohort_id in path",
        "error_code": "missing-cohort-id"}


def test_patch_cohort(app, db, course, as_staff):
    a = make_cohort(db, "A", "random", partition=50, group=1)
    make_cohort(db, "Taken")
    response = app.patch_json(detail(a.id), {"name": "Renamed", "group_id": None},
                              headers=as_staff, status=204)
    assert response.body == b""
    db.expire_all()
    row = db.get(Cohort, a.id)
    assert (row.name, row.user_partition_id, row.group_id) == ("Renamed", None, None)
    assert app.patch_json(detail(a.id), {"name": "Taken"}, headers=as_staff,
                          status=400).json == {
        "developer_message": "A cohort with the same name already exists.",
        "error_code": "cohort-name-exists"}
    assert app.patch_json(detail(a.id), {"assignment_type": "manual"}, headers=as_staff,
                          status=400).json == {
        "developer_message": "There must be one cohort to which students can automatically "
                             "be assigned.", "error_code": "last-random-cohort"}
    assert app.patch_json(detail(a.id), {}, headers=as_staff, status=400).json[
        "error_code"] == "missing-fields"
    assert app.patch_json(detail(a.id), {"group_id": 3}, headers=as_staff, status=400).json[
        "error_code"] == "missing-user-partition-id"
    app.patch_json(detail(a.id), {"group_id": 3, "user_partition_id": 50}, headers=as_staff,
                   status=204)
    db.expire_all()
    assert (db.get(Cohort, a.id).name, db.get(Cohort, a.id).group_id) == ("Renamed", 3)


# -- members ------------------------------------------------------------------------------------

def test_add_users_every_outcome(app, db, course, as_staff, learner):
    a, b = make_cohort(db, "A"), make_cohort(db, "B")
    mover = create_user(db, "mover", email="mover@example.com")
    present = create_user(db, "present")
    cohorts.assign(db, a, mover.id)
    cohorts.assign(db, b, present.id)
    db.commit()
    body = app.post_json(users(b.id), {"users": [
        "learner", "MOVER@example.com", "present", "ghost", "new@example.com", "bad@", ""]},
        headers=as_staff).json
    assert body == {
        "success": True,
        "added": [{"username": "learner", "email": "learner@example.com"}],
        "changed": [{"email": "mover@example.com", "previous_cohort": "A",
                     "username": "mover"}],
        "present": ["present"],
        "unknown": ["ghost"],
        "preassigned": ["new@example.com"],
        "invalid": ["bad@"],
    }
    members = set(db.scalars(select(CohortMembership.user_id)
                             .where(CohortMembership.cohort_id == b.id)))
    assert members == {learner.id, mover.id, present.id}
    assert db.scalar(select(CohortPreassignment.email)) == "new@example.com"


def test_add_one_user_by_path_and_bad_bodies(app, db, course, as_staff, learner):
    a = make_cohort(db, "A")
    assert app.post(users(a.id, "learner"), headers=as_staff).json["added"] == [
        {"username": "learner", "email": "learner@example.com"}]
    assert app.post_json(users(a.id), {}, headers=as_staff, status=400).json == {
        "developer_message": "Missing users key in payload", "error_code": "missing-users"}
    for payload in ({"users": "learner"}, {"users": [1]}, {"users": ["x" * 300]}):
        app.post_json(users(a.id), payload, headers=as_staff, status=400)
    assert app.post_json(users(a.id + 5), {"users": ["learner"]}, headers=as_staff,
                         status=404).json == {
        "developer_message": f"Cohort (ID {a.id + 5}) not found for {COURSE}",
        "error_code": "cohort-not-found"}


def test_list_and_remove_members(app, db, course, as_staff, learner):
    a = make_cohort(db, "A")
    others = [create_user(db, f"user{n}", name=f"User {n}") for n in range(3)]
    for user in [learner, *others]:
        cohorts.assign(db, a, user.id)
    db.commit()
    page = app.get(users(a.id), {"page_size": 2}, headers=as_staff).json
    assert page["count"] == 4 and page["num_pages"] == 2
    assert page["results"] == [{"username": "learner", "email": "learner@example.com",
                                "name": "Lea Rner"},
                               {"username": "user0", "email": "user0@example.com",
                                "name": "User 0"}]
    assert app.get(users(a.id, "anyone"), headers=as_staff).json["count"] == 4
    app.delete(users(a.id, "learner"), headers=as_staff, status=204)
    assert cohorts.membership_of(db, learner.id, COURSE) is None
    assert app.delete(users(a.id, "learner"), headers=as_staff, status=400).json == {
        "developer_message": "User not assigned to the given cohort.",
        "error_code": "user-not-in-cohort"}
    assert app.delete(users(a.id, "ghost"), headers=as_staff, status=404).json == {
        "developer_message": "User does not exist.", "error_code": "user-not-found"}
    assert app.delete(users(a.id), headers=as_staff, status=405).json == {
        "developer_message": "Missing username in path", "error_code": "missing-username"}


# -- the Python API bulk enrollment uses -----------------------------------------------------------

def test_add_user_to_cohort_by_name(db, course, learner):
    a, b = make_cohort(db, "A"), make_cohort(db, "B")
    assert cohorts.add_user_to_cohort_by_name(db, COURSE, learner, "A") is None
    assert cohorts.add_user_to_cohort_by_name(db, COURSE, learner, "A") is None
    assert cohorts.add_user_to_cohort_by_name(db, COURSE, learner, "B") == "A"
    assert cohorts.membership_of(db, learner.id, COURSE).cohort_id == b.id
    with pytest.raises(cohorts.CohortNotFound, match="Cohort name 'Z' not found"):
        cohorts.add_user_to_cohort_by_name(db, COURSE, learner, "Z")
    assert a.id != b.id


# -- placement on enrollment ------------------------------------------------------------------

def cohorted_course(db, **settings):
    make_course(db, course_key=COURSE, settings={"cohort_config": {"cohorted": True},
                                                 **settings})


def test_enrolling_in_a_cohorted_course_places_the_learner(app, db, learner):
    cohorted_course(db)
    session = app.registry["lms.dbsession_factory"]()
    api.enroll(session, learner.id, COURSE)
    session.commit()
    cohort = db.get(Cohort, cohorts.membership_of(db, learner.id, COURSE).cohort_id)
    assert (cohort.name, cohort.assignment_type) == ("Default Group", "random")


def test_preassigned_email_decides_the_cohort(app, db, as_staff):
    cohorted_course(db)
    manual = make_cohort(db, "Manual")
    make_cohort(db, "Random", "random")
    app.post_json(users(manual.id), {"users": ["later@example.com"]}, headers=as_staff)
    person = create_user(db, "later", email="later@example.com")
    session = app.registry["lms.dbsession_factory"]()
    api.enroll(session, person.id, COURSE)
    session.commit()
    assert cohorts.membership_of(db, person.id, COURSE).cohort_id == manual.id
    assert db.scalar(select(func.count()).select_from(CohortPreassignment)) == 0


def test_no_placement_in_a_course_without_cohorts(app, db, course, learner):
    session = app.registry["lms.dbsession_factory"]()
    api.enroll(session, learner.id, COURSE)
    session.commit()
    assert cohorts.membership_of(db, learner.id, COURSE) is None


def test_random_placement_uses_random_cohorts_only(app, db, learner):
    cohorted_course(db)
    make_cohort(db, "Manual")
    randoms = {make_cohort(db, f"R{n}", "random").id for n in range(3)}
    placed = set()
    for n in range(12):
        user = create_user(db, f"r{n}")
        session = app.registry["lms.dbsession_factory"]()
        api.enroll(session, user.id, COURSE)
        session.commit()
        placed.add(cohorts.membership_of(db, user.id, COURSE).cohort_id)
    assert placed <= randoms


# -- content groups through the blocks API ----------------------------------------------------

def test_content_groups_follow_the_cohort(app, db, learner):
    partitions = [{"id": 50, "name": "Content Groups", "scheme": "cohort",
                   "groups": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}]}]
    tree = Node("course", "course", display_name="C", children=[
        Node("chapter", "ch", display_name="Ch", children=[
            Node("sequential", "seq", display_name="Seq", children=[
                Node("vertical", "unit", display_name="Unit", children=[
                    Node("html", "for_a", display_name="For A", group_access={"50": [1]}),
                    Node("html", "for_b", display_name="For B", group_access={"50": [2]}),
                    Node("html", "all", display_name="All"),
                ])])])])
    make_course(db, tree, course_key=COURSE,
                settings={"user_partitions": partitions, "cohort_config": {"cohorted": True}})
    group_a = make_cohort(db, "A", "random", partition=50, group=1)
    api.enroll(db, learner.id, COURSE)
    db.commit()
    assert cohorts.membership_of(db, learner.id, COURSE).cohort_id == group_a.id
    headers = jwt_headers(app, learner)

    def visible():
        blocks = app.get("/api/courses/v2/blocks/", {"course_id": COURSE, "username": "learner",
                                                     "depth": "all"}, headers=headers).json
        return {block["display_name"] for block in blocks["blocks"].values()
                if block["type"] == "html"}

    assert visible() == {"For A", "All"}
    group_b = make_cohort(db, "B", "manual", partition=50, group=2)
    cohorts.assign(db, group_b, learner.id)
    db.commit()
    assert visible() == {"For B", "All"}
    cohorts.set_course_cohorted(db, COURSE, False)
    db.commit()
    assert visible() == {"All"}
    assert usage_key(COURSE, "html", "all")


def test_partition_hook_places_an_enrolled_learner_not_yet_placed(app, db, course, learner):
    make_cohort(db, "R", "random", partition=50, group=7)
    api.enroll(db, learner.id, COURSE)
    db.commit()
    assert cohorts.membership_of(db, learner.id, COURSE) is None  # not cohorted then
    cohorts.set_course_cohorted(db, COURSE, True)
    hook = app.registry["lms.plugin_manager"].hook.lms_user_partition_groups
    assert hook(dbsession=db, user_id=learner.id, course_key=KEY) == [{50: 7}]
    stranger = create_user(db, "stranger")
    assert hook(dbsession=db, user_id=stranger.id, course_key=KEY) == [{}]


def test_retirement_drops_preassignments(app, db, course):
    cohort = make_cohort(db, "A")
    cohorts.preassign(db, cohort, "Retiring@Example.com")
    person = create_user(db, "retiring", email="retiring@example.com")
    cohorts.retire_user(db, person)
    assert db.scalar(select(func.count()).select_from(CohortPreassignment)) == 0
