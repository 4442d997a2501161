"""The base of the games whose answer is a move string (``UDLR``), checked by playing it."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import TaskGenerator
from agentgym.tasks.games.common import LETTER, parse_move_string


class MoveStringGenerator(TaskGenerator):
    """A game whose answer is a move string (``UDLR`` letters in ``task.answer``), checked by playing it."""

    #: The verdicts' ``kind``.
    kind: ClassVar[str]
    #: How many times :meth:`_attempt` may try for one task, and the error when no try succeeds.
    max_tries: ClassVar[int]
    failure: ClassVar[str]

    @abstractmethod
    def _attempt(self, rng: np.random.Generator) -> tuple[dict[str, Any], list[str]] | None:
        """One try at a task: its spec and a solution (direction words), or None to try again."""

    @abstractmethod
    def play(self, task: Task, moves: list[str]) -> Verdict:
        """The verdict of playing ``moves`` (direction words) from the task's start."""

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        """The first successful :meth:`_attempt`; the answer is its solution as ``UDLR`` letters."""
        for _ in range(self.max_tries):
            made = self._attempt(rng)
            if made is not None:
                spec, moves = made
                return spec, "".join(LETTER[m] for m in moves)
        raise TaskError(self.failure)

    def verify(self, task: Task, response: str) -> Verdict:
        """Play the answered moves (:meth:`play`); an unreadable answer is a format error."""
        moves = parse_move_string(response)
        if moves is None:
            return Verdict(0.0, False, kind=self.kind, details={"format_error": "no readable <answer> moves"})
        return self.play(task, moves)

    def reference_response(self, task: Task) -> str:
        """The task's answer (a solution)."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The solution without its last move (``U`` when that leaves nothing).

        Wrong for these games: their solutions stop at the move that first wins.
        """
        return f"<answer>{task.answer[:-1] or 'U'}</answer>"
