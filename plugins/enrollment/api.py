"""The enrollment plugin's Python API: the only module other plugins may import.

Look-ups answer plain dicts (the shapes of :mod:`lms.hookspecs`); changes go through
:func:`enroll`, :func:`update_enrollment` and :func:`unenroll`, which are safe under
concurrency (the unique (user, course) constraint, a savepoint retry, and a locked
per-course row for seat limits), write the enrollment history, and call the
``lms_enrollment_changed`` hook once the transaction commits.
"""
from dataclasses import dataclass

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.exc import IntegrityError

from lms.db import separate_session
from lms.keys import parse_course_key
from lms.timeutil import utcnow
from plugins.enrollment.models import (ALLOWEDTOENROLL_TO_ENROLLED, DEFAULT_MODE,
                                       AllowedEnrollment, CourseMode, CourseSeatLock,
                                       Enrollment, EnrollmentAttribute, EnrollmentHistory,
                                       ManualEnrollmentAudit)

# Modes a learner did not pay for (upstream CourseMode.AUDIT / HONOR).
FREE_MODES = ("audit", "honor")
# Modes that may still be upgraded to verified (CourseMode.UPSELL_TO_VERIFIED_MODES).
UPGRADABLE_MODES = ("audit", "honor")
VERIFIED_MODES = ("verified", "professional", "no-id-professional")
PENDING_KEY = "enrollment.pending_changes"


class CourseFull(Exception):
    """The course's seat limit is reached."""


@dataclass(frozen=True)
class Change:
    user_id: int
    course_key: str
    mode: str
    is_active: bool


def enrollment_dict(enrollment, verified_mode=None):
    """The ``lms_get_enrollment`` answer for a row (``verified_mode``: the course's
    verified :class:`CourseMode`, if any, for the upgrade deadline)."""
    deadline = None
    if (verified_mode is not None and enrollment.mode in UPGRADABLE_MODES
            and verified_mode.expiration_datetime is not None
            and verified_mode.expiration_datetime > utcnow()):
        deadline = verified_mode.expiration_datetime
    return {
        "mode": enrollment.mode,
        "is_active": enrollment.is_active,
        "created": enrollment.created,
        "upgrade_deadline": deadline,
        "schedule_start": None,
        "course_duration": None,
        "audit_access_deadline": None,
    }


def get_enrollment_row(db, user_id, course_key):
    return db.scalar(select(Enrollment).where(Enrollment.user_id == user_id,
                                              Enrollment.course_key == str(course_key)))


def get_enrollment(db, user_id, course_key):
    """User ``user_id``'s enrollment in ``course_key`` (active or not) as a dict, or None."""
    answer = get_enrollments(db, user_id, [course_key])
    return answer[str(course_key)]


def get_enrollments(db, user_id, course_keys):
    """``{course key string: enrollment dict or None}`` for every key, in two queries
    whatever the number of courses (enrollments, then their courses' verified modes)."""
    keys = list(dict.fromkeys(str(key) for key in course_keys))
    answer = dict.fromkeys(keys)
    if not keys:
        return answer
    rows = db.scalars(select(Enrollment).where(Enrollment.user_id == user_id,
                                               Enrollment.course_key.in_(keys))).all()
    upgradable = [row.course_key for row in rows if row.mode in UPGRADABLE_MODES]
    verified = {}
    if upgradable:
        for mode in db.scalars(select(CourseMode).where(
                CourseMode.course_key.in_(upgradable), CourseMode.mode_slug == "verified")):
            verified[mode.course_key] = mode
    for row in rows:
        answer[row.course_key] = enrollment_dict(row, verified.get(row.course_key))
    return answer


def user_enrollment_rows(db, user_id, include_inactive=False):
    """The user's enrollment rows, oldest first (one query)."""
    query = select(Enrollment).where(Enrollment.user_id == user_id)
    if not include_inactive:
        query = query.where(Enrollment.is_active.is_(True))
    return db.scalars(query.order_by(Enrollment.created, Enrollment.id)).all()


def enrollment_orgs(db, user_id):
    """Orgs of every course the user is or was enrolled in."""
    orgs = set()
    for course_key in db.scalars(select(Enrollment.course_key)
                                 .where(Enrollment.user_id == user_id)):
        key = parse_course_key(course_key)
        if key is not None:
            orgs.add(key.org)
    return sorted(orgs)


def has_non_audit_enrollments(db, user_id):
    return db.scalar(select(Enrollment.id).where(
        Enrollment.user_id == user_id, Enrollment.mode.not_in(FREE_MODES)).limit(1)) is not None


def course_modes(db, course_key, include_expired=False):
    """The course's modes, ordered by slug; expired ones only when asked."""
    query = select(CourseMode).where(CourseMode.course_key == str(course_key))
    if not include_expired:
        now = utcnow()
        query = query.where((CourseMode.expiration_datetime.is_(None))
                            | (CourseMode.expiration_datetime > now))
    return db.scalars(query.order_by(CourseMode.mode_slug)).all()


def modes_for_courses(db, course_keys, include_expired=False):
    """``{course key string: [CourseMode, ...]}`` (ordered by slug) for every key, in one
    query; expired modes only when asked."""
    keys = list(dict.fromkeys(str(key) for key in course_keys))
    answer = {key: [] for key in keys}
    if not keys:
        return answer
    query = select(CourseMode).where(CourseMode.course_key.in_(keys))
    if not include_expired:
        query = query.where((CourseMode.expiration_datetime.is_(None))
                            | (CourseMode.expiration_datetime > utcnow()))
    for mode in db.scalars(query.order_by(CourseMode.course_key, CourseMode.mode_slug)):
        answer[mode.course_key].append(mode)
    return answer


def count_active(db, course_key):
    return db.scalar(select(func.count()).select_from(Enrollment).where(
        Enrollment.course_key == str(course_key), Enrollment.is_active.is_(True)))


def active_user_ids(db, course_key):
    """Ids of the course's active enrollees, in enrollment order (one query)."""
    return list(db.scalars(select(Enrollment.user_id).where(
        Enrollment.course_key == str(course_key), Enrollment.is_active.is_(True))
        .order_by(Enrollment.id)))


def active_enrollees_select(course_key):
    """A select of the course's active enrollees for keyset pages: rows of
    ``(id, user_id, mode, username, email)``; ``ENROLLMENT_ID`` is the order column."""
    from lms.models import User

    return (select(Enrollment.id, Enrollment.user_id, Enrollment.mode, User.username,
                   User.email)
            .join(User, User.id == Enrollment.user_id)
            .where(Enrollment.course_key == str(course_key), Enrollment.is_active.is_(True)))


ENROLLMENT_ID = Enrollment.id


def enrollment_rows_of(db, course_key, user_ids):
    """The enrollment rows (active or not) of these users in one course (one query)."""
    user_ids = list(user_ids)
    if not user_ids:
        return []
    return db.scalars(select(Enrollment).where(Enrollment.course_key == str(course_key),
                                               Enrollment.user_id.in_(user_ids))).all()


def active_enrollments_select():
    """:func:`active_enrollees_select` over every course, with ``course_key``."""
    from lms.models import User

    return (select(Enrollment.id, Enrollment.user_id, Enrollment.mode, Enrollment.course_key,
                   User.username, User.email)
            .join(User, User.id == Enrollment.user_id)
            .where(Enrollment.is_active.is_(True)))


def cohort_user_ids_select(course_key, cohort_id):
    """A select of the user ids in cohort ``cohort_id`` of the course (for filters)."""
    from plugins.enrollment.models import CohortMembership

    return select(CohortMembership.user_id).where(
        CohortMembership.course_key == str(course_key), CohortMembership.cohort_id == cohort_id)


def is_enrollment_allowed(db, email, course_key):
    """Does an allowed enrollment (``CourseEnrollmentAllowed``) name this email for the
    course? Emails are stored lower-cased."""
    return db.scalar(select(AllowedEnrollment.id).where(
        AllowedEnrollment.email == (email or "").lower(),
        AllowedEnrollment.course_key == str(course_key)).limit(1)) is not None


# -- changes ------------------------------------------------------------------------------

def enroll(db, user_id, course_key, mode=DEFAULT_MODE, is_active=True, changed_by_id=None,
           max_students=None):
    """Create or change user ``user_id``'s enrollment and return the row (flushed).

    Concurrent calls for one user and course end with one row: an insert that loses
    the race to the unique constraint is rolled back to its savepoint and becomes an
    update. With ``max_students``, activating an enrollment first locks the course's
    seat row, so concurrent enrollments admit no more than the limit; raises
    :class:`CourseFull` when it is reached.
    """
    course_key = str(course_key)
    if max_students is not None and is_active:
        _lock_seats(db, course_key)
    row = _locked_row(db, user_id, course_key)
    if row is None:
        if max_students is not None and is_active and count_active(db, course_key) >= max_students:
            raise CourseFull(course_key)
        row = Enrollment(user_id=user_id, course_key=course_key, mode=mode,
                         is_active=is_active, created=utcnow())
        try:
            with db.begin_nested():
                db.add(row)
                db.flush()
        except IntegrityError:
            # Another transaction enrolled this user first: change its row instead.
            row = _locked_row(db, user_id, course_key)
            if row is None:
                raise
        else:
            _record(db, row, None, None, changed_by_id)
            return row
    if (max_students is not None and is_active and not row.is_active
            and count_active(db, course_key) >= max_students):
        raise CourseFull(course_key)
    return _change(db, row, mode, is_active, changed_by_id)


def update_enrollment(db, row, mode=None, is_active=None, changed_by_id=None):
    """Change an existing row's mode and/or active flag (no-op when both are unchanged)."""
    return _change(db, row, row.mode if mode is None else mode,
                   row.is_active if is_active is None else is_active, changed_by_id)


def unenroll(db, user_id, course_key, changed_by_id=None):
    """Deactivate the enrollment; return the row, or None when there is none."""
    row = _locked_row(db, user_id, str(course_key))
    if row is None:
        return None
    return _change(db, row, row.mode, False, changed_by_id)


def unenroll_all(db, user_id, changed_by_id=None):
    """Deactivate every active enrollment of the user; return their course keys."""
    rows = db.scalars(select(Enrollment).where(Enrollment.user_id == user_id,
                                               Enrollment.is_active.is_(True))
                      .order_by(Enrollment.course_key).with_for_update()).all()
    for row in rows:
        _change(db, row, row.mode, False, changed_by_id)
    return [row.course_key for row in rows]


def set_attributes(db, row, attributes):
    """Add or replace ``[{"namespace", "name", "value"}]`` on an enrollment."""
    for item in attributes:
        existing = db.scalar(select(EnrollmentAttribute).where(
            EnrollmentAttribute.enrollment_id == row.id,
            EnrollmentAttribute.namespace == item["namespace"],
            EnrollmentAttribute.name == item["name"]))
        if existing is None:
            db.add(EnrollmentAttribute(enrollment_id=row.id, namespace=item["namespace"],
                                       name=item["name"], value=item["value"]))
        else:
            existing.value = item["value"]
    db.flush()


def retire_user(db, user, original_email=None):
    """Scrub what links enrollment data to the person beyond their (renamed) user row;
    invitations are kept by email, so both the current and the original address go."""
    emails = {(email or "").lower() for email in (user.email, original_email) if email}
    db.execute(delete(AllowedEnrollment).where(AllowedEnrollment.email.in_(emails)))
    enrollment_ids = select(Enrollment.id).where(Enrollment.user_id == user.id)
    db.execute(delete(EnrollmentAttribute).where(
        EnrollmentAttribute.enrollment_id.in_(enrollment_ids)))
    # Changes the learner made to other people's enrollments keep no trace of who.
    db.execute(update(EnrollmentHistory).where(EnrollmentHistory.changed_by_id == user.id)
               .values(changed_by_id=None))


def _locked_row(db, user_id, course_key):
    return db.scalar(select(Enrollment).where(Enrollment.user_id == user_id,
                                              Enrollment.course_key == course_key)
                     .with_for_update())


def _lock_seats(db, course_key):
    if db.get(CourseSeatLock, course_key) is None:
        try:
            with db.begin_nested():
                db.add(CourseSeatLock(course_key=course_key))
                db.flush()
        except IntegrityError:
            pass  # created by a concurrent enrollment: lock it below
    db.scalar(select(CourseSeatLock).where(CourseSeatLock.course_key == course_key)
              .with_for_update().execution_options(populate_existing=True))


def _change(db, row, mode, is_active, changed_by_id):
    if row.mode == mode and row.is_active == is_active:
        return row
    from_mode, from_active = row.mode, row.is_active
    row.mode, row.is_active = mode, is_active
    db.flush()
    _record(db, row, from_mode, from_active, changed_by_id)
    return row


def _record(db, row, from_mode, from_active, changed_by_id):
    db.add(EnrollmentHistory(enrollment_id=row.id, changed_by_id=changed_by_id,
                             changed_at=utcnow(), from_mode=from_mode,
                             from_active=from_active, to_mode=row.mode,
                             to_active=row.is_active))
    db.flush()
    _notify_after_commit(db, Change(row.user_id, row.course_key, row.mode, row.is_active))


# -- lms_enrollment_changed, after commit -------------------------------------------------

def _notify_after_commit(db, change):
    """Queue ``change``; the hook hears of it once the session's transaction commits
    (and never when it rolls back). Hook implementations get a session of their own."""
    pending = db.info.setdefault(PENDING_KEY, [])
    pending.append(change)
    if not db.info.get(PENDING_KEY + ".listening"):
        db.info[PENDING_KEY + ".listening"] = True
        event.listen(db, "after_commit", _send_pending)
        event.listen(db, "after_transaction_end", _drop_pending)


def _drop_pending(session, transaction):
    # Savepoints (a lost race) end inside the transaction; once the outermost one
    # ends, what a commit did not send was rolled back.
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


def _send_pending(session):
    changes = session.info.pop(PENDING_KEY, None)
    if not changes:
        return
    registry = session.info.get("lms.registry")
    if registry is None:
        return
    hook = registry["lms.plugin_manager"].hook.lms_enrollment_changed
    with separate_session(registry) as hook_session:
        for change in changes:
            hook(dbsession=hook_session, user_id=change.user_id,
                 course_key=parse_course_key(change.course_key), mode=change.mode,
                 is_active=change.is_active)
        hook_session.commit()


# -- allowed enrollments (bulk enrollment), course email opt-outs -------------------------

def default_mode(db, course_key):
    """The mode an enrollment gets when none is asked (upstream ``_default_course_mode``):
    audit, unless the course offers honor and not audit."""
    slugs = {mode.mode_slug for mode in course_modes(db, course_key)}
    if "honor" in slugs and DEFAULT_MODE not in slugs:
        return "honor"
    return DEFAULT_MODE


def get_allowed_enrollment(db, email, course_key):
    """The :class:`AllowedEnrollment` naming ``email`` for the course, or None."""
    return db.scalar(select(AllowedEnrollment).where(
        AllowedEnrollment.email == (email or "").lower(),
        AllowedEnrollment.course_key == str(course_key)))


def allow_enrollment(db, email, course_key, auto_enroll=False):
    """Create or update the allowed enrollment of ``email`` (``get_or_create``, safe
    when two requests create it at once) and return it."""
    row = get_allowed_enrollment(db, email, course_key)
    if row is None:
        try:
            with db.begin_nested():
                row = AllowedEnrollment(email=(email or "").lower(), course_key=str(course_key),
                                        auto_enroll=auto_enroll, created=utcnow())
                db.add(row)
                db.flush()
            return row
        except IntegrityError:
            row = get_allowed_enrollment(db, email, course_key)
    row.auto_enroll = auto_enroll
    db.flush()
    return row


def disallow_enrollment(db, email, course_key):
    """Delete the allowed enrollment of ``email``; True when there was one."""
    result = db.execute(delete(AllowedEnrollment).where(
        AllowedEnrollment.email == (email or "").lower(),
        AllowedEnrollment.course_key == str(course_key)))
    return result.rowcount > 0


def apply_allowed_enrollments(db, user):
    """Enroll a newly registered user in every course an auto-enrolling allowed
    enrollment names them for (upstream ``_enroll_user_in_pending_courses``); the
    allowed enrollments stay. Returns the course keys enrolled in."""
    if not user.email:
        return []
    rows = db.scalars(select(AllowedEnrollment).where(
        AllowedEnrollment.email == user.email.lower(), AllowedEnrollment.auto_enroll.is_(True))
        .order_by(AllowedEnrollment.id)).all()
    enrolled = []
    for row in rows:
        current = get_enrollment_row(db, user.id, row.course_key)
        if current is not None and current.is_active:
            continue
        enrollment = enroll(db, user.id, row.course_key, mode=default_mode(db, row.course_key))
        enrolled.append(row.course_key)
        # Upstream: a manual audit of the invitation is followed by its completion.
        invitation = latest_manual_audit(db, user.email)
        if invitation is not None:
            record_manual_enrollment(db, invitation.enrolled_by_id, user.email,
                                     ALLOWEDTOENROLL_TO_ENROLLED, invitation.reason,
                                     enrollment)
    return enrolled


# -- manual enrollment audit -----------------------------------------------------------------

def record_manual_enrollment(db, enrolled_by_id, email, state_transition, reason=None,
                             enrollment=None, role=None):
    """Add a ``ManualEnrollmentAudit`` row (upstream ``create_manual_enrollment_audit``)."""
    row = ManualEnrollmentAudit(enrolled_by_id=enrolled_by_id, enrolled_email=email or "",
                                state_transition=state_transition, reason=reason,
                                enrollment_id=enrollment.id if enrollment is not None else None,
                                role=role)
    db.add(row)
    db.flush()
    return row


def latest_manual_audit(db, email):
    """``get_manual_enrollment_by_email``: the newest audit row of ``email``, or None."""
    return db.scalar(select(ManualEnrollmentAudit)
                     .where(ManualEnrollmentAudit.enrolled_email == email)
                     .order_by(ManualEnrollmentAudit.time_stamp.desc(),
                               ManualEnrollmentAudit.id.desc()).limit(1))


def retire_manual_enrollments(db, user, retired_email, emails=()):
    """``retire_manual_enrollments``: the rows of the user's enrollments get the retired
    email and an empty reason; so do rows kept by one of the person's ``emails`` (an
    invitation sent before they registered, which upstream leaves in place)."""
    enrollment_ids = select(Enrollment.id).where(Enrollment.user_id == user.id)
    condition = ManualEnrollmentAudit.enrollment_id.in_(enrollment_ids)
    emails = [email for email in emails if email]
    if emails:
        condition = condition | ManualEnrollmentAudit.enrolled_email.in_(emails)
    result = db.execute(update(ManualEnrollmentAudit).where(condition)
                        .values(enrolled_email=retired_email or "", reason=""),
                        execution_options={"synchronize_session": False})
    return result.rowcount > 0


def is_opted_out_of_email(db, user_id, course_key):
    """Did the user opt out of the course's bulk email (``change_email_settings``)?"""
    from plugins.enrollment.models import CourseEmailOptout

    return db.scalar(select(CourseEmailOptout.id).where(
        CourseEmailOptout.user_id == user_id,
        CourseEmailOptout.course_key == str(course_key)).limit(1)) is not None


def email_optout_user_ids(db, course_key):
    """Ids of the users who opted out of the course's bulk email (one query)."""
    from plugins.enrollment.models import CourseEmailOptout

    return set(db.scalars(select(CourseEmailOptout.user_id).where(
        CourseEmailOptout.course_key == str(course_key))))


def embargo_allows(request, course_key, user):
    """May ``user`` (None: anonymous) reach ``course_key`` from where ``request`` comes,
    under the course's country access rules (upstream ``embargo.api.check_course_access``)?"""
    from plugins.enrollment import embargo

    return embargo.check_course_access(request, course_key, user)


# -- cohorts, for plugins that divide by them (discussions) ----------------------------------

def is_course_cohorted(db, course_key):
    """Is the course cohorted (its settings row, else its policy's ``cohort_config``)?"""
    from plugins.enrollment import cohorts

    return cohorts.is_course_cohorted(db, course_key)


def cohort_of(db, user_id, course_key):
    """``(cohort id, cohort name)`` of an active learner of a cohorted course, placing
    them first as upstream's ``get_cohort(assign=True)`` does; None otherwise."""
    from plugins.enrollment import cohorts
    from plugins.enrollment.models import Cohort, CohortMembership

    if not cohorts.is_course_cohorted(db, course_key):
        return None
    row = db.execute(select(Cohort.id, Cohort.name)
                     .join(CohortMembership, CohortMembership.cohort_id == Cohort.id)
                     .where(CohortMembership.user_id == user_id,
                            CohortMembership.course_key == str(course_key))).first()
    if row is not None:
        return tuple(row)
    enrollment = get_enrollment_row(db, user_id, course_key)
    if enrollment is None or not enrollment.is_active:
        return None
    cohort = cohorts.place_learner(db, user_id, course_key)
    return None if cohort is None else (cohort.id, cohort.name)


def cohort_names(db, course_key):
    """``{cohort id: name}`` of the course's cohorts (one query)."""
    from plugins.enrollment.models import Cohort

    return dict(db.execute(select(Cohort.id, Cohort.name)
                           .where(Cohort.course_key == str(course_key))).all())
