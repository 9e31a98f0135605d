"""Capa problem OLX evaluated (no code execution): the response types real courses use.

Ids as upstream's LoncapaProblem numbers them: the n-th response (from 2) of problem
``{html_id}`` has inputs ``{html_id}_{n}_{i}`` (i from 1), posted as ``input_{id}`` (or
``input_{id}[]`` for checkboxes). Each scorable response is worth one raw point per input
(choiceresponse: one point). ``formularesponse`` and ``customresponse`` need an expression
evaluator or code execution: they are reported unsupported and not scored.
"""
import functools
import math
import re
from dataclasses import dataclass, field

SUPPORTED = ("multiplechoiceresponse", "choiceresponse", "optionresponse",
             "numericalresponse", "stringresponse")
RESPONSE_TAGS = SUPPORTED + ("formularesponse", "customresponse", "symbolicresponse",
                             "schematicresponse", "imageresponse", "coderesponse",
                             "jsmeresponse", "annotationresponse", "choicetextresponse",
                             "externalresponse", "truefalseresponse")
INPUT_TAGS = ("choicegroup", "checkboxgroup", "radiogroup", "optioninput", "textline",
              "formulaequationinput", "textbox", "choicetextgroup")


class ProblemError(ValueError):
    """The problem's OLX cannot be parsed (malformed or hostile)."""


@dataclass
class Response:
    tag: str
    element: object
    input_ids: list = field(default_factory=list)

    @property
    def supported(self):
        return self.tag in SUPPORTED

    @property
    def max_points(self):
        if not self.supported:
            return 0
        return 1 if self.tag == "choiceresponse" else max(1, len(self.input_ids))


@dataclass
class Problem:
    problem_id: str
    responses: list

    @property
    def max_score(self):
        return float(sum(r.max_points for r in self.responses))

    @property
    def input_ids(self):
        return [i for r in self.responses for i in r.input_ids]


def html_id(usage_key, block_id=None):
    from lms.keys import parse_usage_key

    key = parse_usage_key(str(usage_key))
    if key is not None:
        return key.html_id()
    return re.sub(r"[^\w-]", "_", block_id or str(usage_key))


def parse(xml, problem_id):
    """A :class:`Problem` from capa XML; :class:`ProblemError` if unparsable/hostile."""
    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        root = SafeET.fromstring(xml or "<problem/>", forbid_dtd=True)
    except (SafeET.ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise ProblemError(str(exc)) from exc
    responses = []
    number = 1
    for element in root.iter():
        if element.tag not in RESPONSE_TAGS:
            continue
        number += 1
        inputs = [e for e in element.iter() if e.tag in INPUT_TAGS]
        if not inputs and element.tag in SUPPORTED:
            inputs = [element]  # a bare response still has one (implicit) input
        ids = [f"{problem_id}_{number}_{i}" for i in range(1, len(inputs) + 1)]
        responses.append(Response(element.tag, element, ids))
    return Problem(problem_id, responses)


def problem_for(node):
    return _parsed((node.data or {}).get("xml"), html_id(node.usage_key, node.block_id))


@functools.lru_cache(maxsize=4096)
def _parsed(xml, problem_id):
    # Course versions are immutable, so a problem's XML parses to the same Problem every
    # time: grading a course asks for every problem's maximum on each recompute.
    return parse(xml, problem_id)


def max_score(node):
    """Raw points of a problem block (None when it has no scorable response)."""
    score = problem_for(node).max_score
    return score or None


# -- evaluation ---------------------------------------------------------------------------

def _choices(element):
    group = next((e for e in element.iter() if e.tag in ("choicegroup", "checkboxgroup",
                                                          "radiogroup")), None)
    if group is None:
        return []
    return [(c.get("name") or f"choice_{i}", (c.get("correct") or "").lower())
            for i, c in enumerate(e for e in group if e.tag == "choice")]


def _text(value):
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def _number(text):
    text = (text or "").strip().replace(" ", "")
    if not text:
        raise ValueError("empty")
    mult = 1.0
    if text.endswith("%"):
        text, mult = text[:-1], 0.01
    value = complex(text.replace("i", "j").replace("^", "**")) if "j" in text or "i" in text \
        else float(text)
    if isinstance(value, complex):
        if value.imag:
            raise ValueError("complex")
        value = value.real
    value *= mult
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def _tolerance(element, expected):
    param = next((p for p in element.iter("responseparam") if p.get("type") == "tolerance"),
                 None)
    raw = (param.get("default") if param is not None else None) or "0.001%"
    raw = raw.strip()
    if raw.endswith("%"):
        return abs(expected) * float(raw[:-1]) / 100.0
    return float(raw)


def _numeric_correct(element, given):
    answer = (element.get("answer") or "").strip()
    value = _number(given)
    interval = re.fullmatch(r"([\[(])\s*([^,]+),\s*([^\])]+)([\])])", answer)
    if interval:
        low, high = float(interval.group(2)), float(interval.group(3))
        ok_low = value >= low if interval.group(1) == "[" else value > low
        ok_high = value <= high if interval.group(4) == "]" else value < high
        return ok_low and ok_high
    expected = float(answer)
    return abs(value - expected) <= _tolerance(element, expected) + 1e-12


def _string_correct(element, given):
    answers = [element.get("answer") or ""]
    answers += [a.get("answer") or "" for a in element.iter("additional_answer")]
    flags = (element.get("type") or "").lower().split()
    case_sensitive = "cs" in flags or (element.get("case_sensitive") or "").lower() == "true"
    regexp = "regexp" in flags or (element.get("regexp") or "").lower() == "true"
    given = given.strip()
    for answer in answers:
        answer = answer.strip()
        if regexp:
            try:
                if re.fullmatch(answer, given, 0 if case_sensitive else re.IGNORECASE):
                    return True
            except re.error:
                continue
        elif (answer == given) if case_sensitive else (answer.lower() == given.lower()):
            return True
    return False


def grade_response(response, answers):
    """``{input_id: "correct"|"incorrect"}`` (unsupported responses: nothing)."""
    tag, element = response.tag, response.element
    result = {}
    if tag == "multiplechoiceresponse":
        correct = {name for name, flag in _choices(element) if flag == "true"}
        given = _text(answers.get(response.input_ids[0]))
        result[response.input_ids[0]] = "correct" if given in correct else "incorrect"
    elif tag == "choiceresponse":
        correct = {name for name, flag in _choices(element) if flag == "true"}
        given = answers.get(response.input_ids[0])
        given = set(given if isinstance(given, list) else ([given] if given else []))
        result[response.input_ids[0]] = "correct" if given == correct else "incorrect"
    elif tag == "optionresponse":
        inputs = [e for e in element.iter("optioninput")] or [element]
        for input_id, inp in zip(response.input_ids, inputs):
            expected = (inp.get("correct") or "").strip()
            if not expected:
                expected = next(((o.text or "").strip() for o in inp.iter("option")
                                 if (o.get("correct") or "").lower() == "true"), "")
            given = _text(answers.get(input_id)).strip()
            result[input_id] = "correct" if given and given == expected else "incorrect"
    elif tag in ("numericalresponse", "stringresponse"):
        check = _numeric_correct if tag == "numericalresponse" else _string_correct
        for input_id in response.input_ids:
            try:
                ok = check(element, _text(answers.get(input_id)))
            except (ValueError, OverflowError, TypeError, ZeroDivisionError):
                ok = False
            result[input_id] = "correct" if ok else "incorrect"
    return result


def grade(problem, answers):
    """``(correct_map, earned, possible)`` for ``answers`` ``{input_id: str|[str]}``."""
    correct_map, earned = {}, 0.0
    for response in problem.responses:
        marks = grade_response(response, answers)
        correct_map.update({k: {"correctness": v} for k, v in marks.items()})
        if response.tag == "choiceresponse":
            earned += 1.0 if all(v == "correct" for v in marks.values()) and marks else 0.0
        else:
            earned += sum(1.0 for v in marks.values() if v == "correct")
    return correct_map, earned, problem.max_score


def correct_answers(problem):
    """``{input_id: answer}`` as problem_show answers them (choices by name)."""
    shown = {}
    for response in problem.responses:
        element = response.element
        if not response.supported:
            continue
        if response.tag == "multiplechoiceresponse":
            names = [n for n, f in _choices(element) if f == "true"]
            shown[response.input_ids[0]] = names[0] if len(names) == 1 else names
        elif response.tag == "choiceresponse":
            shown[response.input_ids[0]] = [n for n, f in _choices(element) if f == "true"]
        elif response.tag == "optionresponse":
            for input_id, inp in zip(response.input_ids, element.iter("optioninput")):
                expected = (inp.get("correct") or "").strip() or next(
                    ((o.text or "").strip() for o in inp.iter("option")
                     if (o.get("correct") or "").lower() == "true"), "")
                shown[input_id] = expected
        else:
            for input_id in response.input_ids:
                shown[input_id] = (element.get("answer") or "").strip()
    return shown


def solution_html(xml):
    """The text of the problem's <solution> (plain text, no markup), or ""."""
    import defusedxml.ElementTree as SafeET

    try:
        root = SafeET.fromstring(xml or "<problem/>", forbid_dtd=True)
    except Exception:  # noqa: BLE001 - hostile or malformed: no solution shown
        return ""
    solution = next(root.iter("solution"), None)
    if solution is None:
        return ""
    return " ".join(" ".join(solution.itertext()).split())
