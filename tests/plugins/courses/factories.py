"""Courses for tests, stored through the plugin's own ``store_course``.

``Node(type, block_id, children=[...], display_name=..., **fields)`` describes a
block; ``make_course(db, tree)`` stores the tree (document order) and commits.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from lms.keys import parse_course_key
from plugins.courses.api import store_course

PAST = datetime(2020, 1, 1, tzinfo=timezone.utc)
FUTURE = datetime.now(timezone.utc) + timedelta(days=365)


@dataclass
class Node:
    block_type: str
    block_id: str
    children: list = field(default_factory=list)
    display_name: str | None = None
    data: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)

    def __init__(self, block_type, block_id, children=(), display_name=None, data=None,
                 **fields):
        self.block_type, self.block_id = block_type, block_id
        self.children, self.display_name = list(children), display_name
        self.data, self.fields = dict(data or {}), fields


def usage_key(course_key, block_type, block_id):
    return str(parse_course_key(course_key).make_usage_key(block_type, block_id))


def flatten(course_key, node):
    blocks = []

    def visit(n):
        key = usage_key(course_key, n.block_type, n.block_id)
        fields = {k: (v.isoformat() if isinstance(v, datetime) else v)
                  for k, v in n.fields.items()}
        blocks.append({
            "usage_key": key, "block_type": n.block_type, "block_id": n.block_id,
            "display_name": n.display_name, "fields": fields, "data": n.data,
            "children": [usage_key(course_key, c.block_type, c.block_id) for c in n.children],
        })
        for child in n.children:
            visit(child)

    visit(node)
    return blocks


def demo_tree():
    """A small course: one released chapter, one future chapter, one staff-only unit."""
    return Node("course", "course", display_name="Demo Course", children=[
        Node("chapter", "week1", display_name="Week 1", children=[
            Node("sequential", "lesson1", display_name="Lesson 1", graded=True,
                 format="Homework", due=datetime(2030, 6, 1, tzinfo=timezone.utc), children=[
                     Node("vertical", "unit1", display_name="Unit 1", children=[
                         Node("html", "intro", display_name="Intro",
                              data={"html": "<p>Hello <b>learners</b></p>"}),
                         Node("problem", "quiz", display_name="Quiz", weight=1.0,
                              data={"xml": "<problem><multiplechoiceresponse/></problem>"}),
                         Node("video", "welcome", display_name="Welcome",
                              data={"youtube_id_1_0": "3_yD_cEKoCk", "html5_sources": []}),
                     ]),
                     Node("vertical", "staffnotes", display_name="Staff notes",
                          visible_to_staff_only=True, children=[
                              Node("html", "secret", display_name="Secret",
                                   data={"html": "<p>staff</p>"}),
                          ]),
                 ]),
        ]),
        Node("chapter", "week2", display_name="Week 2", start=FUTURE, children=[
            Node("sequential", "lesson2", display_name="Lesson 2", children=[
                Node("vertical", "unit2", display_name="Unit 2", children=[
                    Node("html", "later", display_name="Later", data={"html": "<p>soon</p>"}),
                ]),
            ]),
        ]),
    ])


DEMO_KEY = "course-v1:edX+Demo+2026"


def make_course(db, tree=None, course_key=DEMO_KEY, commit=True, **overview):
    tree = tree or demo_tree()
    overview.setdefault("display_name", tree.display_name or "")
    overview.setdefault("start", PAST)
    course = store_course(db, course_key, overview, flatten(course_key, tree))
    if commit:
        db.commit()
    return course
