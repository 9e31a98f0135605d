"""hello's public Python API: the only module other plugins may import."""
from sqlalchemy import delete

from openlms_hello.models import Greeting


def create_greeting(dbsession, user, message):
    """Add a greeting for ``user`` and flush, so that it has an id."""
    greeting = Greeting(user_id=user.id, message=message)
    dbsession.add(greeting)
    dbsession.flush()
    return greeting


def delete_greetings(dbsession, user_id):
    """Remove every greeting of a user (account retirement)."""
    dbsession.execute(delete(Greeting).where(Greeting.user_id == user_id))
