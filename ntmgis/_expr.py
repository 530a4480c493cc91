"""The one expression engine: parsed with :mod:`ast`, evaluated by a tree walk, per grammar.

Two grammars use it: rule conditions (:data:`RULES`, ``"ndvi_p90 < 0.42 and events ==
0"``) and index formulas (:data:`FORMULA`, ``"(nir - red) / (nir + red)"``, built by
:func:`ntmgis.indices.parse_formula`). Nothing is ever passed to ``eval``: a grammar lists
the operators, functions and names it accepts; anything else is an
:class:`ExpressionError` naming the column where it stands. An expression nested deeper
than :data:`MAX_DEPTH` (or longer than :data:`MAX_LENGTH` characters) is refused with a
clear error instead of a ``RecursionError``.
"""

from __future__ import annotations

import ast
import logging
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError

logger = logging.getLogger(__name__)

#: Deepest nesting of operators accepted (a rule or a formula is a line or two).
MAX_DEPTH = 60
#: Longest expression accepted, in characters.
MAX_LENGTH = 4000

_CMPOPS = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ExpressionError(InputError):
    """An expression that is not allowed or cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


def _float_op(op):
    def apply(a, b):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return op(np.asarray(a, float), np.asarray(b, float))

    return apply


def _safe_divide(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = np.broadcast_arrays(a, b)
    out = np.full(a.shape, np.nan)
    np.divide(a, b, out=out, where=(b != 0) & np.isfinite(b))
    return out


def _safe_power(a, b):
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.power(np.asarray(a, dtype=np.float64), b)


@dataclass(frozen=True)
class Grammar:
    """What one kind of expression may contain.

    Attributes
    ----------
    name : str
        For messages ("condition", "formula").
    binops : dict
        ``ast`` operator class -> function of two arrays.
    unary : tuple
        Allowed ``ast`` unary operator classes (``USub``, ``UAdd``, ``Not``).
    logic : bool
        ``and``/``or``, comparisons and ``True``/``False`` allowed.
    functions : dict
        Name -> (numpy function, minimum arguments, maximum arguments or None).
    resolve : callable, optional
        ``resolve(name)`` -> the key looked up in the environment, or None for an unknown
        name (then ``unknown(name)`` gives the message). Default: every name as written.
    unknown : callable, optional
        The message for a name ``resolve`` refused.
    """

    name: str
    binops: dict
    unary: tuple = (ast.USub,)
    logic: bool = False
    functions: dict = field(default_factory=dict)
    resolve: Callable[[str], str | None] | None = None
    unknown: Callable[[str], str] | None = None
    allowed: str = ""


RULES = Grammar(
    "condition",
    {
        ast.Add: _float_op(operator.add),
        ast.Sub: _float_op(operator.sub),
        ast.Mult: _float_op(operator.mul),
        ast.Div: _float_op(operator.truediv),
    },
    unary=(ast.USub, ast.Not),
    logic=True,
    functions={"abs": (np.abs, 1, 1), "min": (np.minimum, 2, None), "max": (np.maximum, 2, None)},
    allowed="numbers, feature names, + - * /, comparisons, and/or/not, abs/min/max",
)

FORMULA = Grammar(
    "formula",
    {
        ast.Add: np.add,
        ast.Sub: np.subtract,
        ast.Mult: np.multiply,
        ast.Div: _safe_divide,
        ast.Pow: _safe_power,
    },
    unary=(ast.USub, ast.UAdd),
    allowed="band names, numbers, + - * / ** and parentheses",
)


@dataclass
class Expression:
    """A compiled expression: ``expression(env)`` evaluates it on named arrays."""

    text: str
    names: tuple[str, ...]
    evaluate: Callable[[dict], object] = field(repr=False)

    def __call__(self, env: dict):
        """Evaluate on ``env`` (name -> array or scalar)."""
        return self.evaluate(env)


def parse(text: str, grammar: Grammar = RULES) -> Expression:
    """Parse ``text`` under ``grammar`` into an :class:`Expression`.

    Raises
    ------
    ExpressionError
        A syntax error, something the grammar does not allow, an unknown name, or an
        expression too long or too deeply nested (``column`` says where).

    Examples
    --------
    >>> e = parse("max(a, 2) > 1 and not b < 0")
    >>> bool(e({"a": 0.5, "b": 1.0})), e.names
    (True, ('a', 'b'))
    >>> parse("(" * 500 + "1" + ")" * 500)
    Traceback (most recent call last):
    ...
    ntmgis._expr.ExpressionError: too deeply nested (more than 60 levels): split the condition
    """
    text = str(text).strip()
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"too long ({len(text)} characters, at most {MAX_LENGTH}): split the {grammar.name}"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        if "too many nested" in str(exc.msg):
            raise _too_deep(grammar) from None
        column = exc.offset if exc.offset else len(text) + 1  # 0: at the end
        raise ExpressionError(f"syntax error: {exc.msg}", column) from None
    except (RecursionError, MemoryError):
        raise _too_deep(grammar) from None
    names: list[str] = []
    try:
        evaluate = _build(tree.body, grammar, names, 0)
    except RecursionError:
        raise _too_deep(grammar) from None
    return Expression(text, tuple(names), evaluate)


def _too_deep(grammar: Grammar) -> ExpressionError:
    what = "condition" if grammar.name == "condition" else grammar.name
    return ExpressionError(f"too deeply nested (more than {MAX_DEPTH} levels): split the {what}")


def _build(node, grammar: Grammar, names: list, depth: int):  # noqa: C901 - one dispatch
    if depth > MAX_DEPTH:
        raise _too_deep(grammar)
    col = getattr(node, "col_offset", None)
    col = None if col is None else col + 1
    down = depth + 1

    def sub(child):
        return _build(child, grammar, names, down)

    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        if isinstance(node.value, bool):
            if not grammar.logic:
                raise ExpressionError(f"'{node.value}' is not allowed in a {grammar.name}", col)
            value = node.value
        else:
            value = float(node.value)
        return lambda env: value
    if isinstance(node, ast.Name):
        if grammar.logic and node.id in ("True", "False"):
            value = node.id == "True"
            return lambda env: value
        key = node.id if grammar.resolve is None else grammar.resolve(node.id)
        if key is None:
            message = grammar.unknown(node.id) if grammar.unknown else f"unknown name '{node.id}'"
            raise ExpressionError(message, col)
        if key not in names:
            names.append(key)
        return lambda env: env[key]
    if isinstance(node, ast.BinOp) and type(node.op) in grammar.binops:
        op, left, right = grammar.binops[type(node.op)], sub(node.left), sub(node.right)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp) and type(node.op) in grammar.unary:
        inner = sub(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda env: np.negative(np.asarray(inner(env), float))
        if isinstance(node.op, ast.Not):
            return lambda env: ~np.asarray(inner(env), bool)
        return inner
    if grammar.logic and isinstance(node, ast.BoolOp):
        parts = [sub(v) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

        def boolop(env):
            result = np.asarray(parts[0](env), bool)
            for part in parts[1:]:
                result = combine(result, np.asarray(part(env), bool))
            return result

        return boolop
    if (
        grammar.logic
        and isinstance(node, ast.Compare)
        and all(type(o) in _CMPOPS for o in node.ops)
    ):
        first = sub(node.left)
        rest = [(_CMPOPS[type(o)], sub(c)) for o, c in zip(node.ops, node.comparators)]

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
        and node.func.id in grammar.functions
        and not node.keywords
    ):
        func, least, most = grammar.functions[node.func.id]
        args = [sub(a) for a in node.args]
        if len(args) < least or (most is not None and len(args) > most):
            count = "one argument" if most == 1 else f"{least} arguments or more"
            raise ExpressionError(f"{node.func.id}() takes {count}", col)

        def call(env):
            values = [np.asarray(a(env), float) for a in args]
            if len(values) == 1:
                return func(values[0])
            out = values[0]
            for v in values[1:]:
                out = func(out, v)
            return out

        return call
    raise ExpressionError(_not_allowed(node, grammar), col)


def _not_allowed(node, grammar: Grammar) -> str:
    what = type(node).__name__
    if isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp):
        what = type(node.op).__name__
    if isinstance(node, ast.Call):
        known = ", ".join(grammar.functions) or "none"
        what = f"function call (only {known})"
    elif isinstance(node, ast.Attribute):
        what = "attribute access"
    return f"'{what}' is not allowed in a {grammar.name}" + (
        f" (allowed: {grammar.allowed})" if grammar.allowed else ""
    )


def compile_expression(
    text: str, grammar: Grammar = RULES
) -> tuple[Callable[[dict], np.ndarray], set[str]]:
    """Parse ``text``; return ``(evaluate(env) -> array, names used)``.

    ``env`` maps names to numpy arrays (or scalars). Comparisons with NaN are False, so a
    missing feature never satisfies a condition.
    """
    expression = parse(text, grammar)
    return expression.evaluate, set(expression.names)
