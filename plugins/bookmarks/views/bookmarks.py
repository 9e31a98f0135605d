"""Bookmarks (upstream ``openedx.core.djangoapps.bookmarks.views``): Bearer or session
authentication (no JWT), the requester's own bookmarks only.

- ``GET /api/bookmarks/v1/bookmarks/?course_id=&fields=display_name,path``: newest
  first, DRF's default pages (10, at most 100); a bad ``course_id`` lists nothing;
- ``POST`` ``{"usage_id"}``: 201 with the bookmark (the existing one for a duplicate);
  400 ``{"developer_message", "user_message"}`` otherwise (the per-course maximum is
  checked first, as upstream);
- ``GET``/``DELETE /api/bookmarks/v1/bookmarks/{username},{usage_id}/``: upstream's
  ``IsUserInUrl`` (someone else's: 404, or 403 for staff).

``display_name`` and ``path`` (chapter down to the block's parent, the course left out)
come from the course's current structure and the courses plugin's access rule: a block
since removed or hidden from the learner shows an empty name and path.
"""
import colander
from sqlalchemy import func, select

from lms import pagination, permissions
from lms.auth import BEARER_STRICT, SESSION_STRICT
from lms.errors import APIError, detail
from lms.keys import parse_course_key, parse_usage_key
from lms.openapi import PAGE_QUERY, STRING, array, obj, page_of
from lms.request import query_params, request_data
from lms.responses import no_content
from lms.service import Service
from lms.settings import as_int
from lms.timeutil import isoformat
from plugins.bookmarks.models import Bookmark
from plugins.courses import api as courses_api

AUTH = (BEARER_STRICT, SESSION_STRICT)
DEFAULT_USER_MESSAGE = "An error has occurred. Please try again."
OPTIONAL_FIELDS = ("display_name", "path")
JSON_OR_FORM = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")

bookmarks = Service("bookmarks.bookmarks", "/api/bookmarks/v1/bookmarks/", auth=AUTH,
                    errors="user")
bookmark_detail = Service("bookmarks.bookmark",
                          "/api/bookmarks/v1/bookmarks/{username},{usage_id}/", auth=AUTH,
                          path_info=r".*/$")

BOOKMARK = obj({"id": STRING, "course_id": STRING, "usage_id": STRING, "block_type": STRING,
                "created": STRING, "display_name": STRING,
                "path": array(obj({"usage_key": STRING, "display_name": STRING}))},
               required=False)


def error(developer_message, user_message=None, status=400):
    return APIError(status, {"developer_message": developer_message,
                             "user_message": user_message or DEFAULT_USER_MESSAGE})


def requested_fields(request):
    raw = query_params(request).get("fields") or ""
    return {name.strip() for name in raw.split(",")} & set(OPTIONAL_FIELDS)


class Serializer:
    """Bookmarks as the API shows them; each course on the page is read once (its
    structure from the cache, the learner's access in one walk)."""

    def __init__(self, request, fields):
        self.request = request
        self.fields = fields
        self.accesses = {}

    def access(self, course_key):
        if course_key not in self.accesses:
            db = self.request.dbsession
            course = courses_api.get_course(db, course_key)
            self.accesses[course_key] = None if course is None else courses_api.content_access(
                self.request.registry, db, self.request.user, course)
        return self.accesses[course_key]

    def node_and_path(self, bookmark):
        access = self.access(bookmark.course_key)
        if access is None or not access.may_see(bookmark.usage_key):
            return None, []
        structure = access.structure
        node = structure.blocks.get(bookmark.usage_key)
        chain = [key for key in reversed(structure.ancestors(bookmark.usage_key))
                 if key != structure.root]
        return node, [{"usage_key": key,
                       "display_name": courses_api.display_name_with_default(
                           structure.blocks[key])} for key in chain]

    def __call__(self, bookmark, username):
        key = parse_usage_key(bookmark.usage_key)
        body = {"id": f"{username},{bookmark.usage_key}", "course_id": bookmark.course_key,
                "usage_id": bookmark.usage_key,
                "block_type": getattr(key, "block_type", ""),
                "created": isoformat(bookmark.created)}
        if self.fields:
            node, path = self.node_and_path(bookmark)
            if "display_name" in self.fields:
                body["display_name"] = courses_api.display_name_with_default(node) \
                    if node is not None else ""
            if "path" in self.fields:
                body["path"] = path
        return body


# -- list and create -------------------------------------------------------------------------

@bookmarks.get(query={"course_id": "Only this course's bookmarks.",
                      "fields": "`display_name`, `path` (comma-separated).", **PAGE_QUERY},
               responses={200: page_of(BOOKMARK), 401: "Not signed in.",
                          404: "Invalid page."})
def list_bookmarks(request):
    """The requester's bookmarks, newest first."""
    user = request.user
    stmt = select(Bookmark).where(Bookmark.user_id == user.id)
    raw_course = query_params(request).get("course_id")
    if raw_course:
        course_key = parse_course_key(raw_course)
        stmt = stmt.where(Bookmark.course_key == str(course_key)) if course_key is not None \
            else stmt.where(Bookmark.id.is_(None))
    serialize = Serializer(request, requested_fields(request))
    return pagination.page_number(
        request, stmt.order_by(Bookmark.id.desc()),
        lambda rows: [serialize(row[0], user.username) for row in rows])


class UsageId(colander.SchemaType):
    """The body's ``usage_id``: a usage key, with upstream's messages."""

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None, ""):
            raise colander.Invalid(node, "Parameter usage_id not provided.")
        key = parse_usage_key(cstruct) if isinstance(cstruct, str) and "\x00" not in cstruct \
            else None
        if key is None:
            raise colander.Invalid(node, f"Invalid usage_id: {cstruct}.")
        return key


class NewBookmark(colander.MappingSchema):
    usage_id = colander.SchemaNode(UsageId())


@bookmarks.post(body=obj({"usage_id": STRING}),
                responses={201: BOOKMARK, 400: "No data, no or a bad `usage_id`, an unknown "
                                               "or hidden block, or too many bookmarks.",
                           401: "Not signed in."})
def create_bookmark(request):
    """Bookmark a block the requester may see."""
    data = request_data(request, JSON_OR_FORM)
    if not data:
        raise error("No data provided.")
    raw = data.get("usage_id") if isinstance(data, dict) else None
    try:
        key = NewBookmark().deserialize({"usage_id": raw})["usage_id"]
    except colander.Invalid as exc:
        raise error(exc.asdict()["usage_id"])
    db = request.dbsession
    user = request.user
    usage_key, course_key = str(key), str(key.course_key)
    if not courses_api.may_see_block(request.registry, db, user, usage_key):
        raise error(f"Block with usage_id: {raw} not found.")
    limit = as_int(request.registry.settings, "bookmarks.max_per_course")
    count = db.scalar(select(func.count(Bookmark.id)).where(
        Bookmark.user_id == user.id, Bookmark.course_key == course_key))
    if count >= limit:
        message = (f"You can create up to {limit} bookmarks. You must remove some bookmarks "
                   "before you can add new ones.")
        raise error(message, message)
    bookmark = db.scalar(select(Bookmark).where(Bookmark.user_id == user.id,
                                                Bookmark.usage_key == usage_key))
    if bookmark is None:
        bookmark = Bookmark(user_id=user.id, course_key=course_key, usage_key=usage_key)
        db.add(bookmark)
        db.flush()
    request.response.status_code = 201
    return Serializer(request, set(OPTIONAL_FIELDS))(bookmark, user.username)


# -- one bookmark ------------------------------------------------------------------------------

def own_bookmark(request):
    """``IsUserInUrl``, then the bookmark (404 with both messages otherwise)."""
    username = request.matchdict["username"]
    if not permissions.is_user_in_url(request, username):
        if request.user.is_staff:
            raise detail(403, "You do not have permission to perform this action.")
        raise detail(404, "Not found.")
    raw = request.matchdict["usage_id"]
    key = parse_usage_key(raw) if "\x00" not in raw else None
    if key is None:
        message = f"Invalid usage_id: {raw}."
        raise error(message, message, status=404)
    bookmark = request.dbsession.scalar(select(Bookmark).where(
        Bookmark.user_id == request.user.id, Bookmark.usage_key == str(key)))
    if bookmark is None:
        message = f"Bookmark with usage_id: {raw} does not exist."
        raise error(message, message, status=404)
    return bookmark


@bookmark_detail.get(query={"fields": "`display_name`, `path` (comma-separated)."},
                     responses={200: BOOKMARK, 401: "Not signed in.",
                                403: "Staff asking about another user.",
                                404: "Someone else's, a bad usage id, or no such bookmark."})
def get_bookmark(request):
    """One of the requester's bookmarks."""
    bookmark = own_bookmark(request)
    return Serializer(request, requested_fields(request))(bookmark, request.user.username)


@bookmark_detail.delete(responses={204: "Deleted.", 401: "Not signed in.",
                                   403: "Staff asking about another user.",
                                   404: "Someone else's, a bad usage id, or no such bookmark."})
def delete_bookmark(request):
    """Remove one of the requester's bookmarks."""
    request.dbsession.delete(own_bookmark(request))
    return no_content()
