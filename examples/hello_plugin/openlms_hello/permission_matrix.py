"""Who may call each hello endpoint: the rows of openlms's permission matrix.

``lms.testing``'s ``test_permission_matrix`` calls every operation as every
role of ``lms.matrix.ROLES`` and compares the answers with these rows.
"""
from lms.matrix import AUTHENTICATED, STAFF_ONLY, PluginMatrix, Row
from openlms_hello import api

PRIVATE_GREETING = "a greeting only its owner and staff may read"


def setup(world):
    api.create_greeting(world.db, world.users["learner"], PRIVATE_GREETING)
    # Any body answered to someone else must not carry it.
    world.plant("learner", PRIVATE_GREETING)


ROWS = [
    # The learner's greetings: the learner and global staff; nobody else.
    Row("hello.greetings", "GET", {**STAFF_ONLY, "learner": "ok"},
        query={"username": "{learner}"}),
    Row("hello.greetings", "POST", AUTHENTICATED, body={"message": "Hi"}),
]

MATRIX = PluginMatrix(rows=ROWS, setup=setup)
