"""Minesweeper (Cogito ergo ludo's grid game) with a safe opening (``games/minesweeper-v0``).

The game starts with the start cell's area revealed (it has no neighbouring mine). Each turn the
agent reveals a cell with ``[row col]`` (0-based) or flags one with ``[flag row col]`` (flags are
notes for the agent; a flagged cell can still be revealed). Revealing a mine ends the episode
with reward 0; revealing every safe cell wins (reward 1). Revealing an open cell or naming a cell
off the board is an invalid move (an error observation; it counts against the budget of
``2 * rows * cols`` moves). The oracle is the constraint solver of
:mod:`agentgym.tasks.games.minesweeper_rules`; it may have to guess, so it does not always win.
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
from agentgym.tasks.games.minesweeper_rules import (
    cleared,
    counts,
    flood,
    mines_of,
    opening,
    safe_cells,
    solver_move,
)

RULES = (
    "You play Minesweeper on a {rows} x {cols} board with {mines} mines. '.' is a hidden cell, 'F' a "
    "flag you placed, a digit the number of mines among a revealed cell's eight neighbours. Reveal "
    "every cell without a mine. Reply with one move per turn: [row col] reveals a cell (0-based, e.g. "
    "[2 3]); [flag row col] flags or unflags one. You have {budget} moves."
)
_MOVE = re.compile(r"^(flag\s+)?(\d{1,3})[\s,]+(\d{1,3})$")
#: A reply that is exactly one reveal move: read as the general parse would, in one match.
_PLAIN_REVEAL = re.compile(r"\[(\d{1,3})[ ,]{1,20}(\d{1,3})\]")
#: A cell's displayed symbol, right-aligned in two columns: numbers 0-8, then the other marks.
_NUMBER_MARKS = tuple(f"{n:>2}" for n in range(9))
_HIT, _FLAG, _HIDDEN = " *", " F", " ."


class MinesweeperEnv(BuiltinGameEnv):
    """Clear a generated minefield."""

    def __init__(
        self,
        generator: str = "games/minesweeper",
        difficulty: dict[str, Any] | None = None,
        level: int | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(generator, difficulty, level, split, render_mode)
        self.revealed: dict[Cell, int] = {}
        self.flags: set[Cell] = set()
        self.mines: frozenset[Cell] = frozenset()
        self.numbers: list[list[int]] = []
        self.hit: Cell | None = None
        self._rows = self._cols = self._safe_total = self._budget = 0
        # The board as shown: one symbol per cell, one text per line (header first), the lines
        # to redraw and their joined text, so a step redraws only the rows it changed.
        self._shown: list[list[str]] = []
        self._lines: list[str] = []
        self._dirty: set[int] = set()
        self._grid_text = ""
        self._final_verdict: Verdict | None = None

    @property
    def budget(self) -> int:
        """``2 * rows * cols`` moves."""
        return self._budget if self.task else 0

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._start(options)
        spec = task.spec
        self.mines = mines_of(task.answer)
        self.numbers = counts(self.mines, spec["rows"], spec["cols"])
        self.revealed = opening(spec, self.mines)
        self.flags, self.hit, self._final_verdict = set(), None, None
        self._rows, self._cols = spec["rows"], spec["cols"]
        self._safe_total = safe_cells(spec)
        self._budget = 2 * spec["rows"] * spec["cols"]
        self._shown = [[_HIDDEN] * spec["cols"] for _ in range(spec["rows"])]
        self._lines = ["    " + " ".join(f"{c:>2}" for c in range(spec["cols"]))] + [""] * spec["rows"]
        self._dirty = set(range(spec["rows"]))
        for cell in self.revealed:
            self._show(cell)
        rules = RULES.format(rows=spec["rows"], cols=spec["cols"], mines=spec["mines"], budget=self.budget)
        return [
            Message("system", rules),
            Message("user", self._board("The board (a safe area is open):")),
        ], self._info()

    def _board(self, event: str) -> str:
        if self._dirty:
            lines, shown = self._lines, self._shown
            for r in self._dirty:
                lines[r + 1] = f"{r:>2}  " + " ".join(shown[r])
            self._dirty.clear()
            self._grid_text = "\n".join(lines)
        safe_left = self._safe_total - len(self.revealed)
        return (
            f"{event}\n{self._grid_text}\nSafe cells left: {safe_left}. "
            f"Moves used: {self.moves} of {self._budget}."
        )

    def _show(self, cell: Cell) -> None:
        """Update the displayed symbol of ``cell`` and mark its row for redrawing."""
        if cell == self.hit:
            mark = _HIT
        elif cell in self.revealed:
            mark = _NUMBER_MARKS[self.revealed[cell]]
        else:
            mark = _FLAG if cell in self.flags else _HIDDEN
        self._shown[cell[0]][cell[1]] = mark
        self._dirty.add(cell[0])

    def _step(self, action: Message) -> StepResult:
        text = action.text
        plain = _PLAIN_REVEAL.fullmatch(text)
        if plain is not None:
            flag, cell = False, (int(plain.group(1)), int(plain.group(2)))
        else:
            body = last_bracketed(text)
            match = _MOVE.match(body or text.strip().lower()[:40])
            if match is None:
                return self._unreadable("write [row col] to reveal a cell or [flag row col] to flag one")
            flag, cell = bool(match.group(1)), (int(match.group(2)), int(match.group(3)))
        if not (0 <= cell[0] < self._rows and 0 <= cell[1] < self._cols):
            return self._unreadable(f"cell {cell[0]} {cell[1]} is off the {self._rows} x {self._cols} board")
        if flag:
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
        numbers, revealed, flags, shown, dirty = (
            self.numbers,
            self.revealed,
            self.flags,
            self._shown,
            self._dirty,
        )
        # A numbered cell opens alone; a zero floods (the same set, in the same order, as flood()).
        for new in flood(cell, numbers, self.mines, revealed) if numbers[cell[0]][cell[1]] == 0 else (cell,):
            number = revealed[new] = numbers[new[0]][new[1]]
            flags.discard(new)
            shown[new[0]][new[1]] = _NUMBER_MARKS[number]  # what _show() draws for a revealed cell
            dirty.add(new[0])
        self.won = cleared(self.task.spec, len(revealed))  # type: ignore[union-attr]
        return self._after(
            f"Revealed {cell[0]} {cell[1]}." + (" Every safe cell is open: you win!" if self.won else ""),
            self.won,
        )

    def _after(self, event: str, terminated: bool) -> StepResult:
        truncated = not terminated and self.moves >= self._budget
        over = self.over = terminated or truncated
        board = Message("user", self._board(event))
        reward = 1.0 if self.won else 0.0
        return StepResult([board], reward, terminated, truncated, {}, self.verdict() if over else None)

    def verdict(self) -> Verdict:
        """Passed when every safe cell is revealed without hitting a mine."""
        if self.task is None:
            return super().verdict()
        if self.over and self._final_verdict is not None:
            return self._final_verdict  # the board no longer changes: judged once
        verdict = self._outcome(
            {
                "revealed": len(self.revealed),
                "safe_cells": self._safe_total,
                "hit_mine": self.hit is not None,
            },
            "minesweeper",
        )
        if self.over:
            self._final_verdict = verdict
        return verdict

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
