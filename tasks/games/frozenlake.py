"""FrozenLake maps with a guaranteed safe path.

A ``size`` x ``size`` lake: start ``S`` top-left, goal ``G`` bottom-right, each other cell a hole
``H`` with probability ``hole_prob`` (else frozen ``F``); maps without a path from S to G are drawn
again. The answer is a shortest path (``UDLR``). The rules (moves, slipping, the end of a game)
and the oracles are in :mod:`.frozenlake_rules`, shared with the env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, require
from agentgym.tasks.games.common import moves_answer_format
from agentgym.tasks.games.frozenlake_rules import GOAL, shortest_path, tile, walk
from agentgym.tasks.games.move_string import MoveStringGenerator

MAX_TRIES = 500


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
        grid = task.spec["grid"]
        cell = walk(grid, moves)
        ok = tile(grid, cell) == GOAL
        return Verdict(
            1.0 if ok else 0.0, ok, kind=self.kind, details={"moves": len(moves), "end": list(cell)}
        )
