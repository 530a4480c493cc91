"""Safe expressions over named arrays: parsed with :mod:`ast`, evaluated by a tree walk.

Used for rule conditions (``"ndvi_p90 < 0.42 and events == 0"``). Nothing is ever passed
to ``eval``: only numbers, names, arithmetic, comparisons, ``and``/``or``/``not`` and the
functions ``abs``, ``min``, ``max`` are accepted; anything else is an error naming the
column where it stands.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

import numpy as np

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_CMPOPS = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCS = {"abs": np.abs, "min": np.minimum, "max": np.maximum}


class ExpressionError(ValueError):
    """An expression that is not allowed or cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


def compile_expression(text: str) -> tuple[Callable[[dict], np.ndarray], set[str]]:
    """Parse ``text``; return ``(evaluate(env) -> array, names used)``.

    ``env`` maps names to numpy arrays (or scalars). Comparisons with NaN are False, so a
    missing feature never satisfies a condition.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        column = exc.offset if exc.offset else len(text.strip()) + 1  # 0: at the end
        raise ExpressionError(f"syntax error: {exc.msg}", column) from None
    names: set[str] = set()

    def build(node):
        col = getattr(node, "col_offset", None)
        col = None if col is None else col + 1
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            if isinstance(node.value, bool):
                value = node.value
                return lambda env: value
            value = float(node.value)
            return lambda env: value
        if isinstance(node, ast.Name):
            if node.id in ("True", "False"):
                value = node.id == "True"
                return lambda env: value
            names.add(node.id)
            key = node.id
            return lambda env: env[key]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op, left, right = _BINOPS[type(node.op)], build(node.left), build(node.right)

            def binop(env):
                with np.errstate(divide="ignore", invalid="ignore"):
                    return op(np.asarray(left(env), float), np.asarray(right(env), float))

            return binop
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = build(node.operand)
            return lambda env: -np.asarray(inner(env), float)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = build(node.operand)
            return lambda env: ~np.asarray(inner(env), bool)
        if isinstance(node, ast.BoolOp):
            parts = [build(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

            def boolop(env):
                result = np.asarray(parts[0](env), bool)
                for part in parts[1:]:
                    result = combine(result, np.asarray(part(env), bool))
                return result

            return boolop
        if isinstance(node, ast.Compare) and all(type(o) in _CMPOPS for o in node.ops):
            first = build(node.left)
            rest = [(_CMPOPS[type(o)], build(c)) for o, c in zip(node.ops, node.comparators)]

            def compare(env):
                left = np.asarray(first(env), float)
                result = None
                for op, right_f in rest:
                    right = np.asarray(right_f(env), float)
                    with np.errstate(invalid="ignore"):
                        part = op(left, right)
                    result = part if result is None else np.logical_and(result, part)
                    left = right
                return result

            return compare
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
            and not node.keywords
        ):
            func = _FUNCS[node.func.id]
            args = [build(a) for a in node.args]
            if node.func.id == "abs" and len(args) != 1:
                raise ExpressionError("abs() takes one argument", col)
            if node.func.id != "abs" and len(args) < 2:
                raise ExpressionError(f"{node.func.id}() takes two arguments or more", col)

            def call(env):
                values = [np.asarray(a(env), float) for a in args]
                out = values[0]
                if len(values) == 1:
                    return func(out)
                for v in values[1:]:
                    out = func(out, v)
                return out

            return call
        what = type(node).__name__
        if isinstance(node, ast.Call):
            what = "function call (only abs, min, max)"
        elif isinstance(node, ast.Attribute):
            what = "attribute access"
        raise ExpressionError(f"'{what}' is not allowed in a condition", col)

    return build(tree), names
