"""Blocks API query parameters: every validation message, merging rules and precedence."""
from urllib.parse import urlencode

import pytest

from tests.plugins.courses.factories import DEMO_KEY, make_course
from tests.plugins.courses.test_blocks_support import (
    ROOT, basic, build_app, key, make_user, user_headers,
)

TREE = f"/api/courses/v1/blocks/{ROOT}/"
STAFF_QUERY = {"all_blocks": "true"}


@pytest.fixture(name="app")
def learning_app(app_factory, settings, add_plugins):
    return build_app(app_factory, settings, add_plugins)


@pytest.fixture
def staff(db):
    make_course(db)
    return make_user(db, "staffer", is_staff=True)


def field_error(field, message):
    return {"field_errors": {field: {"developer_message": message}}}


def get(app, user, params, status=200, url=TREE):
    query = urlencode(params, doseq=True)
    return app.get(f"{url}?{query}", headers=user_headers(app, user), status=status)


@pytest.mark.parametrize("param, value, message", [
    ("all_blocks", "yes", "Invalid Boolean Value."),
    ("all_blocks", "TRUE", "Invalid Boolean Value."),
    ("depth", "deep", "'deep' is not a valid depth value."),
    ("depth", "1.5", "'1.5' is not a valid depth value."),
    ("nav_depth", "x", "Enter a whole number."),
    ("nav_depth", "1.5", "Enter a whole number."),
    ("nav_depth", "-1", "Ensure this value is greater than or equal to 0."),
    ("return_type", "xml", "Select a valid choice. xml is not one of the available choices."),
    ("requested_fields", "children,,graded", "This field cannot be empty."),
    ("block_counts", "html,", "This field cannot be empty."),
    ("student_view_data", ",video", "This field cannot be empty."),
    ("block_types_filter", ["html", ""], "This field cannot be empty."),
])
def test_parameter_errors(app, staff, param, value, message):
    params = {"username": "staffer", param: value}
    assert get(app, staff, params, status=400).json == field_error(param, message)


def test_all_field_errors_are_reported_together(app, staff):
    response = get(app, staff, {"username": "staffer", "depth": "x", "return_type": "set",
                                "block_counts": "a,,b"}, status=400)
    assert response.json == {"field_errors": {
        "depth": {"developer_message": "'x' is not a valid depth value."},
        "return_type": {"developer_message":
                        "Select a valid choice. set is not one of the available choices."},
        "block_counts": {"developer_message": "This field cannot be empty."}}}


def test_invalid_usage_key_joins_other_field_errors(app, staff):
    response = get(app, staff, {"depth": "x"}, status=400,
                   url="/api/courses/v1/blocks/block-v1:bad/")
    assert response.json == {"field_errors": {
        "depth": {"developer_message": "'x' is not a valid depth value."},
        "usage_key": {"developer_message": "'block-v1:bad' is not a valid usage key."}}}


def test_missing_username_joins_other_field_errors(app, staff):
    response = get(app, staff, {"depth": "x"}, status=400)
    assert response.json == {"field_errors": {
        "depth": {"developer_message": "'x' is not a valid depth value."},
        "username": {"developer_message":
                     "This field is required unless all_blocks is requested."}}}


def test_an_invalid_all_blocks_counts_as_not_given(app, staff):
    response = get(app, staff, {"all_blocks": "maybe"}, status=400)
    assert response.json == {"field_errors": {
        "all_blocks": {"developer_message": "Invalid Boolean Value."},
        "username": {"developer_message":
                     "This field is required unless all_blocks is requested."}}}


def test_permission_errors_come_before_field_errors(app, db):
    make_course(db)
    response = app.get(TREE, {"username": "", "depth": "x"}, status=403)
    assert response.json == {"developer_message":
                             f"Course blocks for '{DEMO_KEY}' cannot be accessed anonymously."}


def test_all_blocks_false_needs_username(app, staff):
    for value in ("false", "False", "0", ""):
        assert get(app, staff, {"all_blocks": value}, status=400).json == field_error(
            "username", "This field is required unless all_blocks is requested.")


def test_valid_values(app, staff):
    for value in ("true", "True", "1"):
        assert get(app, staff, {"all_blocks": value}).json["root"] == ROOT
    # Empty or absent depth is 0; nav_depth accepts "2.0" as Django does.
    assert list(get(app, staff, {**STAFF_QUERY, "depth": ""}).json["blocks"]) == [ROOT]
    body = get(app, staff, {**STAFF_QUERY, "depth": " 1 ", "nav_depth": "0.0"}).json
    assert len(body["blocks"]) == 3 and "descendants" in body["blocks"][ROOT]
    # Empty return_type is dict; page/page_size are not the blocks API's business.
    body = get(app, staff, {**STAFF_QUERY, "return_type": "", "page": "x", "page_size": "y"}).json
    assert body == {"root": ROOT, "blocks": {ROOT: basic("course", "course", "Demo Course")}}


def test_repeated_and_comma_separated_values_merge(app, staff):
    params = {**STAFF_QUERY, "depth": "all",
              "requested_fields": ["children", "graded,format", "children"],
              "block_counts": ["html", "video,html"]}
    block = get(app, staff, params).json["blocks"][key("sequential", "lesson1")]
    assert block == basic("sequential", "lesson1", "Lesson 1", graded=True, format="Homework",
                          block_counts={"html": 2, "video": 1},
                          children=[key("vertical", "unit1"), key("vertical", "staffnotes")])


def test_single_valued_parameters_use_the_last_value(app, staff):
    body = get(app, staff, {**STAFF_QUERY, "depth": ["x", "0"],
                            "return_type": ["dict", "list"]}).json
    assert body == [basic("course", "course", "Demo Course")]


def test_unknown_requested_fields_are_ignored(app, staff):
    body = get(app, staff, {**STAFF_QUERY, "requested_fields": "bogus,lti_url"}).json
    assert body["blocks"][ROOT] == basic("course", "course", "Demo Course")


def test_empty_multi_value_is_no_value(app, staff):
    body = get(app, staff, {**STAFF_QUERY, "requested_fields": "", "block_counts": ""}).json
    assert body["blocks"][ROOT] == basic("course", "course", "Demo Course")


def test_username_is_trimmed(app, staff):
    assert get(app, staff, {"username": "  staffer "}).json["root"] == ROOT


def test_every_query_parameter_is_in_the_openapi_document(app):
    """``course_id`` is read first by its own validator, yet declared (and required)."""
    from lms.openapi import build_document

    paths = build_document(app.registry)["paths"]
    for version in ("v1", "v2"):
        parameters = {p["name"]: p for p in paths[f"/api/courses/{version}/blocks/"]["get"][
            "parameters"] if p.get("in") == "query"}
        assert set(parameters) == {
            "course_id", "username", "all_blocks", "depth", "nav_depth", "requested_fields",
            "block_counts", "student_view_data", "block_types_filter", "return_type"}
        assert parameters["course_id"]["required"] is True
        tree = paths[f"/api/courses/{version}/blocks/{{usage_key_string}}"]["get"]
        assert "course_id" not in {p["name"] for p in tree["parameters"]}
