"""The cohorts API, ``/api/cohorts/v1/`` (upstream ``course_groups.views`` and the
instructor API's ``CohortCSV``).

Every view: JWT, Bearer or session authentication (401 anonymous), then upstream's
``IsStaffOrAdmin``: global staff, or the course's own ``staff``/``instructor`` role
(403 otherwise); then the course must exist (404). Errors are
``{"developer_message", "error_code"}`` (``DeveloperErrorViewMixin``). The CSV upload
is global staff only (``IsAdminUser``) and runs as a background task.

Upstream routes ``cohorts/`` and ``cohorts/{id}`` to one view (and ``users/`` and
``users/{username}`` to another): the wrong one of each pair answers 405 with
upstream's ``error_code``, as upstream does.
"""
import csv
import io
import os

from sqlalchemy import select

from lms import pagination, permissions
from lms.auth import STANDARD_AUTH
from lms.errors import developer
from lms.keys import parse_course_key
from lms.models import User
from lms.openapi import NO_BODY, Body
from lms.request import MULTIPART, has_body, media_type, uploaded_files
from lms.responses import no_content
from lms.routing import COURSE_KEY
from lms.service import Service, colander_body_validator, colander_querystring_validator
from lms.tasks import send_after_commit
from plugins.courses import api as courses
from plugins.enrollment import cohort_schemas as doc
from plugins.enrollment import cohorts
from plugins.enrollment.cohort_schemas import (CohortBody, CohortListQuery,
                                               CohortSettingsBody, CohortUsersBody, PageQuery)
from plugins.enrollment.models import Cohort, CohortMembership, CohortUpload
from plugins.enrollment.tasks import cohort_students

PREFIX = "/api/cohorts/v1"
COHORT_ID = r"{cohort_id:[0-9]+}"
MAX_PAGE_SIZE = 100
CSV_MAX_BYTES = 2_000_000
CSV_FIELD = "uploaded-file"

STAFF_OR_ADMIN = {
    401: "No credentials.",
    403: Body(doc.API_ERROR, "Neither global staff nor the course's staff or instructor."),
    404: Body(doc.NOT_FOUND, "No such course (or cohort)."),
}
INVALID = {400: Body(doc.API_ERROR, "Invalid input (``error_code`` says which).")}
WRONG_ENDPOINT = {405: Body(doc.API_ERROR, "The other path of this view serves this method.")}

cohort_settings = Service("enrollment.cohort_settings", f"{PREFIX}/settings/{COURSE_KEY}",
                          auth=STANDARD_AUTH, errors="developer", responses=STAFF_OR_ADMIN)
cohort_list = Service("enrollment.cohort_list", f"{PREFIX}/courses/{COURSE_KEY}/cohorts/",
                      auth=STANDARD_AUTH, errors="developer", responses=STAFF_OR_ADMIN)
cohort_detail = Service("enrollment.cohort_detail",
                        f"{PREFIX}/courses/{COURSE_KEY}/cohorts/{COHORT_ID}",
                        auth=STANDARD_AUTH, errors="developer", responses=STAFF_OR_ADMIN)
cohort_users = Service("enrollment.cohort_users",
                       f"{PREFIX}/courses/{COURSE_KEY}/cohorts/{COHORT_ID}/users/",
                       auth=STANDARD_AUTH, errors="developer", responses=STAFF_OR_ADMIN)
cohort_user = Service("enrollment.cohort_user",
                      f"{PREFIX}/courses/{COURSE_KEY}/cohorts/{COHORT_ID}/users/{{username:.+}}",
                      auth=STANDARD_AUTH, errors="developer", responses=STAFF_OR_ADMIN)
cohort_csv = Service("enrollment.cohort_csv", f"{PREFIX}/courses/{COURSE_KEY}/users",
                     auth=STANDARD_AUTH, errors="developer",
                     responses={401: "No credentials.",
                                403: Body(doc.API_ERROR, "Not global staff.")})


# -- access ------------------------------------------------------------------------------

def course_key_of(request):
    key = parse_course_key(request.matchdict["course_key_string"])
    if key is None:
        raise developer(400, f"Invalid course key: {request.matchdict['course_key_string']}",
                        "invalid-course-key")
    return key


def staff_or_admin(request, **kwargs):
    """Upstream ``IsStaffOrAdmin`` (a validator: it runs before the body is read).

    Discussion moderators may read too upstream; openlms keeps no forum roles yet."""
    user = request.user
    allowed = permissions.is_staff(user) or permissions.is_superuser(user)
    if not allowed:
        key = parse_course_key(request.matchdict["course_key_string"])
        allowed = key is not None and permissions.has_course_role(
            request.dbsession, user, key, ("instructor", "staff"), include_org=False)
    permissions.require(allowed, "developer")


def global_staff(request, **kwargs):
    """Upstream ``IsAdminUser``."""
    permissions.require(permissions.is_staff(request.user), "developer")


def course_with_staff_access(request):
    """``get_course_with_access(user, 'staff')``: the course key, or 404."""
    key = course_key_of(request)
    if courses.get_course(request.dbsession, key) is None:
        raise developer(404, f"Course not found: {key}.")
    if not permissions.has_course_staff_access(request.dbsession, request.user, key):
        raise developer(404, "Course not found.")
    return key


def cohort_id_of(request):
    value = int(request.matchdict["cohort_id"])
    return value if value < 2**31 else 0


def cohort_or_404(request, key, message=None, error_code=None):
    cohort = cohorts.get_cohort(request.dbsession, key, cohort_id_of(request))
    if cohort is None:
        # Upstream lets Django's DoesNotExist through the mixin (its text), or names it.
        raise developer(404, message or "CourseUserGroup matching query does not exist.",
                        error_code)
    return cohort


def cohort_representation(request, cohort, user_count=None):
    if user_count is None:
        user_count = request.dbsession.scalar(
            select(cohorts.user_count_column(cohort.course_key)).select_from(Cohort)
            .where(Cohort.id == cohort.id))
    return {
        "name": cohort.name,
        "id": cohort.id,
        "user_count": user_count,
        "assignment_type": cohort.assignment_type,
        "user_partition_id": cohort.user_partition_id,
        "group_id": cohort.group_id,
    }


# -- settings/{course} ---------------------------------------------------------------------

def settings_body(row):
    return {"id": row.id, "is_cohorted": row.is_cohorted}


@cohort_settings.get(validators=(staff_or_admin,), responses={200: doc.COHORT_SETTINGS})
def get_cohort_settings(request):
    """Whether the course is cohorted (and the id of its settings)."""
    key = course_with_staff_access(request)
    return settings_body(cohorts.get_settings(request.dbsession, key))


@cohort_settings.put(schema=CohortSettingsBody(),
                     validators=(staff_or_admin, colander_body_validator),
                     responses={200: doc.COHORT_SETTINGS, **INVALID})
def put_cohort_settings(request):
    """Turn cohorts on or off for the course (``{"is_cohorted": true}``)."""
    key = course_with_staff_access(request)
    if "is_cohorted" not in request.validated:
        raise developer(400, 'Missing field "is_cohorted".')
    try:
        row = cohorts.set_course_cohorted(request.dbsession, key,
                                          request.validated["is_cohorted"])
    except ValueError as exc:
        raise developer(400, str(exc))
    return settings_body(row)


# -- courses/{course}/cohorts/ and cohorts/{id} ------------------------------------------------

@cohort_list.get(schema=CohortListQuery(),
                 validators=(staff_or_admin, colander_querystring_validator),
                 responses={200: doc.COHORT_LIST, **INVALID})
def get_cohort_list(request):
    """One page of the course's cohorts by name, as a bare array.

    ``?ordering=asc|desc`` (by name), ``page`` and ``page_size`` (10 by default, at
    most 100); upstream answers no paging metadata, so ask for a page size."""
    key = course_with_staff_access(request)
    ordering = request.validated.get("ordering", "asc").lower()
    if ordering not in ("asc", "desc"):
        raise developer(400, 'Invalid ordering value. Must be "asc" or "desc".',
                        "invalid-ordering-value")
    cohorts.get_settings(request.dbsession, key)  # creates the course's auto cohorts
    stmt = cohorts.cohorts_query(key, ordering).add_columns(
        cohorts.user_count_column(key).label("user_count"))
    page = pagination.page_number(
        request, stmt,
        lambda rows: [cohort_representation(request, cohort, count) for cohort, count in rows],
        max_size=MAX_PAGE_SIZE, namespaced=True,
        invalid_page_body={"developer_message": "Invalid page."})
    return page["results"]


@cohort_list.post(schema=CohortBody(), validators=(staff_or_admin, colander_body_validator),
                  responses={200: doc.COHORT, **INVALID})
def post_cohort_list(request):
    """Create a cohort: ``name``, ``assignment_type`` (``manual`` or ``random``), and
    optionally the content group (``user_partition_id`` and ``group_id``)."""
    key = course_with_staff_access(request)
    name = request.validated.get("name")
    if not name:
        raise developer(400, '"name" must be specified to create cohort.',
                        "missing-cohort-name")
    assignment_type = request.validated.get("assignment_type")
    if not assignment_type:
        raise developer(400, '"assignment_type" must be specified to create cohort.',
                        "missing-assignment-type")
    try:
        cohort = cohorts.add_cohort(request.dbsession, key, name, assignment_type)
    except cohorts.DuplicateCohortName as exc:
        # Upstream lets this ValueError through (a 500); the message is its own.
        raise developer(400, str(exc), "cohort-name-exists")
    group_id = request.validated.get("group_id")
    partition_id = request.validated.get("user_partition_id")
    if group_id is not None or partition_id is not None:
        update_content_group(request, cohort, group_id, partition_id)
    return cohort_representation(request, cohort, 0)


@cohort_list.patch(schema=CohortBody(), validators=(staff_or_admin, colander_body_validator),
                   responses={204: None, 200: None, **WRONG_ENDPOINT})
def patch_cohort_list(request):
    """Not served here: a cohort is changed at ``cohorts/{id}`` (405)."""
    raise developer(405, "Request method requires cohort_id in path", "missing-cohort-id")


def update_content_group(request, cohort, group_id, partition_id):
    if group_id is not None:
        if partition_id is None:
            raise developer(400, "If group_id is specified, user_partition_id must also be "
                                 "specified.", "missing-user-partition-id")
        cohorts.link_content_group(request.dbsession, cohort, partition_id, group_id)
    elif cohort.group_id is not None:
        cohorts.link_content_group(request.dbsession, cohort, None, None)


@cohort_detail.get(validators=(staff_or_admin,), responses={200: doc.COHORT})
def get_cohort_detail(request):
    """One cohort of the course."""
    key = course_with_staff_access(request)
    return cohort_representation(request, cohort_or_404(request, key))


@cohort_detail.post(schema=CohortBody(), validators=(staff_or_admin, colander_body_validator),
                    responses={200: None, **WRONG_ENDPOINT})
def post_cohort_detail(request):
    """Not served here: cohorts are created at ``cohorts/`` (405)."""
    raise developer(405, "Please use the parent endpoint.", "wrong-endpoint")


@cohort_detail.patch(schema=CohortBody(), validators=(staff_or_admin, colander_body_validator),
                     responses={204: NO_BODY, **INVALID})
def patch_cohort_detail(request):
    """Rename a cohort, change how learners join it, or (un)link its content group
    (``group_id: null`` unlinks); 204."""
    name = request.validated.get("name")
    assignment_type = request.validated.get("assignment_type")
    has_group_id = "group_id" in request.validated
    if not any((name, assignment_type, has_group_id)):
        raise developer(400, "Request must include name, assignment_type, and/or group_id.",
                        "missing-fields")
    key = course_with_staff_access(request)
    cohort = cohort_or_404(request, key)
    db = request.dbsession
    if name:
        try:
            cohorts.rename_cohort(db, cohort, name)
        except cohorts.DuplicateCohortName as exc:
            raise developer(400, str(exc), "cohort-name-exists")
    if assignment_type:
        try:
            cohorts.set_assignment_type(db, cohort, assignment_type)
        except cohorts.LastRandomCohort as exc:
            raise developer(400, str(exc), "last-random-cohort")
    if has_group_id:
        update_content_group(request, cohort, request.validated["group_id"],
                             request.validated.get("user_partition_id"))
    return no_content()


# -- cohorts/{id}/users/ and users/{username} --------------------------------------------------

def course_and_cohort(request):
    key = course_with_staff_access(request)
    cohort = cohort_or_404(
        request, key,
        f"Cohort (ID {request.matchdict['cohort_id']}) not found for "
        f"{request.matchdict['course_key_string']}", "cohort-not-found")
    return key, cohort


def list_cohort_users(request):
    _, cohort = course_and_cohort(request)
    stmt = (select(User).join(CohortMembership, CohortMembership.user_id == User.id)
            .where(CohortMembership.cohort_id == cohort.id).order_by(User.id))
    return pagination.page_number(
        request, stmt,
        lambda rows: [{"username": user.username, "email": user.email, "name": user.name}
                      for user, in rows],
        max_size=MAX_PAGE_SIZE, invalid_page_body={"developer_message": "Invalid page."})


def add_cohort_users(request, username=None):
    _, cohort = course_and_cohort(request)
    identifiers = request.validated.get("users")
    if not identifiers:
        if username is None:
            raise developer(400, "Missing users key in payload", "missing-users")
        identifiers = [username]
    added, changed, present, unknown, preassigned, invalid = [], [], [], [], [], []
    for value in identifiers:
        if not value:
            continue
        try:
            user, previous, was_preassigned = cohorts.add_user_to_cohort(
                request.dbsession, cohort, value)
        except cohorts.UnknownUser:
            unknown.append(value)
        except cohorts.InvalidEmail:
            invalid.append(value)
        except cohorts.AlreadyInCohort:
            present.append(value)
        else:
            if was_preassigned:
                preassigned.append(value)
            elif previous:
                changed.append({"email": user.email, "previous_cohort": previous,
                                "username": user.username})
            else:
                added.append({"username": user.username, "email": user.email})
    return {"success": True, "added": added, "changed": changed, "present": present,
            "unknown": unknown, "preassigned": preassigned, "invalid": invalid}


@cohort_users.get(schema=PageQuery(), validators=(staff_or_admin, colander_querystring_validator),
                  responses={200: doc.COHORT_USERS_PAGE, 405: Body(
                      doc.API_ERROR, "A path whose course key swallows ``cohorts/{id}`` is "
                                     "the CSV upload's, which serves POST only.")})
def get_cohort_users(request):
    """The cohort's members (``username``, ``email``, ``name``), 10 a page (at most 100)."""
    return list_cohort_users(request)


@cohort_users.post(schema=CohortUsersBody(),
                   validators=(staff_or_admin, colander_body_validator),
                   responses={200: doc.ADD_USERS_RESULT, **INVALID})
def post_cohort_users(request):
    """Add people to the cohort by username or email: ``{"users": [...]}``.

    Learners in another cohort of the course are moved (``changed``); unknown
    emails are pre-assigned, applied when that person enrolls."""
    return add_cohort_users(request)


@cohort_users.delete(validators=(staff_or_admin,), responses={204: None, **WRONG_ENDPOINT})
def delete_cohort_users(request):
    """Not served here: name the user, ``users/{username}`` (405)."""
    raise developer(405, "Missing username in path", "missing-username")


@cohort_user.get(schema=PageQuery(), validators=(staff_or_admin, colander_querystring_validator),
                 responses={200: doc.COHORT_USERS_PAGE})
def get_cohort_user(request):
    """The cohort's members, as ``users/`` (upstream's view ignores the username)."""
    return list_cohort_users(request)


@cohort_user.post(schema=CohortUsersBody(), validators=(staff_or_admin, colander_body_validator),
                  responses={200: doc.ADD_USERS_RESULT, **INVALID})
def post_cohort_user(request):
    """Add the user named in the path (or those of a ``users`` list) to the cohort."""
    return add_cohort_users(request, request.matchdict["username"])


@cohort_user.delete(validators=(staff_or_admin,),
                    responses={204: NO_BODY, **INVALID,
                               404: Body(doc.NOT_FOUND, "No such course, cohort or user.")})
def delete_cohort_user(request):
    """Take the user out of the cohort (204)."""
    key, cohort = course_and_cohort(request)
    try:
        cohorts.remove_user(request.dbsession, key, request.matchdict["username"], cohort.id)
    except cohorts.UnknownUser:
        raise developer(404, "User does not exist.", "user-not-found")
    except cohorts.CohortNotFound:
        raise developer(400, "User not assigned to the given cohort.", "user-not-in-cohort")
    return no_content()


# -- courses/{course}/users: the CSV upload ---------------------------------------------------

def failed_validation(message):
    return developer(400, message, "failed-validation")


def read_upload(request):
    """The uploaded CSV's ``(file name, bytes)``; upstream's ``store_uploaded_file``
    and ``_cohorts_csv_validator`` checks, each a 400 ``failed-validation``."""
    field = None
    if has_body(request) and media_type(request) == MULTIPART:
        field = uploaded_files(request).get(CSV_FIELD)
    if field is None or isinstance(field, str):
        raise failed_validation(f"No file uploaded with key '{CSV_FIELD}'.")
    file_name = os.path.basename(field.filename or "")
    if os.path.splitext(file_name)[1].lower() != ".csv":
        # Upstream raises Django's PermissionDenied here (an HTML 403 page).
        raise failed_validation("The file must end with the extension '.csv'.")
    data = field.file.read(CSV_MAX_BYTES + 1)
    if len(data) > CSV_MAX_BYTES:
        raise failed_validation(f"Maximum upload file size is {CSV_MAX_BYTES} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise failed_validation(str(exc))
    try:
        fieldnames = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise failed_validation(f"The file is not a valid CSV file: {exc}")
    if "cohort" not in fieldnames:
        raise failed_validation("The file must contain a 'cohort' column containing cohort "
                                "names.")
    if "email" not in fieldnames and "username" not in fieldnames:
        raise failed_validation("The file must contain a 'username' column, an 'email' "
                                "column, or both.")
    return file_name[:255], data


@cohort_csv.post(validators=(global_staff,),
                 body=Body({"type": "object", "properties": {
                     CSV_FIELD: {"type": "string", "format": "binary"}}},
                     "A CSV with a ``cohort`` column and a ``username`` and/or ``email`` "
                     "column.", MULTIPART),
                 responses={204: NO_BODY, 400: Body(doc.API_ERROR, "The file was refused "
                                                              "(``failed-validation``).")})
def post_cohort_csv(request):
    """Assign learners to cohorts from a CSV file (field ``uploaded-file``); 204.

    The rows are applied by a background task (upstream's ``cohort_students``
    instructor task): its progress and the results report (per cohort: whether it
    exists, learners added, not found, invalid emails, pre-assigned) are kept for
    course staff. Cohorts named in the file are not created."""
    key = course_key_of(request)
    file_name, data = read_upload(request)
    upload = cohorts_upload(request, key, file_name, data)
    send_after_commit(request, cohort_students, upload.id)
    return no_content()


def cohorts_upload(request, key, file_name, data):
    from uuid import uuid4

    upload = CohortUpload(task_id=str(uuid4()), course_key=str(key),
                          requester_id=request.user.id, file_name=file_name, content=data)
    request.dbsession.add(upload)
    request.dbsession.flush()
    return upload


# Upstream's pattern ``users?$``: the singular path reaches the same view.
cohort_csv_singular = cohort_csv.alias("enrollment.cohort_csv_singular",
                                       f"{PREFIX}/courses/{COURSE_KEY}/user")
