"""Answer guards for reasoning-gym scorers that would ``eval`` model text, and a literal-only ``eval``.

Each guard returns ``None`` when the scorer may see the answer, else the reason it may not. A guard
lets through only answers on which sympy's ``parse_expr`` (it ends in ``eval``) cannot run code:

- ``arithmetic`` (``parse_expr`` of a countdown / 24 expression): digits, ``+ - * /``, parentheses,
  dots and blanks, no ``**``, so the evaluated code is rational arithmetic growing at most linearly;
- ``symbolic`` (``parse_expr`` of a polynomial or an antiderivative): numbers, arithmetic operators,
  parentheses and an allow-list of names (the task's variables, ``C`` and elementary functions):
  no strings, attributes, subscripts, keywords or builtins can appear.

Work that is still expensive (``9**9**9`` in a symbolic answer) is stopped by the worker's time and
memory limits, not here.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from typing import Any

#: Functions and constants an antiderivative may use (sympy names).
SYMBOLIC_FUNCTIONS = frozenset(
    {"sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "sinh", "cosh", "tanh"}
    | {"asinh", "acosh", "atanh", "exp", "log", "ln", "sqrt", "E", "pi"}
)
_SYMBOLIC_OPS = frozenset({"+", "-", "*", "/", "**", "^", "(", ")"})
_SKIPPED_TOKENS = frozenset(
    {tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT}
)
_ARITHMETIC = re.compile(r"[0-9+\-*/().\s]*")


def literal_eval(source: Any, *_: Any) -> Any:
    """``eval`` restricted to Python literals (what the list-reading scorers need); else ValueError."""
    if not isinstance(source, str):
        raise TypeError("literal_eval takes a string")
    try:
        return ast.literal_eval(source.lstrip(" \t"))  # eval() strips these too
    except (SyntaxError, TypeError, RecursionError, MemoryError) as exc:
        raise ValueError(f"not a Python literal: {type(exc).__name__}") from None


def arithmetic_guard(answer: str) -> str | None:
    """Accept only numbers, ``+ - * /``, parentheses and blanks (no ``**``)."""
    if not _ARITHMETIC.fullmatch(answer):
        return "the answer may only contain numbers, + - * /, parentheses and spaces"
    if "**" in answer:
        return "the answer may not contain powers (**)"
    return None


def symbolic_guard(answer: str, names: Iterable[str]) -> str | None:
    """Accept numbers, arithmetic operators, parentheses and the allowed ``names`` only."""
    allowed = SYMBOLIC_FUNCTIONS | set(names)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(answer).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return "the answer is not a well-formed expression"
    for tok in tokens:
        if tok.type in _SKIPPED_TOKENS or tok.type == tokenize.NUMBER:
            continue
        if tok.type == tokenize.NAME and tok.string in allowed:
            continue
        if tok.type == tokenize.OP and tok.string in _SYMBOLIC_OPS:
            continue
        return f"the answer may not contain {tok.string!r} (allowed names: {', '.join(sorted(allowed))})"
    return None


def symbolic_names(metadata: Mapping[str, Any]) -> set[str]:
    """The names a symbolic answer may use besides functions: the task's variables and ``C``."""
    names = {"C"}
    variable = metadata.get("variable")
    if isinstance(variable, str):
        names.add(variable)
    variables = metadata.get("variables")
    if isinstance(variables, list):
        names.update(v for v in variables if isinstance(v, str))
    return {n for n in names if n.isidentifier() and not n.startswith("_")}


def check(kind: str, answer: str, metadata: Mapping[str, Any]) -> str | None:
    """Run the guard named ``kind`` on ``answer``; ``None`` means the scorer may see it."""
    if kind == "arithmetic":
        return arithmetic_guard(answer)
    if kind == "symbolic":
        return symbolic_guard(answer, symbolic_names(metadata))
    raise ValueError(f"unknown guard {kind!r}")
