"""The block tree of one course version, in memory, with inherited settings.

Built from the version's rows in one query and cached per version (versions
are immutable), so a request never rebuilds a tree another request built.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select

from lms.timeutil import aware
from plugins.courses.models import Block

# Settings a block takes from its parent unless it sets them (Open edX InheritanceMixin).
INHERITED_FIELDS = (
    "start", "due", "graceperiod", "visible_to_staff_only", "hide_after_due",
    "show_correctness", "showanswer", "days_early_for_beta", "max_attempts",
    "rerandomize", "self_paced",
)
DATE_FIELDS = ("start", "due")
# Open edX's default start for blocks and courses with none.
DEFAULT_START = datetime(2030, 1, 1, tzinfo=timezone.utc)


def parse_date(value):
    if value is None or isinstance(value, datetime):
        return aware(value)
    try:
        return aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


@dataclass
class BlockNode:
    usage_key: str
    block_type: str
    block_id: str
    display_name: str | None
    children: list
    fields: dict
    data: dict
    parents: list = field(default_factory=list)
    # Own settings merged over the inherited ones; dates parsed.
    inherited: dict = field(default_factory=dict)
    # group_access of this block merged with its ancestors' (partition id -> group ids).
    merged_group_access: dict = field(default_factory=dict)
    depth: int = 0

    def get(self, name, default=None):
        """A setting as the block sees it (own value, else inherited)."""
        if name in self.inherited:
            return self.inherited[name]
        return self.fields.get(name, default)


@dataclass
class CourseStructure:
    course_key: str
    version: str
    root: str
    blocks: dict  # usage key -> BlockNode, in document (pre-)order

    @property
    def order(self):
        return list(self.blocks)

    def descendants(self, usage_key):
        """Usage keys below ``usage_key`` (document order), the block excluded."""
        found, stack = [], list(reversed(self.blocks[usage_key].children))
        seen = set()
        while stack:
            key = stack.pop()
            if key in seen or key not in self.blocks:
                continue
            seen.add(key)
            found.append(key)
            stack.extend(reversed(self.blocks[key].children))
        return found

    def ancestors(self, usage_key):
        """The first parent chain up to the root (nearest first)."""
        chain, node = [], self.blocks.get(usage_key)
        while node is not None and node.parents:
            parent = node.parents[0]
            chain.append(parent)
            node = self.blocks.get(parent)
        return chain


def _merge_group_access(parent, own):
    """Intersect restrictions: a block is visible to a group only if every ancestor allows it."""
    merged = {int(k): set(v) for k, v in (parent or {}).items()}
    for partition, groups in (own or {}).items():
        partition = int(partition)
        groups = {int(g) for g in groups or ()}
        if not groups:
            continue
        merged[partition] = merged[partition] & groups if partition in merged else groups
    return merged


def build_structure(course_key, version, rows):
    """``rows``: Block rows of one version. Computes parents, depth and inheritance."""
    blocks = OrderedDict()
    for row in sorted(rows, key=lambda r: r.position):
        blocks[row.usage_key] = BlockNode(
            usage_key=row.usage_key, block_type=row.block_type, block_id=row.block_id,
            display_name=row.display_name, children=[c for c in row.children or ()],
            fields=dict(row.fields or {}), data=dict(row.data or {}))
    root = next((key for key, node in blocks.items() if node.block_type == "course"), None)
    if root is None:
        raise ValueError(f"course {course_key} version {version} has no course block")
    for key, node in blocks.items():
        node.children = [child for child in node.children if child in blocks]
        for child in node.children:
            blocks[child].parents.append(key)
    # Breadth-first from the root: depth is the shortest path, inheritance from the first parent.
    queue, visited = [root], {root}
    root_node = blocks[root]
    root_node.inherited = {name: root_node.fields[name] for name in INHERITED_FIELDS
                           if name in root_node.fields}
    root_node.merged_group_access = _merge_group_access({}, root_node.fields.get("group_access"))
    while queue:
        key = queue.pop(0)
        node = blocks[key]
        for child_key in node.children:
            if child_key in visited:
                continue
            visited.add(child_key)
            child = blocks[child_key]
            child.depth = node.depth + 1
            child.inherited = dict(node.inherited)
            for name in INHERITED_FIELDS:
                if name in child.fields and child.fields[name] is not None:
                    child.inherited[name] = child.fields[name]
            child.merged_group_access = _merge_group_access(
                node.merged_group_access, child.fields.get("group_access"))
            queue.append(child_key)
    for node in blocks.values():
        for name in DATE_FIELDS:
            if name in node.inherited:
                node.inherited[name] = parse_date(node.inherited[name])
    # Unreachable blocks (orphans) are not part of the course.
    for key in [key for key in blocks if key not in visited]:
        del blocks[key]
    return CourseStructure(course_key=course_key, version=version, root=root, blocks=blocks)


class StructureCache:
    """A small LRU of built structures, keyed by version (kept on the registry)."""

    def __init__(self, size):
        self.size = size
        self._items = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many trees were built (for tests and benchmarks)

    def get(self, db, course):
        with self._lock:
            cached = self._items.get(course.version)
            if cached is not None:
                self._items.move_to_end(course.version)
                return cached
        rows = db.scalars(select(Block).where(Block.version == course.version)).all()
        structure = build_structure(course.course_key, course.version, rows)
        with self._lock:
            self.builds += 1
            self._items[course.version] = structure
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return structure
