"""Background tasks of the enrollment plugin.

``enrollment.cohort_students`` applies an uploaded cohort CSV (upstream's
``cohort_students`` instructor task, ``cohort_students_and_upload``): each row puts the
person named by its ``email`` (else ``username``) in the cohort named by ``cohort``.
Rows are applied in batches, each batch committed with the task's progress, so staff
see it move while a large file runs; the results report (a CSV, one line per cohort
named) is kept on the upload row when it ends.
"""
import copy
import csv
import io
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.tasks import task, task_session
from lms.models import User
from lms.timeutil import utcnow
from lms.users import is_storable_text
from plugins.enrollment import cohorts
from plugins.enrollment.models import CohortMembership, CohortUpload

log = logging.getLogger(__name__)

BATCH_ROWS = 500
REPORT_HEADER = ["Cohort Name", "Exists", "Learners Added", "Learners Not Found",
                 "Invalid Email Addresses", "Preassigned Learners"]
# A report cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def read_rows(data):
    """The CSV's rows as dicts (the header checked when it was uploaded)."""
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def safe_cell(value):
    """Neutralise a value a spreadsheet would run as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def report_csv(statuses):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_HEADER)
    for status in statuses.values():
        writer.writerow([
            safe_cell(status["name"]),
            status["exists"],
            status["added"],
            ",".join(safe_cell(v) for v in sorted(status["not_found"])),
            ",".join(safe_cell(v) for v in sorted(status["invalid"])),
            ",".join(safe_cell(v) for v in sorted(status["preassigned"])),
        ])
    return out.getvalue()


def row_values(row):
    """``(identifier, cohort name)`` of a row: its email, else its username."""
    identifier = (row.get("email") or row.get("username") or "").strip()
    return identifier, row.get("cohort") or ""


def cohort_status(db, upload, statuses, cohort_name):
    status = statuses.get(cohort_name)
    if status is None:
        cohort = (cohorts.get_cohort_by_name(db, upload.course_key, cohort_name)
                  if is_storable_text(cohort_name, 255) else None)
        status = statuses[cohort_name] = {
            "name": cohort_name, "exists": cohort is not None,
            "cohort_id": cohort.id if cohort is not None else None,
            "added": 0, "not_found": set(), "invalid": set(), "preassigned": set()}
    return status


def record_outcome(upload, status, identifier, outcome):
    if outcome == "added":
        status["added"] += 1
        upload.succeeded += 1
    elif outcome == "skipped":
        upload.skipped += 1
    elif outcome == "preassigned":
        status["preassigned"].add(identifier)
        upload.preassigned += 1
    else:  # "not_found", "invalid"
        status[outcome].add(identifier)
        upload.failed += 1


def unmatched_outcome(db, cohort, identifier):
    """A value that names no account: pre-assigned when it is an email."""
    if cohorts.is_valid_email(identifier):
        cohorts.preassign(db, cohort, identifier)
        return "preassigned"
    return "invalid" if "@" in identifier else "not_found"


def apply_row(db, upload, statuses, row):
    """One row through the race-safe path (upstream's rules: unknown cohort failed,
    already in it skipped)."""
    identifier, cohort_name = row_values(row)
    upload.attempted += 1
    status = cohort_status(db, upload, statuses, cohort_name)
    cohort = db.get(cohorts.Cohort, status["cohort_id"]) if status["exists"] else None
    if cohort is None:
        status["exists"] = False
        upload.failed += 1
        return
    try:
        _, _, preassigned = cohorts.add_user_to_cohort(db, cohort, identifier)
    except cohorts.UnknownUser:
        outcome = "not_found"
    except cohorts.InvalidEmail:
        outcome = "invalid"
    except cohorts.AlreadyInCohort:
        outcome = "skipped"
    else:
        outcome = "preassigned" if preassigned else "added"
    record_outcome(upload, status, identifier, outcome)


def _matching(db, column, values):
    """``{lower-cased value: [users]}`` of the accounts whose ``column`` matches one of
    ``values`` ignoring case (one query on the ``lower()`` index)."""
    found = {}
    wanted = sorted({v.lower() for v in values if is_storable_text(v, 254) and v})
    if wanted:
        for user in db.scalars(select(User).where(func.lower(column).in_(wanted))):
            found.setdefault(getattr(user, column.key).lower(), []).append(user)
    return found


def _pick(matches, column, value):
    """:func:`lms.users.find_by_identity`'s choice: the exact match, else the only one."""
    candidates = matches.get(value.lower(), [])
    exact = [user for user in candidates if getattr(user, column.key) == value]
    if exact:
        return exact[0]
    return candidates[0] if len(candidates) == 1 else None


def apply_batch(db, upload, statuses, rows):
    """Many rows at once: their accounts and memberships read in three queries, the
    changes flushed together. A membership a concurrent request adds meanwhile makes
    the flush fail (IntegrityError): the caller then replays the batch row by row."""
    values = [row_values(row) for row in rows]
    identifiers = [identifier for identifier, _ in values]
    by_username = _matching(db, User.username, identifiers)
    by_email = _matching(db, User.email, [i for i in identifiers if "@" in i])
    resolved = {}
    for identifier in set(identifiers):
        user = _pick(by_username, User.username, identifier)
        if user is None and "@" in identifier:
            user = _pick(by_email, User.email, identifier)
        resolved[identifier] = user
    user_ids = sorted({user.id for user in resolved.values() if user is not None})
    memberships = {}
    if user_ids:
        memberships = {m.user_id: m for m in db.scalars(
            select(CohortMembership).where(CohortMembership.course_key == upload.course_key,
                                           CohortMembership.user_id.in_(user_ids))
            .with_for_update())}
    named = {name for _, name in values if is_storable_text(name, 255)}
    batch_cohorts = {cohort.name: cohort for cohort in db.scalars(
        select(cohorts.Cohort).where(cohorts.Cohort.course_key == upload.course_key,
                                     cohorts.Cohort.name.in_(named)))}
    with db.no_autoflush:
        for identifier, cohort_name in values:
            apply_resolved(db, upload, statuses, memberships, batch_cohorts, cohort_name,
                           identifier, resolved[identifier])
    db.flush()


def apply_resolved(db, upload, statuses, memberships, batch_cohorts, cohort_name, identifier,
                   user):
    upload.attempted += 1
    status = statuses.get(cohort_name)
    cohort = batch_cohorts.get(cohort_name)
    if status is None:
        status = statuses[cohort_name] = {
            "name": cohort_name, "exists": cohort is not None,
            "cohort_id": cohort.id if cohort is not None else None,
            "added": 0, "not_found": set(), "invalid": set(), "preassigned": set()}
    if not status["exists"] or cohort is None or cohort.id != status["cohort_id"]:
        # Unknown when the file was first read (or deleted, renamed since): failed.
        status["exists"] = False
        upload.failed += 1
        return
    if user is None:
        outcome = unmatched_outcome(db, cohort, identifier)
    else:
        membership = memberships.get(user.id)
        if membership is None:
            membership = memberships[user.id] = CohortMembership(
                cohort_id=cohort.id, user_id=user.id, course_key=upload.course_key)
            db.add(membership)
            outcome = "added"
        elif membership.cohort_id == cohort.id:
            outcome = "skipped"
        else:
            membership.cohort_id = cohort.id
            outcome = "added"
    record_outcome(upload, status, identifier, outcome)


def _load(db, upload_id):
    return db.scalar(select(CohortUpload).where(CohortUpload.id == upload_id))


@task(name="enrollment.cohort_students")
def cohort_students(self, upload_id):
    """Apply the cohort CSV of upload ``upload_id``, committing every ``BATCH_ROWS``
    rows with the progress; the results report is stored at the end."""
    with task_session(self) as db:
        upload = _load(db, upload_id)
        if upload is None or upload.task_state in ("SUCCESS", "FAILURE"):
            return None
        try:
            rows = read_rows(upload.content or b"")
        except (UnicodeDecodeError, csv.Error) as exc:
            upload.task_state, upload.error, upload.updated = "FAILURE", str(exc), utcnow()
            return None
        upload.total, upload.task_state, upload.step = len(rows), "PROGRESS", "Cohorting Students"
        upload.updated = utcnow()
    statuses = {}
    try:
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start:start + BATCH_ROWS]
            before = copy.deepcopy(statuses)
            try:
                with task_session(self) as db:
                    upload = _load(db, upload_id)
                    apply_batch(db, upload, statuses, batch)
                    upload.updated = utcnow()
            except IntegrityError:
                # A concurrent change to one of these memberships: replay the batch
                # row by row, each row race-safe on its own.
                statuses = before
                with task_session(self) as db:
                    upload = _load(db, upload_id)
                    for row in batch:
                        apply_row(db, upload, statuses, row)
                    upload.updated = utcnow()
    except Exception as exc:
        log.exception("cohort upload %s failed", upload_id)
        with task_session(self) as db:
            upload = _load(db, upload_id)
            upload.task_state, upload.error, upload.updated = "FAILURE", repr(exc), utcnow()
            upload.report = report_csv(statuses)
        raise
    with task_session(self) as db:
        upload = _load(db, upload_id)
        upload.step = "Uploading CSV"
        upload.report = report_csv(statuses)
        upload.content = None
        upload.task_state = "SUCCESS"
        upload.updated = utcnow()
        return cohorts.upload_progress(upload)

