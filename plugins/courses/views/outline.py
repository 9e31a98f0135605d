"""``GET /api/learning_sequences/v1/course_outline/{course_key_str}`` (learning_sequences).

The course's sections and sequences for one user at one time. Course staff
(global staff, course staff or instructor) see everything; for everyone else
the outline processors apply: visibility (``visible_to_staff_only``,
``hide_from_toc``, user partitions) removes items, enrollment removes
everything unless the course is public or has a public outline, and the
schedule (start dates, ``hide_after_due``) and a public outline seen without
enrollment make sequences ``accessible: false`` without hiding them.
"""
import dataclasses
from datetime import timedelta

import colander

from lms import auth, permissions
from lms.errors import APIError, detail, not_found
from lms.keys import parse_course_key
from lms.service import Service, colander_querystring_validator
from lms.timeutil import isoformat, utcnow
from lms.users import get_by_username
from plugins.courses import api
from plugins.courses import openapi_schemas as doc
from plugins.courses.render import display_name_with_default

outline = Service(
    "courses.course_outline",
    "/api/learning_sequences/v1/course_outline/{course_key_str:.+}",
    auth=(auth.JWT, auth.SESSION), errors="drf", anonymous=True,
)

SEQUENCE_TYPES = ("sequential",)
PUBLIC_OUTLINE_VISIBILITIES = ("public", "public_outline")


class OutlineQuery(colander.MappingSchema):
    # A username; "" asks for the anonymous user's outline.
    user = colander.SchemaNode(colander.String(allow_empty=True), missing=colander.drop)


def course_key_or_400(value):
    key = parse_course_key(value)
    if key is None:
        raise APIError(400, [f"{value} is not a valid CourseKey"])
    if key.deprecated:
        raise APIError(400, ["Deprecated CourseKeys (Org/Course/Run) are not supported."])
    return key


def target_user(request, course_key):
    """Whose outline: the caller, or (course staff only) the user named in ``user``."""
    if "user" not in request.validated:
        return request.user
    username = request.validated["user"]
    caller = request.user
    if username == (caller.username if caller is not None else ""):
        return caller
    db = request.dbsession
    if not permissions.has_course_staff_access(db, caller, course_key):
        shown = "the anonymous user" if username == "" else username
        caller_name = caller.username if caller is not None else ""
        raise detail(403, f"User {caller_name} does not have permission to view course "
                          f"outline for {course_key} as {shown}.")
    if username == "":
        return None
    user = get_by_username(db, username)
    if user is None:
        raise not_found(message=f"User {username} does not exist.")
    return user


def can_see_all_content(db, user, course_key):
    """Global staff, course staff and course instructors skip the outline processors."""
    return permissions.is_staff(user) or permissions.has_course_role(
        db, user, course_key, ("staff", "instructor"), include_org=False)


def outline_tree(structure):
    """``[(section, [sequence, ...]), ...]`` as the outline builder reads the course:
    chapters under the course, sequentials under chapters, each sequence once."""
    tree, seen = [], set()
    for section_key in structure.blocks[structure.root].children:
        section = structure.blocks.get(section_key)
        if section is None or section.block_type != "chapter":
            continue
        sequences = []
        for sequence_key in section.children:
            sequence = structure.blocks.get(sequence_key)
            if sequence is None or sequence.block_type not in SEQUENCE_TYPES:
                continue
            if sequence_key in seen:
                continue
            seen.add(sequence_key)
            sequences.append(sequence)
        tree.append((section, sequences))
    return tree


def removed_for_learner(structure, course, context, tree):
    """Keys the visibility, partition and enrollment processors take out.

    Asks the content rule (:class:`plugins.courses.api.ContentAccess`): what it
    hides for good (staff-only, other content groups) is removed; what it hides
    because of dates stays in the outline, marked inaccessible by the schedule.
    """
    everything = {node.usage_key for section, sequences in tree
                  for node in [section, *sequences]}
    outline_public = course.course_visibility in PUBLIC_OUTLINE_VISIBILITIES
    if not outline_public and not context.is_enrolled:
        return everything
    # As a learner: users who reach this (org-wide staff, say) do not see all content.
    access = api.ContentAccess(course, structure, dataclasses.replace(context, is_staff=False))
    return {key for key in everything
            if access.block_verdict(key) in (api.Verdict.HIDDEN, api.Verdict.NOT_FOUND)
            or structure.blocks[key].fields.get("hide_from_toc")}


class Schedule:
    """Start and due dates as edx-when holds them (own values; self-paced: course only)."""

    def __init__(self, course, is_beta_tester):
        days = course.days_early_for_beta if is_beta_tester else None
        self.offset = timedelta(days=float(days)) if days is not None else timedelta(0)
        self.self_paced = bool(course.self_paced)
        self.course_start = self.shift(api.parse_date(course.start))
        self.course_end = api.parse_date(course.end)

    def shift(self, value):
        return value - self.offset if value is not None else None

    def own(self, node, name):
        if self.self_paced:
            return None
        return api.parse_date(node.fields.get(name))

    def start(self, node):
        return self.shift(self.own(node, "start"))

    def due(self, node):
        return self.own(node, "due")

    @staticmethod
    def effective(*dates):
        given = [value for value in dates if value is not None]
        return max(given) if given else None


def inaccessible_by_schedule(schedule, tree, now):
    """Sequences not released yet (course, section or own start), or closed after due."""
    if schedule.course_start is None or now < schedule.course_start:
        return {sequence.usage_key for _, sequences in tree for sequence in sequences}
    inaccessible = set()
    for section, sequences in tree:
        section_start = schedule.start(section)
        for sequence in sequences:
            if section_start is not None and now < section_start:
                inaccessible.add(sequence.usage_key)
                continue
            start = schedule.start(sequence)
            if start is not None and now < start:
                inaccessible.add(sequence.usage_key)
                continue
            due = schedule.course_end if schedule.self_paced else schedule.due(sequence)
            if sequence.get("hide_after_due") and due is not None and now > due:
                inaccessible.add(sequence.usage_key)
    return inaccessible


def whole_days(value):
    """Upstream keeps days_early_for_beta as an integer column."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


@outline.get(schema=OutlineQuery(), validators=(colander_querystring_validator,),
             responses={200: doc.OUTLINE,
                        401: "An anonymous caller asking for a course that is not found.",
                        403: "Another user's outline, and not course staff.",
                        404: "No such course or user."})
def get_course_outline(request):
    """The course outline (sections and sequences) as the caller, or a named user, sees it."""

    course_key = course_key_or_400(request.matchdict["course_key_str"])
    now = utcnow()
    db = request.dbsession
    user = target_user(request, course_key)
    course = api.get_course(db, course_key)
    if course is None:
        if user is None:
            # Anonymous callers learn nothing about which courses exist.
            raise auth.not_authenticated(outline.auth_classes, "drf")
        raise not_found()
    structure = api.get_structure(request.registry, db, course)
    context = api.user_context(request, course, user)
    tree = outline_tree(structure)
    schedule = Schedule(course, context.is_beta_tester)
    if can_see_all_content(db, user, course_key):
        removed, inaccessible = set(), set()
    else:
        removed = removed_for_learner(structure, course, context, tree)
        inaccessible = inaccessible_by_schedule(schedule, tree, now)
        if course.course_visibility == "public_outline" and not context.is_enrolled:
            inaccessible |= {sequence.usage_key for _, sequences in tree
                             for sequence in sequences}
    sections, sequences = [], {}
    for section, section_sequences in tree:
        if section.usage_key in removed:
            continue
        kept = [sequence for sequence in section_sequences if sequence.usage_key not in removed]
        section_start = schedule.start(section)
        section_effective = schedule.effective(schedule.course_start, section_start)
        sections.append({
            "id": section.usage_key,
            "title": display_name_with_default(section),
            "sequence_ids": [sequence.usage_key for sequence in kept],
            "start": isoformat(section_start),
            "effective_start": isoformat(section_effective),
        })
        for sequence in kept:
            start = schedule.start(sequence)
            sequences[sequence.usage_key] = {
                "id": sequence.usage_key,
                "title": display_name_with_default(sequence),
                "accessible": sequence.usage_key not in inaccessible,
                "inaccessible_after_due": bool(sequence.get("hide_after_due")),
                "start": isoformat(start),
                "effective_start": isoformat(schedule.effective(section_effective, start)),
                "due": isoformat(schedule.due(sequence)),
            }
    settings = course.settings or {}
    return {
        "course_key": str(course_key),
        "course_start": isoformat(schedule.course_start),
        "course_end": isoformat(schedule.course_end),
        "title": course.display_name,
        "published_at": isoformat(api.parse_date(course.published_at)),
        "published_version": course.version,
        "entrance_exam_id": settings.get("entrance_exam_id"),
        "days_early_for_beta": whole_days(course.days_early_for_beta),
        "self_paced": bool(course.self_paced),
        "username": user.username if user is not None else "",
        "user_id": user.id if user is not None else None,
        "at_time": isoformat(now),
        "outline": {"sections": sections, "sequences": sequences},
    }
