"""Capa problem OLX evaluated (no code execution): the response types real courses use.

Ids as upstream's LoncapaProblem numbers them: the n-th response (from 2) of problem
``{html_id}`` has inputs ``{html_id}_{n}_{i}`` (i from 1), posted as ``input_{id}`` (or
``input_{id}[]`` for checkboxes). Each scorable response is worth one raw point per input
(choiceresponse: one point). Answers to numerical and formula responses are read by
openedx-calc, upstream's evaluator. ``customresponse`` and the other script-graded types
need code execution: they are reported unsupported and not scored.
"""
import functools
import math
import re
from dataclasses import dataclass, field

SUPPORTED = ("multiplechoiceresponse", "choiceresponse", "optionresponse",
             "numericalresponse", "stringresponse", "formularesponse")
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


# Longest answer or expression evaluated: the parser's time grows with nesting.
MAX_EXPRESSION_LENGTH = 1000
# fact(n) beyond this is infinite as a float anyway; upstream's unbounded math.factorial
# lets one answer hold a worker for minutes.
MAX_FACTORIAL = 170


def _bounded_factorial(value):
    if isinstance(value, complex) or value != int(value) or value < 0:
        raise ValueError("factorial of a non-integer or negative number")
    if value > MAX_FACTORIAL:
        return float("inf")
    return float(math.factorial(int(value)))


SAFE_FUNCTIONS = {"fact": _bounded_factorial, "factorial": _bounded_factorial}


def _float_number(parse_result):
    from calc import calc as calc_module  # noqa: PLC0415

    # Integers become floats: an integer power tower (10^10^10) is exact, unbounded
    # arithmetic in Python, while floats overflow at once.
    return float(calc_module.eval_number(parse_result))


def evaluate(text, variables=None, case_sensitive=False):
    """A number from a math expression as upstream capa reads answers (openedx-calc's
    grammar, variables and functions: ``2*pi``, ``1/3``, ``5%``); ValueError
    when it is not one. The parse tree is reduced here rather than by calc's
    ``evaluator`` so that numbers are floats and factorials bounded."""
    from calc import calc as calc_module  # noqa: PLC0415 - numpy and pyparsing: first use

    text = (text or "").strip()
    if not text or len(text) > MAX_EXPRESSION_LENGTH:
        raise ValueError("empty or too long")
    try:
        calc_module.check_parens(text)
        tree = calc_module.ParseAugmenter(text, case_sensitive)
        tree.parse_algebra()
        variables, functions = calc_module.add_defaults(dict(variables or {}), SAFE_FUNCTIONS,
                                                        case_sensitive)
        tree.check_variables(variables, functions)

        def name(parsed):
            return parsed if case_sensitive else parsed.lower()

        value = tree.reduce_tree({
            "number": _float_number,
            "variable": lambda parsed: variables[name(parsed[0])],
            "function": lambda parsed: functions[name(parsed[0])](parsed[1]),
            "atom": calc_module.eval_atom, "power": calc_module.eval_power,
            "parallel": calc_module.eval_parallel, "product": calc_module.eval_product,
            "sum": calc_module.eval_sum,
        })
        value = complex(value)
    except Exception as exc:  # noqa: BLE001 - the parser raises many types on bad input
        raise ValueError(str(exc)) from exc
    if math.isnan(value.real) or math.isnan(value.imag):
        raise ValueError("not a number")
    return value


def _number(text):
    value = evaluate(text)
    if value.imag:
        raise ValueError("complex")
    return value.real


def within_tolerance(given, expected, tolerance):
    """Upstream's compare_with_tolerance: ``tolerance`` absolute, or relative to the
    larger of the two values when it ends in ``%``; infinities equal only each other."""
    tolerance = (tolerance or "0").strip()
    if tolerance.endswith("%"):
        allowed = evaluate(tolerance[:-1]).real * 0.01 * max(abs(given), abs(expected))
    else:
        allowed = evaluate(tolerance).real
    if any(math.isinf(abs(v)) for v in (given, expected)):
        return given == expected
    return abs(given - expected) <= allowed + 1e-12


def _tolerance_param(element, default):
    param = next((p for p in element.iter("responseparam") if p.get("type") == "tolerance"),
                 None)
    return ((param.get("default") if param is not None else None) or default).strip()


def _numeric_correct(element, given):
    answer = (element.get("answer") or "").strip()
    value = _number(given)
    interval = re.fullmatch(r"([\[(])\s*([^,]+),\s*([^\])]+)([\])])", answer)
    if interval:
        low, high = _number(interval.group(2)), _number(interval.group(3))
        ok_low = value >= low if interval.group(1) == "[" else value > low
        ok_high = value <= high if interval.group(4) == "]" else value < high
        return ok_low and ok_high
    return within_tolerance(value, _number(answer), _tolerance_param(element, "0.001%"))


def parse_samples(text):
    """``"x,y@1,2:3,4#10"`` (upstream ``samples``) → ``(names, lows, highs, count)``."""
    names_part, _, rest = (text or "").partition("@")
    ranges, _, count = rest.partition("#")
    low_part, _, high_part = ranges.partition(":")
    names = [n.strip() for n in names_part.split(",") if n.strip()]
    lows = [evaluate(v) for v in low_part.split(",")] if names else []
    highs = [evaluate(v) for v in high_part.split(",")] if names else []
    if len(lows) != len(names) or len(highs) != len(names):
        raise ValueError(f"bad samples {text!r}")
    count = int(count.strip() or 1)
    return names, lows, highs, max(1, min(count, 100))


def _formula_correct(element, given, seed):
    """Upstream formularesponse: the learner's expression and the answer agree (within
    tolerance) at ``samples`` random points of the variables' ranges. The points come
    from a generator seeded by the input id, so an answer always grades the same."""
    import random  # noqa: PLC0415

    case_sensitive = "cs" in (element.get("type") or "").lower().split()
    answer = element.get("answer") or ""
    tolerance = _tolerance_param(element, "0.00001%")
    names, lows, highs, count = parse_samples(element.get("samples") or "")
    rng = random.Random(seed)
    for _ in range(count if names else 1):
        point = {}
        for name, low, high in zip(names, lows, highs):
            real = rng.uniform(low.real, high.real)
            imag = rng.uniform(low.imag, high.imag) if (low.imag or high.imag) else 0.0
            point[name] = complex(real, imag) if imag else real
        expected = evaluate(answer, point, case_sensitive)
        try:
            value = evaluate(given, point, case_sensitive)
        except ValueError:
            return False
        if not within_tolerance(value, expected, tolerance):
            return False
    return True


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


def _point_value(element, default=0.5):
    try:
        value = float(element.get("point_value") or default)
    except ValueError:
        value = default
    return min(max(value, 0.0), 1.0)


def _partial(element):
    return [p.strip().lower() for p in (element.get("partial_credit") or "").split(",")
            if p.strip()]


def _mark(points):
    if points >= 1.0:
        return ("correct", 1.0)
    return ("partially-correct", points) if points > 0 else ("incorrect", 0.0)


def _checkbox_mark(element, given):
    """choiceresponse: all or nothing, or upstream's partial credit schemes (``EDC``:
    each choice rightly (un)ticked counts; ``halves``: one mistake half credit with 3+
    choices, two a quarter with 5+)."""
    choices = _choices(element)
    correct = {name for name, flag in choices if flag == "true"}
    wrong = sum(1 for name, _ in choices if (name in given) != (name in correct))
    if wrong == 0:
        return ("correct", 1.0)
    schemes = _partial(element)
    if "edc" in schemes and choices:
        return _mark(round((len(choices) - wrong) / len(choices), 2))
    if "halves" in schemes:
        if wrong == 1 and len(choices) > 2:
            return ("partially-correct", 0.5)
        if wrong == 2 and len(choices) > 4:
            return ("partially-correct", 0.25)
    return ("incorrect", 0.0)


def grade_response(response, answers):
    """``{input_id: (correctness, points)}`` (unsupported responses: nothing); points
    is 1 for correct, the partial credit for "partially-correct"."""
    tag, element = response.tag, response.element
    result = {}
    if tag == "multiplechoiceresponse":
        given = _text(answers.get(response.input_ids[0]))
        group = next((e for e in element.iter() if e.tag in ("choicegroup", "radiogroup")),
                     None)
        flags = dict(_choices(element))
        mark = ("correct", 1.0) if flags.get(given) == "true" else ("incorrect", 0.0)
        if flags.get(given) == "partial" and "points" in _partial(element) and group is not None:
            index = [name for name, _ in _choices(element)].index(given)
            mark = _mark(_point_value([c for c in group if c.tag == "choice"][index]))
        result[response.input_ids[0]] = mark
    elif tag == "choiceresponse":
        given = answers.get(response.input_ids[0])
        given = set(given if isinstance(given, list) else ([given] if given else []))
        result[response.input_ids[0]] = _checkbox_mark(element, given)
    elif tag == "optionresponse":
        inputs = [e for e in element.iter("optioninput")] or [element]
        points_scheme = "points" in _partial(element)
        for input_id, inp in zip(response.input_ids, inputs):
            expected = (inp.get("correct") or "").strip()
            if not expected:
                expected = next(((o.text or "").strip() for o in inp.iter("option")
                                 if (o.get("correct") or "").lower() == "true"), "")
            given = _text(answers.get(input_id)).strip()
            mark = ("correct", 1.0) if given and given == expected else ("incorrect", 0.0)
            if mark[0] == "incorrect" and given and points_scheme:
                partial = next((o for o in inp.iter("option")
                                if (o.text or "").strip() == given
                                and (o.get("correct") or "").lower() == "partial"), None)
                if partial is not None:
                    mark = _mark(_point_value(partial))
            result[input_id] = mark
    elif tag in ("numericalresponse", "stringresponse", "formularesponse"):
        for input_id in response.input_ids:
            given = _text(answers.get(input_id))
            try:
                if tag == "numericalresponse":
                    ok = _numeric_correct(element, given)
                elif tag == "stringresponse":
                    ok = _string_correct(element, given)
                else:
                    ok = _formula_correct(element, given, input_id)
            except (ValueError, OverflowError, TypeError, ZeroDivisionError):
                ok = False
            result[input_id] = ("correct", 1.0) if ok else ("incorrect", 0.0)
    return result


def grade(problem, answers):
    """``(correct_map, earned, possible)`` for ``answers`` ``{input_id: str|[str]}``;
    partial credit is kept in the correct map as upstream's ``npoints``."""
    correct_map, earned = {}, 0.0
    for response in problem.responses:
        for input_id, (correctness, points) in grade_response(response, answers).items():
            entry = {"correctness": correctness}
            if correctness == "partially-correct":
                entry["npoints"] = points
            correct_map[input_id] = entry
            earned += points
    return correct_map, round(earned, 4), problem.max_score


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
