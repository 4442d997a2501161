"""reasoning-gym datasets as task generators: ``rg/<dataset>`` poses an entry and scores with its scorer.

Entries are made and scored in the worker process (:mod:`.client`, :mod:`.worker`); this process
never imports reasoning_gym. A task's spec holds the question, reasoning-gym's answer and metadata
and the dataset config, so it can be scored with nothing else. The final answer is the last
``<answer>`` block; the score is the dataset's ``score_answer`` (in [0, 1], passed at 1.0). A scorer
that overruns its time limit gives an unscored verdict; one that cannot read the answer, or an
answer a guard keeps from an ``eval``-based scorer, is a format error (the env asks again).

Each dataset has its own generator class (``RG_<dataset>``, made on first use and importable by
name, so tasks and envs pickle) because a generator's id is a class attribute.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task, canonical_json
from agentgym.core.verdict import Verdict
from agentgym.environments.rg.client import WorkerError, WorkerTimeout, worker
from agentgym.environments.rg.policy import REDRAW_IF_ANSWER_CONTAINS, REFERENCE_KEYS, available_datasets
from agentgym.tasks.base import GeneratorConfig, TaskGenerator, require
from agentgym.verifiers.rule.answer import AnswerFormatError, extract_answer

KIND = "rg"
MAX_ANSWER_CHARS = 100_000
MAX_DRAWS = 20
KEY_SPACE = 2**31 - 1
#: Answers tried in order by :meth:`ReasoningGymGenerator.corrupt_response` (the first wrong one wins).
WRONG_ANSWERS = ("zzz wrong", "0", "-1", "[]", "no", "A")
SYSTEM_PROMPT = (
    "Given a problem, your task is to answer the question by thinking step-by-step in a clear and "
    "specific manner. When an example is provided, strictly follow the format of the answer in that "
    "example."
)


def generator_id(dataset: str) -> str:
    """The generator id of a reasoning-gym dataset (``rg/<dataset>``)."""
    return f"rg/{dataset}"


def class_name(dataset: str) -> str:
    """The name of the generator class of ``dataset`` in this module."""
    return f"RG_{dataset}"


@dataclass(frozen=True)
class ReasoningGymConfig(GeneratorConfig):
    """``params``: the dataset's own config fields (not ``seed``/``size``); limits in seconds."""

    params: Mapping[str, Any] = field(default_factory=dict)
    score_timeout: float = 10.0
    generate_timeout: float = 120.0

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field (dataset fields are checked by the worker)."""
        super().validate()
        require(
            isinstance(self.params, Mapping) and all(isinstance(k, str) for k in self.params),
            self, "params", "must be a dict with str keys",
        )  # fmt: skip
        reserved = sorted({"seed", "size"} & set(self.params))
        require(not reserved, self, "params", f"may not set {reserved} (the task RNG decides them)")
        try:
            canonical_json(dict(self.params))
        except TaskError:
            require(False, self, "params", "must be JSON-serializable")
        for name in ("score_timeout", "generate_timeout"):
            value = getattr(self, name)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 3600
            require(ok, self, name, "must be a number of seconds in (0, 3600]")

    @property
    def params_json(self) -> str:
        """``params`` as canonical JSON (the worker's cache key)."""
        return canonical_json(dict(self.params))


@functools.lru_cache(maxsize=256)
def _check_params(dataset: str, params_json: str) -> None:
    try:
        worker().call("check", dataset, params_json, timeout=60.0)
    except WorkerError as exc:
        raise TaskError(f"ReasoningGymConfig.params for {dataset}: {exc}") from None


@functools.lru_cache(maxsize=1024)
def _entry_json(dataset: str, params_json: str, key: int, sub: int, timeout: float) -> str:
    return str(worker().call("generate", dataset, params_json, key, sub, timeout=timeout))


def reference_answer(dataset: str, entry: Mapping[str, Any]) -> str | None:
    """reasoning-gym's answer, or for datasets without one the valid answer kept in the metadata."""
    answer = entry.get("answer")
    if answer is None and dataset in REFERENCE_KEYS:
        answer = (entry.get("metadata") or {}).get(REFERENCE_KEYS[dataset])
        if answer is not None and not isinstance(answer, str):
            answer = json.dumps(answer)
    return None if answer is None else str(answer)


class ReasoningGymGenerator(TaskGenerator):
    """Tasks of one reasoning-gym dataset (subclasses set ``id`` and ``dataset``)."""

    family = "rg"
    dataset: ClassVar[str]
    config_cls = ReasoningGymConfig
    instructions = SYSTEM_PROMPT
    answer_format = (
        "Give only the final answer inside <answer></answer> tags, in the format the question asks "
        "for; do not explain your reasoning inside the tags."
    )
    config: ReasoningGymConfig

    def __init__(self, config: GeneratorConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if self.config.params:
            _check_params(self.dataset, self.config.params_json)

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        problem = "no draw"
        for _ in range(MAX_DRAWS):
            key, sub = int(rng.integers(KEY_SPACE)), int(rng.integers(1 << 16))
            try:
                entry = json.loads(_entry_json(self.dataset, c.params_json, key, sub, c.generate_timeout))
            except WorkerTimeout as exc:
                raise TaskError(f"{self.id}: generating an item took too long ({exc})") from None
            except WorkerError as exc:  # a draw the dataset cannot make (e.g. no word ladder found)
                problem = str(exc)
                continue
            reference = reference_answer(self.dataset, entry)
            redraw = REDRAW_IF_ANSWER_CONTAINS.get(self.dataset)
            if reference is None or (redraw is not None and redraw in reference):
                problem = "no usable reference answer"
                continue
            spec = {
                "dataset": self.dataset,
                "params": dict(c.params),
                "question": entry["question"],
                "answer": entry.get("answer"),
                "metadata": entry.get("metadata") or {},
            }
            return spec, reference
        raise TaskError(f"{self.id}: no item in {MAX_DRAWS} draws ({problem})")

    def prompt(self, task: Task) -> str:
        """reasoning-gym's question, as is."""
        return str(task.spec["question"])

    def verify(self, task: Task, response: str) -> Verdict:
        """The dataset's ``score_answer`` on the last ``<answer>`` block, run in the worker."""
        try:
            answer = extract_answer(response)
        except AnswerFormatError as exc:
            return Verdict(0.0, False, KIND, details={"format_error": str(exc)})
        if len(answer) > MAX_ANSWER_CHARS:
            return Verdict(
                0.0, False, KIND, details={"format_error": f"answer over {MAX_ANSWER_CHARS} chars"}
            )
        return score_answer(task, answer, self.config.score_timeout)

    def reference_response(self, task: Task) -> str:
        """reasoning-gym's answer (or the metadata's valid answer) in answer tags."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The first of :data:`WRONG_ANSWERS` that the scorer reads and scores below 1.0."""
        for wrong in WRONG_ANSWERS:
            verdict = score_answer(task, wrong, self.config.score_timeout)
            if not verdict.passed and not verdict.unscored and "format_error" not in verdict.details:
                return f"<answer>{wrong}</answer>"
        return f"<answer>{WRONG_ANSWERS[0]}</answer>"

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """One of :data:`WRONG_ANSWERS` or a random small number, drawn from ``rng``."""
        pool = [*WRONG_ANSWERS, str(int(rng.integers(0, 100)))]
        return f"<answer>{pool[int(rng.integers(len(pool)))]}</answer>"


def score_answer(task: Task, answer: str, timeout: float) -> Verdict:
    """Score an extracted ``answer`` to ``task`` with its dataset's scorer (in the worker)."""
    spec = task.spec
    dataset = str(spec["dataset"])
    entry = {"question": spec["question"], "answer": spec["answer"], "metadata": spec["metadata"]}
    params_json = canonical_json(spec.get("params") or {})
    try:
        outcome, value = worker().call(
            "score", dataset, params_json, answer, json.dumps(entry, ensure_ascii=False), timeout=timeout
        )
    except WorkerTimeout:
        return Verdict.failed(KIND, "scorer timed out", dataset=dataset, timeout_s=timeout)
    except WorkerError as exc:
        return Verdict.failed(KIND, f"scorer failed: {exc}", dataset=dataset)
    if outcome in ("guard", "raised"):
        return Verdict(0.0, False, KIND, details={"dataset": dataset, "format_error": str(value)})
    if not isinstance(value, float) or not math.isfinite(value) or not -1e-9 <= value <= 1 + 1e-9:
        return Verdict.failed(KIND, f"scorer returned {value!r}, not a score in [0, 1]", dataset=dataset)
    score = min(max(value, 0.0), 1.0)
    details: dict[str, Any] = {"dataset": dataset}
    if 0.0 < score < 1.0:
        details["feedback"] = f"Not fully correct (reasoning-gym score {score:.2f})."
    return Verdict(score, score == 1.0, KIND, details=details)


_CLASSES: dict[str, type[ReasoningGymGenerator]] = {}


def generator_class(dataset: str) -> type[ReasoningGymGenerator]:
    """The generator class of an available dataset (made once, then the same object)."""
    if dataset not in available_datasets():
        raise TaskError(f"{dataset!r} is not an available reasoning-gym dataset")
    cls = _CLASSES.get(dataset)
    if cls is None:
        doc = f"Tasks of reasoning-gym's ``{dataset}`` dataset."
        attrs = {"id": generator_id(dataset), "dataset": dataset, "__doc__": doc, "__module__": __name__}
        cls = _CLASSES[dataset] = type(class_name(dataset), (ReasoningGymGenerator,), attrs)
    return cls


def __getattr__(name: str) -> Any:
    """``RG_<dataset>``: the dataset's generator class (how registry entry points and pickle find it)."""
    if name.startswith("RG_") and name[3:] in available_datasets():
        return generator_class(name[3:])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
