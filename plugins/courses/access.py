"""Who sees which blocks: the one content rule of the courses plugin.

:class:`ContentAccess` answers, for one viewer (a user or the anonymous user)
in one course at one moment, whether each block of the published tree may be
seen now, and if not, why (:class:`Verdict`). Course staff see everything.
For everyone else, in the order of Open edX's access transformers:
library_content picks and split_test groups, ``visible_to_staff_only``,
user partitions (cohort content groups, random groups, and whatever the
``lms_user_partition_groups`` hook answers), start dates (with beta-tester
days early), then ``hide_after_due`` once the due date (self-paced: the
course end) has passed. A hidden block hides its whole subtree. Blocks that
are not part of the published tree (drafts, orphans, other versions) do not
exist for anyone. Content of a course that is not public needs an enrollment
(or course staff access).

:func:`plugins.courses.api.may_see_block` asks this for one block; every view
of the plugin that returns course content asks it too.
"""
import enum
import hashlib
import random
from dataclasses import dataclass, field, replace
from datetime import timedelta

from lms import permissions
from lms.timeutil import utcnow

RANDOM_SCHEME = "random"


@dataclass
class UserContext:
    """What access decisions need to know about the requesting user in one course."""

    user: object | None  # lms.models.User, or None for the anonymous user
    is_staff: bool = False  # course staff access (global, course or org staff/instructor)
    is_beta_tester: bool = False
    enrollment: dict | None = None  # the lms_get_enrollment answer
    # Explicit partition memberships (cohorts, enrollment tracks...): partition id -> group id.
    groups: dict = field(default_factory=dict)
    now: object = None

    @property
    def is_enrolled(self):
        return bool(self.enrollment and self.enrollment.get("is_active"))

    @property
    def user_id(self):
        return self.user.id if self.user is not None else None


def user_context(request, course, user):
    """Gather, once per request, what access needs for ``user`` in ``course``."""
    return viewer_context(request.registry, request.dbsession, course, user)


def viewer_context(registry, db, course, user, now=None):
    """What access needs for ``user`` (None: anonymous) in ``course`` at ``now``."""
    from lms.keys import parse_course_key

    course_key = parse_course_key(course.course_key)
    hooks = registry["lms.plugin_manager"].hook
    context = UserContext(user=user, now=now or utcnow())
    if user is None:
        return context
    context.is_staff = permissions.has_course_staff_access(db, user, course_key)
    context.is_beta_tester = permissions.has_course_role(db, user, course_key, ("beta_testers",))
    context.enrollment = hooks.lms_get_enrollment(dbsession=db, user_id=user.id,
                                                  course_key=course_key)
    for answer in hooks.lms_user_partition_groups(dbsession=db, user_id=user.id,
                                                  course_key=course_key):
        context.groups.update({int(k): int(v) for k, v in (answer or {}).items()})
    return context


def _stable_random(*parts):
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def random_group(partition, user_id):
    """The learner's group in a random-scheme partition: stable per user and partition."""
    groups = sorted(int(g["id"]) for g in partition.get("groups", ()))
    if not groups or user_id is None:
        return None
    return _stable_random("partition", partition["id"], user_id).choice(groups)


def partitions_by_id(course):
    return {int(p["id"]): p for p in (course.settings or {}).get("user_partitions", ())
            if "id" in p}


def _user_groups(context, partitions):
    groups = dict(context.groups)
    for partition_id, partition in partitions.items():
        if partition.get("scheme") == RANDOM_SCHEME and partition_id not in groups:
            group = random_group(partition, context.user_id)
            if group is not None:
                groups[partition_id] = group
    return groups


def _started(node, context, days_early):
    start = node.get("start")
    if start is None:
        return True
    if context.is_beta_tester and days_early:
        start = start - timedelta(days=float(days_early))
    return start <= context.now


class Verdict(enum.Enum):
    """Whether a viewer may see a block now; only ``VISIBLE`` is true."""

    VISIBLE = "visible"
    NOT_FOUND = "not_found"  # not in the course's published tree (or no such course)
    NOT_ENROLLED = "not_enrolled"  # neither enrolled, course staff, nor a public course
    HIDDEN = "hidden"  # staff-only, another content group, a split_test/library child not picked
    NOT_STARTED = "not_started"  # its start date (or an ancestor's) is in the future
    HIDDEN_AFTER_DUE = "hidden_after_due"  # ``hide_after_due`` and the due date has passed

    def __bool__(self):
        return self is Verdict.VISIBLE


# The worst reason along a block's path wins: a staff-only unit below a future
# section is hidden (not merely unreleased), whatever the dates say.
_SEVERITY = {Verdict.VISIBLE: 0, Verdict.HIDDEN_AFTER_DUE: 1, Verdict.NOT_STARTED: 2,
             Verdict.HIDDEN: 3}


class ContentAccess:
    """One viewer's view of one course's published block tree at one moment."""

    def __init__(self, course, structure, context):
        if context.now is None:
            context = replace(context, now=utcnow())
        self.course = course
        self.structure = structure
        self.context = context
        self.may_learn = bool(context.is_staff or context.is_enrolled
                              or course.course_visibility == "public")
        self._verdicts = None

    @property
    def verdicts(self):
        """``{usage key: Verdict}`` for every block of the tree, enrollment left aside."""
        if self._verdicts is None:
            self._verdicts = _tree_verdicts(self.structure, self.course, self.context)
        return self._verdicts

    def block_verdict(self, usage_key):
        """The tree's verdict on a block, whether or not the viewer may learn in the course."""
        return self.verdicts.get(str(usage_key), Verdict.NOT_FOUND)

    def may_see(self, usage_key):
        """May the viewer see this block now? (a :class:`Verdict`)."""
        verdict = self.block_verdict(usage_key)
        if verdict is not Verdict.NOT_FOUND and not self.may_learn:
            return Verdict.NOT_ENROLLED
        return verdict

    def visible_keys(self, require_enrollment=True):
        """The usage keys the viewer may see now (none when an enrollment is missing)."""
        if require_enrollment and not self.may_learn:
            return set()
        return {key for key, verdict in self.verdicts.items() if verdict is Verdict.VISIBLE}


def _tree_verdicts(structure, course, context):
    if context.is_staff:
        return dict.fromkeys(structure.blocks, Verdict.VISIBLE)
    partitions = partitions_by_id(course)
    groups = _user_groups(context, partitions)
    days_early = course.days_early_for_beta
    now = context.now
    # Through each parent, the worst verdict on the path; through several parents, the best.
    inherited = {structure.root: Verdict.VISIBLE}
    verdicts = {}
    for key, node in structure.blocks.items():  # document order: parents first
        verdict = max((_own_verdict(node, course, context, groups, days_early, now),
                       inherited.get(key, Verdict.HIDDEN)), key=_SEVERITY.get)
        verdicts[key] = verdict
        picked = set(_visible_children(node, context, groups))
        for child in node.children:
            through = verdict if child in picked else Verdict.HIDDEN
            known = inherited.get(child)
            if known is None or _SEVERITY[through] < _SEVERITY[known]:
                inherited[child] = through
    return verdicts


def _own_verdict(node, course, context, groups, days_early, now):
    if node.get("visible_to_staff_only"):
        return Verdict.HIDDEN
    for partition_id, allowed in node.merged_group_access.items():
        if groups.get(partition_id) not in allowed:
            return Verdict.HIDDEN
    if node.block_type != "course" and not _started(node, context, days_early):
        return Verdict.NOT_STARTED
    if hidden_after_due(course, node, now):
        return Verdict.HIDDEN_AFTER_DUE
    return Verdict.VISIBLE


def visible_blocks(structure, course, context):
    """The usage keys ``context`` may see now, enrollment left aside (all for course staff)."""
    return ContentAccess(course, structure, context).visible_keys(require_enrollment=False)


def hidden_after_due(course, node, now):
    """``hide_after_due`` once the due date (self-paced: the course end) has passed."""
    from lms.timeutil import aware

    if not node.get("hide_after_due"):
        return False
    hidden_date = aware(course.end) if course.self_paced else node.get("due")
    return hidden_date is not None and now >= hidden_date


def _visible_children(node, context, groups):
    children = list(node.children)
    if node.block_type == "split_test":
        partition_id = node.fields.get("user_partition_id")
        mapping = node.fields.get("group_id_to_child") or {}
        group = groups.get(int(partition_id)) if partition_id is not None else None
        child = mapping.get(str(group)) if group is not None else None
        return [child] if child in children else []
    if node.block_type == "library_content":
        max_count = node.fields.get("max_count", 1)
        try:
            max_count = int(max_count)
        except (TypeError, ValueError):
            max_count = 1
        if max_count < 0 or max_count >= len(children):
            return children
        picks = set(_stable_random("library", node.usage_key, context.user_id)
                    .sample(children, max_count))
        return [child for child in children if child in picks]
    return children
