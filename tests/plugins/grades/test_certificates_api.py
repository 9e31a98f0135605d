"""certificates/v0/certificates/{username}/courses/{course_id}/, .../{username}/, the web
certificate page /certificates/{verify_uuid}, `lms create-certificate` and retirement."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from lms.timeutil import isoformat
from plugins.accounts import api as accounts_api
from plugins.enrollment import api as enrollment_api
from plugins.grades import certificates
from plugins.grades.models import GeneratedCertificate
from tests.plugins.courses.factories import Node, make_course

KEY = "course-v1:edX+Certs+2026"
OTHER_KEY = "course-v1:Acme+Later+2026"
BARE_KEY = "course-v1:edX+NoConfig+2026"
BASE = "/api/certificates/v0/certificates/"
CONFIG = {"certificates": [{"id": 1, "name": "Main", "is_active": True,
                            "course_title": "Certificates <b>101</b>",
                            "signatories": [{"name": "Dr. <Sig>", "title": "Dean & Co",
                                             "organization": "edX"}]}]}
FUTURE = datetime(2099, 1, 1, tzinfo=timezone.utc)


def tree(name):
    return Node("course", "course", display_name=name, children=[])


@pytest.fixture
def world(app, db):
    make_course(db, tree("Certificates"), course_key=KEY, self_paced=True,
                settings={"certificates": CONFIG})
    # instructor-paced, certificates from a date still to come
    make_course(db, tree("Later"), course_key=OTHER_KEY, certificate_available_date=FUTURE,
                settings={"certificates": CONFIG})
    make_course(db, tree("No configuration"), course_key=BARE_KEY, self_paced=True)
    ann = create_user(db, "ann", name="Ann <script>alert(1)</script> O'Neil")
    bob, carl = create_user(db, "bob"), create_user(db, "carl")
    staff = create_user(db, "boss", is_staff=True)
    teacher = create_user(db, "teacher")
    grant_role(db, teacher, "staff", parse_course_key(KEY))
    for course_key in (KEY, OTHER_KEY, BARE_KEY):
        enrollment_api.enroll(db, ann.id, course_key, mode="verified")
    cert = certificates.save_certificate(db, ann.id, KEY, status="downloadable",
                                         mode="verified", grade="0.87")
    certificates.save_certificate(db, ann.id, OTHER_KEY, status="downloadable",
                                  mode="verified", grade="0.9")
    certificates.save_certificate(db, ann.id, BARE_KEY, status="downloadable",
                                  mode="verified", grade="0.7")
    certificates.save_certificate(db, bob.id, KEY, status="notpassing", mode="verified",
                                  grade="0.2")
    certificates.save_certificate(db, carl.id, KEY, status="audit_passing", mode="audit",
                                  grade="0.8")
    db.commit()
    return dict(ann=ann, bob=bob, carl=carl, staff=staff, teacher=teacher,
                uuid=cert.verify_uuid, created=isoformat(cert.created))


def detail(username, course_key=KEY):
    return f"{BASE}{username}/courses/{course_key}/"


def test_detail_for_the_owner(app, db, world):
    body = app.get(detail("ann"), headers=jwt_headers(app, world["ann"])).json
    assert body == {"username": "ann", "course_id": KEY, "certificate_type": "verified",
                    "created_date": world["created"], "status": "downloadable",
                    "is_passing": True, "download_url": f"/certificates/{world['uuid']}",
                    "grade": "0.87"}
    assert len(world["uuid"]) == 32
    row = db.scalar(select(GeneratedCertificate).where(GeneratedCertificate.user_id
                                                       == world["ann"].id,
                                                       GeneratedCertificate.course_key == KEY))
    assert (row.status, row.mode, row.grade, row.name, row.download_url) == (
        "downloadable", "verified", "0.87", "Ann <script>alert(1)</script> O'Neil", "")
    # not passing: no download URL; the trailing slash is optional
    body = app.get(detail("bob").rstrip("/"), headers=jwt_headers(app, world["bob"])).json
    assert (body["status"], body["is_passing"], body["download_url"], body["grade"]) == (
        "notpassing", False, None, "0.2")


def test_detail_who_may_read(app, db, world):
    assert app.get(detail("ann"), status=401).json == {
        "detail": "Authentication credentials were not provided."}
    for role in ("bob", "teacher"):
        assert app.get(detail("ann"), headers=jwt_headers(app, world[role]),
                       status=403).json == {
            "detail": "You do not have permission to perform this action."}
    assert app.get(detail("ann"), headers=jwt_headers(app, world["staff"])).json[
        "grade"] == "0.87"
    # a restricted application: certificates:read, the course's org, the user filter
    ok = dict(is_restricted=True, scopes=["certificates:read"],
              filters=["content_org:edX", "user:me"])
    assert app.get(detail("ann"), headers=jwt_headers(app, world["ann"], **ok)).json[
        "status"] == "downloadable"
    app.get(detail("bob"), headers=jwt_headers(app, world["ann"], **ok), status=403)
    for bad in (dict(ok, scopes=["grades:read"]), dict(ok, filters=["content_org:Acme"]),
                dict(ok, filters=["user:me"])):
        app.get(detail("ann"), headers=jwt_headers(app, world["ann"], **bad), status=403)


def test_detail_errors(app, db, world):
    headers = jwt_headers(app, world["staff"])
    assert app.get(detail("ann", "not+a+key!"), headers=headers, status=404).json == {
        "error_code": "course_id_not_valid"}
    assert app.get(detail("ghost"), headers=headers, status=404).json == {
        "error_code": "no_certificate_for_user"}
    assert app.get(detail("ann", "course-v1:edX+None+1"), headers=headers,
                   status=404).json == {"error_code": "no_certificate_for_user"}
    # audit_passing rows are not eligible certificates
    assert app.get(detail("carl"), headers=headers, status=404).json == {
        "error_code": "no_certificate_for_user"}
    assert app.get(detail("ann", BARE_KEY), headers=headers, status=404).json == {
        "error_code": "no_certificate_configuration_for_course"}


def test_list(app, db, world, query_counter):
    url = BASE + "ann/"
    body = app.get(url, headers=jwt_headers(app, world["ann"])).json
    # OTHER_KEY is not viewable before its date, BARE_KEY has no configuration
    assert body == [{"username": "ann", "course_id": KEY, "course_display_name": "Certificates",
                     "course_organization": "edX", "certificate_type": "verified",
                     "created_date": world["created"], "modified_date": body[0]["modified_date"],
                     "status": "downloadable", "is_passing": True,
                     "download_url": f"/certificates/{world['uuid']}", "grade": "0.87"}]
    assert app.get(url, headers=jwt_headers(app, world["staff"])).json == body
    headers = jwt_headers(app, world["ann"])
    with query_counter() as one:
        assert len(app.get(url, headers=headers).json) == 1
    for n in range(3):
        course_key = f"course-v1:edX+More{n}+2026"
        make_course(db, tree(f"More {n}"), course_key=course_key, self_paced=True,
                    settings={"certificates": CONFIG})
        certificates.save_certificate(db, world["ann"].id, course_key, status="downloadable",
                                      mode="verified", grade="0.8")
    db.commit()
    with query_counter() as four:
        assert len(app.get(url, headers=headers).json) == 4
    assert len(one) == len(four)
    # bob's notpassing certificate is not listed
    assert app.get(BASE + "bob/", headers=jwt_headers(app, world["bob"])).json == []


def test_list_who_may_read(app, db, world):
    url = BASE + "ann/"
    app.get(url, status=401)
    app.get(url, headers=jwt_headers(app, world["bob"]), status=403)
    app.get(url, headers=jwt_headers(app, world["teacher"]), status=403)
    # unknown user: an empty list for staff, refused to others
    assert app.get(BASE + "ghost/", headers=jwt_headers(app, world["staff"])).json == []
    app.get(BASE + "ghost/", headers=jwt_headers(app, world["bob"]), status=403)
    # the owner shares their certificates
    accounts_api.set_preference(db, world["ann"].id, "visibility.course_certificates",
                                "all_users")
    db.commit()
    assert [c["course_id"] for c in app.get(url, headers=jwt_headers(app, world["bob"])).json] \
        == [KEY]
    # ... unless their whole profile is private
    accounts_api.set_preference(db, world["ann"].id, "account_privacy", "private")
    db.commit()
    app.get(url, headers=jwt_headers(app, world["bob"]), status=403)
    # restricted application: scope and user filter (no org filter needed)
    ok = dict(is_restricted=True, scopes=["certificates:read"], filters=["user:ann"])
    assert len(app.get(url, headers=jwt_headers(app, world["ann"], **ok)).json) == 1
    app.get(url, headers=jwt_headers(app, world["ann"], **dict(ok, scopes=[])), status=403)
    app.get(url, headers=jwt_headers(app, world["ann"], **dict(ok, filters=["user:bob"])),
            status=403)


def test_web_certificate_page(app, db, world):
    page = app.get(f"/certificates/{world['uuid']}")
    assert page.content_type == "text/html"
    text = page.text
    assert "Ann &lt;script&gt;alert(1)&lt;/script&gt; O&#x27;Neil" in text
    assert "<script>" not in text
    assert "Certificates &lt;b&gt;101&lt;/b&gt;" in text
    assert "Dr. &lt;Sig&gt;" in text and "Dean &amp; Co" in text
    assert "Verified Certificate" in text and world["uuid"] in text
    row = db.scalar(select(GeneratedCertificate).where(GeneratedCertificate.verify_uuid
                                                       == world["uuid"]))
    issued = row.modified
    assert f"Issued {issued:%B} {issued.day}, {issued.year}" in text
    # unknown, malformed or not downloadable: 404
    assert app.get("/certificates/" + "0" * 32, status=404).json == {"detail": "Not found."}
    app.get("/certificates/not-a-uuid", status=404)
    bob_uuid = db.scalar(select(GeneratedCertificate.verify_uuid).where(
        GeneratedCertificate.user_id == world["bob"].id))
    app.get(f"/certificates/{bob_uuid}", status=404)
    # a course that does not show certificates yet: the invalid-certificate page
    later = db.scalar(select(GeneratedCertificate.verify_uuid).where(
        GeneratedCertificate.user_id == world["ann"].id,
        GeneratedCertificate.course_key == OTHER_KEY))
    assert "Cannot Find Certificate" in app.get(f"/certificates/{later}").text


def test_retirement_keeps_certificates_without_the_name(app, db, world):
    user = world["ann"]
    app.registry["lms.plugin_manager"].hook.lms_retire_user(
        dbsession=db, user=user, retired_username="retired_x", retired_email="x@retired.invalid",
        original_email=user.email)
    db.commit()
    rows = db.scalars(select(GeneratedCertificate).where(GeneratedCertificate.user_id
                                                         == user.id)).all()
    assert len(rows) == 3 and {row.name for row in rows} == {""}
    assert {row.status for row in rows} == {"downloadable"}


def test_cli_create_certificate(run_cli, cli_database_url):
    from sqlalchemy.orm import Session

    from lms.db import make_engine
    from lms.models import User
    from tests.plugins.courses.factories import flatten

    assert run_cli("migrate").exit_code == 0
    engine = make_engine({"sqlalchemy.url": cli_database_url})
    try:
        with Session(engine) as db:
            from plugins.courses.api import store_course
            store_course(db, KEY, {"display_name": "Certs"}, flatten(KEY, tree("Certs")))
            db.add(User(username="cli_ann", email="cli_ann@example.com"))
            db.commit()
        result = run_cli("create-certificate", "cli_ann", KEY)
        assert result.exit_code == 0, result.output
        with Session(engine) as db:
            row = db.scalar(select(GeneratedCertificate))
            assert (row.status, row.mode, row.grade, row.download_url) == (
                "downloadable", "verified", "", "")
        assert result.output == (f"certificate of 'cli_ann' in {KEY}: downloadable, "
                                 f"verified, /certificates/{row.verify_uuid}\n")
        again = run_cli("create-certificate", "cli_ann", KEY, "--mode", "honor",
                        "--status", "notpassing", "--grade", "0.4")
        assert again.exit_code == 0, again.output
        with Session(engine) as db:
            rows = db.scalars(select(GeneratedCertificate)).all()
            assert [(r.status, r.mode, r.grade, r.verify_uuid) for r in rows] == [
                ("notpassing", "honor", "0.4", row.verify_uuid)]
        for args, message in [
                (("nobody", KEY), "no user named 'nobody'"),
                (("cli_ann", "nope"), "not a valid course key"),
                (("cli_ann", "course-v1:edX+None+1"), "does not exist"),
                (("cli_ann", KEY, "--mode", "gold"), "unknown mode"),
                (("cli_ann", KEY, "--status", "shiny"), "unknown status"),
                (("cli_ann", KEY, "--grade", "0.12345"), "at most 5 characters")]:
            bad = run_cli("create-certificate", *args)
            assert bad.exit_code == 1 and message in bad.output, bad.output
    finally:
        engine.dispose()
