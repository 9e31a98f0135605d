"""Cohorts: groups of learners in a course run (upstream ``course_groups.cohorts``).

A learner is in at most one cohort per course: the unique (user, course) membership
row makes concurrent assignments end with one cohort, the loser of an insert race
moving the winner's row instead. A course is *cohorted* when its settings say so
(created on first use from the course's ``cohort_config`` policy, whose
``auto_cohort_groups`` become random cohorts). In a cohorted course a learner who
enrolls is placed at once: in the cohort an email pre-assignment names, else in a
random-assignment cohort (a "Default Group" is created when the course has none).

A cohort linked to a content group (``user_partition_id``/``group_id``) puts its
members in that group: :func:`user_partition_groups` answers the core hook
``lms_user_partition_groups`` that the courses plugin's content rule asks.

Functions take a session and never commit; they flush when ids are needed.
"""
import random
import re

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from lms import tracking
from lms.models import User
from lms.users import find_by_identity, is_plausible_email, is_storable_text
from plugins.enrollment.models import (COHORT_MANUAL, COHORT_RANDOM, Cohort, CohortMembership,
                                       CohortPreassignment, CohortSettings, CohortUpload,
                                       Enrollment)

DEFAULT_COHORT_NAME = "Default Group"
LAST_RANDOM_COHORT = "There must be one cohort to which students can automatically be assigned."
DUPLICATE_NAME = "You cannot create two cohorts with the same name"
# Django's EmailValidator, in short: a local part, "@", a dotted domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CohortError(Exception):
    """Base of the errors below."""


class CohortNotFound(CohortError):
    """No cohort with that name (or id) in the course."""


class DuplicateCohortName(CohortError, ValueError):
    """A cohort of that name exists in the course."""


class LastRandomCohort(CohortError, ValueError):
    """The change would leave the course without a random-assignment cohort."""


class AlreadyInCohort(CohortError, ValueError):
    """The user is already a member of that cohort."""


class UnknownUser(CohortError):
    """No account has that username or email (and it is no email to pre-assign)."""


class InvalidEmail(CohortError):
    """No account matches, and the value holds an "@" without being an email."""


# -- settings ------------------------------------------------------------------------

def course_cohort_config(db, course_key):
    """The course's ``cohort_config`` policy (``{}`` when absent or the course unknown)."""
    from plugins.courses import api as courses

    course = courses.get_course(db, course_key)
    config = (course.settings or {}).get("cohort_config") if course is not None else None
    return config if isinstance(config, dict) else {}


def get_settings(db, course_key):
    """The course's :class:`CohortSettings`, created on first use (upstream's
    ``migrate_cohort_settings``): cohorted as its ``cohort_config`` says, its
    ``auto_cohort_groups`` created as random cohorts."""
    key = str(course_key)
    row = db.scalar(select(CohortSettings).where(CohortSettings.course_key == key))
    if row is not None:
        return row
    config = course_cohort_config(db, key)
    row = CohortSettings(course_key=key, is_cohorted=bool(config.get("cohorted", False)))
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        # Created by a concurrent request: use that one.
        return db.scalar(select(CohortSettings).where(CohortSettings.course_key == key))
    for name in config.get("auto_cohort_groups") or ():
        if isinstance(name, str) and name and not cohort_exists(db, key, name):
            _insert_cohort(db, key, name, COHORT_RANDOM)
    return row


def is_course_cohorted(db, course_key):
    """Read-only: the settings row's answer, else the course's ``cohort_config``
    (so that asking writes nothing for the many courses never cohorted)."""
    key = str(course_key)
    cohorted = db.scalar(select(CohortSettings.is_cohorted)
                         .where(CohortSettings.course_key == key))
    if cohorted is None:
        cohorted = bool(course_cohort_config(db, key).get("cohorted", False))
    return cohorted


def set_course_cohorted(db, course_key, cohorted):
    if not isinstance(cohorted, bool):
        raise ValueError("Cohorted must be a boolean")
    row = get_settings(db, course_key)
    row.is_cohorted = cohorted
    db.flush()
    return row


# -- cohorts -------------------------------------------------------------------------

def cohorts_query(course_key, ordering="asc", assignment_type=None):
    """The course's cohorts ordered by name (``ordering`` ``asc`` or ``desc``)."""
    query = select(Cohort).where(Cohort.course_key == str(course_key))
    if assignment_type is not None:
        query = query.where(Cohort.assignment_type == assignment_type)
    order = Cohort.name.desc() if ordering == "desc" else Cohort.name.asc()
    return query.order_by(order, Cohort.id)


def user_count_column(course_key):
    """Per cohort: its members with an active enrollment in the course (one
    correlated count, so a page of cohorts is one query)."""
    return (select(func.count(CohortMembership.id))
            .join(Enrollment, and_(Enrollment.user_id == CohortMembership.user_id,
                                   Enrollment.course_key == CohortMembership.course_key))
            .where(CohortMembership.cohort_id == Cohort.id,
                   Enrollment.course_key == str(course_key),
                   Enrollment.is_active.is_(True))
            .correlate(Cohort).scalar_subquery())


def get_cohort(db, course_key, cohort_id):
    """The course's cohort ``cohort_id``, or None."""
    if not isinstance(cohort_id, int) or not 0 < cohort_id < 2**31:
        return None
    return db.scalar(select(Cohort).where(Cohort.id == cohort_id,
                                          Cohort.course_key == str(course_key)))


def get_cohort_by_name(db, course_key, name):
    return db.scalar(select(Cohort).where(Cohort.course_key == str(course_key),
                                          Cohort.name == name))


def cohort_exists(db, course_key, name):
    return get_cohort_by_name(db, course_key, name) is not None


def add_cohort(db, course_key, name, assignment_type=COHORT_MANUAL):
    """Create a cohort; :class:`DuplicateCohortName` when the name is taken (also when a
    concurrent request took it first)."""
    if cohort_exists(db, course_key, name):
        raise DuplicateCohortName(DUPLICATE_NAME)
    cohort = _insert_cohort(db, str(course_key), name, assignment_type)
    if cohort is None:
        raise DuplicateCohortName(DUPLICATE_NAME)
    return cohort


def track(event_type, data, course_key):
    """Emit a server tracking event for the request being served, as upstream's cohort
    signals do (at once, not after commit). Outside a request (the Celery CSV task, the
    CLI) there is no caller to attribute it to, and nothing is emitted."""
    from pyramid.threadlocal import get_current_request

    request = get_current_request()
    if request is not None:
        tracking.emit(request, event_type, data, course_key=course_key)


def track_membership(event_type, cohort, user_id):
    """``edx.cohort.user_added`` / ``edx.cohort.user_removed`` (upstream's m2m signal)."""
    track(event_type, {"cohort_id": cohort.id, "cohort_name": cohort.name, "user_id": user_id},
          cohort.course_key)


def track_add_requested(cohort, user_id, previous):
    track("edx.cohort.user_add_requested",
          {"user_id": user_id, "cohort_id": cohort.id, "cohort_name": cohort.name,
           "previous_cohort_id": previous.id if previous is not None else None,
           "previous_cohort_name": previous.name if previous is not None else None},
          cohort.course_key)


def _insert_cohort(db, course_key, name, assignment_type):
    cohort = Cohort(course_key=course_key, name=name, assignment_type=assignment_type)
    try:
        with db.begin_nested():
            db.add(cohort)
            db.flush()
    except IntegrityError:
        return None
    track("edx.cohort.created", {"cohort_id": cohort.id, "cohort_name": cohort.name},
          course_key)
    return cohort


def rename_cohort(db, cohort, name):
    if name == cohort.name:
        return cohort
    if cohort_exists(db, cohort.course_key, name):
        raise DuplicateCohortName("A cohort with the same name already exists.")
    try:
        with db.begin_nested():
            cohort.name = name
            db.flush()
    except IntegrityError:
        raise DuplicateCohortName("A cohort with the same name already exists.")
    return cohort


def is_last_random_cohort(db, cohort):
    randoms = db.scalars(cohorts_query(cohort.course_key, assignment_type=COHORT_RANDOM)
                         .limit(2)).all()
    return len(randoms) == 1 and randoms[0].id == cohort.id


def set_assignment_type(db, cohort, assignment_type):
    if cohort.assignment_type != assignment_type and is_last_random_cohort(db, cohort):
        raise LastRandomCohort(LAST_RANDOM_COHORT)
    cohort.assignment_type = assignment_type
    db.flush()
    return cohort


def link_content_group(db, cohort, partition_id, group_id):
    """Link the cohort to a content group (both None unlinks it)."""
    cohort.user_partition_id, cohort.group_id = partition_id, group_id
    db.flush()


def random_cohort(db, course_key):
    """A random-assignment cohort of the course, picked at random; a "Default Group"
    is created when there is none."""
    randoms = db.scalars(cohorts_query(course_key, assignment_type=COHORT_RANDOM)).all()
    if randoms:
        return random.SystemRandom().choice(randoms)
    created = _insert_cohort(db, str(course_key), DEFAULT_COHORT_NAME, COHORT_RANDOM)
    # A concurrent placement created it first, or a manual cohort holds the name.
    return created or get_cohort_by_name(db, course_key, DEFAULT_COHORT_NAME)


# -- memberships ---------------------------------------------------------------------

def membership_of(db, user_id, course_key, lock=False):
    query = select(CohortMembership).where(CohortMembership.user_id == user_id,
                                           CohortMembership.course_key == str(course_key))
    if lock:
        query = query.with_for_update()
    return db.scalar(query)


def assign(db, cohort, user_id):
    """Put user ``user_id`` in ``cohort``, moving them out of their other cohort of the
    course; returns the previous cohort (or None). :class:`AlreadyInCohort` when they
    are in it already. Concurrent calls end with one membership."""
    membership = membership_of(db, user_id, cohort.course_key, lock=True)
    if membership is None:
        membership = CohortMembership(cohort_id=cohort.id, user_id=user_id,
                                      course_key=cohort.course_key)
        try:
            with db.begin_nested():
                db.add(membership)
                db.flush()
            track_membership("edx.cohort.user_added", cohort, user_id)
            return None
        except IntegrityError:
            # Another transaction placed this user first: move that membership.
            membership = membership_of(db, user_id, cohort.course_key, lock=True)
            if membership is None:
                raise
    if membership.cohort_id == cohort.id:
        raise AlreadyInCohort(f"User {user_id} already present in cohort {cohort.name}")
    previous = db.get(Cohort, membership.cohort_id)
    membership.cohort_id = cohort.id
    db.flush()
    track_membership("edx.cohort.user_removed", previous, user_id)
    track_membership("edx.cohort.user_added", cohort, user_id)
    return previous


def find_user(db, username_or_email):
    """The account with this username, else this email (upstream
    ``get_user_by_username_or_email``), or None."""
    value = username_or_email.strip()
    if not is_storable_text(value, 254):
        return None
    user = find_by_identity(db, User.username, value)
    if user is None and "@" in value:
        user = find_by_identity(db, User.email, value)
    return user


def is_valid_email(value):
    return bool(_EMAIL.match(value)) and is_plausible_email(value)


def preassign(db, cohort, email):
    """Remember that ``email`` (no account yet) belongs in ``cohort``."""
    email = email.strip().lower()
    row = db.scalar(select(CohortPreassignment).where(
        CohortPreassignment.course_key == cohort.course_key, CohortPreassignment.email == email))
    if row is None:
        row = CohortPreassignment(cohort_id=cohort.id, email=email,
                                  course_key=cohort.course_key)
        try:
            with db.begin_nested():
                db.add(row)
                db.flush()
            return row
        except IntegrityError:
            row = db.scalar(select(CohortPreassignment).where(
                CohortPreassignment.course_key == cohort.course_key,
                CohortPreassignment.email == email))
    row.cohort_id = cohort.id
    db.flush()
    return row


def add_user_to_cohort(db, cohort, username_or_email):
    """Upstream's ``add_user_to_cohort``: ``(user, previous cohort name, preassigned)``.

    An unknown value that is a valid email is pre-assigned (``(None, None, True)``);
    raises :class:`AlreadyInCohort`, :class:`InvalidEmail` (unknown, holds an "@")
    or :class:`UnknownUser`.
    """
    user = find_user(db, username_or_email)
    if user is None:
        value = username_or_email.strip()
        if is_valid_email(value):
            preassign(db, cohort, value)
            return None, None, True
        if "@" in value:
            raise InvalidEmail(value)
        raise UnknownUser(value)
    previous = assign(db, cohort, user.id)
    track_add_requested(cohort, user.id, previous)
    return user, previous.name if previous is not None else None, False


def add_user_to_cohort_by_name(db, course_key, user, cohort_name):
    """Put ``user`` (a :class:`lms.models.User`) in the course's cohort named
    ``cohort_name`` (for bulk enrollment). Returns the name of the cohort they left,
    or None (also when they already were in that cohort). Raises
    :class:`CohortNotFound` when the course has no cohort of that name."""
    cohort = get_cohort_by_name(db, course_key, cohort_name)
    if cohort is None:
        raise CohortNotFound(f"Cohort name '{cohort_name}' not found for {course_key}")
    try:
        previous = assign(db, cohort, user.id)
    except AlreadyInCohort:
        return None
    track_add_requested(cohort, user.id, previous)
    return previous.name if previous is not None else None


def remove_user(db, course_key, username, cohort_id):
    """Take user ``username`` out of the cohort; :class:`UnknownUser` or
    :class:`CohortNotFound` (not a member of it)."""
    user = db.scalar(select(User).where(User.username == username)) if is_storable_text(
        username, 254) else None
    if user is None:
        raise UnknownUser(username)
    membership = db.scalar(select(CohortMembership).where(
        CohortMembership.user_id == user.id, CohortMembership.course_key == str(course_key),
        CohortMembership.cohort_id == cohort_id))
    if membership is None:
        raise CohortNotFound(username)
    db.delete(membership)
    db.flush()
    track_membership("edx.cohort.user_removed", db.get(Cohort, cohort_id), user.id)


def place_learner(db, user_id, course_key):
    """Place an enrolled learner of a cohorted course by the course's rules (their
    email's pre-assignment, else a random cohort) unless they have a cohort; returns
    their cohort, or None when the course is not cohorted."""
    if not is_course_cohorted(db, course_key):
        return None
    get_settings(db, course_key)  # a cohorted course's auto cohorts exist from here on
    membership = membership_of(db, user_id, course_key)
    if membership is not None:
        return db.get(Cohort, membership.cohort_id)
    cohort = None
    email = db.scalar(select(User.email).where(User.id == user_id))
    if email:
        assignment = db.scalar(select(CohortPreassignment).where(
            CohortPreassignment.course_key == str(course_key),
            CohortPreassignment.email == email.lower()))
        if assignment is not None:
            cohort = db.get(Cohort, assignment.cohort_id)
            db.delete(assignment)
    if cohort is None:
        cohort = random_cohort(db, course_key)
    try:
        assign(db, cohort, user_id)
    except AlreadyInCohort:
        pass
    return db.get(Cohort, membership_of(db, user_id, course_key).cohort_id)


def user_partition_groups(db, user_id, course_key):
    """``{partition_id: group_id}`` of the learner's cohort in a cohorted course, when
    that cohort is linked to a content group (upstream ``CohortPartitionScheme``).
    An active learner not yet placed is placed now, as upstream's ``get_cohort``."""
    if not is_course_cohorted(db, course_key):
        return {}
    cohort = db.scalar(select(Cohort).join(CohortMembership,
                                           CohortMembership.cohort_id == Cohort.id)
                       .where(CohortMembership.user_id == user_id,
                              CohortMembership.course_key == str(course_key)))
    if cohort is None:
        enrolled = db.scalar(select(Enrollment.id).where(
            Enrollment.user_id == user_id, Enrollment.course_key == str(course_key),
            Enrollment.is_active.is_(True)))
        if enrolled is None:
            return {}
        cohort = place_learner(db, user_id, course_key)
    if cohort is None or cohort.user_partition_id is None or cohort.group_id is None:
        return {}
    return {cohort.user_partition_id: cohort.group_id}


def users_partition_groups(db, user_ids, course_key):
    """:func:`user_partition_groups` of many learners in two queries, placing nobody:
    ``{user_id: {partition_id: group_id}}`` of those whose cohort has a content group."""
    user_ids = list(user_ids)
    if not user_ids or not is_course_cohorted(db, course_key):
        return {}
    rows = db.execute(
        select(CohortMembership.user_id, Cohort.user_partition_id, Cohort.group_id)
        .join(Cohort, CohortMembership.cohort_id == Cohort.id)
        .where(CohortMembership.course_key == str(course_key),
               CohortMembership.user_id.in_(user_ids),
               Cohort.user_partition_id.is_not(None), Cohort.group_id.is_not(None)))
    return {user_id: {partition_id: group_id} for user_id, partition_id, group_id in rows}


def retire_user(db, user, original_email=None):
    """Drop the pre-assignments kept under the person's email (current or original:
    ``deactivate_logout`` may already have replaced it)."""
    from sqlalchemy import delete

    emails = {email.lower() for email in (user.email, original_email) if email}
    if emails:
        db.execute(delete(CohortPreassignment).where(CohortPreassignment.email.in_(emails)))


# -- CSV uploads (the ``enrollment.cohort_students`` task) ----------------------------------

def upload_progress(upload):
    """Upstream's ``TaskProgress`` state of an upload (an instructor task's output)."""
    duration = (upload.updated - upload.created).total_seconds() * 1000
    return {
        "action_name": "cohorted",
        "attempted": upload.attempted,
        "succeeded": upload.succeeded,
        "skipped": upload.skipped,
        "failed": upload.failed,
        "preassigned": upload.preassigned,
        "total": upload.total,
        "duration_ms": max(0, int(duration)),
        "step": upload.step,
    }


def upload_tasks(db, course_key, limit=100):
    """The course's cohort CSV uploads, newest first, shaped as upstream's instructor
    tasks (``task_type`` ``cohort_students``): what a task-status endpoint lists."""
    rows = db.execute(select(CohortUpload, User.username)
                      .outerjoin(User, User.id == CohortUpload.requester_id)
                      .where(CohortUpload.course_key == str(course_key))
                      .order_by(CohortUpload.id.desc()).limit(limit)).all()
    return [{
        "task_type": "cohort_students",
        "task_input": {"file_name": upload.file_name},
        "task_id": upload.task_id,
        "requester": username,
        "task_state": upload.task_state,
        "created": upload.created,
        "task_output": upload_progress(upload),
        "error": upload.error,
        "report_available": upload.report is not None,
    } for upload, username in rows]


def upload_report(db, course_key, task_id):
    """The results report (CSV text) of an upload of the course, or None."""
    return db.scalar(select(CohortUpload.report).where(
        CohortUpload.course_key == str(course_key), CohortUpload.task_id == task_id))
