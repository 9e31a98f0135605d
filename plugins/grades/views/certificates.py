"""Certificates (upstream ``lms.djangoapps.certificates.apis.v0.views`` and the web
certificate page ``certificates.views.webview.render_cert_by_uuid``).

- ``GET /api/certificates/v0/certificates/{username}/courses/{course_id}/``
  (``CertificatesDetailView``; JWT, Bearer, Session;
  ``JWT_RESTRICTED_APPLICATION_OR_USER_ACCESS`` with scope ``certificates:read``): the
  learner's certificate ``{"username", "course_id", "certificate_type", "created_date",
  "status", "is_passing", "download_url", "grade"}``; 404 ``{"error_code":
  "course_id_not_valid" | "no_certificate_for_user" |
  "no_certificate_configuration_for_course"}``.
- ``GET /api/certificates/v0/certificates/{username}/`` (``CertificatesListView``): the
  passing certificates learners may see yet, oldest first, with ``course_display_name``,
  ``course_organization`` and ``modified_date``; for the owner, global staff, or anyone
  when the owner's ``visibility.course_certificates`` preference is ``all_users`` (and
  their ``account_privacy`` is not ``private``). A restricted JWT needs the scope and, if
  it has one, a ``user`` filter naming the owner.
- ``GET /certificates/{verify_uuid}``: the printable web certificate (public).
"""
from html import escape

from pyramid.response import Response
from sqlalchemy import select

from lms import permissions
from lms.auth import STANDARD_AUTH
from lms.errors import APIError, not_found
from lms.keys import parse_course_key
from lms.models import User
from lms.openapi import BOOLEAN, HTML, STRING, array, nullable, obj
from lms.routing import COURSE_ID, USERNAME
from lms.service import Service
from lms.timeutil import isoformat, utcnow
from plugins.courses import api as courses_api
from plugins.grades import certificates
from plugins.grades.views.grades import _filters

REQUIRED_SCOPE = "certificates:read"
BASE = "/api/certificates/v0/certificates/"

detail = Service("grades.certificate", f"{BASE}{USERNAME}/courses/{COURSE_ID}/",
                 auth=STANDARD_AUTH, accept_restricted=True)
listing = Service("grades.certificates", f"{BASE}{USERNAME}/", auth=STANDARD_AUTH,
                  accept_restricted=True)
web_view = Service("grades.certificate_web_view", "/certificates/{certificate_uuid:[^/]+}",
                   auth=(), anonymous=True)

CERTIFICATE = {"username": STRING, "course_id": STRING, "certificate_type": STRING,
               "created_date": STRING, "status": STRING, "is_passing": BOOLEAN,
               "download_url": nullable(STRING), "grade": STRING}
LISTED = obj({**CERTIFICATE, "course_display_name": STRING, "course_organization": STRING,
              "modified_date": STRING})


def _restricted_user_filter_ok(request, filters, username):
    """``JwtHasUserFilterForRequestedUser`` (``user:me`` names the token's user)."""
    user_filter = next((value for kind, value in filters if kind == "user"), None)
    if user_filter is None:
        return True
    if user_filter == "me":
        user_filter = request.user.username if request.user is not None else ""
    return user_filter.lower() == username.lower()


def error_code(code):
    return APIError(404, {"error_code": code})


def serialize(cert, username, course):
    downloadable = cert.status == certificates.DOWNLOADABLE
    return {"username": username, "course_id": cert.course_key,
            "certificate_type": cert.mode, "created_date": isoformat(cert.created),
            "status": cert.status, "is_passing": certificates.is_passing_status(cert.status),
            "download_url": ((cert.download_url or certificates.certificate_url(course, cert))
                             if downloadable else None),
            "grade": cert.grade}


@detail.get(responses={200: obj(CERTIFICATE),
                       403: "Neither global staff nor the learner in the URL; or a restricted "
                            "application without the scope, the course's org or the user "
                            "filter.",
                       404: "`{\"error_code\": ...}`: `course_id_not_valid`, "
                            "`no_certificate_for_user` or "
                            "`no_certificate_configuration_for_course`."})
def get_certificate(request):
    """One learner's certificate in a course."""
    username = request.matchdict["username"]
    raw_key = request.matchdict["course_id"]
    course_key = parse_course_key(raw_key)
    payload = request.authentication.jwt_payload
    if payload and payload.get("is_restricted"):
        filters = _filters(payload)
        permissions.require(REQUIRED_SCOPE in request.authentication.scopes
                            and course_key is not None
                            and ("content_org", course_key.org) in filters
                            and _restricted_user_filter_ok(request, filters, username))
    else:
        permissions.require(permissions.is_staff(request.user)
                            or permissions.is_user_in_url(request, username))
    if course_key is None:
        raise error_code("course_id_not_valid")
    db = request.dbsession
    user = db.scalar(select(User).where(User.username == username))
    cert = (certificates.certificate_for(db, user.id, course_key) if user is not None
            else None)
    course = courses_api.get_course(db, course_key) if cert is not None else None
    # upstream formats nothing for a web certificate of a course it no longer has
    if cert is None or (course is None and not cert.download_url):
        raise error_code("no_certificate_for_user")
    if not cert.download_url and certificates.active_web_certificate(course) is None:
        raise error_code("no_certificate_configuration_for_course")
    return serialize(cert, user.username, course)


def _visible_to_others(db, user_id):
    """``IsOwnerOrPublicCertificates`` and ``visible_fields``: the owner shares their
    certificates and has not made their whole profile private."""
    from plugins.accounts import api as accounts_api

    preferences = accounts_api.get_preferences(db, user_id)
    return (preferences.get("visibility.course_certificates") == "all_users"
            and preferences.get("account_privacy") != "private")


@listing.get(responses={200: array(LISTED),
                        403: "Not the owner, not global staff, and the owner does not share "
                             "their certificates; or a restricted application without the "
                             "scope or the user filter."})
def get_certificates(request):
    """A learner's passing certificates that learners may see yet, oldest first."""
    username = request.matchdict["username"]
    payload = request.authentication.jwt_payload
    if payload and payload.get("is_restricted"):
        permissions.require(REQUIRED_SCOPE in request.authentication.scopes
                            and _restricted_user_filter_ok(request, _filters(payload), username))
    db = request.dbsession
    user = db.scalar(select(User).where(User.username == username))
    owner = permissions.is_user_in_url(request, username)
    staff = permissions.is_staff(request.user)
    # Upstream fails (500) on an unknown user for anyone but staff: refuse instead.
    permissions.require(owner or staff or (user is not None and _visible_to_others(db, user.id)))
    if user is None:
        return []
    passing = [cert for cert in certificates.certificates_of(db, user.id)
               if certificates.is_passing_status(cert.status)]
    courses = courses_api.get_courses(db, [cert.course_key for cert in passing])
    answer = []
    for cert in passing:
        course = courses.get(cert.course_key)
        if course is None or not certificates.certificates_viewable(course):
            continue
        if not cert.download_url and certificates.active_web_certificate(course) is None:
            continue
        body = serialize(cert, user.username, course)
        body.update(course_display_name=course.display_name or course.number.replace("_", " "),
                    course_organization=courses_api.display_org(course),
                    modified_date=isoformat(cert.modified))
        answer.append(body)
    answer.sort(key=lambda item: item["created_date"])
    return answer


# -- the web certificate ---------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{document_title}</title>
<style>
body {{ font-family: Georgia, serif; margin: 0; background: #f5f5f5; }}
main {{ max-width: 52rem; margin: 2rem auto; background: #fff; padding: 3rem;
        border: 0.5rem double #555; text-align: center; }}
.name {{ font-size: 2.2rem; margin: 1rem 0; }}
.course {{ font-size: 1.6rem; font-style: italic; }}
.signatories {{ display: flex; justify-content: center; gap: 3rem; margin-top: 2rem; }}
footer {{ margin-top: 2rem; font-size: 0.85rem; color: #555; }}
@media print {{ body {{ background: #fff; }} main {{ margin: 0; }} }}
</style></head>
<body><main>
<p class="org">{organization}</p>
<h1>{certificate_title}</h1>
<p>This is to certify that</p>
<p class="name">{name}</p>
<p>successfully completed</p>
<p class="course">{course_title}</p>
<p>a course of study offered by {organization} through {platform_name}.</p>
<p class="issued">Issued {date}</p>
{signatories}
<footer>Valid certificate ID: <a href="{url}">{verify_uuid}</a></footer>
</main></body></html>
"""
INVALID_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Invalid Certificate | {platform_name}</title>
</head><body><main><h1>Cannot Find Certificate</h1>
<p>We cannot find a certificate with this URL or ID number.</p></main></body></html>
"""
MODE_TITLES = {"verified": "Verified Certificate", "professional": "Professional Certificate",
               "no-id-professional": "Professional Certificate",
               "honor": "Honor Code Certificate"}


def _html(body, status=200):
    return Response(body=body, status=status, content_type="text/html", charset="utf-8")


def display_date(course, cert):
    """``display_date_for_certificate``: an instructor-paced course's certificate date
    once it has passed, else the day the certificate last changed."""
    available = certificates.aware_datetime(course.certificate_available_date)
    if not course.self_paced and available is not None and available < utcnow():
        return available
    return certificates.aware_datetime(cert.modified)


def _signatories(config):
    items = []
    for signatory in config.get("signatories") or ():
        if not isinstance(signatory, dict):
            continue
        items.append("<div class=\"signatory\"><p><strong>{}</strong></p><p>{}</p>"
                     "<p>{}</p></div>".format(escape(str(signatory.get("name") or "")),
                                              escape(str(signatory.get("title") or "")),
                                              escape(str(signatory.get("organization") or ""))))
    return f"<div class=\"signatories\">{''.join(items)}</div>" if items else ""


@web_view.get(responses={200: HTML, 404: "No downloadable certificate has this id."})
def get_certificate_page(request):
    """A downloadable certificate as a printable page; the invalid-certificate page when
    the course does not show it (yet); 404 for an unknown id."""
    uuid = request.matchdict["certificate_uuid"]
    db = request.dbsession
    cert = None
    if len(uuid) == 32 and all(char in "0123456789abcdef" for char in uuid):
        cert = db.scalar(select(certificates.GeneratedCertificate).where(
            certificates.GeneratedCertificate.verify_uuid == uuid,
            certificates.GeneratedCertificate.status == certificates.DOWNLOADABLE))
    if cert is None:
        # the 404 every unknown path gets here (upstream's is Django's page)
        raise not_found()
    platform_name = request.registry.settings.get("lms.platform_name", "")
    course = courses_api.get_course(db, cert.course_key)
    config = certificates.active_web_certificate(course) if course is not None else None
    if (config is None or not certificates.html_certificates_enabled(course)
            or not certificates.certificates_viewable(course)):
        return _html(INVALID_PAGE.format(platform_name=escape(platform_name)))
    name = cert.name
    if not name:
        user = db.get(User, cert.user_id)
        name = user.username if user is not None else ""
    course_title = config.get("course_title") or course.display_name or course.number
    organization = courses_api.display_org(course)
    issued = display_date(course, cert)
    number = courses_api.display_number(course)
    values = {
        "document_title": f"{organization} {number} Certificate | {platform_name}",
        "organization": organization,
        "certificate_title": MODE_TITLES.get(cert.mode, "Certificate of Achievement"),
        "name": name, "course_title": course_title, "platform_name": platform_name,
        "date": f"{issued:%B} {issued.day}, {issued.year}" if issued else "",
        "url": f"/certificates/{cert.verify_uuid}", "verify_uuid": cert.verify_uuid,
    }
    page = PAGE.format(signatories=_signatories(config),
                       **{key: escape(str(value)) for key, value in values.items()})
    return _html(page)
