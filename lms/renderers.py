"""The ``json`` renderer of every service and view: orjson, writing what DRF writes.

DRF's ``JSONRenderer`` (``UNICODE_JSON`` and ``COMPACT_JSON`` on, its defaults)
sends UTF-8 text without spaces after separators and escapes U+2028 and U+2029
(so the body is also valid JavaScript); :func:`dumps` does the same. Keys keep
their insertion order; non-string keys become strings as ``json.dumps`` writes
them. Anything that is not plain JSON data (datetimes, dataclasses, Decimal...)
goes through Pyramid's adapters and ``__json__``, as with Pyramid's own renderer.
What orjson refuses (integers beyond 64 bits, strings holding lone surrogates) is
written by the standard library instead, with the same separators.
"""
import json

import orjson
from pyramid.renderers import JSON

OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
           | orjson.OPT_PASSTHROUGH_DATACLASS)
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


def dumps(value, default=None):
    """``value`` as JSON bytes, as DRF's renderer writes it."""
    try:
        body = orjson.dumps(value, default=default, option=OPTIONS)
    except orjson.JSONEncodeError:
        # ensure_ascii: a lone surrogate can only be written escaped.
        return json.dumps(value, default=default, separators=(",", ":")).encode()
    if b"\xe2\x80" in body:
        for raw, escaped in _LINE_SEPARATORS:
            body = body.replace(raw, escaped)
    return body


def includeme(config):
    config.add_renderer("json", JSON(serializer=dumps))
