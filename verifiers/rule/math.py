r"""``math``: the reply's final answer must equal the reference answer as mathematics.

Pipeline, cheapest first:

1. **Extraction** (:func:`~agentgym.verifiers.rule.extract.extract_final`): the last complete
   ``\boxed{}`` / ``<answer>`` block. No answer, an unterminated box after it, or several different
   answers fail (score 0, ``format_error`` in the details). Different *strings* that are provably
   the same value (``\frac12`` and ``0.5``) pass only if every one of them equals the reference.
2. **Cleaning and pre-screen** (:func:`~agentgym.verifiers.rule.math_text.clean_answer`): delimiters,
   "The answer is", unit words; answers longer than ``max_answer_chars`` or nested deeper than 50
   fail before any parsing.
3. **In-process fast path**: equal normalized strings pass; two plain numbers (integers, decimals,
   fractions, ``1,234``, ``1.5e-3``) are compared exactly with :class:`fractions.Fraction`.
4. **Sympy** (:mod:`~agentgym.verifiers.rule.math_sympy`, in a killable worker process, with a time
   limit per call): LaTeX, radicals, intervals, sets, equations (``x = 3`` vs ``3``), matrices, via
   math-verify with exact numeric equality (``1/2004!`` != ``1/2006!``). A timeout, a worker
   failure or an unreadable reference makes the verdict *unscored* (``error`` set), never a 0.

Decisions: a decimal answer equals an exact one when it agrees to 6 places and within relative
1e-5 (``0.333333`` = 1/3, ``0.3333`` != 1/3). ``percent="lenient"`` (default) reads ``50\%`` as
both 50 and 0.5; ``percent="value"`` only as 0.5. A list reference holds accepted alternatives.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from agentgym.core.errors import VerifierError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.limits import LimitExceeded, WorkerPool, shared_pool
from agentgym.verifiers.rule import math_sympy
from agentgym.verifiers.rule.extract import FinalAnswerError, extract_final, normalize_answer
from agentgym.verifiers.rule.math_text import NumberLiteral, clean_answer, floats_close, parse_number

__all__ = [
    "MathVerifier",
    "gold_alternatives",
    "math_pool",
    "numbers_equal",
    "quick_equal",
    "sympy_compare",
]

PERCENT_MODES = ("lenient", "value")
MAX_DEPTH = 16
MAX_RECONCILE = 4
_PRELOAD = ("sympy", "math_verify", "agentgym.verifiers.rule.math_sympy")
_warm_lock = threading.Lock()
_warm_pools: set[int] = set()


def math_pool() -> WorkerPool:
    """The shared sympy worker pool, every worker warmed up once (imports done) before first use."""
    pool = shared_pool(preload=_PRELOAD)
    with _warm_lock:
        if id(pool) not in _warm_pools:
            for _ in range(pool.size):  # the idle queue is FIFO: each call reaches the next worker
                pool.call(math_sympy.ping, timeout=60.0)
            _warm_pools.add(id(pool))
    return pool


def gold_alternatives(answer: Any) -> list[str]:
    """The accepted reference answers as text (a list reference holds alternatives)."""
    values = list(answer) if isinstance(answer, (list, tuple)) else [answer]
    texts = []
    for value in values:
        if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
            raise VerifierError(f"math needs a text or number reference answer, got {value!r:.60}")
        texts.append(value if isinstance(value, str) else repr(value))
    if not texts or not all(t.strip() for t in texts):
        raise VerifierError("the reference answer is empty")
    return texts


def _values(number: NumberLiteral, other: NumberLiteral, percent: str) -> list[Any]:
    if not number.percent or other.percent:
        return [number.value]
    as_value = number.value / 100
    return [number.value, as_value] if percent == "lenient" else [as_value]


def numbers_equal(gold: NumberLiteral, pred: NumberLiteral, percent: str = "lenient") -> bool:
    """Exact equality of two plain numbers; a decimal on either side uses the decimal rule."""
    decimal = gold.decimal or pred.decimal
    for g in _values(gold, pred, percent):
        for p in _values(pred, gold, percent):
            if g == p or (decimal and floats_close(g, p)):
                return True
    return False


def quick_equal(gold: str, pred: str, percent: str = "lenient") -> bool | None:
    """Decide cleaned ``gold`` vs ``pred`` without sympy when possible (None: needs sympy)."""
    if normalize_answer(gold) == normalize_answer(pred):
        return True
    g, p = parse_number(gold), parse_number(pred)
    if g is None or p is None:
        return None
    return numbers_equal(g, p, percent)


async def sympy_compare(
    pairs: Sequence[tuple[str, str]], percent: str, timeout_s: float
) -> list[tuple[str, str, str]]:
    """Compare cleaned ``(gold, pred)`` pairs with sympy in the worker pool (one call, one time limit).

    Returns ``(outcome, gold_parsed, pred_parsed)`` per pair (see :func:`math_sympy.compare_pairs`);
    raises LimitExceeded when the call overruns ``timeout_s`` or its worker dies.
    """
    jobs = [(g, _prose(g), p, _prose(p)) for g, p in pairs]
    pool = await asyncio.to_thread(math_pool)
    results: list[tuple[str, str, str]] = await pool.acall(
        math_sympy.compare_pairs, jobs, percent, timeout=timeout_s
    )
    return results


def _depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth = max(0, depth - 1)
    return deepest


def _prose(text: str) -> bool:
    return "$" in text.replace("\\$", "") or "\\(" in text or "\\[" in text


class MathVerifier(Verifier):
    """``math``: the final answer equals ``task.answer`` as mathematics (see the module docstring)."""

    name = "math"

    def __init__(
        self,
        *,
        compare_timeout_s: float = 5.0,
        percent: str = "lenient",
        max_answer_chars: int = 1000,
        reconcile: bool = True,
    ) -> None:
        if percent not in PERCENT_MODES:
            raise VerifierError(f"percent must be one of {PERCENT_MODES}, got {percent!r}")
        if compare_timeout_s <= 0 or max_answer_chars <= 0:
            raise VerifierError("compare_timeout_s and max_answer_chars must be positive")
        self.compare_timeout_s = compare_timeout_s
        self.percent = percent
        self.max_answer_chars = max_answer_chars
        self.reconcile = reconcile
        self.timeout_s = compare_timeout_s + 60.0  # room for the one-off worker warm-up

    def _fail(self, message: str, **details: Any) -> Verdict:
        return Verdict(0.0, False, self.name, {"format_error": message, **details})

    async def _averify(self, task: Task, response: str) -> Verdict:
        golds = [clean_answer(g) for g in gold_alternatives(task.answer)]
        try:
            final = extract_final(response)
            raw_preds, details = [final.text], {"extracted": final.text, "source": final.source}
        except FinalAnswerError as exc:
            if not (exc.reason == "conflict" and self.reconcile and len(exc.candidates) <= MAX_RECONCILE):
                return self._fail(str(exc), reason=exc.reason)
            raw_preds, details = (
                list(exc.candidates),
                {"extracted": list(exc.candidates), "source": "several"},
            )
        preds = [clean_answer(p) for p in raw_preds]
        for pred in preds:
            if len(pred) > self.max_answer_chars:
                return self._fail(
                    f"the final answer is longer than {self.max_answer_chars} characters", **details
                )
            if _depth(pred) > MAX_DEPTH:
                return self._fail(f"the final answer is nested deeper than {MAX_DEPTH}", **details)
        return await self._judge(golds, preds, details)

    async def _judge(self, golds: Sequence[str], preds: Sequence[str], details: dict[str, Any]) -> Verdict:
        """Pass when, for some accepted reference, every candidate answer equals it."""
        outcomes: dict[tuple[int, int], str] = {}
        pending: list[tuple[int, int]] = []
        for gi, gold in enumerate(golds):
            for pi, pred in enumerate(preds):
                quick = quick_equal(gold, pred, self.percent)
                if quick is None:
                    pending.append((gi, pi))
                else:
                    outcomes[gi, pi] = "equal" if quick else "different"
        parsed: list[tuple[str, str]] = []
        if pending:
            pairs = [(golds[g], preds[p]) for g, p in pending]
            try:
                results = await sympy_compare(pairs, self.percent, self.compare_timeout_s)
            except LimitExceeded as exc:
                return Verdict.failed(self.name, f"math comparison stopped: {exc}", **details)
            for key, (outcome, gold_parsed, pred_parsed) in zip(pending, results, strict=True):
                outcomes[key] = outcome
                parsed.append((gold_parsed, pred_parsed))
            details["parsed"] = parsed[:MAX_RECONCILE]
        details["path"] = "sympy" if pending else "text"
        for gi in range(len(golds)):
            if all(outcomes[gi, pi] == "equal" for pi in range(len(preds))):
                return Verdict(1.0, True, self.name, {**details, "gold": golds[gi]})
        details["gold"] = golds[0] if len(golds) == 1 else list(golds)
        errors = sorted({o for o in outcomes.values() if o.startswith("error")})
        if errors:
            return Verdict.failed(self.name, f"math comparison failed: {errors[0]}", **details)
        unread = [golds[gi] for (gi, _), o in outcomes.items() if o == "gold_unparsed"]
        if unread:
            return Verdict.failed(self.name, f"the reference {unread[0][:80]!r} cannot be parsed", **details)
        return Verdict(0.0, False, self.name, details)
