"""Wordle over an offline word list (wordfreq), and a consistent-candidate solver (the oracle).

The secret is one of the ``vocabulary`` most frequent five-letter words of :mod:`.wordlist`; any
word of the whole list is a valid guess. Feedback per letter: ``G`` right letter, right place;
``Y`` in the word elsewhere; ``-`` not in the word (repeated letters are scored as in Wordle: a
letter is marked ``Y`` only as often as it occurs unmatched in the secret).

The solver keeps the answer-vocabulary words consistent with all feedback so far and guesses
the candidate that splits the others into the most feedback groups (ties: the more frequent
word); scoring is capped to keep a move fast (``MAX_GUESSES_SCORED`` x ``MAX_TARGETS_SCORED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.games.wordlist import WORDS
from agentgym.verifiers.rule.answer import last_answer_block

LENGTH = 5
MAX_GUESSES_SCORED = 60
MAX_TARGETS_SCORED = 400


@dataclass(frozen=True)
class WordleConfig(GeneratorConfig):
    """Secrets from the ``vocabulary`` most frequent words; ``max_guesses`` tries."""

    vocabulary: int = 1000
    max_guesses: int = 6

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(10 <= self.vocabulary <= len(WORDS), self, "vocabulary", f"must be in [10, {len(WORDS)}]")
        require(1 <= self.max_guesses <= 20, self, "max_guesses", "must be in [1, 20]")


@lru_cache(maxsize=1)
def word_set() -> frozenset[str]:
    """Every valid guess."""
    return frozenset(WORDS)


def feedback(guess: str, secret: str) -> str:
    """Wordle's marks for ``guess`` against ``secret`` (``G``, ``Y``, ``-`` per letter)."""
    marks = ["-"] * len(guess)
    unmatched: dict[str, int] = {}
    for i, (g, s) in enumerate(zip(guess, secret, strict=True)):
        if g == s:
            marks[i] = "G"
        else:
            unmatched[s] = unmatched.get(s, 0) + 1
    for i, g in enumerate(guess):
        if marks[i] != "G" and unmatched.get(g, 0) > 0:
            marks[i] = "Y"
            unmatched[g] -= 1
    return "".join(marks)


def solver_guess(history: list[tuple[str, str]], vocabulary: int) -> str:
    """The solver's next guess from past ``(guess, marks)`` pairs."""
    if not history:
        return _opener(vocabulary)
    return _best_split(history, vocabulary)


@lru_cache(maxsize=16)
def _opener(vocabulary: int) -> str:
    return _best_split([], vocabulary)


def _best_split(history: list[tuple[str, str]], vocabulary: int) -> str:
    candidates = [w for w in WORDS[:vocabulary] if all(feedback(g, w) == m for g, m in history)]
    if not candidates:
        candidates = [w for w in WORDS if all(feedback(g, w) == m for g, m in history)] or list(WORDS[:1])
    if len(candidates) <= 2:
        return candidates[0]
    step = max(1, len(candidates) // MAX_TARGETS_SCORED)
    targets = candidates[::step][:MAX_TARGETS_SCORED]
    best, best_groups = candidates[0], -1
    for guess in candidates[:MAX_GUESSES_SCORED]:
        groups = len({feedback(guess, t) for t in targets})
        if groups > best_groups:
            best, best_groups = guess, groups
    return best


class WordleGenerator(TaskGenerator):
    """Wordle secrets drawn from the most frequent five-letter words."""

    id = "games/wordle"
    family = "games"
    config_cls = WordleConfig
    difficulty_attrs = (
        DifficultyAttr("vocabulary", (200, 1000, 3000, 6000, len(WORDS)), "secret pool size"),
    )
    instructions = "Guess the secret five-letter English word."
    answer_format = "Give the word inside <answer></answer> tags."

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        cfg: WordleConfig = self.config  # type: ignore[assignment]
        index = int(rng.integers(cfg.vocabulary))
        spec = {"length": LENGTH, "vocabulary": cfg.vocabulary, "max_guesses": cfg.max_guesses}
        return {**spec, "word_index": index}, WORDS[index]  # the index makes task ids differ per secret

    def prompt(self, task: Task) -> str:
        """The rules and answer format."""
        return f"{self.instructions} {self.answer_format}"

    def verify(self, task: Task, response: str) -> Verdict:
        """Passed when the answered word is the secret."""
        block = last_answer_block(response[-10_000:])
        if block is None:
            return Verdict(0.0, False, kind="wordle", details={"format_error": "no <answer> block"})
        ok = block.strip().lower() == task.answer
        return Verdict(1.0 if ok else 0.0, ok, kind="wordle")

    def reference_response(self, task: Task) -> str:
        """The secret."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """Another word."""
        others = [w for w in WORDS[:50] if w != task.answer]
        return f"<answer>{others[int(rng.integers(len(others)))]}</answer>"
