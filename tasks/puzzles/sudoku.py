"""Sudoku (4x4, 6x6, 9x9) with a unique solution, made by removing clues from a random full grid.

A random full grid (search with propagation, digits tried in an RNG-drawn order per cell) loses
clues in an RNG-drawn cell order while the puzzle stays unique (``technique="any"``) or solvable by
naked and hidden singles alone (``"singles"``), until ``givens`` clues are left. One pass, no retry:
if no clue can go before the target, the minimal puzzle reached is kept and ``spec["givens"]`` holds
its real count (9x9 passes end near 22-26). Blanking clue v at cell c keeps a unique puzzle iff no
solution puts another digit at c, which a bitmask solver (singles propagation, then search on the
most constrained cell) decides. ``spec["needs"]`` is ``"singles"`` when singles alone solve the
puzzle, else ``"search"``. Any grid keeping the givens with every row, column and box a permutation
passes (it is the unique solution anyway).
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

BOXES: dict[int, tuple[int, int]] = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
MIN_GIVENS: dict[int, int] = {4: 4, 6: 8, 9: 17}  # the fewest clues a unique grid can have
DEFAULT_GIVENS: dict[int, int] = {4: 7, 6: 16, 9: 30}
TECHNIQUES = ("singles", "any")
MAX_ANSWER_CHARS = 100_000
_SEPARATORS = str.maketrans("", "", " \t\r,;|[](){}\"'")
_CELLS = {**{str(d): d for d in range(10)}, ".": 0, "_": 0}  # 0, '.' and '_' read as blanks


@dataclass(frozen=True)
class _Geometry:
    n: int
    full: int
    units: tuple[tuple[int, ...], ...]  # rows, then columns, then boxes
    peers: tuple[tuple[int, ...], ...]
    cell_units: tuple[tuple[int, int, int], ...]  # (row, n + col, 2n + box) unit indices
    unit_bits: tuple[int, ...]  # the same three units as a bitmask over unit indices


@functools.cache
def geometry(size: int) -> _Geometry:
    """Units, peers and unit indices of every cell of a ``size`` x ``size`` grid."""
    br, bc = BOXES[size]
    rows = [tuple(r * size + c for c in range(size)) for r in range(size)]
    cols = [tuple(r * size + c for r in range(size)) for c in range(size)]
    corners = [(r0, c0) for r0 in range(0, size, br) for c0 in range(0, size, bc)]
    boxes = [tuple((r0 + r) * size + c0 + c for r in range(br) for c in range(bc)) for r0, c0 in corners]
    units = (*rows, *cols, *boxes)
    cell_units, peers = [], []
    for cell in range(size * size):
        r, c = divmod(cell, size)
        b = (r // br) * (size // bc) + c // bc
        cell_units.append((r, size + c, 2 * size + b))
        peers.append(tuple(sorted({p for u in (rows[r], cols[c], boxes[b]) for p in u} - {cell})))
    unit_bits = tuple(sum(1 << u for u in cu) for cu in cell_units)
    return _Geometry(size, (1 << size) - 1, units, tuple(peers), tuple(cell_units), unit_bits)


def propagate(cand: list[int], todo: list[int], geo: _Geometry, dirty: int = -1) -> bool:
    """Apply naked and hidden singles to candidate bitmasks in place; False on a contradiction.

    ``todo`` lists the solved cells whose digit is not yet removed from their peers; ``dirty`` is a
    bitmask of the units whose cells changed since they were last scanned for hidden singles (-1: all).
    """
    peers, units, full, unit_bits = geo.peers, geo.units, geo.full, geo.unit_bits
    if dirty < 0:
        dirty = (1 << len(units)) - 1
    while True:
        while todo:
            c = todo.pop()
            b = cand[c]
            for p in peers[c]:
                x = cand[p]
                if x & b:
                    x ^= b
                    if not x:
                        return False
                    cand[p] = x
                    dirty |= unit_bits[p]
                    if not x & (x - 1):
                        todo.append(p)
        while dirty:
            low = dirty & -dirty
            dirty ^= low
            unit = units[low.bit_length() - 1]
            once = twice = 0
            for c in unit:
                x = cand[c]
                twice |= once & x
                once |= x
            if once != full:
                return False
            only = once & ~twice
            if only:
                for c in unit:
                    x = cand[c] & only
                    if x and x != cand[c]:
                        if x & (x - 1):
                            return False  # two digits that each fit only this cell
                        cand[c] = x
                        todo.append(c)
                        dirty |= unit_bits[c]
        if not todo:
            return True


def _search(cand: list[int], geo: _Geometry, limit: int, out: list[list[int]], prio: Any = None) -> int:
    """Count solutions (up to ``limit``) of a propagated state, appending them to ``out``."""
    best, best_k = -1, 99
    for i, x in enumerate(cand):
        if x & (x - 1) and (k := x.bit_count()) < best_k:
            best, best_k = i, k
            if k == 2:
                break
    if best < 0:
        out.append(cand)
        return 1
    x = cand[best]
    bits = [1 << d for d in range(geo.n) if x >> d & 1]
    if prio is not None:
        order = prio[best]
        bits.sort(key=lambda b: order[b.bit_length() - 1])
    count = 0
    for b in bits:
        nxt = cand[:]
        nxt[best] = b
        if propagate(nxt, [best], geo, geo.unit_bits[best]):
            count += _search(nxt, geo, limit - count, out, prio)
            if count >= limit:
                break
    return count


def _settled(
    grid: list[int], geo: _Geometry, seen: list[int] | None = None, ban: tuple[int, int] = (0, 0)
) -> list[int] | None:
    """Candidates of ``grid`` (0 = blank) after singles propagation; None on a contradiction.

    ``seen[u]`` is the digits given in unit u (computed unless passed); ``ban = (cell, bits)``
    removes those candidate bits from that cell first.
    """
    if seen is None:
        seen = [0] * (3 * geo.n)
        for v, units in zip(grid, geo.cell_units, strict=True):
            for u in units if v else ():
                if seen[u] >> (v - 1) & 1:
                    return None  # two givens clash
                seen[u] |= 1 << (v - 1)
    cand = [
        1 << (v - 1) if v else geo.full & ~(seen[r] | seen[c] | seen[bx])
        for v, (r, c, bx) in zip(grid, geo.cell_units, strict=True)
    ]
    cand[ban[0]] &= ~ban[1]
    todo = [i for i, x in enumerate(cand) if not grid[i] and not x & (x - 1)]
    return cand if 0 not in cand and propagate(cand, todo, geo) else None


def solve(grid: list[int], size: int, limit: int = 2) -> list[list[int]]:
    """Up to ``limit`` solutions of ``grid`` (row-major digits, 0 = blank), as digit lists."""
    geo, out = geometry(size), []
    if (cand := _settled(grid, geo)) is not None:
        _search(cand, geo, limit, out)
    return [[x.bit_length() for x in s] for s in out]


def solved_by_singles(grid: list[int], size: int) -> bool:
    """True when naked and hidden singles alone fill ``grid``."""
    cand = _settled(grid, geometry(size))
    return cand is not None and all(not x & (x - 1) for x in cand)


def _random_grid(geo: _Geometry, rng: np.random.Generator) -> list[int]:
    """A random full grid: shuffled diagonal boxes, the rest by search in a per-cell random digit order."""
    n = geo.n
    k = 1 if n == 4 else min(n // BOXES[n][0], n // BOXES[n][1])  # two 4x4 boxes clash half the time
    diagonal = [geo.units[2 * n + i * (n // BOXES[n][1]) + i] for i in range(k)]
    draws = rng.random((n * n + k, n))
    prio = draws[: n * n].tolist()
    cand = [geo.full] * (n * n)
    for box, perm in zip(diagonal, np.argsort(draws[n * n :], axis=1).tolist(), strict=True):
        for cell, d in zip(box, perm, strict=True):
            cand[cell] = 1 << d
    out: list[list[int]] = []
    if not propagate(cand, [c for box in diagonal for c in box], geo) or not _search(cand, geo, 1, out, prio):
        _search([geo.full] * (n * n), geo, 1, out, prio)
    return [x.bit_length() for x in out[0]]


def _removable(grid: list[int], cell: int, v: int, seen: list[int], geo: _Geometry, singles: bool) -> bool:
    """Whether blanking ``cell`` (digit ``v``, already 0 in ``grid`` and ``seen``) keeps the property."""
    b = 1 << (v - 1)
    cu = geo.cell_units
    r, c, bx = cu[cell]
    if seen[r] | seen[c] | seen[bx] | b == geo.full:
        return True  # a naked single straight from the givens
    for u in cu[cell]:  # a hidden single: every other blank of a unit already sees v
        if all(
            e == cell or grid[e] or (seen[cu[e][0]] | seen[cu[e][1]] | seen[cu[e][2]]) & b
            for e in geo.units[u]
        ):
            return True
    if singles:
        return (cand := _settled(grid, geo, seen)) is not None and all(not x & (x - 1) for x in cand)
    cand = _settled(grid, geo, seen, (cell, b))  # unique iff no solution puts another digit here
    return cand is None or _search(cand, geo, 1, []) == 0


def make_puzzle(
    size: int, givens: int, technique: str, rng: np.random.Generator
) -> tuple[list[int], list[int]]:
    """(puzzle, solution) as row-major digit lists (0 = blank); see the module docstring."""
    geo = geometry(size)
    solution = _random_grid(geo, rng)
    grid = solution[:]
    seen = [geo.full] * (3 * size)  # digits given per unit: all of them in a full grid
    left = size * size
    singles = technique == "singles"
    for cell in rng.permutation(size * size).tolist():
        if left <= givens:
            break
        v = grid[cell]
        grid[cell] = 0
        b = 1 << (v - 1)
        for u in geo.cell_units[cell]:
            seen[u] ^= b
        if _removable(grid, cell, v, seen, geo, singles):
            left -= 1
        else:
            grid[cell] = v
            for u in geo.cell_units[cell]:
                seen[u] |= b
    return grid, solution


@dataclass(frozen=True)
class SudokuConfig(GeneratorConfig):
    """Grid ``size`` (4, 6 or 9), target clue count ``givens`` (None: a per-size default), ``technique``."""

    size: int = 9
    givens: int | None = None
    technique: str = "any"

    @property
    def target_givens(self) -> int:
        """The clue count aimed at."""
        return self.givens if self.givens is not None else DEFAULT_GIVENS[self.size]

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(self.size in BOXES, self, "size", f"must be one of {sorted(BOXES)}")
        lo, hi = MIN_GIVENS[self.size], self.size * self.size - 1
        g = self.givens
        ok = g is None or (isinstance(g, int) and not isinstance(g, bool) and lo <= g <= hi)
        require(ok, self, "givens", f"must be None or an int in [{lo}, {hi}] for size {self.size}")
        require(self.technique in TECHNIQUES, self, "technique", f"must be one of {TECHNIQUES}")


class SudokuGenerator(TaskGenerator):
    """Unique-solution Sudoku; the oracle solves the puzzle with the bitmask solver."""

    id = "puzzles/sudoku"
    config_cls = SudokuConfig
    difficulty_attrs = (
        DifficultyAttr("size", (4, 4, 6, 6, 9, 9, 9, 9, 9, 9), "grid size (4x4, 6x6 or 9x9)"),
        DifficultyAttr("givens", (10, 6, 22, 14, 45, 38, 32, 28, 25, 22), "clues given (fewer is harder)"),
    )
    instructions = (
        "You solve Sudoku puzzles. Fill every blank cell ('.') with a digit so that every row, every "
        "column and every box contains each digit exactly once. Keep the given digits."
    )
    answer_format = (
        "Give the completed grid inside answer tags, one row per line, digits separated by spaces, "
        "e.g. for a 4x4 grid:\n<answer>\n1 2 3 4\n3 4 1 2\n2 1 4 3\n4 3 2 1\n</answer>"
    )
    config: SudokuConfig

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        c = self.config
        puzzle, solution = make_puzzle(c.size, c.target_givens, c.technique, rng)
        needs = "singles" if c.technique == "singles" or solved_by_singles(puzzle, c.size) else "search"
        spec = {"size": c.size, "box": list(BOXES[c.size]), "puzzle": _rows(puzzle, c.size, ".")}
        spec.update(givens=sum(1 for v in puzzle if v), needs=needs)
        return spec, _rows(solution, c.size, ".")

    def difficulty(self) -> dict[str, float]:
        """Size, target clue count and the technique asked for."""
        return {
            "size": self.config.size,
            "givens": self.config.target_givens,
            "technique": self.config.technique,
        }

    def prompt(self, task: Task) -> str:
        """The grid with box separators, blanks as '.'."""
        n, (br, bc) = task.spec["size"], task.spec["box"]
        lines = []
        for r, row in enumerate(task.spec["puzzle"]):
            if r and r % br == 0:
                lines.append("-+-".join("-" * (2 * bc - 1) for _ in range(n // bc)))
            lines.append(" | ".join(" ".join(row[i : i + bc]) for i in range(0, n, bc)))
        return (
            f"Solve this {n}x{n} Sudoku. Boxes are {br} rows by {bc} columns; use the digits 1-{n}. "
            f"Blanks are '.'; {task.spec['givens']} digits are given.\n\n" + "\n".join(lines)
        )

    def verify(self, task: Task, response: str) -> Verdict:
        """Pass when the answer keeps every given and every row, column and box is a permutation."""
        n = task.spec["size"]
        try:
            grid = parse_grid(response, n)
        except TaskError as exc:
            return Verdict(0.0, False, "sudoku", details={"format_error": str(exc)})
        puzzle = "".join(task.spec["puzzle"])
        changed = [i for i, ch in enumerate(puzzle) if ch != "." and grid[i] != int(ch)]
        want = set(range(1, n + 1))
        bad = [u for u, unit in enumerate(geometry(n).units) if {grid[i] for i in unit} != want]
        passed = not changed and not bad
        details: dict[str, Any] = {"givens_kept": not changed, "valid_units": 3 * n - len(bad)}
        if changed:
            r, c = divmod(changed[0], n)
            details["feedback"] = f"the given {puzzle[changed[0]]} at row {r + 1}, column {c + 1} was changed"
        elif bad:
            kind, k = ("row", "column", "box")[bad[0] // n], bad[0] % n + 1
            details["feedback"] = f"{kind} {k} does not hold each digit 1-{n} exactly once"
        return Verdict(1.0 if passed else 0.0, passed, "sudoku", details=details)

    def reference_response(self, task: Task) -> str:
        """The stored solution."""
        return _answer(task.answer)

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The solution with two cells of one row swapped (blank cells preferred): columns then clash."""
        n = task.spec["size"]
        rows = [list(r) for r in task.answer]
        blanks = [[i for i, ch in enumerate(row) if ch == "."] for row in task.spec["puzzle"]]
        choices = [(r, cols) for r, cols in enumerate(blanks) if len(cols) >= 2] or [(0, list(range(n)))]
        r, cols = choices[int(rng.integers(len(choices)))]
        a, b = rng.choice(cols, size=2, replace=False).tolist()
        rows[r][a], rows[r][b] = rows[r][b], rows[r][a]
        return _answer(["".join(row) for row in rows])

    def random_response(self, task: Task, rng: np.random.Generator) -> str:
        """The givens kept, every blank a uniformly random digit."""
        n = task.spec["size"]
        digits = iter(rng.integers(1, n + 1, size=n * n).tolist())
        rows = ["".join(ch if ch != "." else str(next(digits)) for ch in r) for r in task.spec["puzzle"]]
        return _answer(rows)

    def oracle_response(self, task: Task) -> str:
        """Solve the puzzle (not the stored answer) with the bitmask solver."""
        n = task.spec["size"]
        solutions = solve([_CELLS[ch] for ch in "".join(task.spec["puzzle"])], n, limit=1)
        if not solutions:
            raise TaskError("the Sudoku has no solution (the generator guarantees one)")
        return _answer(_rows(solutions[0], n, "."))


def parse_grid(response: str, n: int) -> list[int]:
    """The final answer's grid as row-major digits (0 for a blank); raises TaskError if unreadable.

    Rows go on lines (box separator lines such as ``---+---`` are skipped); digits may be separated
    by spaces, commas or ``|`` or not at all; ``.``, ``_`` or ``0`` is read as a blank (a wrong
    answer, not an unreadable one). All n*n cells on fewer lines are read in row-major order.
    """
    body = last_answer_block(response)
    if body is None:
        raise TaskError("no <answer>...</answer> block found")
    if len(body) > MAX_ANSWER_CHARS:
        raise TaskError(f"the answer is longer than {MAX_ANSWER_CHARS} characters")
    rows = [cells for line in body.splitlines() if (cells := line.translate(_SEPARATORS).strip("-+="))]
    for r, row in enumerate(rows if len(rows) == n else ()):
        if len(row) != n:
            raise TaskError(f"row {r + 1} has {len(row)} cells, expected {n}")
    flat = "".join(rows)
    if len(flat) != n * n:
        raise TaskError(f"expected {n} rows of {n} digits ({n * n} cells), got {len(flat)} cells")
    bad = next((ch for ch in flat if ch not in _CELLS), None)
    if bad is not None:
        raise TaskError(f"{bad!r} is not a digit")
    return [_CELLS[ch] for ch in flat]


def _rows(grid: list[int], n: int, blank: str) -> list[str]:
    return ["".join(str(v) if v else blank for v in grid[r * n : (r + 1) * n]) for r in range(n)]


def _answer(rows: list[str]) -> str:
    return "<answer>\n" + "\n".join(" ".join(row) for row in rows) + "\n</answer>"
