"""Maze navigation: a perfect maze (randomized depth-first search), optionally with extra loops.

The maze is stored in the spec as ASCII rows (the layout and the rules of moving, parsing answers
and scoring are in :mod:`.maze_rules`, shared with the multi-turn env). Start and goal are the
ends of a double BFS sweep (a random cell's farthest cell, then that cell's farthest), which in a
perfect maze is a longest path.

Single-turn (``GeneratedTaskEnv``): the whole maze is shown and the answer is a move sequence
(``up right right down``) that must walk from start to goal without crossing a wall. Multi-turn:
:class:`agentgym.environments.puzzles.maze.MazeEnv` shows only the agent's surroundings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.puzzles.maze_rules import (
    DIRECTIONS,
    OPEN,
    WALL,
    Cell,
    MoveFormatError,
    at_goal,
    bfs,
    moves_answer,
    parse_moves,
    path_efficiency,
    progress,
    render_maze,
    shortest_path,
    walk,
)

MAX_SIDE = 60


@dataclass(frozen=True)
class MazeConfig(GeneratorConfig):
    """A ``width`` x ``height`` maze; ``loop_fraction`` of the closed inner walls are knocked down."""

    width: int = 6
    height: int = 6
    loop_fraction: float = 0.0

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(2 <= self.width <= MAX_SIDE, self, "width", f"must be in [2, {MAX_SIDE}]")
        require(2 <= self.height <= MAX_SIDE, self, "height", f"must be in [2, {MAX_SIDE}]")
        ok = isinstance(self.loop_fraction, (int, float)) and not isinstance(self.loop_fraction, bool)
        require(ok and 0.0 <= self.loop_fraction <= 1.0, self, "loop_fraction", "must be a number in [0, 1]")


# ----- maze geometry ------------------------------------------------------------------------------
def carve(rng: np.random.Generator, width: int, height: int, loop_fraction: float = 0.0) -> list[str]:
    """A perfect maze by randomized depth-first search, plus ``loop_fraction`` of the other walls opened."""
    grid = [[WALL] * (2 * width + 1) for _ in range(2 * height + 1)]
    start = (int(rng.integers(height)), int(rng.integers(width)))
    seen = {start}
    stack = [start]
    grid[2 * start[0] + 1][2 * start[1] + 1] = OPEN
    while stack:
        r, c = stack[-1]
        options = [
            (r + dr, c + dc)
            for dr, dc in DIRECTIONS.values()
            if 0 <= r + dr < height and 0 <= c + dc < width and (r + dr, c + dc) not in seen
        ]
        if not options:
            stack.pop()
            continue
        nr, nc = options[int(rng.integers(len(options)))]
        grid[r + nr + 1][c + nc + 1] = OPEN  # the wall between the two cells
        grid[2 * nr + 1][2 * nc + 1] = OPEN
        seen.add((nr, nc))
        stack.append((nr, nc))
    if loop_fraction > 0:
        closed = [
            (y, x)
            for y in range(1, 2 * height)
            for x in range(1, 2 * width)
            if (y + x) % 2 == 1 and grid[y][x] == WALL  # between two cells, not at a corner
        ]
        k = round(loop_fraction * len(closed))
        for i in sorted(rng.choice(len(closed), size=k, replace=False).tolist()):
            y, x = closed[i]
            grid[y][x] = OPEN
    return ["".join(row) for row in grid]


def _farthest(grid: list[str], source: Cell, rng: np.random.Generator) -> Cell:
    found = bfs(grid, source)
    far = max(d for d, _ in found.values())
    ends = sorted(c for c, (d, _) in found.items() if d == far)
    return ends[int(rng.integers(len(ends)))]


# ----- the generator ------------------------------------------------------------------------------
class MazeGenerator(TaskGenerator):
    """Mazes whose answer is a path from S to G; the oracle is a BFS shortest path."""

    id = "puzzles/maze"
    config_cls = MazeConfig
    difficulty_attrs = (
        DifficultyAttr("width", (3, 4, 5, 6, 8, 10, 12, 16, 20), "cells per row"),
        DifficultyAttr("height", (3, 4, 5, 6, 8, 10, 12, 16, 20), "cells per column"),
    )
    instructions = (
        "You solve mazes. The maze is drawn with '#' for walls and '.' for open space; S is the start "
        "and G the goal. Each cell is a '.' at an odd row and odd column of the drawing, and the "
        "character between two cells is either a wall or a passage. One move goes from a cell to a "
        "neighbouring cell (up, down, left or right) through a passage; moves cannot cross walls."
    )
    answer_format = (
        "Give the moves from S to G in order inside answer tags, e.g. <answer>up right right down</answer> "
        "(u/d/l/r also work). The path must end on G and never go through a wall."
    )
    config: MazeConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        grid = carve(rng, c.width, c.height, c.loop_fraction)
        probe = (int(rng.integers(c.height)), int(rng.integers(c.width)))
        start = _farthest(grid, probe, rng)
        goal = _farthest(grid, start, rng)
        spec = {
            "width": c.width,
            "height": c.height,
            "grid": grid,
            "start": list(start),
            "goal": list(goal),
        }
        return spec, shortest_path(grid, start, goal)

    def difficulty(self) -> dict[str, float]:
        """Width, height, cell count and loop fraction."""
        c = self.config
        return {"width": c.width, "height": c.height, "cells": c.width * c.height,
                "loop_fraction": float(c.loop_fraction)}  # fmt: skip

    def prompt(self, task: Task) -> str:
        """The whole maze with S and G marked, and the coordinates of both."""
        s, g = task.spec["start"], task.spec["goal"]
        drawing = render_maze(task.spec["grid"], {tuple(s): "S", tuple(g): "G"})
        return (
            f"A maze of {task.spec['width']} x {task.spec['height']} cells (width x height). "
            f"Start S is cell (row {s[0]}, column {s[1]}); goal G is cell (row {g[0]}, column {g[1]}); "
            f"row 0 is the top, column 0 the left.\n\n{drawing}"
        )

    def verify(self, task: Task, response: str) -> Verdict:
        """Pass when the moves walk from start to goal without crossing a wall; efficiency is a metric."""
        return verify_maze(task, response)

    def reference_response(self, task: Task) -> str:
        """The shortest path found at generation."""
        return moves_answer(list(task.answer))

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The shortest path without its last move (it stops one cell short of the goal)."""
        return moves_answer(list(task.answer)[:-1] or ["up"])

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """As many random moves as the shortest path has."""
        names = list(DIRECTIONS)
        return moves_answer([names[int(i)] for i in rng.integers(4, size=max(1, len(task.answer)))])

    def oracle_response(self, task: Task) -> str:
        """A fresh BFS shortest path from the start."""
        spec = task.spec
        return moves_answer(shortest_path(spec["grid"], tuple(spec["start"]), tuple(spec["goal"])))


def verify_maze(task: Task, response: str) -> Verdict:
    """Score 1.0 when the answer's moves lead from start to goal through passages only, else 0.0."""
    spec = task.spec
    grid, start, goal = spec["grid"], tuple(spec["start"]), tuple(spec["goal"])
    shortest = len(task.answer)
    try:
        moves = parse_moves(response)
    except MoveFormatError as exc:
        return Verdict(0.0, False, kind="maze", details={"format_error": str(exc), "shortest": shortest})
    end, bump = walk(grid, start, moves)
    dist = bfs(grid, goal)
    details: dict[str, Any] = {
        "moves": len(moves),
        "shortest": shortest,
        "progress": progress(dist[end][0], shortest),
        "path_efficiency": 0.0,
    }
    if bump is not None:
        details["feedback"] = f"move {bump + 1} ({moves[bump]}) from cell {list(end)} goes through a wall."
        return Verdict(0.0, False, kind="maze", details=details)
    if not at_goal(end, goal):
        details["feedback"] = f"the moves end at cell {list(end)}, not at the goal {list(goal)}."
        return Verdict(0.0, False, kind="maze", details=details)
    details["path_efficiency"] = path_efficiency(shortest, len(moves))
    return Verdict(1.0, True, kind="maze", details=details)
