"""A learner is graded on their own course tree: staff-only problems, content groups and
the split_test branch not picked for them count for nothing (real scores, no fakes)."""
from sqlalchemy import select

from lms.testing import create_user
from plugins.courses import api as courses_api
from plugins.enrollment import api as enrollment_api
from plugins.grades import course_grades, scores
from plugins.grades.models import CourseGrade
from tests.plugins.courses.factories import Node, make_course, usage_key

KEY = "course-v1:edX+Groups+2026"
ONE = {"xml": "<problem><multiplechoiceresponse/></problem>"}
POLICY = {"GRADER": [{"type": "Homework", "short_label": "HW", "min_count": 1,
                      "drop_count": 0, "weight": 1.0}],
          "GRADE_CUTOFFS": {"Pass": 0.5}}
PARTITIONS = [{"id": 50, "scheme": "cohort", "groups": [{"id": 1}, {"id": 2}]},
              {"id": 60, "scheme": "random", "groups": [{"id": 7}, {"id": 8}]}]


def key(block_type, block_id):
    return usage_key(KEY, block_type, block_id)


def tree():
    return Node("course", "course", display_name="Groups", children=[
        Node("chapter", "ch", children=[
            Node("sequential", "hw", graded=True, format="Homework", children=[
                Node("vertical", "u", children=[
                    Node("problem", "everyone", data=ONE),
                    Node("problem", "staffonly", visible_to_staff_only=True, data=ONE),
                    Node("problem", "cohort2", group_access={"50": [2]}, data=ONE),
                    Node("split_test", "ab", user_partition_id=60,
                         group_id_to_child={"7": key("vertical", "a"),
                                            "8": key("vertical", "b")},
                         children=[Node("vertical", "a", children=[
                                       Node("problem", "pa", data=ONE)]),
                                   Node("vertical", "b", children=[
                                       Node("problem", "pb", data=ONE)])]),
                ])]),
            Node("sequential", "hidden_hw", graded=True, format="Homework",
                 visible_to_staff_only=True, children=[Node("vertical", "hu", children=[
                     Node("problem", "hp", data=ONE)])]),
        ])])


def test_learner_graded_on_their_own_tree(app, db):
    course = make_course(db, tree(), course_key=KEY, grading_policy=POLICY,
                         settings={"user_partitions": PARTITIONS})
    learner = create_user(db, "grouped_learner")
    staff = create_user(db, "grouped_staff", is_staff=True)
    for user in (learner, staff):
        enrollment_api.enroll(db, user.id, KEY)
    access = courses_api.content_access(app.registry, db, learner, course)
    mine = "pa" if access.block_verdict(key("problem", "pa")) else "pb"
    for user in (learner, staff):
        scores.record_score(db, user_id=user.id, course_key=KEY,
                            usage_key=key("problem", mine), earned=1, possible=1,
                            source="test")
    db.commit()  # the after-commit refresh stores both grades
    learner_view = course_grades.course_grade(app.registry, db, learner.id, course,
                                              persist=False)
    (hw,) = learner_view.subsections  # the staff-only subsection is not the learner's
    # everyone + the learner's split_test branch: 1 of 2
    assert set(hw.problem_scores) == {key("problem", "everyone"), key("problem", mine)}
    assert (hw.earned_graded, hw.possible_graded) == (1.0, 2.0)
    assert learner_view.percent == 0.5
    staff_view = course_grades.course_grade(app.registry, db, staff.id, course, persist=False)
    # staff see every block: 1 of 5 in hw (both branches), the hidden subsection counts
    # too: (0.2 + 0) / 2
    assert [s.possible_graded for s in staff_view.subsections] == [5.0, 1.0]
    assert staff_view.percent == 0.1
    stored = dict(db.execute(select(CourseGrade.user_id, CourseGrade.percent)).all())
    assert stored == {learner.id: 0.5, staff.id: 0.1}


def test_same_tree_for_everyone_needs_no_per_learner_lookups(app, db):
    plain = Node("course", "course", children=[Node("chapter", "ch", children=[
        Node("sequential", "s", graded=True, format="Homework", children=[
            Node("problem", "p", data=ONE)])])])
    course = make_course(db, plain, course_key=KEY, grading_policy=POLICY)
    users = [create_user(db, f"plain{i}") for i in range(3)]
    db.commit()
    structure = courses_api.get_structure(app.registry, db, course)
    assert course_grades.hidden_blocks(app.registry, db, course, structure,
                                       [u.id for u in users]) == {}


def test_cohort_content_groups_and_a_fixed_number_of_queries(app, db, query_counter):
    from plugins.enrollment import cohorts

    course = make_course(db, tree(), course_key=KEY, grading_policy=POLICY,
                         settings={"user_partitions": PARTITIONS})
    cohorts.set_course_cohorted(db, KEY, True)
    cohort = cohorts.add_cohort(db, KEY, "Second")
    cohorts.link_content_group(db, cohort, 50, 2)
    members = [create_user(db, f"member{i}") for i in range(5)]
    outsider = create_user(db, "not_a_member")
    for user in members + [outsider]:
        enrollment_api.enroll(db, user.id, KEY)
    for user in members:
        cohorts.assign(db, cohort, user.id)
    db.commit()
    structure = courses_api.get_structure(app.registry, db, course)
    hidden = course_grades.hidden_blocks(app.registry, db, course, structure,
                                         [u.id for u in members + [outsider]])
    assert key("problem", "cohort2") not in hidden[members[0].id]
    assert key("problem", "cohort2") in hidden[outsider.id]
    assert key("problem", "staffonly") in hidden[members[0].id]
    # the same statements for 2 learners as for 6
    course_grades.course_grades(app.registry, db, course, [u.id for u in members[:2]],
                                persist=False)
    with query_counter() as two:
        course_grades.course_grades(app.registry, db, course, [u.id for u in members[:2]],
                                    persist=False)
    with query_counter() as six:
        course_grades.course_grades(app.registry, db, course,
                                    [u.id for u in members + [outsider]], persist=False)
    assert len(two) == len(six)
