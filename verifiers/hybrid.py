"""``hybrid``: a rule verifier first, a judge model only on appeal (the Noisy-RLVR appeal mechanism).

1. The rule verifier (default ``math``, built lazily with :func:`make_verifier`) scores the response.
   A rule **pass is final**: no judge sees it.
2. A rule **negative** may be appealed (a deterministic, hash-chosen ``appeal_rate`` share of them).
   The appeal passes the guard first: a degenerate response (empty, master key, gibberish, text
   addressed to the grader; :func:`~agentgym.verifiers.guards.degenerate_reason`) never reaches the
   judge and scores 0 with ``details["guard"]``.
3. The judge (``judge``: a :class:`JudgeVerifier` by default) re-checks the response; when it says
   correct, the negative is **overturned** (unless ``overturn=False``, which only measures).
4. Every scored rule verdict and every appeal outcome feeds :attr:`HybridVerifier.estimator`, a
   :class:`~agentgym.verifiers.noise.NoiseEstimator` of the rule's false-negative rate, for the
   backward/forward corrections of :mod:`agentgym.verifiers.noise`.

``details["path"]`` records the route: ``rule_pass``, ``rule_fail`` (not appealed), ``guard``,
``appeal_upheld``, ``appeal_overturned``, ``appeal_error`` or ``rule_error_judged``, with the rule
verdict under ``details["rule"]`` and the judge's under ``details["appeal"]``. A failed appeal
(judge down, unparsable) makes the verdict unscored (``error`` set, path ``appeal_error``): the
response needed a judge and got none, so a 0 would be a guess. ``on_appeal_error="rule"`` opts into
keeping the rule's negative instead (scored, the failure only in ``details["appeal_error"]``). When
no judge is needed (the rule passed, the appeal was not drawn, or the guard rejected the response)
the verdict stays scored whether or not a judge is reachable. A rule that cannot score (its verdict
unscored) is handed to the judge when ``judge_rule_errors`` is set.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any, Literal

from agentgym.core.agent import Agent
from agentgym.core.errors import ConfigError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.verifiers.base import Verifier, make_verifier
from agentgym.verifiers.guards import degenerate_reason
from agentgym.verifiers.model.judge import JudgeVerifier
from agentgym.verifiers.noise import NoiseEstimator

__all__ = ["HybridVerifier"]

_DEFAULT_RULE_TIMEOUT_S = 30.0


def _appeal_draw(task: Task, response: str) -> float:
    """A uniform number in [0, 1) fixed by (task, response): who gets appealed is reproducible."""
    digest = hashlib.sha256(f"{task.id}\n{response}".encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class HybridVerifier(Verifier):
    """``hybrid``: rule verdict first; rule negatives are appealed to a guarded judge.

    Args:
        rule: a Verifier, or a registered verifier name built lazily (default ``"math"``).
        judge: a Verifier (e.g. :class:`JudgeVerifier`, :class:`GRMVerifier`), or an Agent / agent
            spec wrapped in a :class:`JudgeVerifier` with ``judge_config`` (and ``judge_options``
            for building the agent).
        rule_options: options for a rule given by name.
        appeal_rate: share of rule negatives appealed (chosen by a hash of task and response).
        overturn: apply the judge's overturns (False: appeals only feed the FN estimate).
        judge_rule_errors: let the judge score responses the rule could not score.
        on_appeal_error: what a failed appeal gives: ``"unscored"`` (default) an unscored verdict,
            ``"rule"`` the rule's negative, scored (opt in only where a judge outage must not leave
            verdicts unscored).
        estimator: the FN-rate estimator to feed (a fresh one by default).
    """

    name = "hybrid"
    kind = "model"

    def __init__(
        self,
        rule: Verifier | str = "math",
        judge: Verifier | Agent | str = "bundled",
        *,
        rule_options: Mapping[str, Any] | None = None,
        judge_options: Mapping[str, Any] | None = None,
        judge_config: Mapping[str, Any] | None = None,
        appeal_rate: float = 1.0,
        overturn: bool = True,
        judge_rule_errors: bool = True,
        on_appeal_error: Literal["rule", "unscored"] = "unscored",
        estimator: NoiseEstimator | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if not 0.0 <= appeal_rate <= 1.0:
            raise ConfigError(f"appeal_rate must lie in [0, 1], got {appeal_rate}")
        if on_appeal_error not in ("rule", "unscored"):
            raise ConfigError(f"on_appeal_error must be 'rule' or 'unscored', got {on_appeal_error!r}")
        if isinstance(rule, Verifier):
            if rule_options:
                raise ConfigError("rule_options apply to a rule given by name")
            self._rule: Verifier | None = rule
            self._rule_spec = rule.name
        elif isinstance(rule, str):
            self._rule, self._rule_spec = None, rule
        else:
            raise ConfigError(f"rule must be a Verifier or a verifier name, got {type(rule).__name__}")
        self.rule_options = dict(rule_options or {})
        if isinstance(judge, Verifier):
            if judge_options or judge_config:
                raise ConfigError("judge_options/judge_config apply to a judge given as an Agent or spec")
            self.judge: Verifier = judge
        else:
            self.judge = JudgeVerifier(judge, judge_options=judge_options, **dict(judge_config or {}))
        self.appeal_rate, self.overturn = appeal_rate, overturn
        self.judge_rule_errors, self.on_appeal_error = judge_rule_errors, on_appeal_error
        self.estimator = estimator if estimator is not None else NoiseEstimator()
        rule_timeout = self._rule.timeout_s if self._rule is not None else _DEFAULT_RULE_TIMEOUT_S
        self.timeout_s = timeout_s if timeout_s is not None else rule_timeout + self.judge.timeout_s + 1.0
        self.max_response_chars = max(
            self.judge.max_response_chars, self._rule.max_response_chars if self._rule else 0
        )
        self._lock = threading.Lock()

    @property
    def rule(self) -> Verifier:
        """The rule verifier (built from its name on first use; raises when it is unknown)."""
        with self._lock:
            if self._rule is None:
                self._rule = make_verifier(self._rule_spec, **self.rule_options)
            return self._rule

    def _appealed(self, task: Task, response: str) -> bool:
        return self.appeal_rate >= 1.0 or _appeal_draw(task, response) < self.appeal_rate

    async def _averify(self, task: Task, response: str) -> Verdict:
        try:
            rule = self.rule
        except Exception as exc:  # an unknown or broken rule verifier: unscored, not 0
            return Verdict.failed(self.name, f"rule verifier {self._rule_spec!r} unavailable: {exc}"[:500])
        ruled = await rule.averify(task, response)
        details: dict[str, Any] = {"rule": ruled.to_dict()}
        if ruled.unscored:
            if not self.judge_rule_errors:
                return Verdict.failed(self.name, f"rule: {ruled.error}", path="rule_error", **details)
        elif ruled.passed:
            self.estimator.observe_rule(True)
            return Verdict(ruled.score, True, self.name, {"path": "rule_pass", **details})
        else:
            self.estimator.observe_rule(False)
            if not self._appealed(task, response):
                return Verdict(ruled.score, False, self.name, {"path": "rule_fail", **details})
        return await self._appeal(task, response, ruled, details)

    async def _appeal(self, task: Task, response: str, ruled: Verdict, details: dict[str, Any]) -> Verdict:
        negative = not ruled.unscored
        reason = degenerate_reason(response)
        appeal: Verdict | None = None
        if reason is None:
            appeal = await self.judge.averify(task, response)
            details["appeal"] = appeal.to_dict()
            reason = appeal.details.get("guard") if not appeal.unscored else None
        if reason is not None or appeal is None:  # degenerate: scored 0 without any judge call
            if negative:
                self.estimator.observe_appeal(False)
            return Verdict(0.0, False, self.name, {**details, "path": "guard", "guard": reason})
        if appeal.unscored:
            error = f"appeal failed: {appeal.error}"
            if not negative:
                return Verdict.failed(
                    self.name, f"rule: {ruled.error}; {error}", path="appeal_error", **details
                )
            if self.on_appeal_error == "unscored":
                return Verdict.failed(self.name, error, path="appeal_error", **details)
            return Verdict(
                ruled.score, False, self.name, {**details, "path": "appeal_error", "appeal_error": error}
            )
        if not negative:
            return Verdict(appeal.score, appeal.passed, self.name, {**details, "path": "rule_error_judged"})
        self.estimator.observe_appeal(appeal.passed)
        if not appeal.passed:
            return Verdict(ruled.score, False, self.name, {**details, "path": "appeal_upheld"})
        if not self.overturn:
            return Verdict(
                ruled.score, False, self.name, {**details, "path": "appeal_overturned", "applied": False}
            )
        return Verdict(
            appeal.score, True, self.name, {**details, "path": "appeal_overturned", "applied": True}
        )
