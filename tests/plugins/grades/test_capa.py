"""Capa OLX evaluation: every supported response type right and wrong, ids as upstream,
the sample and shared test courses' problems, hostile XML."""
import tarfile
from pathlib import Path

import pytest

from plugins.courses.commands import SAMPLE_COURSE_DIR
from plugins.grades import capa
from tests.plugins.courses.test_import_helpers import find_test_course


def grade(xml, answers):
    problem = capa.parse(xml, "p")
    return capa.grade(problem, answers)[1:]


MC = """<problem><multiplechoiceresponse><choicegroup type="MultipleChoice">
<choice correct="false">a</choice><choice correct="true">b</choice></choicegroup>
</multiplechoiceresponse></problem>"""
CB = """<problem><choiceresponse><checkboxgroup><choice correct="true">a</choice>
<choice correct="false">b</choice><choice correct="true">c</choice></checkboxgroup>
</choiceresponse></problem>"""
OPT = """<problem><optionresponse><optioninput options="('x','y')" correct="y"/>
</optionresponse><optionresponse><optioninput><option correct="False">m</option>
<option correct="True">n</option></optioninput></optionresponse></problem>"""
NUM = """<problem><numericalresponse answer="10"><responseparam type="tolerance" default="0.5"/>
<formulaequationinput/></numericalresponse><numericalresponse answer="[1, 2)">
<textline/></numericalresponse></problem>"""
STR = """<problem><stringresponse answer="Paris" type="ci"><additional_answer answer="Lutetia"/>
<textline/></stringresponse><stringresponse answer="Ab" type="cs"><textline/></stringresponse>
<stringresponse answer="colou?r" type="regexp ci"><textline/></stringresponse></problem>"""


def test_ids_number_responses_from_two():
    problem = capa.parse(STR, "abc")
    assert problem.input_ids == ["abc_2_1", "abc_3_1", "abc_4_1"]
    assert problem.max_score == 3.0


@pytest.mark.parametrize("xml,answers,expected", [
    (MC, {"p_2_1": "choice_1"}, (1.0, 1.0)),
    (MC, {"p_2_1": "choice_0"}, (0.0, 1.0)),
    (MC, {}, (0.0, 1.0)),
    (CB, {"p_2_1": ["choice_0", "choice_2"]}, (1.0, 1.0)),
    (CB, {"p_2_1": ["choice_0"]}, (0.0, 1.0)),
    (CB, {"p_2_1": ["choice_0", "choice_1", "choice_2"]}, (0.0, 1.0)),
    (OPT, {"p_2_1": "y", "p_3_1": "n"}, (2.0, 2.0)),
    (OPT, {"p_2_1": "x", "p_3_1": "n"}, (1.0, 2.0)),
    (NUM, {"p_2_1": "10.4", "p_3_1": "1"}, (2.0, 2.0)),
    (NUM, {"p_2_1": "10.6", "p_3_1": "2"}, (0.0, 2.0)),
    (NUM, {"p_2_1": "1e999", "p_3_1": "nan"}, (0.0, 2.0)),
    (STR, {"p_2_1": " paris ", "p_3_1": "Ab", "p_4_1": "COLOR"}, (3.0, 3.0)),
    (STR, {"p_2_1": "lutetia", "p_3_1": "ab", "p_4_1": "colr"}, (1.0, 3.0)),
])
def test_response_types(xml, answers, expected):
    assert grade(xml, answers) == expected


def test_percent_tolerance():
    xml = ('<problem><numericalresponse answer="299792"><responseparam type="tolerance" '
           'default="1%"/><formulaequationinput/></numericalresponse></problem>')
    assert grade(xml, {"p_2_1": "302000"}) == (1.0, 1.0)
    assert grade(xml, {"p_2_1": "303000"}) == (0.0, 1.0)


def test_custom_responses_are_unsupported_and_unscored():
    xml = ('<problem><customresponse cfn="f"><textline/></customresponse>'
           '<symbolicresponse answer="x"><textline/></symbolicresponse></problem>')
    problem = capa.parse(xml, "p")
    assert [r.supported for r in problem.responses] == [False, False]
    assert problem.max_score == 0.0


FORMULA = """<problem><formularesponse type="ci" samples="x,n@1,2:3,4#10" answer="x^2 + n/2">
<responseparam type="tolerance" default="0.01"/><formulaequationinput/></formularesponse>
<formularesponse type="cs" samples="R@1:10#5" answer="2*pi*R"><textline/></formularesponse>
</problem>"""


@pytest.mark.parametrize("answers,expected", [
    ({"p_2_1": "n/2 + x*x", "p_3_1": "2*R*pi"}, (2.0, 2.0)),
    ({"p_2_1": "X^2 + N*0.5", "p_3_1": "6.2832*R"}, (1.0, 2.0)),   # ci; 4 digits of pi too few
    ({"p_2_1": "x^2 + n/2 + 0.005", "p_3_1": "2*pi*r"}, (1.0, 2.0)),  # in tolerance; cs
    ({"p_2_1": "x^2", "p_3_1": "2*pi*R + y"}, (0.0, 2.0)),          # wrong; unknown variable
    ({"p_2_1": "x^^2", "p_3_1": "(" * 600 + "R" + ")" * 600}, (0.0, 2.0)),  # malformed; too long
    ({"p_2_1": "fact(99999999)*0 + x^2 + n/2", "p_3_1": "10^10^10*R"}, (0.0, 2.0)),  # bounded
])
def test_formula_response_samples_points(answers, expected):
    assert grade(FORMULA, answers) == expected


def test_numerical_answers_are_expressions_as_upstream():
    xml = ('<problem><numericalresponse answer="0.5"><responseparam type="tolerance" '
           'default="1e-6"/><formulaequationinput/></numericalresponse></problem>')
    assert grade(xml, {"p_2_1": "1/2"}) == (1.0, 1.0)
    assert grade(xml, {"p_2_1": "50%"}) == (1.0, 1.0)
    assert grade(xml, {"p_2_1": "sqrt(-1)"}) == (0.0, 1.0)
    assert grade(xml, {"p_2_1": "__import__('os')"}) == (0.0, 1.0)


CB_EDC = """<problem><choiceresponse partial_credit="EDC"><checkboxgroup>
<choice correct="true">a</choice><choice correct="false">b</choice>
<choice correct="true">c</choice><choice correct="false">d</choice></checkboxgroup>
</choiceresponse></problem>"""
CB_HALVES = CB_EDC.replace('"EDC"', '"halves"').replace(
    '<choice correct="false">d</choice>', '<choice correct="false">d</choice>'
    '<choice correct="false">e</choice>')
MC_POINTS = """<problem><multiplechoiceresponse partial_credit="points"><choicegroup>
<choice correct="false">a</choice><choice correct="partial" point_value="0.25">b</choice>
<choice correct="true">c</choice><choice correct="partial">d</choice></choicegroup>
</multiplechoiceresponse></problem>"""
OPT_POINTS = """<problem><optionresponse partial_credit="points"><optioninput>
<option correct="True">yes</option><option correct="partial" point_value="0.3">maybe</option>
<option correct="False">no</option></optioninput></optionresponse></problem>"""


@pytest.mark.parametrize("xml,answers,earned,correctness", [
    (CB_EDC, ["choice_0", "choice_2"], 1.0, "correct"),
    (CB_EDC, ["choice_0"], 0.75, "partially-correct"),
    (CB_EDC, ["choice_1", "choice_3"], 0.0, "incorrect"),
    (CB_HALVES, ["choice_0"], 0.5, "partially-correct"),
    (CB_HALVES, ["choice_0", "choice_1"], 0.25, "partially-correct"),
    (CB_HALVES, ["choice_1", "choice_3", "choice_4"], 0.0, "incorrect"),
    (MC_POINTS, "choice_1", 0.25, "partially-correct"),
    (MC_POINTS, "choice_3", 0.5, "partially-correct"),
    (MC_POINTS, "choice_2", 1.0, "correct"),
    (OPT_POINTS, "maybe", 0.3, "partially-correct"),
    (OPT_POINTS, "no", 0.0, "incorrect"),
])
def test_partial_credit_as_upstream(xml, answers, earned, correctness):
    correct_map, got, possible = capa.grade(capa.parse(xml, "p"), {"p_2_1": answers})
    assert (got, possible) == (earned, 1.0)
    assert correct_map["p_2_1"]["correctness"] == correctness
    assert correct_map["p_2_1"].get("npoints") == (earned if correctness ==
                                                    "partially-correct" else None)


def test_partial_credit_needs_the_attribute():
    plain = MC_POINTS.replace(' partial_credit="points"', "")
    assert grade(plain, {"p_2_1": "choice_1"}) == (0.0, 1.0)
    assert grade(CB_EDC.replace(' partial_credit="EDC"', ""), {"p_2_1": ["choice_0"]}) == \
        (0.0, 1.0)


@pytest.mark.parametrize("xml", [
    '<!DOCTYPE x [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]><problem>&b;</problem>',
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><problem>&e;</problem>',
    "<problem><p>", "", "not xml",
])
def test_hostile_or_malformed_xml_raises_problem_error(xml):
    if xml == "":
        assert capa.parse(xml, "p").responses == []
        return
    with pytest.raises(capa.ProblemError):
        capa.parse(xml, "p")


def course_problems():
    sample = sorted((Path(SAMPLE_COURSE_DIR) / "problem").glob("*.xml"))
    found = [(path.name, path.read_text()) for path in sample]
    archive = find_test_course()
    if archive is not None:
        with tarfile.open(archive) as tar:
            for member in sorted(tar.getmembers(), key=lambda m: m.name):
                if "/problem/" in member.name and member.name.endswith(".xml"):
                    found.append((member.name, tar.extractfile(member).read().decode()))
    return found


def test_course_problems_right_and_wrong():
    problems = course_problems()
    assert len(problems) >= 3
    for name, xml in problems:
        problem = capa.parse(xml, "p")
        assert problem.responses and problem.max_score >= 1, name
        right = capa.correct_answers(problem)
        assert capa.grade(problem, right)[1] == problem.max_score, name
        wrong = {k: ("choice_99" if not isinstance(v, list) else []) if "choice" in str(v)
                 else "-1" for k, v in right.items()}
        assert capa.grade(problem, wrong)[1] == 0.0, name
