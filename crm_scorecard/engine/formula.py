"""Formula KPIs: expressions over other KPIs' codes, evaluated in dependency order.

The names an expression uses are found with :mod:`ast`; a formula is evaluated after every
formula it names, a cycle is refused with an error naming the KPIs in it. An undefined input
(``None``) or a division by zero leaves the result undefined (``None``), never 0.
"""

import ast


class FormulaError(Exception):
    """A formula that cannot be parsed or evaluated; ``code`` names the KPI at fault."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FormulaCycleError(FormulaError):
    """Formulas that depend on each other; ``cycle`` lists the codes in the loop."""

    def __init__(self, cycle):
        self.cycle = list(cycle)
        super().__init__(self.cycle[0], "circular reference: " + " -> ".join(self.cycle))


def names_in(expression, code="?"):
    """Set of the variable names used by ``expression`` (raises FormulaError on bad syntax)."""
    try:
        tree = ast.parse(expression or "", mode="eval")
    except SyntaxError as exc:
        raise FormulaError(code, f"syntax error: {exc.msg}") from exc
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in called}


def dependencies(formulas, known=None):
    """``{code: set of codes it names}`` limited to ``known`` codes (all formula codes if None).

    Names that are neither a known code nor a formula are left for the evaluator to report.
    """
    known = set(formulas) | set(known or ())
    return {code: names_in(expr, code) & known for code, expr in formulas.items()}


def evaluation_order(formulas, known=None):
    """Codes of ``formulas`` ordered so that each comes after the formulas it names.

    Raises FormulaCycleError naming the KPIs of the first cycle found.
    """
    deps = dependencies(formulas, known)
    order = []
    state = {}  # code -> "visiting" | "done"

    def visit(code, path):
        if state.get(code) == "done":
            return
        if state.get(code) == "visiting":
            raise FormulaCycleError([*path[path.index(code) :], code])
        state[code] = "visiting"
        for dep in sorted(deps.get(code, ())):
            if dep in formulas:
                visit(dep, [*path, code])
        state[code] = "done"
        order.append(code)

    for code in sorted(formulas):
        visit(code, [])
    return order


def _default_eval(expression, context):
    from odoo.tools.safe_eval import safe_eval

    return safe_eval(expression, context)


def evaluate(formulas, values, safe_eval=None, extra_context=None):
    """Evaluate ``formulas`` (``{code: expression}``) on ``values`` (``{code: float|None}``).

    Returns a new dict with ``values`` and the formulas' results. A formula naming an undefined
    value, or dividing by zero, gives ``None``. Other errors raise FormulaError naming the KPI.
    """
    safe_eval = safe_eval or _default_eval
    results = dict(values)
    for code in evaluation_order(formulas, values):
        expression = formulas[code]
        names = names_in(expression, code)
        unknown = sorted(name for name in names - set(results) if name not in (extra_context or {}))
        if unknown:
            raise FormulaError(code, "unknown KPI code(s): " + ", ".join(unknown))
        if any(results.get(name) is None for name in names if name in results):
            results[code] = None
            continue
        context = dict(extra_context or {})
        context.update({name: results[name] for name in names if name in results})
        try:
            result = safe_eval(expression, context)
        except ZeroDivisionError:
            result = None
        except Exception as exc:
            raise FormulaError(code, str(exc)) from exc
        if result is not None and not isinstance(result, bool | int | float):
            raise FormulaError(code, f"the result is not a number: {result!r}")
        results[code] = None if result is None else float(result)
    return results
