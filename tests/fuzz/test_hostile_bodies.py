"""Hostile request bodies against every served write operation (in-process, webtest).

For each POST/PUT/PATCH/DELETE in the route table, as an anonymous caller, the learner
and global staff: malformed JSON, JSON nested 100,000 levels deep, lone surrogates,
NaN/Infinity, invalid UTF-8, multipart without a boundary, 1 MB strings, wrong types
and wrong media types. Every answer must be a 4xx with a JSON body, and no table may
gain or lose a row. Path, query and credentials come from the operation's permission
matrix row (the permission matrix fails any operation without one), so the request
reaches the view with valid parameters and only its body is hostile.
"""
import json

import pytest
from sqlalchemy import func, select

from lms import matrix
from lms.db import metadata
from lms.testing import _matrix_credentials
from tests.fuzz import deviations
from tests.fuzz.served import fuzz_settings, write_operations

ROLES = ("anonymous", "learner", "global_staff")
DEPTH = 100_000
MEGABYTE = 1024 * 1024
JSON_TYPE = "application/json"


def _replace_leaves(value, replacement):
    """``value`` with every scalar leaf replaced by ``replacement``."""
    if isinstance(value, dict):
        return {key: _replace_leaves(item, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_leaves(item, replacement) for item in value] or [replacement]
    return replacement


def _fields(sample):
    """The sample body (the matrix row's): its fields, or the scalar a body holds
    (a preference's value), or a generic field."""
    if (isinstance(sample, dict) and sample) or isinstance(sample, str):
        return sample
    return {"name": "value"}


def hostile_bodies(sample):
    """``[(name, content type, raw body)]`` for an operation whose valid body is ``sample``."""
    fields = _fields(sample)
    dumps = json.dumps  # ensure_ascii: a lone surrogate is written as the escape "\\ud800"
    bodies = [
        ("malformed JSON", JSON_TYPE, b'{"name": "unterminated'),
        ("JSON array nested 100,000 deep", JSON_TYPE, b"[" * DEPTH + b"]" * DEPTH),
        ("JSON object nested 100,000 deep", JSON_TYPE,
         b'{"a":' * DEPTH + b"1" + b"}" * DEPTH),
        ("lone surrogates", JSON_TYPE, dumps(_replace_leaves(fields, "\ud800")).encode()),
        ("NaN", JSON_TYPE, dumps(_replace_leaves(fields, float("nan"))).encode()),
        ("Infinity", JSON_TYPE, dumps(_replace_leaves(fields, float("inf"))).encode()),
        ("invalid UTF-8", JSON_TYPE, b'{"name": "\xff\xfe\xc3("}'),
        ("multipart without a boundary", "multipart/form-data",
         b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nvalue\r\n--x--\r\n'),
        ("multipart with a bad boundary", "multipart/form-data; boundary=\"\"",
         b'--\r\nContent-Disposition: form-data; name="name"\r\n\r\nvalue\r\n----\r\n'),
        ("1 MB strings", JSON_TYPE, dumps(_replace_leaves(fields, "x" * MEGABYTE)).encode()),
        ("a list for the body", JSON_TYPE, b"[]"),
        ("null for the body", JSON_TYPE, b"null"),
        ("lists for the fields", JSON_TYPE, dumps(_replace_leaves(fields, ["x"])).encode()),
        ("objects for the fields", JSON_TYPE,
         dumps(_replace_leaves(fields, {"x": "y"})).encode()),
        ("null for the fields", JSON_TYPE, dumps(_replace_leaves(fields, None)).encode()),
        ("text/plain", "text/plain", dumps(fields).encode()),
        ("application/xml", "application/xml",
         b"<?xml version='1.0'?><body><name>value</name></body>"),
    ]
    if not isinstance(sample, str):  # else a string (or a number, as text) is valid
        bodies += [("a number for the body", JSON_TYPE, b"42"),
                   ("a string for the body", JSON_TYPE, b'"body"')]
    return bodies


def row_counts(db):
    """``{table: rows}`` of every table, in one statement."""
    tables = [table for table in metadata.sorted_tables]
    counts = db.execute(select(*[
        select(func.count()).select_from(table).scalar_subquery().label(f"t{index}")
        for index, table in enumerate(tables)])).one()
    db.rollback()
    return {table.name: count for table, count in zip(tables, counts)}


def changed_tables(before, after):
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


def _url(world, row, template):
    from urllib.parse import urlencode

    url = matrix.fill_path(template, world.resolve(row.path) or {})
    query = world.resolve(row.query)
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url


def send(app, method, url, headers, content_type, body):
    return app.request(url, method=method, body=body, headers=dict(
        headers, **{"Content-Type": content_type}), expect_errors=True)


def describe(response):
    return f"{response.status} {response.body[:200]!r}"


def check_answer(response, operation, may_succeed):
    """Problems with one answer (an empty list when it is as expected)."""
    problems = []
    status = response.status_int
    if status >= 500:
        problems.append(f"server error {describe(response)}")
    elif status < 400 and not may_succeed:
        problems.append(f"accepted: {describe(response)}")
    # An error has a JSON body, or none at all (upstream's bare ``Response(status=403)``).
    if status >= 400 and response.body and operation not in deviations.NON_JSON_ERRORS:
        try:
            json.loads(response.body)
        except ValueError:
            problems.append(f"error body is not JSON: {describe(response)}")
        if not (response.content_type or "").endswith("json"):
            problems.append(f"error body has content type {response.content_type!r}")
    return problems


@pytest.mark.parametrize("operation", write_operations(),
                         ids=[f"{method} {route}" for route, method in write_operations()])
def test_hostile_bodies(operation, app_factory, engine):
    route, method = operation
    app, contributed = matrix.app_with_matrix_settings(
        lambda settings: app_factory(**settings), fuzz_settings())
    row = matrix.rows_by_operation(contributed).get((route, method))
    if row is None:
        pytest.fail(f"{method} {route} has no permission matrix row: the corpus takes its "
                    "path and credentials from there", pytrace=False)
    auth_classes = matrix.operation_auth_classes(app.registry, route)
    template = matrix.route_template(app.registry, route)
    # An alias answers as the service it serves again: it shares its deviations.
    reviewed = (matrix.alias_targets(app.registry).get(route, route), method)
    db = app.registry["lms.dbsession_factory"]()
    failures = []
    try:
        world = matrix.build_world(app.registry, db, contributed)
        for role in ROLES:
            world.role = role
            url = _url(world, row, template)
            sample = world.resolve(row.body)
            headers = dict(world.format(row.headers))
            headers.update(_matrix_credentials(app, world, role, auth_classes, app.registry,
                                               session=row.session))
            before = row_counts(db)
            for name, content_type, body in hostile_bodies(sample):
                app.reset()
                response = send(app, method, url, headers, content_type, body)
                accepted = name in deviations.ACCEPTED_BODIES.get(reviewed, ((),))[0]
                problems = check_answer(response, reviewed, accepted or (
                    reviewed in deviations.ANSWERS_ANY_BODY))
                if accepted:
                    before = row_counts(db)  # stored as upstream stores it
                elif reviewed not in deviations.CHANGES_STATE_WITHOUT_BODY:
                    after = row_counts(db)
                    changed = changed_tables(before, after)
                    if changed:
                        problems.append(f"rows changed {changed}")
                        before = after
                failures += [f"{role}, {name}: {problem}" for problem in problems]
    finally:
        db.close()
    if failures:
        pytest.fail(f"{method} {route} ({template}):\n  " + "\n  ".join(failures),
                    pytrace=False)
