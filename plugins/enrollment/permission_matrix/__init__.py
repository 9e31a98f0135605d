"""Who may call each enrollment endpoint (checked by ``lms.testing``'s permission
matrix), one module per upstream area; each module offers ``ROWS`` and may offer
``setup(world)``."""
from lms.matrix import matrix_of_areas

# Area modules of this package, in the order their setups run.
AREAS = ("enrollment", "course_modes", "cohorts", "bulk_enroll", "email_settings", "embargo")

MATRIX = matrix_of_areas(__name__, AREAS)
