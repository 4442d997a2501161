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
    """One named, weighted verifier of a rubric; weight 0 makes it a metric."""

    name: str
    verifier: Verifier
    weight: float = 1.0


class Rubric(Verifier):
    """Named, weighted verifiers summed into one reward, with the breakdown in the Verdict.

    score = sum(weight * score) / sum(weight) over positive weights; ``passed`` when every
    positively weighted item passed. Weight-0 items are metrics: reported, never scored. An unscored
    positively weighted item makes the whole verdict unscored.
    """

    name = "rubric"

    def __init__(self, items: Sequence[RubricItem | tuple[str, Verifier, float]]) -> None:
        built = [i if isinstance(i, RubricItem) else RubricItem(*i) for i in items]
        if not built:
            raise VerifierError("a rubric needs at least one item")
        names = [i.name for i in built]
        if len(set(names)) != len(names):
            raise VerifierError(f"rubric item names must be unique, got {names}")
        if any(i.weight < 0 for i in built) or not any(i.weight > 0 for i in built):
            raise VerifierError("rubric weights must be >= 0 with at least one > 0")
        self.items = tuple(built)
        self.timeout_s = sum(i.verifier.timeout_s for i in built) + 1.0
        self.max_response_chars = max(i.verifier.max_response_chars for i in built)

    async def _averify(self, task: Task, response: str) -> Verdict:
        verdicts = await asyncio.gather(*(i.verifier.averify(task, response) for i in self.items))
        breakdown = {
            i.name: {**v.to_dict(), "weight": i.weight} for i, v in zip(self.items, verdicts, strict=True)
        }
        scored = [(i, v) for i, v in zip(self.items, verdicts, strict=True) if i.weight > 0]
        errors = [f"{i.name}: {v.error}" for i, v in scored if v.unscored]
        if errors:
            return Verdict.failed(self.name, "; ".join(errors), items=breakdown)
        total = sum(i.weight for i, _ in scored)
        score = sum(i.weight * v.score for i, v in scored) / total
        return Verdict(min(1.0, score), all(v.passed for _, v in scored), self.name, {"items": breakdown})


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
