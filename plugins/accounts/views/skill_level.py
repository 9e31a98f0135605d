"""Learner skill levels for a job, ``GET /api/user/v1/skill_level/{job_id}/``
(upstream ``user_api.learner_skill_levels``).

Upstream asks the taxonomy service (through discovery) for the job's top skill
categories and answers 404 ``{"message": ...}`` when there are none. openlms
has no skills taxonomy, so every job is unknown: it never makes up categories
or scores.
"""
from lms.auth import STANDARD_AUTH
from lms.errors import APIError
from lms.service import Service

skill_level = Service("accounts.skill_level", r"/api/user/v1/skill_level/{job_id:\d+}/",
                      auth=STANDARD_AUTH)

UNKNOWN_JOB = "The job id doesn't exist, enter a valid job id."


@skill_level.get(responses={404: "Always: openlms knows no jobs.", 200: None})
def get_skill_level(request):
    """A learner's skill levels for a job: openlms keeps no job data, so always a 404."""

    raise APIError(404, {"message": UNKNOWN_JOB})
