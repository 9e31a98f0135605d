"""Who may call each grades endpoint (checked by ``lms.testing``'s permission matrix),
one module per upstream area; each module offers ``ROWS`` and may offer ``setup(world)``
and ``SETTINGS``."""
import importlib

from lms.matrix import PluginMatrix

# Area modules of this package, in the order their setups run.
AREAS = ("problems", "grades", "gradebook", "course_home", "certificates", "completion")


def _modules():
    return [importlib.import_module(f"{__name__}.{area}") for area in AREAS]


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
