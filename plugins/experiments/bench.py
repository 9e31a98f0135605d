"""The experiments plugin's share of the benchmark (``make bench``, see ``bench/README.md``).

Data: one experiment value per user (the learner has 30 more) and one site-wide
key-value per user. Scenarios: the learner's ``data/`` (a list whose length does
not grow with the table) and ``key-value/`` (one that does).
"""
from datetime import datetime, timedelta, timezone

LEARNER_ROWS = 30
EXPERIMENTS = 50
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def add_dataset(dataset):
    from plugins.experiments.models import ExperimentData, ExperimentKeyValue

    rng = dataset.rng
    first, last = dataset.first_user_id, dataset.last_user_id

    def stamp():
        return START + timedelta(seconds=rng.randrange(0, 600 * 86400))

    def data_rows():
        for user_id in range(first, last + 1):
            when = stamp()
            yield (user_id, rng.randrange(1, EXPERIMENTS + 1), "seen",
                   rng.choice(("true", "false")), when, when)
        if first <= dataset.learner_id <= last:
            for number in range(LEARNER_ROWS):
                when = stamp()
                yield (dataset.learner_id, number % EXPERIMENTS + 1, f"key-{number}",
                       f"value {rng.randrange(10**6)}", when, when)

    columns = ("user_id", "experiment_id", "key", "value", "created", "modified")
    dataset.insert(ExperimentData, columns, data_rows())
    dataset.insert(ExperimentKeyValue, ("experiment_id", "key", "value", "created", "modified"), (
        (user_id % EXPERIMENTS + 1, f"setting-{user_id}", str(rng.randrange(10**6)), when, when)
        for user_id in range(first, last + 1) for when in (stamp(),)))


def scenarios(size):
    return [
        {"name": "experiments data/", "path": "/api/experiments/v0/data/", "auth": "learner",
         "hot": True, "rows": lambda users: LEARNER_ROWS + 1},
        {"name": "experiments key-value/", "path": "/api/experiments/v0/key-value/",
         "auth": None, "rows": lambda users: users},
    ]
