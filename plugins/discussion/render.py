"""Post bodies as HTML (upstream ``discussion.rest_api.render``): Markdown rendered by
Python-Markdown, then sanitised by nh3 (Rust's ammonia) to the tags the forum allows, so
that no script, event handler or ``javascript:`` link reaches a reader; and the plain-text
preview the thread list shows."""
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
_TAG = re.compile(r"<[^>]*>")


def render_body(raw_body):
    """Markdown → sanitised HTML."""
    # Imported here: start-up stays light (tests/core/test_startup.py).
    import markdown
    import nh3

    rendered = markdown.markdown(raw_body or "", output_format="html")
    return nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=ALLOWED_SCHEMES, link_rel="noopener noreferrer nofollow")


def preview_body(rendered):
    """Upstream's preview: the rendered body without its tags, newlines and ``&nbsp;`` as
    spaces (Django's ``strip_tags``; other entities stay as they are)."""
    text = rendered or ""
    while True:  # strip_tags repeats until no tag is left
        stripped = _TAG.sub("", text)
        if stripped == text:
            break
        text = stripped
    return text.replace("\n", " ").replace("&nbsp;", " ")
