"""The notes retirement step (upstream ``edxnotes.views.RetireUserView``):
``POST /api/edxnotes/v1/retire_user/`` ``{"username": original}``, JWT only, a superuser or
the retirement service. openlms runs no notes service, so there are no notes to delete:
a person whose retirement is in progress is answered 204, as upstream answers once the
notes service has removed theirs; no retirement is an empty 404, a retirement in a state
that takes no action is 405 with the reason as a JSON string (upstream's answers)."""
from lms import permissions
from lms.auth import JWT
from lms.errors import APIError
from lms.openapi import STRING, obj
from lms.request import request_data
from lms.responses import empty_response, no_content
from lms.service import Service
from plugins.accounts import api as accounts_api

retire_notes = Service("bookmarks.edxnotes_retire_user", "/api/edxnotes/v1/retire_user/",
                       auth=(JWT,))

JSON_OR_FORM = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


@retire_notes.post(body=obj({"username": STRING}),
                   responses={204: "Nothing left of the person's notes.",
                              400: "No `username`.", 401: "Not signed in.",
                              403: "Not allowed to retire users.",
                              404: "No retirement for this username (empty).",
                              405: "The retirement is in a state that takes no action."})
def post_retire_notes(request):
    """Delete the person's notes (there are none to delete here)."""
    permissions.require(accounts_api.may_retire_users(request.registry, request.user))
    data = request_data(request, JSON_OR_FORM)
    username = data.get("username") if isinstance(data, dict) else None
    if not isinstance(username, str) or not username:
        raise APIError(400, {"username": ["This field is required."]})
    try:
        user_id = accounts_api.retirement_user_id_for_action(request.dbsession, username)
    except accounts_api.RetirementStateError as exc:
        raise APIError(405, str(exc))
    if user_id is None:
        return empty_response(404)
    return no_content()
