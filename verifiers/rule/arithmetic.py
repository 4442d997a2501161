"""A safe evaluator of integer arithmetic expressions: ``+ - * /``, parentheses, integer literals.

Text is parsed with :mod:`ast` (never ``eval``) after a length cap, every node is checked against a
whitelist (``BinOp`` with ``Add``/``Sub``/``Mult``/``Div`` and non-negative ``int`` constants; no
names, calls, unary signs, powers or floats), the depth and the number of literals are capped, and
the value is computed exactly with :class:`fractions.Fraction`.

>>> expr = parse_expression("(6 - 2) * 3 / 2")
>>> literals(expr), evaluate(expr)
([6, 2, 3, 2], Fraction(6, 1))
"""

from __future__ import annotations

import ast
from fractions import Fraction

MAX_EXPRESSION_CHARS = 500
MAX_DEPTH = 32
MAX_LITERALS = 64
OPERATOR_SYMBOLS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
#: Look-alike characters models write, mapped to what the parser reads.
_NORMALIZE = str.maketrans(
    {"\u00d7": "*", "\u00b7": "*", "\u00f7": "/", "\u2212": "-", "\u2013": "-", "\u00a0": " "}
)


class ExpressionError(ValueError):
    """The text is not a permitted arithmetic expression; the message says why."""


def parse_expression(
    text: str,
    *,
    max_chars: int = MAX_EXPRESSION_CHARS,
    max_depth: int = MAX_DEPTH,
    max_literals: int = MAX_LITERALS,
) -> ast.expr:
    """Parse ``text`` into a checked expression tree; raises ExpressionError for anything else."""
    text = text.translate(_NORMALIZE).strip()
    if not text:
        raise ExpressionError("the expression is empty")
    if len(text) > max_chars:
        raise ExpressionError(f"the expression is longer than {max_chars} characters")
    if "**" in text:
        raise ExpressionError("'**' (power) is not allowed; use + - * / and parentheses")
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"not an arithmetic expression ({type(exc).__name__})") from None
    _check(tree, max_depth, max_literals)
    return tree


def _check(tree: ast.expr, max_depth: int, max_literals: int) -> None:
    """Walk the tree without recursion, allowing only the whitelisted nodes."""
    stack: list[tuple[ast.expr, int]] = [(tree, 1)]
    n_literals = 0
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise ExpressionError(f"the expression is nested deeper than {max_depth} levels")
        if isinstance(node, ast.BinOp):
            if type(node.op) not in OPERATOR_SYMBOLS:
                raise ExpressionError(f"operator {type(node.op).__name__} is not allowed; use + - * /")
            stack.append((node.left, depth + 1))
            stack.append((node.right, depth + 1))
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int) or isinstance(node.value, bool) or node.value < 0:
                raise ExpressionError(f"{node.value!r:.20} is not a whole number")
            n_literals += 1
            if n_literals > max_literals:
                raise ExpressionError(f"the expression has more than {max_literals} numbers")
        elif isinstance(node, ast.UnaryOp):
            raise ExpressionError("unary signs are not allowed; use only the given numbers")
        else:
            raise ExpressionError(f"{type(node).__name__} is not allowed; use numbers, + - * / and ()")


def literals(tree: ast.expr) -> list[int]:
    """The integer literals of a checked tree, left to right."""
    out: list[int] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp):
            stack.append(node.right)
            stack.append(node.left)
        else:
            out.append(int(node.value))  # type: ignore[attr-defined]
    return out


def operators(tree: ast.expr) -> set[str]:
    """The operator symbols a checked tree uses."""
    return {OPERATOR_SYMBOLS[type(n.op)] for n in ast.walk(tree) if isinstance(n, ast.BinOp)}


def evaluate(tree: ast.expr) -> Fraction:
    """The exact value of a checked tree; raises ZeroDivisionError on division by zero."""
    if isinstance(tree, ast.Constant):
        return Fraction(tree.value)
    if not isinstance(tree, ast.BinOp):  # parse_expression never yields one; guard direct callers
        raise ExpressionError(f"{type(tree).__name__} is not allowed")
    left, right = evaluate(tree.left), evaluate(tree.right)
    op = type(tree.op)
    if op is ast.Add:
        return left + right
    if op is ast.Sub:
        return left - right
    if op is ast.Mult:
        return left * right
    if op is ast.Div:
        return left / right
    raise ExpressionError(f"operator {op.__name__} is not allowed")


def safe_evaluate(text: str) -> Fraction:
    """Parse and evaluate ``text``; ExpressionError for bad text, ZeroDivisionError for ``x / 0``."""
    return evaluate(parse_expression(text))
