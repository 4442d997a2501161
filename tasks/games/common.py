"""Shared pieces of the game generators: moves on a grid, move parsing and the answer block."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import TaskGenerator
from agentgym.verifiers.rule.answer import last_answer_block

MAX_ANSWER_CHARS = 20_000
#: Direction -> (row step, column step).
DIRECTIONS: dict[str, tuple[int, int]] = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
ALIASES = {"u": "up", "d": "down", "l": "left", "r": "right", "w": "up", "s": "down", "a": "left"}
ALIASES |= {"north": "up", "south": "down", "west": "left", "east": "right"} | {d: d for d in DIRECTIONS}
LETTER = {"up": "U", "down": "D", "left": "L", "right": "R"}
FROM_LETTER = {v: k for k, v in LETTER.items()}
_BRACKET = re.compile(r"\[([^\[\]\n]{1,60})\]")
_TOKEN = re.compile(r"[\s,;|>\-\[\]()'\"]+")

Cell = tuple[int, int]


def last_bracketed(text: str) -> str | None:
    """The body of the last ``[...]`` in ``text`` (stripped, lower-case), or None."""
    found = _BRACKET.findall(text[-MAX_ANSWER_CHARS:])
    return found[-1].strip().lower() if found else None


def parse_direction(text: str) -> str | None:
    """A direction from a reply: the last ``[move]``, else the whole reply when it is one direction word."""
    body = last_bracketed(text)
    if body is None:
        body = text.strip().strip(".!").lower()
        if len(body) > 10:
            return None
    return ALIASES.get(body.removeprefix("move").strip(" :"))


def parse_move_string(text: str) -> list[str] | None:
    """The moves of an ``<answer>`` block (``UDLR`` letters or direction words); None when unreadable."""
    block = last_answer_block(text[-MAX_ANSWER_CHARS * 2 :])
    if block is None or len(block) > MAX_ANSWER_CHARS:
        return None
    body = block.strip()
    if body and all(ch in "UDLRudlr" for ch in body):
        return [FROM_LETTER[ch.upper()] for ch in body]
    words = [w for w in _TOKEN.split(body.lower()) if w]
    moves = [ALIASES.get(w) for w in words]
    return None if any(m is None for m in moves) else moves  # type: ignore[return-value]


def neighbours(cell: Cell, rows: int, cols: int) -> list[Cell]:
    """The up-to-four orthogonal neighbours of ``cell`` inside the grid."""
    r, c = cell
    return [(r + dr, c + dc) for dr, dc in DIRECTIONS.values() if 0 <= r + dr < rows and 0 <= c + dc < cols]


def moves_answer_format(example: str) -> str:
    """The answer format of a move-string task (``example``: a sample answer)."""
    return (
        "Give your moves inside <answer></answer> tags as letters U, D, L, R "
        f"(e.g. <answer>{example}</answer>)."
    )


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
