from lms.tasks import task, task_session
from lms.users import create_user


@task(name="fake.create_marker_user")
def create_marker_user(self, username):
    with task_session(self) as db:
        create_user(db, username=username, email=f"{username}@example.com", password=None)
