"""Tables of the grades plugin (``grades_*``), one module per area. Courses belong to
the courses plugin and people to the core: rows name them by key string and user id."""
from plugins.grades.models.problems import *  # noqa: F401,F403
from plugins.grades.models.grading import *  # noqa: F401,F403
from plugins.grades.models.course_home import *  # noqa: F401,F403
from plugins.grades.models.completion import *  # noqa: F401,F403
from plugins.grades.models.certificates import *  # noqa: F401,F403
