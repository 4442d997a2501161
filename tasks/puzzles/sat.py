"""k-SAT task generator (SATURN-style): n variables, m clauses of k literals, satisfiable by construction.

Each clause is drawn uniformly among the clauses over k distinct variables that a hidden, uniformly
drawn assignment satisfies (rejection sampling), so every task has at least that solution. The
reference answer is the hidden assignment; any satisfying assignment is accepted by the verifier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task

FAMILY = "puzzles"
MAX_VARS = 10_000
MAX_CLAUSES = 200_000


def task_rng(seed: int, index: int) -> np.random.Generator:
    """The RNG of item ``index`` under ``seed``: any item can be generated alone, on any machine."""
    if seed < 0 or index < 0:
        raise TaskError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


@dataclass(frozen=True)
class SatConfig:
    """Difficulty knobs of k-SAT: n variables, m clauses (default 4n), k literals per clause."""

    n_vars: int = 6
    k: int = 3
    n_clauses: int | None = None

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> SatConfig:
        """Build a config from a dict, rejecting unknown keys by name."""
        overrides = dict(overrides or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TaskError(f"unknown SAT difficulty field(s) {unknown}; known: {sorted(known)}")
        config = cls(**overrides)
        config.validate()
        return config

    @property
    def clauses(self) -> int:
        """The number of clauses (``n_clauses``, or 4 per variable by default)."""
        return self.n_clauses if self.n_clauses is not None else 4 * self.n_vars

    def validate(self) -> None:
        """Raise TaskError (a ValueError) naming the first invalid field."""
        for name in ("n_vars", "k"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TaskError(f"{name} must be an int, got {value!r}")
        if not 1 <= self.n_vars <= MAX_VARS:
            raise TaskError(f"n_vars must be in [1, {MAX_VARS}], got {self.n_vars}")
        if not 1 <= self.k <= self.n_vars:
            raise TaskError(f"k must be in [1, n_vars={self.n_vars}], got {self.k}")
        if self.n_clauses is not None and (
            not isinstance(self.n_clauses, int) or not 1 <= self.n_clauses <= MAX_CLAUSES
        ):
            raise TaskError(f"n_clauses must be an int in [1, {MAX_CLAUSES}], got {self.n_clauses!r}")

    def difficulty(self) -> dict[str, float]:
        """The named numbers recorded on each task."""
        return {"n_vars": self.n_vars, "k": self.k, "n_clauses": self.clauses}


def _draw_clauses(rng: np.random.Generator, n: int, k: int, m: int, planted: np.ndarray) -> np.ndarray:
    """M clauses as signed 1-based literals, each satisfied by ``planted`` (shape (m, k))."""
    if n <= 64:
        variables = np.argsort(rng.random((m, n)), axis=1)[:, :k]
    else:
        variables = np.stack([rng.choice(n, size=k, replace=False) for _ in range(m)])
    variables = np.sort(variables, axis=1)
    signs = rng.integers(0, 2, size=(m, k)).astype(bool)  # True: positive literal
    while True:  # rejection: redraw the signs of clauses the planted assignment falsifies
        satisfied = (planted[variables] == signs).any(axis=1)
        bad = np.flatnonzero(~satisfied)
        if bad.size == 0:
            break
        signs[bad] = rng.integers(0, 2, size=(bad.size, k)).astype(bool)
    return np.where(signs, variables + 1, -(variables + 1))


def generate_sat(config: SatConfig, seed: int, index: int = 0) -> Task:
    """Generate item ``index`` of the k-SAT stream ``seed`` under ``config``."""
    config.validate()
    rng = task_rng(seed, index)
    planted = rng.integers(0, 2, size=config.n_vars).astype(bool)
    clauses = _draw_clauses(rng, config.n_vars, config.k, config.clauses, planted)
    return Task(
        family=FAMILY,
        spec={"kind": "sat", "n_vars": config.n_vars, "k": config.k, "clauses": clauses.tolist()},
        answer=[int(v) for v in planted],
        difficulty=config.difficulty(),
        meta={"generator": "puzzles/sat", "seed": seed, "index": index, "config": asdict(config)},
    )


@dataclass(frozen=True)
class SatGenerator:
    """The k-SAT generator: ``generate(seed, index)`` makes one task from its own RNG."""

    config: SatConfig = SatConfig()

    def generate(self, seed: int, index: int = 0) -> Task:
        """Generate item ``index`` of the stream ``seed``."""
        return generate_sat(self.config, seed, index)
