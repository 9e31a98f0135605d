"""``lms`` sub-commands of the grades plugin.

- ``lms grades recompute COURSE_KEY``: recompute and store every enrolled learner's
  grades in a course (a ``grades_recompute_job`` row shows the progress), in this
  process, or in the ``grades.recompute_course`` Celery task with ``--queue``.
"""
import click

from lms.cli import pass_environment
from lms.keys import parse_course_key


@click.group("grades")
def grades_group():
    """Course grades."""


@grades_group.command("recompute")
@click.argument("course_key")
@click.option("--queue", is_flag=True, help="Send the job to the Celery worker.")
@pass_environment
def recompute_command(environment, course_key, queue):
    """Recompute every enrolled learner's grades in COURSE_KEY."""
    from plugins.courses import api as courses_api
    from plugins.grades import course_grades
    from plugins.grades.models import RecomputeJob

    key = parse_course_key(course_key)
    if key is None:
        raise click.ClickException(f"{course_key!r} is not a valid course key")
    with environment.session() as db:
        if courses_api.get_course(db, key) is None:
            raise click.ClickException(f"course {key} does not exist")
        if queue:
            job = course_grades.start_recompute(db, str(key), reason="lms grades recompute")
        else:
            job = RecomputeJob(course_key=str(key), status="queued",
                               reason="lms grades recompute")
            db.add(job)
            db.flush()
        job_id = job.id
    if queue:
        click.echo(f"recompute job {job_id} queued for {key}")
        return
    course_grades.run_recompute(environment.registry, environment.session, job_id,
                                batch_size=int(environment.settings.get(
                                    "grades.recompute_batch_size", 200)))
    with environment.session() as db:
        job = db.get(RecomputeJob, job_id)
        click.echo(f"recompute job {job_id}: {job.status}, {job.done}/{job.total} learners")


def all_commands():
    return [grades_group]
