"""Demographics call-to-action state, ``/api/demographics/v1/demographics/status/``
(upstream ``openedx.core.djangoapps.demographics``).

``display`` says whether to collect demographics: upstream shows them only to
learners of a MicroBachelors programme who are not enterprise learners, which
needs the programme catalog (discovery). openlms has none, so it is always
false. ``show_call_to_action`` is the learner's stored choice, true until they
make one.

PATCH takes ``{"show_call_to_action": <JSON boolean>}``. Upstream answers a
non-boolean with HTTP 200 and the body ``400`` (a bug); openlms answers a real
400 in DRF's shape, and refuses unknown fields.
"""
import colander
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.auth import JWT, SESSION_STRICT
from lms.request import request_data
from lms.schemas import StrictBoolean, StrictMapping, drf_validated
from lms.service import Service
from plugins.accounts import openapi_schemas as doc
from plugins.accounts.models import Demographics

demographics_status = Service("accounts.demographics_status",
                              "/api/demographics/v1/demographics/status/",
                              auth=(JWT, SESSION_STRICT))


class StatusBody(StrictMapping):
    show_call_to_action = colander.SchemaNode(StrictBoolean(),
                                              missing_msg="This field is required.")


def status_body(show_call_to_action):
    return {"display": False, "show_call_to_action": show_call_to_action}


def stored_row(request):
    return request.dbsession.scalar(select(Demographics)
                                    .where(Demographics.user_id == request.user.id))


@demographics_status.get(responses={200: doc.DEMOGRAPHICS_STATUS})
def get_demographics_status(request):
    """Whether to show the caller the demographics call to action."""
    row = stored_row(request)
    return status_body(row.show_call_to_action if row is not None else True)


@demographics_status.patch(body=StatusBody(), responses={200: doc.DEMOGRAPHICS_STATUS})
def patch_demographics_status(request):
    """Turn the caller's demographics call to action on or off."""
    value = drf_validated(StatusBody(), request_data(request))["show_call_to_action"]
    db = request.dbsession
    row = stored_row(request)
    if row is None:
        try:
            with db.begin_nested():
                row = Demographics(user_id=request.user.id, show_call_to_action=value)
                db.add(row)
        except IntegrityError:  # a concurrent request created it first
            row = stored_row(request)
    row.show_call_to_action = value
    db.flush()
    return status_body(row.show_call_to_action)
