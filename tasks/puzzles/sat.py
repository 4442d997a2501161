"""k-SAT (SATURN-style): n variables, m clauses of k literals, satisfiable by construction.

Each clause is drawn uniformly among the clauses over k distinct variables that a hidden, uniformly
drawn assignment satisfies (rejection sampling), so every task has at least that solution; with
``unique=True`` a CDCL solver (python-sat) adds clauses until that solution is the only one. Any
satisfying assignment passes; the fraction of satisfied clauses is a metric, never the reward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.difficulty import saturn_difficulty
from agentgym.verifiers.rule.sat import verify_sat

MAX_VARS = 10_000
MAX_CLAUSES = 200_000
SOLVER = "cadical153"


@dataclass(frozen=True)
class SatConfig(GeneratorConfig):
    """n variables, m clauses (default 4n) of k literals; ``unique`` forces a single solution."""

    n_vars: int = 6
    k: int = 3
    n_clauses: int | None = None
    unique: bool = False

    @property
    def clauses(self) -> int:
        """The number of clauses drawn (before ``unique`` adds any)."""
        return self.n_clauses if self.n_clauses is not None else 4 * self.n_vars

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(1 <= self.n_vars <= MAX_VARS, self, "n_vars", f"must be in [1, {MAX_VARS}]")
        require(1 <= self.k <= self.n_vars, self, "k", f"must be in [1, n_vars={self.n_vars}]")
        require(
            self.n_clauses is None
            or (isinstance(self.n_clauses, int) and not isinstance(self.n_clauses, bool)
                and 1 <= self.n_clauses <= MAX_CLAUSES),
            self, "n_clauses", f"must be None or an int in [1, {MAX_CLAUSES}]",
        )  # fmt: skip
        require(isinstance(self.unique, bool), self, "unique", "must be a bool")


def draw_clauses(rng: np.random.Generator, n: int, k: int, m: int, planted: np.ndarray) -> np.ndarray:
    """M clauses as signed 1-based literals over k distinct variables, each satisfied by ``planted``."""
    if n <= 64:
        variables = np.argsort(rng.random((m, n)), axis=1)[:, :k]
    else:
        variables = np.stack([rng.choice(n, size=k, replace=False) for _ in range(m)])
    variables = np.sort(variables, axis=1)
    signs = rng.integers(0, 2, size=(m, k)).astype(bool)  # True: positive literal
    while True:  # rejection: redraw the signs of clauses the planted assignment falsifies
        bad = np.flatnonzero(~(planted[variables] == signs).any(axis=1))
        if bad.size == 0:
            break
        signs[bad] = rng.integers(0, 2, size=(bad.size, k)).astype(bool)
    return np.where(signs, variables + 1, -(variables + 1))


def _make_unique(
    rng: np.random.Generator, clauses: list[list[int]], planted: np.ndarray, k: int
) -> list[list[int]]:
    """Add clauses the planted assignment satisfies until a solver finds no other solution."""
    from pysat.solvers import Solver

    n = len(planted)
    with Solver(name=SOLVER, bootstrap_with=clauses) as solver:
        # Exclude the planted assignment: whatever the solver still finds is another solution.
        solver.add_clause([-(i + 1) if planted[i] else (i + 1) for i in range(n)])
        for _ in range(20 * n + 100):
            if not solver.solve():
                return clauses
            model = np.array([lit > 0 for lit in solver.get_model()[:n]])
            differ = int(rng.choice(np.flatnonzero(model != planted)))
            others = [int(v) for v in rng.permutation(n) if v != differ][: k - 1]
            # Every literal is false under the other solution; the one on `differ` is true under planted.
            clause = sorted(((v + 1) if not model[v] else -(v + 1) for v in [differ, *others]), key=abs)
            clauses.append(clause)
            solver.add_clause(clause)
    raise TaskError("could not make the SAT instance unique")


class SatGenerator(TaskGenerator):
    """k-SAT tasks; the oracle solves them with CaDiCaL (python-sat)."""

    id = "puzzles/sat"
    config_cls = SatConfig
    difficulty_attrs = (
        DifficultyAttr("n_vars", (3, 4, 5, 6, 8, 10, 12, 15, 20), "number of variables"),
        DifficultyAttr("k", (2, 2, 3, 3, 3, 3, 3, 3, 3), "literals per clause"),
    )
    instructions = (
        "You solve Boolean satisfiability (SAT) problems. A formula is a conjunction of clauses; a "
        "clause is a disjunction of literals, where xi means variable i is true and ~xi means it is "
        "false. Find values for all variables that make every clause true."
    )
    answer_format = (
        "Give the values of x1..xn in order as 0/1 inside answer tags, e.g. <answer>1 0 1</answer> "
        "for x1=true, x2=false, x3=true."
    )
    config: SatConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        planted = rng.integers(0, 2, size=c.n_vars).astype(bool)
        clauses = draw_clauses(rng, c.n_vars, c.k, c.clauses, planted).tolist()
        if c.unique:
            clauses = _make_unique(rng, clauses, planted, c.k)
        spec = {"n_vars": c.n_vars, "k": c.k, "clauses": clauses}
        return spec, [int(v) for v in planted]

    def difficulty(self) -> dict[str, float]:
        """n, k, m and SATURN's difficulty estimate for them."""
        c = self.config
        return {"n_vars": c.n_vars, "k": c.k, "n_clauses": c.clauses,
                "saturn": round(saturn_difficulty(c.n_vars, c.k, c.clauses), 4)}  # fmt: skip

    def prompt(self, task: Task) -> str:
        """The clauses, one per line."""
        lines = "\n".join(format_clause(c) for c in task.spec["clauses"])
        return f"Variables: x1..x{task.spec['n_vars']}. Clauses ({len(task.spec['clauses'])}):\n{lines}"

    def verify(self, task: Task, response: str) -> Verdict:
        """Exact satisfaction of every clause (see :func:`verify_sat`)."""
        return verify_sat(task, response)

    def reference_response(self, task: Task) -> str:
        """The planted assignment."""
        return _answer(task.answer)

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The planted assignment with one clause made false (so it scores 0)."""
        values = list(task.answer)
        clause = task.spec["clauses"][int(rng.integers(len(task.spec["clauses"])))]
        for lit in clause:
            values[abs(lit) - 1] = 0 if lit > 0 else 1
        return _answer(values)

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """A uniformly random assignment."""
        return _answer(rng.integers(0, 2, size=task.spec["n_vars"]).tolist())

    def oracle_response(self, task: Task) -> str:
        """Solve with CaDiCaL; variables in no clause are free (set true)."""
        from pysat.solvers import Solver

        with Solver(name=SOLVER, bootstrap_with=task.spec["clauses"]) as solver:
            if not solver.solve():
                raise TaskError("the formula is unsatisfiable (the generator guarantees otherwise)")
            model = solver.get_model() or []
        values = {abs(lit): lit > 0 for lit in model}
        return _answer([int(values.get(i, True)) for i in range(1, task.spec["n_vars"] + 1)])


def format_clause(clause: list[int]) -> str:
    """Render a clause of signed 1-based literals, e.g. ``(x1 | ~x3 | x4)``."""
    return "(" + " | ".join(f"x{lit}" if lit > 0 else f"~x{-lit}" for lit in clause) + ")"


def _answer(values: list[int]) -> str:
    return "<answer>" + " ".join(str(int(v)) for v in values) + "</answer>"
