"""Certificates generated as course grades are stored (upstream's passing / failing grade
receivers and generation rules), and what course_home shows of them."""
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from lms.keys import parse_course_key
from lms.permissions import grant_role
from lms.testing import create_user, jwt_headers
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_grades
from plugins.grades.models import CertificateAllowlist, GeneratedCertificate
from tests.plugins.courses.factories import make_course
from tests.plugins.grades.test_recompute import KEY, POLICY, SCORES, FakeScore, key, tree

CONFIG = {"certificates": [{"id": 1, "name": "Main", "is_active": True}]}
PASSING = {key("problem", "p1"): FakeScore(1, 1)}  # 0.5: passing
FAILING = {key("problem", "p1"): FakeScore(0, 1)}


@pytest.fixture
def settings(settings):
    return {**settings, "courses.auto_certificate_generation": "true"}


@pytest.fixture(autouse=True)
def fake_scores(monkeypatch):
    SCORES.clear()
    monkeypatch.setattr(course_grades, "scores_for", lambda db, ck, ids: {
        uid: dict(SCORES.get(uid, {})) for uid in ids})


@pytest.fixture
def course(app, db):
    return make_course(db, tree(), course_key=KEY, grading_policy=POLICY, self_paced=True,
                       settings={"certificates": CONFIG})


def learner(db, username, mode="verified"):
    user = create_user(db, username, name=username.title() + " Learner")
    if mode is not None:
        enrollment_api.enroll(db, user.id, KEY, mode=mode)
    db.commit()
    return user


def grade(app, db, course, user, scores):
    SCORES[user.id] = scores
    view = course_grades.course_grade(app.registry, db, user.id, course)
    db.commit()
    return view


def cert_of(db, user):
    return db.scalar(select(GeneratedCertificate).where(GeneratedCertificate.user_id == user.id))


def test_passing_verified_learner_gets_a_downloadable_certificate(app, db, course):
    ann = learner(db, "ann")
    assert grade(app, db, course, ann, FAILING).passed is False
    assert cert_of(db, ann) is None
    assert grade(app, db, course, ann, PASSING).passed is True
    cert = cert_of(db, ann)
    assert (cert.course_key, cert.status, cert.mode, cert.grade, cert.name, cert.download_url) \
        == (KEY, "downloadable", "verified", "0.5", "Ann Learner", "")
    uuid = cert.verify_uuid
    assert len(uuid) == 32
    # falling below the cutoff: notpassing with the new grade, same id
    grade(app, db, course, ann, FAILING)
    db.expire_all()
    cert = cert_of(db, ann)
    assert (cert.status, cert.grade, cert.verify_uuid) == ("notpassing", "0.0", uuid)
    # passing again
    grade(app, db, course, ann, PASSING)
    db.expire_all()
    assert (cert_of(db, ann).status, cert_of(db, ann).verify_uuid) == ("downloadable", uuid)


@pytest.mark.parametrize("mode, status", [
    ("professional", "downloadable"), ("no-id-professional", "downloadable"),
    ("masters", "downloadable"), ("executive-education", "downloadable"),
    ("paid-executive-education", "downloadable"), ("paid-bootcamp", "downloadable"),
    ("honor", "downloadable"), ("audit", None), (None, None)])
def test_eligible_modes(app, db, course, mode, status):
    user = learner(db, "ann", mode)
    grade(app, db, course, user, PASSING)
    cert = cert_of(db, user)
    assert (cert.status if cert else None) == status
    if cert is not None:
        assert cert.mode == mode


@pytest.mark.parametrize("override, mode", [
    ({"grades.disable_honor_certificates": "true"}, "honor"),
    ({"courses.auto_certificate_generation": "false"}, "verified")])
def test_settings_that_stop_generation(app_factory, settings, override, mode):
    app = app_factory(**{**settings, **override})
    db = app.registry["lms.dbsession_factory"]()
    try:
        course = make_course(db, tree(), course_key=KEY, grading_policy=POLICY,
                             self_paced=True, settings={"certificates": CONFIG})
        user = learner(db, "ann", mode)
        assert grade(app, db, course, user, PASSING).passed is True
        assert cert_of(db, user) is None
    finally:
        db.close()


def test_no_web_certificates_or_beta_tester(app, db):
    course = make_course(db, tree(), course_key=KEY, grading_policy=POLICY,
                         settings={"cert_html_view_enabled": False})
    ann, beta = learner(db, "ann"), learner(db, "beta")
    grant_role(db, beta, "beta_testers", parse_course_key(KEY))
    db.commit()
    grade(app, db, course, ann, PASSING)
    assert cert_of(db, ann) is None
    course.settings = {}
    db.commit()
    grade(app, db, course, beta, PASSING)
    assert cert_of(db, beta) is None
    grade(app, db, course, ann, PASSING)
    assert cert_of(db, ann).status == "downloadable"


def test_allowlisted_learner_keeps_the_certificate(app, db, course):
    ann = learner(db, "ann")
    db.add(CertificateAllowlist(user_id=ann.id, course_key=KEY, allowlist=True))
    db.commit()
    grade(app, db, course, ann, PASSING)
    grade(app, db, course, ann, FAILING)
    db.expire_all()
    assert (cert_of(db, ann).status, cert_of(db, ann).grade) == ("downloadable", "0.5")


def test_course_home_certificate_data(app, db, course):
    ann, aud = learner(db, "ann"), learner(db, "aud", "audit")
    SCORES[ann.id] = SCORES[aud.id] = PASSING
    progress = app.get(f"/api/course_home/progress/{KEY}", headers=jwt_headers(app, ann)).json
    uuid = cert_of(db, ann).verify_uuid
    expected = {"cert_status": "downloadable", "cert_web_view_url": f"/certificates/{uuid}",
                "download_url": None, "certificate_available_date": None}
    assert progress["certificate_data"] == expected
    outline = app.get(f"/api/course_home/outline/{KEY}", headers=jwt_headers(app, ann)).json
    assert outline["cert_data"] == expected
    metadata = app.get(f"/api/course_home/course_metadata/{KEY}",
                       headers=jwt_headers(app, ann)).json
    assert metadata["can_view_certificate"] is True
    # an audit learner is told their track has no certificate
    progress = app.get(f"/api/course_home/progress/{KEY}", headers=jwt_headers(app, aud)).json
    assert progress["certificate_data"] == {
        "cert_status": "audit_passing", "cert_web_view_url": None, "download_url": None,
        "certificate_available_date": None}
    assert cert_of(db, aud) is None
    # a learner below the cutoff: no certificate data
    bob = learner(db, "bob")
    SCORES[bob.id] = FAILING
    progress = app.get(f"/api/course_home/progress/{KEY}", headers=jwt_headers(app, bob)).json
    assert progress["certificate_data"] is None


# -- end to end: the real score path on the sample course --------------------------------------

SAMPLE = "course-v1:OpenLMS+Sample+2026"
LIGHT = "block-v1:OpenLMS+Sample+2026+type@problem+block@light_second"


def test_answering_problems_earns_the_certificate(app, db, monkeypatch):
    from plugins.courses.api import get_course
    from plugins.courses.commands import SAMPLE_COURSE_DIR
    from plugins.courses.importer import import_course

    monkeypatch.undo()  # the real scores
    import_course(db, SAMPLE_COURSE_DIR)
    course = get_course(db, SAMPLE)
    course.settings = {**course.settings, "certificates": CONFIG,
                       "certificates_display_behavior": "early_no_info"}
    ada = create_user(db, "ada", name="Ada Lovelace", password=None)
    enrollment_api.enroll(db, ada.id, SAMPLE, mode="verified")
    db.commit()
    headers = jwt_headers(app, ada)
    url = (f"/api/xblock/v2/xblocks/{quote(LIGHT, safe=':+@')}/handler_url/problem_check/")
    check = urlsplit(app.get(url, headers=headers).json["handler_url"]).path
    assert app.post(check, {"input_light_second_2_1": "300000"}).json["success"] == "correct"
    # the grade is refreshed after commit, and the certificate with it
    cert = cert_of(db, ada)
    assert (cert.status, cert.mode, cert.grade, cert.name) == (
        "downloadable", "verified", "0.67", "Ada Lovelace")
    body = app.get(f"/api/certificates/v0/certificates/ada/courses/{SAMPLE}/",
                   headers=headers).json
    assert (body["status"], body["grade"], body["download_url"]) == (
        "downloadable", "0.67", f"/certificates/{cert.verify_uuid}")
    progress = app.get(f"/api/course_home/v1/progress/{SAMPLE}", headers=headers).json
    assert progress["course_grade"]["is_passing"] is True
    assert progress["certificate_data"]["cert_web_view_url"] == f"/certificates/{cert.verify_uuid}"
    assert "Ada Lovelace" in app.get(f"/certificates/{cert.verify_uuid}").text
