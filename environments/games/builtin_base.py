"""The shared shape of the built-in games: a generator-posed task, a move budget, a verdict.

Each game draws its task from the generator its spec names (``generator``, an id built with
:func:`agentgym.tasks.registry.generator_class`; ``difficulty`` overrides the config, ``level``
picks a difficulty level, ``split`` keeps held-out tasks out of training), or plays
``options["task"]``. A game module imports its rules module (``tasks/games/<game>_rules.py``),
never its generator module. Moves are plain text: the last ``[...]`` in the reply (TextArena's style),
or a bare move word. A reply without a readable move is an error observation that costs
``format_penalty`` and counts against the move budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentgym.core.env import Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.registry import generator_class
from agentgym.tasks.splits import SPLITS, pose_task, split_of

if TYPE_CHECKING:
    pass


class BuiltinGameEnv(Env):
    """Base of the built-in games (subclasses name their default ``generator`` and play the rules)."""

    family = "games"
    supports_fork = True
    supports_pickle = True
    step_in_thread = False  # moves are dictionary lookups
    max_action_chars = 20_000

    def __init__(
        self,
        generator: str | None = None,
        difficulty: dict[str, Any] | None = None,
        level: int | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        if split not in SPLITS:
            raise EnvError(f"split must be one of {SPLITS}, got {split!r}")
        if level is not None and (not isinstance(level, int) or level < 0):
            raise EnvError(f"level must be None or an int >= 0, got {level!r}")
        if generator is None:
            raise EnvError(f"{type(self).__name__} needs a generator id (its spec names one)")
        cls = generator_class(generator)
        overrides = dict(difficulty or {})
        self.generator = cls.at_level(level, **overrides) if level is not None else cls(**overrides)
        self.split = split
        self.moves = 0
        self.format_errors = 0
        self.won = False
        self.over = False

    def _pose(self, options: dict[str, Any]) -> Task:
        return pose_task(options, self.generator, self.np_random, self.split)

    def _start(self, options: dict[str, Any]) -> Task:
        self.task = self._pose(options)
        self.moves = self.format_errors = 0
        self.won = self.over = False
        return self.task

    def _info(self) -> dict[str, Any]:
        assert self.task is not None
        return {"difficulty": dict(self.task.difficulty), "split": split_of(self.task)}

    def _unreadable(self, problem: str) -> StepResult:
        self.format_errors += 1
        self.moves += 1
        truncated = self.moves >= self.budget
        if truncated:
            self.over = True
        text = f"Invalid move: {problem}" + ("\nYou have no moves left." if truncated else "")
        verdict = self.verdict() if truncated else None
        info = {"action_error": problem}
        return StepResult([Message("user", text)], self.format_penalty, False, truncated, info, verdict)

    @property
    def budget(self) -> int:
        """The episode's move budget (subclasses define it from the task)."""
        raise NotImplementedError

    def _outcome(self, details: dict[str, Any], kind: str) -> Verdict:
        details = {"moves": self.moves, "format_errors": self.format_errors, **details}
        return Verdict(1.0 if self.won else 0.0, self.won, kind=kind, details=details)
