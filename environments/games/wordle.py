"""Wordle with an offline word list (``games/wordle-v0``).

Each turn the agent guesses a five-letter word, ``[crane]`` or the bare word, and gets Wordle's
marks: ``G`` right letter and place, ``Y`` in the word elsewhere, ``-`` not in it. Guessing the
secret within ``max_guesses`` (6) wins with reward 1.0. A guess that is not a five-letter word of
the list is an invalid move: it does not use a guess, but after ``max_invalid`` (10) of them the
episode is truncated. The oracle is the consistent-candidate solver of
:mod:`agentgym.tasks.games.wordle_rules` (its win rate per level is measured in ``tests/games``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.core.env import Action, StepResult
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.environments.games.builtin_base import BuiltinGameEnv
from agentgym.tasks.games.common import last_bracketed
from agentgym.tasks.games.wordle_rules import LENGTH, feedback, is_solution, is_valid_guess, solver_guess
from agentgym.tasks.games.wordlist import WORDS

RULES = (
    "You play Wordle. Guess the secret five-letter English word in at most {guesses} guesses. After "
    "each guess you get one mark per letter: G = right letter in the right place, Y = the letter is in "
    "the word but elsewhere, - = the letter is not in the word. Reply with one guess per turn in "
    "square brackets, e.g. [crane]."
)


class WordleEnv(BuiltinGameEnv):
    """Guess a secret word from letter-by-letter feedback."""

    def __init__(
        self,
        generator: str = "games/wordle",
        difficulty: dict[str, Any] | None = None,
        level: int | None = None,
        split: str = "train",
        render_mode: str | None = None,
        max_invalid: int = 10,
    ) -> None:
        super().__init__(generator, difficulty, level, split, render_mode)
        self.max_invalid = max_invalid
        self.history: list[tuple[str, str]] = []

    @property
    def budget(self) -> int:
        """Invalid guesses allowed before the episode is truncated."""
        return self.max_invalid

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._start(options)
        self.history = []
        first = f"Guess the word ({LENGTH} letters). You have {task.spec['max_guesses']} guesses."
        return [
            Message("system", RULES.format(guesses=task.spec["max_guesses"])),
            Message("user", first),
        ], self._info()

    def _step(self, action: Message) -> StepResult:
        assert self.task is not None
        word = last_bracketed(action.text) or action.text.strip().strip(".!").lower()
        if not is_valid_guess(word):
            shown = word[:30] if len(word) <= 30 else word[:30] + "..."
            result = self._unreadable(f"{shown!r} is not a {LENGTH}-letter word in the word list")
            self.moves -= 1  # an invalid guess does not use a guess; format_errors bounds them
            if self.format_errors >= self.max_invalid:
                self.over = True
                result.truncated, result.verdict = True, self.verdict()
            return result
        self.moves += 1
        marks = feedback(word, self.task.answer)
        self.history.append((word, marks))
        self.won = is_solution(word, self.task.answer)
        left = self.task.spec["max_guesses"] - self.moves
        lines = [f"{g.upper()}  {m}" for g, m in self.history]
        if self.won:
            tail = f"You found the word in {self.moves} guesses!"
        elif left == 0:
            tail = f"No guesses left. The word was {self.task.answer.upper()}."
        else:
            tail = f"{left} guesses left."
        self.over = self.won or left == 0
        return StepResult(
            [Message("user", "\n".join(lines) + "\n" + tail)],
            reward=1.0 if self.won else 0.0,
            terminated=self.over,
            verdict=self.verdict() if self.over else None,
        )

    def _unreadable(self, problem: str) -> StepResult:
        self.format_errors += 1
        self.moves += 1
        return StepResult(
            [Message("user", f"Invalid guess: {problem}.")],
            reward=self.format_penalty,
            info={"action_error": problem},
        )

    def verdict(self) -> Verdict:
        """Passed when the secret was guessed within the allowed guesses."""
        if self.task is None:
            return super().verdict()
        return self._outcome({"guesses": [g for g, _ in self.history]}, "wordle")

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random word of the list."""
        return f"[{WORDS[int(rng.integers(len(WORDS)))]}]"

    def oracle_action(self) -> Action:
        """The consistent-candidate solver's guess (it sees only the marks)."""
        assert self.task is not None
        return f"[{solver_guess(list(self.history), self.task.spec['vocabulary'])}]"
