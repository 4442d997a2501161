"""Sokoban's rules, shared by the env and the generator: the state, a move, the win, rendering, a solver.

Symbols: ``#`` wall, ``_`` floor, ``O`` goal, ``X`` box, ``*`` box on a goal, ``P`` player,
``+`` player on a goal. A move walks one cell; walking into a box pushes it when the cell beyond
is free; a wall or a second box blocks (nothing moves). The level is solved when every box is on
a goal. :func:`solve` is the oracle's breadth-first search over player moves.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from agentgym.tasks.games.common import DIRECTIONS, Cell

WALL, FLOOR = "#", "_"


@dataclass
class SokobanState:
    """A position: walls and goals are fixed, the player and boxes move."""

    walls: frozenset[Cell]
    goals: frozenset[Cell]
    player: Cell
    boxes: frozenset[Cell]

    @property
    def solved(self) -> bool:
        """True when every box is on a goal (the game is won)."""
        return self.boxes == self.goals

    def box_counts(self) -> dict[str, int]:
        """How many boxes stand on goals, and how many boxes there are (a verdict's details)."""
        return {"boxes_on_goals": len(self.boxes & self.goals), "boxes": len(self.goals)}

    def move(self, direction: str) -> tuple[SokobanState, str]:
        """The state after one move and what happened (``moved``, ``pushed``, ``wall``, ``blocked``)."""
        dr, dc = DIRECTIONS[direction]
        target = (self.player[0] + dr, self.player[1] + dc)
        if target in self.walls:
            return self, "wall"
        if target in self.boxes:
            beyond = (target[0] + dr, target[1] + dc)
            if beyond in self.walls or beyond in self.boxes:
                return self, "blocked"
            boxes = (self.boxes - {target}) | {beyond}
            return SokobanState(self.walls, self.goals, target, frozenset(boxes)), "pushed"
        return SokobanState(self.walls, self.goals, target, self.boxes), "moved"

    def key(self) -> tuple[Cell, tuple[Cell, ...]]:
        """A hashable key of the moving parts."""
        return self.player, tuple(sorted(self.boxes))


def render(state: SokobanState, size: int) -> str:
    """The board as text rows (symbols in the module docstring)."""
    grid = [[WALL if (r, c) in state.walls else FLOOR for c in range(size)] for r in range(size)]
    return _overlay(grid, state)


def static_grid(state: SokobanState, size: int) -> list[list[str]]:
    """Walls, floor and goals (what never moves), for :func:`render_on`."""
    grid = [[WALL if (r, c) in state.walls else FLOOR for c in range(size)] for r in range(size)]
    for r, c in state.goals:
        grid[r][c] = "O"
    return grid


def render_on(static: list[list[str]], state: SokobanState) -> str:
    """:func:`render` from a precomputed :func:`static_grid` (fast: only the moving parts are placed)."""
    return _overlay(static, state)


def _overlay(static: list[list[str]], state: SokobanState) -> str:
    grid = [row[:] for row in static]
    for r, c in state.goals:
        grid[r][c] = "O"
    for r, c in state.boxes:
        grid[r][c] = "*" if (r, c) in state.goals else "X"
    r, c = state.player
    grid[r][c] = "+" if (r, c) in state.goals else "P"
    return "\n".join(" ".join(row) for row in grid)


def state_from_spec(spec: dict[str, Any]) -> SokobanState:
    """The start state of a task spec."""
    return SokobanState(
        frozenset(map(tuple, spec["walls"])),  # type: ignore[arg-type]
        frozenset(map(tuple, spec["goals"])),  # type: ignore[arg-type]
        tuple(spec["player"]),  # type: ignore[arg-type]
        frozenset(map(tuple, spec["boxes"])),  # type: ignore[arg-type]
    )


def line(state: SokobanState, moves: list[str]) -> list[SokobanState]:
    """The states along ``moves`` from ``state``: the start, then the state after each move."""
    states = [state]
    for direction in moves:
        state, _ = state.move(direction)
        states.append(state)
    return states


def solve(state: SokobanState, max_states: int = 200_000) -> list[str] | None:
    """A shortest move sequence (BFS over player moves), or None if none within ``max_states``."""
    start = state.key()
    parents: dict[Any, tuple[Any, str, SokobanState] | None] = {start: None}
    queue = deque([state])
    while queue:
        current = queue.popleft()
        if current.solved:
            moves, key = [], current.key()
            while parents[key] is not None:
                key, move, _ = parents[key]  # type: ignore[misc]
                moves.append(move)
            return moves[::-1]
        for direction in DIRECTIONS:
            nxt, what = current.move(direction)
            if what in ("wall", "blocked"):
                continue
            key = nxt.key()
            if key not in parents:
                parents[key] = (current.key(), direction, nxt)
                if len(parents) > max_states:
                    return None
                queue.append(nxt)
    return None
