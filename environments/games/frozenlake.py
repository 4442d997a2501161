"""FrozenLake (Cogito ergo ludo's grid game) on generated maps (``games/frozenlake-v0``).

The agent walks from S to G, one move per turn (``[up]`` ... or ``w a s d``); stepping into a
hole ``H`` ends the episode with reward 0, reaching ``G`` with reward 1. Moving off the edge
leaves the agent in place. With ``slippery=True`` a move goes the intended way with probability
1/3 and to each side with 1/3 (Gymnasium's rule, drawn from the env's seeded RNG). The whole map
is shown. Budget: ``4 * size * size`` moves. The oracle plays a shortest path (non-slippery: it
always wins) or the value-iteration optimal policy (slippery: its win rate is the map's optimal
success probability, measured in ``tests/games``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.core.env import Action, StepResult
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.environments.games.builtin_base import BuiltinGameEnv
from agentgym.tasks.games.common import Cell, parse_direction, random_move
from agentgym.tasks.games.frozenlake_rules import (
    GOAL,
    HOLE,
    START,
    ends_game,
    move,
    optimal_policy,
    shortest_path,
    slip,
    tile,
)

RULES = (
    "You play FrozenLake. Walk from S (top-left) to the goal G without falling into a hole H; F is "
    "safe ice and @ marks you. {slip}Reply with one move per turn: [up], [down], [left] or [right]. "
    "You have {budget} moves."
)
SLIP = "The ice is slippery: a move may carry you sideways instead (1 in 3 goes the way you chose). "


class FrozenLakeEnv(BuiltinGameEnv):
    """Cross a generated frozen lake to the goal."""

    def __init__(
        self,
        generator: str = "games/frozenlake",
        difficulty: dict[str, Any] | None = None,
        level: int | None = None,
        split: str = "train",
        render_mode: str | None = None,
        slippery: bool = False,
    ) -> None:
        super().__init__(generator, difficulty, level, split, render_mode)
        self.slippery = bool(slippery)
        self.pos: Cell = START
        self._policy: dict[Cell, str] | None = None
        self._lines: list[str] = []  # the map's rows as text, without the agent

    @property
    def budget(self) -> int:
        """``4 * size * size`` moves."""
        return 4 * len(self.task.spec["grid"]) ** 2 if self.task else 0

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._start(options)
        self.pos, self._policy = START, None
        self._lines = ["".join(row) for row in task.spec["grid"]]
        rules = RULES.format(slip=SLIP if self.slippery else "", budget=self.budget)
        return [Message("system", rules), Message("user", self._board("The lake:"))], {
            **self._info(),
            "slippery": self.slippery,
        }

    def _board(self, event: str) -> str:
        r, c = self.pos
        rows = self._lines.copy()
        rows[r] = rows[r][:c] + "@" + rows[r][c + 1 :]  # the agent's row, with @ on its cell
        return f"{event}\n" + "\n".join(rows) + f"\nMoves used: {self.moves} of {self.budget}."

    def _step(self, action: Message) -> StepResult:
        assert self.task is not None
        direction = parse_direction(action.text)
        if direction is None:
            return self._unreadable("write one move as [up], [down], [left] or [right]")
        self.moves += 1
        actual = direction
        if self.slippery:
            actual = slip(direction, int(self.np_random.integers(3)))
        grid = self.task.spec["grid"]
        self.pos = move(grid, self.pos, actual)
        landed = tile(grid, self.pos)
        self.won = landed == GOAL
        terminated = ends_game(landed)
        truncated = not terminated and self.moves >= self.budget
        event = (
            f"You moved {actual}"
            + (f" (you slipped; you chose {direction})" if actual != direction else "")
            + "."
        )
        if landed == HOLE:
            event += " You fell into a hole. Game over."
        elif self.won:
            event += " You reached the goal!"
        over = self.over = terminated or truncated
        board = Message("user", self._board(event))
        verdict = self.verdict() if over else None
        return StepResult(
            [board], 1.0 if self.won else 0.0, terminated, truncated, {"moved": actual}, verdict
        )

    def verdict(self) -> Verdict:
        """Passed when the agent reached the goal."""
        if self.task is None:
            return super().verdict()
        return self._outcome({"end": list(self.pos), "slippery": self.slippery}, "frozenlake")

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random direction."""
        return random_move(rng)

    def oracle_action(self) -> Action:
        """A shortest path's next move, or on slippery ice the optimal policy's move."""
        assert self.task is not None
        grid = self.task.spec["grid"]
        if not self.slippery:
            path = shortest_path(grid, self.pos)
            return f"[{path[0] if path else 'up'}]"
        if self._policy is None:
            self._policy = optimal_policy(grid)
        return f"[{self._policy[self.pos]}]"
