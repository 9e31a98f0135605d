"""Who may call each bookmarks endpoint (checked by ``lms.testing``'s permission matrix).

Bookmarks take Bearer or session authentication (no JWT: a restricted application's JWT
is no credential); everyone signed in has bookmarks of their own. The learner bookmarked
a unit of the world's course; the detail rows name the learner (``IsUserInUrl``: another
user gets 404, staff 403)."""
from lms.matrix import AUTHENTICATED, COURSE_KEY, SUPERUSER_ONLY, Row

OWN = {**AUTHENTICATED, "restricted_jwt": "unauthenticated"}
LEARNER_ONLY = {**OWN, "other_learner": "hidden", "course_staff": "hidden",
                "global_staff": "forbidden", "superuser": "forbidden",
                "service_user": "forbidden"}
RETIREMENT = {**SUPERUSER_ONLY, "superuser": "hidden", "service_user": "hidden"}


def setup(world):
    from lms.keys import parse_course_key
    from plugins.bookmarks.models import Bookmark

    # The courses plugin's world unit (its setup may run after this one).
    unit = str(parse_course_key(COURSE_KEY).make_usage_key("vertical", "unit"))
    world.values["bookmarked_unit"] = unit
    world.db.add(Bookmark(user_id=world.users["learner"].id, course_key=COURSE_KEY,
                          usage_key=unit))
    world.db.commit()


def fresh_bookmark(world):
    """The learner's bookmark of the world's HTML block, made again if a cell deleted it."""
    from sqlalchemy import select

    from plugins.bookmarks.models import Bookmark

    learner = world.users["learner"].id
    exists = world.db.scalar(select(Bookmark.id).where(
        Bookmark.user_id == learner, Bookmark.usage_key == world.values["html_key"]))
    if exists is None:
        world.db.add(Bookmark(user_id=learner, course_key=world.values["course_key"],
                              usage_key=world.values["html_key"]))
        world.db.commit()
    return {"username": world.users["learner"].username, "usage_id": world.values["html_key"]}


ROWS = [
    Row("bookmarks.bookmarks", "GET", OWN, note="Bearer/session; IsAuthenticated; own only"),
    Row("bookmarks.bookmarks", "POST", {**OWN, "learner": "invalid",
                                        "other_learner": "invalid"},
        body={"usage_id": "{html_key}"},
        note="staff may see the block; the other learner is not enrolled and the learner's "
             "audit access to the world's course has expired: 400 Block ... not found"),
    Row("bookmarks.bookmark", "GET", LEARNER_ONLY,
        path={"username": "{learner}", "usage_id": "{bookmarked_unit}"},
        note="IsUserInUrl: another user 404, staff 403"),
    Row("bookmarks.bookmark", "DELETE", LEARNER_ONLY, path=fresh_bookmark, isolated=True,
        note="IsUserInUrl: another user 404, staff 403"),
    Row("bookmarks.edxnotes_retire_user", "POST", RETIREMENT,
        body={"username": "nobody_retiring"},
        note="JWT; CanRetireUser; no retirement here: empty 404"),
]

from lms.matrix import PluginMatrix  # noqa: E402

MATRIX = PluginMatrix(rows=ROWS, setup=setup)
