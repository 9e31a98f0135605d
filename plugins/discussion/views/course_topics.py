"""A course's discussion topics (upstream ``CourseTopicsView``, ``CourseTopicsViewV2``,
``CourseTopicsViewV3``).

- ``v1/course_topics/{course_id}``: the started inline discussions grouped by
  ``discussion_category`` (categories in alphanumeric order, topics in course order),
  and the course-wide topics in policy order, each with an absolute ``thread_list_url``
  and thread counts (null for categories);
  ``topic_id=a,b`` keeps those (404 ``Discussion not found for '<ids>'.`` otherwise);
- ``v2/course_topics/{course_id}``: every topic flat, ``order_by`` course_structure
  (default), activity or name;
- ``v3/course_topics/{course_id}``: course-wide topics, then the course outline
  (chapters, their sequentials, their topics).

Inline topics are the discussion blocks the requester may see (the courses plugin's
access rule: unreleased chapters and other groups' content are hidden from learners).
"""
import re
from urllib.parse import urlencode

import colander
from sqlalchemy import func, select

from lms.errors import developer
from lms.openapi import BOOLEAN, NUMBER, STRING, array, nullable, obj
from lms.request import query_params
from lms.service import Service
from plugins.courses import api as courses_api
from plugins.discussion import access, config
from plugins.discussion.forms import Choice, Text, optional, validated
from plugins.discussion.models import Thread

topics_v1 = Service("discussion.course_topics", "/api/discussion/v1/course_topics/{course_id}",
                    errors="developer")
topics_v2 = Service("discussion.course_topics_v2",
                    "/api/discussion/v2/course_topics/{course_id}", errors="developer")
topics_v3 = Service("discussion.course_topics_v3",
                    "/api/discussion/v3/course_topics/{course_id}", errors="developer")

COUNTS = nullable(obj({"discussion": NUMBER, "question": NUMBER}))
LEAF = obj({"id": nullable(STRING), "name": STRING, "thread_list_url": STRING,
            "children": array(obj({})), "thread_counts": COUNTS})
V2_TOPIC = obj({"id": STRING, "usage_key": nullable(STRING), "name": STRING,
                "thread_counts": COUNTS, "enabled_in_context": BOOLEAN})
ERRORS = {401: "Not signed in.",
          404: "Unknown or hidden course, discussions off, or unknown `topic_id`s."}
ORDERINGS = ("course_structure", "activity", "name")


def thread_counts(db, course_key):
    """``{topic id: {"discussion": n, "question": n}}`` of the course (one query)."""
    counts = {}
    rows = db.execute(select(Thread.topic_id, Thread.thread_type, func.count(Thread.id))
                      .where(Thread.course_key == course_key)
                      .group_by(Thread.topic_id, Thread.thread_type))
    for topic_id, kind, count in rows:
        counts.setdefault(topic_id, {"discussion": 0, "question": 0})[kind] = count
    return counts


def counts_of(counts, topic_id):
    return counts.get(topic_id, {"discussion": 0, "question": 0})


def thread_list_url(request, course_key, topic_ids):
    query = [("course_id", course_key)] + [("topic_id", topic) for topic in topic_ids]
    return f"{request.application_url}/api/discussion/v1/threads/?{urlencode(query)}"


def visible_inline_topics(request, context):
    """The inline topics the requester may see, and the course's structure."""
    access_rule = courses_api.content_access(request.registry, request.dbsession,
                                             context.user, context.course)
    topics = [topic for topic in config.inline_topics(access_rule.structure)
              if access_rule.may_see(topic.usage_key)]
    return topics, access_rule.structure


def requested_ids(values):
    raw = values.get("topic_id")
    return {topic for topic in raw.strip(",").split(",") if topic} if raw else None


class TopicsQuery(colander.MappingSchema):
    topic_id = optional(Text())
    order_by = optional(Choice(ORDERINGS))


# -- v1 -----------------------------------------------------------------------------------------

def natural_key(text):
    """Upstream's alphanumeric category order: "Week 2" before "Week 10"."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"([0-9]+)", text)]


@topics_v1.get(query={"topic_id": "Comma-separated topic ids to keep."},
               responses={200: obj({"courseware_topics": array(LEAF),
                                    "non_courseware_topics": array(LEAF)}), **ERRORS})
def get_topics_v1(request):
    """The course's topics: courseware categories and course-wide topics."""
    context = access.load_course(request, request.matchdict["course_id"])
    wanted = requested_ids(validated(TopicsQuery(), dict(query_params(request))))
    counts = thread_counts(request.dbsession, context.course_key)
    key = context.course_key
    inline, _ = visible_inline_topics(request, context)
    by_category = {}
    for topic in inline:
        # Only started discussions (any, in a self-paced course), even for staff.
        if context.course.self_paced or (topic.start is not None and topic.start < context.now):
            by_category.setdefault(topic.category, []).append(topic)
    found = set()
    courseware = []
    for category in sorted(by_category, key=natural_key):
        children = []
        for topic in by_category[category]:
            if wanted and topic.topic_id not in wanted:
                continue
            found.add(topic.topic_id)
            children.append({"id": topic.topic_id, "name": topic.target,
                             "thread_list_url": thread_list_url(request, key, [topic.topic_id]),
                             "children": [], "thread_counts": counts_of(counts, topic.topic_id)})
        if not wanted or children:
            courseware.append({"id": None, "name": category,
                               "thread_list_url": thread_list_url(
                                   request, key, [t.topic_id for t in by_category[category]]),
                               "children": children, "thread_counts": None})
    non_courseware = []
    for topic in config.course_wide_topics(context.course):
        if wanted and topic.topic_id not in wanted:
            continue
        found.add(topic.topic_id)
        non_courseware.append({"id": topic.topic_id, "name": topic.name,
                               "thread_list_url": thread_list_url(request, key, [topic.topic_id]),
                               "children": [],
                               "thread_counts": counts_of(counts, topic.topic_id)})
    if wanted and wanted - found:
        missing = ", ".join(sorted(wanted - found))
        raise developer(404, f"Discussion not found for '{missing}'.")
    return {"courseware_topics": courseware, "non_courseware_topics": non_courseware}


# -- v2 -----------------------------------------------------------------------------------------

def flat_topics(request, context, counts):
    """Course-wide topics (no usage key), then inline ones in course order."""
    topics = [{"id": topic.topic_id, "usage_key": None, "name": topic.name,
               "thread_counts": counts_of(counts, topic.topic_id), "enabled_in_context": True}
              for topic in config.course_wide_topics(context.course)]
    inline, structure = visible_inline_topics(request, context)
    topics += [{"id": topic.topic_id, "usage_key": topic.usage_key, "name": topic.target,
                "thread_counts": counts_of(counts, topic.topic_id), "enabled_in_context": True}
               for topic in inline]
    return topics, inline, structure


@topics_v2.get(query={"topic_id": "Comma-separated topic ids to keep.",
                      "order_by": "`course_structure` (default), `activity` or `name`."},
               responses={200: array(V2_TOPIC), 400: "A bad `order_by` (`field_errors`).",
                          **ERRORS})
def get_topics_v2(request):
    """Every topic of the course, flat (the discussion tab is not asked, as upstream)."""
    context = access.load_course(request, request.matchdict["course_id"], check_tab=False)
    values = validated(TopicsQuery(), dict(query_params(request)))
    wanted = requested_ids(values)
    counts = thread_counts(request.dbsession, context.course_key)
    topics, _, _ = flat_topics(request, context, counts)
    if wanted:
        topics = [topic for topic in topics if topic["id"] in wanted]
    order_by = values.get("order_by", "course_structure")
    if order_by == "name":
        topics.sort(key=lambda topic: topic["name"])  # upstream: order_by("title")
    elif order_by == "activity":
        topics.sort(key=lambda topic: -sum(topic["thread_counts"].values()))
    return topics


# -- v3 -----------------------------------------------------------------------------------------

def block_node(request, course_key, node, kind):
    base = request.application_url
    return {"id": node.usage_key, "block_id": node.block_id,
            "lms_web_url": f"{base}/courses/{course_key}/jump_to/{node.usage_key}",
            "legacy_web_url": f"{base}/courses/{course_key}/jump_to/{node.usage_key}"
                              "?experience=legacy",
            "student_view_url": f"{base}/xblock/{node.usage_key}",
            "type": kind, "display_name": node.display_name or ""}


@topics_v3.get(responses={200: array(obj({})), **ERRORS})
def get_topics_v3(request):
    """Course-wide topics, then chapters → sequentials → their topics (the discussion tab
    is not asked, as upstream)."""
    context = access.load_course(request, request.matchdict["course_id"], check_tab=False)
    counts = thread_counts(request.dbsession, context.course_key)
    topics, inline, structure = flat_topics(request, context, counts)
    answer = [{**topic, "courseware": False} for topic in topics if topic["usage_key"] is None]
    by_sequential = {}
    for topic, entry in zip(inline, (t for t in topics if t["usage_key"] is not None)):
        sequential = next((key for key in topic.ancestors
                           if structure.blocks[key].block_type == "sequential"), None)
        if sequential is not None:
            by_sequential.setdefault(sequential, []).append(entry)
    root = structure.blocks[structure.root]
    for chapter_key in root.children:
        chapter = structure.blocks.get(chapter_key)
        if chapter is None or chapter.block_type != "chapter":
            continue
        sequentials = []
        for sequential_key in chapter.children:
            if sequential_key in by_sequential:
                children = by_sequential[sequential_key]
                sequentials.append({**block_node(request, context.course_key,
                                                 structure.blocks[sequential_key],
                                                 "sequential"),
                                    "children": children,
                                    "thread_counts": {
                                        kind: sum(c["thread_counts"][kind] for c in children)
                                        for kind in ("discussion", "question")}})
        if sequentials:
            answer.append({**block_node(request, context.course_key, chapter, "chapter"),
                           "children": sequentials, "courseware": True})
    return answer
