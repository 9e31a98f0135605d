"""Background tasks of the grades plugin.

- ``grades.refresh``: recompute some learners' grades in a course (sent after commit
  by :func:`plugins.grades.course_grades.schedule_refresh` for large courses);
- ``grades.recompute_course``: a course-wide recompute job (``grades_recompute_job``),
  learners in batches, each batch committed with the job's progress.
"""
from lms.tasks import TaskDeclaration, celery_app, task, task_session


def send_task(registry, celery_task, *args):
    """Send a task now (callers are already after commit)."""
    app = celery_app(registry)
    bound = (celery_task.register(app) if isinstance(celery_task, TaskDeclaration)
             else app.tasks[celery_task.name])
    if app.conf.task_always_eager:
        return bound.apply(args=args)
    else:
        return bound.apply_async(args=args)


@task(name="grades.refresh")
def refresh_grades(self, course_key, user_ids):
    from plugins.grades.course_grades import refresh_now

    with task_session(self) as db:
        refresh_now(self.app.conf.lms_registry, db, course_key, user_ids)


@task(name="grades.recompute_course")
def recompute_course(self, job_id):
    from plugins.grades.course_grades import run_recompute

    registry = self.app.conf.lms_registry
    batch = int(registry.settings.get("grades.recompute_batch_size", 200))
    return run_recompute(registry, lambda: task_session(self), job_id, batch_size=batch)
