"""Minesweeper (Cogito ergo ludo's grid game) with a safe opening (``games/minesweeper-v0``).

The game starts with the start cell's area revealed (it has no neighbouring mine). Each turn the
agent reveals a cell with ``[row col]`` (0-based) or flags one with ``[flag row col]`` (flags are
notes for the agent; a flagged cell can still be revealed). Revealing a mine ends the episode
with reward 0; revealing every safe cell wins (reward 1). Revealing an open cell or naming a cell
off the board is an invalid move (an error observation; it counts against the budget of
``2 * rows * cols`` moves). The oracle is the constraint solver of
:mod:`agentgym.tasks.games.minesweeper`; it may have to guess, so it does not always win.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from agentgym.core.env import Action, StepResult
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.environments.games.builtin_base import BuiltinGameEnv
from agentgym.tasks.games.common import Cell, last_bracketed
from agentgym.tasks.games.minesweeper import MinesweeperGenerator, counts, flood, solver_move

RULES = (
    "You play Minesweeper on a {rows} x {cols} board with {mines} mines. '.' is a hidden cell, 'F' a "
    "flag you placed, a digit the number of mines among a revealed cell's eight neighbours. Reveal "
    "every cell without a mine. Reply with one move per turn: [row col] reveals a cell (0-based, e.g. "
    "[2 3]); [flag row col] flags or unflags one. You have {budget} moves."
)
_MOVE = re.compile(r"^(flag\s+)?(\d{1,3})[\s,]+(\d{1,3})$")


class MinesweeperEnv(BuiltinGameEnv):
    """Clear a generated minefield."""

    generator_cls = MinesweeperGenerator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.revealed: dict[Cell, int] = {}
        self.flags: set[Cell] = set()
        self.mines: frozenset[Cell] = frozenset()
        self.numbers: list[list[int]] = []
        self.hit: Cell | None = None
        self._header = ""
        self._shown: list[list[str]] = []

    @property
    def budget(self) -> int:
        """``2 * rows * cols`` moves."""
        return 2 * self.task.spec["rows"] * self.task.spec["cols"] if self.task else 0

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._start(options)
        spec = task.spec
        self.mines = frozenset(tuple(m) for m in task.answer)  # type: ignore[misc]
        self.numbers = counts(self.mines, spec["rows"], spec["cols"])
        self.revealed = MinesweeperGenerator.opening(self.generator, task)
        self.flags, self.hit = set(), None
        self._header = "    " + " ".join(f"{c:>2}" for c in range(spec["cols"]))
        self._shown = [[" ." for _ in range(spec["cols"])] for _ in range(spec["rows"])]
        for cell in self.revealed:
            self._show(cell)
        rules = RULES.format(rows=spec["rows"], cols=spec["cols"], mines=spec["mines"], budget=self.budget)
        return [
            Message("system", rules),
            Message("user", self._board("The board (a safe area is open):")),
        ], self._info()

    def _board(self, event: str) -> str:
        spec = self.task.spec  # type: ignore[union-attr]
        rows = [self._header] + [f"{r:>2}  " + " ".join(row) for r, row in enumerate(self._shown)]
        safe_left = spec["rows"] * spec["cols"] - spec["mines"] - len(self.revealed)
        return (
            f"{event}\n"
            + "\n".join(rows)
            + f"\nSafe cells left: {safe_left}. Moves used: {self.moves} of {self.budget}."
        )

    def _show(self, cell: Cell) -> None:
        """Update the displayed symbol of ``cell`` (kept as a grid so a step renders in one join)."""
        if cell == self.hit:
            mark = "*"
        elif cell in self.revealed:
            mark = str(self.revealed[cell])
        else:
            mark = "F" if cell in self.flags else "."
        self._shown[cell[0]][cell[1]] = f"{mark:>2}"

    def _step(self, action: Message) -> StepResult:
        spec = self.task.spec  # type: ignore[union-attr]
        body = last_bracketed(action.text)
        match = _MOVE.match(body or action.text.strip().lower()[:40])
        if match is None:
            return self._unreadable("write [row col] to reveal a cell or [flag row col] to flag one")
        cell = (int(match.group(2)), int(match.group(3)))
        if not (0 <= cell[0] < spec["rows"] and 0 <= cell[1] < spec["cols"]):
            return self._unreadable(
                f"cell {cell[0]} {cell[1]} is off the {spec['rows']} x {spec['cols']} board"
            )
        if match.group(1):
            self.moves += 1
            self.flags ^= {cell}
            self._show(cell)
            event = f"{'Flagged' if cell in self.flags else 'Unflagged'} {cell[0]} {cell[1]}."
            return self._after(event, False)
        if cell in self.revealed:
            return self._unreadable(f"cell {cell[0]} {cell[1]} is already revealed")
        self.moves += 1
        if cell in self.mines:
            self.hit = cell
            self._show(cell)
            return self._after(f"Boom! {cell[0]} {cell[1]} was a mine. Game over.", True)
        for new in flood(cell, self.numbers, self.mines, set(self.revealed)):
            self.revealed[new] = self.numbers[new[0]][new[1]]
            self.flags.discard(new)
            self._show(new)
        self.won = len(self.revealed) == spec["rows"] * spec["cols"] - spec["mines"]
        return self._after(
            f"Revealed {cell[0]} {cell[1]}." + (" Every safe cell is open: you win!" if self.won else ""),
            self.won,
        )

    def _after(self, event: str, terminated: bool) -> StepResult:
        truncated = not terminated and self.moves >= self.budget
        self.over = terminated or truncated
        return StepResult(
            [Message("user", self._board(event))],
            reward=1.0 if self.won else 0.0,
            terminated=terminated,
            truncated=truncated,
            verdict=self.verdict() if self.over else None,
        )

    def verdict(self) -> Verdict:
        """Passed when every safe cell is revealed without hitting a mine."""
        if self.task is None:
            return super().verdict()
        safe = self.task.spec["rows"] * self.task.spec["cols"] - self.task.spec["mines"]
        return self._outcome(
            {"revealed": len(self.revealed), "safe_cells": safe, "hit_mine": self.hit is not None},
            "minesweeper",
        )

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random hidden cell."""
        spec = self.task.spec  # type: ignore[union-attr]
        hidden = [
            (r, c) for r in range(spec["rows"]) for c in range(spec["cols"]) if (r, c) not in self.revealed
        ]
        r, c = hidden[int(rng.integers(len(hidden)))] if hidden else (0, 0)
        return f"[{r} {c}]"

    def oracle_action(self) -> Action:
        """The constraint solver's cell (certain when it can be, else the least likely to hold a mine)."""
        spec = self.task.spec  # type: ignore[union-attr]
        (r, c), _, _ = solver_move(spec["rows"], spec["cols"], spec["mines"], self.revealed)
        return f"[{r} {c}]"
