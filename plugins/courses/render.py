"""Course blocks as learners see them: names, icons, completion, student views, handler tokens.

Used by the courseware, learning_sequences and XBlock v2 endpoints. Nothing
here runs course code: an ``html`` body is sanitised with nh3, a ``problem``
is turned from its capa XML into inert HTML (question text and inputs, never
answers, hints or solutions), a ``video`` becomes an HTML5 ``<video>`` or a
YouTube ``<iframe>``. Every other block renders as a small fragment naming it.

A fragment is the dict of web_fragments' ``Fragment.to_dict()``: ``content``,
``resources`` (``kind``, ``data``, ``mimetype``, ``placement``), ``js_init_fn``,
``js_init_version``, ``json_init_args``.
"""
import hashlib
import hmac
import html
import re
import time
from urllib.parse import quote

from functools import cache

from opaque_keys.edx.locator import CourseLocator

from lms.keys import parse_usage_key
from plugins.courses.blocks import (
    AGGREGATOR,
    COMPLETABLE,
    DISPLAY_NAME_DEFAULTS,
    ICON_CLASSES,
    completion_mode,
)

# The views a course block can render (author_view falls back to student_view upstream).
STUDENT_VIEW = "student_view"
PUBLIC_VIEW = "public_view"
AUTHOR_VIEW = "author_view"
VIEWS = (STUDENT_VIEW, PUBLIC_VIEW, AUTHOR_VIEW)

# The unit icon priority of VerticalBlock.get_icon_class: the last one present wins.
ICON_PRIORITY = ("video", "problem")
# Blocks whose icon is computed from their children's.
CONTAINER_ICON_TYPES = frozenset({
    "chapter", "sequential", "vertical", "split_test", "conditional", "library_content",
})

HANDLER_TOKEN_PURPOSE = "xblock-handler"
# Handler URLs stay valid for 2 to 3 days: the expiry is rounded to a day boundary
# so that repeated calls on one day hand out the same URL.
HANDLER_TOKEN_MIN_SECONDS = 2 * 86400
DAY_SECONDS = 86400
HANDLER_TOKEN_RE = re.compile(r"^([0-9a-f]{1,16})_([0-9a-f]{32})$")

STATIC_URL_RE = re.compile(
    r"""(?P<quote>["'])/static/(?P<path>[^"'?#\s]+)(?P<rest>[^"'\s]*)(?P=quote)""")
YOUTUBE_ID_RE = re.compile(r"^[\w-]{1,64}$")
OPTION_RE = re.compile(r"'((?:[^'\\]|\\.)*)'")


def course_key_of_usage(usage_key):
    """The course of a course block's usage key; None for library blocks and for
    old ``i4x://`` keys (which carry no run, so no course can be found)."""
    course_key = getattr(usage_key, "context_key", None)
    if not isinstance(course_key, CourseLocator) or course_key.run is None:
        return None
    return course_key


# -- names and icons --------------------------------------------------------------

def display_name_with_default(node):
    """XModuleMixin.display_name_with_default: the name, else the block id with spaces."""
    if node.display_name is not None:
        return node.display_name
    return node.block_id.replace("_", " ")


def block_display_name(node):
    """The XBlock v2 API's display name: the name, else the block class's default name,
    else the block type (``get_block_display_name``)."""
    if node.display_name is not None:
        return node.display_name
    return DISPLAY_NAME_DEFAULTS.get(node.block_type) or node.block_type


def visible_children(structure, node, visible):
    return [key for key in node.children if key in visible and key in structure.blocks]


def icon_class(structure, usage_key, visible):
    """The courseware icon of a block (``get_icon``): video, problem or other.

    Containers take the highest-priority icon among their visible children.
    """
    node = structure.blocks[usage_key]
    if node.block_type not in CONTAINER_ICON_TYPES:
        return ICON_CLASSES.get(node.block_type, "other")
    found = {icon_class(structure, child, visible)
             for child in visible_children(structure, node, visible)}
    icon = "other"
    for candidate in ICON_PRIORITY:
        if candidate in found:
            icon = candidate
    return icon


def completable_leaves(structure, usage_key, visible):
    """The visible blocks under ``usage_key`` that can be completed (aggregators recursed,
    excluded blocks such as discussions skipped)."""
    leaves, stack = [], list(reversed(visible_children(structure, structure.blocks[usage_key],
                                                       visible)))
    while stack:
        key = stack.pop()
        node = structure.blocks[key]
        mode = completion_mode(node.block_type)
        if mode == AGGREGATOR:
            stack.extend(reversed(visible_children(structure, node, visible)))
        elif mode == COMPLETABLE:
            leaves.append(key)
    return leaves


def vertical_is_complete(structure, usage_key, visible, completions):
    """completion's ``vertical_is_complete``: every completable leaf is fully complete."""
    return all(float(completions.get(key) or 0.0) >= 1.0
               for key in completable_leaves(structure, usage_key, visible))


# -- fragments ------------------------------------------------------------------------

def fragment(content, resources=()):
    return {
        "content": content,
        "resources": [dict(resource) for resource in resources],
        "js_init_fn": None,
        "js_init_version": None,
        "json_init_args": None,
    }


def resource(data, mimetype="text/css", kind="text", placement="head"):
    return {"kind": kind, "data": data, "mimetype": mimetype, "placement": placement}


def replace_static_urls(text, course_key):
    """``/static/<file>`` references → the course asset URL, as the LMS rewrites them."""
    from plugins.courses.serializers import asset_path

    def replace(match):
        url = asset_path(course_key, match.group("path")) + match.group("rest")
        return f"{match.group('quote')}{url}{match.group('quote')}"

    return STATIC_URL_RE.sub(replace, text)


# nh3 and defusedxml are imported by the first block rendered, not at start-up.

@cache
def html_allowed():
    """``(tags, attributes)`` course HTML keeps: nh3's defaults plus media and a few."""
    import nh3

    tags = nh3.ALLOWED_TAGS | {"audio", "video", "source", "track", "section", "label"}
    attributes = {name: set(values) for name, values in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = {"class", "title", "lang", "dir"}
    attributes["a"] = attributes.get("a", set()) | {"target"}
    attributes["video"] = {"src", "controls", "width", "height", "poster", "preload"}
    attributes["audio"] = {"src", "controls", "preload"}
    attributes["source"] = {"src", "type"}
    attributes["track"] = {"src", "kind", "srclang", "label", "default"}
    return tags, attributes


def sanitize_html(text, tags=None, attributes=None):
    """Course HTML made safe: no scripts, event handlers, styles or dangerous URLs."""
    import nh3

    html_tags, html_attributes = html_allowed()
    return nh3.clean(text or "", tags=tags or html_tags,
                     attributes=attributes or html_attributes)


def render_html(node, course_key):
    body = replace_static_urls(node.data.get("html") or "", course_key)
    return fragment(sanitize_html(body))


def safe_media_url(url, course_key):
    """An http(s) or site-relative URL (``/static/`` rewritten); anything else is refused."""
    url = (url or "").strip()
    if url.startswith("/static/"):
        from plugins.courses.serializers import asset_path

        return asset_path(course_key, url[len("/static/"):])
    if re.match(r"^https?://", url, re.IGNORECASE) or (url.startswith("/")
                                                       and not url.startswith("//")):
        return url
    return None


VIDEO_MIMETYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg",
                   ".ogg": "video/ogg", ".m3u8": "application/x-mpegURL"}
VIDEO_CSS = (".xblock-video-player video, .xblock-video-player iframe "
             "{width: 100%; max-width: 100%; aspect-ratio: 16 / 9; border: 0;}")


def render_video(node, course_key):
    name = html.escape(block_display_name(node))
    sources = [url for url in (safe_media_url(source, course_key)
                               for source in node.data.get("html5_sources") or ())
               if url]
    youtube_id = str(node.data.get("youtube_id_1_0") or "")
    parts = [f'<div class="xblock-video-player" data-block-id="{html.escape(node.block_id)}">',
             f'<h3 class="hd hd-2">{name}</h3>']
    if sources:
        parts.append('<video controls preload="metadata">')
        for url in sources:
            extension = "." + url.rsplit(".", 1)[-1].split("?")[0].lower() if "." in url else ""
            mimetype = VIDEO_MIMETYPES.get(extension)
            type_attribute = f' type="{mimetype}"' if mimetype else ""
            parts.append(f'<source src="{html.escape(url)}"{type_attribute}>')
        parts.append("</video>")
        if node.fields.get("download_video"):
            parts.append(f'<a class="video-download-button" href="{html.escape(sources[0])}">'
                         "Download video file</a>")
    elif YOUTUBE_ID_RE.match(youtube_id):
        parts.append(f'<iframe src="https://www.youtube.com/embed/{youtube_id}" title="{name}" '
                     'allow="encrypted-media; picture-in-picture" allowfullscreen></iframe>')
    else:
        parts.append('<p class="video-unavailable">No playable video sources found.</p>')
    parts.append("</div>")
    return fragment("".join(parts), [resource(VIDEO_CSS)])


def render_other(node):
    block_type = html.escape(node.block_type)
    return fragment(f'<div class="xblock xblock-{block_type}" data-block-type="{block_type}">'
                    f"<p>{html.escape(block_display_name(node))}</p></div>")


def render_view(node, course_key, view_name):
    """The fragment of ``view_name`` (one of :data:`VIEWS`) for a course block."""
    if node.block_type == "html":
        return render_html(node, course_key)
    if node.block_type == "video":
        return render_video(node, course_key)
    if node.block_type == "problem":
        return render_problem(node)
    return render_other(node)


# -- capa problems ------------------------------------------------------------------------

# Capa elements never shown to learners (answers, hints, solutions, scripts).
CAPA_HIDDEN = frozenset({
    "solution", "script", "style", "answer", "demandhint", "hint", "hintgroup",
    "responseparam", "additional_answer", "correcthint", "choicehint", "optionhint",
    "stringequalhint", "compoundhint", "hintpart", "hintfn", "regexphint",
    "numericalhint", "formulahint", "answer_pool",
})
CAPA_TEXT_INPUTS = frozenset({"textline", "formulaequationinput", "numericalinput"})
CAPA_TEXTAREA_INPUTS = frozenset({"textbox", "codeinput", "jsinput"})
# Plain HTML kept (then sanitised again by nh3).
CAPA_HTML_TAGS = frozenset({
    "p", "div", "span", "b", "i", "em", "strong", "u", "br", "hr", "ul", "ol", "li", "table",
    "thead", "tbody", "tr", "td", "th", "caption", "img", "a", "pre", "code", "h1", "h2",
    "h3", "h4", "h5", "h6", "sup", "sub", "blockquote", "center", "section", "small",
})


@cache
def problem_allowed():
    """``(tags, attributes)`` a rendered problem keeps: course HTML's plus its inputs."""
    html_tags, html_attributes = html_allowed()
    tags = html_tags | {"input", "select", "option", "textarea", "fieldset", "legend", "form"}
    attributes = dict(html_attributes)
    attributes.update({
        "*": {"class", "title", "lang", "dir", "id"},
        "input": {"type", "name", "value", "size", "aria-describedby"},
        "select": {"name"},
        "option": {"value"},
        "textarea": {"name", "rows", "cols"},
        "label": {"for"},
        "form": set(),
    })
    return tags, attributes


class _CapaRenderer:
    """Capa XML → inert HTML: the question, and inputs named as capa names them."""

    def __init__(self, problem_id):
        self.problem_id = problem_id
        self.response_number = 1  # capa numbers responses from 2
        self.input_number = 0

    def input_id(self):
        self.input_number += 1
        return f"{self.problem_id}_{self.response_number}_{self.input_number}"

    def children(self, element):
        parts = [html.escape(element.text or "")]
        for child in element:
            if isinstance(child.tag, str):
                parts.append(self.element(child))
            parts.append(html.escape(child.tail or ""))
        return "".join(parts)

    def element(self, element):
        tag = element.tag
        if tag in CAPA_HIDDEN:
            return ""
        if tag.endswith("response"):
            self.response_number += 1
            self.input_number = 0
            return (f'<div class="wrapper-problem-response {html.escape(tag)}">'
                    f"{self.children(element)}</div>")
        if tag == "label":
            return f'<p class="problem-group-label">{self.children(element)}</p>'
        if tag == "description":
            return f'<p class="question-description">{self.children(element)}</p>'
        if tag in ("choicegroup", "radiogroup", "checkboxgroup"):
            return self.choices(element, "checkbox" if tag == "checkboxgroup" else "radio")
        if tag == "optioninput":
            return self.select(element)
        if tag in CAPA_TEXT_INPUTS:
            input_id = self.input_id()
            label = self.label_of(element)
            size = element.get("size") or "20"
            return (f'<div class="capa_inputtype textline">{label}<input type="text" '
                    f'name="input_{input_id}" id="input_{input_id}" '
                    f'size="{html.escape(size)}"></div>')
        if tag in CAPA_TEXTAREA_INPUTS:
            input_id = self.input_id()
            return (f'<div class="capa_inputtype textbox">{self.label_of(element)}<textarea '
                    f'name="input_{input_id}" id="input_{input_id}" rows="10" cols="80">'
                    "</textarea></div>")
        if tag in CAPA_HTML_TAGS:
            attributes = "".join(f' {name}="{html.escape(value)}"'
                                 for name, value in element.attrib.items())
            if tag in ("br", "hr", "img"):
                return f"<{tag}{attributes}>"
            return f"<{tag}{attributes}>{self.children(element)}</{tag}>"
        # Unknown markup (<text>, custom input types, ...): keep its text only.
        return self.children(element)

    @staticmethod
    def label_of(element):
        label = element.get("label")
        return f'<p class="problem-group-label">{html.escape(label)}</p>' if label else ""

    def choices(self, group, kind):
        input_id = self.input_id()
        name = f"input_{input_id}[]" if kind == "checkbox" else f"input_{input_id}"
        parts = [f'<fieldset class="choicegroup" id="inputtype_{input_id}">']
        if group.get("label"):
            parts.append(f"<legend>{html.escape(group.get('label'))}</legend>")
        index = 0
        for choice in group:
            if not isinstance(choice.tag, str):
                continue
            if choice.tag != "choice":
                parts.append(self.element(choice))
                continue
            value = f"choice_{index}"  # capa names choices by position
            index += 1
            parts.append(f'<label class="response-label"><input type="{kind}" '
                         f'name="{html.escape(name)}" value="{html.escape(value)}"> '
                         f"{self.children(choice)}</label>")
        parts.append("</fieldset>")
        return "".join(parts)

    def select(self, element):
        input_id = self.input_id()
        options = [option.text or "" for option in element.findall("option")]
        if not options:
            options = [value.replace("\\'", "'")
                       for value in OPTION_RE.findall(element.get("options") or "")]
        parts = [(f'<div class="capa_inputtype option-input">{self.label_of(element)}'
                  f'<select name="input_{input_id}" id="input_{input_id}">'
                  '<option value="option_0_dummy_default">Select an option</option>')]
        for option in options:
            text = html.escape(option.strip())
            parts.append(f'<option value="{text}">{text}</option>')
        parts.append("</select></div>")
        return "".join(parts)


def render_problem(node):
    """The problem's question and inputs (no grading, answers or hints)."""
    key = parse_usage_key(node.usage_key)
    problem_id = key.html_id() if key is not None else node.block_id
    name = html.escape(display_name_with_problem_default(node))
    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        root = SafeET.fromstring(node.data.get("xml") or "<problem/>")
    except (SafeET.ParseError, defusedxml.DefusedXmlException):
        # Unparsable or hostile capa: say so rather than fail the page.
        body = '<p class="problem-error">This problem could not be displayed.</p>'
    else:
        body = _CapaRenderer(problem_id).children(root)
    content = (f'<div class="problem" id="problem_{html.escape(problem_id)}">'
               f'<h3 class="hd hd-3 problem-header">{name}</h3>'
               f'<div class="problem-content">{body}</div></div>')
    tags, attributes = problem_allowed()
    return fragment(sanitize_html(content, tags=tags, attributes=attributes))


def display_name_with_problem_default(node):
    """ProblemBlock.display_name_with_default: the name, else the block type."""
    if node.display_name is None or not node.display_name.strip():
        return node.block_type
    return node.display_name


# -- XBlock handler URLs --------------------------------------------------------------------

def _handler_digest(secret, user_id, usage_key, expires):
    message = f"{HANDLER_TOKEN_PURPOSE}|{user_id}|{usage_key}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def handler_token(settings, user_id, usage_key, now=None):
    """A token for ``{user_id}-{token}`` handler URLs, valid for at least two days."""
    now = int(time.time() if now is None else now)
    expires = (now + HANDLER_TOKEN_MIN_SECONDS) // DAY_SECONDS * DAY_SECONDS + DAY_SECONDS
    digest = _handler_digest(settings["lms.secret_key"], user_id, str(usage_key), expires)
    return f"{expires:x}_{digest}"


def verify_handler_token(settings, user_id, usage_key, token, now=None):
    """True when ``token`` was issued for this user id and block and has not expired."""
    secret = settings.get("lms.secret_key")
    match = HANDLER_TOKEN_RE.match(token or "")
    if not secret or match is None:
        return False
    expires = int(match.group(1), 16)
    if expires <= (time.time() if now is None else now):
        return False
    expected = _handler_digest(secret, str(user_id), str(usage_key), expires)
    return hmac.compare_digest(expected, match.group(2))


def handler_url(settings, base_url, usage_key, user_id, handler_name, now=None):
    """The absolute, credential-free URL of a block's handler (any handler name may be
    swapped in: the token covers the user and the block only)."""
    token = handler_token(settings, user_id, usage_key, now=now)
    key = quote(str(usage_key), safe=":+@")
    name = quote(handler_name, safe="")
    return (f"{base_url.rstrip('/')}/api/xblock/v2/xblocks/{key}/handler/"
            f"{user_id}-{token}/{name}/")
