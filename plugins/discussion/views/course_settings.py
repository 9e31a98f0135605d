"""A course's discussion metadata, division settings and forum roles (upstream
``CourseView``, ``CourseDiscussionSettingsAPIView``, ``CourseDiscussionRolesAPIView``
and user_api's ``ForumRoleUsersListView``).

- ``GET v1/courses/{course_id}``: what the discussions MFE needs to start (posting
  allowed, blackouts, URLs, anonymity, the requester's roles, reasons); v1 needs the
  discussion tab on, ``v2/courses/{course_id}`` does not (``show_discussions``);
- ``GET``/``PATCH v1/courses/{course_id}/settings``: global staff (and forum
  Administrators, Moderators and Community TAs to read: upstream ``IsStaffOrAdmin``);
  PATCH is ``application/merge-patch+json`` and answers 204;
- ``GET``/``POST v1/courses/{course_id}/roles/{rolename}/``: global staff only;
  Moderator, Community TA and Group Moderator are granted and revoked here;
- ``GET /api/user/v1/forum_roles/{name}/users/?course_id=``: the holders of a role,
  for ``X-Edx-Api-Key`` holders (server to server), as upstream.
"""
import colander
from sqlalchemy import select

from lms import pagination, permissions
from lms.auth import DEFAULT_AUTH, has_api_key
from lms.errors import PERMISSION_DENIED, APIError, developer
from lms.keys import parse_course_key
from lms.models import User
from lms.openapi import (BOOLEAN, NUMBER, PAGE_QUERY, STRING, Body, array, nullable, obj,
                         page_of)
from lms.request import MERGE_PATCH, query_params, request_data
from lms.responses import no_content
from lms.service import Service
from lms.users import find_by_identity
from plugins.accounts import api as accounts_api
from plugins.courses import api as courses_api
from plugins.discussion import access, config, division, forms, reasons, roles
from plugins.discussion.forms import DrfBoolean, validated
from plugins.discussion.models import ForumRole

course_meta = Service("discussion.course", "/api/discussion/v1/courses/{course_id}",
                      errors="developer")
course_meta_v2 = Service("discussion.course_v2", "/api/discussion/v2/courses/{course_id}",
                         errors="developer")
course_settings = Service("discussion.course_settings",
                          "/api/discussion/v1/courses/{course_id}/settings",
                          errors="developer")
course_roles = Service("discussion.course_roles",
                       "/api/discussion/v1/courses/{course_id}/roles/{rolename}/",
                       errors="developer")
forum_role_users = Service("discussion.forum_role_users",
                           "/api/user/v1/forum_roles/{name}/users/", auth=DEFAULT_AUTH,
                           api_key=True)
forum_role_users_legacy = forum_role_users.alias(
    "discussion.forum_role_users_legacy", "/user_api/v1/forum_roles/{name}/users/")


# -- metadata ------------------------------------------------------------------------------------

REASONS = array(obj({"code": STRING, "label": STRING}))
METADATA = obj({
    "id": STRING, "is_posting_enabled": BOOLEAN,
    "blackouts": array(obj({"start": STRING, "end": STRING})), "thread_list_url": STRING,
    "following_thread_list_url": STRING, "topics_url": STRING, "allow_anonymous": BOOLEAN,
    "allow_anonymous_to_peers": BOOLEAN, "user_roles": array(STRING),
    "has_moderation_privileges": BOOLEAN, "is_group_ta": BOOLEAN, "is_user_admin": BOOLEAN,
    "is_course_staff": BOOLEAN, "is_course_admin": BOOLEAN, "provider": STRING,
    "enable_in_context": BOOLEAN, "group_at_subsection": BOOLEAN, "edit_reasons": REASONS,
    "post_close_reasons": REASONS, "show_discussions": BOOLEAN})


@course_meta.get(responses={200: METADATA, 401: "Not signed in.",
                            404: "Unknown or hidden course (`Course not found.`), or its "
                                 "discussion tab is off."})
def get_course_metadata(request):
    """What the discussions MFE needs to know about the course and the requester."""
    return course_metadata(request, check_tab=True)


@course_meta_v2.get(responses={200: METADATA, 401: "Not signed in.",
                               404: "Unknown or hidden course (`Course not found.`)."})
def get_course_metadata_v2(request):
    """As v1, also for a course whose discussion tab is off (``show_discussions``)."""
    return course_metadata(request, check_tab=False)


def course_metadata(request, check_tab):
    context = access.load_course(request, request.matchdict["course_id"], check_tab=check_tab)
    course, key = context.course, context.course_key
    db = request.dbsession
    user_roles = context.user_roles
    threads = f"{request.application_url}/api/discussion/v1/threads/"
    course_key = parse_course_key(key)
    return {
        "id": key,
        "is_posting_enabled": not config.in_blackout(course, context.now),
        "blackouts": [{"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")}
                      for start, end in config.blackouts(course)],
        "thread_list_url": threads_url(threads, key),
        "following_thread_list_url": threads_url(threads, key, following=True),
        "topics_url": f"{request.application_url}/api/discussion/v1/course_topics/{key}",
        "allow_anonymous": config.allow_anonymous(course),
        "allow_anonymous_to_peers": config.allow_anonymous_to_peers(course),
        "user_roles": sorted(user_roles),
        "has_moderation_privileges": bool(user_roles & {roles.ADMINISTRATOR, roles.MODERATOR,
                                                        roles.COMMUNITY_TA}),
        "is_group_ta": roles.GROUP_MODERATOR in user_roles,
        "is_user_admin": bool(request.user.is_staff),
        "is_course_staff": permissions.has_course_role(db, request.user, course_key,
                                                       ("staff",), include_org=False),
        "is_course_admin": permissions.has_course_role(db, request.user, course_key,
                                                       ("instructor",), include_org=False),
        "provider": "legacy",
        "enable_in_context": True,
        "group_at_subsection": False,
        "edit_reasons": [{"code": code, "label": label}
                         for code, label in reasons.EDIT_REASONS],
        "post_close_reasons": [{"code": code, "label": label}
                               for code, label in reasons.CLOSE_REASONS],
        "show_discussions": config.is_enabled(course),
    }


def threads_url(base, course_key, following=False):
    """Upstream ``get_thread_list_url`` of a whole course (``following=True`` added)."""
    from urllib.parse import urlencode

    query = [("course_id", course_key)] + ([("following", True)] if following else [])
    return f"{base}?{urlencode(query)}"


# -- settings ------------------------------------------------------------------------------------

SETTINGS = obj({
    "id": NUMBER, "divided_inline_discussions": array(STRING),
    "divided_course_wide_discussions": array(STRING),
    "always_divide_inline_discussions": BOOLEAN, "division_scheme": STRING,
    "available_division_schemes": array(STRING),
    "reported_content_email_notifications": BOOLEAN,
    "reported_content_email_notifications_flag": BOOLEAN})
def course_missing(key):
    """Upstream's forms load the course (``get_course_with_access``): an unknown one is its
    ``Http404`` message."""
    return developer(404, f"Course not found: {key}.")


# What the answer shows and a client may send back unchanged.
READ_ONLY = {"id", "available_division_schemes", "reported_content_email_notifications_flag"}


def settings_course(request, write):
    """The course, for global staff (and, to read, its forum Administrators, Moderators
    and Community TAs): upstream's ``IsStaffOrAdmin``, then the course looked up."""
    raw = request.matchdict["course_id"]
    key = parse_course_key(raw)
    if key is None:
        raise forms.invalid("course_id", f"'{raw}' is not a valid course key")
    db = request.dbsession
    user = request.user
    allowed = permissions.is_staff(user)
    if not allowed and not write and user.is_active:
        allowed = bool(roles.roles_of(db, user.id, str(key)) & {
            roles.ADMINISTRATOR, roles.MODERATOR, roles.COMMUNITY_TA})
    if not allowed:
        raise developer(403, PERMISSION_DENIED)
    course = courses_api.get_course(db, key)
    if course is None:
        raise course_missing(key)
    return course


def topic_split(request, course, stored):
    """The stored divided topics as ``(inline, course-wide)``."""
    structure = courses_api.get_structure(request.registry, request.dbsession, course)
    inline_ids = {topic.topic_id for topic in config.inline_topics(structure)}
    course_wide = {topic.topic_id for topic in config.course_wide_topics(course)}
    return ([t for t in stored if t in inline_ids],
            [t for t in stored if t in course_wide])


def settings_body(request, course, row):
    inline, course_wide = topic_split(request, course, row.divided_discussions or [])
    return {
        "id": row.id,
        "divided_inline_discussions": inline,
        "divided_course_wide_discussions": course_wide,
        "always_divide_inline_discussions": bool(row.always_divide_inline_discussions),
        "division_scheme": row.division_scheme,
        "available_division_schemes": division.available_schemes(request.dbsession,
                                                                  course.course_key),
        "reported_content_email_notifications": bool(row.reported_content_email_notifications),
        "reported_content_email_notifications_flag": False,
    }


def stored_settings(request, course):
    """The settings row (created with the course's defaults on first read, so that it has
    an ``id`` as upstream's ``CourseDiscussionSettings.get``)."""
    row = config.get_settings(request.dbsession, course)
    if row.id is None:
        row = config.save_settings(request.dbsession, course)
    return row


@course_settings.get(responses={200: SETTINGS, 400: "A bad course key.", 401: "Not signed in.",
                                403: "Neither global staff nor a forum moderator.",
                                404: "Unknown course."})
def get_settings(request):
    """The course's division settings."""
    course = settings_course(request, write=False)
    return settings_body(request, course, stored_settings(request, course))


class TopicList(colander.SequenceSchema):
    topic = colander.SchemaNode(forms.BodyText())


class SettingsPatch(colander.MappingSchema):
    divided_discussions = TopicList(missing=colander.drop)  # every divided topic at once
    divided_inline_discussions = TopicList(missing=colander.drop)
    divided_course_wide_discussions = TopicList(missing=colander.drop)
    always_divide_inline_discussions = forms.optional(DrfBoolean())
    division_scheme = forms.optional(forms.BodyText())
    reported_content_email_notifications = forms.optional(DrfBoolean())


@course_settings.patch(body=Body(obj({
    "divided_discussions": array(STRING), "divided_inline_discussions": array(STRING),
    "divided_course_wide_discussions": array(STRING),
    "always_divide_inline_discussions": BOOLEAN, "division_scheme": STRING,
    "reported_content_email_notifications": BOOLEAN}, required=False),
    "The settings to change.", MERGE_PATCH),
    responses={204: "Changed.", 400: "A bad value or an unknown field (`field_errors`).",
               401: "Not signed in.", 403: "Not global staff.", 404: "Unknown course.",
               415: "Not `application/merge-patch+json`."})
def patch_settings(request):
    """Change the course's division settings."""
    course = settings_course(request, write=True)
    data = request_data(request, (MERGE_PATCH,))
    if not isinstance(data, dict):
        raise developer(400, "Invalid data. Expected a dictionary.")
    known = {child.name for child in SettingsPatch().children}
    unknown = sorted(set(data) - known - READ_ONLY)
    if unknown:
        raise forms.field_errors({name: "This field is not allowed." for name in unknown},
                                 style="developer")
    values = validated(SettingsPatch(), {k: v for k, v in data.items() if k in known})
    db = request.dbsession
    if "division_scheme" in values and values["division_scheme"] not in \
            division.available_schemes(db, course.course_key):
        raise forms.invalid("division_scheme",
                            f"Unsupported division scheme {values['division_scheme']}")
    row = stored_settings(request, course)
    changes = {}
    if "divided_discussions" in values:
        changes["divided_discussions"] = list(dict.fromkeys(values["divided_discussions"]))
    if "divided_inline_discussions" in values or "divided_course_wide_discussions" in values:
        inline, course_wide = topic_split(request, course, row.divided_discussions or [])
        inline = values.get("divided_inline_discussions", inline)
        course_wide = values.get("divided_course_wide_discussions", course_wide)
        changes["divided_discussions"] = list(dict.fromkeys(course_wide + inline))
    for name in ("always_divide_inline_discussions", "division_scheme",
                 "reported_content_email_notifications"):
        if name in values:
            changes[name] = values[name]
    config.save_settings(db, course, **changes)
    return no_content()


# -- roles ---------------------------------------------------------------------------------------

MEMBER = obj({"username": STRING, "email": STRING, "first_name": STRING, "last_name": STRING,
              "group_name": nullable(STRING)})
ROLE_LIST = obj({"course_id": STRING, "results": array(MEMBER), "division_scheme": STRING})


def role_request(request):
    """Global staff only (IsAdminUser), then the form: the course and the role."""
    if not permissions.is_staff(request.user):
        raise developer(403, PERMISSION_DENIED)
    raw = request.matchdict["course_id"]
    key = parse_course_key(raw)
    if key is None:
        raise forms.invalid("course_id", f"'{raw}' is not a valid course key")
    course = courses_api.get_course(request.dbsession, key)
    if course is None:
        raise course_missing(key)
    rolename = request.matchdict["rolename"]
    if rolename not in roles.GRANTABLE_ROLES:
        raise forms.invalid("rolename", f"Role '{rolename}' does not exist")
    return course, rolename


def role_members(request, course, rolename):
    db = request.dbsession
    context = access.Context(request, course, request.user)
    users = db.scalars(select(User).join(ForumRole, ForumRole.user_id == User.id).where(
        ForumRole.course_key == course.course_key, ForumRole.name == rolename)
        .order_by(User.id)).all()
    scheme = context.scheme
    results = []
    for user in users:
        group = division.group_of(db, course.course_key, user.id, scheme) \
            if scheme != config.NONE else None
        results.append({"username": user.username, "email": user.email, "first_name": "",
                        "last_name": "", "group_name": group[1] if group else None})
    return {"course_id": course.course_key, "results": results,
            "division_scheme": context.settings.division_scheme}


@course_roles.get(responses={200: ROLE_LIST, 400: "An unknown role (`field_errors`).",
                             401: "Not signed in.", 403: "Not global staff.",
                             404: "Unknown course."})
def get_role(request):
    """The holders of a forum role in the course."""
    course, rolename = role_request(request)
    return role_members(request, course, rolename)


class DrfChoice(colander.SchemaType):
    """DRF's ``ChoiceField``: the value, as text, is one of the choices."""

    def __init__(self, choices):
        super().__init__()
        self.choices = tuple(choices)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null:
            return colander.null
        if cstruct is None:
            raise colander.Invalid(node, "This field may not be null.")
        if isinstance(cstruct, (dict, list)) or str(cstruct) not in self.choices:
            raise colander.Invalid(node, f'"{cstruct}" is not a valid choice.')
        return str(cstruct)


class RoleChange(colander.MappingSchema):
    action = forms.required(DrfChoice(("allow", "revoke")))
    user_id = forms.required(forms.BodyText())


def role_change(db, data):
    """Upstream ``DiscussionRolesSerializer``: the action, and the user named by username
    or email (``'<id>' is not a valid student identifier``), every error at once."""
    errors, values = {}, {}
    for node in RoleChange().children:
        try:
            values[node.name] = node.deserialize(data.get(node.name, colander.null))
        except colander.Invalid as exc:
            errors[node.name] = exc.msg
    user = None
    if "user_id" in values:
        identifier = values["user_id"]
        user = (find_by_identity(db, User.username, identifier)
                or find_by_identity(db, User.email, identifier))
        if user is None:
            errors["user_id"] = f"'{identifier}' is not a valid student identifier"
    if errors:
        raise forms.field_errors(errors, style="developer")
    return values["action"], user


@course_roles.post(body=obj({"user_id": STRING, "action": STRING}),
                   responses={200: ROLE_LIST,
                              400: "An unknown role or user, or a bad action (`field_errors`).",
                              401: "Not signed in.", 403: "Not global staff.",
                              404: "Unknown course."})
def post_role(request):
    """Grant (``allow``) or take back (``revoke``) a forum role."""
    course, rolename = role_request(request)
    data = request_data(request, ("application/json", "application/x-www-form-urlencoded",
                                  "multipart/form-data"))
    if not isinstance(data, dict):
        raise developer(400, "Invalid data. Expected a dictionary.")
    db = request.dbsession
    action, user = role_change(db, data)
    if action == "allow":
        roles.grant(db, user.id, course.course_key, rolename)
    else:
        roles.revoke(db, user.id, course.course_key, rolename)
    return role_members(request, course, rolename)


# -- user_api forum role users -------------------------------------------------------------------

LISTED_USER = obj({"id": NUMBER, "url": STRING, "email": STRING, "name": STRING,
                   "username": STRING, "preferences": obj({}, additionalProperties=True)})


@forum_role_users.get(query={"course_id": "The course (required).", **PAGE_QUERY},
                      responses={200: page_of(LISTED_USER),
                                 400: "No `course_id` (`detail`).",
                                 403: "No API key.", 404: "Invalid page."})
def get_forum_role_users(request):
    """The users holding a forum role in a course (server to server, `X-Edx-Api-Key`)."""
    permissions.require(has_api_key(request))
    raw = query_params(request).get("course_id")
    key = parse_course_key(raw) if raw else None
    if key is None:
        raise APIError(400, {"detail": "course_id must be specified"} if not raw else
                       {"detail": f"'{raw}' is not a valid course id"})
    name = request.matchdict["name"]
    stmt = (select(User.id).join(ForumRole, ForumRole.user_id == User.id)
            .where(ForumRole.course_key == str(key), ForumRole.name == name)
            .order_by(User.id))
    return pagination.page_number(
        request, stmt, lambda rows: accounts_api.listed_users(request, [row[0] for row in rows]),
        rows=lambda page: select(User).where(User.id.in_(page)).order_by(User.id))

