"""Tiny eval suites and counting agents shared by the eval tests."""

from __future__ import annotations

from agentgym.agents import OracleAgent, RandomAgent
from agentgym.eval.suites import EvalEntry, EvalSuite


def tiny_suite(name: str = "tiny") -> EvalSuite:
    """Three envs (two single-turn, one multi-turn), two level-0 tasks each: 6 tasks."""
    return EvalSuite(
        name,
        (
            EvalEntry("puzzles/sat-v0", "puzzles/sat@v1", n_levels=1, per_level=2),
            EvalEntry("puzzles/knights-knaves-v0", "puzzles/knights_knaves@v1", n_levels=2, per_level=1),
            EvalEntry("puzzles/maze-v0", "puzzles/maze@v1", {"max_turns": 12}, n_levels=1, per_level=2),
        ),
        "test suite",
    )


class Counting:
    """Wraps a scripted agent, counts its calls; raises KeyboardInterrupt after ``interrupt_after``.

    It is itself a scripted policy: the runner calls its ``scripted_action`` with the env.
    """

    def __init__(self, inner: object, interrupt_after: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.calls = 0
        self.interrupt_after = interrupt_after

    def scripted_action(self, env, context):  # type: ignore[no-untyped-def]
        if self.interrupt_after is not None and self.calls >= self.interrupt_after:
            raise KeyboardInterrupt  # what Ctrl-C does to the event loop
        self.calls += 1
        return self.inner.scripted_action(env, context)  # type: ignore[attr-defined]

    async def act(self, messages, tools=(), context=None):  # type: ignore[no-untyped-def]
        return await self.inner.act(messages, tools, context)  # type: ignore[attr-defined]


def counting_oracle(interrupt_after: int | None = None) -> Counting:
    """An oracle whose calls are counted."""
    return Counting(OracleAgent(), interrupt_after)


def counting_random() -> Counting:
    """A random agent whose calls are counted."""
    return Counting(RandomAgent())
