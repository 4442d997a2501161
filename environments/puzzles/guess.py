"""Guess the number: a tiny multi-turn game with a graded reward, the training smoke env.

The env picks a secret whole number in ``[low, high]``; the agent has ``max_guesses`` replies and
after each wrong guess hears "higher" or "lower". The first integer in a reply (or the text inside
``<answer></answer>``) is the guess; a reply without one is answered with an error observation and
uses up the guess. The episode always ends after a correct guess or the last guess (terminated,
never truncated), with one terminal reward:

- ``1.0`` for a correct guess;
- otherwise ``0.5 * (1 - |last valid guess - secret| / (high - low))``: a graded reward for the
  closest it got at the end, so a model that only sometimes answers with a number gets a signal;
- ``0.0`` when no reply held a number.

Each turn's ``info`` carries its per-turn score under the agreed key ``turn_score``
(:data:`agentgym.core.env.TURN_SCORE_KEY`): 1.0 when the reply held a number, else 0.0 (also as
``valid_guess``), which process rewards such as G-RA read; and ``consistent`` (whether the guess
respects all feedback so far). This env is
what ``agentgym train`` and ``bench/train.py`` use to show that rewards rise with RL on CPU with the
bundled 135M model; it is a real, deterministic env (it passes ``check_env``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from agentgym.core.env import TURN_SCORE_KEY, Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict

_ANSWER = re.compile(r"<answer>\s*(-?\d{1,9})\s*</answer>")
_INT = re.compile(r"-?\d{1,9}")
_SCAN_CHARS = 2000  # only the head of a reply is read for a guess


def parse_guess(text: str) -> int | None:
    """The guess in a reply: the number in ``<answer>`` tags, else the first integer, else None."""
    head = text[:_SCAN_CHARS]
    match = _ANSWER.search(head) or _INT.search(head)
    return int(match.group(1) if match.re is _ANSWER else match.group(0)) if match else None


class GuessNumberEnv(Env):
    """Guess a secret number in ``[low, high]`` within ``max_guesses`` replies (higher/lower hints)."""

    family = "puzzles"
    supports_fork = True
    supports_pickle = True
    step_in_thread = False

    def __init__(
        self, low: int = 1, high: int = 10, max_guesses: int = 3, render_mode: str | None = None
    ) -> None:
        super().__init__(render_mode=render_mode)
        if not isinstance(low, int) or not isinstance(high, int) or high <= low:
            raise EnvError(f"need integers low < high, got low={low!r}, high={high!r}")
        if not isinstance(max_guesses, int) or max_guesses < 1:
            raise EnvError(f"max_guesses must be an integer >= 1, got {max_guesses!r}")
        self.low, self.high, self.max_guesses = low, high, max_guesses
        self._secret = low
        self._guesses: list[int | None] = []
        self._bounds = (low, high)

    def _make_task(self, secret: int) -> Task:
        spec = {"game": "guess-number", "low": self.low, "high": self.high, "max_guesses": self.max_guesses}
        return Task("puzzles", {**spec, "secret_index": secret - self.low}, answer=str(secret))

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = options.get("task")
        if task is None:
            task = self._make_task(int(self.np_random.integers(self.low, self.high + 1)))
        elif not isinstance(task, Task) or task.spec.get("game") != "guess-number":
            raise EnvError("options['task'] must be a guess-number Task")
        elif (task.spec.get("low"), task.spec.get("high")) != (self.low, self.high):
            raise EnvError(f"the task's range differs from this env's [{self.low}, {self.high}]")
        self.task = task
        self._secret = int(task.answer)
        self._guesses = []
        self._bounds = (self.low, self.high)
        system = (
            f"We play a guessing game. I picked a secret whole number from {self.low} to {self.high}. "
            "Reply with one whole number only."
        )
        user = f"Guess my number ({self.max_guesses} guesses). Your guess?"
        return [Message("system", system), Message("user", user)], {"max_guesses": self.max_guesses}

    def _step(self, action: Message) -> StepResult:
        guess = parse_guess(action.text)
        lo, hi = self._bounds
        consistent = guess is not None and lo <= guess <= hi
        self._guesses.append(guess)
        valid = float(guess is not None)
        info: dict[str, Any] = {TURN_SCORE_KEY: valid, "valid_guess": valid, "consistent": float(consistent)}
        left = self.max_guesses - len(self._guesses)
        if guess == self._secret:
            return self._end("Correct!", info)
        if guess is not None:
            if guess < self._secret:
                self._bounds = (max(lo, guess + 1), hi)
            else:
                self._bounds = (lo, min(hi, guess - 1))
        if left == 0:
            return self._end(f"Out of guesses. The number was {self._secret}.", info)
        if guess is None:
            text = f"No number found in your reply. Reply with one whole number. {left} guesses left."
            return StepResult([Message("user", text)], info={**info, "action_error": "no number"})
        hint = "Higher" if guess < self._secret else "Lower"
        return StepResult([Message("user", f"{hint}. {left} guesses left. Your guess?")], info=info)

    def _end(self, text: str, info: dict[str, Any]) -> StepResult:
        verdict = self.verdict()
        return StepResult(
            [Message("user", text)], reward=verdict.score, terminated=True, info=info, verdict=verdict
        )

    def verdict(self) -> Verdict:
        """Score of the guesses so far: 1 for a hit, else graded closeness of the last valid guess."""
        valid = [g for g in self._guesses if g is not None]
        details = {"guesses": list(self._guesses), "secret": self._secret}
        if valid and valid[-1] == self._secret:
            return Verdict(1.0, True, kind="guess-number", details=details)
        if not valid:
            return Verdict(0.0, False, kind="guess-number", details={**details, "reason": "no number"})
        gap = min(abs(valid[-1] - self._secret), self.high - self.low)
        score = 0.5 * (1.0 - gap / (self.high - self.low))
        return Verdict(score, False, kind="guess-number", details=details)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random guess in range."""
        return str(int(rng.integers(self.low, self.high + 1)))

    def oracle_action(self) -> Action:
        """The secret itself."""
        if self.task is None:
            raise EnvError("call reset() before asking the oracle")
        return f"<answer>{self._secret}</answer>"
