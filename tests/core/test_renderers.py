"""The ``json`` renderer: orjson writing DRF's JSON, equal in data to ``json.dumps``."""
import datetime
import decimal
import enum
import json

import pytest
from pyramid.renderers import JSON

from lms.renderers import dumps


class Colour(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


VALUES = [
    {"z": 1, "a": [1, 2.5, -0.0, 1e16, 1e-7, None, True, False], "m": {"b": {}, "a": []}},
    {"naïve": "Zoë — 東京 🎓", "tab\t": "line\nbreak \"quoted\" \\ back"},
    {1: "int key", 2.5: "float key", True: "bool key", None: "null key"},
    [Colour.RED, Level.HIGH, ("a", "tuple")],
    {"big": 2**70, "small": -(2**70)},
    {"surrogate": "a\ud800b"},
    "",
    [],
]


@pytest.mark.parametrize("value", VALUES)
def test_the_same_data_as_the_standard_library(value):
    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


def test_drf_shape_compact_utf8_in_key_order():
    body = dumps({"name": "Zoë", "b": [1, {"y": None, "x": True}], "a": 1.5})
    assert body == '{"name":"Zoë","b":[1,{"y":null,"x":true}],"a":1.5}'.encode()


def test_line_and_paragraph_separators_are_escaped_as_drf_does():
    assert dumps(["a\u2028b\u2029c"]) == b'["a\\u2028b\\u2029c"]'


def test_what_orjson_refuses_is_written_by_the_standard_library():
    assert dumps({"n": 2**64}) == b'{"n":18446744073709551616}'
    assert dumps(["a\ud800"]) == b'["a\\ud800"]'


def render(value, renderer=None):
    renderer = renderer or JSON(serializer=dumps)
    return renderer(None)(value, {})


def test_other_types_go_through_pyramids_adapters_and___json__():
    class Token:
        def __json__(self, request):
            return {"token": "t"}

    assert render([Token()]) == b'[{"token":"t"}]'
    for value in (datetime.datetime(2026, 1, 2, 3, 4, 5), decimal.Decimal("1.5")):
        with pytest.raises(TypeError):  # as with Pyramid's own renderer: no adapter, no JSON
            render({"value": value})
    renderer = JSON(serializer=dumps)
    renderer.add_adapter(datetime.datetime, lambda value, request: value.isoformat())
    renderer.add_adapter(decimal.Decimal, lambda value, request: str(value))
    assert render([datetime.datetime(2026, 1, 2, 3, 4, 5), decimal.Decimal("1.50")],
                  renderer) == b'["2026-01-02T03:04:05","1.50"]'


def test_services_and_errors_answer_with_it(app_factory, add_plugins):
    add_plugins("tests.core.fakeplugin")
    app = app_factory()
    response = app.get("/api/fake/v1/standard/")
    assert response.body == b'{"user":null}'
    assert response.headers["Content-Type"] == "application/json"
    error = app.post("/api/fake/v1/standard/", status=401)
    assert error.body == b'{"detail":"Authentication credentials were not provided."}'
    assert error.headers["Content-Type"] == "application/json"
