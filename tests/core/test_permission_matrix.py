"""The permission matrix (lms.matrix): one generated test per operation served by the
installed plugins, and tests showing that the matrix fails when it should."""
import types

import pytest
from sqlalchemy import func, select

from lms import make_config, matrix
from lms.auth import STANDARD_AUTH
from lms.errors import APIError
from lms.hookspecs import hookimpl
from lms.matrix import AUTHENTICATED, PluginMatrix, Row
from lms.models import User
from lms.service import Service
from lms.testing import TEST_SETTINGS, installed_plugins
from lms.testing import test_permission_matrix  # noqa: F401  (one test per operation)
from lms.testing import test_permission_matrix as check_operation
from lms.users import get_by_username

leaky = Service("leaky.profile", "/api/leaky/v1/profile/{username}", auth=STANDARD_AUTH)


@leaky.get()
def get_leaky_profile(request):
    """Refuses everyone, but names the owner's email in the refusal."""
    owner = get_by_username(request.dbsession, request.matchdict["username"])
    raise APIError(403, {"detail": f"Only {owner.email} may look."})


unrowed = Service("unrowed.thing", "/api/unrowed/v1/thing/", auth=STANDARD_AUTH)


@unrowed.get()
def get_unrowed_thing(request):
    return {}


def plugin(name, service, rows=None):
    module = types.ModuleType(f"matrix_test_{name}")
    module.name, module.version, module.requires = name, "0", ()

    @hookimpl
    def lms_includeme(config):
        config.add_cornice_service(service)

    module.lms_includeme = lms_includeme
    if rows is not None:
        @hookimpl
        def lms_permission_matrix():
            return PluginMatrix(rows=rows)

        module.lms_permission_matrix = lms_permission_matrix
    return module


def registry_of(settings):
    config = make_config(dict(settings, **{"sqlalchemy.url": "sqlite://"}))
    config.commit()
    return config.registry


def test_every_installed_operation_has_a_row_and_every_row_an_operation():
    registry = registry_of(dict(TEST_SETTINGS, **{"lms.plugins": " ".join(installed_plugins())}))
    operations = matrix.served_operations(registry)
    assert len(operations) > 100
    assert ("lms.operator.plugins", "GET") in operations  # hand-written routes count too
    assert matrix.missing_rows(registry) == []
    assert matrix.stale_rows(registry) == []


def test_an_operation_without_a_row_fails(add_plugins, app_factory, engine):
    add_plugins(plugin("unrowed", unrowed))
    settings = dict(TEST_SETTINGS, **{"lms.plugins": "unrowed"})
    assert matrix.missing_rows(registry_of(settings)) == [("unrowed.thing", "GET")]
    with pytest.raises(pytest.fail.Exception, match="GET unrowed.thing has no permission "
                                                    "matrix row"):
        check_operation(("unrowed.thing", "GET"), settings, app_factory, engine)


def test_a_refusal_naming_someone_elses_email_fails(add_plugins, app_factory, engine):
    refused = {**AUTHENTICATED, **{role: "forbidden" for role in matrix.ROLES
                                   if role != "anonymous"}}
    add_plugins(plugin("leaky", leaky, [
        Row("leaky.profile", "GET", refused, path={"username": "{learner}"})]))
    settings = dict(TEST_SETTINGS, **{"lms.plugins": "leaky"})
    with pytest.raises(pytest.fail.Exception) as failure:
        check_operation(("leaky.profile", "GET"), settings, app_factory, engine)
    message = str(failure.value)
    learner_email = matrix.user_email("learner")
    # Everyone but the learner (and the learner's restricted application) is told.
    for role in ("other_learner", "course_staff", "global_staff", "superuser", "service_user"):
        assert f"{role}: 403 Forbidden body discloses ['{learner_email}']" in message
    assert "learner: 403" not in message.replace("other_learner: 403", "")
    assert "restricted_jwt" not in message
    assert "expected" not in message  # every class was right


def test_a_wrong_answer_class_fails(add_plugins, app_factory, engine):
    add_plugins(plugin("unrowed", unrowed, [
        Row("unrowed.thing", "GET", {"*": "ok", "restricted_jwt": "forbidden"})]))
    settings = dict(TEST_SETTINGS, **{"lms.plugins": "unrowed"})
    with pytest.raises(pytest.fail.Exception) as failure:
        check_operation(("unrowed.thing", "GET"), settings, app_factory, engine)
    assert str(failure.value).splitlines()[1:] == [
        '  anonymous: expected ok, got 401 Unauthorized "{\\"detail\\":\\"Authentication '
        'credentials were not provided.\\"}"']


@pytest.mark.parametrize("row, message", [
    (Row("x.y", "GET", {"anybody": "ok"}), "unknown role 'anybody'"),
    (Row("x.y", "GET", {"*": "fine"}), "unknown class 'fine'"),
    (Row("x.y", "GET", {"learner": "ok"}), "no expected class for 'anonymous'"),
])
def test_rows_are_checked(row, message):
    with pytest.raises((ValueError, KeyError), match=message):
        matrix.rows_by_operation([PluginMatrix(rows=[row])])


def test_two_rows_for_one_operation_are_refused():
    rows = [Row("x.y", "GET", {"*": "ok"}), Row("x.y", "GET", {"*": "ok"})]
    with pytest.raises(ValueError, match="two permission matrix rows for GET x.y"):
        matrix.rows_by_operation([PluginMatrix(rows=rows)])


def test_an_isolated_row_gets_a_new_world_for_every_cell(add_plugins, app_factory, engine):
    seen = []

    def count_users(world):
        seen.append(world.db.scalar(select(func.count()).select_from(User)))
        world.new_user("extra")  # would pile up in a shared world
        return None

    add_plugins(plugin("unrowed", unrowed, [
        Row("unrowed.thing", "GET", AUTHENTICATED, query=count_users, isolated=True)]))
    settings = dict(TEST_SETTINGS, **{"lms.plugins": "unrowed"})
    check_operation(("unrowed.thing", "GET"), settings, app_factory, engine)
    # The world's six users and the previous cell's extra one never carry over.
    assert seen == [6] * len(matrix.ROLES)
