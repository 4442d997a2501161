"""Minesweeper's rules, shared by the env and the generator, and the constraint solver (the oracle).

A ``rows`` x ``cols`` board: each revealed cell shows how many of its (up to eight) neighbours hold
a mine. Revealing a zero floods the area around it (:func:`flood`); the game starts with the start
cell's area open (:func:`opening`); it is won when every safe cell is revealed (:func:`cleared`)
and lost on revealing a mine.

The solver (:func:`solver_move`) sees only what a player sees. It applies the single-cell rules
(a number whose mines are all found frees its other neighbours; one whose unknown neighbours must
all be mines marks them) and the subset rule between pairs of numbers; when nothing is certain it
enumerates the frontier's mine layouts (per connected part, up to ``MAX_ENUM`` cells) weighted by
the number of ways to place the remaining mines elsewhere, and reveals the cell least likely to
hold a mine. Guesses can be forced, so it does not always win; ``tests/games`` measures its win rate.
"""

from __future__ import annotations

from math import comb
from typing import Any

from agentgym.tasks.games.common import Cell

MAX_ENUM = 22
HIDDEN = "."


def around(cell: Cell, rows: int, cols: int) -> list[Cell]:
    """The up-to-eight neighbours of ``cell``."""
    r, c = cell
    return [
        (r + dr, c + dc)
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if (dr or dc) and 0 <= r + dr < rows and 0 <= c + dc < cols
    ]


def counts(mines: frozenset[Cell], rows: int, cols: int) -> list[list[int]]:
    """Each cell's number of neighbouring mines."""
    grid = [[0] * cols for _ in range(rows)]
    for mine in mines:
        for r, c in around(mine, rows, cols):
            grid[r][c] += 1
    return grid


_NEIGHBOURS: dict[tuple[int, int], dict[Cell, list[Cell]]] = {}


def neighbour_table(rows: int, cols: int) -> dict[Cell, list[Cell]]:
    """Each cell's neighbours (in :func:`around`'s order), computed once per board size."""
    table = _NEIGHBOURS.get((rows, cols))
    if table is None:
        cells = [(r, c) for r in range(rows) for c in range(cols)]
        table = _NEIGHBOURS[(rows, cols)] = {cell: around(cell, rows, cols) for cell in cells}
    return table


def flood(start: Cell, numbers: list[list[int]], mines: frozenset[Cell], revealed: set[Cell]) -> set[Cell]:
    """Reveal ``start`` and, through zeros, the area around it; returns the newly revealed cells.

    ``revealed`` is read, not copied; neighbours come from :func:`neighbour_table` (built once per
    board size), in :func:`around`'s order.
    """
    table = neighbour_table(len(numbers), len(numbers[0]))
    new: set[Cell] = set()
    stack = [start]
    while stack:
        cell = stack.pop()
        if cell in revealed or cell in new or cell in mines:
            continue
        new.add(cell)
        if numbers[cell[0]][cell[1]] == 0:
            stack.extend(table[cell])
    return new


def mines_of(answer: Any) -> frozenset[Cell]:
    """The mines of a task's answer (its sorted ``[row, col]`` list)."""
    return frozenset(tuple(m) for m in answer)  # type: ignore[misc]


def opening(spec: dict[str, Any], mines: frozenset[Cell]) -> dict[Cell, int]:
    """The cells revealed at the start (the start cell's flooded area) and their numbers."""
    numbers = counts(mines, spec["rows"], spec["cols"])
    area = flood(tuple(spec["start"]), numbers, mines, set())  # type: ignore[arg-type]
    return {cell: numbers[cell[0]][cell[1]] for cell in area}


def safe_cells(spec: dict[str, Any]) -> int:
    """How many cells hold no mine (all must be revealed to win)."""
    return spec["rows"] * spec["cols"] - spec["mines"]


def cleared(spec: dict[str, Any], revealed: int) -> bool:
    """True when ``revealed`` cells are every safe cell: the game is won."""
    return revealed == safe_cells(spec)


def solver_move(
    rows: int, cols: int, n_mines: int, revealed: dict[Cell, int]
) -> tuple[Cell, float, set[Cell]]:
    """The next cell to reveal, its mine probability (0.0 when certain) and the cells known to be mines."""
    hidden = [(r, c) for r in range(rows) for c in range(cols) if (r, c) not in revealed]
    constraints: list[tuple[frozenset[Cell], int]] = []
    for cell, number in revealed.items():
        unknown = frozenset(nb for nb in around(cell, rows, cols) if nb not in revealed)
        if unknown:
            constraints.append((unknown, number))
    mines, safe = _deduce(constraints)
    choices = sorted(safe)
    if choices:
        return choices[0], 0.0, mines
    probs = _probabilities(hidden, constraints, mines, n_mines)
    best = min(sorted(probs), key=lambda cell: probs[cell])
    return best, probs[best], mines


def _deduce(constraints: list[tuple[frozenset[Cell], int]]) -> tuple[set[Cell], set[Cell]]:
    mines: set[Cell] = set()
    safe: set[Cell] = set()
    changed = True
    while changed:
        changed = False
        reduced = []
        for cells, k in constraints:
            k -= len(cells & mines)
            cells = cells - mines - safe
            if cells:
                reduced.append((cells, k))
        constraints = reduced
        for cells, k in constraints:
            changed = _settle(cells, k, mines, safe) or changed
        if changed:
            continue
        for a, ka in constraints:
            for b, kb in constraints:
                if a < b:
                    changed = _settle(b - a, kb - ka, mines, safe) or changed
    return mines, safe - mines


def _settle(cells: frozenset[Cell], k: int, mines: set[Cell], safe: set[Cell]) -> bool:
    """Mark ``cells`` (holding ``k`` mines) all safe or all mines when that is certain and new."""
    if k == 0 and not cells <= safe:
        safe |= cells
        return True
    if k == len(cells) and not cells <= mines:
        mines |= cells
        return True
    return False


def _probabilities(
    hidden: list[Cell], constraints: list[tuple[frozenset[Cell], int]], mines: set[Cell], n_mines: int
) -> dict[Cell, float]:
    reduced = [(cells - mines, k - len(cells & mines)) for cells, k in constraints]
    reduced = [(c, k) for c, k in reduced if c]
    frontier = sorted({cell for cells, _ in reduced for cell in cells})
    others = [c for c in hidden if c not in mines and c not in set(frontier)]
    left = n_mines - len(mines)
    if not frontier or len(frontier) > MAX_ENUM:
        density = left / max(1, len(hidden) - len(mines))
        return {c: (1.0 if c in mines else density) for c in hidden}
    index = {cell: i for i, cell in enumerate(frontier)}
    cons = [([index[c] for c in cells], k) for cells, k in reduced]
    weights: dict[int, float] = {}  # mines in the frontier -> number of layouts
    per_cell: dict[int, list[float]] = {}
    assign = [0] * len(frontier)

    def consistent(upto: int) -> bool:
        for idx, k in cons:
            placed = sum(assign[i] for i in idx if i <= upto)
            open_ = sum(1 for i in idx if i > upto)
            if placed > k or placed + open_ < k:
                return False
        return True

    def walk(i: int) -> None:
        if i == len(frontier):
            m = sum(assign)
            weights[m] = weights.get(m, 0) + 1
            row = per_cell.setdefault(m, [0.0] * len(frontier))
            for j, v in enumerate(assign):
                row[j] += v
            return
        for value in (0, 1):
            assign[i] = value
            if consistent(i):
                walk(i + 1)
        assign[i] = 0

    walk(0)
    total = 0.0
    cell_w = [0.0] * len(frontier)
    other_w = 0.0
    for m, layouts in weights.items():
        rest = left - m
        if rest < 0 or rest > len(others):
            continue
        ways = layouts * comb(len(others), rest)
        total += ways
        for j in range(len(frontier)):
            cell_w[j] += per_cell[m][j] * comb(len(others), rest)
        other_w += ways * (rest / len(others) if others else 0.0)
    if total == 0:
        density = left / max(1, len(hidden) - len(mines))
        return {c: (1.0 if c in mines else density) for c in hidden}
    probs = {c: 1.0 for c in mines}
    probs.update({frontier[j]: cell_w[j] / total for j in range(len(frontier))})
    probs.update({c: other_w / total for c in others})
    return probs
