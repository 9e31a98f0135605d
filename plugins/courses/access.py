"""Who sees which blocks: Open edX's access transformers, on an in-memory tree.

For a learner (or the anonymous user) this applies, in order: library_content
picks, start dates (with beta-tester days early), user partitions (cohort
content groups and split_test random groups), and ``visible_to_staff_only``.
Course staff see everything. A hidden block hides its whole subtree.
"""
import hashlib
import random
from dataclasses import dataclass, field
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
    from lms.keys import parse_course_key

    db = request.dbsession
    course_key = parse_course_key(course.course_key)
    hooks = request.registry["lms.plugin_manager"].hook
    context = UserContext(user=user, now=utcnow())
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


def visible_blocks(structure, course, context):
    """The set of usage keys ``context`` may see (all of them for course staff)."""
    if context.is_staff:
        return set(structure.blocks)
    partitions = partitions_by_id(course)
    groups = _user_groups(context, partitions)
    days_early = course.days_early_for_beta
    visible = set()
    stack = [structure.root]
    while stack:
        key = stack.pop()
        node = structure.blocks[key]
        if key in visible:
            continue
        if not _block_allowed(node, context, groups, days_early):
            continue
        visible.add(key)
        stack.extend(reversed(_visible_children(node, context, groups)))
    return visible


def hidden_after_due(course, node, now):
    """``hide_after_due`` once the due date (self-paced: the course end) has passed."""
    from lms.timeutil import aware

    if not node.get("hide_after_due"):
        return False
    hidden_date = aware(course.end) if course.self_paced else node.get("due")
    return hidden_date is not None and now >= hidden_date


def without_hidden_after_due(structure, course, context, visible):
    """Open edX's HiddenContentTransformer (blocks API): drop subtrees hidden after due.

    Course staff keep them. The outline and courseware mark such content
    inaccessible instead, so this is a separate step.
    """
    if context.is_staff:
        return visible
    now = context.now or utcnow()
    hidden = set()
    for key in visible:
        if key not in hidden and hidden_after_due(course, structure.blocks[key], now):
            hidden.add(key)
            hidden.update(structure.descendants(key))
    return visible - hidden


def _block_allowed(node, context, groups, days_early):
    if node.get("visible_to_staff_only"):
        return False
    if node.block_type != "course" and not _started(node, context, days_early):
        return False
    for partition_id, allowed in node.merged_group_access.items():
        if groups.get(partition_id) not in allowed:
            return False
    return True


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
