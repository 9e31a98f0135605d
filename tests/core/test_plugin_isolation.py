"""Each installed plugin runs alone: over a database holding only the core's migrations
and those of the plugin and its requirements, with exactly those plugins enabled, every
operation of the plugin and of the core answers an anonymous caller and global staff
without a 5xx, and every error with a JSON body (``lms.testing.plugin_alone_problems``)."""
import pytest

from lms.testing import installed_plugins, plugin_alone_problems, with_requirements

PLUGINS = sorted(installed_plugins())


@pytest.mark.parametrize("plugin_name", PLUGINS)
def test_each_plugin_runs_alone(plugin_name, alone_database_url, clean_lms_environment):
    problems = plugin_alone_problems(plugin_name, alone_database_url(plugin_name))
    if problems:
        pytest.fail(f"{plugin_name} alone:\n  " + "\n  ".join(problems), pytrace=False)


def test_the_example_plugin_is_checked_too():
    assert {"experiments", "courses", "accounts", "hello"} <= set(PLUGINS)


def test_requirements_are_followed_transitively():
    class Info:
        def __init__(self, *requires):
            self.requires = requires

    installed = {"a": Info("b"), "b": Info("c"), "c": Info(), "d": Info()}
    assert sorted(with_requirements(installed, "a")) == ["a", "b", "c"]
    assert with_requirements(installed, "d") == ["d"]


def test_a_table_of_a_plugin_not_required_is_reported(add_plugins, alone_database_url,
                                                      clean_lms_environment):
    add_plugins("tests.core.leaky_plugin")
    problems = plugin_alone_problems("leaky", alone_database_url("leaky"))
    leaky = [p for p in problems if "/api/leaky/" in p]
    assert len(leaky) == 2  # anonymous and global staff
    assert leaky[0].startswith(
        "GET /api/leaky/v1/courses/{course_id}/count as anonymous: 500 ")
    assert "A server error occurred." in leaky[0]
    assert "courses_course" in leaky[0]  # the cause: the logged database error
    assert problems == leaky  # the rest of the app (the core) is fine alone


def test_the_same_plugin_passes_with_its_requirement_enabled(add_plugins, alone_database_url,
                                                             clean_lms_environment,
                                                             monkeypatch):
    add_plugins("tests.core.leaky_plugin")
    from tests.core import leaky_plugin

    monkeypatch.setattr(leaky_plugin, "requires", ("courses",))
    problems = plugin_alone_problems("leaky", alone_database_url("leaky_fixed"))
    assert [p for p in problems if "/api/leaky/" in p] == []
