"""Formula engine: names, dependency order, cycles, undefined propagation, errors."""

import math
import time

import hypothesis
import pytest
from hypothesis import strategies as st

from odoo.addons.crm_scorecard.engine import formula

# Not a speed target: unguarded, these inputs run for minutes or exhaust memory (10**9 items,
# 9**9**9); refused before any evaluation they take milliseconds. The bound tells the two apart
# with room for a loaded CI machine.
GUARD_SECONDS = 5.0


def test_names_in():
    assert formula.names_in("revenue / new_customers * 100") == {"revenue", "new_customers"}
    assert formula.names_in("max(a, b)") == {"a", "b"}


def test_syntax_error_names_the_kpi():
    with pytest.raises(formula.FormulaError) as info:
        formula.names_in("a +* b", "bad_kpi")
    assert info.value.code == "bad_kpi"


def test_order_follows_dependencies():
    formulas = {"c": "b * 2", "b": "a + 1", "d": "c + b"}
    order = formula.evaluation_order(formulas, {"a"})
    assert order.index("b") < order.index("c") < order.index("d")


def test_cycle_is_refused_with_its_members():
    formulas = {"x": "y + 1", "y": "z + 1", "z": "x + 1", "w": "a"}
    with pytest.raises(formula.FormulaCycleError) as info:
        formula.evaluation_order(formulas, {"a"})
    assert set(info.value.cycle) == {"x", "y", "z"}
    assert info.value.cycle[0] == info.value.cycle[-1]
    assert "circular" in str(info.value)


def test_self_reference_is_a_cycle():
    with pytest.raises(formula.FormulaCycleError) as info:
        formula.evaluation_order({"a": "a + 1"})
    assert info.value.cycle == ["a", "a"]


def test_evaluate_in_order():
    result = formula.evaluate({"d": "c * 100", "c": "a / b"}, {"a": 1.0, "b": 4.0})
    assert result["c"] == pytest.approx(0.25)
    assert result["d"] == pytest.approx(25.0)


def test_undefined_input_and_zero_division_give_undefined():
    result = formula.evaluate(
        {"ratio": "a / b", "chained": "ratio + 1", "other": "c + 1"}, {"a": 1.0, "b": 0.0, "c": None}
    )
    assert result["ratio"] is None
    assert result["chained"] is None
    assert result["other"] is None


def test_unknown_name_and_bad_result_name_the_kpi():
    with pytest.raises(formula.FormulaError) as info:
        formula.evaluate({"k": "nope + 1"}, {})
    assert info.value.code == "k"
    assert "nope" in info.value.message
    with pytest.raises(formula.FormulaError) as info:
        formula.evaluate({"k": "'text'"}, {})
    assert info.value.code == "k"


# Formulas an attacker or a typo could write: each is refused, naming the KPI, in milliseconds.
HOSTILE = {
    "tower": "10**10**10",
    "big_power": "2**100000",
    "long": "+".join(["a"] * 5000),
    "deep": "(a + " * 60 + "a" + ")" * 60,
    "deep_calls": "abs(" * 60 + "a" + ")" * 60,
    "deep_unary": "-" * 900 + "a",
    "nan": "1e999 - 1e999",
    "inf": "1e999",
    "inf_by_growth": "a * 1e14 * 1e14",
    "attribute": "a.real",
    "dunder": "a.__class__",
    "dunder_name": "__import__",
    "import": "__import__('os').system('true')",
    "call": "pow(2, 3)",
    "repeat": "'x' * 10**9",
    "lambda": "(lambda: 1)()",
    "comprehension": "[a for a in (1, 2)]",
    "subscript": "(1, 2)[0]",
    "keyword": "round(a, ndigits=2)",
    "string": "'text'",
    "walrus": "(b := 1)",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_formulas_are_refused_fast(name):
    started = time.perf_counter()
    with pytest.raises(formula.FormulaError) as info:
        formula.evaluate({"hostile_kpi": HOSTILE[name]}, {"a": 2.0})
    assert time.perf_counter() - started < GUARD_SECONDS
    assert info.value.code == "hostile_kpi"
    assert info.value.message


def test_hostile_formulas_are_refused_at_parse_time_too():
    # What the KPI constraint uses at save: nothing of these reaches evaluation.
    for name in ("long", "deep", "deep_calls", "inf", "attribute", "import", "call", "repeat"):
        with pytest.raises(formula.FormulaError):
            formula.names_in(HOSTILE[name], "hostile_kpi")


def test_allowed_language():
    values = {"a": 3.0, "b": 4.0, "c": -2.0}
    cases = {
        "a + b * 2": 11.0,
        "(a + b) / 2": 3.5,
        "b ** 2": 16.0,
        "b % a": 1.0,
        "-c": 2.0,
        "min(a, b, 10)": 3.0,
        "max(a, b)": 4.0,
        "abs(c)": 2.0,
        "round(a / 7, 2)": 0.43,
        "a if a > b else b": 4.0,
        "1 if a < b <= 4 else 0": 1.0,
        "a == 3 and b != 3": 1.0,
        "not a": 0.0,
        "a > 5 or c": -2.0,
    }
    for expression, expected in cases.items():
        assert formula.evaluate({"k": expression}, values)["k"] == pytest.approx(expected), expression


def test_bounded_power_and_undefined_zero_cases():
    assert formula.evaluate({"k": "a ** 100"}, {"a": 1.0})["k"] == 1.0
    with pytest.raises(formula.FormulaError):
        formula.evaluate({"k": "a ** 101"}, {"a": 1.0})
    assert formula.evaluate({"k": "a % 0"}, {"a": 1.0})["k"] is None
    assert formula.evaluate({"k": "0 ** -1"}, {})["k"] is None


def test_non_finite_inputs_are_refused():
    with pytest.raises(formula.FormulaError):
        formula.evaluate({"k": "a + 1"}, {"a": float("nan")})


@hypothesis.given(
    st.floats(min_value=-1e6, max_value=1e6),
    st.floats(min_value=-1e6, max_value=1e6),
    st.sampled_from(["+", "-", "*", "/", "%"]),
)
def test_results_are_finite_or_undefined(x, y, op):
    try:
        result = formula.evaluate({"k": f"a {op} b"}, {"a": x, "b": y})["k"]
    except formula.FormulaError:
        return  # out of bounds: refused with a message, never a non-finite number
    assert result is None or math.isfinite(result)


def test_validate_evaluates_the_constant_parts():
    for expression in ("10**10**10", "2**100000", "a + 1e14 * 1e14", "abs(2 ** 1000)"):
        with pytest.raises(formula.FormulaError):
            formula.validate(expression, "k")
    assert formula.validate("a / (1 - 1) + abs(b) * 2 ** 3", "k") == {"a", "b"}
