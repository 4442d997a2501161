"""The generator contract: a typed config, ``generate(seed, index) -> Task``, a rule verifier.

A generator module holds its config (a frozen dataclass with ``validate()`` raising ValueError
naming the field), its difficulty attributes with ordered levels, the generator class and, at the
bottom, its registration. Every item has its own RNG from ``(seed, index)``, so any item can be
made alone, on any machine, and equals the same item made in a batch.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.messages import Content
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict

C = TypeVar("C", bound="GeneratorConfig")
MAX_SEED = 2**63 - 1


def task_rng(seed: int, index: int) -> np.random.Generator:
    """The RNG of item ``index`` of the stream ``seed`` (PCG64 via SeedSequence: stable across machines)."""
    if not (0 <= seed <= MAX_SEED and 0 <= index <= MAX_SEED):
        raise TaskError(f"seed and index must be in [0, 2**63), got seed={seed}, index={index}")
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


class BufferedUniform:
    """Uniform ints served from blocks of one numpy RNG (scalar numpy calls are slow).

    ``block`` is part of the stream: the same RNG with another block size gives other draws.
    """

    def __init__(self, rng: np.random.Generator, block: int) -> None:
        self.rng, self.block = rng, block
        self.buf: list[float] = []

    def below(self, k: int) -> int:
        """An int in ``[0, k)``."""
        if not self.buf:
            self.buf = self.rng.random(self.block).tolist()
        return min(int(self.buf.pop() * k), k - 1)


@dataclass(frozen=True)
class DifficultyAttr:
    """A named difficulty knob and its levels, easiest first (a curriculum walks along them)."""

    name: str
    levels: tuple[Any, ...]
    description: str = ""


@dataclass(frozen=True)
class GeneratorConfig:
    """Base of generator configs: frozen dataclasses whose ``validate()`` raises naming the field."""

    def validate(self) -> None:
        """Raise TaskError (a ValueError) naming the first invalid field; subclasses extend this."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int) and (not isinstance(value, int) or isinstance(value, bool)):
                raise TaskError(f"{type(self).__name__}.{f.name} must be an int, got {value!r}")

    @classmethod
    def from_overrides(cls: type[C], overrides: Mapping[str, Any] | None = None, base: C | None = None) -> C:
        """Build a config from ``base`` (or the defaults) updated by ``overrides``; typos are rejected."""
        overrides = dict(overrides or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TaskError(f"unknown {cls.__name__} field(s) {unknown}; known: {sorted(known)}")
        config = dataclasses.replace(base, **overrides) if base is not None else cls(**overrides)
        config.validate()
        return config

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict."""
        return dataclasses.asdict(self)


def require(condition: bool, config: GeneratorConfig, field: str, rule: str) -> None:
    """Raise TaskError naming ``field`` unless ``condition`` holds (for ``validate()`` bodies)."""
    if not condition:
        raise TaskError(f"{type(config).__name__}.{field} {rule}, got {getattr(config, field)!r}")


class TaskGenerator(ABC):
    """A stream of verifiable tasks under one config.

    Subclasses set ``id`` (``family/name``), ``config_cls``, ``difficulty_attrs`` and implement
    :meth:`_generate` (one task from its own RNG), :meth:`prompt` (what the agent sees),
    :meth:`verify` (a pure rule check of a response), :meth:`reference_response` (a response
    that must score 1.0) and :meth:`corrupt_response` (a plausible wrong one, scoring < 1.0).
    """

    id: ClassVar[str]
    family: ClassVar[str] = "puzzles"
    config_cls: ClassVar[type[GeneratorConfig]]
    difficulty_attrs: ClassVar[tuple[DifficultyAttr, ...]] = ()
    #: What the agent is asked to do (system prompt), and how to write the final answer.
    instructions: ClassVar[str] = "Solve the puzzle."
    answer_format: ClassVar[str] = "Give your final answer inside <answer></answer> tags."

    def __init__(self, config: GeneratorConfig | None = None, **overrides: Any) -> None:
        base = config if config is not None else None
        if base is not None and not isinstance(base, self.config_cls):
            raise TaskError(f"{self.id} takes a {self.config_cls.__name__}, got {type(base).__name__}")
        self.config = self.config_cls.from_overrides(overrides, base=base)
        self._config_dict = self.config.to_dict()  # the config is frozen: one copy serves every task

    # ----- the contract ------------------------------------------------------------------------
    @abstractmethod
    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        """Return ``(spec, answer)`` of one task drawn from ``rng``."""

    @abstractmethod
    def prompt(self, task: Task) -> Content:
        """The user message posing ``task`` (text, or text and image parts)."""

    @abstractmethod
    def verify(self, task: Task, response: str) -> Verdict:
        """Score ``response``; an unreadable answer is a Verdict with ``details['format_error']``."""

    @abstractmethod
    def reference_response(self, task: Task) -> str:
        """A response carrying the reference answer (scores 1.0)."""

    @abstractmethod
    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """A well-formed but wrong response (scores below 1.0)."""

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """A well-formed random answer (the ``random`` agent); defaults to :meth:`corrupt_response`."""
        return self.corrupt_response(task, rng)

    def oracle_response(self, task: Task) -> str:
        """The scripted solver's answer (the ``oracle`` agent); defaults to the reference answer."""
        return self.reference_response(task)

    # ----- shared behaviour --------------------------------------------------------------------
    def difficulty(self) -> dict[str, float]:
        """The named difficulty numbers of this config (recorded on every task)."""
        out = {}
        for attr in self.difficulty_attrs:
            value = getattr(self.config, attr.name)
            out[attr.name] = value if isinstance(value, (int, float)) else str(value)
        return out

    def generate(self, seed: int, index: int = 0) -> Task:
        """Item ``index`` of the stream ``seed``: the same on every machine, and alone or in a batch."""
        spec, answer = self._generate(task_rng(seed, index))
        return Task(
            family=self.family,
            spec={"generator": self.id, **spec},
            answer=answer,
            difficulty=self.difficulty(),
            meta={"seed": seed, "index": index, "config": self._config_dict},
        )

    @classmethod
    def at_level(cls, level: int, **overrides: Any) -> TaskGenerator:
        """A generator with every difficulty attribute at ``level`` (clamped to each attribute's range)."""
        values = {a.name: a.levels[min(max(level, 0), len(a.levels) - 1)] for a in cls.difficulty_attrs}
        return cls(**{**values, **overrides})

    @classmethod
    def n_levels(cls) -> int:
        """The number of levels of the longest difficulty attribute."""
        return max((len(a.levels) for a in cls.difficulty_attrs), default=1)
