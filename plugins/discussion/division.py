"""Divided discussions (upstream ``django_comment_client.utils``): a course divides its
topics by cohort or by enrollment track; a learner then sees, in a divided topic, the
threads of their own group and those of no group.

A group id is a cohort id (scheme ``cohort``) or the id of the enrollment's course mode
(scheme ``enrollment_track``, upstream's enrollment track partition).
"""
from plugins.discussion import config
from plugins.enrollment import api as enrollment_api


def track_groups(db, course_key):
    """``{group id: name}`` of the enrollment tracks (every course mode, expired too)."""
    return {mode.id: mode.mode_display_name
            for mode in enrollment_api.course_modes(db, course_key, include_expired=True)}


def available_schemes(db, course_key):
    schemes = [config.NONE]
    if enrollment_api.is_course_cohorted(db, course_key):
        schemes.append(config.COHORT)
    if len(track_groups(db, course_key)) > 1:
        schemes.append(config.ENROLLMENT_TRACK)
    return schemes


def effective_scheme(db, course_key, settings):
    """The scheme in force: a cohort scheme of a course no longer cohorted, or an
    enrollment track scheme with fewer than two tracks, divides nothing."""
    scheme = settings.division_scheme
    if scheme == config.COHORT and not enrollment_api.is_course_cohorted(db, course_key):
        return config.NONE
    if scheme == config.ENROLLMENT_TRACK and len(track_groups(db, course_key)) < 2:
        return config.NONE
    return scheme if scheme in config.DIVISION_SCHEMES else config.NONE


def is_divided(settings, scheme, topic_id, course_wide_ids):
    """Upstream ``is_commentable_divided``: course-wide topics (and inline ones when
    ``always_divide_inline_discussions`` is false) are divided only when listed;
    other inline topics always are."""
    if scheme == config.NONE:
        return False
    if topic_id in course_wide_ids or not settings.always_divide_inline_discussions:
        return topic_id in (settings.divided_discussions or ())
    return True


def group_of(db, course_key, user_id, scheme):
    """``(group id, group name)`` of a user under ``scheme``, or None."""
    if scheme == config.COHORT:
        return enrollment_api.cohort_of(db, user_id, course_key)
    if scheme == config.ENROLLMENT_TRACK:
        row = enrollment_api.get_enrollment_row(db, user_id, course_key)
        if row is None or not row.is_active:
            return None
        for mode in enrollment_api.course_modes(db, course_key, include_expired=True):
            if mode.mode_slug == row.mode:
                return mode.id, mode.mode_display_name
    return None


def group_names(db, course_key, scheme):
    """``{group id: name}`` of every group of ``scheme`` (names for ``group_name``)."""
    if scheme == config.COHORT:
        return enrollment_api.cohort_names(db, course_key)
    if scheme == config.ENROLLMENT_TRACK:
        return track_groups(db, course_key)
    return {}
