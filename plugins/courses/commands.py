"""``lms`` commands of the courses plugin (filled in by the importer work)."""
COMMANDS = []


def bootstrap_sample_course(registry, dbsession, echo):
    """Import the bundled sample course on a new instance (see the importer)."""
