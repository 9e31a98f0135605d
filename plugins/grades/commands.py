"""``lms`` sub-commands of the grades plugin.

- ``lms grades recompute COURSE_KEY``: recompute and store every enrolled learner's
  grades in a course (a ``grades_recompute_job`` row shows the progress), in this
  process, or in the ``grades.recompute_course`` Celery task with ``--queue``.
- ``lms create-certificate USERNAME COURSE_KEY [--mode M] [--status S] [--grade G]``:
  give a learner a certificate whatever their grade (upstream's ``create_fake_cert``, for
  test set-ups); prints its web certificate path.
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


@click.command("create-certificate")
@click.argument("username")
@click.argument("course_key")
@click.option("--mode", default="verified", show_default=True,
              help="The certificate's mode (certificate_type).")
@click.option("--status", default="downloadable", show_default=True,
              help="The certificate's status.")
@click.option("--grade", default="", help="The grade string (at most 5 characters).")
@pass_environment
def create_certificate_command(environment, username, course_key, mode, status, grade):
    """Create or update USERNAME's certificate in COURSE_KEY."""
    from lms.cli import find_user
    from plugins.courses import api as courses_api
    from plugins.grades import certificates

    key = parse_course_key(course_key)
    if key is None:
        raise click.ClickException(f"{course_key!r} is not a valid course key")
    if mode not in certificates.MODES:
        raise click.ClickException(f"unknown mode {mode!r} (one of {', '.join(certificates.MODES)})")
    if status not in certificates.STATUSES:
        raise click.ClickException(f"unknown status {status!r}")
    if len(grade) > 5:
        raise click.ClickException("the grade has at most 5 characters")
    with environment.session() as db:
        user = find_user(db, username)
        if courses_api.get_course(db, key) is None:
            raise click.ClickException(f"course {key} does not exist")
        cert = certificates.save_certificate(db, user.id, str(key), status=status, mode=mode,
                                             grade=grade)
        message = (f"certificate of {user.username!r} in {key}: {cert.status}, {cert.mode}, "
                   f"/certificates/{cert.verify_uuid}")
    click.echo(message)


def all_commands():
    return [grades_group, create_certificate_command]
