"""FrozenLake maps with a guaranteed safe path, and the optimal policy on a known map (the oracle).

A ``size`` x ``size`` lake: start ``S`` top-left, goal ``G`` bottom-right, each other cell a hole
``H`` with probability ``hole_prob`` (else frozen ``F``); maps without a path from S to G are drawn
again. The answer is a shortest path (``UDLR``). On the slippery lake (Gymnasium's rule) a move
goes the intended way with probability 1/3 and to each perpendicular side with 1/3; moving off
the edge leaves the player in place. The oracle plays the optimal policy by value iteration over
the known map (on a non-slippery lake: a shortest path, which always wins).
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

MAX_TRIES = 500
PERPENDICULAR = {
    "up": ("left", "right"),
    "down": ("right", "left"),
    "left": ("down", "up"),
    "right": ("up", "down"),
}


@dataclass(frozen=True)
class FrozenLakeConfig(GeneratorConfig):
    """A ``size`` x ``size`` lake with holes drawn with probability ``hole_prob``."""

    size: int = 4
    hole_prob: float = 0.2

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(2 <= self.size <= 20, self, "size", "must be in [2, 20]")
        ok = isinstance(self.hole_prob, (int, float)) and not isinstance(self.hole_prob, bool)
        require(ok and 0.0 <= self.hole_prob <= 0.6, self, "hole_prob", "must be a number in [0, 0.6]")


def move(grid: list[str], cell: Cell, direction: str) -> Cell:
    """Where a move from ``cell`` lands (the edge stops it)."""
    dr, dc = DIRECTIONS[direction]
    r, c = cell[0] + dr, cell[1] + dc
    return (r, c) if 0 <= r < len(grid) and 0 <= c < len(grid[0]) else cell


def shortest_path(grid: list[str], start: Cell) -> list[str] | None:
    """A shortest hole-free path from ``start`` to G (BFS), or None."""
    n = len(grid)
    goal = (n - 1, len(grid[0]) - 1)
    parents: dict[Cell, tuple[Cell, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            path = []
            while parents[cell] is not None:
                cell, d = parents[cell]  # type: ignore[misc]
                path.append(d)
            return path[::-1]
        for d in DIRECTIONS:
            nxt = move(grid, cell, d)
            if nxt not in parents and grid[nxt[0]][nxt[1]] != "H":
                parents[nxt] = (cell, d)
                queue.append(nxt)
    return None


def optimal_policy(grid: list[str], sweeps: int = 2000, tol: float = 1e-10) -> dict[Cell, str]:
    """The best move per cell on the slippery lake (value iteration; value = chance to reach G)."""
    rows, cols = len(grid), len(grid[0])
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    names = list(DIRECTIONS)
    nxt = np.array([[r2 * cols + c2 for r2, c2 in (move(grid, cell, d) for d in names)] for cell in cells])
    outs = [[names.index(o) for o in (d, *PERPENDICULAR[d])] for d in names]
    tiles = np.array([grid[r][c] for r, c in cells])
    free = (tiles != "H") & (tiles != "G")
    value = (tiles == "G").astype(float)
    q = np.zeros((len(cells), 4))
    for _ in range(sweeps):
        for a, (o1, o2, o3) in enumerate(outs):
            q[:, a] = (value[nxt[:, o1]] + value[nxt[:, o2]] + value[nxt[:, o3]]) / 3
        new = np.where(free, q.max(axis=1), value)
        delta = float(np.abs(new - value).max())
        value = new
        if delta < tol:
            break
    best = np.argmax(np.round(q, 12), axis=1)  # ties: the first direction in DIRECTIONS order
    return {cell: names[int(best[i])] for i, cell in enumerate(cells)}


class FrozenLakeGenerator(MoveStringGenerator):
    """FrozenLake maps with at least one safe path; the answer is a shortest path."""

    id = "games/frozenlake"
    family = "games"
    kind = "frozenlake"
    config_cls = FrozenLakeConfig
    difficulty_attrs = (
        DifficultyAttr("size", (3, 4, 5, 6, 8), "lake side"),
        DifficultyAttr("hole_prob", (0.1, 0.2, 0.25, 0.3, 0.35), "chance of a hole per cell"),
    )
    instructions = (
        "Walk from S (top-left) to G (bottom-right) across the frozen lake without stepping into a "
        "hole H (F is safe ice)."
    )
    answer_format = moves_answer_format("RRDD")

    max_tries = MAX_TRIES
    failure = f"no FrozenLake map with a path in {MAX_TRIES} tries; lower hole_prob"

    def _attempt(self, rng: np.random.Generator) -> tuple[dict[str, Any], list[str]] | None:
        """A map with holes drawn at ``hole_prob``, and a shortest path (None when holes cut every path)."""
        cfg: FrozenLakeConfig = self.config  # type: ignore[assignment]
        n = cfg.size
        holes = rng.random((n, n)) < cfg.hole_prob
        grid = [
            "".join(
                "S" if (r, c) == (0, 0) else "G" if (r, c) == (n - 1, n - 1) else "H" if holes[r, c] else "F"
                for c in range(n)
            )
            for r in range(n)
        ]
        path = shortest_path(grid, (0, 0))
        return ({"grid": grid}, path) if path else None

    def prompt(self, task: Task) -> str:
        """The rules, the map and the answer format."""
        return f"{self.instructions}\n\n" + "\n".join(task.spec["grid"]) + f"\n\n{self.answer_format}"

    def play(self, task: Task, moves: list[str]) -> Verdict:
        """Walk the moves (non-slippery); passed when they reach G without a hole."""
        grid, cell = task.spec["grid"], (0, 0)
        for d in moves:
            cell = move(grid, cell, d)
            if grid[cell[0]][cell[1]] in "HG":
                break
        ok = grid[cell[0]][cell[1]] == "G"
        return Verdict(
            1.0 if ok else 0.0, ok, kind=self.kind, details={"moves": len(moves), "end": list(cell)}
        )
