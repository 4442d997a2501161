"""Wordle secrets over an offline word list (wordfreq).

The secret is one of the ``vocabulary`` most frequent five-letter words of :mod:`.wordlist`. The
rules (valid guesses, feedback, the win) and the solver (the oracle) are in
:mod:`.wordle_rules`, shared with the env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.games.wordle_rules import LENGTH, is_solution
from agentgym.tasks.games.wordlist import WORDS
from agentgym.verifiers.rule.answer import last_answer_block


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
        ok = is_solution(block, task.answer)
        return Verdict(1.0 if ok else 0.0, ok, kind="wordle")

    def reference_response(self, task: Task) -> str:
        """The secret."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """Another word."""
        others = [w for w in WORDS[:50] if w != task.answer]
        return f"<answer>{others[int(rng.integers(len(others)))]}</answer>"
