"""``POST /api/bulk_enroll/v1/bulk_enroll`` (upstream ``bulk_enroll.views.BulkEnrollView``,
which runs the instructor dashboard's ``students_update_enrollment`` for each course).

Global staff enroll or unenroll many people, named by username or email, in several
courses at once. A person is found by email or username; an email nobody has registered
becomes an allowed enrollment (``auto_enroll``: applied at registration, see
:func:`plugins.enrollment.api.apply_allowed_enrollments`). Each identifier's answer holds
its state before and after: has an account (``user``), is enrolled (``enrollment``), has
an allowed enrollment (``allowed``) and whether that one auto-enrolls (``auto_enroll``).
Emails leave only once the request commits.
"""
import logging

from lms import mail, permissions, throttle
from lms.auth import BEARER_STRICT, JWT
from lms.errors import APIError, not_found
from lms.keys import parse_course_key
from lms.models import User
from lms.request import FormData, request_data
from lms.service import Service
from lms.users import find_by_identity, is_plausible_email
from plugins.accounts import api as accounts
from plugins.courses import api as courses
from plugins.enrollment import api, models
from plugins.enrollment.schemas_bulk_enroll import (BULK_ENROLL_ANSWER, BULK_ENROLL_ERRORS,
                                                    BulkEnrollBody, validated_body)

log = logging.getLogger(__name__)

bulk_enroll = Service("enrollment.bulk_enroll", "/api/bulk_enroll/v1/bulk_enroll",
                      auth=(JWT, BEARER_STRICT))

# What ``students_update_enrollment`` reads as true in its own copy of the body.
RAW_TRUE = ("true", "True", True)
MESSAGES = {
    "enrolled_enroll": ("You have been enrolled in {course_name}",
                        "{staff} enrolled you in {course_name}.\n\n"
                        "Open the course: {course_url}\n"),
    "allowed_enroll": ("You have been invited to register for {course_name}",
                       "{staff} invited you to join {course_name}.\n\n"
                       "Register at {register_url} with this email address, {email}, "
                       "{then}\n"),
    "enrolled_unenroll": ("You have been unenrolled from {course_name}",
                          "{staff} removed you from {course_name}.\n"),
    "allowed_unenroll": ("You have been unenrolled from {course_name}",
                         "{staff} withdrew your invitation to {course_name}.\n"),
}


def split_identifiers(text):
    """Upstream's ``_split_input_list``: commas, spaces and new lines separate items."""
    return [item for item in text.replace(",", " ").split() if item]


def raw_flag(data, name):
    value = data.get(name, False) if isinstance(data, dict) else False
    return value in RAW_TRUE


class Person:
    """Who an identifier names: a user (found by email, then username), or an email."""

    def __init__(self, db, identifier):
        self.user = None
        self.ambiguous = False
        by_email = find_by_identity(db, User.email, identifier)
        by_username = find_by_identity(db, User.username, identifier)
        if by_email is not None and by_username is not None and by_email.id != by_username.id:
            self.ambiguous = True  # upstream's MultipleObjectsReturned
        self.user = by_email or by_username
        self.email = self.user.email if self.user is not None else identifier


class Recorder:
    """One course's changes: the state of a person before and after, and the mail due."""

    def __init__(self, request, course, auto_enroll, email_students):
        self.request = request
        self.db = request.dbsession
        self.course = course
        self.course_key = course.course_key
        self.auto_enroll = auto_enroll
        self.email_students = email_students
        self.outbox = []

    def state(self, person):
        """Upstream ``EmailEnrollmentState``: the person's standing in the course now."""
        allowed_row = api.get_allowed_enrollment(self.db, person.email, self.course_key)
        enrolled = False
        if person.user is not None:
            row = api.get_enrollment_row(self.db, person.user.id, self.course_key)
            enrolled = row is not None and row.is_active
        return {
            "user": person.user is not None,
            "enrollment": enrolled,
            "allowed": allowed_row is not None,
            "auto_enroll": bool(allowed_row is not None and allowed_row.auto_enroll),
        }

    def enroll(self, person):
        before = self.state(person)
        if person.user is not None:
            row = api.get_enrollment_row(self.db, person.user.id, self.course_key)
            # An unenrolled learner comes back in the default mode, not the old one.
            mode = (row.mode if row is not None and row.is_active
                    else api.default_mode(self.db, self.course_key))
            api.enroll(self.db, person.user.id, self.course_key, mode=mode,
                       changed_by_id=self.request.user.id)
            self.notify("enrolled_enroll", person)
        elif not accounts.is_email_retired(self.db, self.request.registry.settings,
                                           person.email):
            api.allow_enrollment(self.db, person.email, self.course_key, self.auto_enroll)
            self.notify("allowed_enroll", person)
        return before, self.state(person)

    def unenroll(self, person):
        before = self.state(person)
        if before["enrollment"]:
            api.unenroll(self.db, person.user.id, self.course_key,
                         changed_by_id=self.request.user.id)
            self.notify("enrolled_unenroll", person)
        if before["allowed"]:
            api.disallow_enrollment(self.db, person.email, self.course_key)
            self.notify("allowed_unenroll", person)
        return before, self.state(person)

    def notify(self, message, person):
        if self.email_students:
            self.outbox.append((message, person.email))

    def send(self):
        base_url = self.request.registry.settings.get("lms.base_url", "").rstrip("/")
        staff = self.request.user.name or self.request.user.username
        for message, email in self.outbox:
            subject, text = MESSAGES[message]
            values = {
                "course_name": self.course.display_name or self.course_key,
                "course_url": f"{base_url}/courses/{self.course_key}/about",
                "register_url": f"{base_url}/register",
                "email": email,
                "staff": staff,
                "then": ("and you will be enrolled in the course."
                         if self.auto_enroll else "then enroll in the course."),
            }
            mail.send_mail(self.request, email, subject.format(**values),
                           text.format(**values))
        self.outbox = []


def state_transition(action, before, after):
    """The ``ManualEnrollmentAudit`` transition ``students_update_enrollment`` records."""
    if action == "enroll":
        if before["user"]:
            if before["enrollment"]:
                return models.ENROLLED_TO_ENROLLED
            if before["allowed"]:
                return models.ALLOWEDTOENROLL_TO_ENROLLED
            return models.UNENROLLED_TO_ENROLLED
        if after["allowed"]:
            return models.UNENROLLED_TO_ALLOWEDTOENROLL
        return models.DEFAULT_TRANSITION_STATE
    if before["enrollment"]:
        return models.ENROLLED_TO_UNENROLLED
    if before["allowed"]:
        return models.ALLOWEDTOENROLL_TO_UNENROLLED
    return models.UNENROLLED_TO_UNENROLLED


def update_course(request, course, action, identifiers, auto_enroll, email_students,
                  found_people, reason=None):
    """``students_update_enrollment`` for one course: ``{"action", "results", "auto_enroll"}``.

    ``found_people``: the :class:`Person` of each identifier already looked up (filled in
    here, so several courses look each identifier up once)."""
    recorder = Recorder(request, course, auto_enroll, email_students)
    db = request.dbsession
    results = []
    people = {}
    for identifier in identifiers:
        person = found_people.get(identifier)
        if person is None:
            person = found_people[identifier] = Person(db, identifier)
        if person.ambiguous:
            results.append({"identifier": identifier, "error": True})
            continue
        if person.user is None and not is_plausible_email(person.email):
            results.append({"identifier": identifier, "invalidIdentifier": True})
            continue
        try:
            # One identifier's failure leaves the others' changes in place (upstream
            # answers it as an error and carries on).
            with db.begin_nested():
                if action == "enroll":
                    before, after = recorder.enroll(person)
                else:
                    before, after = recorder.unenroll(person)
        except Exception:  # noqa: BLE001 - reported per identifier, as upstream does
            log.exception("bulk %s of %r in %s failed", action, identifier, course.course_key)
            recorder.outbox = [item for item in recorder.outbox if item[1] != person.email]
            results.append({"identifier": identifier, "error": True})
            continue
        people[identifier] = person
        enrollment = (api.get_enrollment_row(db, person.user.id, course.course_key)
                      if person.user is not None else None)
        api.record_manual_enrollment(db, request.user.id, person.email,
                                     state_transition(action, before, after), reason,
                                     enrollment)
        results.append({"identifier": identifier, "before": before, "after": after})
    recorder.send()
    return {"action": action, "results": results, "auto_enroll": auto_enroll}, people


def assign_cohort(request, course_key, cohort_name, answer, people):
    """Put everyone enrolled or allowed into the cohort (an unregistered email is
    pre-assigned); their results gain ``before.cohort`` (the previous cohort or None)
    and ``after.cohort``."""
    from plugins.enrollment import cohorts

    cohort = cohorts.get_cohort_by_name(request.dbsession, course_key, cohort_name)
    for result in answer["results"]:
        after = result.get("after")
        if not after or not (after["enrollment"] or after["allowed"]):
            continue
        person = people[result["identifier"]]
        identifier = person.user.username if person.user is not None else person.email
        try:
            _user, previous, _preassigned = cohorts.add_user_to_cohort(
                request.dbsession, cohort, identifier)
        except cohorts.AlreadyInCohort:
            previous = cohort_name
        result["before"]["cohort"] = previous or None
        after["cohort"] = cohort_name


def check_cohorts(db, course_keys, cohort_names):
    from plugins.enrollment import cohorts

    for course_key, cohort_name in zip(course_keys, cohort_names):
        if not cohorts.cohort_exists(db, course_key, cohort_name):
            raise APIError(400, {"non_field_errors": [
                f"cohort {cohort_name} not found in course {course_key}."]})


@bulk_enroll.post(body=BulkEnrollBody(),
                  responses={200: BULK_ENROLL_ANSWER,
                             400: BULK_ENROLL_ERRORS,
                             403: "The caller is not global staff.",
                             404: "A course does not exist.",
                             429: "Too many requests."})
def post_bulk_enroll(request):
    """Enroll or unenroll people, by username or email, in several courses.

    Global staff only (JWT or OAuth2 Bearer token). ``identifiers``: usernames and
    emails separated by commas, spaces or new lines; ``courses``: comma-separated
    course keys; ``action``: ``enroll`` or ``unenroll``; ``auto_enroll``: unregistered
    emails are enrolled when they register; ``email_students``: tell each learner;
    ``cohorts``: one cohort name per course, learners enrolled are put in it. Answers
    each identifier's state before and after, per course; ``invalidIdentifier`` for
    an unknown username or a malformed email.
    """
    permissions.require(permissions.is_staff(request.user))
    # The enrollment API's staff throttle (upstream EnrollmentUserThrottle), one counter.
    rate = request.registry["enrollment.throttle_rates"]["staff"]
    throttle.enforce(request, "enrollment.staff", str(request.user.id), rate)
    data = request_data(request)
    body = validated_body(data)
    raw = data if isinstance(data, (dict, FormData)) else {}
    db = request.dbsession
    course_ids = body["courses"]
    course_keys = [parse_course_key(course_id) for course_id in course_ids]
    cohort_names = body.get("cohorts") or []
    if cohort_names:
        check_cohorts(db, course_keys, cohort_names)
    found = {}
    for course_key in course_keys:
        course = courses.get_course(db, course_key)
        if course is None:
            raise not_found()  # upstream's get_course_by_id: 404 before any change
        found[str(course_key)] = course
    identifiers = split_identifiers(str(body["identifiers"]))
    # The per-course flags are upstream's second reading of the raw body.
    auto_enroll, email_students = raw_flag(raw, "auto_enroll"), raw_flag(raw, "email_students")
    answer = {"auto_enroll": body["auto_enroll"], "email_students": body["email_students"],
              "action": body["action"], "courses": {}}
    # Upstream's ``request.POST.get('reason')``: kept on the manual enrollment audit.
    reason = raw.get("reason") if isinstance(raw.get("reason"), str) else None
    found_people = {}
    for index, (course_id, course_key) in enumerate(zip(course_ids, course_keys)):
        course_answer, people = update_course(request, found[str(course_key)], body["action"],
                                              identifiers, auto_enroll, email_students,
                                              found_people, reason)
        cohort_name = cohort_names[index] if index < len(cohort_names) else None
        if cohort_name:
            assign_cohort(request, course_key, cohort_name, course_answer, people)
        answer["courses"][course_id] = course_answer
    return answer
