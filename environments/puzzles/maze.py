"""Multi-turn maze navigation under partial observation.

The agent never sees the whole maze. Every observation gives its cell and the goal's cell as
``(row, column)`` (row 0 is the top, column 0 the left) together with the offset to the goal
("3 down, 2 left"), the directions open from its cell, and a window of the maze of ``view_radius``
cells around it (``@`` the agent, ``G`` the goal when in view, ``#`` wall, ``.`` open, a blank
beyond the maze's outer wall). One move per ``move`` tool call (several calls in one reply run in order), or
in plain text ``move: up`` (the last such phrase counts) or a bare direction word. A move into a
wall leaves the agent in place and still counts. Reaching the goal ends the episode with reward
1.0; the episode is truncated after ``max_moves`` moves (default ``2 * cells + shortest``: enough to
explore a perfect maze depth-first and walk back), or by the registry's ``max_turns``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message, tool_result
from agentgym.core.tools import ToolCallError, ToolSpec, object_schema, parse_tool_calls
from agentgym.core.verdict import Verdict
from agentgym.tasks.puzzles.maze_rules import (
    DIRECTIONS,
    Cell,
    at_goal,
    bfs,
    can_move,
    open_directions,
    parse_direction,
    path_efficiency,
    progress,
    shortest_path,
    step,
)
from agentgym.tasks.registry import generator_class
from agentgym.tasks.splits import SPLITS, pose_task, split_of

MOVE = ToolSpec(
    "move",
    "Move one cell in a direction (a move into a wall leaves you in place).",
    object_schema({"direction": {"type": "string", "enum": list(DIRECTIONS)}}),
)
MAX_VIEW_RADIUS = 10
OUTSIDE = " "  # beyond the maze's outer wall
_TEXT_MOVE = re.compile(r"\bmove\s*[:=]?\s*(up|down|left|right)\b", re.IGNORECASE)
INSTRUCTIONS = (
    "You are in a maze of {width} x {height} cells and must reach the goal. You only see the cells "
    "around you: '@' is you, 'G' the goal, '#' a wall, '.' open space, a blank lies outside the maze; "
    "each cell is a '.' at an odd row and column of the view and the character between two cells "
    "is a wall or a passage. "
    "Positions are (row, column), row 0 at the top and column 0 at the left. Move one cell per turn "
    "with the move tool, or write 'move: up' (or down, left, right) in your reply. Moving into a wall "
    "wastes a move. You have at most {budget} moves."
)


class MazeEnv(Env):
    """Walk a generated maze to its goal, seeing only a window around you.

    ``generator`` names the task generator (its spec passes ``puzzles/maze``); the rules come from
    :mod:`agentgym.tasks.puzzles.maze_rules`, which the generator shares.
    """

    family = "puzzles"
    tools = (MOVE,)
    supports_fork = True
    supports_pickle = True
    step_in_thread = False  # a move is a dictionary lookup

    def __init__(
        self,
        generator: str = "puzzles/maze",
        difficulty: dict[str, Any] | None = None,
        split: str = "train",
        view_radius: int = 1,
        max_moves: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        if split not in SPLITS:
            raise EnvError(f"split must be one of {SPLITS}, got {split!r}")
        if not isinstance(view_radius, int) or not 0 <= view_radius <= MAX_VIEW_RADIUS:
            raise EnvError(f"view_radius must be an int in [0, {MAX_VIEW_RADIUS}], got {view_radius!r}")
        if max_moves is not None and (not isinstance(max_moves, int) or max_moves < 1):
            raise EnvError(f"max_moves must be None or an int >= 1, got {max_moves!r}")
        self.generator = generator_class(generator)(**(difficulty or {}))
        self.split = split
        self.view_radius = view_radius
        self.max_moves = max_moves
        self.pos: Cell = (0, 0)
        self.moves = 0
        self.bumps = 0
        self.format_errors = 0
        self.budget = 0

    # ----- episode ------------------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self.task = pose_task(options, self.generator, self.np_random, self.split)
        self.pos = tuple(task.spec["start"])  # type: ignore[assignment]
        self.moves = self.bumps = self.format_errors = 0
        cells = task.spec["width"] * task.spec["height"]
        self.budget = self.max_moves if self.max_moves is not None else 2 * cells + len(task.answer)
        system = INSTRUCTIONS.format(width=task.spec["width"], height=task.spec["height"], budget=self.budget)
        obs = [Message("system", system), Message("user", self._describe("You are at the start."))]
        info = {"difficulty": dict(task.difficulty), "split": split_of(task), "shortest": len(task.answer)}
        return obs, info

    def _step(self, action: Message) -> StepResult:
        if self.task is None:
            raise EnvError("stepped without a task")
        try:
            calls = parse_tool_calls(action, self.tools)
        except ToolCallError as exc:
            return self._error(f"bad tool call: {exc}", action)
        if calls:
            directions = [c.arguments["direction"] for c in calls]
        else:
            direction = _text_direction(action.text)
            if direction is None:
                return self._error("no move found; write 'move: up' (or down, left, right)", action)
            directions = [direction]
        texts = []
        for direction in directions:
            if self.at_goal or self.moves >= self.budget:
                texts.append("Not executed: the episode is over.")
                continue
            texts.append(self._move(direction))
        reward = 1.0 if self.at_goal else 0.0
        terminated = self.at_goal
        truncated = not terminated and self.moves >= self.budget
        if truncated:
            texts[-1] += f"\nYou used all {self.budget} moves without reaching the goal."
        native = bool(action.tool_calls) and all(c.id for c in action.tool_calls)
        if native:
            obs = [
                tool_result(c.id, t, name=MOVE.name) for c, t in zip(action.tool_calls, texts, strict=True)
            ]
        else:
            obs = [Message("user", "\n\n".join(texts))]
        verdict = self.verdict() if terminated or truncated else None
        return StepResult(obs, reward=reward, terminated=terminated, truncated=truncated, verdict=verdict)

    def _move(self, direction: str) -> str:
        self.moves += 1
        if not can_move(self.task.spec["grid"], self.pos, direction):  # type: ignore[union-attr]
            self.bumps += 1
            return self._describe(f"There is a wall {direction}; you stay where you are.")
        self.pos = step(self.pos, direction)
        if self.at_goal:
            shortest = len(self.task.answer)  # type: ignore[union-attr]
            return f"You moved {direction} and reached the goal in {self.moves} moves (shortest: {shortest})."
        return self._describe(f"You moved {direction}.")

    def _error(self, problem: str, action: Message) -> StepResult:
        self.format_errors += 1
        text = f"Your reply could not be read as a move: {problem}."
        if action.tool_calls and all(c.id for c in action.tool_calls):
            obs = [tool_result(c.id, text) for c in action.tool_calls]
        else:
            obs = [Message("user", text)]
        return StepResult(obs, reward=self.format_penalty, info={"action_error": problem})

    # ----- what the agent sees ------------------------------------------------------------------
    @property
    def at_goal(self) -> bool:
        """True when the agent stands on the goal cell."""
        return self.task is not None and at_goal(self.pos, self.task.spec["goal"])

    def _describe(self, event: str) -> str:
        spec = self.task.spec  # type: ignore[union-attr]
        (r, c), (gr, gc) = self.pos, spec["goal"]
        offset = ", ".join(
            f"{abs(n)} {word}"
            for n, word in ((gr - r, "down" if gr > r else "up"), (gc - c, "right" if gc > c else "left"))
            if n
        )
        opened = ", ".join(open_directions(spec["grid"], self.pos)) or "none"
        return (
            f"{event}\nYou are at (row {r}, column {c}); the goal is at (row {gr}, column {gc}): {offset} "
            f"from you.\nOpen directions: {opened}.\nYour surroundings:\n{self._window()}\n"
            f"Moves used: {self.moves} of {self.budget} ({self.bumps} into walls)."
        )

    def _window(self) -> str:
        spec = self.task.spec  # type: ignore[union-attr]
        grid, k = spec["grid"], self.view_radius
        cy, cx = 2 * self.pos[0] + 1, 2 * self.pos[1] + 1
        gy, gx = 2 * spec["goal"][0] + 1, 2 * spec["goal"][1] + 1
        rows = []
        for y in range(cy - 2 * k - 1, cy + 2 * k + 2):
            row = []
            for x in range(cx - 2 * k - 1, cx + 2 * k + 2):
                inside = 0 <= y < len(grid) and 0 <= x < len(grid[0])
                ch = grid[y][x] if inside else OUTSIDE
                row.append("@" if (y, x) == (cy, cx) else "G" if (y, x) == (gy, gx) else ch)
            rows.append("".join(row))
        return "\n".join(rows)

    # ----- judgement and scripted policies ------------------------------------------------------
    def verdict(self) -> Verdict:
        """Passed when the agent is on the goal; steps, shortest path and efficiency as details."""
        if self.task is None:
            return super().verdict()
        shortest = len(self.task.answer)
        remaining = bfs(self.task.spec["grid"], tuple(self.task.spec["goal"]))[self.pos][0]
        passed = self.at_goal
        details = {
            "steps": self.moves,
            "bumps": self.bumps,
            "format_errors": self.format_errors,
            "shortest": shortest,
            "remaining": remaining,
            "progress": progress(remaining, shortest),
            "path_efficiency": path_efficiency(shortest, self.moves) if passed else 0.0,
        }
        return Verdict(1.0 if passed else 0.0, passed, kind="maze", details=details)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random direction, written as ``move: <direction>``."""
        return f"move: {list(DIRECTIONS)[int(rng.integers(4))]}"

    def oracle_action(self) -> Action:
        """The first move of a BFS shortest path from the current cell."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        path = shortest_path(self.task.spec["grid"], self.pos, tuple(self.task.spec["goal"]))
        return f"move: {path[0] if path else 'up'}"


def _text_direction(text: str) -> str | None:
    """The last ``move: <direction>`` in ``text``, or the whole text when it is one direction word."""
    found = _TEXT_MOVE.findall(text)
    if found:
        return found[-1].lower()
    word = text.strip().strip(".!").lower()
    return parse_direction(word) if len(word) > 1 else None  # single letters are too easy to misread
