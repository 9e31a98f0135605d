"""The benchmark dataset: users inserted in bulk, then each plugin's rows (``lms_bench_dataset``).

Deterministic: every value comes from ``random.Random`` seeded with the run's seed
and the step, so the same seed and steps give the same rows (ids included: the
database is new), but for the course version ids the courses plugin draws itself.
It grows in steps (1,000, then 100,000, then 1,000,000 users), each adding only the
new users and their rows.
"""
import json
import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.orm import Session

from lms.models import User

FIRST_NAMES = ("Ada", "Bola", "Chen", "Dario", "Emma", "Farah", "Goran", "Hana", "Ivan",
               "Jun", "Kemal", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa",
               "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe")
LAST_NAMES = ("Adeyemi", "Bianchi", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia",
              "Haddad", "Ito", "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura",
              "Okafor", "Petrov", "Quispe", "Rossi", "Silva", "Tanaka", "Usman", "Varga",
              "Wang", "Xu", "Yilmaz", "Zhou")
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.edu")
JOINED_FROM = datetime(2019, 1, 1, tzinfo=timezone.utc)
JOINED_SPAN_SECONDS = 6 * 365 * 86400
# A fixed clock for timestamps nobody reads twice: the data does not depend on the day.
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
COPY_BATCH = 10_000


class Dataset:
    """What ``lms_bench_dataset(dataset)`` receives (see lms/hookspecs.py)."""

    def __init__(self, registry, engine, size, seed):
        self.registry = registry
        self.engine = engine
        self.size = size
        self.seed = seed
        self.now = NOW
        self.users = 0  # bulk users so far
        self.learner_id = self.staff_id = None
        self.dbsession = self.rng = None
        self.first_user_id = self.last_user_id = None

    @property
    def postgres(self):
        return self.engine.dialect.name == "postgresql"

    def grow(self, users):
        """Add users (and every plugin's rows for them) until there are ``users``."""
        if users <= self.users:
            return
        self.rng = random.Random(f"{self.seed}:{users}")
        with Session(bind=self.engine) as session:
            self.dbsession = session
            first = (session.scalar(select(func.max(User.id))) or 0) + 1
            self.first_user_id, self.last_user_id = first, first + users - self.users - 1
            if self.learner_id is None:
                self.learner_id, self.staff_id = first, first + 1
            self.insert(User, ("id", "username", "email", "name", "password", "is_active",
                               "is_staff", "is_superuser", "date_joined", "last_login",
                               "anonymous_id"), self._users())
            if self.postgres:
                session.execute(text("SELECT setval(pg_get_serial_sequence('lms_user', 'id'), "
                                     ":last)"), {"last": self.last_user_id})
            self.users = users
            self.registry["lms.plugin_manager"].hook.lms_bench_dataset(dataset=self)
            session.commit()
        self.dbsession = None
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if self.postgres else "ANALYZE"))

    def _users(self):
        rng = self.rng
        for user_id in range(self.first_user_id, self.last_user_id + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            username = f"{first}_{last}_{user_id}".lower()
            joined = JOINED_FROM + timedelta(seconds=rng.randrange(JOINED_SPAN_SECONDS))
            special = user_id in (self.learner_id, self.staff_id)
            logged_in = joined + timedelta(seconds=rng.randrange(86400 * 30))
            yield (user_id, username, f"{username}@{rng.choice(DOMAINS)}", f"{first} {last}",
                   "!", special or rng.random() < 0.97, user_id == self.staff_id, False,
                   joined, logged_in if rng.random() < 0.8 else None,
                   f"{rng.getrandbits(128):032x}")

    def insert(self, model, columns, rows):
        """Insert ``rows`` (tuples in ``columns`` order) into ``model``'s table in bulk:
        COPY on PostgreSQL, an executemany on SQLite. Values are bound as the ORM would."""
        table = getattr(model, "__table__", model)
        connection = self.dbsession.connection()
        dialect = connection.dialect
        processors = [_processor(table.c[name].type, dialect) for name in columns]
        if not self.postgres:
            batch = []
            for row in rows:
                batch.append(dict(zip(columns, row)))
                if len(batch) >= COPY_BATCH:
                    connection.execute(insert(table), batch)
                    batch = []
            if batch:
                connection.execute(insert(table), batch)
            return
        driver = connection.connection.driver_connection
        names = ", ".join(f'"{name}"' for name in columns)
        with driver.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([value if process is None or value is None else process(value)
                                    for process, value in zip(processors, row)])


def _processor(column_type, dialect):
    """How a Python value becomes what COPY sends (JSON as text, aware datetimes as UTC)."""
    if isinstance(column_type, JSON):
        return json.dumps
    return column_type.bind_processor(dialect)
