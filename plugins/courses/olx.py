"""Read an Open edX OLX course export (a folder, as Studio's "Export course" writes it).

The result is what :func:`plugins.courses.api.store_course` takes: the course
key, the overview (Course columns + ``settings``), the blocks reachable from the
course root in document order, and the ``static/`` assets. Nothing here touches
the database, so a course that fails to read leaves no trace.

OLX rules followed (see the courses notes, section 1):

- ``course.xml`` points at ``course/<run>.xml`` (``org``, ``course`` and the run
  as ``url_name``); the course root's usage key is always ``...+type@course+block@course``;
- an element is a *pointer* when ``url_name`` is its only attribute and it has no
  content: its definition is ``<tag>/<url_name>.xml`` (``:`` in url_name → ``/``);
  anything else is an *inline* definition (``url_name``, when given, is the id);
- ``policies/<run>/policy.json`` (keys ``<category>/<url_name>``) overrides XML
  attributes; ``grading_policy.json`` is the grading policy;
- ``drafts/`` (unpublished) is ignored, ``<wiki>`` is not a block, blocks no
  parent reaches (orphans) are not read.

What a block keeps: ``fields`` = its settings (attributes, JSON values decoded,
dates as ISO 8601 in UTC); ``data`` = content: ``html`` (html body),
``xml`` + ``markdown`` (problem), video sources (see :data:`VIDEO_DATA_FIELDS`),
``olx`` (the raw OLX of any other leaf block, e.g. custom XBlocks).
"""
import hashlib
import json
import math
import mimetypes
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import defusedxml
import defusedxml.ElementTree as SafeET
from opaque_keys import InvalidKeyError

from lms.keys import parse_course_key, parse_usage_key

# Blocks whose child elements are blocks (for other types: see _has_block_children).
CONTAINER_TYPES = frozenset({
    "course", "chapter", "sequential", "vertical", "split_test", "library_content",
    "conditional", "unit", "itembank",
})
# Blocks whose child elements are content, never blocks.
LEAF_TYPES = frozenset({"html", "problem", "video", "discussion"})
# Child elements that are not blocks.
NOT_BLOCKS = frozenset({"wiki"})
# Export bookkeeping, not fields.
DROPPED_ATTRIBUTES = frozenset({"url_name", "xblock-family", "xml_attributes", "data_dir"})

# Fields whose values are strings even when they look like JSON ("2024", "true").
STRING_FIELDS = frozenset({
    "display_name", "format", "markdown", "youtube", "youtube_id_0_75", "youtube_id_1_0",
    "youtube_id_1_25", "youtube_id_1_5", "edx_video_id", "sub", "track", "handout",
    "source", "source_library_id", "source_library_version", "capa_type", "showanswer",
    "rerandomize", "show_correctness", "language", "course_image", "banner_image",
    "video_thumbnail_image", "advertised_start", "display_coursenumber",
    "display_organization", "catalog_visibility", "course_visibility", "graceperiod",
    "discussion_id", "discussion_category", "discussion_target", "wiki_slug", "lti_id",
    "launch_url", "cert_name_short", "cert_name_long", "icon_class", "filename", "editor",
    "sources", "start_time", "end_time", "due_date_display_format", "course_edit_method",
})
DATE_FIELDS = frozenset({
    "start", "due", "end", "enrollment_start", "enrollment_end", "announcement",
    "certificate_available_date",
})
# Video fields that are content (``data``), as the blocks API's student_view_data needs.
VIDEO_DATA_FIELDS = (
    "youtube_id_1_0", "youtube_id_0_75", "youtube_id_1_25", "youtube_id_1_5",
    "html5_sources", "transcripts", "edx_video_id", "only_on_web", "duration",
    "encoded_videos",
)
YOUTUBE_SPEEDS = {"0.75": "youtube_id_0_75", "1.00": "youtube_id_1_0", "1.0": "youtube_id_1_0",
                  "1.25": "youtube_id_1_25", "1.50": "youtube_id_1_5", "1.5": "youtube_id_1_5"}

# Course-level fields stored in Course columns (OLX name → column); the rest go to settings.
COURSE_COLUMNS = {
    "display_name": "display_name", "start": "start", "end": "end",
    "enrollment_start": "enrollment_start", "enrollment_end": "enrollment_end",
    "advertised_start": "advertised_start",
    "certificate_available_date": "certificate_available_date", "self_paced": "self_paced",
    "invitation_only": "invitation_only", "catalog_visibility": "catalog_visibility",
    "course_visibility": "course_visibility", "mobile_available": "mobile_available",
    "days_early_for_beta": "days_early_for_beta", "language": "language",
    "course_image": "course_image", "banner_image": "banner_image",
    "display_coursenumber": "display_number", "display_organization": "display_org",
}
BOOLEAN_COLUMNS = ("self_paced", "invitation_only", "mobile_available")
# Lengths of the Course text columns (longer values are refused, not cut).
TEXT_COLUMN_LENGTHS = {
    "display_name": 255, "display_number": 255, "display_org": 255, "advertised_start": 255,
    "catalog_visibility": 32, "course_visibility": 32, "language": 64, "effort": 255,
    "course_image": 255, "banner_image": 255, "course_video_youtube_id": 255,
}
MAX_DISPLAY_NAME = 1024  # Block.display_name
MAX_BLOCK_TYPE = 64  # Block.block_type
# about/<name>.html files that are Course columns; the others go to settings["about"].
ABOUT_COLUMNS = ("overview", "short_description", "effort")
INFO_COLUMNS = {"handouts": "handouts_html", "updates": "updates_html"}
# Files static/ may hold that are editor or OS litter (as Studio skips them).
IGNORED_ASSET_RE = re.compile(r"^\._|^\.DS_Store$|~$")
I4X_RE = re.compile(r"^i4x://([^/]+)/([^/]+)/([^/]+)/([^/@]+)(@[^/]*)?$")
YOUTUBE_EMBED_RE = re.compile(r"youtube(?:-nocookie)?\.com/embed/([\w-]+)")
MAX_DEPTH = 100
MAX_KEY_LENGTH = 255
TRUE_WORDS = ("true", "1", "yes", "on")
BLOCK_TYPE_RE = re.compile(r"^[A-Za-z0-9_][\w\-.]*$", re.ASCII)


class OLXError(Exception):
    """The export cannot be imported; the message (one line) says why and where."""


@dataclass
class ParsedCourse:
    course_key: str
    overview: dict
    blocks: list  # dicts for store_course, document order, the course block first
    assets: list = field(default_factory=list)


class Progress:
    """Told how many blocks to expect, then about each block read (the CLI draws a bar)."""

    def start(self, estimate):
        pass

    def advance(self, count=1):
        pass


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def loads(text):
    """JSON without NaN/Infinity (the database's JSON types refuse them)."""
    return json.loads(text, parse_float=_finite, parse_constant=_no_constants)


def parse_xml(data, name):
    """Parse XML bytes safely: no DTD, no entities, no external references."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except defusedxml.DTDForbidden:
        raise OLXError(f"{name}: refused XML with a DTD (document type declarations "
                       "are not allowed in course exports)")
    except defusedxml.EntitiesForbidden:
        raise OLXError(f"{name}: refused XML that declares entities")
    except defusedxml.DefusedXmlException as exc:
        raise OLXError(f"{name}: refused XML ({type(exc).__name__})")
    except ET.ParseError as exc:
        raise OLXError(f"{name}: malformed XML ({exc})")


def url_name_path(url_name):
    """The relative path an url_name maps to (``a:b`` → ``a/b``), refusing escapes."""
    parts = url_name.split(":")
    if any(part in ("", ".", "..") or "/" in part or "\\" in part for part in parts):
        return None
    return "/".join(parts)


def normalize_date(value):
    """ISO 8601 in UTC for dates OLX writes (``...+00:00``, ``...Z``, naive = UTC)."""
    if not isinstance(value, str) or not value:
        return value
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).isoformat()


def decode_field(name, raw):
    """An XML attribute's value as the field's type (XBlock fields are JSON in attributes)."""
    if name in DATE_FIELDS:
        if raw.startswith('"'):
            try:
                raw = loads(raw)
            except ValueError:
                pass
        return normalize_date(raw)
    if name in STRING_FIELDS:
        return raw
    if raw in ("True", "False"):  # Python-style booleans of old exports
        return raw == "True"
    try:
        return loads(raw)
    except ValueError:
        return raw


def decode_policy(values):
    return {name: (normalize_date(value) if name in DATE_FIELDS else value)
            for name, value in values.items() if name not in DROPPED_ATTRIBUTES}


def as_bool(value):
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return bool(value)


def as_text(value, what, limit):
    """A text value for a column: numbers become text; too long or not text is refused."""
    if value is None or isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)):
        text = str(value).lower() if isinstance(value, bool) else str(value)
    else:
        raise OLXError(f"{what} must be text, not {type(value).__name__}")
    if text is not None and len(text) > limit:
        raise OLXError(f"{what} is longer than {limit} characters")
    return text


def strip_declaration(text):
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", text).strip()


def serialize(element):
    """The element's OLX without its tail text."""
    tail, element.tail = element.tail, None
    try:
        return ET.tostring(element, encoding="unicode")
    finally:
        element.tail = tail


def inner_xml(element):
    return (element.text or "") + "".join(ET.tostring(child, encoding="unicode")
                                          for child in element)


def is_pointer(element):
    return (list(element.attrib) == ["url_name"] and len(element) == 0
            and not (element.text or "").strip())


class Source:
    """Files of an unpacked export, addressed by relative POSIX paths that cannot escape.

    The importer refuses exports holding links (see :mod:`plugins.courses.importer`),
    so refusing absolute paths and ``..`` here keeps every read inside the folder.
    """

    def __init__(self, root):
        self.root = Path(root)

    def path(self, relative):
        pure = PurePosixPath(relative)
        if pure.is_absolute() or any(part in ("..", "") for part in pure.parts):
            raise OLXError(f"{relative}: path escapes the course folder")
        path = self.root.joinpath(*pure.parts)
        if path.is_symlink():
            raise OLXError(f"{relative}: links are not allowed")
        return path

    def exists(self, relative):
        return self.path(relative).is_file()

    def read_bytes(self, relative):
        path = self.path(relative)
        if not path.is_file():
            raise OLXError(f"{relative}: file not found")
        return path.read_bytes()

    def read_text(self, relative):
        try:
            return self.read_bytes(relative).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise OLXError(f"{relative}: not UTF-8 text ({exc.reason} at byte {exc.start})")

    def read_xml(self, relative):
        return parse_xml(self.read_bytes(relative), relative)

    def read_json(self, relative):
        try:
            return loads(self.read_text(relative))
        except ValueError as exc:
            raise OLXError(f"{relative}: malformed JSON ({exc})")

    def files(self, relative):
        """Regular files below a folder, as sorted relative paths."""
        top = self.path(relative)
        if not top.is_dir():
            return []
        found = []
        for path in sorted(top.rglob("*")):
            if path.is_symlink():
                raise OLXError(f"{path.relative_to(self.root).as_posix()}: links are not allowed")
            if path.is_file():
                found.append(path.relative_to(self.root).as_posix())
        return found


def course_pointer(source):
    """``(org, course, run, definition element, its file name)`` from ``course.xml``."""
    root = source.read_xml("course.xml")
    if root.tag != "course":
        raise OLXError(f"course.xml: the root element is <{root.tag}>, expected <course>")
    org, number, run = root.get("org"), root.get("course"), root.get("url_name")
    if not (org and number and run):
        raise OLXError("course.xml: the <course> element needs org, course and url_name")
    pointer = set(root.attrib) == {"url_name", "org", "course"} and len(root) == 0 \
        and not (root.text or "").strip()
    if not pointer:
        return org, number, run, root, "course.xml"
    path = url_name_path(run)
    if path is None:
        raise OLXError(f"course.xml: invalid url_name {run!r}")
    name = f"course/{path}.xml"
    definition = source.read_xml(name)
    if definition.tag != "course":
        raise OLXError(f"{name}: the root element is <{definition.tag}>, expected <course>")
    return org, number, run, definition, name


def course_key_of(root):
    """The course key an export folder declares (``course-v1:<org>+<course>+<run>``)."""
    org, number, run, _, _ = course_pointer(Source(root))
    key = parse_course_key(f"course-v1:{org}+{number}+{run}")
    if key is None:
        raise OLXError(f"course.xml: org {org!r}, course {number!r} and run {run!r} "
                       "do not make a valid course key")
    return str(key)


def estimate_blocks(source):
    """How many block definition files the export has (for a progress bar)."""
    skip = {"about", "info", "policies", "static", "drafts", "assets", "tabs", "course"}
    return 1 + sum(1 for path in source.root.glob("*/**/*.xml")
                   if path.relative_to(source.root).parts[0] not in skip)


class CourseReader:
    def __init__(self, source, course_key=None, progress=None, max_blocks=None):
        self.source = source
        self.progress = progress or Progress()
        self.max_blocks = max_blocks
        self.org, self.number, self.run, self.definition, self.definition_name = \
            course_pointer(source)
        key_text = course_key or f"course-v1:{self.org}+{self.number}+{self.run}"
        self.course_key = parse_course_key(key_text)
        if self.course_key is None or not str(self.course_key).startswith("course-v1:"):
            where = "--course-key" if course_key else "course.xml"
            raise OLXError(f"{where}: {key_text!r} is not a valid course-v1 course key")
        self.blocks = {}  # usage key -> block dict, in document order
        self.reading = set()  # usage keys being read (cycle detection)
        self.policy = {}
        self.wiki_slug = None
        self.textbooks = []

    # -- keys -------------------------------------------------------------------

    def usage_key(self, block_type, block_id, where):
        if not BLOCK_TYPE_RE.match(block_type) or len(block_type) > MAX_BLOCK_TYPE:
            raise OLXError(f"{where}: <{block_type[:MAX_BLOCK_TYPE]}> is not a valid block type")
        try:
            key = str(self.course_key.make_usage_key(block_type, block_id))
        except InvalidKeyError:
            raise OLXError(f"{where}: <{block_type}> has an invalid url_name {block_id!r}")
        if url_name_path(block_id) is None:
            raise OLXError(f"{where}: <{block_type}> has an invalid url_name {block_id!r}")
        if len(key) > MAX_KEY_LENGTH:
            raise OLXError(f"{where}: the usage key of <{block_type}> {block_id!r} is too long")
        return key

    def map_reference(self, value):
        """An ``i4x://org/course/category/name`` or ``block-v1:`` key → this course's key."""
        if not isinstance(value, str):
            return value
        match = I4X_RE.match(value)
        parsed = parse_usage_key(value) if value.startswith("block-v1:") else None
        try:
            if match:
                return str(self.course_key.make_usage_key(match.group(3), match.group(4)))
            if parsed is not None:
                return str(self.course_key.make_usage_key(parsed.block_type, parsed.block_id))
        except InvalidKeyError:
            pass  # not a key opaque-keys accepts: leave the value as written
        return value

    # -- the course -------------------------------------------------------------

    def read(self):
        self.progress.start(estimate_blocks(self.source))
        self.policy = self.read_policy()
        course_fields = self.fields_of(self.definition, exclude=("org", "course"))
        course_fields.update(decode_policy(self.policy.get(f"course/{self.run}", {})))
        root_key = str(self.course_key.make_usage_key("course", "course"))
        display_name = as_text(course_fields.pop("display_name", None),
                               "the course's display_name", TEXT_COLUMN_LENGTHS["display_name"])
        course_block = self.new_block(root_key, "course", "course", display_name, course_fields)
        self.reading.add(root_key)
        course_block["children"] = self.read_children(
            self.definition, root_key, self.definition_name, depth=1, course=True)
        self.reading.discard(root_key)
        overview = self.overview(display_name, course_fields)
        return ParsedCourse(course_key=str(self.course_key), overview=overview,
                            blocks=list(self.blocks.values()), assets=self.read_assets())

    def read_policy(self):
        name = f"policies/{url_name_path(self.run)}/policy.json"
        if not self.source.exists(name):
            return {}
        policy = self.source.read_json(name)
        if not isinstance(policy, dict) or not all(isinstance(v, dict) for v in policy.values()):
            raise OLXError(f"{name}: expected an object of objects")
        return policy

    def overview(self, display_name, course_fields):
        overview = {"display_name": display_name or ""}
        settings = {}
        for name, value in course_fields.items():
            column = COURSE_COLUMNS.get(name)
            if column is None:
                settings[name] = value
            elif column in BOOLEAN_COLUMNS:
                overview[column] = as_bool(value)
            elif column == "days_early_for_beta":
                overview[column] = float(value) if isinstance(value, (int, float)) else None
            else:
                overview[column] = value if value not in ("",) else None
        if self.wiki_slug:
            settings["wiki_slug"] = self.wiki_slug
        if self.textbooks:
            settings["textbooks"] = self.textbooks
        about = {}
        for name in self.source.files("about"):
            if not name.endswith(".html") or name.count("/") != 1:
                continue
            key = name[len("about/"):-len(".html")]
            text = self.source.read_text(name)
            value = text if text.strip() else None
            if key in ABOUT_COLUMNS:
                overview[key] = value
            elif key == "video":
                match = YOUTUBE_EMBED_RE.search(text)
                overview["course_video_youtube_id"] = match.group(1) if match else None
                about[key] = value
            else:
                about[key] = value
        if about:
            settings["about"] = about
        for name, column in INFO_COLUMNS.items():
            path = f"info/{name}.html"
            if self.source.exists(path):
                text = self.source.read_text(path)
                overview[column] = text if text.strip() else None
        if self.source.exists("info/updates.items.json"):
            settings["course_updates"] = self.source.read_json("info/updates.items.json")
        grading = f"policies/{url_name_path(self.run)}/grading_policy.json"
        if self.source.exists(grading):
            policy = self.source.read_json(grading)
            if not isinstance(policy, dict):
                raise OLXError(f"{grading}: expected an object")
            overview["grading_policy"] = policy
        overview["settings"] = settings
        for column, limit in TEXT_COLUMN_LENGTHS.items():
            if column in overview:
                overview[column] = as_text(overview[column], f"the course's {column}", limit)
        return overview

    # -- blocks -----------------------------------------------------------------

    def new_block(self, usage_key, block_type, block_id, display_name, fields):
        if self.max_blocks is not None and len(self.blocks) >= self.max_blocks:
            raise OLXError(f"the course has more than {self.max_blocks} blocks "
                           "(setting courses.import_max_blocks)")
        block = {"usage_key": usage_key, "block_type": block_type, "block_id": block_id,
                 "display_name": display_name, "children": [], "fields": fields, "data": {}}
        self.blocks[usage_key] = block
        self.progress.advance()
        return block

    def fields_of(self, element, exclude=()):
        fields = {}
        for name, raw in element.attrib.items():
            if name in DROPPED_ATTRIBUTES or name in exclude:
                continue
            fields[name] = decode_field(name, raw)
        return fields

    def read_children(self, element, parent_key, where, depth, course=False):
        children = []
        for index, child in enumerate(element):
            if not isinstance(child.tag, str):
                continue
            if child.tag in NOT_BLOCKS:
                if course and child.tag == "wiki":
                    self.wiki_slug = child.get("slug") or None
                continue
            if course and child.tag == "textbook":
                self.textbooks.append(dict(child.attrib))
                continue
            if element.tag == "conditional" and child.tag == "show":
                continue  # a reference list of the conditional, not a block
            key = self.read_block(child, parent_key, index, where, depth)
            if key not in children:
                children.append(key)
        return children

    def read_block(self, element, parent_key, index, where, depth):
        if depth > MAX_DEPTH:
            raise OLXError(f"{where}: blocks are nested more than {MAX_DEPTH} levels deep")
        block_type = element.tag
        if is_pointer(element):
            block_id = element.get("url_name")
            key = self.usage_key(block_type, block_id, where)  # validates the id
            name = f"{block_type}/{url_name_path(block_id)}.xml"
            if key in self.reading:
                raise OLXError(f"{name}: <{block_type}> {block_id!r} contains itself")
            if key in self.blocks:
                return key
            definition = self.source.read_xml(name) if self.source.exists(name) else None
            if definition is None:
                raise OLXError(f"{where}: <{block_type} url_name={block_id!r}> points at "
                               f"{name}, which does not exist")
            if definition.tag != block_type:
                raise OLXError(f"{name}: the root element is <{definition.tag}>, "
                               f"expected <{block_type}>")
            from_file = True
        else:
            definition, name = element, where
            block_id = element.get("url_name") or generated_id(parent_key, block_type, index)
            key = self.usage_key(block_type, block_id, where)
            if key in self.reading:
                raise OLXError(f"{where}: <{block_type}> {block_id!r} contains itself")
            if key in self.blocks:
                return key
            from_file = False
        fields = self.fields_of(definition)
        fields.update(decode_policy(self.policy.get(f"{block_type}/{block_id}", {})))
        display_name = as_text(fields.pop("display_name", None),
                               f"{name}: the display_name of <{block_type}> {block_id!r}",
                               MAX_DISPLAY_NAME)
        block = self.new_block(key, block_type, block_id, display_name, fields)
        self.reading.add(key)
        try:
            self.fill_block(block, definition, name if from_file else None, name, depth)
        finally:
            self.reading.discard(key)
        return key

    def raw_olx(self, definition, definition_file):
        """The definition as written: the file's text, or the inline element serialized."""
        if definition_file is not None:
            return strip_declaration(self.source.read_text(definition_file))
        return serialize_without(definition, "xblock-family")

    def fill_block(self, block, definition, definition_file, where, depth):
        block_type, fields, data = block["block_type"], block["fields"], block["data"]
        if block_type == "html":
            data["html"] = self.html_body(definition, fields, where)
        elif block_type == "problem":
            data["xml"] = self.raw_olx(definition, definition_file)
            if "markdown" in fields:
                data["markdown"] = fields.pop("markdown")
        elif block_type == "video":
            data.update(self.video_data(definition, fields))
        elif block_type in LEAF_TYPES:
            pass  # discussion: settings only
        elif block_type in CONTAINER_TYPES or has_block_children(definition):
            block["children"] = self.read_children(definition, block["usage_key"], where,
                                                   depth + 1)
            if block_type == "split_test" and isinstance(fields.get("group_id_to_child"), dict):
                fields["group_id_to_child"] = {
                    str(group): self.map_reference(child)
                    for group, child in fields["group_id_to_child"].items()}
            if block_type == "conditional":
                sources = [self.map_reference(s.strip())
                           for s in str(fields.get("sources") or "").split(";") if s.strip()]
                for show in definition.findall("show"):
                    sources_of_show = [self.map_reference(s.strip()) for s in
                                       (show.get("sources") or "").split(";") if s.strip()]
                    fields.setdefault("show_tag_list", []).extend(sources_of_show)
                if sources:
                    fields["sources_list"] = sources
        else:
            data["olx"] = self.raw_olx(definition, definition_file)

    def html_body(self, definition, fields, where):
        filename = fields.pop("filename", None)
        if not filename:
            return inner_xml(definition)
        path = url_name_path(str(filename))
        if path is None:
            raise OLXError(f"{where}: invalid html filename {filename!r}")
        candidates = [f"html/{path}.html"]
        if path.endswith(".html"):
            candidates.insert(0, f"html/{path}")
        for candidate in candidates:
            if self.source.exists(candidate):
                return self.source.read_text(candidate)
        raise OLXError(f"{where}: the html body {candidates[-1]} does not exist")

    def video_data(self, definition, fields):
        data = {}
        youtube = fields.pop("youtube", None)
        if isinstance(youtube, str):
            for pair in youtube.split(","):
                speed, _, video_id = pair.strip().partition(":")
                name = YOUTUBE_SPEEDS.get(speed.strip())
                if name and video_id.strip():
                    data[name] = video_id.strip()
        for name in VIDEO_DATA_FIELDS:
            if name in fields:
                value = fields.pop(name)
                if name.startswith("youtube_id_") and not value:
                    continue
                data[name] = value
        sources = list(data.get("html5_sources") or [])
        transcripts = dict(data.get("transcripts") or {})
        for child in definition:
            if child.tag == "source" and child.get("src") and child.get("src") not in sources:
                sources.append(child.get("src"))
            elif child.tag == "transcript" and child.get("language") and child.get("src"):
                transcripts[child.get("language")] = child.get("src")
            elif child.tag in ("track", "handout") and child.get("src"):
                fields.setdefault(child.tag, child.get("src"))
            elif child.tag == "video_asset":
                self.video_asset(child, data)
        data["html5_sources"] = sources
        data["transcripts"] = transcripts
        data["only_on_web"] = bool(data.get("only_on_web", False))
        return data

    @staticmethod
    def video_asset(element, data):
        """Video pipeline (VAL) data an export carries: duration and encodings."""
        duration = element.get("duration")
        if duration and "duration" not in data:
            try:
                data["duration"] = float(duration)
            except ValueError:
                pass
        encoded = {}
        for video in element.findall("encoded_video"):
            profile = video.get("profile")
            if not profile or not video.get("url"):
                continue
            try:
                file_size = int(video.get("file_size") or 0)
            except ValueError:
                file_size = 0
            encoded[profile] = {"url": video.get("url"), "file_size": file_size}
        if encoded:
            data.setdefault("encoded_videos", encoded)

    # -- static files -----------------------------------------------------------

    def read_assets(self):
        metadata = {}
        if self.source.exists("policies/assets.json"):
            metadata = self.source.read_json("policies/assets.json")
            if not isinstance(metadata, dict):
                raise OLXError("policies/assets.json: expected an object")
        known_types = set(mimetypes.types_map.values())
        assets, seen = [], {}
        for path in self.source.files("static"):
            relative = path[len("static/"):]
            if IGNORED_ASSET_RE.search(PurePosixPath(relative).name):
                continue
            # Studio names an asset by its path under static/ with "/" → "_".
            name = relative.replace("/", "_")
            if name in seen:
                raise OLXError(f"{path}: its asset name {name!r} is also {seen[name]}'s")
            if len(name) > MAX_KEY_LENGTH:
                raise OLXError(f"{path}: the asset name is too long")
            seen[name] = path
            info = metadata.get(name) if isinstance(metadata.get(name), dict) else {}
            content_type = info.get("contentType")
            if content_type not in known_types:
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            assets.append({"name": name, "content_type": content_type,
                           "content": self.source.read_bytes(path),
                           "locked": bool(info.get("locked", False))})
        return assets


def generated_id(parent_key, block_type, index):
    """A stable id for an inline block without url_name (same export, same id)."""
    text = f"{parent_key}|{block_type}|{index}".encode()
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:20]


def has_block_children(element):
    """An unknown block holds blocks when every child element names its own url_name."""
    children = [child for child in element if isinstance(child.tag, str)]
    return bool(children) and all(child.get("url_name") for child in children)


def serialize_without(element, attribute):
    if attribute not in element.attrib:
        return serialize(element)
    value = element.attrib.pop(attribute)
    try:
        return serialize(element)
    finally:
        element.set(attribute, value)


def read_course(root, course_key=None, progress=None, max_blocks=None):
    """Read the export in folder ``root`` (the one holding ``course.xml``)."""
    return CourseReader(Source(root), course_key=course_key, progress=progress,
                        max_blocks=max_blocks).read()
