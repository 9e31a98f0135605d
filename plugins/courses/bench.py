"""The courses plugin's share of the benchmark (``make bench``, see ``bench/README.md``).

Data: one large synthetic course (:mod:`.synthetic`, 5,000 blocks at the large
size) imported through the importer, and a small catalog course with its own
organization for every 1,000 users. Scenarios: the learner's course blocks of the
large course, the course list, course ids and organizations.
"""
import tempfile
from datetime import datetime, timedelta, timezone

BENCH_COURSE = "course-v1:Bench+Synthetic+2026"
BLOCKS = {"small": 200, "large": 5000}
USERS_PER_CATALOG_COURSE = 1000
CATALOG_ORG_PREFIX = "BenchOrg"
SUBJECTS = ("Algebra", "Biology", "Chemistry", "Databases", "Economics", "French",
            "Geology", "History", "Italian", "Java", "Kinematics", "Logic", "Music",
            "Networks", "Optics", "Physics", "Rhetoric", "Statistics", "Topology")
LEVELS = ("Introduction to", "Foundations of", "Advanced", "Applied", "Topics in")
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def catalog_courses(users):
    return users // USERS_PER_CATALOG_COURSE


def add_dataset(dataset):
    from plugins.courses import api
    from plugins.courses.importer import ImportLimits, import_course
    from plugins.courses.models import Course
    from plugins.courses.synthetic import generate
    from sqlalchemy import func, select

    db = dataset.dbsession
    if api.get_course(db, BENCH_COURSE) is None:
        with tempfile.TemporaryDirectory(prefix="openlms-bench-course-") as folder:
            generate(folder, BLOCKS[dataset.size], BENCH_COURSE)
            import_course(db, folder, limits=ImportLimits.from_settings(dataset.registry.settings))
    # Catalog courses only: other plugins add courses of their own (enrollment's).
    have = db.scalar(select(func.count()).select_from(Course).where(
        Course.org.like(CATALOG_ORG_PREFIX + "%")))
    rng = dataset.rng
    for number in range(have, catalog_courses(dataset.users)):
        # Started (before 2026-09): every course is in the learner's course_ids/?role=load.
        start = START + timedelta(days=rng.randrange(0, 600))
        title = f"{rng.choice(LEVELS)} {rng.choice(SUBJECTS)}"
        org = f"{CATALOG_ORG_PREFIX}{number:05d}"
        # A course of one block: the catalog reads the overview only.
        key = f"course-v1:{org}+C{number:05d}+2026"
        api.store_course(db, key, {
            "display_name": title,
            "start": start,
            "end": start + timedelta(days=rng.choice((60, 90, 120, 365))),
            "enrollment_start": start - timedelta(days=30),
            "self_paced": rng.random() < 0.5,
            "mobile_available": rng.random() < 0.8,
            "short_description": f"{title}, course {number} of the benchmark catalog.",
            "effort": f"{rng.randrange(2, 10)} hours/week",
            "language": "en",
        }, [{"usage_key": f"block-v1:{org}+C{number:05d}+2026+type@course+block@course",
             "block_type": "course", "block_id": "course", "display_name": title,
             "children": [], "fields": {}, "data": {}}])


def scenarios(size):
    blocks = ("/api/courses/v1/blocks/?course_id=" + BENCH_COURSE.replace("+", "%2B")
              + "&username={username}&depth=all&requested_fields=children,graded,format,due")
    courses = lambda users: catalog_courses(users) + 1  # noqa: E731  (the large course too)
    return [
        {"name": f"course blocks ({BLOCKS[size]:,} blocks, depth=all)", "path": blocks,
         "auth": "learner", "hot": True},
        {"name": "courses/", "path": "/api/courses/v1/courses/", "auth": "learner",
         "hot": True, "rows": courses},
        {"name": "course_ids/?role=load", "path": "/api/courses/v1/course_ids/?role=load"
         "&username={username}", "auth": "learner", "rows": courses},
        {"name": "organizations/", "path": "/api/organizations/v0/organizations/",
         "auth": "learner", "rows": courses},
    ]
