"""Twenty Questions and Guess My City (LMRL-Gym) with a rule-based answerer.

Registered as ``games/twenty-questions-v0`` and ``games/guess-my-city-v0``.

The agent asks one yes/no question per turn and may guess at any time ("Is it a dog?", "Is the
city Paris?"); a right guess wins (reward 1.0), and the episode ends after ``max_questions``
questions (guesses and unrecognised questions included). The answerer is the rule-based oracle of
:mod:`agentgym.tasks.games.questions` over the shipped attribute table (see there how questions
are parsed and how unrecognised or negated ones are answered). ``answerer`` may instead be an
agent (or an agent spec such as ``"bundled"``) that is told the secret and answers; a reply that
starts with neither yes nor no falls back to the rules. The oracle player is the binary-splitting
questioner.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from agentgym.core.agent import Agent, run_sync
from agentgym.core.env import Action, StepResult
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.environments.games.builtin_base import BuiltinGameEnv
from agentgym.tasks.games.questions import (
    answer,
    best_question,
    canonical_questions,
    consistent,
    names,
    parse,
)

RULES = (
    "You play {game}. I am thinking of a secret {noun}; it is one of: {pool}. Ask me yes/no questions, "
    "one per turn (e.g. {example}), and guess by asking 'Is it <name>?'. You have {budget} questions, "
    "guesses included. I understand questions about: {topics}."
)
TOPICS = {
    "objects": "its category (animal, plant, food, furniture, vehicle, electronics, tool, clothing, "
    "instrument, "
    "toy, kitchenware), whether it is alive or man made, its size compared with a breadbox or a person, and "
    "properties such as legs, fur, feathers, flying, water, wood, metal, glass, wheels, electricity, screen",
    "cities": "its continent, country, whether it is a capital, on the coast or in the southern hemisphere, "
    "its population in millions, the language spoken there and whether it hosted the Summer Olympics",
}
ANSWERER_PROMPT = (
    "You answer yes/no questions in a guessing game. The secret {noun} is: {secret}. Answer only Yes or No."
)


class QuestionsEnv(BuiltinGameEnv):
    """Find the secret entry with yes/no questions."""

    game: ClassVar[str]
    example: ClassVar[str]
    default_generator: ClassVar[str]
    supports_pickle = False  # an agent answerer need not pickle
    supports_fork = False

    def __init__(
        self,
        generator: str | None = None,
        difficulty: dict[str, Any] | None = None,
        level: int | None = None,
        split: str = "train",
        render_mode: str | None = None,
        answerer: str | Agent | None = None,
    ) -> None:
        super().__init__(generator or self.default_generator, difficulty, level, split, render_mode)
        if isinstance(answerer, str):
            from agentgym.agents import make_agent  # lazy: agents sit above environments

            answerer = make_agent(answerer)
        self.answerer = answerer
        self.record: list[tuple[tuple[str, ...], bool]] = []
        self.questions: list[str] = []

    @property
    def domain(self) -> str:
        """``objects`` or ``cities``."""
        return str(self.generator.domain)  # type: ignore[attr-defined]

    @property
    def budget(self) -> int:
        """The question budget."""
        return int(self.task.spec["max_questions"]) if self.task else 0

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        self._start(options)
        self.record, self.questions = [], []
        noun = self.generator.noun  # type: ignore[attr-defined]
        rules = RULES.format(
            game=self.game,
            noun=noun,
            pool=", ".join(names(self.domain)),
            example=self.example,
            budget=self.budget,
            topics=TOPICS[self.domain],
        )
        return [Message("system", rules), Message("user", "Ask your first question.")], self._info()

    def _step(self, action: Message) -> StepResult:
        assert self.task is not None
        question = action.text.strip()
        if not question:
            return self._unreadable("ask a yes/no question")
        self.moves += 1
        self.questions.append(question[:300])
        kind, keys = parse(self.domain, question)
        if kind == "guess":
            self.won = keys[0] == self.task.answer
            reply = f"Yes! It is {self.task.answer}." if self.won else "No."
            if not self.won:
                self.record.append(((f"is:{keys[0]}",), False))
        elif kind == "negated":
            reply = "Please ask without a negation ('not', 'no', 'never')."
        elif kind == "unknown":
            reply = self._model_answer(question) or "I don't know."
        else:
            said = answer(self.domain, self.task.answer, keys)
            model = self._model_answer(question)
            reply = model or ("Yes." if said else "No.")
            self.record.append((tuple(keys), said if model is None else model.startswith("Yes")))
        left = self.budget - self.moves
        truncated = not self.won and left <= 0
        if truncated:
            reply += f" You are out of questions. It was {self.task.answer}."
        elif not self.won:
            reply += f" ({left} questions left.)"
        self.over = self.won or truncated
        return StepResult(
            [Message("user", reply)],
            reward=1.0 if self.won else 0.0,
            terminated=self.won,
            truncated=truncated,
            info={"parsed": kind, "conditions": list(keys)},
            verdict=self.verdict() if self.over else None,
        )

    def _model_answer(self, question: str) -> str | None:
        if self.answerer is None:
            return None
        noun = self.generator.noun  # type: ignore[attr-defined]
        prompt = [
            Message("system", ANSWERER_PROMPT.format(noun=noun, secret=self.task.answer)),  # type: ignore[union-attr]
            Message("user", question[:300]),
        ]
        reply = run_sync(self.answerer.act(prompt)).message.text.strip().lower()
        if reply.startswith("yes"):
            return "Yes."
        if reply.startswith("no"):
            return "No."
        return None

    def verdict(self) -> Verdict:
        """Passed when the secret was guessed within the budget."""
        if self.task is None:
            return super().verdict()
        return self._outcome({"questions": self.moves}, self.domain)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random canonical question or a random guess."""
        pool = list(canonical_questions(self.domain).values())
        if rng.random() < 0.3:
            candidates = names(self.domain)
            return f"Is it {candidates[int(rng.integers(len(candidates)))]}?"
        return pool[int(rng.integers(len(pool)))]

    def oracle_action(self) -> Action:
        """The binary-splitting questioner (it uses only the answers given so far)."""
        record = [(k, s) for k, s in self.record if not k[0].startswith("is:")]
        wrong = {k[0][3:] for k, _ in self.record if k[0].startswith("is:")}
        candidates = [n for n in consistent(self.domain, record, names(self.domain)) if n not in wrong]
        return best_question(self.domain, candidates)


class TwentyQuestionsEnv(QuestionsEnv):
    """LMRL-Gym's Twenty Questions over the shipped object table."""

    default_generator = "games/twenty_questions"
    game = "Twenty Questions"
    example = "'Is it an animal?', 'Is it bigger than a breadbox?'"


class GuessMyCityEnv(QuestionsEnv):
    """LMRL-Gym's Guess My City over the shipped city table."""

    default_generator = "games/guess_my_city"
    game = "Guess My City"
    example = "'Is it in Europe?', 'Does it have more than 5 million people?'"
