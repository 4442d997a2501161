"""``search/qa``: multi-hop questions about a generated fictional world (contamination-free).

Difficulty is the number of hops (articles on the gold path) and the distractor density (how many
path entities share their name with another entity). The world is part of the config (seed, size,
namesake rate) and of every task's spec, so a task names the corpus it is answered from. The gold
answer (canonical first, then aliases) is ``task.answer``: never shown to the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.search.questions import MAX_HOPS, MIN_HOPS, QTYPES, make_question
from agentgym.tasks.search.scoring import gold_answers, score_response
from agentgym.tasks.search.world import WorldConfig, get_world

GENERATOR_ID = "search/qa"


@dataclass(frozen=True)
class SearchQAConfig(GeneratorConfig):
    """Questions of ``hops`` hops with >= ``distractors`` namesake entities on the path, in a world."""

    hops: int = 1
    distractors: int = 0
    qtypes: str = ",".join(QTYPES)
    world_seed: int = 0
    n_docs: int = 2000
    namesake_rate: float = 0.3

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(1 <= self.hops <= MAX_HOPS, self, "hops", f"must be in [1, {MAX_HOPS}]")
        require(0 <= self.distractors <= self.hops, self, "distractors", "must be in [0, hops]")
        require(isinstance(self.qtypes, str), self, "qtypes", "must be a comma-separated string")
        for name in ("world_seed", "n_docs"):
            value = getattr(self, name)
            require(isinstance(value, int) and not isinstance(value, bool), self, name, "must be an int")
        rate = self.namesake_rate
        is_number = isinstance(rate, (int, float)) and not isinstance(rate, bool)
        require(is_number, self, "namesake_rate", "must be a number")
        kinds = self.qtype_list()
        require(
            bool(kinds) and all(q in QTYPES for q in kinds), self, "qtypes", f"must name kinds of {QTYPES}"
        )
        feasible = [q for q in kinds if MIN_HOPS[q] <= self.hops]
        require(bool(feasible), self, "qtypes", f"has no kind possible at hops={self.hops}")
        require(
            self.distractors == 0 or self.namesake_rate > 0, self, "distractors", "needs namesake_rate > 0"
        )
        self.world().validate()

    def qtype_list(self) -> tuple[str, ...]:
        """The question kinds as a tuple."""
        return tuple(q.strip() for q in self.qtypes.split(",") if q.strip())

    def world(self) -> WorldConfig:
        """The world this config's questions are about."""
        return WorldConfig(self.world_seed, self.n_docs, float(self.namesake_rate))


class SearchQAGenerator(TaskGenerator):
    """Multi-hop questions (bridge, comparison, intersection, counting) over a fictional world."""

    id: ClassVar[str] = GENERATOR_ID
    family: ClassVar[str] = "search"
    config_cls = SearchQAConfig
    difficulty_attrs = (
        DifficultyAttr("hops", (1, 2, 3, 4), "articles on the gold path"),
        DifficultyAttr("distractors", (0, 0, 1, 2), "path entities sharing their name with another entity"),
    )
    instructions: ClassVar[str] = (
        "Answer the question about the fictional encyclopedia. Search it, read articles, then answer."
    )
    answer_format: ClassVar[str] = (
        "Give your final answer inside <answer></answer> tags: just the name, year or number."
    )
    config: SearchQAConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        cfg = self.config
        world = get_world(cfg.world())
        question = make_question(world, rng, cfg.hops, cfg.qtype_list(), cfg.distractors)
        if question is None:
            raise TaskError(f"{self.id}: no question with {cfg} in this world; use a larger world")
        spec = {
            "world": world.config.to_dict(),
            "question": question.text,
            "qtype": question.qtype,
            "hops": question.hops,
            "path": list(question.path),
            "namesakes": question.namesakes,
        }
        return spec, list(dict.fromkeys(question.answers))

    def prompt(self, task: Task) -> str:
        """The question."""
        return str(task.spec["question"])

    def verify(self, task: Task, response: str) -> Verdict:
        """Exact match against the answer and its aliases (token F1 in the details)."""
        return score_response(task, response)

    def reference_response(self, task: Task) -> str:
        """The canonical gold answer in answer tags."""
        return f"<answer>{gold_answers(task)[0]}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """A wrong answer: another number, or a name that is not among the accepted ones."""
        gold = gold_answers(task)[0]
        if gold.isdigit():
            return f"<answer>{int(gold) + int(rng.integers(1, 9))}</answer>"
        return f"<answer>Not {gold}</answer>"


def task_world(task: Task) -> WorldConfig | None:
    """The world a generated search task is about (None for tasks over other corpora)."""
    world = task.spec.get("world")
    if not isinstance(world, dict):
        return None
    return WorldConfig(int(world["seed"]), int(world["n_docs"]), float(world["namesake_rate"]))
