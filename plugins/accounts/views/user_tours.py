"""Product tours, ``/api/user_tours/...`` (upstream ``lms.djangoapps.user_tours``).

- ``v1/{username}``: GET (the owner or staff; others get an empty 400, as
  upstream) and PATCH (the owner only) of the course-home and courseware tour
  state. PUT is refused with an empty 405. The row is created with the user
  (``lms_user_created``); a user without one gets an empty 404.
- ``discussion_tours/{tour_id}/``: GET lists the caller's discussion tours,
  creating any missing one of ``accounts.available_discussion_tours``
  (``tour_id`` is ignored, and optional as upstream's regex makes it); PUT
  changes ``show_tour`` of one of the caller's tours.

Bodies are validated as upstream's serializers validate them (DRF choice and
boolean fields); unknown fields are refused, and the read-only fields of a
discussion tour may be sent back.

Settings (declared in :mod:`plugins.accounts`):

- ``accounts.user_tours_disabled``: upstream's ``user_tours.tours_disabled``
  waffle flag; every endpoint answers an empty 403 (default false).
- ``accounts.available_discussion_tours``: tour names every learner gets
  (upstream AVAILABLE_DISCUSSION_TOURS; space-separated, default none).
"""
import colander
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms import permissions
from lms.auth import DEFAULT_AUTH
from lms.errors import detail
from lms.models import User
from lms.routing import USERNAME
from lms.request import request_data
from lms.responses import empty, empty_response
from lms.schemas import StrictMapping, drf_validated
from lms.service import Service
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.config import accounts_config
from plugins.accounts.models import DiscussionTour, UserTour

SETTINGS = {
    # The user_tours.tours_disabled waffle flag.
    "accounts.user_tours_disabled": "false",
    # Discussion tour names every learner gets (AVAILABLE_DISCUSSION_TOURS).
    "accounts.available_discussion_tours": "",
}
COURSE_HOME_TOUR_STATUSES = ("show-existing-user-tour", "show-new-user-tour", "no-tour")
NEW_USER_TOUR = "show-new-user-tour"
MAX_ROW_ID = 2**31 - 1

user_tour = Service("accounts.user_tour", "/api/user_tours/v1/" + USERNAME, auth=DEFAULT_AUTH)
discussion_tours = Service("accounts.discussion_tours", "/api/user_tours/discussion_tours/",
                           auth=DEFAULT_AUTH)
discussion_tour = Service("accounts.discussion_tour",
                          r"/api/user_tours/discussion_tours/{tour_id:\d+}/", auth=DEFAULT_AUTH)


# -- DRF field semantics ----------------------------------------------------------

NOT_NULL = "This field may not be null."
# True == 1 and False == 0 == 0.0 in a set, so the numbers cover the booleans too.
TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On",
               "ON", "1", 1}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off",
                "OFF", "0", 0}


class Choice(colander.SchemaType):
    """DRF ``ChoiceField`` (any value is compared as text)."""

    def __init__(self, choices):
        self.choices = choices

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        if str(cstruct) not in self.choices:
            raise colander.Invalid(node, f'"{cstruct}" is not a valid choice.')
        return str(cstruct)


class Boolean(colander.SchemaType):
    """DRF ``BooleanField``: the usual spellings of true and false."""

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return cstruct
        if cstruct is None:
            raise colander.Invalid(node, NOT_NULL)
        try:
            if cstruct in TRUE_VALUES:
                return True
            if cstruct in FALSE_VALUES:
                return False
        except TypeError:  # unhashable: a list or an object
            pass
        raise colander.Invalid(node, "Must be a valid boolean.")


class ReadOnly(colander.SchemaType):
    """A field clients may echo back; its value is dropped."""

    def deserialize(self, node, cstruct):
        return colander.drop


class UserTourBody(StrictMapping):
    """``UserTourSerializer``: both fields have model defaults, so neither is required."""

    course_home_tour_status = colander.SchemaNode(Choice(COURSE_HOME_TOUR_STATUSES),
                                                  missing=colander.drop)
    show_courseware_tour = colander.SchemaNode(Boolean(), missing=colander.drop)


class DiscussionTourBody(StrictMapping):
    """``UserDiscussionsToursSerializer``: only ``show_tour`` is writable."""

    id = colander.SchemaNode(ReadOnly(), missing=colander.drop)
    tour_name = colander.SchemaNode(ReadOnly(), missing=colander.drop)
    user = colander.SchemaNode(ReadOnly(), missing=colander.drop)
    show_tour = colander.SchemaNode(Boolean(), missing=colander.drop)


def require_tours_enabled(request, **kwargs):
    if accounts_config(request.registry).user_tours_disabled:
        raise empty(403)


# -- v1/{username} ---------------------------------------------------------------------

@user_tour.get(validators=(require_tours_enabled,),
               responses={200: doc.USER_TOUR, 400: "Not the owner nor staff (empty).",
                          403: "Tours are off (empty).", 404: "No tour state (empty)."})
def get_user_tour(request):
    """A user's product tour state (the owner or staff)."""
    username = request.matchdict["username"]
    if request.user.username != username and not permissions.is_staff(request.user):
        raise empty(400)
    row = request.dbsession.scalar(select(UserTour).join(User, User.id == UserTour.user_id)
                                   .where(User.username == username))
    if row is None:
        raise empty(404)
    return {"course_home_tour_status": row.course_home_tour_status,
            "show_courseware_tour": row.show_courseware_tour}


@user_tour.patch(validators=(require_tours_enabled,), body=UserTourBody(),
                 responses={200: doc.NO_BODY, 403: "Tours are off (empty).",
                            404: "No tour state (empty)."})
def patch_user_tour(request):
    """Change the caller's product tour state (empty 400 for someone else's)."""
    if request.user.username != request.matchdict["username"]:
        raise empty(400)
    values = drf_validated(UserTourBody(), request_data(request))
    updated = 0
    if values:
        updated = request.dbsession.execute(
            update(UserTour).where(UserTour.user_id == request.user.id).values(**values)
        ).rowcount
    if not updated:
        raise empty(400)
    return empty_response(200)


@user_tour.put(responses={405: "Always (empty).", 400: None, 415: None})

def put_user_tour(request):
    """Not allowed: unsupported, as upstream (an empty 405)."""
    return empty_response(405)


def create_user_tour(dbsession, user):
    """Every new user starts with the new-user tours (upstream ``init_user_tour``)."""
    dbsession.add(UserTour(user_id=user.id, course_home_tour_status=NEW_USER_TOUR,
                           show_courseware_tour=True))


# -- discussion_tours/{tour_id}/ -----------------------------------------------------------

def serialize_discussion_tour(tour):
    return {"id": tour.id, "tour_name": tour.tour_type, "show_tour": bool(tour.show_tour),
            "user": tour.user_id}


def own_discussion_tours(db, user_id):
    return db.scalars(select(DiscussionTour).where(DiscussionTour.user_id == user_id)
                      .order_by(DiscussionTour.id)).all()


@discussion_tours.get(validators=(require_tours_enabled,),
                      responses={200: doc.DISCUSSION_TOURS, 403: "Tours are off (empty).",
                                 409: "A concurrent request created the tours (empty)."})
@discussion_tour.get(validators=(require_tours_enabled,),
                     responses={200: doc.DISCUSSION_TOURS, 403: "Tours are off (empty).",
                                409: "A concurrent request created the tours (empty)."})
def get_discussion_tours(request):
    """The caller's discussion tours (created on first read from the configured list)."""
    db = request.dbsession
    tours = own_discussion_tours(db, request.user.id)
    known = {tour.tour_type for tour in tours}
    missing = [name for name in accounts_config(request.registry).available_discussion_tours
               if name not in known]
    if missing:
        try:
            with db.begin_nested():
                db.add_all([DiscussionTour(user_id=request.user.id, tour_type=name,
                                           show_tour=True) for name in dict.fromkeys(missing)])
        except IntegrityError:  # a concurrent request created them
            raise empty(409)
        tours = own_discussion_tours(db, request.user.id)
    return [serialize_discussion_tour(tour) for tour in tours]


@discussion_tours.put(validators=(require_tours_enabled,), body=DiscussionTourBody(),
                      responses={200: doc.DISCUSSION_TOUR, 404: "No tour id in the path.",
                                 403: "Tours are off, or another user's tour."})
@discussion_tour.put(validators=(require_tours_enabled,), body=DiscussionTourBody(),
                     responses={200: doc.DISCUSSION_TOUR, 404: "No such tour.",
                                403: "Tours are off, or another user's tour."})
def put_discussion_tour(request):
    """Show or hide one of the caller's discussion tours (`show_tour`)."""
    raw_id = request.matchdict.get("tour_id")
    tour_id = int(raw_id) if raw_id else None
    tour = request.dbsession.get(DiscussionTour, tour_id) \
        if tour_id is not None and tour_id <= MAX_ROW_ID else None
    if tour is None:
        raise detail(404, "No UserDiscussionsTours matches the given query.")
    if tour.user_id != request.user.id:
        raise empty(403)
    values = drf_validated(DiscussionTourBody(), request_data(request))
    if "show_tour" in values:
        tour.show_tour = values["show_tour"]
    return serialize_discussion_tour(tour)
