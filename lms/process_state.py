"""State an app keeps in its process between requests: caches of database reads
and in-memory outboxes.

Whatever holds such state registers it with :func:`register` (it must have a
``clear()`` method); :func:`clear` empties all of it at once. The test fixtures
(:mod:`lms.testing`) build an app once and reuse it across tests, clearing its
process state between them, so that no test sees another's cached rows, mail or
events. A plugin that adds a cache registers it the same way.
"""

REGISTRY_KEY = "lms.process_state"


def register(registry, holder):
    """Remember ``holder`` (anything with ``clear()``) as part of the app's process state."""
    if not callable(getattr(holder, "clear", None)):
        raise TypeError(f"{holder!r} has no clear() method")
    registry.setdefault(REGISTRY_KEY, []).append(holder)
    return holder


def clear(registry):
    """Empty every registered cache and outbox of this app."""
    for holder in registry.get(REGISTRY_KEY, ()):
        holder.clear()
