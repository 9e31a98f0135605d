"""Where a learner is in a course: upstream ``UserCourseStatus`` and v4's ``course_status``.

The path is course → chapter → sequential: at each level the child last visited
(a saved :class:`~plugins.mobile.models.Position`) when the learner may still see
it, else the first child they may see (upstream ``get_current_child``). Which
blocks the learner may see is the courses plugin's rule (``content_access``).
"""
from plugins.courses import api as courses
from plugins.mobile import api

DEPTH = 2  # course → chapter → sequential


def visible_path(structure, access, saved):
    """``[course, chapter, sequential]`` (shorter when a level has no visible child)."""
    visible = access.visible_keys(require_enrollment=False)
    path = [structure.root]
    for _ in range(DEPTH):
        node = structure.blocks[path[-1]]
        children = [key for key in node.children if key in visible]
        if not children:
            break
        position = saved.get(path[-1])
        chosen = position.child_key if position and position.child_key in children else None
        path.append(chosen or children[0])
    return path


def status_body(request, course, user):
    """``{"last_visited_module_id", "last_visited_module_path"}`` (the path reversed:
    the sequential first, the course last)."""
    structure = courses.get_structure(request.registry, request.dbsession, course)
    access = courses.content_access(request.registry, request.dbsession, user, course)
    saved = api.positions(request.dbsession, user.id, course.course_key)
    path = list(reversed(visible_path(structure, access, saved)))
    return {"last_visited_module_id": path[0], "last_visited_module_path": path}


def resume_block(request, course, user):
    """The block the learner completed last (``lms_resume_block``), or ``""``."""
    from lms.keys import parse_course_key

    hook = request.registry["lms.plugin_manager"].hook.lms_resume_block
    block = hook(dbsession=request.dbsession, user_id=user.id,
                 course_key=parse_course_key(course.course_key))
    return str(block) if block else ""


def save_visit(request, course, user, usage_key, modification_date=None):
    """Save the positions from ``usage_key`` up to the course, unless
    ``modification_date`` is older than the course's saved position.

    Returns False when the block is not one the learner may see in this course
    (upstream: ``invalid-module-id``).
    """
    structure = courses.get_structure(request.registry, request.dbsession, course)
    access = courses.content_access(request.registry, request.dbsession, user, course)
    if not access.may_see(usage_key):
        return False
    if modification_date is not None:
        saved = api.positions(request.dbsession, user.id, course.course_key)
        root = saved.get(structure.root)
        from lms.timeutil import aware

        if root is not None and modification_date < aware(root.modified):
            return True  # an older visit than the one saved: keep the saved one
    chain = [usage_key] + structure.ancestors(usage_key)
    api.save_positions(request.dbsession, user.id, course.course_key,
                       [(parent, child) for child, parent in zip(chain, chain[1:])])
    return True
