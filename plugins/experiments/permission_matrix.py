"""Who may call each experiments endpoint (checked by ``lms.testing``'s permission matrix).

Upstream: ``ExperimentDataViewSet`` (JWT or session, ``IsStaffOrOwner``, the
queryset limited to the caller's own rows, so even staff get 404 for another
user's row), ``ExperimentKeyValueViewSet`` (``IsStaffOrReadOnly``: anyone
reads, staff write), ``Rev934`` (``@view_auth_classes``: any authenticated
caller) and ``UserMetaDataView`` (self or staff).
"""
from lms.matrix import AUTHENTICATED, EVERYONE, STAFF_ONLY, PluginMatrix, Row
from plugins.experiments import api
from plugins.experiments.models import ExperimentData, ExperimentKeyValue

PRIVATE_VALUE = "matrix-experiment-secret-value"


def setup(world):
    learner = world.users["learner"]
    row = api.set_user_value(world.db, learner.id, 7, "matrix-key", PRIVATE_VALUE)
    world.values["experiment_data_id"] = row.id
    world.plant("learner", PRIVATE_VALUE)
    site = api.save(world.db, ExperimentKeyValue(), experiment_id=7, key="site-key",
                    value="site-value")
    world.values["experiment_key_value_id"] = site.id


def fresh_data(world):
    """A new row of the learner's, so a DELETE or PUT in one cell spares the next."""
    row = api.save(world.db, ExperimentData(user_id=world.users["learner"].id),
                   experiment_id=8, key=f"for-{world.role}", value=PRIVATE_VALUE)
    world.db.commit()
    return {"id": row.id}


def fresh_key_value(world):
    row = api.save(world.db, ExperimentKeyValue(), experiment_id=8, key=f"for-{world.role}",
                   value="v")
    world.db.commit()
    return {"id": row.id}


def own_body(world):
    return {"experiment_id": 9, "key": f"by-{world.role}", "value": "v"}


# The learner owns data rows; everyone else authenticated finds none (404).
OWN_ROW = {**AUTHENTICATED, "other_learner": "hidden", "course_staff": "hidden",
           "global_staff": "hidden", "superuser": "hidden", "service_user": "hidden"}

ROWS = [
    Row("experiments.data_list", "GET", AUTHENTICATED, note="lists the caller's rows only"),
    Row("experiments.data_list", "POST", AUTHENTICATED, body=own_body),
    Row("experiments.data_list", "PUT", AUTHENTICATED, body=own_body),
    Row("experiments.data_detail", "GET", OWN_ROW, path={"id": "{experiment_data_id}"}),
    Row("experiments.data_detail", "PUT", OWN_ROW, path=fresh_data,
        body={"experiment_id": 8, "key": "replaced", "value": "v"}),
    Row("experiments.data_detail", "PATCH", OWN_ROW, path=fresh_data, body={"value": "new"}),
    Row("experiments.data_detail", "DELETE", OWN_ROW, path=fresh_data),
    Row("experiments.key_value_list", "GET", {**EVERYONE, "restricted_jwt": "forbidden"}),
    Row("experiments.key_value_list", "POST", STAFF_ONLY, body=own_body),
    Row("experiments.key_value_detail", "GET", {**EVERYONE, "restricted_jwt": "forbidden"},
        path={"id": "{experiment_key_value_id}"}),
    Row("experiments.key_value_detail", "PUT", STAFF_ONLY, path=fresh_key_value,
        body=own_body),
    Row("experiments.key_value_detail", "PATCH", STAFF_ONLY, path=fresh_key_value,
        body={"value": "new"}),
    Row("experiments.key_value_detail", "DELETE", STAFF_ONLY, path=fresh_key_value),
    Row("experiments.rev934", "GET", AUTHENTICATED, query={"course_id": "{course_key}"}),
    Row("experiments.user_metadata", "GET",
        {**STAFF_ONLY, "learner": "ok"},
        path={"username": "{learner}", "course_id": "{course_key}"},
        note="self or staff; needs the world's course (courses plugin)"),
]

MATRIX = PluginMatrix(rows=ROWS, setup=setup)
