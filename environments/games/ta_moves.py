"""Candidate moves for TextArena games (the random-legal policy of ``TextArenaEnv.sample_action``).

TextArena has no legal-move API. Candidates come, in order of trust, from: a game-specific reader
of the game state (ConnectFour, Nim, Minesweeper, TicTacToe and Wild/Reverse TicTacToe); the bracketed
moves on a line of the latest observation that lists valid/available/legal moves or actions (e.g.
Othello's ``Valid moves: '[2, 3]'``, KuhnPoker's ``available actions``), or such a list without
brackets (``Available Moves: up, down``); and otherwise the bracketed examples in everything the
seat has been told, with each number redrawn in ``0..9`` (so ``'[col 4]'`` also yields ``[col 2]``).
The share of candidates a game accepts is measured per game in ``ta_catalog.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MAX_TEXT = 50_000
_BRACKET = re.compile(r"\[([^\[\]\n]{1,40})\]")
_LIST_LINE = re.compile(
    r"(valid|available|legal|possible)[^\n:]{0,30}(moves?|actions?|options?)[^\n:]{0,20}:", re.I
)
_ROLE_TAG = re.compile(r"^(GAME|Player \d+|[A-Z][a-z]+ \d+)$")
_NUMBER = re.compile(r"\d+")


def _connect_four(env: Any) -> list[str]:
    board = env.state.game_state["board"]
    return [f"[col {c}]" for c in range(len(board[0])) if board[0][c] == "."]


def _nim(env: Any) -> list[str]:
    piles = env.state.game_state["piles"]
    return [f"[{i} {q}]" for i, n in enumerate(piles) for q in range(1, n + 1)]


def _minesweeper(env: Any) -> list[str]:
    return [f"[{r} {c}]" for r in range(env.rows) for c in range(env.cols) if not env.revealed[r][c]]


def _tictactoe(env: Any) -> list[str]:
    board = env.state.game_state["board"]
    n = len(board)
    return [f"[{r * n + c}]" for r in range(n) for c in range(n) if board[r][c] in ("", " ", None)]


STATE_READERS: dict[str, Callable[[Any], list[str]]] = {
    "ConnectFour-v0": _connect_four,
    "Nim-v0": _nim,
    "Minesweeper-v0": _minesweeper,
    "TicTacToe-v0": _tictactoe,
    "ReverseTicTacToe-v0": _tictactoe,
}


def _listed_moves(text: str) -> list[str]:
    """Moves on the last line that lists valid/available moves (bracketed, or comma-separated)."""
    lines = [line for line in text.splitlines() if _LIST_LINE.search(line)]
    if not lines:
        return []
    line = lines[-1]
    bracketed = [f"[{m}]" for m in _BRACKET.findall(line) if not _ROLE_TAG.match(m)]
    if bracketed:
        return list(dict.fromkeys(bracketed))
    tail = line.split(":", 1)[1]
    words = [w.strip(" '\".") for w in tail.split(",")]
    return [f"[{w}]" for w in words if w and len(w) <= 40]


def _templated(text: str, pick: int) -> list[str]:
    """Bracketed examples in ``text``, each number replaced by ``pick`` (a digit chosen by the caller)."""
    out = []
    for inner in _BRACKET.findall(text):
        if _ROLE_TAG.match(inner.strip()):
            continue
        out.append("[" + _NUMBER.sub(lambda m: str((pick + len(m.group())) % 10), inner) + "]")
        out.append(f"[{inner}]")
    return list(dict.fromkeys(out))


def candidate_moves(game: str, env: Any, latest: str, history: str = "", pick: int = 0) -> list[str]:
    """Plausible moves for the seat to act, most trustworthy source first (empty when none is found)."""
    reader = STATE_READERS.get(game)
    if reader is not None:
        try:
            moves = reader(env)
            if moves:
                return moves
        except (AttributeError, KeyError, IndexError, TypeError):
            pass  # the game changed shape: fall back on the text
    moves = _listed_moves(latest[-MAX_TEXT:])
    if moves:
        return moves
    return _templated((history + "\n" + latest)[-MAX_TEXT:], pick)
