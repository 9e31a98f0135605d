"""The reasons a moderator gives for editing or closing a post (upstream's
``DISCUSSION_MODERATION_EDIT_REASON_CODES`` and ``..._CLOSE_REASON_CODES`` defaults), as
``(code, label)`` pairs in the order the course metadata lists them."""

EDIT_REASONS = [
    ("grammar-spelling", "Has grammar / spelling issues"),
    ("needs-clarity", "Content needs clarity"),
    ("academic-integrity", "Has academic integrity concern"),
    ("inappropriate-language", "Has inappropriate language"),
    ("format-change", "Formatting changes needed"),
    ("post-type-change", "Post type needs change"),
    ("contains-pii", "Contains personally identifiable information"),
    ("violates-guidelines", "Violates community guidelines"),
]
CLOSE_REASONS = [
    ("academic-integrity", "Post violates honour code or academic integrity"),
    ("read-only", "Post should be read-only"),
    ("duplicate", "Post is a duplicate"),
    ("off-topic", "Post is off-topic"),
]


def label(code, kind):
    """The label of ``code`` among the ``"edit"`` or ``"close"`` reasons, or None."""
    reasons = EDIT_REASONS if kind == "edit" else CLOSE_REASONS
    return dict(reasons).get(code)
