"""Who may call each grades endpoint (checked by ``lms.testing``'s permission matrix),
one module per upstream area; each module offers ``ROWS`` and may offer ``setup(world)``
and ``SETTINGS``."""
from lms.matrix import matrix_of_areas

# Area modules of this package, in the order their setups run.
AREAS = ("problems", "grades", "gradebook", "course_home", "certificates", "completion")

MATRIX = matrix_of_areas(__name__, AREAS)
