"""Formula engine: names, dependency order, cycles, undefined propagation, errors."""

import pytest

from odoo.addons.crm_scorecard.engine import formula


def _eval(expr, context):
    # Plain eval without builtins: the engine's contract is only "a callable (expr, ctx)".
    return eval(expr, {"__builtins__": {"min": min, "max": max}}, context)


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
    result = formula.evaluate({"d": "c * 100", "c": "a / b"}, {"a": 1.0, "b": 4.0}, safe_eval=_eval)
    assert result["c"] == pytest.approx(0.25)
    assert result["d"] == pytest.approx(25.0)


def test_undefined_input_and_zero_division_give_undefined():
    result = formula.evaluate(
        {"ratio": "a / b", "chained": "ratio + 1", "other": "c + 1"},
        {"a": 1.0, "b": 0.0, "c": None},
        safe_eval=_eval,
    )
    assert result["ratio"] is None
    assert result["chained"] is None
    assert result["other"] is None


def test_unknown_name_and_bad_result_name_the_kpi():
    with pytest.raises(formula.FormulaError) as info:
        formula.evaluate({"k": "nope + 1"}, {}, safe_eval=_eval)
    assert info.value.code == "k"
    assert "nope" in info.value.message
    with pytest.raises(formula.FormulaError) as info:
        formula.evaluate({"k": "'text'"}, {}, safe_eval=_eval)
    assert info.value.code == "k"


def test_default_evaluator_is_odoo_safe_eval():
    assert formula.evaluate({"k": "a * 2"}, {"a": 3.0})["k"] == 6.0
    with pytest.raises(formula.FormulaError):
        formula.evaluate({"k": "__import__('os')"}, {})
