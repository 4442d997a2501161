"""Generator throughput: ours against reasoning-gym's same puzzles, and SAT generate+verify.

For each puzzle both sides make the same number of items at equal difficulty in the same process
(reasoning-gym builds items lazily on access, so every item is accessed). Goals: >= 2x
reasoning-gym's items/s; SAT generate+verify >= 2,000 tasks/s at n=20, k=3.

Run: ``python bench/generators.py [--items 300]`` (needs ``pip install reasoning-gym``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentgym.tasks.registry import generator_class


@dataclass(frozen=True)
class Comparison:
    """Our generator config and reasoning-gym's dataset config at equal difficulty."""

    label: str
    ours: str
    our_config: dict[str, Any]
    theirs: str
    their_config: dict[str, Any]


COMPARISONS: list[Comparison] = [
    # Equal difficulty: the same number of blanks (reasoning-gym sudoku is 9x9, unique solution).
    Comparison("sudoku 9x9, 30 empty", "puzzles/sudoku", {"size": 9, "givens": 51, "technique": "any"},
               "sudoku", {"min_empty": 30, "max_empty": 30}),
    Comparison("sudoku 9x9, 50 empty", "puzzles/sudoku", {"size": 9, "givens": 31, "technique": "any"},
               "sudoku", {"min_empty": 50, "max_empty": 50}),
    # Equal difficulty: the same board size and number of queens removed.
    Comparison("n-queens n=4, 2 removed", "puzzles/nqueens", {"n": 4, "n_removed": 2},
               "n_queens", {"n": 4, "min_remove": 2, "max_remove": 2}),
    Comparison("n-queens n=8, 6 removed", "puzzles/nqueens", {"n": 8, "n_removed": 6},
               "n_queens", {"n": 8, "min_remove": 6, "max_remove": 6}),
    # Equal difficulty: the same count of numbers, values 1..100, targets 100..999, all numbers used.
    Comparison("countdown, 4 numbers", "puzzles/countdown", {"n_numbers": 4, "use_all": True},
               "countdown", {"min_numbers": 4, "max_numbers": 4}),
    Comparison("countdown, 6 numbers", "puzzles/countdown", {"n_numbers": 6, "use_all": True},
               "countdown", {"min_numbers": 6, "max_numbers": 6}),
    # Equal difficulty: people, statement depth and width; one statement per person as theirs.
    Comparison("knights-knaves 2 people", "puzzles/knights_knaves",
               {"n_people": 2, "depth": 2, "width": 2, "one_statement_each": True},
               "knights_knaves", {"n_people": 2, "depth_constraint": 2, "width_constraint": 2}),
    Comparison("knights-knaves 5 people", "puzzles/knights_knaves",
               {"n_people": 5, "depth": 3, "width": 3, "one_statement_each": True},
               "knights_knaves", {"n_people": 5, "depth_constraint": 3, "width_constraint": 3}),
]  # fmt: skip


def items_per_s(make: Callable[[int], Any], n: int, repeats: int = 3) -> float:
    """Median items/s of ``make(i)`` for i in range(n)."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(n):
            make(i)
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def ours(comp: Comparison) -> Callable[[int], Any]:
    """Item i of our stream 0."""
    gen = generator_class(comp.ours)(**comp.our_config)
    return lambda i: gen.generate(0, i)


def theirs(comp: Comparison, n: int) -> Callable[[int], Any]:
    """Item i of a reasoning-gym dataset of size n (built inside the timing, as a user would)."""
    import reasoning_gym

    state: dict[str, Any] = {}

    def make(i: int) -> Any:
        if i == 0:
            state["ds"] = reasoning_gym.create_dataset(comp.theirs, seed=0, size=n, **comp.their_config)
        return state["ds"][i]

    return make


def sat_generate_verify(n: int) -> float:
    """SAT tasks/s for generate + verify of the reference answer at n=20, k=3."""
    gen = generator_class("puzzles/sat")(n_vars=20, k=3)

    def make(i: int) -> None:
        task = gen.generate(0, i)
        if not gen.verify(task, gen.reference_response(task)).passed:
            raise AssertionError("reference answer failed")

    return items_per_s(make, n)


def main() -> None:
    """Print the comparison table and the SAT figure."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=300)
    args = parser.parse_args()
    print(f"{'puzzle':28s} {'ours items/s':>14s} {'reasoning-gym':>14s} {'speedup':>9s}")
    for comp in COMPARISONS:
        ours_rate = items_per_s(ours(comp), args.items)
        their_rate = items_per_s(theirs(comp, args.items), args.items)
        print(f"{comp.label:28s} {ours_rate:14.0f} {their_rate:14.0f} {ours_rate / their_rate:8.1f}x")
    rate = sat_generate_verify(max(args.items, 2000))
    print(f"\nSAT generate+verify, n=20 k=3: {rate:,.0f} tasks/s (goal >= 2,000)")


if __name__ == "__main__":
    main()
