"""``lms`` commands of the courses plugin, and the bootstrap step importing the sample course."""
import sys
from pathlib import Path

import click

from lms.cli import one_line, pass_environment
from plugins.courses import api
from plugins.courses.importer import ImportLimits, OLXError, import_course
from plugins.courses.olx import Progress, course_key_of

SAMPLE_COURSE_DIR = Path(__file__).resolve().parent / "sample_course"
# Courses with at least this many blocks get a progress bar.
PROGRESS_THRESHOLD = 500


class ProgressBar(Progress):
    """A click progress bar (on stderr) over the blocks read, for large courses."""

    def __init__(self):
        self.bar = None

    def start(self, estimate):
        if estimate >= PROGRESS_THRESHOLD:
            self.bar = click.progressbar(length=estimate, label="reading blocks",
                                         file=sys.stderr)
            self.bar.__enter__()

    def advance(self, count=1):
        if self.bar is not None:
            self.bar.update(count)

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("import-course")
@click.argument("path", type=click.Path())
@click.option("--course-key", help="Import under this key instead of the export's own "
              "(course-v1:ORG+COURSE+RUN).")
@pass_environment
def import_course_command(environment, path, course_key):
    """Import (or replace) a course from an OLX export: a folder or a .tar.gz."""
    limits = ImportLimits.from_settings(environment.settings)
    progress = ProgressBar()
    try:
        with environment.session() as db:
            result = import_course(db, path, course_key=course_key, limits=limits,
                                   progress=progress)
            key, version = result.course_key, result.version
            blocks, assets = result.block_count, result.asset_count
    except OLXError as exc:
        raise click.ClickException(f"cannot import {path}: {one_line(exc)}")
    finally:
        progress.close()
    click.echo(f"imported {key} (version {version}): {blocks} blocks, {assets} assets")


COMMANDS = [import_course_command]


def bootstrap_sample_course(registry, dbsession, echo):
    """Import the bundled sample course when the instance does not have it yet."""
    key = course_key_of(SAMPLE_COURSE_DIR)
    if api.get_course(dbsession, key) is not None:
        return
    result = import_course(dbsession, SAMPLE_COURSE_DIR,
                           limits=ImportLimits.from_settings(registry.settings))
    echo(f"courses: imported the sample course {key} ({result.block_count} blocks)")
