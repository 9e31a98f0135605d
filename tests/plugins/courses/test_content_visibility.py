"""Every content endpoint of the courses plugin x every hiding rule x every kind of viewer.

Each hiding rule hides one sequence (and so its unit and html) of a public,
started course: ``visible_to_staff_only``, a start date next year,
``hide_after_due`` with a past due date, a content group the learner is not in,
and (in a course imported from OLX) a unit that exists only as a draft. The
anonymous user and an enrolled learner must not get the hidden blocks from any
endpoint (absent, or the endpoint family's 403/404), course staff must (except
drafts, which nobody gets). Bodies are scanned for the hidden blocks' names and
text. The endpoint list is checked against the route table: a new route of the
plugin without a row here fails.
"""
import types
from datetime import datetime, timezone

import pytest

from lms.hookspecs import hookimpl
from lms.keys import parse_course_key
from lms.openapi import enabled_services
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from plugins.courses import api
from plugins.courses.importer import import_course
from tests.plugins.courses.factories import FUTURE, PAST, Node, make_course, usage_key
from tests.plugins.courses.test_import_helpers import minimal_course

COURSE_KEY = "course-v1:edX+Hide+2026"
DRAFT_COURSE_KEY = "course-v1:T+C+R"  # minimal_course's key
PARTITION_ID, LEARNER_GROUP, OTHER_GROUP = 50, 1, 2
PARTITIONS = [{"id": PARTITION_ID, "name": "Cohorts", "scheme": "cohort",
               "groups": [{"id": LEARNER_GROUP, "name": "A"}, {"id": OTHER_GROUP, "name": "B"}]}]
RULES = ("staff_only", "future_start", "hidden_after_due", "content_group", "unpublished")
# How each rule is set on its sequence.
RULE_FIELDS = {
    "staff_only": {"visible_to_staff_only": True},
    "future_start": {"start": FUTURE},
    "hidden_after_due": {"hide_after_due": True, "due": datetime(2021, 1, 1, tzinfo=timezone.utc)},
    "content_group": {"group_access": {str(PARTITION_ID): [OTHER_GROUP]}},
}
VIEWERS = ("anonymous", "learner", "course_staff")
PERMISSION_DENIED = {"detail": "You do not have permission to perform this action."}
NOT_FOUND_DEVELOPER = {"developer_message": "Not found."}


def secret(rule, part):
    """The hidden blocks' names and text: never in an answer to someone who may not see them."""
    return f"Secret-{rule}-{part}"


# -- the courses ------------------------------------------------------------------------

def hiding_tree():
    """One open sequence, and one sequence per rule with a unit and an html inside."""
    chapters = [Node("chapter", "open", display_name="Open chapter", children=[
        Node("sequential", "open_seq", display_name="Open sequence", children=[
            Node("vertical", "open_unit", display_name="Open unit", children=[
                Node("html", "open_html", display_name="Open html",
                     data={"html": "<p>Open text</p>"})])])])]
    for rule, fields in RULE_FIELDS.items():
        html = Node("html", f"html_{rule}", display_name=secret(rule, "html"),
                    data={"html": f"<p>{secret(rule, 'text')}</p>"})
        unit = Node("vertical", f"unit_{rule}", display_name=secret(rule, "unit"),
                    children=[html])
        sequence = Node("sequential", f"seq_{rule}", display_name=f"Sequence {rule}",
                        children=[unit], **fields)
        chapters.append(Node("chapter", f"ch_{rule}", display_name=f"Chapter {rule}",
                             children=[sequence]))
    return Node("course", "course", display_name="Hiding course", children=chapters)


DRAFT_OLX = {
    "chapter/ch.xml": '<chapter display_name="Chapter unpublished">'
                      '<sequential url_name="seq_unpublished"/></chapter>',
    "sequential/seq_unpublished.xml": '<sequential display_name="Sequence unpublished">'
                                      '<vertical url_name="published_unit"/></sequential>',
    "vertical/published_unit.xml": '<vertical display_name="Published unit">'
                                   '<html url_name="published_html"/></vertical>',
    "html/published_html.xml": '<html display_name="Published html"><![CDATA[<p>Public text</p>]]>'
                               '</html>',
    # Studio's export of an unpublished unit: drafts/, pointing at its parent.
    "drafts/vertical/unit_unpublished.xml":
        f'<vertical display_name="{secret("unpublished", "unit")}" '
        'parent_url="block-v1:T+C+R+type@sequential+block@seq_unpublished" '
        'index_in_children_list="1">'
        '<html url_name="html_unpublished"/></vertical>',
    "drafts/html/html_unpublished.xml":
        f'<html display_name="{secret("unpublished", "html")}" '
        'parent_url="block-v1:T+C+R+type@vertical+block@unit_unpublished">'
        f'<![CDATA[<p>{secret("unpublished", "text")}</p>]]></html>',
}


class Case:
    """One hiding rule: its course and the keys of its hidden sequence, unit and html."""

    def __init__(self, rule):
        self.rule = rule
        self.course_key = DRAFT_COURSE_KEY if rule == "unpublished" else COURSE_KEY
        self.sequence = usage_key(self.course_key, "sequential", f"seq_{rule}")
        self.unit = usage_key(self.course_key, "vertical", f"unit_{rule}")
        self.html = usage_key(self.course_key, "html", f"html_{rule}")
        self.secrets = [secret(rule, part) for part in ("unit", "html", "text")]

    def allowed(self, viewer):
        """Course staff see everything published; nobody sees drafts."""
        return viewer == "course_staff" and self.rule != "unpublished"


CASES = [Case(rule) for rule in RULES]


def _viewer_plugin():
    plugin = types.ModuleType("tests.plugins.courses.visibility_plugin")
    plugin.name, plugin.version, plugin.requires = "testvisibility", "1.0", ()
    plugin.ENROLLED, plugin.GROUPS, plugin.RESUME = set(), {}, {}

    @hookimpl
    def lms_get_enrollment(dbsession, user_id, course_key):
        if (user_id, str(course_key)) in plugin.ENROLLED:
            return {"mode": "audit", "is_active": True, "created": PAST}
        return None

    @hookimpl
    def lms_user_partition_groups(dbsession, user_id, course_key):
        return plugin.GROUPS.get(user_id)

    @hookimpl
    def lms_resume_block(dbsession, user_id, course_key):
        return plugin.RESUME.get((user_id, str(course_key)))

    @hookimpl
    def lms_block_completions(dbsession, user_id, course_key):
        return None

    plugin.lms_get_enrollment = lms_get_enrollment
    plugin.lms_user_partition_groups = lms_user_partition_groups
    plugin.lms_resume_block = lms_resume_block
    plugin.lms_block_completions = lms_block_completions
    return plugin


@pytest.fixture
def viewer_plugin(add_plugins):
    plugin = _viewer_plugin()
    add_plugins(plugin)
    return plugin


@pytest.fixture
def app(app_factory, settings, viewer_plugin):
    # html bodies in student_view_data, so that the scan would see leaked text.
    return app_factory(**{**settings, "courses.html_student_view_data": "true"})


@pytest.fixture
def world(app, db, viewer_plugin, tmp_path):
    """The two courses, a learner enrolled in both (in content group A), course staff."""
    make_course(db, hiding_tree(), course_key=COURSE_KEY, course_visibility="public",
                settings={"user_partitions": PARTITIONS})
    import_course(db, minimal_course(
        tmp_path / "olx", '<chapter url_name="ch"/>', extra=DRAFT_OLX,
        attributes=' course_visibility="public" start="2020-01-01T00:00:00Z"'))
    db.commit()
    learner = create_user(db, "learner", password=None)
    staff = create_user(db, "coursestaff", password=None)
    for course_key in (COURSE_KEY, DRAFT_COURSE_KEY):
        grant_role(db, staff, "staff", parse_course_key(course_key))
        viewer_plugin.ENROLLED.add((learner.id, course_key))
    db.commit()
    viewer_plugin.GROUPS[learner.id] = {PARTITION_ID: LEARNER_GROUP}
    users = {"anonymous": None, "learner": learner, "course_staff": staff}
    return types.SimpleNamespace(app=app, users=users, plugin=viewer_plugin)


def call(world, viewer, url, params=None, status=None):
    user = world.users[viewer]
    headers = jwt_headers(world.app, user) if user is not None else {}
    return world.app.get(url, params or {}, headers=headers, status=status or "*")


def assert_no_secret(response, case, where):
    text = response.body.decode("utf-8", "replace")
    for value in case.secrets:
        assert value not in text, f"{where}: {value!r} leaked"


def assert_secret_shown(response, case, where, parts=("unit", "html")):
    text = response.body.decode("utf-8", "replace")
    for part in parts:
        assert secret(case.rule, part) in text, f"{where}: {part} missing for staff"


# -- one checker per content endpoint ------------------------------------------------------

def username_params(world, viewer):
    user = world.users[viewer]
    return {"username": user.username if user is not None else ""}


def check_blocks_in_course(version):
    def check(world, case, viewer):
        params = {"course_id": case.course_key, "depth": "all",
                  "requested_fields": "children,display_name,student_view_data",
                  "student_view_data": "html", **username_params(world, viewer)}
        response = call(world, viewer, f"/api/courses/{version}/blocks/", params)
        assert response.status_int == 200
        blocks = response.json["blocks"]
        hidden = {case.sequence, case.unit, case.html} - (
            {case.sequence} if case.rule == "unpublished" else set())
        if case.allowed(viewer):
            assert hidden <= set(blocks)
            assert blocks[case.html]["student_view_data"]["html"] == \
                f"<p>{secret(case.rule, 'text')}</p>"
        else:
            assert not hidden & set(blocks)
            assert_no_secret(response, case, "blocks")
            assert any(block["display_name"] in ("Open html", "Published html")
                       for block in blocks.values())
    return check


def check_blocks_in_tree(version):
    def check(world, case, viewer):
        params = {"depth": "all", "requested_fields": "children,display_name",
                  **username_params(world, viewer)}
        response = call(world, viewer, f"/api/courses/{version}/blocks/{case.unit}/", params)
        if case.allowed(viewer):
            assert response.status_int == 200
            assert set(response.json["blocks"]) == {case.unit, case.html}
        elif case.rule == "unpublished":
            assert (response.status_int, response.json) == (
                404, {"developer_message": f"Block not found: {case.unit}"})
        else:
            # Upstream transforms from the root and serializes what is left: nothing.
            assert (response.status_int, response.json) == (
                200, {"root": case.unit, "blocks": {}})
        if not case.allowed(viewer):
            assert_no_secret(response, case, "blocks tree")
    return check


def check_block_metadata(version):
    def check(world, case, viewer):
        response = call(world, viewer, f"/api/courses/{version}/block_metadata/{case.html}",
                        {"include": "index_dictionary"})
        if viewer != "course_staff":
            # Course staff only, whatever the block: upstream's 403.
            assert (response.status_int, response.json) == (403, {
                "developer_message":
                    f"You do not have permission to access block '{case.html}'."})
        elif case.allowed(viewer):
            assert response.status_int == 200
            assert response.json["index_dictionary"]["content"] == {
                "html_content": secret(case.rule, "text"),
                "display_name": secret(case.rule, "html")}
        else:
            assert (response.status_int, response.json) == (
                404, {"developer_message": f"Block not found: {case.html}"})
        if not case.allowed(viewer):
            assert_no_secret(response, case, "block_metadata")
    return check


def check_outline(world, case, viewer):
    response = call(world, viewer,
                    f"/api/learning_sequences/v1/course_outline/{case.course_key}")
    assert response.status_int == 200
    sequences = response.json["outline"]["sequences"]
    if case.allowed(viewer) or case.rule == "unpublished":
        # Outlines list sections and sequences only; the draft unit's sequence is published.
        assert sequences[case.sequence]["accessible"] is True
    elif case.rule in ("future_start", "hidden_after_due"):
        # Upstream's schedule processor keeps dated sequences, marked inaccessible.
        assert sequences[case.sequence]["accessible"] is False
    else:
        assert case.sequence not in sequences
        assert f"Sequence {case.rule}" not in response.body.decode()
    if not case.allowed(viewer):
        assert_no_secret(response, case, "outline")


def check_courseware_sequence(world, case, viewer):
    response = call(world, viewer, f"/api/courseware/sequence/{case.sequence}")
    if case.allowed(viewer):
        assert response.status_int == 200
        assert [item["id"] for item in response.json["items"]] == [case.unit]
        assert_secret_shown(response, case, "sequence", parts=("unit",))
        return
    assert_no_secret(response, case, "sequence")
    if case.rule == "unpublished":
        assert response.status_int == 200
        assert case.unit not in [item["id"] for item in response.json["items"]]
    elif case.rule == "hidden_after_due":
        # Described for the learning MFE's notice, without its units.
        assert response.status_int == 200
        assert (response.json["is_hidden_after_due"], response.json["items"]) == (True, [])
    else:
        assert (response.status_int, response.json) == (404, NOT_FOUND_DEVELOPER)


def check_courseware_resume(world, case, viewer):
    user = world.users[viewer]
    if user is not None:
        world.plugin.RESUME[(user.id, case.course_key)] = case.html
    response = call(world, viewer, f"/api/courseware/resume/{case.course_key}")
    if viewer == "anonymous":
        assert (response.status_int, response.json) == (401, {
            "developer_message": "Authentication credentials were not provided."})
    elif case.allowed(viewer):
        assert response.json == {"block_id": case.html, "section_id": case.sequence,
                                 "unit_id": case.unit}
    else:
        assert (response.status_int, response.json) == (
            200, {"block_id": None, "section_id": None, "unit_id": None})


def check_courseware_course(world, case, viewer):
    # Course metadata: no block of the course is named in it.
    response = call(world, viewer, f"/api/courseware/course/{case.course_key}")
    assert response.status_int == 200
    assert_no_secret(response, case, "courseware course")


def check_xblock(suffix, params=None):
    def check(world, case, viewer):
        response = call(world, viewer, f"/api/xblock/v2/xblocks/{case.html}/{suffix}", params)
        if case.allowed(viewer):
            assert response.status_int == 200
            if suffix != "handler_url/submit/":
                assert response.json["display_name"] == secret(case.rule, "html")
            if suffix.startswith("view/"):
                assert secret(case.rule, "text") in response.json["content"]
            if params:
                assert response.json["index_dictionary"]["content"]["html_content"] == \
                    secret(case.rule, "text")
            return
        assert_no_secret(response, case, f"xblock {suffix}")
        if case.rule == "unpublished" and suffix == "handler_url/submit/":
            # As upstream, a block that does not exist still gets a (useless) URL.
            assert response.status_int == 200
        elif case.rule == "unpublished":
            assert (response.status_int, response.json) == (
                404, {"detail": f"The component '{case.html}' does not exist."})
        else:
            assert (response.status_int, response.json) == (403, PERMISSION_DENIED)
    return check


# The content routes of the courses plugin (route name, method) and their checkers.
CONTENT_ENDPOINTS = {
    ("courses.blocks_in_course_v1", "GET"): check_blocks_in_course("v1"),
    ("courses.blocks_in_course_v2", "GET"): check_blocks_in_course("v2"),
    ("courses.blocks_in_tree_v1", "GET"): check_blocks_in_tree("v1"),
    ("courses.blocks_in_tree_v2", "GET"): check_blocks_in_tree("v2"),
    ("courses.block_metadata_v1", "GET"): check_block_metadata("v1"),
    ("courses.block_metadata_v2", "GET"): check_block_metadata("v2"),
    ("courses.course_outline", "GET"): check_outline,
    ("courses.courseware_course", "GET"): check_courseware_course,
    ("courses.courseware_sequence", "GET"): check_courseware_sequence,
    ("courses.courseware_resume", "GET"): check_courseware_resume,
    ("courses.xblock_metadata", "GET"): check_xblock("", {"include": "index_dictionary"}),
    ("courses.xblock_view", "GET"): check_xblock("view/student_view/"),
    ("courses.xblock_handler_url", "GET"): check_xblock("handler_url/submit/"),
}
# Routes of the plugin that return no block of a course, and why.
NOT_CONTENT = {
    ("courses.course_list", "GET"): "catalog: course overviews only",
    ("courses.course_detail", "GET"): "catalog: a course overview only",
    ("courses.course_ids", "GET"): "catalog: course keys only",
    ("courses.courseware_celebration", "POST"): "writes the learner's celebration flags",
    ("courses.organization_list", "GET"): "organizations",
    ("courses.organization_detail", "GET"): "organizations",
    ("courses.organization_detail", "PUT"): "organizations",
    ("courses.organization_detail", "PATCH"): "organizations",
    ("courses.asset", "GET"): "static files, gated by their own lock (not blocks)",
}


def courses_operations(registry):
    return {(service.name, method) for service in enabled_services(registry)
            if service.name.startswith("courses.")
            for method in service.defined_methods if method not in ("HEAD", "OPTIONS")}


def test_every_route_of_the_plugin_is_classified(app):
    served = courses_operations(app.registry)
    unclassified = served - set(CONTENT_ENDPOINTS) - set(NOT_CONTENT)
    assert not unclassified, f"add a row to CONTENT_ENDPOINTS or NOT_CONTENT: {unclassified}"
    stale = (set(CONTENT_ENDPOINTS) | set(NOT_CONTENT)) - served
    assert not stale, f"rows for operations that are not served: {stale}"


@pytest.mark.parametrize("operation", sorted(CONTENT_ENDPOINTS))
def test_hidden_content_per_endpoint_rule_and_viewer(world, operation):
    check = CONTENT_ENDPOINTS[operation]
    for case in CASES:
        for viewer in VIEWERS:
            try:
                check(world, case, viewer)
            except AssertionError as error:
                raise AssertionError(f"{operation[0]}, {case.rule}, {viewer}: {error}") from None


def test_open_content_is_served_to_every_viewer(world):
    open_html = usage_key(COURSE_KEY, "html", "open_html")
    for viewer in VIEWERS:
        body = call(world, viewer, f"/api/xblock/v2/xblocks/{open_html}/view/student_view/",
                    status=200).json
        assert body["display_name"] == "Open html" and "Open text" in body["content"]


# -- the api function ---------------------------------------------------------------------

def test_may_see_block_verdicts(world, db):
    registry, users = world.app.registry, world.users
    expected = {"staff_only": api.Verdict.HIDDEN, "future_start": api.Verdict.NOT_STARTED,
                "hidden_after_due": api.Verdict.HIDDEN_AFTER_DUE,
                "content_group": api.Verdict.HIDDEN, "unpublished": api.Verdict.NOT_FOUND}
    for case in CASES:
        for viewer in ("anonymous", "learner"):
            answer = api.may_see_block(registry, db, users[viewer], case.html)
            assert not answer and answer.verdict is expected[case.rule], (case.rule, viewer)
        staff_answer = api.may_see_block(registry, db, users["course_staff"], case.html)
        assert bool(staff_answer) is case.allowed("course_staff")
    # ``now`` decides the dated rules: before the due date, after the start.
    before_due = datetime(2020, 6, 1, tzinfo=timezone.utc)
    assert api.may_see_block(registry, db, users["learner"], Case("hidden_after_due").html,
                             now=before_due)
    assert api.may_see_block(registry, db, users["learner"], Case("future_start").html,
                             now=FUTURE.replace(year=FUTURE.year + 1))
    # Unknown and unparsable keys do not exist.
    for unknown in ("not-a-key", usage_key("course-v1:No+Such+Course", "html", "x")):
        assert api.may_see_block(registry, db, None, unknown).verdict is api.Verdict.NOT_FOUND


def test_private_course_needs_an_enrollment(world, db):
    course = api.get_course(db, COURSE_KEY)
    course.course_visibility = "private"
    db.commit()
    open_html = usage_key(COURSE_KEY, "html", "open_html")
    outsider = create_user(db, "outsider", password=None)
    registry = world.app.registry
    for user in (None, outsider):
        assert api.may_see_block(registry, db, user, open_html).verdict is \
            api.Verdict.NOT_ENROLLED
    assert api.may_see_block(registry, db, world.users["learner"], open_html)
    world.users["outsider"] = outsider
    for viewer in ("anonymous", "outsider"):
        assert call(world, viewer, f"/api/xblock/v2/xblocks/{open_html}/").status_int == 403
        assert call(world, viewer, f"/api/courseware/sequence/"
                                   f"{usage_key(COURSE_KEY, 'sequential', 'open_seq')}"
                    ).status_int == 404
