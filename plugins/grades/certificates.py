"""Course certificates (upstream ``lms.djangoapps.certificates``: ``generation_handler``,
``signals``, ``utils``, ``api``), web certificates only.

- Generation: every time a learner's course grade is stored (:func:`grades_stored`, called
  by :mod:`.course_grades` in the same transaction), a passing learner gets a
  ``downloadable`` certificate when upstream's ``certificates.auto_certificate_generation``
  switch is on (this server's ``courses.auto_certificate_generation`` setting), the
  enrollment mode is eligible (not audit; honor unless ``grades.disable_honor_certificates``)
  and the course has web certificates enabled (its ``cert_html_view_enabled``, true by
  default); allowlisted learners need no passing grade. A failing grade turns a passing
  certificate ``notpassing`` unless the learner is allowlisted (upstream's
  ``COURSE_GRADE_NOW_FAILED`` receiver); a ``downloadable`` certificate is otherwise final.
- A course's certificate configuration is its ``certificates`` policy field
  (``{"certificates": [{"name", "is_active", "course_title"?, "signatories"?}]}``):
  the APIs hide web certificates of a course without an active one, as upstream.
- Reads skip ``audit_passing``/``audit_notpassing`` rows (``eligible_certificates``).
"""
import logging
from datetime import datetime, timezone
from uuid import uuid4

from sqlalchemy import select, update

from lms.models import User
from lms.settings import as_bool
from lms.timeutil import utcnow
from plugins.grades.models import CertificateAllowlist, GeneratedCertificate

log = logging.getLogger(__name__)

DELETED, DELETING, DOWNLOADABLE, ERROR = "deleted", "deleting", "downloadable", "error"
GENERATING, NOTPASSING, RESTRICTED, UNAVAILABLE = ("generating", "notpassing", "restricted",
                                                   "unavailable")
AUDITING, AUDIT_PASSING, AUDIT_NOTPASSING = "auditing", "audit_passing", "audit_notpassing"
HONOR_PASSING, UNVERIFIED, INVALIDATED, REQUESTING = ("honor_passing", "unverified",
                                                      "invalidated", "requesting")
STATUSES = (DELETED, DELETING, DOWNLOADABLE, ERROR, GENERATING, NOTPASSING, RESTRICTED,
            UNAVAILABLE, AUDITING, AUDIT_PASSING, AUDIT_NOTPASSING, HONOR_PASSING,
            UNVERIFIED, INVALIDATED, REQUESTING)
PASSING_STATUSES = (DOWNLOADABLE, GENERATING)
# Rows upstream's eligible_certificates manager leaves out of every read.
INELIGIBLE_STATUSES = (AUDIT_PASSING, AUDIT_NOTPASSING)
# GeneratedCertificate.MODES
MODES = ("verified", "honor", "audit", "professional", "no-id-professional", "masters",
         "executive-education", "paid-executive-education", "paid-bootcamp")


def is_passing_status(status):
    return status in PASSING_STATUSES


def is_eligible_mode(settings, mode, status=None):
    """``CourseMode.is_eligible_for_certificate``: never audit; honor unless honor
    certificates are disabled (a downloadable honor certificate stays eligible)."""
    if mode == "audit":
        return False
    if mode == "honor" and as_bool(settings, "grades.disable_honor_certificates"):
        return status == DOWNLOADABLE
    return True


def auto_generation_enabled(settings):
    return as_bool(settings, "courses.auto_certificate_generation")


# -- the course's certificate configuration -------------------------------------------------

def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def html_certificates_enabled(course):
    """``has_html_certificates_enabled``: the course's ``cert_html_view_enabled`` (default
    true; web certificates are the only kind this server makes)."""
    return _truthy((course.settings or {}).get("cert_html_view_enabled", True))


def active_web_certificate(course):
    """The course's first active certificate configuration (a dict), or None."""
    config = (course.settings or {}).get("certificates")
    entries = config.get("certificates") if isinstance(config, dict) else config
    for entry in entries or ():
        if isinstance(entry, dict) and _truthy(entry.get("is_active")):
            return entry
    return None


def aware_datetime(value):
    """A datetime (or ISO string) as an aware UTC datetime; None stays None."""
    if isinstance(value, str):
        from plugins.courses import api as courses_api

        value = courses_api.parse_date(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def certificates_viewable(course, now=None):
    """``should_certificate_be_visible``: may learners see their certificate yet?"""
    now = now or utcnow()
    settings = course.settings or {}
    available = aware_datetime(course.certificate_available_date)
    end = aware_datetime(course.end)
    return bool(
        course.self_paced
        or settings.get("certificates_display_behavior") in ("early_with_info", "early_no_info")
        or _truthy(settings.get("certificates_show_before_end", False))
        or (available is not None and available < now)
        or (available is None and end is not None and end < now))


def certificate_url(course, cert):
    """``get_certificate_url``: the web certificate's path, or the stored PDF URL."""
    if html_certificates_enabled(course):
        return f"/certificates/{cert.verify_uuid}" if cert.verify_uuid else ""
    return cert.download_url or ""


# -- reads ----------------------------------------------------------------------------------

def certificate_for(db, user_id, course_key, eligible_only=True):
    query = select(GeneratedCertificate).where(GeneratedCertificate.user_id == user_id,
                                               GeneratedCertificate.course_key == str(course_key))
    if eligible_only:
        query = query.where(GeneratedCertificate.status.not_in(INELIGIBLE_STATUSES))
    return db.scalar(query)


def certificates_of(db, user_id):
    """A user's eligible certificates, by course key (upstream's order)."""
    return list(db.scalars(
        select(GeneratedCertificate)
        .where(GeneratedCertificate.user_id == user_id,
               GeneratedCertificate.status.not_in(INELIGIBLE_STATUSES))
        .order_by(GeneratedCertificate.course_key)))


def downloadable_paths(db, user_id, course_keys, now=None):
    """``{course_key: path}`` of the user's downloadable certificates that may be seen now
    (upstream ``certificate_downloadable_status``), in two queries."""
    from plugins.courses import api as courses_api

    wanted = [str(key) for key in course_keys]
    if not wanted:
        return {}
    certs = {cert.course_key: cert for cert in db.scalars(
        select(GeneratedCertificate).where(GeneratedCertificate.user_id == user_id,
                                           GeneratedCertificate.course_key.in_(wanted),
                                           GeneratedCertificate.status == DOWNLOADABLE))}
    if not certs:
        return {}
    answer = {}
    for course in courses_api.get_courses(db, list(certs)).values():
        cert = certs.get(course.course_key)
        if cert is not None and certificates_viewable(course, now):
            path = certificate_url(course, cert)
            if path:
                answer[course.course_key] = path
    return answer


def is_on_allowlist(db, user_id, course_key):
    return db.scalar(select(CertificateAllowlist.id).where(
        CertificateAllowlist.user_id == user_id,
        CertificateAllowlist.course_key == str(course_key),
        CertificateAllowlist.allowlist.is_(True)).limit(1)) is not None


# -- writes ---------------------------------------------------------------------------------

def _profile_name(db, user_id):
    """The learner's full name (the profile's name is the core user's)."""
    user = db.get(User, user_id)
    return (user.name or "") if user is not None else ""


def _enrollment_mode(db, user_id, course_key):
    from plugins.enrollment import api as enrollment_api

    row = enrollment_api.get_enrollment_row(db, user_id, course_key)
    return row.mode if row is not None else None


def grade_string(percent):
    """The certificate's ``grade``: the course percent as upstream stores it."""
    return "" if percent is None else str(percent)[:5]


def save_certificate(db, user_id, course_key, *, status, mode, grade, cert=None):
    """Create or update the learner's certificate row (a new ``verify_uuid`` only when it
    has none, so a certificate's URL never changes); returns it, flushed."""
    now = utcnow()
    if cert is None:
        cert = certificate_for(db, user_id, course_key, eligible_only=False)
    if cert is None:
        cert = GeneratedCertificate(user_id=user_id, course_key=str(course_key), created=now)
        db.add(cert)
    cert.status, cert.mode, cert.grade = status, mode, grade
    cert.name = _profile_name(db, user_id)
    cert.download_url = cert.download_uuid = cert.error_reason = ""
    if not cert.verify_uuid:
        cert.verify_uuid = uuid4().hex
    cert.modified = now
    db.flush()
    return cert


def mark_notpassing(db, cert, mode, percent):
    """``GeneratedCertificate.mark_notpassing``."""
    cert.status, cert.mode, cert.grade = NOTPASSING, mode or cert.mode, grade_string(percent)
    cert.name = _profile_name(db, cert.user_id)
    cert.download_url = cert.download_uuid = cert.error_reason = ""
    cert.modified = utcnow()


def _is_beta_tester(db, user_id, course_key):
    from lms import permissions
    from lms.keys import parse_course_key

    user = db.get(User, user_id)
    key = parse_course_key(str(course_key))
    return (user is not None and key is not None
            and permissions.has_course_role(db, user, key, ("beta_testers",), include_org=False))


def generate(registry, db, course, user_id, percent, passed, cert=None):
    """``generate_certificate_task`` (allowlist or regular rules), done in place rather
    than in a Celery task. Returns the status set, or None when nothing changed."""
    settings = registry.settings
    course_key = course.course_key
    mode = _enrollment_mode(db, user_id, course_key)
    if cert is None:
        cert = certificate_for(db, user_id, course_key, eligible_only=False)
    allowlisted = is_on_allowlist(db, user_id, course_key)
    regular_ok = allowlisted or (passed and not _is_beta_tester(db, user_id, course_key))
    if mode is None or not is_eligible_mode(settings, mode) or not html_certificates_enabled(course):
        return None
    final = (cert is not None and cert.status == DOWNLOADABLE
             and is_eligible_mode(settings, cert.mode))
    if regular_ok and not final:
        save_certificate(db, user_id, course_key, status=DOWNLOADABLE, mode=mode,
                         grade=grade_string(percent), cert=cert)
        return DOWNLOADABLE
    # _set_regular_cert_status: an existing certificate that is not downloadable records
    # that the learner is not passing.
    if (not allowlisted and not passed and cert is not None and cert.status != DOWNLOADABLE
            and not _is_beta_tester(db, user_id, course_key)):
        if cert.status != NOTPASSING:
            mark_notpassing(db, cert, mode, percent)
        return NOTPASSING
    return None


def grades_stored(registry, db, course, views):
    """The learners' course grades ``{user_id: view}`` were just stored: upstream's
    ``COURSE_GRADE_NOW_PASSED`` / ``COURSE_GRADE_NOW_FAILED`` receivers. One query when
    nothing is to be done."""
    user_ids = list(views)
    if not user_ids:
        return
    certs = {row.user_id: row for row in db.scalars(
        select(GeneratedCertificate).where(GeneratedCertificate.course_key == course.course_key,
                                           GeneratedCertificate.user_id.in_(user_ids)))}
    auto = auto_generation_enabled(registry.settings)
    for user_id, view in views.items():
        cert = certs.get(user_id)
        passing_cert = cert is not None and is_passing_status(cert.status)
        if view.passed:
            if auto and not passing_cert:
                generate(registry, db, course, user_id, view.percent, True, cert=cert)
        elif passing_cert and not is_on_allowlist(db, user_id, course.course_key):
            mark_notpassing(db, cert, _enrollment_mode(db, user_id, course.course_key),
                            view.percent)
            log.info("certificate of %s in %s marked notpassing", user_id, course.course_key)
    db.flush()


def retire_user(db, user_id):
    """Retirement: the certificates are kept (upstream retains them) without the name."""
    db.execute(update(GeneratedCertificate).where(GeneratedCertificate.user_id == user_id)
               .values(name=""))


# -- what course_home shows (upstream courseware ``get_cert_data``) ---------------------------

EARNED_BUT_NOT_AVAILABLE = "earned_but_not_available"
# Modes whose passing learners are told their track has no certificate.
INELIGIBLE_PASSING_STATUS = {"audit": AUDIT_PASSING, "honor": HONOR_PASSING}


def _cert_data(status, *, web_url=None, download_url=None, available=None):
    from lms.timeutil import isoformat

    return {"cert_status": status, "cert_web_view_url": web_url, "download_url": download_url,
            "certificate_available_date": isoformat(available)}


def _certificate_message(course, cert, viewable):
    status = cert.status if cert is not None else UNAVAILABLE
    available = aware_datetime(course.certificate_available_date)
    if not viewable and is_passing_status(status) and available is not None:
        return _cert_data(EARNED_BUT_NOT_AVAILABLE, available=available)
    if status in (GENERATING, ERROR):
        return _cert_data(GENERATING)
    if status == UNVERIFIED:
        return _cert_data(UNVERIFIED)
    if status == DOWNLOADABLE and viewable:
        if html_certificates_enabled(course):
            if active_web_certificate(course) is not None:
                return _cert_data(DOWNLOADABLE, web_url=certificate_url(course, cert))
            if not cert.download_url:
                return _cert_data(GENERATING)
        return _cert_data(DOWNLOADABLE, download_url=cert.download_url or None)
    return _cert_data(REQUESTING)


def certificate_data(registry, db, user_id, course, enrollment, passed):
    """course_home's ``certificate_data`` / ``cert_data``: ``{"cert_status",
    "cert_web_view_url", "download_url", "certificate_available_date"}`` or None.
    ``enrollment``: the learner's enrollment dict (or None); ``passed``: their course
    grade passes."""
    mode = enrollment.get("mode") if enrollment else None
    cert = certificate_for(db, user_id, course.course_key, eligible_only=False)
    viewable = certificates_viewable(course)
    data = _certificate_message(course, cert, viewable)
    if not is_eligible_mode(registry.settings, mode, status=data["cert_status"]):
        status = INELIGIBLE_PASSING_STATUS.get(mode)
        return _cert_data(status) if status else None
    if data["cert_status"] == EARNED_BUT_NOT_AVAILABLE:
        return data
    # can_show_certificate_message (self-generated certificates are not offered here)
    if not (auto_generation_enabled(registry.settings)
            and enrollment is not None and enrollment.get("is_active") and viewable
            and (passed or is_on_allowlist(db, user_id, course.course_key))):
        return None
    if active_web_certificate(course) is None and not data["download_url"]:
        return None
    return data
