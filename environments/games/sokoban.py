"""Sokoban (Cogito ergo ludo's grid game) on levels solvable by construction (``games/sokoban-v0``).

The agent pushes boxes onto goals, one move per turn: ``[up]``, ``[down]``, ``[left]``, ``[right]``
(or ``w a s d``, or the bare word). Walking into a wall or pushing a box into a wall or another box
leaves everything in place and still costs a move. Solving ends the episode with reward 1.0; the
episode is truncated after ``budget`` moves (default: 3 x the construction's solution + 10). The
oracle plays a shortest solution from the current position (BFS), or, past its search cap, the
construction's own solution when the position is still on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.core.env import Action, StepResult
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.environments.games.builtin_base import BuiltinGameEnv
from agentgym.tasks.games.common import FROM_LETTER, parse_direction, random_move
from agentgym.tasks.games.sokoban_rules import (
    SokobanState,
    line,
    render_on,
    solve,
    state_from_spec,
    static_grid,
)

RULES = (
    "You play Sokoban. Push every box (X) onto a goal (O). '#' is a wall, '_' floor, 'P' you, '*' a box "
    "on a goal, '+' you on a goal. You push a box by walking into it; you cannot pull boxes or push two "
    "at once. Reply with one move per turn: [up], [down], [left] or [right]. You have {budget} moves."
)


class SokobanEnv(BuiltinGameEnv):
    """Push boxes onto goals on a generated, solvable level."""

    def __init__(
        self,
        generator: str = "games/sokoban",
        difficulty: dict[str, Any] | None = None,
        level: int | None = None,
        split: str = "train",
        render_mode: str | None = None,
        budget_factor: int = 3,
    ) -> None:
        super().__init__(generator, difficulty, level, split, render_mode)
        self.budget_factor = budget_factor
        self.state: SokobanState | None = None
        self._plan: list[str] = []
        self._on_path: dict[Any, str] = {}
        self._plan_at: Any = None
        self._static: list[list[str]] = []

    @property
    def budget(self) -> int:
        """3 x the construction's solution length + 10 moves."""
        return self.budget_factor * len(self.task.answer) + 10 if self.task else 0  # type: ignore[arg-type]

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._start(options)
        self.state = state_from_spec(task.spec)
        self._static = static_grid(self.state, task.spec["size"])
        self._plan = []
        solution = [FROM_LETTER[letter] for letter in task.answer]
        states = line(self.state, solution)[:-1]  # the state before each move
        self._on_path = {state.key(): move for state, move in zip(states, solution, strict=True)}
        obs = [
            Message("system", RULES.format(budget=self.budget)),
            Message("user", self._board("The level:")),
        ]
        return obs, self._info()

    def _board(self, event: str) -> str:
        assert self.state is not None and self.task is not None
        counts = self.state.box_counts()
        return (
            f"{event}\n{render_on(self._static, self.state)}\n"
            f"Boxes on goals: {counts['boxes_on_goals']} of {counts['boxes']}. "
            f"Moves used: {self.moves} of {self.budget}."
        )

    def _step(self, action: Message) -> StepResult:
        assert self.state is not None
        direction = parse_direction(action.text)
        if direction is None:
            return self._unreadable("write one move as [up], [down], [left] or [right]")
        self.moves += 1
        self.state, what = self.state.move(direction)
        self.won = self.state.solved
        event = {
            "moved": f"You moved {direction}.",
            "pushed": f"You pushed a box {direction}.",
            "wall": f"A wall blocks {direction}; nothing moved.",
            "blocked": f"The box cannot move {direction}; nothing moved.",
        }[what]
        truncated = not self.won and self.moves >= self.budget
        text = self._board(("Solved! " if self.won else "") + event)
        if truncated:
            text += "\nYou used all your moves."
        self.over = self.won or truncated
        return StepResult(
            [Message("user", text)],
            reward=1.0 if self.won else 0.0,
            terminated=self.won,
            truncated=truncated,
            info={"event": what},
            verdict=self.verdict() if self.over else None,
        )

    def verdict(self) -> Verdict:
        """Passed when every box is on a goal."""
        if self.state is None:
            return super().verdict()
        return self._outcome(self.state.box_counts(), "sokoban")

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random direction."""
        return random_move(rng)

    def oracle_action(self) -> Action:
        """The next move of a shortest solution (BFS, capped), else of the construction's solution."""
        assert self.state is not None
        key = self.state.key()
        if not self._plan or self._plan_at != key:
            self._plan = solve(self.state, max_states=50_000) or []
            if not self._plan:
                return f"[{self._on_path.get(key, 'up')}]"
        move = self._plan.pop(0)
        self._plan_at = self.state.move(move)[0].key()
        return f"[{move}]"
