"""Generators of Twenty Questions (objects) and Guess My City (cities): a secret entry per task.

Difficulty is the question budget; the oracle questioner needs at most 11 questions (objects) and
8 (cities), so it wins at every level. The single-turn form (``verify``) checks a named answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.games.questions import names, normalize
from agentgym.verifiers.rule.answer import last_answer_block


@dataclass(frozen=True)
class QuestionsConfig(GeneratorConfig):
    """At most ``max_questions`` yes/no questions (guesses included)."""

    max_questions: int = 20

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(1 <= self.max_questions <= 100, self, "max_questions", "must be in [1, 100]")


class _QuestionsGenerator(TaskGenerator):
    family = "games"
    config_cls = QuestionsConfig
    difficulty_attrs = (DifficultyAttr("max_questions", (20, 18, 16, 14, 12), "question budget"),)
    domain: ClassVar[str]
    noun: ClassVar[str]
    answer_format = "Give your final guess inside <answer></answer> tags."

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        pool = names(self.domain)
        index = int(rng.integers(len(pool)))
        spec = {"domain": self.domain, "max_questions": self.config.max_questions}  # type: ignore[attr-defined]
        return {**spec, "entry_index": index}, pool[index]  # the index makes task ids differ per secret

    def prompt(self, task: Task) -> str:
        """What is being guessed, and the candidates."""
        pool = ", ".join(names(self.domain))
        return f"Guess the secret {self.noun}. It is one of: {pool}. {self.answer_format}"

    def verify(self, task: Task, response: str) -> Verdict:
        """Passed when the answered name is the secret."""
        block = last_answer_block(response[-10_000:])
        if block is None:
            return Verdict(0.0, False, kind=self.domain, details={"format_error": "no <answer> block"})
        said = normalize(block).removeprefix("a ").removeprefix("an ").removeprefix("the ")
        ok = said == task.answer
        return Verdict(1.0 if ok else 0.0, ok, kind=self.domain)

    def reference_response(self, task: Task) -> str:
        """The secret."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """Another entry."""
        others = [n for n in names(self.domain) if n != task.answer]
        return f"<answer>{others[int(rng.integers(len(others)))]}</answer>"


class TwentyQuestionsGenerator(_QuestionsGenerator):
    """Twenty Questions over the object table."""

    id = "games/twenty_questions"
    domain = "objects"
    noun = "object"
    instructions = "Guess the secret object."


class GuessMyCityGenerator(_QuestionsGenerator):
    """Guess My City over the city table."""

    id = "games/guess_my_city"
    domain = "cities"
    noun = "city"
    instructions = "Guess the secret city."
