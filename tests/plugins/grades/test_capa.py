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


def test_formula_and_custom_responses_are_unsupported_and_unscored():
    xml = ('<problem><formularesponse answer="x+1"><textline/></formularesponse>'
           '<customresponse cfn="f"><textline/></customresponse></problem>')
    problem = capa.parse(xml, "p")
    assert [r.supported for r in problem.responses] == [False, False]
    assert problem.max_score == 0.0


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
