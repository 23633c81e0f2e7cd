"""KPI domains: the text of an Odoo domain, evaluated with plain values only.

A domain is a Python literal (a list of tuples and operators) in which a few names may
appear: ``uid``, ``company_id`` and ``company_ids`` (integers), and the date helpers
``context_today()``, ``datetime`` (``date``, ``datetime``, ``timedelta``, ``time``) and
``relativedelta``. The text is parsed with :mod:`ast` and walked by a small evaluator; no
record, environment or module reaches it, so a domain can compute a date and nothing else.
For example::

    [('date_closed', '>=', (context_today() - relativedelta(months=3)).strftime('%Y-%m-%d')),
     ('user_id', '=', uid), ('company_id', 'in', company_ids)]
"""

import ast
import datetime

from dateutil.relativedelta import relativedelta

MAX_LENGTH = 5000  # characters of one domain
MAX_NODES = 1000
MAX_INTEGER = 10**6  # |n| of a number literal: ids, day counts, years


class DomainError(Exception):
    """A domain that cannot be evaluated, with the reason."""


class _DatetimeNamespace:
    """What ``datetime`` offers in a domain: its four classes, nothing of the module."""

    __slots__ = ()


for _name in ("date", "datetime", "timedelta", "time"):
    setattr(_DatetimeNamespace, _name, getattr(datetime, _name))
_DATETIME = _DatetimeNamespace()
_DATE_TYPES = (datetime.date, datetime.datetime, datetime.time, datetime.timedelta, relativedelta)
_CLASSES = (datetime.date, datetime.datetime, datetime.timedelta, datetime.time, relativedelta)
# Attributes a domain may read, and on what.
_NAMESPACE_ATTRIBUTES = {"date", "datetime", "timedelta", "time"}
_CLASS_ATTRIBUTES = {"today", "now", "combine", "min", "max"}
_VALUE_ATTRIBUTES = {"strftime", "isoformat", "replace", "date", "year", "month", "day", "weekday"}
_METHODS = {"strftime", "isoformat", "replace", "date", "weekday", "today", "now", "combine"}


def evaluate(text, uid=None, company_id=None, company_ids=(), today=None):
    """The domain ``text`` as a Python list; DomainError when it uses anything else than
    literals, the names above and date arithmetic."""
    text = text or "[]"
    if len(text) > MAX_LENGTH:
        raise DomainError(f"the domain is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise DomainError(f"syntax error: {exc.msg}") from exc
    except (RecursionError, MemoryError, ValueError) as exc:
        raise DomainError("the domain is nested too deeply") from exc
    if sum(1 for _node in ast.walk(tree)) > MAX_NODES:
        raise DomainError(f"the domain has more than {MAX_NODES} terms")
    today = today or datetime.date.today()
    names = {
        "uid": uid,
        "company_id": company_id,
        "company_ids": list(company_ids),
        "context_today": lambda: today,
        "datetime": _DATETIME,
        "relativedelta": relativedelta,
    }
    try:
        result = _Evaluator(names).visit(tree.body)
    except RecursionError as exc:
        raise DomainError("the domain is nested too deeply") from exc
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise DomainError(str(exc)) from exc
    if not isinstance(result, list):
        raise DomainError("a domain is a list of conditions")
    return result


class _Evaluator(ast.NodeVisitor):
    def __init__(self, names):
        self.names = names

    def generic_visit(self, node):
        raise DomainError(f"{type(node).__name__} is not allowed in a domain")

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            raise DomainError(f"the number {value} is out of bounds")
        if isinstance(value, float) and not abs(value) <= MAX_INTEGER:
            raise DomainError(f"the number {value} is out of bounds")
        if value is not None and not isinstance(value, bool | int | float | str):
            raise DomainError(f"{value!r} is not allowed in a domain")
        return value

    def visit_List(self, node):
        return [self.visit(element) for element in node.elts]

    def visit_Tuple(self, node):
        return tuple(self.visit(element) for element in node.elts)

    def visit_Name(self, node):
        if node.id not in self.names:
            raise DomainError(
                f"unknown name {node.id}: a domain may use uid, company_id, company_ids, "
                "context_today(), datetime and relativedelta"
            )
        return self.names[node.id]

    def visit_UnaryOp(self, node):
        operand = self.visit(node.operand)
        if (
            isinstance(node.op, ast.USub)
            and isinstance(operand, int | float)
            and not isinstance(operand, bool)
        ):
            return -operand
        if isinstance(node.op, ast.Not) and isinstance(operand, bool):
            return not operand
        raise DomainError("only numbers can be negated in a domain")

    def visit_BinOp(self, node):
        # Date arithmetic (today - relativedelta(days=7)) and small sums: never repetition.
        if not isinstance(node.op, ast.Add | ast.Sub):
            raise DomainError("only + and - are allowed in a domain")
        left, right = self.visit(node.left), self.visit(node.right)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
        dates = isinstance(left, _DATE_TYPES) and isinstance(right, _DATE_TYPES)
        if not (numbers or dates):
            raise DomainError("+ and - apply to numbers and dates only in a domain")
        result = left + right if isinstance(node.op, ast.Add) else left - right
        if numbers and abs(result) > MAX_INTEGER:
            raise DomainError("a number of the domain is out of bounds")
        return result

    def visit_Attribute(self, node):
        owner = self.visit(node.value)
        name = node.attr
        if owner is _DATETIME and name in _NAMESPACE_ATTRIBUTES:
            return getattr(owner, name)
        if owner in _CLASSES and name in _CLASS_ATTRIBUTES:
            return getattr(owner, name)
        if isinstance(owner, _DATE_TYPES) and name in _VALUE_ATTRIBUTES:
            return getattr(owner, name)
        raise DomainError(f"the attribute {name} is not allowed in a domain")

    def visit_Call(self, node):
        function = self.visit(node.func)
        allowed = (
            function is self.names["context_today"]
            or function in _CLASSES
            or (
                getattr(function, "__name__", None) in _METHODS
                and isinstance(getattr(function, "__self__", None), (*_DATE_TYPES, type))
            )
        )
        if not allowed:
            raise DomainError("only date helpers may be called in a domain")
        args = [self.visit(arg) for arg in node.args]
        if any(isinstance(arg, str) and len(arg) > 100 for arg in args):
            raise DomainError("a text argument of a date helper is too long")
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise DomainError("** is not allowed in a domain")
            kwargs[keyword.arg] = self.visit(keyword.value)
        return function(*args, **kwargs)
