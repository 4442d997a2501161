"""Sokoban levels, solvable by construction (reverse play from the solved state, as in gym-sokoban).

A room of ``size`` x ``size`` cells (outer walls included) gets random inner walls (its floor kept
connected), ``boxes`` goals with a box on each, and the player on a free floor cell. Then the
player plays backwards for ``reverse_steps`` steps (longer, until every box has left its goal): it
walks, and pulls a box it stands in front of with probability 1/2. Reversing that walk gives a
forward solution, so every level is solvable; levels whose boxes did not all leave their goals
are drawn again. The task's answer is that solution (``UDLR`` letters, not necessarily the
shortest). Difficulty: ``size`` and ``boxes`` (and the reverse walk's length).

Symbols: ``#`` wall, ``_`` floor, ``O`` goal, ``X`` box, ``*`` box on a goal, ``P`` player,
``+`` player on a goal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, require
from agentgym.tasks.games.common import DIRECTIONS, Cell, MoveStringGenerator, moves_answer_format

MAX_TRIES = 200
MIN_SOLUTION = 3
#: The backward walk goes on (up to this many times ``reverse_steps``) until every box left its goal.
EXTRA_WALK = 10
WALL, FLOOR = "#", "_"


@dataclass(frozen=True)
class SokobanConfig(GeneratorConfig):
    """A ``size`` x ``size`` room with ``boxes`` boxes, scrambled by ``reverse_steps`` backward steps."""

    size: int = 6
    boxes: int = 1
    reverse_steps: int = 40
    inner_walls: int = 3

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(5 <= self.size <= 12, self, "size", "must be in [5, 12]")
        require(1 <= self.boxes <= 5, self, "boxes", "must be in [1, 5]")
        require(5 <= self.reverse_steps <= 1000, self, "reverse_steps", "must be in [5, 1000]")
        require(0 <= self.inner_walls <= (self.size - 2) ** 2 // 3, self, "inner_walls", "is too many")


@dataclass
class SokobanState:
    """A position: walls and goals are fixed, the player and boxes move."""

    walls: frozenset[Cell]
    goals: frozenset[Cell]
    player: Cell
    boxes: frozenset[Cell]

    @property
    def solved(self) -> bool:
        """True when every box is on a goal."""
        return self.boxes == self.goals

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


def _room(rng: np.random.Generator, cfg: SokobanConfig) -> frozenset[Cell]:
    n = cfg.size
    walls = {(r, c) for r in range(n) for c in range(n) if r in (0, n - 1) or c in (0, n - 1)}
    inner = [(r, c) for r in range(1, n - 1) for c in range(1, n - 1)]
    for idx in rng.permutation(len(inner))[: cfg.inner_walls]:
        cell = inner[int(idx)]
        trial = walls | {cell}
        if _connected([x for x in inner if x not in trial]):
            walls = trial
    return frozenset(walls)


def _connected(floor: list[Cell]) -> bool:
    if not floor:
        return False
    cells, seen, queue = set(floor), {floor[0]}, deque([floor[0]])
    while queue:
        r, c = queue.popleft()
        for dr, dc in DIRECTIONS.values():
            nb = (r + dr, c + dc)
            if nb in cells and nb not in seen:
                seen.add(nb)
                queue.append(nb)
    return len(seen) == len(cells)


def reverse_play(rng: np.random.Generator, cfg: SokobanConfig) -> tuple[SokobanState, list[str]] | None:
    """One attempt: a scrambled start state and its forward solution, or None (boxes left on goals)."""
    walls = _room(rng, cfg)
    floor = [(r, c) for r in range(cfg.size) for c in range(cfg.size) if (r, c) not in walls]
    if len(floor) < cfg.boxes + 2:
        return None
    picks = rng.permutation(len(floor))
    goals = frozenset(floor[int(i)] for i in picks[: cfg.boxes])
    player, boxes = floor[int(picks[cfg.boxes])], set(goals)
    names = list(DIRECTIONS)
    backward: list[tuple[str, bool]] = []
    for step_index in range(cfg.reverse_steps * EXTRA_WALK):
        if step_index >= cfg.reverse_steps and not boxes & goals:
            break  # walked long enough and every box has left its goal
        direction = names[int(rng.integers(4))]
        dr, dc = DIRECTIONS[direction]
        target = (player[0] + dr, player[1] + dc)
        if target in walls or target in boxes:
            continue
        behind = (player[0] - dr, player[1] - dc)
        pull = behind in boxes and bool(rng.integers(2))
        if pull:
            boxes.remove(behind)
            boxes.add(player)
        player = target
        backward.append((direction, pull))
    if boxes & goals:
        return None
    opposite = {"up": "down", "down": "up", "left": "right", "right": "left"}
    solution = [opposite[d] for d, _ in reversed(backward)]
    start = SokobanState(walls, goals, player, frozenset(boxes))
    state = start
    for i, move in enumerate(solution):  # cut the walk where it first solves the level
        state, _ = state.move(move)
        if state.solved:
            return (start, solution[: i + 1]) if i + 1 >= MIN_SOLUTION else None
    return None


class SokobanGenerator(MoveStringGenerator):
    """Sokoban levels made by reverse play (solvable by construction); the answer is a solution."""

    id = "games/sokoban"
    family = "games"
    kind = "sokoban"
    config_cls = SokobanConfig
    difficulty_attrs = (
        DifficultyAttr("size", (5, 6, 7, 8, 9), "room side, outer walls included"),
        DifficultyAttr("boxes", (1, 1, 2, 2, 3), "boxes (and goals)"),
        DifficultyAttr("reverse_steps", (20, 40, 60, 80, 120), "length of the backward scramble"),
    )
    instructions = (
        "Push every box (X) onto a goal (O) in this Sokoban room. '#' is a wall, '_' floor, 'P' you, "
        "'*' a box on a goal, '+' you on a goal. You can push one box at a time and never pull."
    )
    answer_format = moves_answer_format("RRUL")

    max_tries = MAX_TRIES
    failure = f"no Sokoban level with every box off its goal in {MAX_TRIES} tries; raise reverse_steps"

    def _attempt(self, rng: np.random.Generator) -> tuple[dict[str, Any], list[str]] | None:
        """A level by :func:`reverse_play` and its solution (None when a box stayed on its goal)."""
        cfg: SokobanConfig = self.config  # type: ignore[assignment]
        made = reverse_play(rng, cfg)
        if made is None:
            return None
        state, solution = made
        spec = {
            "size": cfg.size,
            "walls": sorted(map(list, state.walls)),
            "goals": sorted(map(list, state.goals)),
            "boxes": sorted(map(list, state.boxes)),
            "player": list(state.player),
        }
        return spec, solution

    def prompt(self, task: Task) -> str:
        """The rules, the board and the answer format."""
        board = render(state_from_spec(task.spec), task.spec["size"])
        return f"{self.instructions}\n\n{board}\n\n{self.answer_format}"

    def play(self, task: Task, moves: list[str]) -> Verdict:
        """Play the moves from the start; passed when every box ends on a goal."""
        state = state_from_spec(task.spec)
        for move in moves:
            state, _ = state.move(move)
        on_goal = len(state.boxes & state.goals)
        details = {"moves": len(moves), "boxes_on_goals": on_goal, "boxes": len(state.goals)}
        return Verdict(1.0 if state.solved else 0.0, state.solved, kind=self.kind, details=details)
