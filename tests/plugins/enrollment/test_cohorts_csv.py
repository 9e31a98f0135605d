"""``POST /api/cohorts/v1/courses/{course}/users``: the cohort CSV upload, validated at
once, applied by the ``enrollment.cohort_students`` task (in-process in the embedded
default; in a real ``lms worker`` against Redis in the last test)."""
import csv
import io
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from lms.models import User
from lms.testing import create_user, jwt_headers
from plugins.enrollment import cohorts
from plugins.enrollment.models import CohortMembership, CohortPreassignment, CohortUpload
from tests.plugins.courses.factories import make_course

COURSE = "course-v1:edX+CohortCsv+2026"
UPLOAD = f"/api/cohorts/v1/courses/{COURSE}/users"
REDIS = ("127.0.0.1", 6379)


@pytest.fixture
def staff(db):
    return create_user(db, "gstaff", is_staff=True)


@pytest.fixture
def course(db):
    return make_course(db, course_key=COURSE)


def post_csv(app, headers, content, name="cohorts.csv", status=204, path=UPLOAD):
    return app.post(path, headers=headers, upload_files=[("uploaded-file", name, content)],
                    status=status)


def report_rows(db):
    report = db.scalar(select(CohortUpload.report))
    return list(csv.reader(io.StringIO(report)))


def test_upload_applies_rows_and_keeps_a_report(app, db, course, staff):
    a, b = cohorts.add_cohort(db, COURSE, "A"), cohorts.add_cohort(db, COURSE, "B")
    alice = create_user(db, "alice", email="alice@example.com")
    bob = create_user(db, "bob", email="bob@example.com")
    carol = create_user(db, "carol")
    cohorts.assign(db, b, carol.id)
    db.commit()
    content = ("username,email,cohort\n"
               "alice,,A\n"               # by username
               "nobody,bob@example.com,B\n"  # the email wins over the username
               "carol,,B\n"               # already there: skipped
               "ghost,,A\n"               # unknown username
               ",new@example.com,A\n"     # pre-assigned
               ",broken@,A\n"             # invalid email
               "alice,,Nope\n"            # unknown cohort
               "=cmd(),,A\n").encode()    # a formula cell: not found, neutralised
    response = post_csv(app, jwt_headers(app, staff), content)
    assert response.body == b""
    upload = db.scalar(select(CohortUpload))
    assert (upload.task_state, upload.total, upload.attempted, upload.succeeded,
            upload.skipped, upload.failed, upload.preassigned) == (
        "SUCCESS", 8, 8, 2, 1, 4, 1)
    assert cohorts.upload_progress(upload)["action_name"] == "cohorted"
    assert upload.content is None and upload.requester_id == staff.id
    assert cohorts.membership_of(db, alice.id, COURSE).cohort_id == a.id
    assert cohorts.membership_of(db, bob.id, COURSE).cohort_id == b.id
    assert db.scalar(select(CohortPreassignment.email)) == "new@example.com"
    assert report_rows(db) == [
        ["Cohort Name", "Exists", "Learners Added", "Learners Not Found",
         "Invalid Email Addresses", "Preassigned Learners"],
        ["A", "True", "1", "'=cmd(),ghost", "broken@", "new@example.com"],
        ["B", "True", "1", "", "", ""],
        ["Nope", "False", "0", "", "", ""],
    ]
    [task] = cohorts.upload_tasks(db, COURSE)
    assert (task["task_type"], task["task_state"], task["requester"]) == (
        "cohort_students", "SUCCESS", "gstaff")
    assert cohorts.upload_report(db, COURSE, task["task_id"]).startswith("Cohort Name,")


def test_singular_path_and_byte_order_mark(app, db, course, staff):
    cohorts.add_cohort(db, COURSE, "A")
    create_user(db, "alice")
    db.commit()
    post_csv(app, jwt_headers(app, staff), "\ufeffusername,cohort\nalice,A\n".encode(),
             path=f"/api/cohorts/v1/courses/{COURSE}/user")
    assert db.scalar(select(CohortUpload.succeeded)) == 1


@pytest.mark.parametrize("content,name,message", [
    (b"username,cohort\n", "cohorts.txt", "The file must end with the extension '.csv'."),
    (b"username,name\nalice,A\n", "c.csv",
     "The file must contain a 'cohort' column containing cohort names."),
    (b"name,cohort\nalice,A\n", "c.csv",
     "The file must contain a 'username' column, an 'email' column, or both."),
    (b"", "c.csv", "The file must contain a 'cohort' column containing cohort names."),
    (b"username,cohort\n\xff\xfe,A\n", "c.csv",
     "'utf-8' codec can't decode byte 0xff in position 16: invalid start byte"),
    (b"username,cohort\n" + b"a" * 2_000_000, "c.csv",
     "Maximum upload file size is 2000000 bytes."),
])
def test_refused_files(app, db, course, staff, content, name, message):
    body = post_csv(app, jwt_headers(app, staff), content, name=name, status=400).json
    assert body == {"developer_message": message, "error_code": "failed-validation"}
    assert db.scalar(select(func.count()).select_from(CohortUpload)) == 0


def test_no_file(app, db, course, staff):
    headers = jwt_headers(app, staff)
    expected = {"developer_message": "No file uploaded with key 'uploaded-file'.",
                "error_code": "failed-validation"}
    assert app.post(UPLOAD, headers=headers, status=400).json == expected
    assert app.post_json(UPLOAD, {"uploaded-file": "x"}, headers=headers,
                         status=400).json == expected
    assert app.post(UPLOAD, headers=headers, upload_files=[("other", "c.csv", b"cohort\n")],
                    status=400).json == expected


def test_invalid_course_key_is_400(app, staff):
    app.post(f"/api/cohorts/v1/courses/course-v1:edX+Bad Key+2026/users",
             headers=jwt_headers(app, staff),
             upload_files=[("uploaded-file", "c.csv", b"username,cohort\n")], status=400)


def bulk_users(db, count, prefix):
    db.execute(insert(User), [
        {"username": f"{prefix}{n}", "email": f"{prefix}{n}@example.com", "name": "",
         "anonymous_id": uuid.uuid4().hex} for n in range(count)])
    db.commit()


# -- a real worker --------------------------------------------------------------------------

def redis_up():
    try:
        socket.create_connection(REDIS, timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def redis_broker():
    if not redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 and CI=true (.ci/run "
                        "starts it)")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379 (start redis-server)")
    return "redis://127.0.0.1:6379/0"


@pytest.fixture
def worker(tmp_path, engine, redis_broker):
    """``lms worker`` in a process of its own, consuming a queue of this test only."""
    queue = f"cohorts-test-{uuid.uuid4().hex}"
    ini = tmp_path / "worker.ini"
    url = engine.url.render_as_string(hide_password=False)
    ini.write_text("\n".join([
        "[app:main]", "use = egg:openlms", f"sqlalchemy.url = {url}",
        "lms.secret_key = test-secret-key-not-for-production",
        "jwt.secret_key = test-jwt-secret-at-least-32-bytes-long",
        "lms.environment = development", "mail.backend = memory",
        "celery.task_always_eager = false", f"celery.broker_url = {redis_broker}",
        f"celery.task_default_queue = {queue}", ""]))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    lms = os.path.join(os.path.dirname(sys.executable), "lms")
    process = subprocess.Popen(
        [lms, "--ini", str(ini), "worker", "-Q", queue, "--pool", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield {"celery.task_always_eager": "false", "celery.broker_url": redis_broker,
               "celery.task_default_queue": queue}
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output.decode(errors="replace")[-4000:])


@pytest.mark.commits
def test_ten_thousand_rows_in_a_real_worker(app_factory, settings, engine, worker):
    app = app_factory(**{**settings, **worker})
    db = app.registry["lms.dbsession_factory"]()
    make_course(db, course_key=COURSE)
    staff = create_user(db, "gstaff", is_staff=True)
    cohort_names = [f"Cohort {n}" for n in range(5)]
    for name in cohort_names:
        cohorts.add_cohort(db, COURSE, name)
    db.commit()
    bulk_users(db, 9_990, "learner")
    lines = ["username,cohort"] + [f"learner{n},{cohort_names[n % 5]}" for n in range(9_990)]
    lines += [f"ghost{n},Cohort 0" for n in range(5)] + [f"learner{n},Nope" for n in range(5)]
    post_csv(app, jwt_headers(app, staff), ("\n".join(lines) + "\n").encode())
    seen = set()
    deadline = time.monotonic() + 300
    with Session(engine) as reader:
        while time.monotonic() < deadline:
            state = reader.execute(select(CohortUpload.task_state, CohortUpload.attempted,
                                          CohortUpload.total)).one()
            reader.rollback()  # a fresh snapshot next time
            seen.add(state)
            if state[0] in ("SUCCESS", "FAILURE"):
                break
            time.sleep(0.05)
        upload = reader.scalar(select(CohortUpload))
        assert (upload.task_state, upload.total, upload.attempted, upload.succeeded,
                upload.failed) == ("SUCCESS", 10_000, 10_000, 9_990, 10)
        # Progress was visible while the rows were applied.
        assert any(state == "PROGRESS" and 0 < attempted < total
                   for state, attempted, total in seen), sorted(seen)
        assert reader.scalar(select(func.count()).select_from(CohortMembership)) == 9_990
        assert report_rows(reader)[1:] == [
            ["Cohort 0", "True", "1998",
             ",".join(sorted(f"ghost{n}" for n in range(5))), "", ""],
            *[[f"Cohort {n}", "True", "1998", "", "", ""] for n in range(1, 5)],
            ["Nope", "False", "0", "", "", ""]]


def test_a_batch_that_loses_a_race_is_replayed_row_by_row(app, db, course, staff, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from plugins.enrollment import tasks

    a = cohorts.add_cohort(db, COURSE, "A")
    alice = create_user(db, "alice")
    db.commit()
    calls = []

    def losing_batch(db, upload, statuses, rows):
        calls.append(len(rows))
        statuses["A"] = {"poisoned": True}  # dropped with the failed batch
        raise IntegrityError("INSERT", {}, Exception("concurrent membership"))

    monkeypatch.setattr(tasks, "apply_batch", losing_batch)
    post_csv(app, jwt_headers(app, staff), b"username,cohort\nalice,A\nalice,A\n")
    assert calls == [2]
    upload = db.scalar(select(CohortUpload))
    assert (upload.task_state, upload.succeeded, upload.skipped) == ("SUCCESS", 1, 1)
    assert cohorts.membership_of(db, alice.id, COURSE).cohort_id == a.id
    assert report_rows(db)[1] == ["A", "True", "1", "", "", ""]
