"""lms.request: request bodies and query strings read as DRF and Django read them."""
import json

import colander
import pytest
from cornice.errors import Errors
from pyramid import testing
from pyramid.request import Request

from lms.errors import APIError
from lms.request import (
    ANY_JSON,
    FORM,
    JSON,
    MERGE_PATCH,
    MULTIPART,
    FormData,
    data_fields,
    form_fields,
    query_params,
    request_data,
    uploaded_files,
)
from lms.schemas import PaginationQuery
from lms.service import colander_body_validator, colander_querystring_validator
from lms.testing import create_user, jwt_headers

BOUNDARY = "----lmsboundary"
MULTIPART_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="name"\r\n\r\nfirst\r\n'
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="name"\r\n\r\nsecond\r\n'
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    "Content-Type: text/plain\r\n\r\nhello\r\n"
    f"--{BOUNDARY}--\r\n"
).encode()
NO_BOUNDARY = "Multipart form parse error - Invalid boundary in multipart: None"


def make(body=b"", content_type=None, method="POST", query="", style=None):
    request = Request.blank("/x" + (f"?{query}" if query else ""), method=method,
                            body=body if isinstance(body, bytes) else body.encode())
    if content_type is not None:
        request.headers["Content-Type"] = content_type
    elif "Content-Type" in request.headers:
        del request.headers["Content-Type"]
    if style:
        request.error_style = style
    return request


def refused(call, request, *args, **kwargs):
    with pytest.raises(APIError) as caught:
        call(request, *args, **kwargs)
    return caught.value.status, caught.value.body


# -- JSON ---------------------------------------------------------------------

def test_json_object_array_and_scalars():
    assert request_data(make('{"a": [1, 2.5, null, true]}', JSON)) == {"a": [1, 2.5, None, True]}
    assert request_data(make("[1]", JSON)) == [1]
    assert request_data(make('"x"', JSON)) == "x"
    assert data_fields(make("[1]", JSON)) == {}


def test_json_charset_parameter_is_honoured():
    body = '{"name": "Zoë"}'.encode("latin-1")
    assert request_data(make(body, "application/json; charset=ISO-8859-1")) == {"name": "Zoë"}
    body = '{"name": "Zoë"}'.encode("utf-16")
    assert request_data(make(body, "application/json; charset=utf-16")) == {"name": "Zoë"}
    # An unknown charset is ignored (Django), the body read as UTF-8.
    assert request_data(make('{"a": "é"}', "application/json; charset=klingon")) == {"a": "é"}


def test_json_family_types_only_where_accepted():
    request = make('{"a": 1}', MERGE_PATCH)
    assert refused(request_data, request) == (
        415, {"detail": 'Unsupported media type "application/merge-patch+json" in request.'})
    assert request_data(make('{"a": 1}', MERGE_PATCH), (MERGE_PATCH,)) == {"a": 1}
    assert request_data(make('{"a": 1}', "application/vnd.api+json"), (ANY_JSON,)) == {"a": 1}
    assert refused(request_data, make('{"a": 1}', JSON), (ANY_JSON,))[0] == 415


@pytest.mark.parametrize("body, message", [
    (b"{not json", "JSON parse error - Expecting property name enclosed in double quotes: "
                   "line 1 column 2 (char 1)"),
    (b'{"a": NaN}', "JSON parse error - Out of range float values are not JSON compliant: "
                    "'NaN'"),
    (b'[Infinity]', "JSON parse error - Out of range float values are not JSON compliant: "
                    "'Infinity'"),
    (b'[-Infinity]', "JSON parse error - Out of range float values are not JSON compliant: "
                     "'-Infinity'"),
    (b'{"a": "\xff"}', "JSON parse error - 'utf-8' codec can't decode byte 0xff in position "
                       "7: invalid start byte"),
    (b'{"a": "\\ud800"}', "JSON parse error - 'utf-8' codec can't encode character '\\ud800' "
                          "in position 0: surrogates not allowed"),
    (b'{"\\udfff": 1}', "JSON parse error - 'utf-8' codec can't encode character '\\udfff' "
                        "in position 0: surrogates not allowed"),
])
def test_json_parse_errors_are_drf_400s(body, message):
    assert refused(request_data, make(body, JSON)) == (400, {"detail": message})


def test_json_nested_too_deep_is_a_parse_error():
    status, body = refused(request_data, make(b"[" * 100_000 + b"]" * 100_000, JSON))
    assert status == 400
    assert body["detail"].startswith("JSON parse error - maximum recursion depth exceeded")


def test_lone_surrogates_can_be_left_to_field_validation():
    request = make(b'{"k": "\\ud800"}', JSON)
    assert request_data(request, allow_lone_surrogates=True) == {"k": "\ud800"}
    assert refused(request_data, request)[0] == 400


@pytest.mark.parametrize("style, key", [("drf", "detail"), ("user", "detail"),
                                        ("developer", "developer_message"),
                                        ("message", "message")])
def test_errors_follow_the_error_style(style, key):
    assert refused(request_data, make(b"{", JSON, style=style))[1] == {
        key: "JSON parse error - Expecting property name enclosed in double quotes: "
             "line 1 column 2 (char 1)"}
    assert refused(request_data, make(b"x", "text/plain; charset=utf-8", style=style)) == (
        415, {key: 'Unsupported media type "text/plain; charset=utf-8" in request.'})


# -- empty bodies and media types -------------------------------------------------

@pytest.mark.parametrize("content_type", [None, JSON, "text/plain", MERGE_PATCH])
def test_an_empty_body_is_empty_data_whatever_its_type(content_type):
    assert request_data(make(b"", content_type)) == {}


def test_an_empty_form_is_an_empty_form():
    data = request_data(make(b"", FORM))
    assert isinstance(data, FormData) and data == {}


def test_a_body_without_content_type_is_unsupported():
    assert refused(request_data, make(b'{"a": 1}', None)) == (
        415, {"detail": 'Unsupported media type "" in request.'})


# -- forms ------------------------------------------------------------------------

def test_form_fields_last_value_wins_and_all_values_are_kept():
    data = request_data(make("a=1&b=x&a=2&empty=", FORM))
    assert data == {"a": "2", "b": "x", "empty": ""}
    assert data.getall("a") == ["1", "2"]
    assert data.lists() == {"a": ["1", "2"], "b": ["x"], "empty": [""]}


def test_form_charset_and_undecodable_bytes():
    assert request_data(make("name=Zo%EB", f"{FORM}; charset=latin-1")) == {"name": "Zoë"}
    assert request_data(make("name=%ff", FORM)) == {"name": "\ufffd"}


def test_too_many_form_fields_is_a_400():
    body = "&".join(f"f{i}=1" for i in range(1001))
    assert refused(request_data, make(body, FORM)) == (400, {
        "detail": "The number of GET/POST parameters exceeded "
                  "settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."})


def test_multipart_fields_and_files_are_separate():
    request = make(MULTIPART_BODY, f"{MULTIPART}; boundary={BOUNDARY}")
    data = request_data(request)
    assert data == {"name": "second"} and data.getall("name") == ["first", "second"]
    upload = uploaded_files(request)["file"]
    assert (upload.filename, upload.file.read()) == ("a.txt", b"hello")
    assert form_fields(request) == {"name": "second"}


@pytest.mark.parametrize("content_type, shown", [
    (MULTIPART, "None"),
    (f"{MULTIPART}; boundary=", "None"),
    (f"{MULTIPART}; boundary={'x' * 201}", "x" * 201),
    (f"{MULTIPART}; boundary=\"ends with space \"", "ends with space "),
])
def test_multipart_without_a_valid_boundary_is_a_400(content_type, shown):
    expected = f"Multipart form parse error - Invalid boundary in multipart: {shown}"
    assert refused(request_data, make(b"a=1", content_type)) == (400, {"detail": expected})
    # request.POST of Django views refuses it too.
    assert refused(form_fields, make(b"a=1", content_type)) == (400, {"detail": expected})


# -- request.POST ------------------------------------------------------------------

def test_django_request_post_ignores_other_bodies():
    assert form_fields(make(b"{not json", JSON)) == {}
    assert form_fields(make(b"x", "text/plain")) == {}
    assert form_fields(make("a=1", FORM)) == {"a": "1"}


def test_drf_request_post_parses_the_body_first():
    assert form_fields(make(b'{"a": 1}', JSON), (JSON, FORM)) == {}
    assert refused(form_fields, make(b"{", JSON), (JSON, FORM))[0] == 400
    assert refused(form_fields, make(b"x", "text/plain"), (JSON, FORM))[0] == 415


# -- query strings -----------------------------------------------------------------

def test_query_params_last_value_wins():
    params = query_params(make(query="page_size=5&page_size=6&q=a"))
    assert params == {"page_size": "6", "q": "a"} and params.getall("page_size") == ["5", "6"]


@pytest.fixture
def cornice_request():
    config = testing.setUp()

    def build(*args, **kwargs):
        request = make(*args, **kwargs)
        request.registry = config.registry
        request.errors = Errors()
        request.validated = {}
        return request

    yield build
    testing.tearDown()


def test_querystring_validation_takes_the_last_value(cornice_request):
    request = cornice_request(method="GET", query="page_size=5&page_size=6")
    colander_querystring_validator(request, schema=PaginationQuery())
    assert not request.errors and request.validated == {"page_size": "6"}


class Number(colander.MappingSchema):
    number = colander.SchemaNode(colander.Integer())


def test_cornice_body_validation_reads_through_lms_request(cornice_request):
    request = cornice_request("number=1&number=2", FORM)
    colander_body_validator(request, schema=Number())
    assert request.validated == {"number": 2}
    request = cornice_request(b"7", JSON)
    colander_body_validator(request, schema=Number())
    assert request.errors[0]["description"] == "Invalid data. Expected a dictionary, but got int."
    with pytest.raises(APIError) as caught:
        colander_body_validator(cornice_request(b'{"number": NaN}', JSON), schema=Number())
    assert caught.value.status == 400


# -- through a real service ---------------------------------------------------------

@pytest.fixture
def fake_app(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    return app_factory()


def test_a_service_answers_bad_bodies_with_400s(fake_app):
    app = fake_app
    db = app.registry["lms.dbsession_factory"]()
    headers = jwt_headers(app, create_user(db, "alice"))
    url = "/api/fake/v1/standard/"
    response = app.post(url, b'{"number": 1}', status=400, headers=dict(
        headers, **{"Content-Type": MULTIPART}))
    assert response.json == {"detail": NO_BOUNDARY}
    response = app.post(url, b"x", status=415, headers=dict(
        headers, **{"Content-Type": "text/plain"}))
    assert response.json == {"detail": 'Unsupported media type "text/plain" in request.'}
    response = app.post(url, json.dumps({"number": 3}), headers=dict(
        headers, **{"Content-Type": "application/json; charset=utf-8"}))
    assert response.json == {"user": "alice", "number": 3}
    response = app.post(url, "number=4&number=5", headers=dict(
        headers, **{"Content-Type": FORM}))
    assert response.json == {"user": "alice", "number": 5}
    db.close()


def test_repeated_query_parameters_take_the_last_value(app, db):
    from plugins.experiments.models import ExperimentKeyValue

    db.add_all([ExperimentKeyValue(experiment_id=1, key=f"k{i}", value="v") for i in range(2)])
    db.commit()
    # Upstream's QueryDict.get: never a 400 leaking colander's "not a string" message.
    response = app.get("/api/experiments/v0/key-value/?page_size=5&page_size=1")
    assert (response.json["count"], response.json["num_pages"]) == (2, 2)
    assert len(response.json["results"]) == 1


# -- repeated query parameters: last value, or every value for multi_value types ---------

class _Tags(colander.String):
    multi_value = True

    def deserialize(self, node, cstruct):
        return list(cstruct) if isinstance(cstruct, list) else [cstruct]


class _RepeatedQuery(colander.MappingSchema):
    size = colander.SchemaNode(colander.String(), missing=colander.drop)
    tags = colander.SchemaNode(_Tags(), missing=colander.drop)


def test_querystring_validator_gives_multi_value_fields_every_value():
    request = Request.blank("/?size=5&tags=a&size=6&tags=b")
    request.matchdict = {}
    request.validated = {}
    request.errors = Errors()
    colander_querystring_validator(request, schema=_RepeatedQuery())
    assert not request.errors
    assert request.validated == {"size": "6", "tags": ["a", "b"]}
