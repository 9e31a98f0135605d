"""openlms's permission matrix over hello alone: one test per served operation."""
from lms.testing import test_permission_matrix  # noqa: F401

# Which app the matrix is built for (default: every installed plugin).
permission_matrix_settings = {"lms.plugins": "hello"}
