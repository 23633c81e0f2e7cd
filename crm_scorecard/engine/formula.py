"""Formula KPIs: arithmetic over other KPIs' codes, evaluated in dependency order.

A formula is parsed with :mod:`ast` and checked against an allow-list before anything is
evaluated: numbers, KPI codes, ``+ - * / ** %``, comparisons, ``and``/``or``/``not``,
``a if condition else b`` and the functions ``min``, ``max``, ``abs`` and ``round``. Nothing
else parses: no attribute, subscript, string, collection or other call, so a formula can
reach no object and run no code. Every operand is a float; exponents, magnitudes, length
and nesting are bounded, and every intermediate result must be finite, so that no formula
can hang a worker or fill its memory.

A formula is evaluated after every formula it names; a cycle is refused with an error naming
the KPIs in it. An undefined input (``None``) or a division by zero leaves the result
undefined (``None``), never 0.
"""

import ast
import contextlib
import math
import operator

MAX_LENGTH = 1000  # characters of one formula
MAX_DEPTH = 30  # nesting of operations
MAX_NODES = 300  # operations and operands of one formula
MAX_EXPONENT = 100  # |b| in a ** b
MAX_MAGNITUDE = 1e15  # |x| of any operand or intermediate result (a KPI figure, not a physics constant)
MAX_ARGUMENTS = 20  # of min() and max()

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: lambda x: float(not x)}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS = {"min": min, "max": max, "abs": abs, "round": round}
FUNCTION_NAMES = frozenset(_FUNCTIONS)


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


def parse(expression, code="?"):
    """The checked syntax tree of ``expression``; FormulaError (naming ``code``) when it is
    too long, too deep, does not parse or uses anything outside the allow-list."""
    expression = expression or ""
    if len(expression) > MAX_LENGTH:
        raise FormulaError(code, f"the formula is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(code, f"syntax error: {exc.msg}") from exc
    except (RecursionError, MemoryError, ValueError) as exc:
        raise FormulaError(code, "the formula is nested too deeply") from exc
    count = 0
    # An explicit stack: a hostile tree cannot make this check recurse.
    stack = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise FormulaError(code, f"the formula is nested more than {MAX_DEPTH} levels deep")
        if count > MAX_NODES:
            raise FormulaError(code, f"the formula has more than {MAX_NODES} terms")
        stack.extend((child, depth + 1) for child in _checked_children(node, code))
    return tree


def _check_constant(node, code):
    if isinstance(node.value, bool) or not isinstance(node.value, int | float):
        raise FormulaError(code, f"only numbers are allowed, not {node.value!r}")
    if not math.isfinite(node.value) or abs(node.value) > MAX_MAGNITUDE:
        raise FormulaError(code, f"the number {node.value!r} is out of bounds")
    return []


def _check_name(node, code):
    if node.id.startswith("_"):
        raise FormulaError(code, f"the name {node.id} is not allowed")
    return []


def _check_operator(node, code, table):
    if type(node.op) not in table:
        raise FormulaError(code, f"the operator {type(node.op).__name__} is not allowed in a formula")
    return [node.left, node.right] if isinstance(node, ast.BinOp) else [node.operand]


def _check_compare(node, code):
    if not all(type(op) in _COMPARE for op in node.ops):
        raise FormulaError(code, "only <, <=, >, >=, == and != compare values")
    return [node.left, *node.comparators]


def _check_call(node, code):
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in _FUNCTIONS or node.keywords:
        raise FormulaError(code, "only min(), max(), abs() and round() may be called")
    if not node.args or len(node.args) > MAX_ARGUMENTS or any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError(code, f"{name}() takes 1 to {MAX_ARGUMENTS} plain arguments")
    return list(node.args)


_CHECKS = {
    ast.Constant: _check_constant,
    ast.Name: _check_name,
    ast.BinOp: lambda node, code: _check_operator(node, code, _BINARY),
    ast.UnaryOp: lambda node, code: _check_operator(node, code, _UNARY),
    ast.BoolOp: lambda node, code: list(node.values),
    ast.Compare: _check_compare,
    ast.IfExp: lambda node, code: [node.test, node.body, node.orelse],
    ast.Call: _check_call,
}


def _checked_children(node, code):
    """The operands of an allowed ``node``; FormulaError for anything else."""
    check = _CHECKS.get(type(node))
    if not check:
        raise FormulaError(code, f"{type(node).__name__} is not allowed in a formula")
    return check(node, code)


def names_in(expression, code="?"):
    """Set of the KPI codes used by ``expression`` (raises FormulaError when it is refused)."""
    tree = parse(expression, code)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called}


def validate(expression, code="?"):
    """What a KPI's constraint checks at save: :func:`parse`, and every part of the formula
    that names no KPI evaluates (``10 ** 10 ** 10`` is refused then, not at the first
    evaluation). Returns the KPI codes it names."""
    tree = parse(expression, code)
    functions = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree.body):
        if isinstance(node, ast.BinOp | ast.UnaryOp | ast.Call) and not any(
            isinstance(sub, ast.Name) and id(sub) not in functions for sub in ast.walk(node)
        ):
            with contextlib.suppress(_Undefined):  # a division by zero is allowed: undefined
                _eval_node(node, {}, code)
    return names_in(expression, code)


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


class _Undefined(Exception):
    """A division by zero: the formula's value is undefined."""


def _bounded(value, code):
    value = float(value)
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise FormulaError(code, f"an intermediate result ({value!r}) is out of bounds")
    return value


def _eval_binop(node, names, code):
    left = _eval_node(node.left, names, code)
    right = _eval_node(node.right, names, code)
    if isinstance(node.op, ast.Div | ast.Mod) and right == 0:
        raise _Undefined
    if isinstance(node.op, ast.Pow):
        if abs(right) > MAX_EXPONENT:
            raise FormulaError(code, f"the exponent {right:g} is beyond ±{MAX_EXPONENT}")
        if left == 0 and right < 0:
            raise _Undefined
        if left < 0 and right != int(right):
            raise FormulaError(code, "a negative number has no fractional power")
    try:
        return _bounded(_BINARY[type(node.op)](left, right), code)
    except OverflowError as exc:
        raise FormulaError(code, "an intermediate result is out of bounds") from exc


def _eval_boolop(node, names, code):
    result = 0.0
    for value in node.values:
        result = _eval_node(value, names, code)
        if isinstance(node.op, ast.And) != bool(result):
            break  # and: the first false value; or: the first true one
    return result


def _eval_compare(node, names, code):
    left = _eval_node(node.left, names, code)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _eval_node(right_node, names, code)
        if not _COMPARE[type(op)](left, right):
            return 0.0
        left = right
    return 1.0


def _eval_call(node, names, code):
    args = [_eval_node(arg, names, code) for arg in node.args]
    name = node.func.id
    if name == "round":
        if len(args) > 2 or (len(args) == 2 and not 0 <= args[1] <= 10):
            raise FormulaError(code, "round() takes a value and 0 to 10 digits")
        return _bounded(round(args[0], int(args[1]) if len(args) == 2 else 0), code)
    if name == "abs":
        if len(args) != 1:
            raise FormulaError(code, "abs() takes one value")
        return abs(args[0])
    return _FUNCTIONS[name](args)


def _eval_ifexp(node, names, code):
    branch = node.body if _eval_node(node.test, names, code) else node.orelse
    return _eval_node(branch, names, code)


_EVALUATORS = {
    ast.Constant: lambda node, names, code: float(node.value),
    ast.Name: lambda node, names, code: names[node.id],
    ast.BinOp: _eval_binop,
    ast.UnaryOp: lambda node, names, code: _bounded(
        _UNARY[type(node.op)](_eval_node(node.operand, names, code)), code
    ),
    ast.BoolOp: _eval_boolop,
    ast.Compare: _eval_compare,
    ast.IfExp: _eval_ifexp,
    ast.Call: _eval_call,
}


def _eval_node(node, names, code):
    """Value of a node of a tree checked by :func:`parse` (so its depth is bounded)."""
    return _EVALUATORS[type(node)](node, names, code)


def evaluate_one(expression, values, code="?"):
    """Value of one formula on ``values`` (``{code: float}``, all defined): a finite float, or
    None on a division by zero. Raises FormulaError naming ``code`` otherwise."""
    tree = parse(expression, code)
    names = {}
    for name in names_in(expression, code):
        if name not in values:
            raise FormulaError(code, f"unknown KPI code(s): {name}")
        names[name] = _bounded(values[name], code)
    try:
        return _eval_node(tree.body, names, code)
    except _Undefined:
        return None


def evaluate(formulas, values):
    """Evaluate ``formulas`` (``{code: expression}``) on ``values`` (``{code: float|None}``).

    Returns a new dict with ``values`` and the formulas' results. A formula naming an undefined
    value, or dividing by zero, gives ``None``. Other errors raise FormulaError naming the KPI.
    """
    results = dict(values)
    for code in evaluation_order(formulas, values):
        expression = formulas[code]
        names = names_in(expression, code)
        unknown = sorted(names - set(results))
        if unknown:
            raise FormulaError(code, "unknown KPI code(s): " + ", ".join(unknown))
        if any(results[name] is None for name in names):
            results[code] = None
            continue
        results[code] = evaluate_one(expression, {name: results[name] for name in names}, code)
    return results
