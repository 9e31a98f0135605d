"""The experiments API, ``/api/experiments/v0/`` (upstream ``lms/djangoapps/experiments``).

- ``data/``: values a learner's browser stores for experiments. Every
  operation sees only the caller's own rows, staff included (others' rows are
  404); staff may *create* rows for another user by naming them in ``user``.
- ``key-value/``: site-wide values; anyone may read, staff write.
- ``custom/REV-934/`` and ``custom/userMetadata/...``: upgrade information
  computed from the course and enrollment hooks (see :mod:`.upsell`).
"""
from datetime import timezone

from pyramid.response import Response
from sqlalchemy import false, or_, select

from lms import pagination, permissions
from lms.auth import DEFAULT_AUTH, STANDARD_AUTH, ensure_csrf_cookie
from lms.errors import APIError, field_errors, not_found
from lms.keys import parse_course_key
from lms.models import User
from lms.openapi import Body
from lms.responses import no_content
from lms.routing import COURSE_ID, USERNAME
from lms.service import Service, colander_body_validator, colander_querystring_validator
from lms.timeutil import aware, isoformat, utcnow
from lms.users import get_by_username
from plugins.experiments import api, upsell
from plugins.experiments import openapi_schemas as doc
from plugins.experiments.models import EXPERIMENT_ID_MAX, ExperimentData, ExperimentKeyValue
from plugins.experiments.schemas import (
    DataBody, DataCreateBody, KeyValueBody, ListQuery, partial,
)

# Upstream: JwtAuthentication, then session auth that lets inactive users in.
data_list = Service("experiments.data_list", "/api/experiments/v0/data/", auth=DEFAULT_AUTH)
data_detail = Service("experiments.data_detail", "/api/experiments/v0/data/{id}/",
                      auth=DEFAULT_AUTH)
key_value_list = Service("experiments.key_value_list", "/api/experiments/v0/key-value/",
                         auth=DEFAULT_AUTH, anonymous=("GET",))
key_value_detail = Service("experiments.key_value_detail", "/api/experiments/v0/key-value/{id}/",
                           auth=DEFAULT_AUTH, anonymous=("GET",))
rev934 = Service("experiments.rev934", "/api/experiments/v0/custom/REV-934/",
                 auth=STANDARD_AUTH, errors="developer", api_key=True)
user_metadata = Service(
    "experiments.user_metadata",
    f"/api/experiments/v0/custom/userMetadata/{USERNAME},{COURSE_ID}",
    auth=DEFAULT_AUTH,
)

FIELDS = ("experiment_id", "key", "value")
MAX_ROW_ID = 2**31 - 1  # larger ids cannot exist (and would overflow the database)
MOBILE_UPSELL_EXPERIMENT = "mobile_upsell_experiment"


# -- shared helpers --------------------------------------------------------------

def serialize_data(row, username):
    return {
        "id": row.id,
        "experiment_id": row.experiment_id,
        "user": username,
        "key": row.key,
        "value": row.value,
        "created": isoformat(row.created),
        "modified": isoformat(row.modified),
    }


def serialize_key_value(row):
    return {
        "id": row.id,
        "experiment_id": row.experiment_id,
        "key": row.key,
        "value": row.value,
        "created": isoformat(row.created),
        "modified": isoformat(row.modified),
    }


def filtered(stmt, model, query):
    """Apply the ``experiment_id`` and ``key`` filters (exact matches, AND-ed)."""
    if "experiment_id" in query:
        experiment_id = query["experiment_id"]
        in_range = 0 <= experiment_id <= EXPERIMENT_ID_MAX
        stmt = stmt.where(model.experiment_id == experiment_id if in_range else false())
    if "key" in query:
        # No stored key holds NUL (and PostgreSQL refuses it in a query).
        stmt = stmt.where(model.key == query["key"] if "\x00" not in query["key"] else false())
    return stmt


def row_id(request):
    """The ``{id}`` of a detail URL; anything that cannot be a row id is a 404."""
    try:
        value = int(request.matchdict["id"])
    except ValueError:
        raise not_found()
    if not 0 < value <= MAX_ROW_ID:
        raise not_found()
    return value


def save(request, row):
    """Save the validated fields onto ``row``; a duplicate is DRF's 400."""
    fields = {name: request.validated[name] for name in FIELDS if name in request.validated}
    try:
        return api.save(request.dbsession, row, **fields)
    except api.NotUnique as exc:
        raise field_errors({"": str(exc)})


def staff_only(request, **kwargs):
    """Validator for key-value writes (``IsStaffOrReadOnly``), run before the body's."""
    permissions.require(permissions.is_staff(request.user))


# -- data/ -------------------------------------------------------------------------

def own_data(user_id):
    """The user's rows with the owner's username: one query for any number of rows."""
    return (select(ExperimentData, User.username)
            .join(User, User.id == ExperimentData.user_id)
            .where(ExperimentData.user_id == user_id)
            .order_by(ExperimentData.id))


def get_own_row(request):
    found = request.dbsession.execute(
        own_data(request.user.id).where(ExperimentData.id == row_id(request))).first()
    if found is None:
        raise not_found()
    return found


def row_owner(request):
    """The user a new row is for: the caller, unless staff name someone else in ``user``.

    Upstream lets a non-staff caller name another user through ``PUT data/``;
    we refuse it there as ``POST`` does.
    """
    username = request.validated.get("user", request.user.username)
    if username == request.user.username:
        return request.user
    permissions.require(permissions.is_staff(request.user))
    owner = get_by_username(request.dbsession, username)
    if owner is None:
        raise field_errors({"user": f"Object with username={username} does not exist."})
    return owner


@data_list.get(schema=ListQuery(), validators=(colander_querystring_validator,),
               responses={200: doc.DATA_PAGE, 404: "Invalid page."})
def get_data_list(request):
    """The caller's experiment data, oldest first (staff too see only their own)."""
    stmt = filtered(own_data(request.user.id), ExperimentData, request.validated)
    return pagination.page_number(
        request, stmt, lambda rows: [serialize_data(row, username) for row, username in rows])


@data_list.post(schema=DataCreateBody(), validators=(colander_body_validator,),
                responses={201: doc.DATA})
def post_data_list(request):
    """Store a value for the caller (staff may name another user in `user`)."""
    owner = row_owner(request)
    row = save(request, ExperimentData(user_id=owner.id))
    request.response.status_code = 201
    return serialize_data(row, owner.username)


@data_list.put(schema=DataCreateBody(), validators=(colander_body_validator,),
               responses={200: doc.DATA, 201: doc.DATA})
def put_data_list(request):
    """Upsert: update the caller's row with this experiment_id and key, else create one."""
    owner = row_owner(request)
    existing = request.dbsession.scalar(select(ExperimentData).where(
        ExperimentData.user_id == request.user.id,
        ExperimentData.experiment_id == request.validated["experiment_id"],
        ExperimentData.key == request.validated["key"]))
    if existing is not None:
        return serialize_data(save(request, existing), request.user.username)
    row = save(request, ExperimentData(user_id=owner.id))
    request.response.status_code = 201
    return serialize_data(row, owner.username)


@data_detail.get(responses={200: doc.DATA})
def get_data_detail(request):
    """One of the caller's rows (anyone else's is a 404)."""
    return serialize_data(*get_own_row(request))


@data_detail.put(schema=DataBody(), validators=(colander_body_validator,),
                 responses={200: doc.DATA})
def put_data_detail(request):
    """Replace one of the caller's rows."""
    row, username = get_own_row(request)
    return serialize_data(save(request, row), username)


@data_detail.patch(schema=partial(DataBody()), validators=(colander_body_validator,),
                   responses={200: doc.DATA})
def patch_data_detail(request):
    """Change some fields of one of the caller's rows."""
    row, username = get_own_row(request)
    return serialize_data(save(request, row), username)


@data_detail.delete(responses={204: "Deleted."})
def delete_data_detail(request):
    """Delete one of the caller's rows."""
    row, _ = get_own_row(request)
    request.dbsession.delete(row)
    return no_content()


# -- key-value/ ----------------------------------------------------------------------

def get_key_value(request):
    row = request.dbsession.get(ExperimentKeyValue, row_id(request))
    if row is None:
        raise not_found()
    return row


@key_value_list.get(schema=ListQuery(), validators=(colander_querystring_validator,),
                    responses={200: doc.KEY_VALUE_PAGE, 404: "Invalid page."})
def get_key_value_list(request):
    """Site-wide experiment values (anyone may read)."""
    # Paged on ids alone (a deferred join), so deep pages seek from page boundaries.
    keys = filtered(select(ExperimentKeyValue.id).order_by(ExperimentKeyValue.id),
                    ExperimentKeyValue, request.validated)
    return pagination.page_number(
        request, keys, lambda rows: [serialize_key_value(row) for row, in rows],
        rows=lambda page: (select(ExperimentKeyValue).where(ExperimentKeyValue.id.in_(page))
                           .order_by(ExperimentKeyValue.id)))


@key_value_list.post(schema=KeyValueBody(), validators=(staff_only, colander_body_validator),
                     responses={201: doc.KEY_VALUE})
def post_key_value_list(request):
    """Create a site-wide value (staff only)."""
    row = save(request, ExperimentKeyValue())
    request.response.status_code = 201
    return serialize_key_value(row)


@key_value_detail.get(responses={200: doc.KEY_VALUE})
def get_key_value_detail(request):
    """One site-wide value."""
    return serialize_key_value(get_key_value(request))


@key_value_detail.put(schema=KeyValueBody(), validators=(staff_only, colander_body_validator),
                      responses={200: doc.KEY_VALUE})
def put_key_value_detail(request):
    """Replace a site-wide value (staff only)."""
    return serialize_key_value(save(request, get_key_value(request)))


@key_value_detail.patch(schema=partial(KeyValueBody()),
                        validators=(staff_only, colander_body_validator),
                        responses={200: doc.KEY_VALUE})
def patch_key_value_detail(request):
    """Change some fields of a site-wide value (staff only)."""
    return serialize_key_value(save(request, get_key_value(request)))


@key_value_detail.delete(validators=(staff_only,), responses={204: "Deleted."})
def delete_key_value_detail(request):
    """Delete a site-wide value (staff only)."""
    request.dbsession.delete(get_key_value(request))
    return no_content()


# -- custom/REV-934/ -------------------------------------------------------------------

@rev934.get(query={"course_id": "The course whose upgrade is offered."},
            responses={200: doc.REV934, 404: "No such course.",
                       400: Body({"type": "string"}, "Missing or invalid course_id.",
                                 "text/html")})
def get_rev934(request):
    """Should the mobile app offer this learner the verified upgrade of ``?course_id=``?

    Upstream also sends an analytics event the first time it buckets a session;
    openlms has no analytics pipeline, so it only answers.
    """
    ensure_csrf_cookie(request)
    config = request.registry[upsell.REGISTRY_KEY]
    if not config.mobile_upsell_rev934:
        return {"show_upsell": False, "upsell_flag": False}
    course_key = parse_course_key(request.GET.get("course_id"))
    if course_key is None:
        # Upstream answers with Django's plain HttpResponseBadRequest here.
        return Response("Missing or invalid course_id", status=400,
                        content_type="text/html", charset="utf-8")
    course = upsell.get_course(request, course_key)
    if course is None:
        raise not_found("developer")
    now = utcnow()
    if not upsell.is_running(course, now):
        return {"show_upsell": False, "upsell_flag": True, "course_running": False}
    user = request.user  # None for a caller with the API key
    enrollment = upsell.get_enrollment(request, user.id, course_key) if user else None
    user_upsell = enrollment is None or upsell.can_show_verified_upgrade(enrollment, now)
    basket_url = upsell.upgrade_url(config, user, course, now)
    bucket = api.stable_bucket(MOBILE_UPSELL_EXPERIMENT, user.username, 2) if user else 0
    if bucket and user_upsell and basket_url:
        return {"show_upsell": True, "price": upsell.upgrade_price(config, course, now),
                "basket_url": basket_url}
    return {"show_upsell": False, "upsell_flag": True, "experiment_bucket": bucket,
            "user_upsell": user_upsell, "basket_url": basket_url}


# -- custom/userMetadata/{username},{course_id} -----------------------------------------

def user_by_username_or_email(db, value):
    matches = db.scalars(select(User).where(or_(User.username == value, User.email == value)))
    return min(matches, key=lambda user: user.username != value, default=None)


def utc_isoformat(value):
    """Python's ``isoformat()`` (``+00:00``, not ``Z``), as upstream's JsonResponse emits."""
    return aware(value).astimezone(timezone.utc).isoformat() if value else None


@user_metadata.get(responses={200: doc.USER_METADATA, 403: "Not the learner nor staff.",
                              404: "No such user or course."})
def get_user_metadata(request):
    """What Optimizely experiments know about a learner in a course (self, or staff for anyone)."""
    username = request.matchdict["username"]
    permissions.require(permissions.is_staff(request.user) or request.user.username == username)
    db = request.dbsession
    user = user_by_username_or_email(db, username.strip())
    if user is None:
        raise APIError(404, {"message": "Provided user is not found"})
    course_key = parse_course_key(request.matchdict["course_id"])
    course = upsell.get_course(request, course_key) if course_key else None
    if course is None:
        raise APIError(404, {"message": "Provided course is not found"})
    return user_metadata_body(request, user, course_key, course)


def user_metadata_body(request, user, course_key, course):
    """Upstream's ``user_metadata`` context, keys in its order; datetimes in ``+00:00`` form."""
    config = request.registry[upsell.REGISTRY_KEY]
    now = utcnow()
    enrollment = upsell.get_enrollment(request, user.id, course_key) or {}
    active = enrollment if enrollment.get("is_active") else {}
    upgrade_link = dynamic_deadline = course_deadline = None
    if enrollment:
        course_deadline = upsell.verified_mode_expiration(course, now)
        if upsell.can_show_verified_upgrade(enrollment, now):
            upgrade_link = upsell.upgrade_url(config, user, course, now)
            dynamic_deadline = enrollment.get("upgrade_deadline")
    duration = enrollment.get("course_duration")
    access_deadline = enrollment.get("audit_access_deadline") if duration else None
    return {
        "username": user.username,
        "user_id": user.id,
        "course_id": str(course_key),
        "course_display_name": course.get("display_name"),
        "enrollment_mode": active.get("mode"),
        "upgrade_link": upgrade_link,
        "upgrade_price": upsell.upgrade_price(config, course, now),
        "audit_access_deadline": utc_isoformat(access_deadline),
        "course_duration": duration.total_seconds() if duration else None,
        "pacing_type": "self_paced" if course.get("self_paced") else "instructor_paced",
        "has_staff_access": permissions.has_course_staff_access(request.dbsession, user,
                                                                course_key),
        # No openlms plugin keeps discussion roles or user partitions yet.
        "forum_roles": [],
        "partition_groups": {},
        "has_non_audit_enrollments": upsell.has_non_audit_enrollments(request, user.id),
        # Program details sit behind upstream's experiments.add_programs flag (off).
        "program_key_fields": None,
        "email": user.email,
        "schedule_start": utc_isoformat(active.get("schedule_start")),
        "enrollment_time": utc_isoformat(active.get("created")),
        "course_start": utc_isoformat(course.get("start")),
        "course_end": utc_isoformat(course.get("end")),
        "dynamic_upgrade_deadline": utc_isoformat(dynamic_deadline),
        "course_upgrade_deadline": utc_isoformat(course_deadline),
        "course_key_fields": {"org": course_key.org, "course": course_key.course,
                              "run": course_key.run},
    }
