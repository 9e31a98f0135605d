"""Post bodies as HTML (upstream ``discussion.rest_api.render``): Markdown rendered by
Python-Markdown, then sanitised by nh3 (Rust's ammonia) to the tags the forum allows, so
that no script, event handler or ``javascript:`` link reaches a reader; and the plain-text
preview the thread list shows."""
import html
import re

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "dd", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
}
ALLOWED_SCHEMES = {"http", "https", "ftp", "mailto"}
PREVIEW_LENGTH = 35
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def render_body(raw_body):
    """Markdown → sanitised HTML."""
    # Imported here: start-up stays light (tests/core/test_startup.py).
    import markdown
    import nh3

    rendered = markdown.markdown(raw_body or "", output_format="html")
    return nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=ALLOWED_SCHEMES, link_rel="noopener noreferrer nofollow")


def preview_body(rendered):
    """The rendered body's text, whitespace collapsed, cut to 35 characters (an ellipsis
    marks the cut)."""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", rendered or ""))).strip()
    if len(text) <= PREVIEW_LENGTH:
        return text
    return text[:PREVIEW_LENGTH - 1].rstrip() + "…"
