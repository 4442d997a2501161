"""Minesweeper boards with a safe opening, and a constraint-based solver (the oracle).

A ``rows`` x ``cols`` board holds ``mines`` mines placed uniformly at random outside a start cell
and its neighbours, so the start cell shows 0 and the first reveal opens an area (first click
safe). The game starts with that area revealed. The task's answer is the sorted mine list.

The solver (:func:`solver_move`) sees only what a player sees. It applies the single-cell rules
(a number whose mines are all found frees its other neighbours; one whose unknown neighbours must
all be mines marks them) and the subset rule between pairs of numbers; when nothing is certain it
enumerates the frontier's mine layouts (per connected part, up to ``MAX_ENUM`` cells) weighted by
the number of ways to place the remaining mines elsewhere, and reveals the cell least likely to
hold a mine. Guesses can be forced, so it does not always win; ``tests/games`` measures its win rate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np

from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.games.common import Cell
from agentgym.verifiers.rule.answer import last_answer_block

MAX_ENUM = 22
HIDDEN, MINE_MARK = ".", "F"


@dataclass(frozen=True)
class MinesweeperConfig(GeneratorConfig):
    """A ``rows`` x ``cols`` board with ``mines`` mines."""

    rows: int = 6
    cols: int = 6
    mines: int = 5

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        require(4 <= self.rows <= 30, self, "rows", "must be in [4, 30]")
        require(4 <= self.cols <= 30, self, "cols", "must be in [4, 30]")
        require(1 <= self.mines <= self.rows * self.cols - 9, self, "mines", "must be in [1, rows*cols-9]")


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


class MinesweeperGenerator(TaskGenerator):
    """Minesweeper boards with a revealed safe opening; the answer is where the mines are."""

    id = "games/minesweeper"
    family = "games"
    config_cls = MinesweeperConfig
    difficulty_attrs = (
        DifficultyAttr("rows", (5, 6, 8, 9, 12)),
        DifficultyAttr("cols", (5, 6, 8, 9, 12)),
        DifficultyAttr("mines", (3, 5, 10, 12, 24)),
    )
    instructions = "Find every mine on this Minesweeper board ('.' hidden, digits count neighbouring mines)."
    answer_format = (
        "List the mines as 'row col' pairs inside <answer></answer> tags, e.g. <answer>0 3; 2 1</answer>."
    )

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        cfg: MinesweeperConfig = self.config  # type: ignore[assignment]
        start = (int(rng.integers(cfg.rows)), int(rng.integers(cfg.cols)))
        banned = {start, *around(start, cfg.rows, cfg.cols)}
        cells = [(r, c) for r in range(cfg.rows) for c in range(cfg.cols) if (r, c) not in banned]
        picks = rng.choice(len(cells), size=cfg.mines, replace=False)
        mines = sorted(cells[int(i)] for i in picks)
        layout = hashlib.sha256(repr(mines).encode()).hexdigest()[:16]  # task ids differ per board
        spec = {
            "rows": cfg.rows,
            "cols": cfg.cols,
            "mines": cfg.mines,
            "start": list(start),
            "layout": layout,
        }
        return spec, [list(m) for m in mines]

    def opening(self, task: Task) -> dict[Cell, int]:
        """The cells revealed at the start and their numbers."""
        mines = frozenset(tuple(m) for m in task.answer)
        numbers = counts(mines, task.spec["rows"], task.spec["cols"])  # type: ignore[arg-type]
        area = flood(tuple(task.spec["start"]), numbers, mines, set())  # type: ignore[arg-type]
        return {cell: numbers[cell[0]][cell[1]] for cell in area}

    def prompt(self, task: Task) -> str:
        """The rules, the opened board and the answer format."""
        shown = self.opening(task)
        rows = [
            " ".join(str(shown[(r, c)]) if (r, c) in shown else HIDDEN for c in range(task.spec["cols"]))
            for r in range(task.spec["rows"])
        ]
        return (
            f"{self.instructions} There are {task.spec['mines']} mines.\n\n"
            + "\n".join(rows)
            + f"\n\n{self.answer_format}"
        )

    def verify(self, task: Task, response: str) -> Verdict:
        """Passed when the answered set of mines is exactly the board's; score = Jaccard overlap."""
        block = last_answer_block(response[-20_000:])
        if block is None:
            return Verdict(0.0, False, kind="minesweeper", details={"format_error": "no <answer> block"})
        nums = [int(x) for x in block.replace(",", " ").replace(";", " ").split() if x.isdigit()][:2000]
        if len(nums) % 2:
            return Verdict(
                0.0, False, kind="minesweeper", details={"format_error": "odd number of coordinates"}
            )
        said = {(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)}
        truth = {tuple(m) for m in task.answer}
        score = len(said & truth) / len(said | truth) if said | truth else 1.0
        return Verdict(score, said == truth, kind="minesweeper", details={"found": len(said & truth)})

    def reference_response(self, task: Task) -> str:
        """The mine list."""
        return "<answer>" + "; ".join(f"{r} {c}" for r, c in task.answer) + "</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The mine list without its first mine."""
        return "<answer>" + "; ".join(f"{r} {c}" for r, c in task.answer[1:]) + "</answer>"
