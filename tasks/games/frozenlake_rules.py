"""FrozenLake's rules, shared by the env and the generator, and the oracles on a known map.

A lake is rows of tiles: ``S`` start (top-left), ``F`` frozen, ``H`` hole, ``G`` goal
(bottom-right). A move goes one cell; moving off the edge leaves the player in place. Stepping
on a hole loses and reaching the goal wins (:func:`ends_game`, :func:`walk`). On the slippery lake
(Gymnasium's rule) a move goes the intended way with probability 1/3 and to each perpendicular
side with 1/3 (:func:`slip`). The oracles: :func:`shortest_path` (non-slippery: it always wins)
and :func:`optimal_policy`, value iteration over the known map.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from agentgym.tasks.games.common import DIRECTIONS, Cell

START: Cell = (0, 0)
HOLE, GOAL = "H", "G"
#: The tiles that end the game.
ENDS = HOLE + GOAL
PERPENDICULAR = {
    "up": ("left", "right"),
    "down": ("right", "left"),
    "left": ("down", "up"),
    "right": ("up", "down"),
}


def tile(grid: list[str], cell: Cell) -> str:
    """The tile at ``cell``."""
    return grid[cell[0]][cell[1]]


def ends_game(mark: str) -> bool:
    """True when stepping on tile ``mark`` ends the game (a hole or the goal)."""
    return mark in ENDS


def slip(direction: str, draw: int) -> str:
    """Where a move chosen as ``direction`` goes on slippery ice, for a uniform ``draw`` in 0..2."""
    return (direction, *PERPENDICULAR[direction])[draw]


def walk(grid: list[str], moves: list[str], start: Cell = START) -> Cell:
    """Where ``moves`` (non-slippery) lead from ``start``; the walk stops where the game ends."""
    cell = start
    for direction in moves:
        cell = move(grid, cell, direction)
        if ends_game(tile(grid, cell)):
            break
    return cell


def move(grid: list[str], cell: Cell, direction: str) -> Cell:
    """Where a move from ``cell`` lands (the edge stops it)."""
    dr, dc = DIRECTIONS[direction]
    r, c = cell[0] + dr, cell[1] + dc
    return (r, c) if 0 <= r < len(grid) and 0 <= c < len(grid[0]) else cell


def shortest_path(grid: list[str], start: Cell) -> list[str] | None:
    """A shortest hole-free path from ``start`` to G (BFS), or None."""
    n = len(grid)
    goal = (n - 1, len(grid[0]) - 1)
    parents: dict[Cell, tuple[Cell, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            path = []
            while parents[cell] is not None:
                cell, d = parents[cell]  # type: ignore[misc]
                path.append(d)
            return path[::-1]
        for d in DIRECTIONS:
            nxt = move(grid, cell, d)
            if nxt not in parents and grid[nxt[0]][nxt[1]] != "H":
                parents[nxt] = (cell, d)
                queue.append(nxt)
    return None


def optimal_policy(grid: list[str], sweeps: int = 2000, tol: float = 1e-10) -> dict[Cell, str]:
    """The best move per cell on the slippery lake (value iteration; value = chance to reach G)."""
    rows, cols = len(grid), len(grid[0])
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    names = list(DIRECTIONS)
    nxt = np.array([[r2 * cols + c2 for r2, c2 in (move(grid, cell, d) for d in names)] for cell in cells])
    outs = [[names.index(o) for o in (d, *PERPENDICULAR[d])] for d in names]
    tiles = np.array([grid[r][c] for r, c in cells])
    free = (tiles != "H") & (tiles != "G")
    value = (tiles == "G").astype(float)
    q = np.zeros((len(cells), 4))
    for _ in range(sweeps):
        for a, (o1, o2, o3) in enumerate(outs):
            q[:, a] = (value[nxt[:, o1]] + value[nxt[:, o2]] + value[nxt[:, o3]]) / 3
        new = np.where(free, q.max(axis=1), value)
        delta = float(np.abs(new - value).max())
        value = new
        if delta < tol:
            break
    best = np.argmax(np.round(q, 12), axis=1)  # ties: the first direction in DIRECTIONS order
    return {cell: names[int(best[i])] for i, cell in enumerate(cells)}
