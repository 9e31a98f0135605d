"""Who may call each discussion endpoint (checked by ``lms.testing``'s permission matrix),
one module per family; each module offers ``ROWS`` and may offer ``setup(world)``.

The world's learner is enrolled in the world's course (the enrollment plugin's setup);
the other learner is not, so course-scoped endpoints tell them ``Course not found.``
(404) as upstream does. Discussion views take upstream's standard authentication (JWT,
Bearer, session): a restricted application's JWT is refused (403)."""
import importlib

from lms.matrix import PluginMatrix

# Family modules of this package, in the order their setups run.
AREAS = ("content", "topic_rows", "course_rows")


def _modules():
    found = []
    for area in AREAS:
        try:
            found.append(importlib.import_module(f"{__name__}.{area}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{area}":
                raise
    return found


def setup(world):
    for module in _modules():
        if hasattr(module, "setup"):
            module.setup(world)


def _settings():
    merged = {}
    for module in _modules():
        merged.update(getattr(module, "SETTINGS", {}))
    return merged


MATRIX = PluginMatrix(rows=[row for module in _modules() for row in module.ROWS],
                      setup=setup, settings=_settings())
