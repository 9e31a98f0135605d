"""The retirement pipeline's forum steps (upstream ``RetireUserView`` and
``ReplaceUsernamesView``; DRF's default authentication: JWT or session).

- ``POST /api/discussion/v1/accounts/retire_forum`` ``{"username": original}``: a
  superuser or the retirement service; 204, or an empty 404 when the person has no
  retirement in progress or never used the forum;
- ``POST /api/discussion/v1/accounts/replace_username``
  ``{"username_mappings": [{"old": "new"}]}``: the username-replacement worker; the forum
  names people by user id, so every well-formed pair succeeds.
"""
from lms import permissions
from lms.auth import DEFAULT_AUTH
from lms.errors import APIError
from lms.openapi import STRING, array, obj
from lms.request import request_data
from lms.responses import empty_response, no_content
from lms.service import Service
from plugins.accounts import api as accounts_api
from plugins.discussion import retirement

retire_forum = Service("discussion.retire_forum", "/api/discussion/v1/accounts/retire_forum",
                       auth=DEFAULT_AUTH)
replace_username = Service("discussion.replace_username",
                           "/api/discussion/v1/accounts/replace_username", auth=DEFAULT_AUTH)

JSON_OR_FORM = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


@retire_forum.post(body=obj({"username": STRING}),
                   responses={204: "Retired.", 400: "No `username`.",
                              401: "Not signed in.", 403: "Not allowed to retire users.",
                              404: "No retirement in progress, or no forum presence (empty)."})
def post_retire_forum(request):
    """Blank the person's posts and forget what they followed and read."""
    permissions.require(accounts_api.may_retire_users(request.registry, request.user))
    data = request_data(request, JSON_OR_FORM)
    username = data.get("username") if isinstance(data, dict) else None
    if not isinstance(username, str) or not username:
        raise APIError(400, {"username": ["This field is required."]})
    db = request.dbsession
    try:
        user_id = accounts_api.retirement_user_id_for_action(db, username)
    except accounts_api.RetirementStateError:
        user_id = None
    if user_id is None or not retirement.has_forum_presence(db, user_id):
        return empty_response(404)
    retirement.forget_user(db, user_id)
    return no_content()


def valid_mappings(mappings):
    return isinstance(mappings, list) and all(
        isinstance(pair, dict) and len(pair) == 1 for pair in mappings)


@replace_username.post(body=obj({"username_mappings": array(
                           {"type": "object", "additionalProperties": STRING})}),
                       responses={200: obj({"successful_replacements": array(obj({})),
                                            "failed_replacements": array(obj({}))}),
                                  400: "Not a list of one-pair objects (`detail`).",
                                  401: "Not signed in.",
                                  403: "Not the username-replacement worker."})
def post_replace_username(request):
    """Acknowledge renames (the forum's rows name people by id, never by username)."""
    permissions.require(accounts_api.may_replace_usernames(request.registry, request.user))
    data = request_data(request, JSON_OR_FORM)
    mappings = data.get("username_mappings") if isinstance(data, dict) else None
    if not valid_mappings(mappings):
        raise APIError(400, {"detail": "Request data does not match schema"})
    return {"successful_replacements": [{str(k): v for k, v in pair.items()}
                                        for pair in mappings],
            "failed_replacements": []}

