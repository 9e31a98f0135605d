"""Course updates as upstream's ``get_course_update_items`` lists them.

Structured items (``info/updates.items.json``) are listed newest first (their
stored order reversed). Without them, the legacy ``info/updates.html`` is read
as ``<ol><li><h2>DATE</h2>CONTENT</li>...</ol>``: the first item is the newest,
ids count down from the number of items to 1, and items carry no ``status``.
"""
from html.parser import HTMLParser

# Elements without an end tag: they open nothing.
VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                           "meta", "source", "track", "wbr"})


def update_items(items, legacy_html):
    if items:
        return [dict(item) for item in reversed(items) if isinstance(item, dict)]
    if not legacy_html:
        return []
    parsed = parse_legacy(legacy_html)
    count = len(parsed)
    return [{"id": count - index, "date": date, "content": content}
            for index, (date, content) in enumerate(parsed)]


class _LegacyUpdates(HTMLParser):
    """Collects each top-level ``<li>`` of the first ``<ol>``: its ``<h2>`` text and
    the HTML that follows the heading, as written."""

    def __init__(self, text):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.lines = [0]
        for line in text.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.depth = 0  # open elements inside the current <li>
        self.in_ol = False
        self.items = []  # [date, content start offset, content end offset]
        self.heading = None  # text of the <h2> being read

    def position(self):
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_startendtag(self, tag, attrs):
        pass  # <br/>: opens and closes nothing

    def handle_starttag(self, tag, attrs):
        if tag in VOID_ELEMENTS:
            return
        if not self.in_ol:
            self.in_ol = tag == "ol"
            return
        if tag == "li" and self.depth == 0:
            self.items.append(["", None, None])
            self.depth = 1
            return
        if not self.items or self.depth == 0:
            return
        if tag == "h2" and self.depth == 1 and self.items[-1][1] is None:
            self.heading = []
        self.depth += 1

    def handle_endtag(self, tag):
        if tag in VOID_ELEMENTS:
            return
        if not self.in_ol or not self.items or self.depth == 0:
            return
        if self.heading is not None and tag == "h2":
            self.items[-1][0] = "".join(self.heading).strip()
            self.heading = None
            self.depth -= 1
            # The content starts after this end tag's ">".
            self.items[-1][1] = self.text.find(">", self.position()) + 1
            return
        if tag == "li" and self.depth == 1:
            self.items[-1][2] = self.position()
            self.depth = 0
            return
        self.depth -= 1

    def handle_data(self, data):
        if self.heading is not None:
            self.heading.append(data)


def parse_legacy(text):
    """``[(date, content html)]`` in document order."""
    parser = _LegacyUpdates(text)
    parser.feed(text)
    parser.close()
    found = []
    for date, start, end in parser.items:
        if end is None:
            continue
        content = text[start:end] if start is not None else ""
        found.append((date, content.strip()))
    return found
