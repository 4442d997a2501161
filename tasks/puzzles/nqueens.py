"""N-queens completion (like reasoning-gym's ``n_queens``): finish a partial board to n safe queens.

A solution of the n-queens puzzle is drawn uniformly (all solutions of each n <= 12 are enumerated
once per process with a bitmask search and cached), then ``n_removed`` of its queens, in RNG-drawn
rows, are taken off. The partial board is completable by construction; ``spec["completions"]``
records how many full boards extend it. Any board with exactly n queens, none attacking another,
that keeps every given queen passes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.verifiers.rule.answer import last_answer_block

MIN_N, MAX_N = 4, 12
MAX_ANSWER_CHARS = 100_000
_SEPARATORS = str.maketrans("", "", " \t\r,;|[](){}\"'")
_QUEEN, _EMPTY = "Qq", "_.-"
SMALL = 10  # up to this many solutions, completions are counted in Python (numpy costs more)


@functools.cache
def all_solutions(n: int) -> np.ndarray:
    """Every n-queens solution as a row of queen columns (one per board row), in lexicographic order."""
    full = (1 << n) - 1
    cols = [0] * n
    out: list[tuple[int, ...]] = []

    def place(row: int, used: int, diag: int, anti: int) -> None:
        free = full & ~(used | diag | anti)
        while free:
            bit = free & -free
            free ^= bit
            cols[row] = bit.bit_length() - 1
            if row + 1 == n:
                out.append(tuple(cols))
            else:
                place(row + 1, used | bit, ((diag | bit) << 1) & full, (anti | bit) >> 1)

    place(0, 0, 0, 0)
    solutions = np.array(out, dtype=np.int8)
    solutions.setflags(write=False)
    return solutions


def complete(board: list[str], limit: int = 1) -> list[list[int]]:
    """Up to ``limit`` completions of a partial board (rows of ``Q``/``_``) as queen columns per row."""
    n = len(board)
    full = (1 << n) - 1
    fixed = [row.find("Q") for row in board]
    cols = list(fixed)
    out: list[list[int]] = []

    def place(row: int, used: int, diag: int, anti: int) -> bool:
        if row == n:
            out.append(list(cols))
            return len(out) >= limit
        # diag/anti hold the attacked squares of this row: shifted one step per row
        free = full & ~(used | diag | anti)
        if fixed[row] >= 0:
            free &= 1 << fixed[row]
        while free:
            bit = free & -free
            free ^= bit
            cols[row] = bit.bit_length() - 1
            if place(row + 1, used | bit, ((diag | bit) << 1) & full, (anti | bit) >> 1):
                return True
        return False

    place(0, 0, 0, 0)
    return out


@functools.cache
def _solution_tuples(n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(map(tuple, all_solutions(n).tolist()))


@functools.cache
def _rows(n: int) -> tuple[str, ...]:
    """Row strings with the queen in column c (index n: the empty row)."""
    return tuple(_row(n, c) for c in range(n + 1))


@dataclass(frozen=True)
class NQueensConfig(GeneratorConfig):
    """Board size ``n`` (4..12) and the number of queens taken off the full board, ``n_removed``."""

    n: int = 8
    n_removed: int = 4

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(MIN_N <= self.n <= MAX_N, self, "n", f"must be in [{MIN_N}, {MAX_N}]")
        require(1 <= self.n_removed <= self.n, self, "n_removed", f"must be in [1, n={self.n}]")


class NQueensGenerator(TaskGenerator):
    """Complete a partial n-queens board; the oracle completes it by bitmask search."""

    id = "puzzles/nqueens"
    config_cls = NQueensConfig
    difficulty_attrs = (
        DifficultyAttr("n", (4, 5, 6, 6, 8, 8, 10, 10, 12, 12), "board size"),
        DifficultyAttr("n_removed", (1, 2, 3, 4, 4, 6, 6, 8, 8, 10), "queens to place"),
    )
    instructions = (
        "You solve n-queens puzzles. Complete the board so that it holds exactly n queens and no two "
        "queens share a row, a column or a diagonal. Keep the queens already on the board."
    )
    answer_format = (
        "Give the full board inside answer tags, one row per line, Q for a queen and _ for an empty "
        "square, e.g. for n=4:\n<answer>\n_ Q _ _\n_ _ _ Q\nQ _ _ _\n_ _ Q _\n</answer>"
    )
    config: NQueensConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        n, k = self.config.n, self.config.n_removed
        solutions = all_solutions(n)
        draws = rng.random(n + 1).tolist()  # one call: n keys ordering the rows, then the solution
        pick = int(draws.pop() * len(solutions))
        kept = sorted(sorted(range(n), key=draws.__getitem__)[k:])
        rows = _rows(n)
        if len(solutions) > SMALL:
            sol = solutions[pick]
            completions = int(np.count_nonzero((solutions[:, kept] == sol[kept]).all(axis=1)))
            cols = sol.tolist()
        else:
            table = _solution_tuples(n)
            cols = list(table[pick])
            completions = sum(1 for s in table if all(s[r] == cols[r] for r in kept))
        board = [rows[n]] * n
        for r in kept:
            board[r] = rows[cols[r]]
        spec = {"n": n, "board": board, "n_removed": k, "completions": completions}
        return spec, [rows[c] for c in cols]

    def prompt(self, task: Task) -> str:
        """The partial board, squares separated by spaces."""
        n, k = task.spec["n"], task.spec["n_removed"]
        board = "\n".join(" ".join(row) for row in task.spec["board"])
        return (
            f"Complete this {n}x{n} board to {n} queens, none attacking another (no two in the same "
            f"row, column or diagonal). {n - k} queens are placed; place {k} more by turning "
            f"underscores (_) into Q.\n\n{board}"
        )

    def verify(self, task: Task, response: str) -> Verdict:
        """Pass with exactly n queens, no two attacking, every given queen kept."""
        n = task.spec["n"]
        try:
            queens = parse_board(response, n)
        except TaskError as exc:
            return Verdict(0.0, False, "nqueens", details={"format_error": str(exc)})
        placed = set(queens)
        missing = [(r, c) for r, row in enumerate(task.spec["board"]) for c, ch in enumerate(row)
                   if ch == "Q" and (r, c) not in placed]  # fmt: skip
        attacks = _attacking_pairs(queens)
        passed = len(queens) == n and not attacks and not missing
        details: dict[str, Any] = {
            "queens": len(queens),
            "attacking_pairs": attacks,
            "givens_kept": not missing,
        }
        if missing:
            details["feedback"] = (
                f"the given queen at row {missing[0][0] + 1}, column {missing[0][1] + 1} is gone"
            )
        elif len(queens) != n:
            details["feedback"] = f"the board has {len(queens)} queens, expected {n}"
        elif attacks:
            details["feedback"] = f"{attacks} pair(s) of queens attack each other"
        return Verdict(1.0 if passed else 0.0, passed, "nqueens", details=details)

    def reference_response(self, task: Task) -> str:
        """The stored full board."""
        return _answer(task.answer)

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The solution with one placed queen moved along its row (its new column holds two queens)."""
        n = task.spec["n"]
        rows = [r for r, row in enumerate(task.spec["board"]) if "Q" not in row]
        r = rows[int(rng.integers(len(rows)))]
        col = task.answer[r].index("Q")
        new = int(rng.integers(n - 1))
        board = list(task.answer)
        board[r] = _row(n, new if new < col else new + 1)
        return _answer(board)

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """The given queens kept, the others in a random order of the free columns."""
        n = task.spec["n"]
        board = list(task.spec["board"])
        free_rows = [r for r, row in enumerate(board) if "Q" not in row]
        used = {row.index("Q") for row in board if "Q" in row}
        free_cols = [c for c in range(n) if c not in used]
        for r, i in zip(free_rows, rng.permutation(len(free_cols)).tolist(), strict=True):
            board[r] = _row(n, free_cols[i])
        return _answer(board)

    def oracle_response(self, task: Task) -> str:
        """Complete the partial board (not the stored answer) by bitmask search."""
        found = complete(task.spec["board"])
        if not found:
            raise TaskError("the board has no completion (the generator guarantees one)")
        return _answer([_row(task.spec["n"], c) for c in found[0]])


def parse_board(response: str, n: int) -> list[tuple[int, int]]:
    """The final answer's queens as (row, column) pairs; raises TaskError if the board is unreadable.

    The board is n lines of n squares: ``Q`` (or ``q``) for a queen, ``_``, ``.`` or ``-`` for an
    empty square, squares separated by spaces or commas or not at all; blank lines are skipped.
    """
    body = last_answer_block(response)
    if body is None:
        raise TaskError("no <answer>...</answer> block found")
    if len(body) > MAX_ANSWER_CHARS:
        raise TaskError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    rows = [cells for line in body.splitlines() if (cells := line.translate(_SEPARATORS))]
    if len(rows) != n:
        raise TaskError(f"expected {n} rows, got {len(rows)}")
    queens = []
    for r, row in enumerate(rows):
        if len(row) != n:
            raise TaskError(f"row {r + 1} has {len(row)} squares, expected {n}")
        for c, ch in enumerate(row):
            if ch in _QUEEN:
                queens.append((r, c))
            elif ch not in _EMPTY:
                raise TaskError(f"{ch!r} is not a square (use Q for a queen, _ for empty)")
    return queens


def _attacking_pairs(queens: list[tuple[int, int]]) -> int:
    """How many pairs of queens share a row, a column or a diagonal."""
    pairs = 0
    for key in (lambda q: q[0], lambda q: q[1], lambda q: q[0] - q[1], lambda q: q[0] + q[1]):
        counts: dict[int, int] = {}
        for q in queens:
            counts[key(q)] = counts.get(key(q), 0) + 1
        pairs += sum(k * (k - 1) // 2 for k in counts.values())
    return pairs


def _row(n: int, col: int) -> str:
    return "".join("Q" if c == col else "_" for c in range(n))


def _answer(board: list[str]) -> str:
    return "<answer>\n" + "\n".join(" ".join(row) for row in board) + "\n</answer>"
