"""Sokoban levels, solvable by construction (reverse play from the solved state, as in gym-sokoban).

A room of ``size`` x ``size`` cells (outer walls included) gets random inner walls (its floor kept
connected), ``boxes`` goals with a box on each, and the player on a free floor cell. Then the
player plays backwards for ``reverse_steps`` steps (longer, until every box has left its goal): it
walks, and pulls a box it stands in front of with probability 1/2. Reversing that walk gives a
forward solution, so every level is solvable; levels whose boxes did not all leave their goals
are drawn again. The task's answer is that solution (``UDLR`` letters, not necessarily the
shortest). Difficulty: ``size`` and ``boxes`` (and the reverse walk's length).

The rules (moves, the win, rendering, the solver) are in :mod:`.sokoban_rules`, shared with the env.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, require
from agentgym.tasks.games.common import DIRECTIONS, Cell, moves_answer_format
from agentgym.tasks.games.move_string import MoveStringGenerator
from agentgym.tasks.games.sokoban_rules import SokobanState, line, render, state_from_spec

MAX_TRIES = 200
MIN_SOLUTION = 3
#: The backward walk goes on (up to this many times ``reverse_steps``) until every box left its goal.
EXTRA_WALK = 10


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
        state = line(state_from_spec(task.spec), moves)[-1]
        details = {"moves": len(moves), **state.box_counts()}
        return Verdict(1.0 if state.solved else 0.0, state.solved, kind=self.kind, details=details)
