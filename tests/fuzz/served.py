"""What this server serves, read from its route table (so new operations are fuzzed unwired).

One app configuration with every installed plugin is built once per test session at
collection time (on an in-memory database: only the registry is read).
"""
import functools
import os
from pathlib import Path

from lms import make_config
from lms.matrix import route_template, served_operations
from lms.openapi import build_document, path_shape
from lms.testing import TEST_SETTINGS, installed_plugins
from tests.fuzz import deviations

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_SPEC = ROOT.parent / "shared" / "spec" / "lms-openapi.yaml"
UPSTREAM_BASE_PATH = "/api"


def fuzz_settings():
    """The settings of every fuzzed app: the test settings, every installed plugin."""
    settings = dict(TEST_SETTINGS)
    settings["lms.plugins"] = " ".join(installed_plugins())
    return settings


@functools.cache
def registry():
    config = make_config(dict(fuzz_settings(), **{"sqlalchemy.url": "sqlite://"}))
    config.commit()
    return config.registry


@functools.cache
def operations():
    """Sorted ``(route name, method)`` of every served operation (Cornice or not)."""
    return served_operations(registry())


def write_operations():
    return [(route, method) for route, method in operations() if method in WRITE_METHODS]


@functools.cache
def own_document():
    """The project's OpenAPI document, as ``GET /api-docs/openapi.json`` answers it."""
    return build_document(registry())


def served_shapes():
    """``{(method, path shape)}`` of every served operation (placeholders reduced to ``{}``)."""
    return {(method, path_shape(route_template(registry(), route)))
            for route, method in operations()}


@functools.cache
def upstream_document():
    """Upstream's Swagger 2.0 contract restricted to the operations served here, or None
    when ``../shared`` is absent. Paths are matched on their shape (placeholder names and
    regexes aside) under upstream's ``basePath``."""
    if not UPSTREAM_SPEC.is_file():
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(UPSTREAM_SPEC, encoding="utf-8") as spec:
        document = yaml.load(spec, Loader=loader)
    base = document.get("basePath", UPSTREAM_BASE_PATH).rstrip("/")
    served = served_shapes()
    paths = {}
    for path, item in document["paths"].items():
        kept = {key: value for key, value in item.items()
                if key.upper() not in WRITE_METHODS + ("GET",)
                or (key.upper(), path_shape(base + path)) in served}
        if any(key.upper() in WRITE_METHODS + ("GET",) for key in kept):
            paths[path] = kept
    document["paths"] = paths
    correct(document, deviations.UPSTREAM_CORRECTIONS)
    return document


def correct(document, corrections):
    """Merge each correction into the schema its pointer names (a missing one is skipped:
    a correction for a part of the document this server does not serve); a change to
    None removes that keyword."""
    for pointer, changes, _reason in corrections:
        node = document
        for part in pointer.split("/"):
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node.update(changes)
            for keyword in [key for key, value in changes.items() if value is None]:
                del node[keyword]


def fuzz_examples(default):
    """Examples per operation and caller: ``LMS_FUZZ_EXAMPLES`` (``make fuzz``) or ``default``."""
    return int(os.environ.get("LMS_FUZZ_EXAMPLES") or default)
