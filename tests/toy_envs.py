"""Small envs used by the core tests: a guessing game, two-player Nim, and deliberately broken envs."""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np

from agentgym.core.env import Env, StepResult
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict


class GuessEnv(Env):
    """Guess a hidden number in [1, 20]; the env answers higher/lower. Multi-turn, has an oracle."""

    family = "toy"
    supports_fork = True
    supports_pickle = True
    step_in_thread = False

    def __init__(self, high: int = 20, step_delay: float = 0.0, render_mode: str | None = None) -> None:
        super().__init__(render_mode)
        self.high = high
        self.step_delay = step_delay

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        target = int(self.np_random.integers(1, self.high + 1))
        self.task = Task("toy", {"high": self.high, "target": target}, answer=target)
        self.lo, self.hi = 1, self.high
        return [
            Message("system", "Guess the number."),
            Message("user", f"Between 1 and {self.high}?"),
        ], {}

    def _step(self, action: Message) -> StepResult:
        if self.step_delay:
            time.sleep(self.step_delay)
        m = re.search(r"-?\d+", action.text)
        if not m:
            return StepResult([Message("user", "Say a number.")], reward=0.0)
        guess, target = int(m.group()), self.task.answer
        if guess == target:
            v = Verdict(1.0, True, "exact")
            return StepResult([Message("user", "Correct!")], reward=1.0, terminated=True, verdict=v)
        if guess < target:
            self.lo = max(self.lo, guess + 1)
            return StepResult([Message("user", "Higher.")])
        self.hi = min(self.hi, guess - 1)
        return StepResult([Message("user", "Lower.")])

    def sample_action(self, rng: np.random.Generator) -> str:
        return str(int(rng.integers(1, self.high + 1)))

    def oracle_action(self) -> str:
        return str((self.lo + self.hi) // 2)


class NimEnv(Env):
    """Two-player Nim: take 1-3 stones; whoever takes the last stone wins. Players 0 and 1."""

    family = "toy"
    step_in_thread = False

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        self.stones = int(options.get("stones", 10))
        self.player = int(options.get("first", 0))
        self.task = Task("toy", {"stones": self.stones})
        return [Message("user", f"{self.stones} stones. Take 1-3.")], {"player": self.player}

    def _step(self, action: Message) -> StepResult:
        m = re.fullmatch(r"\s*([123])\s*", action.text)
        me = self.player
        if not m or int(m.group(1)) > self.stones:
            return StepResult(
                [Message("user", "Take 1, 2 or 3 (not more than remain).")],
                info={"player": me, "rewards": {0: 0.0, 1: 0.0}},
            )
        self.stones -= int(m.group(1))
        if self.stones == 0:
            rewards = {me: 1.0, 1 - me: -1.0}
            v = Verdict(1.0 if me == 0 else 0.0, me == 0, "game", {"winner": me})
            return StepResult(
                [Message("user", f"Player {me} took the last stone.")],
                reward=1.0,
                terminated=True,
                info={"player": 1 - me, "rewards": rewards},
                verdict=v,
            )
        self.player = 1 - me
        return StepResult(
            [Message("user", f"{self.stones} stones left.")],
            info={"player": self.player, "rewards": {0: 0.0, 1: 0.0}},
        )


class GlobalRandomEnv(GuessEnv):
    """Broken: draws its target from an unseeded RNG, so two instances diverge."""

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        _obs, info = super()._reset(options)
        target = int(np.random.default_rng().integers(1, 10**9))
        self.task = Task("toy", {"target": target}, answer=target)
        return [Message("user", f"Between 1 and {10**9}? ({target % 7})")], info


class CrashOnGarbageEnv(GuessEnv):
    """Broken: raises on a reply without a number instead of returning an error observation."""

    def _step(self, action: Message) -> StepResult:
        if not re.search(r"\d", action.text):
            raise ValueError("cannot parse")
        return super()._step(action)


class LossyPickleEnv(GuessEnv):
    """Broken in a subtle way: pickling is declared but the copy forgets the hidden target."""

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["task"] = Task("toy", {"high": self.high, "target": 0}, answer=0)
        return state
