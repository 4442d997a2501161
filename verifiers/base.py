"""The verifier contract, the registry of named verifiers, and the weighted :class:`Rubric`.

``verify(task, response) -> Verdict``. The reference answer is ``task.answer`` (with options in
``task.spec``); a rule verifier is a pure function of the two. A verifier that cannot score
returns a Verdict with ``error`` set ("unscored"), never a silent 0, and never raises into the
caller. Every verifier caps the response size before parsing and runs under a time limit.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from agentgym.core.errors import UnknownIdError, VerifierError
from agentgym.core.loader import load_entry_point
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict

MAX_RESPONSE_CHARS = 200_000


class Verifier:
    """Scores a response against a task. Subclasses implement :meth:`_verify` (or :meth:`_averify`)."""

    name: ClassVar[str] = "verifier"
    #: ``rule`` (pure function of text and task) or ``model`` (asks a judge).
    kind: ClassVar[str] = "rule"
    max_response_chars: int = MAX_RESPONSE_CHARS
    timeout_s: float = 10.0

    def _verify(self, task: Task, response: str) -> Verdict:
        """Score one response (sync verifiers)."""
        raise NotImplementedError

    async def _averify(self, task: Task, response: str) -> Verdict:
        """Score one response (async verifiers override this; the default runs :meth:`_verify`)."""
        return await asyncio.to_thread(self._verify, task, response)

    def _too_long(self, response: str) -> Verdict | None:
        if len(response) > self.max_response_chars:
            return Verdict(
                0.0, False, self.name, {"format_error": f"response longer than {self.max_response_chars}"}
            )
        return None

    async def averify(self, task: Task, response: str) -> Verdict:
        """Score ``response`` with the size cap and time limit; failures become unscored verdicts."""
        if not isinstance(response, str):
            return Verdict.failed(self.name, f"response must be text, got {type(response).__name__}")
        capped = self._too_long(response)
        if capped is not None:
            return capped
        try:
            return await asyncio.wait_for(self._averify(task, response), self.timeout_s)
        except asyncio.TimeoutError:
            return Verdict.failed(self.name, f"verifier timed out after {self.timeout_s:g}s")
        except Exception as exc:  # a failing verifier is unscored, never a silent 0
            return Verdict.failed(self.name, f"{type(exc).__name__}: {exc}"[:500])

    def verify(self, task: Task, response: str) -> Verdict:
        """Synchronous :meth:`averify` (also safe inside a running event loop)."""
        from agentgym.core.agent import run_sync

        return run_sync(self.averify(task, response))


def reference_task(answer: Any, **spec: Any) -> Task:
    """A task holding just a reference answer (for verifying free-form responses)."""
    return Task(family="verify", spec=spec, answer=answer)


@dataclass(frozen=True)
class RubricItem:
    """One named term of a rubric.

    ``weight`` 0 makes it a metric (reported, never scored). ``verifier`` None makes it a term the
    env scores itself and hands to :meth:`Rubric.combine` (its verdict is computed from env state,
    not from the response). ``gate=True`` makes it a multiplicative gate: the weighted sum of the
    other terms is multiplied by its score (its ``weight`` is not used).
    """

    name: str
    verifier: Verifier | None = None
    weight: float = 1.0
    gate: bool = False


class Rubric(Verifier):
    """Named, weighted terms summed into one reward, with the breakdown in the Verdict.

    score = (sum(weight * score) / sum(weight) over positive weights) * (product of gate scores),
    rounded to ``digits`` when given. ``passed`` when every positively weighted term and every
    gate passed, or, with ``pass_threshold``, when the score reaches it. Weight-0 terms are metrics:
    reported, never scored. An unscored positively weighted term or gate makes the whole verdict
    unscored. ``details["items"]`` names every term with its verdict, weight (and ``gate``).
    The verdict's ``kind`` is ``name``.
    """

    name = "rubric"

    def __init__(
        self,
        items: Sequence[RubricItem | tuple[str, Verifier | None, float]],
        *,
        name: str = "rubric",
        pass_threshold: float | None = None,
        digits: int | None = None,
    ) -> None:
        built = [i if isinstance(i, RubricItem) else RubricItem(*i) for i in items]
        if not built:
            raise VerifierError("a rubric needs at least one item")
        names = [i.name for i in built]
        if len(set(names)) != len(names):
            raise VerifierError(f"rubric item names must be unique, got {names}")
        summed = [i for i in built if not i.gate]
        if any(i.weight < 0 for i in summed) or not any(i.weight > 0 for i in summed):
            raise VerifierError("rubric weights must be >= 0 with at least one > 0 (gates aside)")
        self.items = tuple(built)
        self.name = name
        self.pass_threshold, self.digits = pass_threshold, digits
        checked = [i.verifier for i in built if i.verifier is not None]
        self.timeout_s = sum(v.timeout_s for v in checked) + 1.0
        self.max_response_chars = max((v.max_response_chars for v in checked), default=MAX_RESPONSE_CHARS)

    async def _averify(self, task: Task, response: str) -> Verdict:
        env_scored = [i.name for i in self.items if i.verifier is None]
        if env_scored:
            raise VerifierError(f"rubric terms {env_scored} are scored by their env: use combine()")
        verdicts = await asyncio.gather(*(i.verifier.averify(task, response) for i in self.items))  # type: ignore[union-attr]
        return self.combine({i.name: v for i, v in zip(self.items, verdicts, strict=True)})

    def combine(self, verdicts: Mapping[str, Verdict], **details: Any) -> Verdict:
        """The rubric's verdict from one verdict per term (``details`` are added to its details)."""
        missing = [i.name for i in self.items if i.name not in verdicts]
        if missing or len(verdicts) != len(self.items):
            raise VerifierError(f"rubric {self.name!r} needs exactly its terms; missing {missing}")
        breakdown: dict[str, Any] = {}
        for i in self.items:
            breakdown[i.name] = {**verdicts[i.name].to_dict(), "weight": i.weight}
            if i.gate:
                breakdown[i.name]["gate"] = True
        scored = [(i, verdicts[i.name]) for i in self.items if i.weight > 0 and not i.gate]
        gates = [(i, verdicts[i.name]) for i in self.items if i.gate]
        errors = [f"{i.name}: {v.error}" for i, v in (*scored, *gates) if v.unscored]
        if errors:
            return Verdict.failed(self.name, "; ".join(errors), **details, items=breakdown)
        total = sum(i.weight for i, _ in scored)
        score = sum(i.weight * v.score for i, v in scored) / total
        for _, gate in gates:
            score = score * gate.score
        if self.digits is not None:
            score = round(score, self.digits)
        score = min(1.0, score)
        if self.pass_threshold is not None:
            passed = score >= self.pass_threshold
        else:
            passed = all(v.passed for _, v in (*scored, *gates))
        return Verdict(score, passed, self.name, {**details, "items": breakdown})


def term(name: str, score: float, passed: bool | None = None, **details: Any) -> Verdict:
    """The verdict of one env-scored rubric term (``passed`` defaults to ``score == 1``)."""
    return Verdict(float(score), score >= 1.0 if passed is None else bool(passed), name, details)


_REGISTRY: dict[str, str] = {}


def register_verifier(name: str, entry_point: str) -> None:
    """Register ``"package.module:factory"`` under ``name`` (a class or a function returning a Verifier)."""
    if name in _REGISTRY and _REGISTRY[name] != entry_point:
        raise VerifierError(f"verifier {name!r} is already registered")
    _REGISTRY[name] = entry_point


def make_verifier(name: str, **options: Any) -> Verifier:
    """Build the verifier registered under ``name``; unknown names raise with close matches."""
    importlib.import_module("agentgym.verifiers.builtin")
    entry = _REGISTRY.get(name)
    if entry is None:
        raise UnknownIdError("verifier", name, _REGISTRY)
    factory: Callable[..., Verifier] = load_entry_point(entry, f"verifier {name!r}")
    try:
        return factory(**options)
    except TypeError as exc:
        raise VerifierError(f"verifier {name!r}: {exc}") from None


def list_verifiers() -> list[str]:
    """The registered verifier names."""
    importlib.import_module("agentgym.verifiers.builtin")
    return sorted(_REGISTRY)


def verdict_from_score(name: str, score: float, details: Mapping[str, Any] | None = None) -> Verdict:
    """A verdict for a plain score in [0, 1] (passed when it is 1.0)."""
    return Verdict(float(score), score >= 1.0, name, dict(details or {}))
