"""Maze rules, shared by the multi-turn env and the generator: moves, paths, answers and scores.

A maze is ASCII rows of ``2 * height + 1`` by ``2 * width + 1`` characters (``#`` wall, ``.`` open):
cell ``(row, col)`` sits at character ``(2 * row + 1, 2 * col + 1)`` and the character between two
neighbouring cells is the wall or passage between them. Rows grow downwards, columns to the
right. A move goes to a neighbouring cell through a passage (:func:`can_move`, :func:`step`); the
goal is reached when the walker stands on it (:func:`at_goal`). A run is scored by its
:func:`progress` towards the goal and its :func:`path_efficiency` against the shortest path.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from agentgym.verifiers.rule.answer import last_answer_block

MAX_ANSWER_CHARS = 100_000
MAX_MOVES = 20_000
WALL, OPEN = "#", "."
#: Direction name -> (row step, column step); this order is the BFS order, so paths are canonical.
DIRECTIONS: dict[str, tuple[int, int]] = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
_ALIASES = {
    "u": "up",
    "d": "down",
    "l": "left",
    "r": "right",
    "n": "up",
    "s": "down",
    "w": "left",
    "e": "right",
}
_ALIASES |= {"north": "up", "south": "down", "west": "left", "east": "right"} | {d: d for d in DIRECTIONS}
_TOKEN = re.compile(r"[\s,;|>\-\[\]()'\"]+")

Cell = tuple[int, int]


class MoveFormatError(ValueError):
    """A reply holds no readable move sequence; the message says what is wrong."""


def can_move(grid: list[str], cell: Cell, direction: str) -> bool:
    """True when the wall on ``direction``'s side of ``cell`` is open (the outer border never is)."""
    dr, dc = DIRECTIONS[direction]
    return grid[2 * cell[0] + 1 + dr][2 * cell[1] + 1 + dc] == OPEN


def step(cell: Cell, direction: str) -> Cell:
    """The neighbour of ``cell`` in ``direction`` (walls not checked)."""
    dr, dc = DIRECTIONS[direction]
    return (cell[0] + dr, cell[1] + dc)


def open_directions(grid: list[str], cell: Cell) -> list[str]:
    """The directions one can move from ``cell``, in the order up, down, left, right."""
    return [d for d in DIRECTIONS if can_move(grid, cell, d)]


def bfs(grid: list[str], source: Cell) -> dict[Cell, tuple[int, str | None]]:
    """Every reachable cell -> (distance from ``source``, the move that first reached it)."""
    found: dict[Cell, tuple[int, str | None]] = {source: (0, None)}
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for d in open_directions(grid, cell):
            nxt = step(cell, d)
            if nxt not in found:
                found[nxt] = (found[cell][0] + 1, d)
                queue.append(nxt)
    return found


def shortest_path(grid: list[str], source: Cell, target: Cell) -> list[str]:
    """The BFS shortest move sequence from ``source`` to ``target`` (canonical under DIRECTIONS order)."""
    found = bfs(grid, source)
    if target not in found:
        raise ValueError(f"{target} is unreachable from {source}")
    moves: list[str] = []
    cell = target
    while cell != source:
        d = found[cell][1]
        if d is None:  # only the source has no incoming move
            raise ValueError(f"broken BFS tree at {cell}")
        moves.append(d)
        dr, dc = DIRECTIONS[d]
        cell = (cell[0] - dr, cell[1] - dc)
    return moves[::-1]


def walk(grid: list[str], start: Cell, moves: list[str]) -> tuple[Cell, int | None]:
    """Follow ``moves`` from ``start``: (the cell reached, the index of the first move into a wall)."""
    cell = start
    for i, d in enumerate(moves):
        if not can_move(grid, cell, d):
            return cell, i
        cell = step(cell, d)
    return cell, None


def parse_direction(token: str) -> str | None:
    """The canonical direction a token names (``up``/``u``/``north``...), or None."""
    return _ALIASES.get(token.strip().lower())


def parse_moves(text: str) -> list[str]:
    """The move sequence of the last complete ``<answer>`` block; raises MoveFormatError."""
    if len(text) > MAX_ANSWER_CHARS:
        raise MoveFormatError(f"the reply is longer than {MAX_ANSWER_CHARS} characters")
    body = last_answer_block(text)
    if body is None:
        raise MoveFormatError("no <answer>...</answer> block found")
    tokens = [t for t in _TOKEN.split(body) if t]
    if not tokens:
        raise MoveFormatError("the answer is empty; list moves like 'up right down'")
    moves: list[str] = []
    for i, token in enumerate(tokens):
        d = parse_direction(token)
        if d is None and re.fullmatch(r"[udlrUDLR]+", token):  # compact form: UURDL
            moves.extend(_ALIASES[ch.lower()] for ch in token)
        elif d is None:
            raise MoveFormatError(f"token {i + 1} ({token[:20]!r}) is not a direction (up/down/left/right)")
        else:
            moves.append(d)
        if len(moves) > MAX_MOVES:
            raise MoveFormatError(f"more than {MAX_MOVES} moves")
    return moves


def render_maze(grid: list[str], marks: dict[Cell, str]) -> str:
    """The maze as text with single-character ``marks`` placed on cells (e.g. S and G)."""
    rows = [list(row) for row in grid]
    for (r, c), ch in marks.items():
        rows[2 * r + 1][2 * c + 1] = ch
    return "\n".join("".join(row) for row in rows)


def moves_answer(moves: list[str]) -> str:
    """A reply carrying ``moves`` as the final answer."""
    return "<answer>" + " ".join(moves) + "</answer>"


def at_goal(cell: Any, goal: Any) -> bool:
    """True when ``cell`` is the goal (either may be a list or a tuple)."""
    return tuple(cell) == tuple(goal)


def progress(remaining: int, shortest: int) -> float:
    """How much of the start's distance to the goal is covered, with ``remaining`` moves left to go."""
    return round(max(0.0, 1.0 - remaining / shortest), 4)


def path_efficiency(shortest: int, moves: int) -> float:
    """The shortest path's length over the moves used (1.0: a shortest path)."""
    return round(shortest / moves, 4)
