"""A learner's grades computed from the course structure, their scores and the gradebook
overrides (:mod:`.grading` does the arithmetic), persisted so that reads are one query,
and refreshed after commit whenever a score changes (:func:`schedule_refresh`) or for a
whole course when its grading policy changes (:func:`start_recompute`).

- Scorable blocks are those with a score row, and ``problem`` blocks whose maximum is
  known from their OLX (never attempted: 0 of that maximum). Scores are raw points; the
  block's ``weight`` is applied here.
- ``graded`` and ``format`` are the subsection's (inherited by its problems).
- Subsection rows keep the computed totals; the override sits beside them (upstream's
  ``PersistentSubsectionGradeOverride``) and is applied when grading.
"""
import hashlib
import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import event, select

from lms.db import separate_session
from lms.timeutil import utcnow
from plugins.courses import api as courses_api
from plugins.grades import grading
from plugins.grades.models import (CourseGrade, RecomputeJob, SubsectionGrade,
                                   SubsectionOverride)

log = logging.getLogger(__name__)

PENDING_KEY = "grades.pending_refresh"
SUBSECTION_TYPES = ("sequential",)


# -- what a learner's grade looks like -------------------------------------------------------

@dataclass
class SubsectionGradeView:
    usage_key: str
    display_name: str
    format: str
    graded: bool
    due: object
    show_correctness: str
    earned_all: float
    possible_all: float
    earned_graded: float
    possible_graded: float
    percent_graded: float
    attempted: bool
    override: dict | None
    problem_scores: dict = field(default_factory=dict)
    # the totals before the override (the subsection API's original_grade)
    original: grading.Totals | None = None


@dataclass
class ChapterGrade:
    usage_key: str
    display_name: str
    subsections: list


@dataclass
class CourseGradeView:
    user_id: int
    course_key: str
    percent: float
    letter_grade: str | None
    passed: bool
    summary: dict
    chapters: list
    subsections: list
    grading_policy: dict

    def subsection(self, usage_key):
        for sub in self.subsections:
            if sub.usage_key == usage_key:
                return sub
        return None


def policy_hash(policy):
    text = json.dumps(grading.effective_policy(policy), sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()


def problem_max_score(node):
    """A problem's maximum raw score from its OLX (None when unknown): the capa module's
    answer when it offers one, else one point per response element."""
    from plugins.grades import capa

    try:
        return capa.max_score(node)
    except Exception:  # noqa: BLE001 - an unparsable problem is unscorable
        log.warning("max score of %s unknown", node.usage_key, exc_info=True)
        return None


def scores_for(db, course_key, user_ids):
    """``{user_id: {usage_key: Score}}`` from the scores module (empty without one)."""
    from plugins.grades import scores

    return scores.scores_for(db, str(course_key), list(user_ids))


def overrides_for(db, course_key, user_ids):
    """``{user_id: {usage_key: override dict}}`` in one query."""
    if not user_ids:
        return {}
    rows = db.execute(
        select(SubsectionGrade.user_id, SubsectionGrade.usage_key, SubsectionOverride)
        .join(SubsectionOverride, SubsectionOverride.grade_id == SubsectionGrade.id)
        .where(SubsectionGrade.course_key == str(course_key),
               SubsectionGrade.user_id.in_(list(user_ids))))
    found = {}
    for user_id, usage_key, override in rows:
        found.setdefault(user_id, {})[usage_key] = {
            name: getattr(override, name) for name in grading.OVERRIDE_FIELDS}
    return found


def course_outline(structure):
    """``[(chapter node, [subsection node, ...]), ...]`` in course order."""
    root = structure.blocks[structure.root]
    outline = []
    for chapter_key in root.children:
        chapter = structure.blocks.get(chapter_key)
        if chapter is None or chapter.block_type != "chapter":
            continue
        subs = [structure.blocks[key] for key in chapter.children
                if key in structure.blocks
                and structure.blocks[key].block_type in SUBSECTION_TYPES]
        outline.append((chapter, subs))
    return outline


_DESCENDANTS = {}  # id(structure) -> (structure, {subsection key: descendant keys})


def _descendants(structure, usage_key):
    """A subsection's descendants, walked once per course version (grading a course asks
    for every subsection of every learner)."""
    entry = _DESCENDANTS.get(id(structure))
    if entry is None or entry[0] is not structure:
        if len(_DESCENDANTS) > 16:
            _DESCENDANTS.clear()
        entry = _DESCENDANTS[id(structure)] = (structure, {})
    found = entry[1].get(usage_key)
    if found is None:
        found = entry[1][usage_key] = tuple(structure.descendants(usage_key))
    return found


def _scorable(structure, subsection, user_scores, hidden=frozenset()):
    """``[(usage_key, node, Score|None)]`` of the scorable blocks below a subsection
    that the learner is not kept from (``hidden``)."""
    found = []
    for key in _descendants(structure, subsection.usage_key):
        if key in hidden:
            continue
        node = structure.blocks[key]
        score = user_scores.get(key)
        if score is not None or node.block_type == "problem":
            found.append((key, node, score))
    return found


def compute(structure, policy, user_scores, user_overrides, max_scores, hidden=frozenset()):
    """The grades of one learner (no database): ``(chapters, subsections, result)``.
    Blocks in ``hidden`` (staff-only, another content group, a randomised child not
    picked for the learner) count for nothing, as upstream grades the learner's own
    course tree."""
    chapters, flat = [], []
    for chapter, subs in course_outline(structure):
        views = []
        for node in subs:
            if node.usage_key in hidden or chapter.usage_key in hidden:
                continue
            graded = bool(node.get("graded", False))
            problem_scores, attempted = {}, False
            for key, block, score in _scorable(structure, node, user_scores, hidden):
                if score is not None:
                    raw_earned, raw_possible = float(score.earned), float(score.possible)
                    attempted = attempted or score.first_attempted is not None
                else:
                    raw_possible = max_scores.get(key)
                    if raw_possible is None:
                        continue
                    raw_earned = 0.0
                problem_scores[key] = grading.weighted_score(
                    raw_earned, raw_possible, block.get("weight"))
            totals = grading.subsection_totals(problem_scores.values(), graded)
            override = user_overrides.get(node.usage_key)
            effective = grading.apply_override(totals, override)
            views.append(SubsectionGradeView(
                usage_key=node.usage_key, display_name=node.display_name or "",
                format=node.get("format") or "", graded=graded, due=node.get("due"),
                show_correctness=node.get("show_correctness") or "always",
                earned_all=effective.earned_all, possible_all=effective.possible_all,
                earned_graded=effective.earned_graded,
                possible_graded=effective.possible_graded,
                percent_graded=effective.percent_graded,
                attempted=attempted or override is not None, override=override,
                problem_scores=problem_scores, original=totals))
        chapters.append(ChapterGrade(chapter.usage_key, chapter.display_name or "", views))
        flat.extend(views)
    result = grading.course_result(policy, flat)
    return chapters, flat, result


def structure_max_scores(registry, course, structure):
    """``{usage_key: max raw score}`` of the course's problems (cached per version)."""
    cache = registry.setdefault("grades.max_scores", {})
    key = (course.course_key, structure.version)
    found = cache.get(key)
    if found is None:
        found = {}
        for usage_key, node in structure.blocks.items():
            if node.block_type == "problem":
                value = problem_max_score(node)
                if value is not None:
                    found[usage_key] = value
        if len(cache) > 64:
            cache.clear()
        cache[key] = found
    return found


PER_LEARNER_TYPES = ("split_test", "library_content")


def _varies_per_learner(node):
    return (node.block_type in PER_LEARNER_TYPES or bool(node.get("visible_to_staff_only"))
            or bool(node.merged_group_access))


def hidden_blocks(registry, db, course, structure, user_ids):
    """``{user_id: frozenset of usage keys}`` each learner is kept from by the courses
    plugin's access rule (``Verdict.HIDDEN``: not dates, which do not change what is
    graded). Courses whose tree is the same for everyone (cached per version) need no
    query; others read every learner's roles and groups in a fixed number of queries."""
    cache = registry.setdefault("grades.per_learner_trees", {})
    key = (course.course_key, structure.version)
    varies = cache.get(key)
    if varies is None:
        varies = any(_varies_per_learner(node) for node in structure.blocks.values())
        if len(cache) > 256:
            cache.clear()
        cache[key] = varies
    if not varies or not user_ids:
        return {}
    from lms.models import User

    users = db.scalars(select(User).where(User.id.in_(list(user_ids)))).all()
    accesses = courses_api.content_accesses(registry, db, course, users)
    # Without randomised children (split_test, library_content) a learner's tree depends
    # only on their privileges and groups: learners alike share one walk of the tree.
    randomised = any(node.block_type in PER_LEARNER_TYPES for node in structure.blocks.values())
    walked, answer = {}, {}
    for user_id, access in accesses.items():
        context = access.context
        alike = None if randomised else (context.is_staff, context.is_beta_tester,
                                         frozenset(context.groups.items()))
        hidden = walked.get(alike) if alike is not None else None
        if hidden is None:
            hidden = frozenset(usage_key for usage_key, verdict in access.verdicts.items()
                               if verdict is courses_api.Verdict.HIDDEN)
            if alike is not None:
                walked[alike] = hidden
        answer[user_id] = hidden
    return answer


def course_grade(registry, db, user_id, course, *, persist=True):
    """The :class:`CourseGradeView` of a learner; stored (subsection and course rows)
    when ``persist``, then the certificates module hears of it."""
    return course_grades(registry, db, course, [user_id], persist=persist)[user_id]


def course_grades(registry, db, course, user_ids, *, persist=True):
    """``{user_id: CourseGradeView}`` for many learners (scores and overrides read once)."""
    structure = courses_api.get_structure(registry, db, course)
    policy = grading.effective_policy(course.grading_policy)
    max_scores = structure_max_scores(registry, course, structure)
    all_scores = scores_for(db, course.course_key, user_ids)
    all_overrides = overrides_for(db, course.course_key, user_ids)
    all_hidden = hidden_blocks(registry, db, course, structure, user_ids)
    views = {}
    for user_id in user_ids:
        chapters, flat, result = compute(structure, policy, all_scores.get(user_id, {}),
                                         all_overrides.get(user_id, {}), max_scores,
                                         all_hidden.get(user_id, frozenset()))
        views[user_id] = CourseGradeView(
            user_id=user_id, course_key=course.course_key, percent=result.percent,
            letter_grade=result.letter_grade, passed=result.passed, summary=result.summary,
            chapters=chapters, subsections=flat, grading_policy=policy)
    if persist and user_ids:
        _persist(db, course, structure, policy, views, all_scores)
        # in the same transaction: a certificate never disagrees with the stored grade
        from plugins.grades import certificates
        certificates.grades_stored(registry, db, course, views)
    return views


def _persist(db, course, structure, policy, views, all_scores):
    user_ids = list(views)
    now = utcnow()
    existing = {(row.user_id, row.usage_key): row for row in db.scalars(
        select(SubsectionGrade).where(SubsectionGrade.course_key == course.course_key,
                                      SubsectionGrade.user_id.in_(user_ids)))}
    course_rows = {row.user_id: row for row in db.scalars(
        select(CourseGrade).where(CourseGrade.course_key == course.course_key,
                                  CourseGrade.user_id.in_(user_ids)))}
    digest = policy_hash(policy)
    for user_id, view in views.items():
        user_scores = all_scores.get(user_id, {})
        for sub in view.subsections:
            row = existing.get((user_id, sub.usage_key))
            if row is None and not sub.attempted:
                continue  # upstream stores only attempted subsections
            totals = sub.original
            first = [user_scores[k].first_attempted for k in sub.problem_scores
                     if k in user_scores and user_scores[k].first_attempted is not None]
            if row is None:
                row = SubsectionGrade(user_id=user_id, course_key=course.course_key,
                                      usage_key=sub.usage_key, created=now)
                db.add(row)
            row.earned_all, row.possible_all = totals.earned_all, totals.possible_all
            row.earned_graded = totals.earned_graded
            row.possible_graded = totals.possible_graded
            row.first_attempted = min(first) if first else row.first_attempted
            row.modified = now
        row = course_rows.get(user_id)
        if row is None:
            row = CourseGrade(user_id=user_id, course_key=course.course_key, created=now)
            db.add(row)
        row.percent = view.percent
        row.letter_grade = view.letter_grade or ""
        if view.passed and row.passed_timestamp is None:
            row.passed_timestamp = now
        elif not view.passed:
            row.passed_timestamp = None
        row.course_version = course.version or ""
        row.grading_policy_hash = digest
        row.modified = now
    db.flush()



def course_grades_for(registry, db, course, user_ids):
    """``{user_id: CourseGrade row}`` of the stored grades (one query); learners without
    one are missing."""
    if not user_ids:
        return {}
    return {row.user_id: row for row in db.scalars(
        select(CourseGrade).where(CourseGrade.course_key == course.course_key,
                                  CourseGrade.user_id.in_(list(user_ids))))}


# -- refresh after commit ------------------------------------------------------------------

def schedule_refresh(dbsession, user_id, course_key):
    """Recompute ``user_id``'s grades in ``course_key`` once the session's transaction
    commits (nothing when it rolls back): synchronously for courses of at most
    ``grades.sync_refresh_max_blocks`` blocks, else in the ``grades.refresh`` task."""
    pending = dbsession.info.setdefault(PENDING_KEY, set())
    pending.add((int(user_id), str(course_key)))
    if not dbsession.info.get(PENDING_KEY + ".listening"):
        dbsession.info[PENDING_KEY + ".listening"] = True
        event.listen(dbsession, "after_commit", _run_pending)
        event.listen(dbsession, "after_transaction_end", _drop_pending)


def _drop_pending(session, transaction):
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


def _run_pending(session):
    pending = session.info.pop(PENDING_KEY, None)
    registry = session.info.get("lms.registry")
    if not pending or registry is None:
        return
    threshold = int(registry.settings.get("grades.sync_refresh_max_blocks", 2000))
    by_course = {}
    for user_id, course_key in sorted(pending):
        by_course.setdefault(course_key, []).append(user_id)
    to_send = []
    with separate_session(registry) as db:
        for course_key, user_ids in by_course.items():
            course = courses_api.get_course(db, course_key)
            if course is None:
                continue
            structure = courses_api.get_structure(registry, db, course)
            if len(structure.blocks) > threshold:
                to_send.append((course_key, user_ids))
                continue
            try:
                course_grades(registry, db, course, user_ids)
                db.commit()
            except Exception:  # noqa: BLE001 - the score is stored; a recompute fixes it
                db.rollback()
                log.exception("grades refresh of %s in %s failed", user_ids, course_key)
    if to_send:  # once this session is closed (an eager task commits on its own)
        from plugins.grades.tasks import refresh_grades, send_task

        for course_key, user_ids in to_send:
            send_task(registry, refresh_grades, course_key, user_ids)


def refresh_now(registry, db, course_key, user_ids):
    """Recompute and store (in ``db``'s transaction) the grades of ``user_ids``."""
    course = courses_api.get_course(db, course_key)
    if course is None:
        return {}
    return course_grades(registry, db, course, list(user_ids))


# -- course-wide recompute -----------------------------------------------------------------

def start_recompute(dbsession, course_key, reason=""):
    """Queue a recompute of every enrolled learner's grades in ``course_key``: a
    :class:`RecomputeJob` row (its progress is visible) and, after commit, the
    ``grades.recompute_course`` task. Returns the job."""
    job = RecomputeJob(course_key=str(course_key), status="queued", reason=reason[:255],
                       created=utcnow(), modified=utcnow())
    dbsession.add(job)
    dbsession.flush()
    job_id = job.id

    def _send(session):
        registry = session.info.get("lms.registry")
        if registry is None:
            return
        from plugins.grades.tasks import recompute_course, send_task
        send_task(registry, recompute_course, job_id)

    event.listen(dbsession, "after_commit", _send, once=True)
    return job


def run_recompute(registry, session_factory, job_id, batch_size=200):
    """Run job ``job_id``: learners in batches, each batch committed with the progress.
    ``session_factory()`` returns a context manager giving a committing session."""
    from plugins.enrollment import api as enrollment_api

    with session_factory() as db:
        job = db.get(RecomputeJob, job_id)
        if job is None or job.status in ("succeeded", "failed"):
            return None
        course_key = job.course_key
        user_ids = enrollment_api.active_user_ids(db, course_key)
        job.status, job.total, job.done, job.modified = "running", len(user_ids), 0, utcnow()
    try:
        for start in range(0, len(user_ids), batch_size):
            batch = user_ids[start:start + batch_size]
            with session_factory() as db:
                refresh_now(registry, db, course_key, batch)
                job = db.get(RecomputeJob, job_id)
                job.done, job.modified = start + len(batch), utcnow()
    except Exception as exc:  # noqa: BLE001 - recorded on the job
        with session_factory() as db:
            job = db.get(RecomputeJob, job_id)
            job.status, job.error, job.modified = "failed", str(exc)[:2000], utcnow()
        raise
    with session_factory() as db:
        job = db.get(RecomputeJob, job_id)
        job.status, job.modified = "succeeded", utcnow()
    return job_id


def on_course_published(dbsession, course_key, version):
    """``lms_course_published``: a recompute when the stored grades were computed under
    another grading policy (or the course has learners with stored grades)."""
    course = courses_api.get_course(dbsession, course_key)
    if course is None:
        return
    digest = policy_hash(course.grading_policy)
    stale = dbsession.scalar(
        select(CourseGrade.id).where(CourseGrade.course_key == str(course_key),
                                     CourseGrade.grading_policy_hash != digest).limit(1))
    if stale is not None:
        start_recompute(dbsession, course_key, reason="grading policy changed")
