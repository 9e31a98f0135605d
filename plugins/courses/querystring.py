"""The courses plugin's query-string validator for Django forms with ``MultiValueField``s.

The core's ``colander_querystring_validator`` hands a schema the last value of
each parameter, as ``QueryDict.get`` does. Upstream's blocks and course list
forms also read some fields with ``getlist`` (every value, repeated or
comma-separated), so their schemas get every value, and each field type keeps
the last one or all of them as its Django field does.
"""
from cornice.validators import _colander as cornice_colander


def multi_value_query_validator(request, schema=None, **kwargs):
    """Cornice's querystring validator over ``request.GET.mixed()`` (lists for repeats)."""
    kwargs["deserializer"] = lambda request: {"querystring": request.GET.mixed()}
    cornice_colander.querystring_validator(request, schema=schema, **kwargs)


multi_value_query_validator.location = "querystring"
