"""Grid-game rules shared by the games' envs and generators: directions, move parsing, answer format.

A rules module: it holds no generator (the move-string generator base is in :mod:`.move_string`),
so envs may import it.
"""

from __future__ import annotations

import re

import numpy as np

from agentgym.verifiers.rule.answer import last_answer_block

MAX_ANSWER_CHARS = 20_000
#: Direction -> (row step, column step).
DIRECTIONS: dict[str, tuple[int, int]] = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
ALIASES = {"u": "up", "d": "down", "l": "left", "r": "right", "w": "up", "s": "down", "a": "left"}
ALIASES |= {"north": "up", "south": "down", "west": "left", "east": "right"} | {d: d for d in DIRECTIONS}
LETTER = {"up": "U", "down": "D", "left": "L", "right": "R"}
FROM_LETTER = {v: k for k, v in LETTER.items()}
_BRACKET = re.compile(r"\[([^\[\]\n]{1,60})\]")
_TOKEN = re.compile(r"[\s,;|>\-\[\]()'\"]+")

Cell = tuple[int, int]


def last_bracketed(text: str) -> str | None:
    """The body of the last ``[...]`` in ``text`` (stripped, lower-case), or None."""
    found = _BRACKET.findall(text[-MAX_ANSWER_CHARS:])
    return found[-1].strip().lower() if found else None


def parse_direction(text: str) -> str | None:
    """A direction from a reply: the last ``[move]``, else the whole reply when it is one direction word."""
    body = last_bracketed(text)
    if body is None:
        body = text.strip().strip(".!").lower()
        if len(body) > 10:
            return None
    return ALIASES.get(body.removeprefix("move").strip(" :"))


def parse_move_string(text: str) -> list[str] | None:
    """The moves of an ``<answer>`` block (``UDLR`` letters or direction words); None when unreadable."""
    block = last_answer_block(text[-MAX_ANSWER_CHARS * 2 :])
    if block is None or len(block) > MAX_ANSWER_CHARS:
        return None
    body = block.strip()
    if body and all(ch in "UDLRudlr" for ch in body):
        return [FROM_LETTER[ch.upper()] for ch in body]
    words = [w for w in _TOKEN.split(body.lower()) if w]
    moves = [ALIASES.get(w) for w in words]
    return None if any(m is None for m in moves) else moves  # type: ignore[return-value]


def neighbours(cell: Cell, rows: int, cols: int) -> list[Cell]:
    """The up-to-four orthogonal neighbours of ``cell`` inside the grid."""
    r, c = cell
    return [(r + dr, c + dc) for dr, dc in DIRECTIONS.values() if 0 <= r + dr < rows and 0 <= c + dc < cols]


def moves_answer_format(example: str) -> str:
    """The answer format of a move-string task (``example``: a sample answer)."""
    return (
        "Give your moves inside <answer></answer> tags as letters U, D, L, R "
        f"(e.g. <answer>{example}</answer>)."
    )


def random_move(rng: np.random.Generator) -> str:
    """A random direction, written as ``[direction]``."""
    return f"[{list(DIRECTIONS)[int(rng.integers(4))]}]"
