"""The enrollment plugin's share of the benchmark (``make bench``, see ``bench/README.md``).

Data: one enrollment for every user but the benchmark learner, who is enrolled in
the 500 courses of the ``Bench`` organization this plugin adds at the first step
(one block each, with audit and verified modes; hidden from the catalog and
staff-only, so the courses plugin's lists keep their rows). The first course has
the learner alone; everyone else is in one of the others. Rows are bulk inserted
(COPY on PostgreSQL) with explicit ids, so the table's ids run from 1 without gaps:
at the large size 1,499 → 100,499 → 1,000,499 rows.

Scenarios: the learner's ``GET enrollment`` (500 enrollments, the whole list in
one answer) and global staff's ``enrollments/`` (cursor pages of 10): page 1 and
the page halfway through the table, and the page of the course with one enrollment.
"""
import math
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

LEARNER_COURSES = 500
# The synthetic course's organization: no new organization in organizations/.
COURSE_KEY = "course-v1:Bench+Enroll{number:03d}+2026"
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
ENROLLED_SPAN_SECONDS = 700 * 86400
MODES = (("audit", 0.7), ("verified", 0.9), ("honor", 1.0))  # cumulative shares
INACTIVE_SHARE = 0.05
PAGE_SIZE = 10  # the harness's pages (upstream's default is 100)


def course_keys():
    return [COURSE_KEY.format(number=number) for number in range(LEARNER_COURSES)]


def _add_courses(dataset):
    """The learner's 500 courses and their modes, once."""
    from plugins.courses import api as courses_api
    from plugins.enrollment.models import CourseMode

    db = dataset.dbsession
    keys = course_keys()
    if courses_api.get_course(db, keys[0]) is not None:
        return keys
    rng = dataset.rng
    for number, key in enumerate(keys):
        start = START + timedelta(days=rng.randrange(0, 600))
        block_id = key[len("course-v1:"):]
        courses_api.store_course(db, key, {
            "display_name": f"Enrollment benchmark course {number}",
            "start": start,
            "end": start + timedelta(days=rng.choice((60, 90, 120, 365))),
            "enrollment_start": start - timedelta(days=30),
            # Out of the catalog and out of a learner's course_ids/?role=load.
            "catalog_visibility": "none",
            "settings": {"visible_to_staff_only": True},
        }, [{"usage_key": f"block-v1:{block_id}+type@course+block@course",
             "block_type": "course", "block_id": "course", "display_name": f"Course {number}",
             "children": [], "fields": {}, "data": {}}])
    # A thousand rows, once: through the ORM, so every column gets its default.
    for key in keys:
        db.add(CourseMode(course_key=key, mode_slug="audit", mode_display_name="Audit"))
        db.add(CourseMode(course_key=key, mode_slug="verified",
                          mode_display_name="Verified Certificate",
                          min_price=rng.choice((49, 99, 149)),
                          # Upgradable well after the day the benchmark runs.
                          expiration_datetime=START + timedelta(days=rng.randrange(3 * 365,
                                                                                   4 * 365)),
                          sku=f"BENCH{rng.getrandbits(32):08X}"))
    db.flush()
    return keys


def add_dataset(dataset):
    from sqlalchemy import func, select, text

    from plugins.enrollment.models import Enrollment

    db = dataset.dbsession
    keys = _add_courses(dataset)
    rng = dataset.rng
    first_id = (db.scalar(select(func.max(Enrollment.id))) or 0) + 1
    learner = dataset.learner_id

    def mode():
        draw = rng.random()
        return next(slug for slug, share in MODES if draw < share)

    def enrolled():
        return START + timedelta(seconds=rng.randrange(ENROLLED_SPAN_SECONDS))

    def rows():
        next_id = first_id
        for user_id in range(dataset.first_user_id, dataset.last_user_id + 1):
            if user_id == learner:
                for key in keys:
                    yield next_id, user_id, key, mode(), True, enrolled()
                    next_id += 1
                continue
            yield (next_id, user_id, rng.choice(keys[1:]), mode(),
                   rng.random() >= INACTIVE_SHARE, enrolled())
            next_id += 1

    dataset.insert(Enrollment, ("id", "user_id", "course_key", "mode", "is_active", "created"),
                   rows())
    if dataset.postgres:
        db.execute(text("SELECT setval(pg_get_serial_sequence('enrollment_enrollment', 'id'), "
                        "(SELECT max(id) FROM enrollment_enrollment))"))


def enrollment_rows(users):
    """Rows in the table with ``users`` users: one each, the learner's 500 instead of one."""
    return users - 1 + LEARNER_COURSES


def middle_cursor(rows):
    """The cursor page halfway through ``enrollments/``: the ids run from 1 to ``rows``,
    so a cursor at the middle id lists the page that follows it."""
    from lms.pagination import _encode_cursor

    return (max(1, math.ceil(rows / PAGE_SIZE / 2)),
            {"cursor": _encode_cursor(rows // 2 + 1, False)})


def scenarios(size):
    small_course = quote(course_keys()[0], safe="")
    return [
        {"name": f"enrollment ({LEARNER_COURSES} enrollments)",
         "path": "/api/enrollment/v1/enrollment", "auth": "learner",
         "rows": lambda users: LEARNER_COURSES, "middle": None},
        {"name": "enrollments/", "path": f"/api/enrollment/v1/enrollments/?page_size={PAGE_SIZE}",
         "auth": "staff", "rows": enrollment_rows, "middle": middle_cursor},
        # The course with the learner alone: its page must not cost a walk of the table.
        {"name": "enrollments/?course_id= (1 enrollment)",
         "path": f"/api/enrollment/v1/enrollments/?course_id={small_course}"
                 f"&page_size={PAGE_SIZE}",
         "auth": "staff", "rows": lambda users: 1, "middle": None},
    ]
