"""Who may call each discussion endpoint (checked by ``lms.testing``'s permission matrix),
one module per family; each module offers ``ROWS`` and may offer ``setup(world)``.

The world's learner is enrolled in the world's course (the enrollment plugin's setup);
the other learner is not, so course-scoped endpoints tell them ``Course not found.``
(404) as upstream does. Discussion views take upstream's standard authentication (JWT,
Bearer, session): a restricted application's JWT is refused (403)."""
from lms.matrix import matrix_of_areas

# Family modules of this package, in the order their setups run.
AREAS = ("content", "topic_rows", "course_rows")

MATRIX = matrix_of_areas(__name__, AREAS)
