"""Permission matrix rows: certificates (``/api/certificates/v0/certificates/``) and the
web certificate page. A course of this area's own (self-paced, with an active
certificate configuration) where the learner holds a downloadable certificate.

``CertificatesDetailView``: ``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS`` (scope
``certificates:read``): global staff or the learner in the URL; the matrix's restricted
JWT has no ``certificates:read`` scope (403). ``CertificatesListView``: the owner, global
staff, or anyone when the owner shares their certificates (the learner does not)."""
from lms.matrix import EVERYONE, OWNER_OR_STAFF, Row

CERTS_COURSE_KEY = "course-v1:MatrixX+Certs+2026_T1"

ROWS = [
    Row("grades.certificate", "GET", OWNER_OR_STAFF,
        path={"username": "{learner}", "course_id": "{certs_course_key}"},
        note="JwtAuthentication, Bearer, Session; JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS"),
    Row("grades.certificates", "GET", OWNER_OR_STAFF, path={"username": "{learner}"},
        note="JwtAuthentication, Bearer, Session; NotJwtRestrictedApplication or scope and "
             "user filter; IsStaff or IsOwnerOrPublicCertificates"),
    Row("grades.certificate_web_view", "GET", EVERYONE,
        path={"certificate_uuid": "{certificate_uuid}"},
        note="render_cert_by_uuid: public"),
]


def setup(world):
    from plugins.courses import api as courses_api
    from plugins.enrollment import api as enrollment_api
    from plugins.grades import certificates

    learner = world.users["learner"].id
    if courses_api.get_course(world.db, CERTS_COURSE_KEY) is None:
        root = "block-v1:MatrixX+Certs+2026_T1+type@course+block@course"
        courses_api.store_course(
            world.db, CERTS_COURSE_KEY,
            {"display_name": "Matrix Certificates", "start": "2020-01-01T00:00:00+00:00",
             "self_paced": True,
             "settings": {"certificates": {"certificates": [
                 {"id": 1, "name": "Matrix", "is_active": True, "signatories": []}]}}},
            [{"usage_key": root, "block_type": "course", "block_id": "course",
              "display_name": "Matrix Certificates", "children": [], "fields": {},
              "data": {}}])
    if enrollment_api.get_enrollment_row(world.db, learner, CERTS_COURSE_KEY) is None:
        enrollment_api.enroll(world.db, learner, CERTS_COURSE_KEY, mode="verified")
    cert = certificates.save_certificate(world.db, learner, CERTS_COURSE_KEY,
                                         status=certificates.DOWNLOADABLE, mode="verified",
                                         grade="0.9")
    # The web certificate is public by design and shows the name recorded on the
    # certificate: give it one of its own, not the learner's planted private full name.
    cert.name = "Matrix Certificate Holder"
    world.values.update(certs_course_key=CERTS_COURSE_KEY, certificate_uuid=cert.verify_uuid)
