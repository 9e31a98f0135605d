"""The course blocks API (Open edX ``course_api.blocks``) as a transformation of the
in-memory block tree, and the ``block_metadata`` index dictionary.

:func:`get_blocks` follows upstream's transformer pipeline on a
:class:`~plugins.courses.structure.CourseStructure`:

1. the blocks below the requested root that the viewer may see (access is
   decided by the content rule, :class:`plugins.courses.access.ContentAccess`;
   ``visible=None`` is ``all_blocks``: no filtering);
2. ``block_counts`` over those blocks, *before* depth pruning;
3. depth (shortest path from the root) and pruning to ``depth``;
4. ``nav_depth`` descendants, then completion (``completion``, ``complete``,
   ``resume_block``) on the pruned tree;
5. order: upstream serializes the structure in the order its final pruning
   rebuilt it, which is post-order (children before their parent, root last);
6. ``block_types_filter``: a removed block's children are appended to its
   parents' children (upstream ``remove_block(keep_descendants=True)``);
7. serialization: the always-present fields, then each requested field whose
   value is not null.

What never depends on the viewer (display names with their defaults,
inherited dates, merged staff-only flags, URL paths, student view data...) is
computed once per course version (:func:`block_facts`, cached with the
structure), and so are the walks below each requested root (reachability,
post-order, depths: :func:`walk`); a viewer's walk is a restriction of it, so a
request only filters the tree a constant number of times.

Absolute URLs use the request's site root (``request.application_url``), as
upstream's ``reverse(..., request=request)`` does.
"""
import html
import json
import re
import threading
import weakref
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser

from lms.timeutil import isoformat
from plugins.courses.structure import DEFAULT_START

# Requestable fields in the order upstream's serializer emits them (its
# SUPPORTED_FIELDS), with the response key where it differs.
FIELD_ORDER = (
    "type", "display_name", "effort_activities", "effort_time", "graded", "format", "start",
    "due", "contains_gated_content", "has_score", "has_scheduled_content", "weight",
    "show_correctness", "hide_from_toc", "icon_class", "student_view_data",
    "student_view_multi_device", "special_exam_info", "block_counts", "nav_depth",
    "visible_to_staff_only", "hide_after_due", "completion", "complete", "resume_block",
)
RESPONSE_NAMES = {"nav_depth": "descendants"}
# Always requested (BlockListGetForm adds them to requested_fields).
DEFAULT_FIELDS = frozenset({"type", "display_name"})

# Field defaults of the built-in block classes when the OLX sets no display_name.
DISPLAY_NAME_DEFAULTS = {
    "html": "Text", "problem": "Blank Problem", "video": "Video", "discussion": "Discussion",
    "split_test": "Content Experiment",
}
# ``has_score`` is a class attribute for these, a settings field for FIELD_SCORED.
ALWAYS_SCORED = frozenset({"problem", "openassessment", "drag-and-drop-v2", "edx_sga"})
FIELD_SCORED = frozenset({"lti", "lti_consumer", "scorm"})
# ``weight`` field defaults (problems have none).
WEIGHT_DEFAULTS = {"lti": 1.0, "lti_consumer": 1.0}
ICON_CLASSES = {"video": "video", "problem": "problem"}  # every other block: "other"
# Blocks whose student_view is marked ``@XBlock.supports("multi_device")``.
MULTI_DEVICE_TYPES = frozenset({"html", "poll", "survey", "lti_consumer", "drag-and-drop-v2"})
# ``hide_from_toc`` is a field of sections/subsections (and the course block).
TOC_TYPES = frozenset({"course", "chapter", "sequential"})

# XBlockCompletionMode of the built-in block types (every other block is completable).
AGGREGATOR = "aggregator"
EXCLUDED = "excluded"
COMPLETABLE = "completable"
AGGREGATOR_TYPES = frozenset({"course", "chapter", "sequential", "vertical", "split_test",
                              "library_content", "conditional"})
EXCLUDED_TYPES = frozenset({"discussion"})

HTML_VIEW_DATA_DISABLED = {
    "enabled": False,
    "message": 'To enable, set FEATURES["ENABLE_HTML_XBLOCK_STUDENT_VIEW_DATA"]',
}
YOUTUBE_WATCH_URL = "https://www.youtube.com/watch?v="
# edx-val profiles student_view_data asks for (upstream also asks for desktop_webm,
# which its stream-priority step cannot rank: left out).
VAL_PROFILES = ("mobile_low", "desktop_mp4", "mobile_high")
VIDEO_STREAM_PRIORITY = {"hls": 0, "mobile_low": 1, "mobile_high": 2, "desktop_mp4": 3,
                         "fallback": 4, "youtube": 5}


@dataclass(frozen=True)
class BlocksParams:
    """The validated query of a blocks request (see the view's schema)."""

    depth: int | None = 0  # None: "all"
    nav_depth: int | None = None
    requested_fields: frozenset = DEFAULT_FIELDS
    block_counts: frozenset = frozenset()
    student_view_data: frozenset = frozenset()
    block_types_filter: frozenset = frozenset()
    return_type: str = "dict"


@dataclass
class BlockFacts:
    """What the API says about one block whatever the viewer."""

    usage_key: str
    block_type: str
    block_id: str
    display_name: str
    jump_path: str  # /courses/<course>/jump_to/<usage key>
    xblock_path: str  # /xblock/<usage key>
    static: dict  # requestable field -> value (null values left out)
    completion_mode: str
    hide_from_toc: bool
    html: str | None = None
    video: dict | None = None
    discussion_id: str | None = None


@dataclass
class Transformed:
    """A blocks response under construction (kept for the view's ``?course_id=`` extras)."""

    root: str
    order: list
    blocks: dict = field(default_factory=dict)


# -- per-structure facts -----------------------------------------------------------

class _PerStructure:
    """Values computed once per structure object, dropped when the structure is.

    Structures are unhashable dataclasses, so entries are keyed by identity and
    removed by a weak reference callback.
    """

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def get(self, structure, build):
        key = id(structure)
        with self._lock:
            entry = self._items.get(key)
        if entry is not None and entry[0]() is structure:
            return entry[1]
        value = build()

        def forget(_ref, key=key):
            with self._lock:
                current = self._items.get(key)
                if current is not None and current[0] is _ref:
                    del self._items[key]

        with self._lock:
            self._items[key] = (weakref.ref(structure, forget), value)
        return value


_FACTS = _PerStructure()
_WALKS = _PerStructure()  # per structure: {root: _Walk}


def setting(node, name, default=None):
    """A block setting wherever the importer keeps it (settings first, then content)."""
    if name in node.fields and node.fields[name] is not None:
        return node.fields[name]
    value = node.data.get(name)
    return default if value is None else value


def display_name(node):
    if node.display_name is not None:
        return node.display_name
    return DISPLAY_NAME_DEFAULTS.get(node.block_type, "")


def completion_mode(block_type):
    if block_type in AGGREGATOR_TYPES:
        return AGGREGATOR
    if block_type in EXCLUDED_TYPES:
        return EXCLUDED
    return COMPLETABLE


def _as_float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_json(value, default):
    """A JSON field that an importer may have left encoded."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return default if value is None else value


def _video_facts(node):
    transcripts = _as_json(setting(node, "transcripts"), {}) or {}
    if not isinstance(transcripts, dict):
        transcripts = {}
    transcripts = {lang: name for lang, name in transcripts.items() if name}
    sub = setting(node, "sub") or ""
    # FALLBACK_TO_ENGLISH_TRANSCRIPTS (upstream default): trust the fields, and
    # offer English when no other language is listed or a ``sub`` exists.
    languages = set(transcripts)
    if not languages or sub:
        languages.add("en")
    sources = _as_json(setting(node, "html5_sources"), []) or []
    encoded = _as_json(setting(node, "encoded_videos"), {}) or {}
    if not isinstance(encoded, dict):
        encoded = {}
    return {
        "only_on_web": bool(setting(node, "only_on_web", False)),
        "youtube_id": setting(node, "youtube_id_1_0") or "",
        "html5_sources": [str(source) for source in sources],
        "encoded_videos": {
            profile: {"url": encoded[profile].get("url"),
                      "file_size": encoded[profile].get("file_size") or 0}
            for profile in VAL_PROFILES
            if isinstance(encoded.get(profile), dict) and encoded[profile].get("url")},
        "duration": _as_float(setting(node, "duration")),
        "edx_video_id": (setting(node, "edx_video_id") or "").strip(),
        "languages": sorted(languages),
        "sub": sub,
        "transcripts": transcripts,
    }


def _merged_flags(structure, name):
    """Upstream's merged_<name>: set on the block or on any of its ancestors."""
    merged = {}
    for key, node in structure.blocks.items():  # document order: parents first
        merged[key] = bool(node.fields.get(name)) or any(
            merged.get(parent, False) for parent in node.parents)
    return merged


def block_facts(structure, course_start=None):
    """``{usage key: BlockFacts}`` for a structure (cached with it)."""
    return _FACTS.get(structure, lambda: _build_facts(structure, course_start))


def _build_facts(structure, course_start):
    staff_only = _merged_flags(structure, "visible_to_staff_only")
    hide_after_due = _merged_flags(structure, "hide_after_due")
    course_key = structure.course_key
    facts = {}
    for key, node in structure.blocks.items():
        block_type = node.block_type
        hide_from_toc = node.fields.get("hide_from_toc")
        if hide_from_toc is None and block_type in TOC_TYPES:
            hide_from_toc = False
        if block_type in ALWAYS_SCORED:
            has_score = True
        elif block_type in FIELD_SCORED:
            has_score = bool(node.fields.get("has_score", False))
        else:
            has_score = False
        weight = node.fields.get("weight", WEIGHT_DEFAULTS.get(block_type))
        static = {
            "graded": bool(node.fields.get("graded", False)),
            "format": node.fields.get("format"),
            "start": isoformat(node.get("start") or course_start or DEFAULT_START),
            "due": isoformat(node.get("due")),
            "has_score": has_score,
            "weight": _as_float(weight),
            "show_correctness": node.get("show_correctness") or "always",
            "hide_from_toc": None if hide_from_toc is None else bool(hide_from_toc),
            "icon_class": ICON_CLASSES.get(block_type, "other"),
            "student_view_multi_device": block_type in MULTI_DEVICE_TYPES,
            "visible_to_staff_only": staff_only[key],
            "hide_after_due": hide_after_due[key],
        }
        facts[key] = BlockFacts(
            usage_key=key, block_type=block_type, block_id=node.block_id,
            display_name=display_name(node),
            jump_path=f"/courses/{course_key}/jump_to/{key}",
            xblock_path=f"/xblock/{key}",
            static={name: value for name, value in static.items() if value is not None},
            completion_mode=completion_mode(block_type),
            hide_from_toc=bool(hide_from_toc),
            html=(node.data.get("html") or "").replace("%%COURSE_ID%%", course_key)
            if block_type == "html" else None,
            video=_video_facts(node) if block_type == "video" else None,
            discussion_id=setting(node, "discussion_id") if block_type == "discussion" else None,
        )
    return facts


# -- student_view_data ---------------------------------------------------------------

def video_view_data(facts, course_key, base_url, val=None):
    """VideoBlock.student_view_data: the video pipeline's encodings of its
    ``edx_video_id`` (``val``, from the ``lms_video_data`` hook), else the export's
    encodings (edx-val profiles), else the first HTML5 source as ``fallback`` and the
    YouTube video, each with its priority."""
    video = facts.video
    if video["only_on_web"]:
        return {"only_on_web": True}
    sources = list(video["html5_sources"])
    duration = video["duration"]
    if val and val.get("encoded_videos"):
        encoded = {profile: {"url": entry.get("url"), "file_size": entry.get("file_size") or 0}
                   for profile, entry in val["encoded_videos"].items()
                   if profile in VAL_PROFILES and entry.get("url")}
        duration = val.get("duration", duration)
    else:
        encoded = {profile: dict(entry) for profile, entry in video["encoded_videos"].items()}
    if not encoded:
        if sources:
            encoded["fallback"] = {"url": sources[0], "file_size": 0}
        if video["youtube_id"]:
            encoded["youtube"] = {"url": YOUTUBE_WATCH_URL + video["youtube_id"],
                                  "file_size": 0}
    for profile, entry in encoded.items():
        entry["stream_priority"] = VIDEO_STREAM_PRIORITY[profile]
    handler = (f"{base_url}/courses/{course_key}/xblock/{facts.usage_key}"
               "/handler_noauth/transcript/download?lang=")
    return {
        "only_on_web": False,
        "duration": duration,
        "transcripts": {lang: handler + lang for lang in video["languages"]},
        "encoded_videos": encoded,
        "all_sources": sources,
    }


def student_view_data(facts, course_key, base_url, html_enabled, video_data=None):
    """``video_data``: ``{edx_video_id: answer}`` of the ``lms_video_data`` hook."""
    if facts.block_type == "html":
        if html_enabled:
            return {"enabled": True, "html": facts.html}
        return dict(HTML_VIEW_DATA_DISABLED)
    if facts.block_type == "video":
        val = (video_data or {}).get(facts.video["edx_video_id"]) \
            if facts.video["edx_video_id"] else None
        return video_view_data(facts, course_key, base_url, val)
    if facts.block_type == "discussion":
        return {"topic_id": facts.discussion_id}
    return None


# -- tree walks -------------------------------------------------------------------

@dataclass(frozen=True)
class _Walk:
    """The blocks below one root, unfiltered, walked once per course version.

    When every block below the root is reached once (a tree, as courses almost
    always are), a viewer's walk is this one restricted to the blocks they reach:
    dropping whole subtrees keeps the post-order and the depths of the rest.
    """

    children: dict  # key -> children, every block below the root
    order: list  # post-order
    depth: dict
    parent: dict  # key -> its one parent below the root (a tree only)
    is_tree: bool

    def restricted(self, visible):
        """``(children, order, depth)`` of the blocks reached through ``visible`` ones."""
        if visible is None:
            return self.children, self.order, self.depth
        kept, parent = set(), self.parent
        for key in reversed(self.order):  # parents before children
            if key in visible and (key not in parent or parent[key] in kept):
                kept.add(key)
        children = {key: [child for child in kids if child in kept]
                    for key, kids in self.children.items() if key in kept}
        order = [key for key in self.order if key in kept]
        return children, order, {key: self.depth[key] for key in order}

    def pruned(self, children, order, depth, max_depth):
        """A tree's ``children`` and ``order`` without the blocks deeper than ``max_depth``."""
        kept = {key for key in order if depth[key] <= max_depth}
        return ({key: [child for child in kids if child in kept]
                 for key, kids in children.items() if key in kept},
                [key for key in order if key in kept])


def walk(structure, root):
    """The :class:`_Walk` below ``root``, built once per structure (course version)."""
    walks = _WALKS.get(structure, dict)
    found = walks.get(root)
    if found is None:
        found = walks[root] = _build_walk(structure, root)
    return found


def _build_walk(structure, root):
    children = _reachable(structure, root, None)
    parent, is_tree = {}, True
    for key, kids in children.items():
        for child in kids:
            if child in parent or child == root:
                is_tree = False
            parent[child] = key
    return _Walk(children=children, order=post_order(root, children),
                 depth=_depths(root, children) if children else {},
                 parent=parent, is_tree=is_tree)


def _reachable(structure, root, visible):
    """``{key: children}`` of the blocks under ``root`` that ``visible`` keeps."""
    blocks = structure.blocks
    if visible is not None and root not in visible:
        return {}
    children = {}
    stack = [root]
    while stack:
        key = stack.pop()
        if key in children:
            continue
        kids = blocks[key].children
        if visible is not None:
            kids = [child for child in kids if child in visible]
        children[key] = kids
        stack.extend(reversed(kids))
    return children


def _parents(children):
    parents = {key: [] for key in children}
    for key, kids in children.items():
        for child in kids:
            parents[child].append(key)
    return parents


def post_order(root, children):
    """Children before parents, each block once (upstream traverse_post_order)."""
    if root not in children:
        return []
    order, done = [], set()
    stack = [(root, iter(children[root]))]
    on_stack = {root}
    while stack:
        key, kids = stack[-1]
        child = next(kids, None)
        if child is None:
            stack.pop()
            on_stack.discard(key)
            if key not in done:
                done.add(key)
                order.append(key)
        elif child not in done and child not in on_stack:
            on_stack.add(child)
            stack.append((child, iter(children[child])))
    return order


def topological_order(root, children, parents):
    """Pre-order, a block only once all its parents came (upstream traverse_topologically)."""
    if root not in children:
        return []
    order, seen = [], set()
    stack = [root]
    while stack:
        key = stack.pop()
        if key in seen or not all(parent in seen for parent in parents[key]):
            continue
        seen.add(key)
        order.append(key)
        stack.extend(reversed(children[key]))
    return order


def _depths(root, children):
    depth = {root: 0}
    queue = deque([root])
    while queue:
        key = queue.popleft()
        for child in children[key]:
            if child not in depth:
                depth[child] = depth[key] + 1
                queue.append(child)
    return depth


def _block_counts(order, children, facts, types):
    """Per block, how many blocks of each type it and its descendants hold."""
    counts = {}
    for key in order:  # post-order: children are counted first
        own = facts[key].block_type
        counts[key] = {
            block_type: (own == block_type) + sum(counts[child][block_type]
                                                  for child in children[key])
            for block_type in types
        }
    return counts


def _navigation(order, parents, depth, facts, nav_depth):
    """``descendants`` lists of BlockNavigationTransformer."""
    descendants, lists_for_children = {}, {}
    for key in order:
        inherited = []
        for parent in parents[key]:
            for found in lists_for_children.get(parent) or ():
                if not any(found is known for known in inherited):
                    inherited.append(found)
        passed_on = None
        if not facts[key].hide_from_toc and (not parents[key] or inherited):
            for found in inherited:
                found.append(key)
            if depth[key] > nav_depth:
                passed_on = inherited
            else:
                own = []
                descendants[key] = own
                passed_on = [own]
        lists_for_children[key] = passed_on
    return descendants


def _completion(order, children, facts, completions, resume_key):
    """BlockCompletionTransformer: per-block completion, ``complete`` and ``resume_block``."""
    completion = {}
    for key in order:
        if facts[key].completion_mode == COMPLETABLE:
            completion[key] = float(completions.get(key, 0.0))
        else:
            completion[key] = None
    complete, resume = set(), set()
    complete_keys = {key for key, value in completions.items() if value == 1.0}
    if complete_keys:
        for key in order:  # post-order
            if key in complete_keys:
                complete.add(key)
                if key == resume_key:
                    resume.add(key)
            elif facts[key].completion_mode == AGGREGATOR:
                kids = children[key]
                if all(child in complete for child in kids
                       if facts[child].completion_mode != EXCLUDED):
                    complete.add(key)
                if any(child in resume for child in kids):
                    resume.add(key)
    return completion, complete, resume


def _filter_types(order, children, parents, facts, types):
    """Remove blocks of other types, re-attaching their children to their parents."""
    children = {key: list(kids) for key, kids in children.items()}
    parents = {key: list(found) for key, found in parents.items()}
    removed = [key for key in order if facts[key].block_type not in types]
    for key in removed:
        kids, found = children.pop(key), parents.pop(key)
        for child in kids:
            parents[child].remove(key)
        for parent in found:
            children[parent].remove(key)
        for child in kids:
            for parent in found:
                parents[child].append(parent)
                children[parent].append(child)
    gone = set(removed)
    return [key for key in order if key not in gone], children


# -- the transformation --------------------------------------------------------------

def get_blocks(structure, root, visible, params, *, base_url, course_start=None,
               html_enabled=False, completions=None, resume_key=None, video_data=None):
    """The blocks response (a dict, or a list for ``return_type=list``).

    - ``root``: a usage key string present in ``structure``;
    - ``visible``: usage keys the viewer may see, or None for all blocks;
    - ``completions``: ``{usage key: 0.0..1.0}`` when completion is known (a user
      and a completion plugin), else None (completion fields are left out);
    - ``video_data``: ``f(edx_video_ids) -> {id: answer}`` (the ``lms_video_data`` hook),
      asked once for the response's video blocks that carry an id.
    """
    facts = block_facts(structure, course_start)
    requested = params.requested_fields
    tree = walk(structure, root)
    if tree.is_tree or visible is None:
        children, order, depth = tree.restricted(visible)
    else:  # a block with two parents: this viewer's own walk
        children = _reachable(structure, root, visible)
        order = post_order(root, children)
        depth = _depths(root, children) if children else {}

    counts = {}
    if params.block_counts:
        counts = _block_counts(order, children, facts, sorted(params.block_counts))

    if params.depth is not None and any(value > params.depth for value in depth.values()):
        if tree.is_tree:
            children, order = tree.pruned(children, order, depth, params.depth)
        else:
            kept = {key for key, value in depth.items() if value <= params.depth}
            children = {key: [child for child in kids if child in kept]
                        for key, kids in children.items() if key in kept}
            order = post_order(root, children)
    parents = _parents(children)

    descendants = {}
    if params.nav_depth is not None:
        descendants = _navigation(topological_order(root, children, parents), parents, depth,
                                  facts, params.nav_depth)

    completion = complete = resume = None
    if "completion" in requested and completions is not None:
        completion, complete, resume = _completion(order, children, facts, completions,
                                                   resume_key)

    if params.block_types_filter:
        order, children = _filter_types(order, children, parents, facts,
                                        params.block_types_filter)

    course_key = structure.course_key
    videos = {}
    if video_data is not None and "student_view_data" in requested \
            and "video" in params.student_view_data:
        ids = sorted({facts[key].video["edx_video_id"] for key in order
                      if facts[key].block_type == "video" and facts[key].video["edx_video_id"]})
        videos = (video_data(ids) or {}) if ids else {}
    dynamic = {
        "student_view_data": lambda f: (
            student_view_data(f, course_key, base_url, html_enabled, videos)
            if f.block_type in params.student_view_data else None),
        "block_counts": lambda f: counts.get(f.usage_key),
        "nav_depth": lambda f: descendants.get(f.usage_key),
        "completion": lambda f: None if completion is None else completion.get(f.usage_key),
        "complete": lambda f: True if complete and f.usage_key in complete else None,
        "resume_block": lambda f: True if resume and f.usage_key in resume else None,
        "type": lambda f: f.block_type,
        "display_name": lambda f: f.display_name,
    }
    emitted = []
    for name in FIELD_ORDER:
        if name in requested:
            getter = dynamic.get(name)
            if getter is None:
                getter = (lambda f, name=name: f.static.get(name))
            emitted.append((RESPONSE_NAMES.get(name, name), getter))
    with_children = "children" in requested

    serialized = []
    for key in order:
        f = facts[key]
        jump = base_url + f.jump_path
        block = {"id": key, "block_id": f.block_id, "lms_web_url": jump,
                 "legacy_web_url": jump + "?experience=legacy",
                 "student_view_url": base_url + f.xblock_path}
        for response_name, getter in emitted:
            value = getter(f)
            if value is not None:
                block[response_name] = value
        if with_children and children[key]:
            block["children"] = list(children[key])
        serialized.append(block)
    if params.return_type == "list":
        return serialized
    return {"root": root, "blocks": {block["id"]: block for block in serialized}}


# -- ?course_id= extras (BlocksInCourseView) ----------------------------------------------

def remove_discussion_blocks(response):
    """For courses on the new discussions provider: drop ``discussion`` blocks.

    Like upstream, a list response comes back as a dict keyed by block id.
    """
    blocks = response["blocks"] if isinstance(response, dict) else {
        block.get("id"): block for block in response}
    discussions = {key for key, block in blocks.items() if block.get("type") == "discussion"}
    kept = {key: block for key, block in blocks.items() if block.get("type") != "discussion"}
    for block in kept.values():
        for name in ("descendants", "children"):
            if block.get(name):
                block[name] = [key for key in block[name] if key not in discussions]
    if isinstance(response, dict):
        response["blocks"] = kept
        return response
    return kept


def mark_parents_complete(response, root):
    """Upstream recurse_mark_complete: a parent's completion becomes 1 or 0 (ints)."""
    if isinstance(response, dict) and "blocks" in response and "root" in response:
        blocks = response["blocks"]
    elif isinstance(response, dict):
        blocks = response
    else:
        blocks = {block["id"]: block for block in response}

    # Iterative post-order over the response's own children/descendants lists.
    stack, expanded = [root], set()
    while stack:
        key = stack[-1]
        block = blocks.get(key, {})
        if block.get("completion") == 1:
            stack.pop()
            continue
        kids = block.get("children", block.get("descendants"))
        if key not in expanded and kids:
            expanded.add(key)
            stack.extend(child for child in reversed(kids) if child in blocks)
            continue
        stack.pop()
        if kids:
            counted = [blocks[child] for child in kids
                       if child in blocks and blocks[child].get("type") != "discussion"]
            block["completion"] = int(all(child.get("completion") == 1 for child in counted))
    return response


# -- block_metadata ------------------------------------------------------------------

class _TextExtractor(HTMLParser):
    """The text of an HTML fragment (upstream html_to_text: tags and comments dropped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(content):
    parser = _TextExtractor()
    parser.feed(content or "")
    parser.close()
    return "".join(parser.parts)


def escape_html_characters(content):
    """Upstream's text for search indexes: tags stripped, whitespace runs collapsed."""
    text = re.sub(r"(\s|&nbsp;|//)+", " ", html_to_text(content))
    text = re.sub(r"<!\[CDATA\[.*\]\]>", "", text)
    return re.sub(r"<!--.*-->", "", text)


SCRIPT_STYLE_RE = re.compile(r"<script>.*?</script>|<style>.*?</style>", re.DOTALL)
CAPA_HIDDEN_RE = re.compile(
    r"<solution>.*?</solution>|<script>.*?</script>|<style>.*?</style>"
    r"|<[a-z]*hint.*?>.*?</[a-z]*hint>", re.DOTALL)
OPTIONINPUT_RE = re.compile(r'<optioninput options="\(([^"]+)\)".*?>\s*|\S*</optioninput>')
# Response types registered by the CAPA problem engine.
RESPONSE_TAGS = frozenset({
    "annotationresponse", "choiceresponse", "choicetextresponse", "coderesponse",
    "customresponse", "externalresponse", "formularesponse", "imageresponse",
    "javascriptresponse", "multiplechoiceresponse", "numericalresponse", "optionresponse",
    "schematicresponse", "stringresponse", "symbolicresponse", "truefalseresponse",
})
SEQUENCE_TYPES = frozenset({"course", "chapter", "sequential", "vertical"})


def problem_types(xml):
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException, ElementTree

    try:
        tree = ElementTree.fromstring(xml)
    except (ParseError, DefusedXmlException):  # upstream reports none for unparsable XML
        return None
    return sorted({node.tag for node in tree.iter() if node.tag in RESPONSE_TAGS})


def transcript_text(name, content):
    """A transcript file as plain text (SJSON ``text`` lines, or SubRip captions)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if name.endswith(".sjson"):
        try:
            lines = [line for line in json.loads(text).get("text", []) if line]
        except (ValueError, AttributeError):
            return None
        return html.unescape("\n".join(lines)).replace("\n", " ")
    captions, current = [], []
    for line in text.splitlines() + [""]:
        line = line.strip()
        if not line:
            if current:
                captions.append("\n".join(current))
            current = []
        elif "-->" in line or (line.isdigit() and not current):
            continue
        else:
            current.append(line)
    return html.unescape("\n".join(captions)).replace("\n", " ") or None


def video_transcript_files(block):
    """``[(index key, asset name)]`` of a video's transcripts, in upstream's order."""
    wanted = []
    sub = setting(block, "sub")
    if sub:
        language = setting(block, "transcript_language") or "en"
        wanted.append((f"transcript_{language}", f"subs_{sub}.srt.sjson"))
    transcripts = _as_json(setting(block, "transcripts"), {}) or {}
    if isinstance(transcripts, dict):
        wanted.extend((f"transcript_{lang}", name) for lang, name in transcripts.items() if name)
    return wanted


def index_dictionary(block, assets=None):
    """The block's ``index_dictionary()`` (its text for search indexes).

    ``block`` has ``block_type``, ``display_name``, ``fields`` and ``data``;
    ``assets``: ``{name: content}`` of the course files a video's transcripts name.
    """
    name = display_name(block)
    block_type = block.block_type
    if block_type == "html":
        text = escape_html_characters(SCRIPT_STYLE_RE.sub("", block.data.get("html") or ""))
        return {"content": {"html_content": text, "display_name": name}, "content_type": "Text"}
    if block_type == "problem":
        xml = block.data.get("xml") or "<problem></problem>"
        content = escape_html_characters(CAPA_HIDDEN_RE.sub("", OPTIONINPUT_RE.sub(r"\1", xml)))
        return {"content": {"capa_content": content, "display_name": name},
                "content_type": "CAPA", "problem_types": problem_types(xml)}
    if block_type == "video":
        content = {"display_name": name}
        for index_key, asset_name in video_transcript_files(block):
            if assets and asset_name in assets:
                text = transcript_text(asset_name, assets[asset_name])
                if text:
                    content[index_key] = text
        return {"content": content, "content_type": "Video"}
    if block_type in SEQUENCE_TYPES:
        return {"content": {"display_name": block.display_name}, "content_type": "Sequence"}
    return {}


def block_metadata(block, usage_key, includes, assets=None):
    """The ``block_metadata`` response: id, type and the included extras."""
    data = {"id": usage_key, "type": block.block_type}
    if "index_dictionary" in includes:
        data["index_dictionary"] = index_dictionary(block, assets)
    return data
