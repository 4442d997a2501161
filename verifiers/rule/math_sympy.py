r"""The sympy side of the math verifier: runs only inside a killable worker process.

Parsing is math-verify's (``normalize_latex`` + latex2sympy, as its ``parse`` does for a boxed
answer; ANTLR's fast SLL mode first, see :func:`_two_stage_parsing`) and comparison is
``math_verify.verify`` with these of its steps replaced, because they blur values that differ:

* numeric equality: math-verify evaluates ``a - b`` to 15 digits with ``chop=True``, so
  ``1/2004!`` equals ``1/2006!`` and ``1e-8`` equals ``2e-8``. Here exact values are compared
  exactly (rationals as rationals, big integers as integers), other constants by their relative
  difference at 60 digits, and an answer written with decimals by the decimal rule of
  :func:`agentgym.verifiers.rule.math_text.floats_close` (6 places *and* relative 1e-5);
* symbolic equality (``simplify(a - b) == 0``): skipped for two constants (already decided
  exactly), for huge numbers and for high powers of expressions (it would expand ``(x+1)^{1000}``);
* equations: math-verify reads the right side of *any* predicted equation as the answer, so
  ``-x = 3`` would equal 3; here only an assignment (``x = 3``) answers a value;
* percentages: ``p\%`` equals ``p`` (the sign read as a unit) and ``p/100`` (its value) under
  ``percent="lenient"``, only ``p/100`` under ``percent="value"``.

Huge numbers (``2^{30^{5}}``, ``100000!``) are never evaluated: a magnitude estimate on the parsed
tree sends them to structural comparison, so they cost microseconds instead of hanging. Anything
else that runs long is stopped by the worker pool's time limit.
"""

from __future__ import annotations

import logging
import math
from functools import lru_cache
from typing import Any

__all__ = ["compare_pairs", "is_huge", "parse_answer", "ping"]

#: Integers with more bits than this are compared structurally, never computed.
MAX_BITS = 1_000_000
MAX_NODES = 5_000
_state: dict[str, Any] = {"ready": False, "percent": "lenient"}


#: Parsed once per worker at warm-up so that ANTLR's prediction cache holds the common shapes.
_WARM_UP = (
    r"\frac{1}{2}",
    r"-\frac{\sqrt{3}}{2}",
    r"2\sqrt{3}",
    r"(1, 2]",
    r"\{1, 2\}",
    r"x = 3",
    r"x^{2} + 1",
    r"3\pi",
    r"50\%",
    r"\text{A}",
    r"(-\infty, 0) \cup (1, \infty)",
    r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}",
)


def ping() -> bool:
    """Warm-up call: imports everything the comparisons need and parses a few common shapes."""
    _setup()
    for text in _WARM_UP:
        parse_answer(text, False)
    return True


def _setup() -> None:
    if _state["ready"]:
        return
    import math_verify.grader as grader

    for name in ("sympy_numeric_eq", "sympy_symbolic_eq", "sympy_expr_eq"):
        if not callable(getattr(grader, name, None)):  # patching a missing name would change nothing
            raise RuntimeError(f"math_verify.grader.{name} is missing: unsupported math-verify version")
    grader.sympy_numeric_eq = _numeric_eq
    _state["symbolic_eq"] = grader.sympy_symbolic_eq
    grader.sympy_symbolic_eq = _symbolic_eq
    _state["expr_eq"] = grader.sympy_expr_eq
    grader.sympy_expr_eq = _expr_eq
    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    _two_stage_parsing()
    _state["ready"] = True


def _two_stage_parsing() -> None:
    """Parse LaTeX with ANTLR's SLL prediction first, full LL only when SLL reports an error.

    latex2sympy raises on every syntax error, and an SLL parse without errors is the parse LL would
    return (ANTLR's PredictionMode.SLL contract), so results are unchanged while typical answers
    parse ~10x faster and nested brackets no longer blow up. Skipped if the internals differ.
    """
    try:
        from antlr4.atn.PredictionMode import PredictionMode
        from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy
    except ImportError:  # pragma: no cover - other latex2sympy versions
        return
    original_create, original_parse = _Latex2Sympy.create_parser, _Latex2Sympy.parse

    def create_parser(self: Any, latex: str) -> Any:
        parser = original_create(self, latex)
        if getattr(self, "_sll", False):
            parser._interp.predictionMode = PredictionMode.SLL
        return parser

    def parse(self: Any, latex: str) -> Any:
        self._sll = True
        try:
            return original_parse(self, latex)
        except Exception:
            pass
        finally:
            self._sll = False
        return original_parse(self, latex)

    _Latex2Sympy.create_parser, _Latex2Sympy.parse = create_parser, parse


def _log2_size(expr: Any, budget: list[int]) -> float:
    """An upper estimate of log2 |value| of a numeric subtree (inf when it could be astronomically big)."""
    import sympy

    budget[0] -= 1
    if budget[0] < 0:
        return math.inf
    if isinstance(expr, sympy.Integer):
        return float(abs(int(expr)).bit_length())
    if isinstance(expr, sympy.Rational):
        return float(max(abs(expr.p).bit_length(), expr.q.bit_length()))
    if isinstance(expr, sympy.Pow):
        base, exp = (_log2_size(a, budget) for a in expr.args)
        if exp > 64:
            return math.inf
        try:
            exp_value = abs(float(expr.args[1])) if expr.args[1].is_number else 0.0
        except (TypeError, ValueError, OverflowError):
            return math.inf
        return max(base, 1.0) * max(exp_value, 1.0)
    if isinstance(expr, sympy.factorial) or type(expr).__name__ in ("factorial2", "subfactorial"):
        n = _log2_size(expr.args[0], budget)
        if n > 40:
            return math.inf
        value = 2.0**n
        return value * max(1.0, math.log2(value))
    if isinstance(expr, (sympy.binomial, sympy.FallingFactorial, sympy.RisingFactorial)):
        n, k = (_log2_size(a, budget) for a in expr.args[:2])
        return math.inf if k > 40 else 2.0**k * max(n, 1.0)  # at most k * log2(n) bits
    if isinstance(expr, sympy.exp):
        arg = _log2_size(expr.args[0], budget)
        return math.inf if arg > 40 else 2.0**arg * 1.5  # |e^a| < 2^(1.5 |a|)
    sizes = [_log2_size(a, budget) for a in expr.args] if expr.args else [0.0]
    return sum(sizes) + len(sizes)


def is_huge(expr: Any) -> bool:
    """True when evaluating ``expr`` could produce a number with more than :data:`MAX_BITS` bits."""
    import sympy

    if not isinstance(expr, sympy.Basic):
        return False
    return _log2_size(expr, [MAX_NODES]) > MAX_BITS


def _pct_parts(expr: Any) -> tuple[Any, Any] | None:
    r"""``(p, p/100)`` for a percentage ``p\%`` as latex2sympy builds it, else None."""
    import sympy

    if (
        isinstance(expr, sympy.Mul)
        and len(expr.args) == 2
        and expr.args[1] == sympy.UnevaluatedExpr(sympy.Rational(1, 100))
    ):
        return expr.args[0], expr.args[0] * sympy.Rational(1, 100)
    return None


def _numeric_eq(a: Any, b: Any, float_rounding: int = 6, numeric_precision: int = 15) -> bool:
    """Replacement for ``math_verify.grader.sympy_numeric_eq`` (see the module docstring)."""
    import sympy

    matrices = (sympy.MatrixBase, sympy.MatrixExpr)
    if isinstance(a, matrices) or isinstance(b, matrices):
        if not (isinstance(a, matrices) and isinstance(b, matrices)):
            return False
        a, b = _doit(a), _doit(b)
        if isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase) and a.shape == b.shape:
            return all(_numeric_eq(x, y) for x, y in zip(a, b, strict=True))
        return False
    for left, right in ((a, b), (b, a)):
        parts = _pct_parts(left)
        if parts is not None and _pct_parts(right) is None:
            as_unit, as_value = parts
            if _state["percent"] == "lenient" and _constant_eq(as_unit, right):
                return True
            return _constant_eq(as_value, right)
    return _constant_eq(a, b)


def _expr_eq(gold: Any, pred: Any, *args: Any, **kwargs: Any) -> bool:
    """math-verify's ``sympy_expr_eq``, except that only an assignment answers a value.

    math-verify compares the right-hand side of *any* predicted equation with a plain reference,
    so ``-x = 3`` and ``2x = 6`` would equal 3 and 6. Here ``x = 3`` still equals 3, while an
    equation whose left side is not a bare variable never equals a value.
    """
    from math_verify.grader import is_assignment_relation, is_equation

    if is_equation(pred) and not is_equation(gold) and not is_assignment_relation(pred):
        return False
    return bool(_state["expr_eq"](gold, pred, *args, **kwargs))


def _doit(expr: Any) -> Any:
    try:
        return expr.doit()
    except Exception:
        return expr


def _constant_eq(a: Any, b: Any) -> bool:
    """Exact equality of two numeric constants (decimal answers by the decimal rule)."""
    import sympy

    if not isinstance(a, sympy.Basic) or not isinstance(b, sympy.Basic):
        return False
    if a.free_symbols or b.free_symbols:
        return False  # expressions in variables are left to the symbolic comparison
    if is_huge(a) or is_huge(b):
        return bool(a == b)
    has_float = bool(a.atoms(sympy.Float) or b.atoms(sympy.Float))
    va, vb = _doit(a), _doit(b)
    if va == vb:
        return True
    if isinstance(va, sympy.Rational) and isinstance(vb, sympy.Rational) and not has_float:
        return False
    try:
        ea, eb = va.evalf(60), vb.evalf(60)
        if not (ea.is_number and eb.is_number) or ea.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            return False
        diff, scale = abs(ea - eb), max(abs(ea), abs(eb))
        if has_float:
            return bool(diff <= sympy.Float("1e-6") and diff <= sympy.Float("1e-5") * scale)
        return bool(diff <= sympy.Float("1e-45", 60) * scale)
    except (TypeError, ValueError, AttributeError, ArithmeticError, RecursionError):
        return False  # e.g. a value too large for a float: not provably equal


def _high_power(expr: Any) -> bool:
    """True when ``expr`` raises a non-number to an integer power above 64 (simplify would expand it)."""
    import sympy

    return any(
        p.exp.is_Integer and abs(int(p.exp)) > 64 and not p.base.is_number for p in expr.atoms(sympy.Pow)
    )


def _symbolic_eq(a: Any, b: Any) -> bool:
    """math-verify's ``simplify(a - b) == 0``, only where it can add something and cannot blow up.

    Two constants were already compared exactly by :func:`_constant_eq`; huge numbers and high
    powers of expressions are left to structural comparison.
    """
    import sympy

    if not isinstance(a, sympy.Basic) or not isinstance(b, sympy.Basic):
        return bool(_state["symbolic_eq"](a, b))
    if not (a.free_symbols or b.free_symbols) or is_huge(a) or is_huge(b):
        return False
    if _high_power(a) or _high_power(b):
        return False
    return bool(_state["symbolic_eq"](a, b))


@lru_cache(maxsize=512)
def parse_answer(text: str, prose: bool, complex_numbers: bool = False) -> tuple[Any, str]:
    """``(sympy expression or None, normalized LaTeX)`` for one cleaned answer.

    ``complex_numbers`` reads ``i`` as a complex-capable symbol even where this text alone would
    not suggest it (``3+4i`` against ``3 + 4 i``): both sides of a comparison must agree.
    """
    from latex2sympy2_extended.latex2sympy2 import NormalizationConfig, latex2sympy, normalize_latex
    from math_verify import parse
    from math_verify.grader import should_treat_as_complex
    from math_verify.parser import get_last_eq

    if prose:  # text with $...$ inside: let math-verify pick the last math expression
        found = parse(text, parsing_timeout=None)
        exprs = [f for f in found if not isinstance(f, str)]
        strings = [f for f in found if isinstance(f, str)]
        return (exprs[0] if exprs else None), (strings[0] if strings else "")
    config = NormalizationConfig(
        basic_latex=True, units=False, malformed_operators=True, nits=True, boxed="none", equations=False
    )
    normalized = normalize_latex(text, config=config).strip()
    for latex in dict.fromkeys((normalized, get_last_eq(normalized))):  # as math_verify.parse does
        real = not (complex_numbers or should_treat_as_complex(latex))
        try:
            return latex2sympy(latex, is_real=real, normalization_config=None), normalized
        except Exception:
            continue
    return None, normalized  # no guessing a number out of unparseable text


def _equal(gold: tuple[Any, str], pred: tuple[Any, str]) -> bool:
    from math_verify import verify

    (g_expr, g_text), (p_expr, p_text) = gold, pred
    if g_text and g_text == p_text:
        return True
    if g_expr is None or p_expr is None:
        return False
    if is_huge(g_expr) or is_huge(p_expr):
        return bool(g_expr == p_expr)
    return bool(
        verify(g_expr, p_expr, allow_set_relation_comp=True, timeout_seconds=None, raise_on_error=True)
    )


def _describe(expr: Any) -> str:
    if expr is None:
        return "<unparsed>"
    return "<huge>" if is_huge(expr) else str(expr)[:200]


def compare_pairs(pairs: list[tuple[str, bool, str, bool]], percent: str) -> list[tuple[str, str, str]]:
    """For each ``(gold, gold_prose, pred, pred_prose)``: ``(outcome, gold_parsed, pred_parsed)``.

    ``outcome`` is ``equal``, ``different``, ``gold_unparsed`` (the reference cannot be read, so
    nothing can be judged) or ``error: ...`` (the comparison itself failed).
    """
    from math_verify.grader import should_treat_as_complex

    _setup()
    _state["percent"] = percent
    results = []
    for gold_text, gold_prose, pred_text, pred_prose in pairs:
        gold: tuple[Any, str] = (None, "")
        pred: tuple[Any, str] = (None, "")
        try:
            complex_numbers = should_treat_as_complex(gold_text) or should_treat_as_complex(pred_text)
            gold = parse_answer(gold_text, gold_prose, complex_numbers)
            pred = parse_answer(pred_text, pred_prose, complex_numbers)
            if _equal(gold, pred):
                outcome = "equal"
            elif gold[0] is None:
                outcome = "gold_unparsed"
            else:
                outcome = "different"
        except Exception as exc:  # reported; the caller makes the verdict unscored
            outcome = f"error: {type(exc).__name__}: {exc}"[:300]
        results.append((outcome, _describe(gold[0]), _describe(pred[0])))
    return results
