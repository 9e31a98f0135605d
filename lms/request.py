"""Request bodies and query strings, read the way Django REST framework reads them.

Every view gets its input from here, never from ``request.json_body``,
``request.POST`` or ``json.loads(request.body)``:

- :func:`request_data` is DRF's ``request.data``: the body parsed by the parser
  the view accepts for its media type (``accept``; DRF's default parsers are
  JSON, form and multipart). An empty body is ``{}`` whatever its type; a type
  the view does not accept is a 415.
- :func:`data_fields` is ``request.data`` read as named fields (``{}`` for a
  JSON array or scalar).
- :func:`form_fields` is ``request.POST``: the fields of a form or multipart
  body (uploads excluded). With ``accept`` it is DRF's ``request.POST`` (the
  body is parsed, so a bad one is refused); without, Django's (any other body
  reads as an empty form).
- :func:`uploaded_files` is ``request.FILES``.
- :func:`query_params` is the query string with the last value of a repeated
  parameter, as Django's ``QueryDict.get`` answers.

A body that cannot be parsed is a 400 with the upstream parser's message
(``JSON parse error - ...``, ``Multipart form parse error - ...``), in the
error style of the endpoint family (:func:`lms.errors.body_error`). JSON is
strict as DRF's parser is: no ``NaN``/``Infinity``; invalid text in the
declared charset, nesting too deep for the decoder and lone surrogates (text
no database accepts) are parse errors too.
"""
import codecs
import json
import re
from email.message import Message
from urllib.parse import parse_qsl

from lms.errors import body_error

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
MERGE_PATCH = "application/merge-patch+json"
# Matches every ``application/<anything>+json`` type.
ANY_JSON = "application/*+json"
# DRF's DEFAULT_PARSER_CLASSES: JSONParser, FormParser, MultiPartParser.
DEFAULT_MEDIA_TYPES = (JSON, FORM, MULTIPART)
FORM_MEDIA_TYPES = (FORM, MULTIPART)
# Django's DATA_UPLOAD_MAX_NUMBER_FIELDS.
MAX_FORM_FIELDS = 1000
TOO_MANY_FIELDS = ("The number of GET/POST parameters exceeded "
                   "settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.")
# Django's multipart boundary rule (RFC 2046: 1-70 printable characters; Django allows 200).
BOUNDARY_RE = re.compile(r"^[ -~]{0,199}[!-~]$")

_CACHE = "lms.request.body"


class FormData(dict):
    """Form fields: ``data[name]`` and ``.get`` answer the last value, as Django's QueryDict;
    :meth:`getall` every value, in order."""

    def __init__(self, pairs=()):
        super().__init__()
        self._lists = {}
        for name, value in pairs:
            self._lists.setdefault(name, []).append(value)
            self[name] = value

    def getall(self, name):
        return list(self._lists.get(name, ()))

    def lists(self):
        return {name: list(values) for name, values in self._lists.items()}


class Body:
    """A parsed body: ``data`` (fields or the JSON value) and ``files`` (uploads by name)."""

    def __init__(self, media_type, data, files=None):
        self.media_type = media_type
        self.data = data
        self.files = files if files is not None else {}


def _header_params(request):
    message = Message()
    message["content-type"] = request.headers.get("Content-Type", "")
    return message


def media_type(request):
    """The body's media type without parameters, lower case ("" when not sent)."""
    return (request.content_type or "").strip().lower()


def is_json_type(value):
    return value == JSON or (value.startswith("application/") and value.endswith("+json"))


def _accepted(value, accept):
    return any(value == wanted or (wanted == ANY_JSON and is_json_type(value)
                                   and value != JSON)
               for wanted in accept)


def _charset(request):
    """The declared charset, if Python knows it (Django ignores unknown ones), else UTF-8."""
    charset = _header_params(request).get_param("charset")
    if isinstance(charset, str):
        try:
            return codecs.lookup(charset).name
        except LookupError:
            pass
    return "utf-8"


def has_body(request):
    return bool(request.content_length) or bool(request.body)


def _error_style(request):
    return getattr(request, "error_style", None) or "drf"


def _parse_error(request, message):
    return body_error(400, message, _error_style(request))


def unsupported_media_type(request):
    """DRF's 415 ``Unsupported media type "<Content-Type header>" in request.``."""
    header = request.headers.get("Content-Type", "")
    return body_error(415, f'Unsupported media type "{header}" in request.',
                      _error_style(request))


def _refuse_constant(token):
    raise ValueError(f"Out of range float values are not JSON compliant: {token!r}")


def _check_encodable(value):
    """Refuse lone surrogates anywhere in a parsed JSON value (iteratively: no recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _parse_json(request):
    try:
        text = request.body.decode(_charset(request))
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSON and decoding errors
        raise _parse_error(request, f"JSON parse error - {exc}")


def _refuse_lone_surrogates(request, value):
    try:
        _check_encodable(value)
    except UnicodeEncodeError as exc:
        raise _parse_error(request, f"JSON parse error - {exc}")


def _parse_form(request):
    charset = _charset(request)
    try:  # as Django's QueryDict: undecodable raw bytes are read as Latin-1
        text = request.body.decode(charset)
    except UnicodeDecodeError:
        text = request.body.decode("iso-8859-1")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding=charset, errors="replace",
                          max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # only raised for too many fields
        raise _parse_error(request, TOO_MANY_FIELDS)
    return FormData((name, value) for name, value in pairs)


def _parse_multipart(request):
    boundary = _header_params(request).get_param("boundary")
    if not isinstance(boundary, str) or not BOUNDARY_RE.match(boundary):
        raise _parse_error(request, "Multipart form parse error - Invalid boundary in "
                                    f"multipart: {boundary if boundary else None}")
    try:
        items = list(request.POST.items())
    except Exception as exc:  # noqa: BLE001 - any parser failure is the client's bad body
        raise _parse_error(request, f"Multipart form parse error - {exc}")
    if len(items) > MAX_FORM_FIELDS:
        raise _parse_error(request, f"Multipart form parse error - {TOO_MANY_FIELDS}")
    fields = FormData((name, value) for name, value in items if isinstance(value, str))
    files = FormData((name, value) for name, value in items if not isinstance(value, str))
    return fields, files


def parse_body(request, accept=DEFAULT_MEDIA_TYPES, allow_lone_surrogates=False):
    """The :class:`Body` of the request, parsed once; 415 when ``accept`` excludes its type.

    ``accept`` lists media types (``ANY_JSON`` for every ``application/*+json``).
    ``allow_lone_surrogates``: for views that refuse them field by field with
    DRF's own message ("Surrogate characters are not allowed"); everywhere else
    a lone surrogate in JSON is a parse error, so no such text reaches storage.
    """
    if not has_body(request):
        kind = media_type(request)
        return Body(kind, FormData() if kind in FORM_MEDIA_TYPES else {})
    kind = media_type(request)
    if not _accepted(kind, accept):
        raise unsupported_media_type(request)
    body = request.environ.get(_CACHE)
    if body is None:
        body = _parse(request, kind)
        request.environ[_CACHE] = body
    if is_json_type(kind) and not allow_lone_surrogates:
        _refuse_lone_surrogates(request, body.data)
    return body


def _parse(request, kind):
    if kind == FORM:
        body = Body(kind, _parse_form(request))
    elif kind == MULTIPART:
        fields, files = _parse_multipart(request)
        body = Body(kind, fields, files)
    elif is_json_type(kind):
        body = Body(kind, _parse_json(request))
    else:  # an accepted type without a parser here: its raw bytes
        body = Body(kind, request.body)
    return body


def request_data(request, accept=DEFAULT_MEDIA_TYPES, allow_lone_surrogates=False):
    """DRF's ``request.data`` (form and multipart: fields only; see :func:`uploaded_files`)."""
    return parse_body(request, accept, allow_lone_surrogates).data


def data_fields(request, accept=DEFAULT_MEDIA_TYPES):
    """:func:`request_data` read as named fields: a JSON array or scalar carries none
    (where upstream's ``request.data.get(...)`` would fail with a 500)."""
    data = request_data(request, accept)
    return data if isinstance(data, dict) else {}


def form_fields(request, accept=None):
    """``request.POST``: form or multipart fields, else an empty form.

    ``accept`` given: DRF's ``request.POST`` (the body is parsed with the view's
    parsers, so a bad or unsupported one is refused). ``None``: Django's (only a
    form or multipart body is parsed; anything else reads as no fields).
    """
    if accept is None:
        if media_type(request) not in FORM_MEDIA_TYPES:
            return FormData()
        accept = FORM_MEDIA_TYPES
    body = parse_body(request, accept)
    return body.data if body.media_type in FORM_MEDIA_TYPES else FormData()


def uploaded_files(request):
    """``request.FILES``: a multipart body's uploads by field name (cgi FieldStorage)."""
    if media_type(request) != MULTIPART:
        return FormData()
    return parse_body(request, (MULTIPART,)).files


def query_params(request):
    """The query string as Django's ``QueryDict.get`` reads it: the last value wins."""
    return FormData(request.GET.items())
