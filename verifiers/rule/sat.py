"""Rule verifier for SAT: parse an assignment from the reply and check every clause exactly.

The final answer is the last complete ``<answer>...</answer>`` block. Inside it, either the values of
x1..xn in order (``1 0 1`` / ``T F T`` / ``true false true``) or ``x1=1, x2=0, ...`` pairs naming
every variable. The reward is exact satisfaction; the fraction of satisfied clauses is a metric only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier
from agentgym.verifiers.rule.answer import AnswerFormatError, extract_answer

_PAIR = re.compile(r"x(\d+)\s*[=:]\s*([A-Za-z0-9]+)", re.IGNORECASE)
_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


def _truth(token: str, where: str) -> bool:
    low = token.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise AnswerFormatError(f"{where}: {token[:20]!r} is not a truth value (use 1/0)")


def parse_assignment(text: str, n_vars: int) -> np.ndarray:
    """Parse the final answer of ``text`` into a bool array of length ``n_vars``."""
    body = extract_answer(text)
    pairs = _PAIR.findall(body)
    if pairs:
        values: dict[int, bool] = {}
        for var, token in pairs:
            idx = int(var) if len(var) < 7 else -1
            if not 1 <= idx <= n_vars:
                raise AnswerFormatError(f"x{var[:8]} is not a variable (x1..x{n_vars})")
            value = _truth(token, f"x{idx}")
            if values.get(idx, value) != value:
                raise AnswerFormatError(f"x{idx} is given two different values")
            values[idx] = value
        missing = [i for i in range(1, n_vars + 1) if i not in values]
        if missing:
            raise AnswerFormatError(f"no value for x{missing[0]} ({len(missing)} variable(s) missing)")
        return np.array([values[i] for i in range(1, n_vars + 1)], dtype=bool)
    tokens = re.split(r"[\s,;\[\]()]+", body)
    tokens = [t for t in tokens if t]
    if len(tokens) != n_vars:
        raise AnswerFormatError(f"expected {n_vars} values (x1..x{n_vars}), got {len(tokens)}")
    return np.array([_truth(t, f"value {i + 1}") for i, t in enumerate(tokens)], dtype=bool)


def count_satisfied(clauses: Sequence[Sequence[int]] | np.ndarray, assignment: np.ndarray) -> int:
    """How many clauses ``assignment`` satisfies (literals are signed 1-based variable indices)."""
    lits = np.asarray(clauses, dtype=np.int64)
    if lits.size == 0:
        return 0
    values = assignment[np.abs(lits) - 1]
    return int(((lits > 0) == values).any(axis=1).sum())


def verify_sat(task: Task, response: str) -> Verdict:
    """Score 1.0 when the reply's final assignment satisfies every clause of ``task``, else 0.0."""
    spec = task.spec
    clauses = spec["clauses"]
    try:
        assignment = parse_assignment(response, int(spec["n_vars"]))
    except AnswerFormatError as exc:
        return Verdict(0.0, False, kind="sat", details={"format_error": str(exc), "fraction_satisfied": 0.0})
    satisfied = count_satisfied(clauses, assignment)
    total = len(clauses)
    passed = satisfied == total
    return Verdict(
        1.0 if passed else 0.0,
        passed,
        kind="sat",
        details={"satisfied": satisfied, "clauses": total, "fraction_satisfied": satisfied / total},
    )


class SatVerifier(Verifier):
    """``sat``: the reply's assignment must satisfy every clause of ``task.spec["clauses"]``."""

    name = "sat"

    def _verify(self, task: Task, response: str) -> Verdict:
        return verify_sat(task, response)
