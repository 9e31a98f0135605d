"""The block tree of one course version, in memory, with inherited settings.

Built from the version's rows in one query and cached per version (versions
are immutable), so a request never rebuilds a tree another request built. The
cache is bounded in entries and in estimated bytes (:class:`StructureCache`).
"""
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import Text, cast, func, select

from lms.timeutil import aware
from plugins.courses.models import Block

log = logging.getLogger(__name__)

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


# What a built tree costs in memory, with the per-version facts and walks that
# plugins.courses.blocks keeps beside it: per block, objects and dicts whatever the
# content; per character of the block rows' JSON, the decoded strings (about twice
# it, with the facts' copies). Measured on the 5,000-block bench course: 13 MB.
BYTES_PER_BLOCK = 2500
BYTES_PER_JSON_CHARACTER = 2
# The JSON text of a block's columns, read with the rows (its length is a cheap size).
_JSON_LENGTH = (func.length(cast(Block.fields, Text)) + func.length(cast(Block.data, Text))
                + func.length(cast(Block.children, Text)))


def estimated_bytes(blocks, json_length):
    """The memory a structure of ``blocks`` blocks holds, from its rows' JSON length."""
    return blocks * BYTES_PER_BLOCK + (json_length or 0) * BYTES_PER_JSON_CHARACTER


class StructureCache:
    """An LRU of built structures, keyed by version (kept on the registry).

    Bounded twice: at most ``size`` structures, and at most ``max_bytes`` estimated
    bytes (:func:`estimated_bytes`, from the rows read to build it). The least
    recently used go first; a structure larger than ``max_bytes`` alone is built
    for its request and not kept.
    """

    def __init__(self, size, max_bytes):
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0  # estimated bytes held now
        self._items = OrderedDict()  # version -> (structure, estimated bytes)
        self._lock = threading.Lock()
        self.builds = 0  # how many trees were built (for tests and benchmarks)

    def clear(self):
        """Forget every structure and the build count (see :mod:`lms.process_state`)."""
        with self._lock:
            self._items.clear()
            self.bytes = 0
            self.builds = 0

    def get(self, db, course):
        with self._lock:
            cached = self._items.get(course.version)
            if cached is not None:
                self._items.move_to_end(course.version)
                return cached[0]
        found = db.execute(select(Block, _JSON_LENGTH)
                           .where(Block.version == course.version)).all()
        structure = build_structure(course.course_key, course.version,
                                    [block for block, _ in found])
        cost = estimated_bytes(len(found), sum(length or 0 for _, length in found))
        with self._lock:
            self.builds += 1
            if cost > self.max_bytes:
                log.warning("course %s version %s needs about %d bytes, more than "
                            "courses.structure_cache_bytes (%d): not cached",
                            course.course_key, course.version, cost, self.max_bytes)
                return structure
            replaced = self._items.pop(course.version, None)
            if replaced is not None:  # built by two requests at once
                self.bytes -= replaced[1]
            self._items[course.version] = (structure, cost)
            self.bytes += cost
            while len(self._items) > self.size or self.bytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self.bytes -= evicted
        return structure
