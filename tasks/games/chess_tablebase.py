"""Distance-to-mate tables for king and queen or rook against a lone king (KQK, KRK).

White has a king and one piece (``"Q"`` or ``"R"``), Black a lone king. A position is three squares
(``0`` = a1 ... ``63`` = h8, python-chess numbering) and the side to move; its index in a table is
``(white_king * 64 + piece) * 64 + black_king``. Each table holds two ``int8`` arrays of ``64**3``:

- ``white[i]``: White to move; ``n >= 1`` when White mates in ``n`` moves against best defence,
  ``-1`` when the position is illegal or not won.
- ``black[i]``: Black to move; ``n >= 0`` when White mates in ``n`` more moves whatever Black plays
  (``0``: Black is mated), ``-1`` when illegal or not lost (stalemate, or the piece can be taken).

The tables are built by retrograde analysis over every position, both sides to move: from the
mates, a White-to-move position is won in ``n`` when one of its moves reaches a lost position of
``n - 1``; a Black-to-move position is lost in ``n`` when every legal move reaches a won position
(the worst of them in ``n``) and it has no capture of an undefended piece. The move generator is
this module's own, vectorized with numpy over all positions at once (the tests cross-check it
against python-chess). Building takes about a second a table; it is done on first use and cached
under ``$AGENTGYM_CACHE/chess``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import cache

import numpy as np

from agentgym.core.cache import cache_root

PIECES = ("Q", "R")
N_POSITIONS = 64**3
TABLE_VERSION = 1
#: (file step, rank step) of a king, and of the pieces' sliding lines.
KING_DIRS = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
_ROOK_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))
_BISHOP_DIRS = ((1, 1), (-1, 1), (-1, -1), (1, -1))
LINE_DIRS = {"Q": _ROOK_DIRS + _BISHOP_DIRS, "R": _ROOK_DIRS}


def _ray(square: int, df: int, dr: int) -> tuple[int, ...]:
    f, r, out = square % 8 + df, square // 8 + dr, []
    while 0 <= f < 8 and 0 <= r < 8:
        out.append(r * 8 + f)
        f, r = f + df, r + dr
    return tuple(out)


#: The squares a king reaches from each square.
KING_STEPS: tuple[tuple[int, ...], ...] = tuple(
    tuple(ray[0] for ray in (_ray(s, df, dr) for df, dr in KING_DIRS) if ray) for s in range(64)
)
#: Per piece letter and square, the piece's rays (squares in order, outwards).
RAYS: dict[str, tuple[tuple[tuple[int, ...], ...], ...]] = {
    kind: tuple(tuple(ray for ray in (_ray(s, df, dr) for df, dr in dirs) if ray) for s in range(64))
    for kind, dirs in LINE_DIRS.items()
}


def position_index(white_king: int, piece: int, black_king: int) -> int:
    """The table index of a position."""
    return (white_king * 64 + piece) * 64 + black_king


def position_of(index: int) -> tuple[int, int, int]:
    """``(white_king, piece, black_king)`` of a table index."""
    return index >> 12, (index >> 6) & 63, index & 63


def kings_touch(a: int, b: int) -> bool:
    """True when squares ``a`` and ``b`` are equal or adjacent."""
    return abs(a % 8 - b % 8) <= 1 and abs(a // 8 - b // 8) <= 1


def attacks(kind: str, piece: int, target: int, blocker: int) -> bool:
    """True when a ``kind`` on ``piece`` attacks ``target``; ``blocker`` is the only piece that can block."""
    for ray in RAYS[kind][piece]:
        for square in ray:
            if square == target:
                return True
            if square == blocker:
                break
    return False


def white_moves(kind: str, wk: int, piece: int, bk: int) -> list[tuple[str, int, int]]:
    """White's legal moves ``(letter, from, to)`` in a legal position (kings first, then the piece)."""
    moves = [("K", wk, t) for t in KING_STEPS[wk] if t != piece and not kings_touch(t, bk)]
    for ray in RAYS[kind][piece]:
        for t in ray:
            if t in (wk, bk):
                break
            moves.append((kind, piece, t))
    return moves


def black_moves(kind: str, wk: int, piece: int, bk: int) -> list[int]:
    """The black king's legal target squares (taking an undefended piece included)."""
    out = []
    for t in KING_STEPS[bk]:
        if kings_touch(t, wk):
            continue
        if t == piece or not attacks(kind, piece, t, wk):  # the king leaves bk: only wk can block
            out.append(t)
    return out


def in_check(kind: str, wk: int, piece: int, bk: int) -> bool:
    """True when the black king is attacked by the piece."""
    return attacks(kind, piece, bk, wk)


@dataclass(frozen=True)
class Tablebase:
    """One ending's distance-to-mate arrays (see the module docstring)."""

    kind: str
    white: np.ndarray
    black: np.ndarray

    def white_dtm(self, wk: int, piece: int, bk: int) -> int:
        """Moves to mate with White to move (``-1``: not won)."""
        return int(self.white[position_index(wk, piece, bk)])

    def black_dtm(self, wk: int, piece: int, bk: int) -> int:
        """White's moves to mate with Black to move (``-1``: not lost)."""
        return int(self.black[position_index(wk, piece, bk)])


def _geometry(kind: str) -> tuple[np.ndarray, ...]:
    """King steps (64, 8), piece rays (64, dirs, 7), adjacency, line attacks and between-squares."""
    ksteps = np.full((64, 8), -1, np.int64)
    rays = np.full((64, len(LINE_DIRS[kind]), 7), -1, np.int64)
    adjacent = np.zeros((64, 64), bool)
    line = np.zeros((64, 64), bool)
    between = np.zeros((64, 64, 64), bool)
    for s in range(64):
        for d, (df, dr) in enumerate(KING_DIRS):
            ray = _ray(s, df, dr)
            ksteps[s, d] = ray[0] if ray else -1
        for t in range(64):
            adjacent[s, t] = kings_touch(s, t)
        for d, (df, dr) in enumerate(LINE_DIRS[kind]):
            ray = _ray(s, df, dr)
            rays[s, d, : len(ray)] = ray
            for k, t in enumerate(ray):
                line[s, t] = True
                between[s, t, list(ray[:k])] = True
    return ksteps, rays, adjacent, line, between


def build_table(kind: str) -> Tablebase:
    """Retrograde analysis of K + ``kind`` against K over all ``64**3`` placements, both sides to move."""
    if kind not in PIECES:
        raise ValueError(f"kind must be one of {PIECES}, got {kind!r}")
    ksteps, rays, adjacent, line, between = _geometry(kind)
    n, illegal, draw = N_POSITIONS, N_POSITIONS, N_POSITIONS + 1  # sentinels past the real indices
    wk, pc, bk = position_of(np.arange(n, dtype=np.int64))  # type: ignore[arg-type]
    legal_black = (wk != pc) & (pc != bk) & (wk != bk) & ~adjacent[wk, bk]
    check = line[pc, bk] & ~between[pc, bk, wk]
    rows_w, rows_b = np.flatnonzero(legal_black & ~check), np.flatnonzero(legal_black)

    # White to move: every move's Black-to-move index (the sentinel for no move).
    w_wk, w_pc, w_bk = wk[rows_w], pc[rows_w], bk[rows_w]
    n_dirs = rays.shape[1]
    succ_w = np.full((len(rows_w), 8 + 7 * n_dirs), illegal, np.int32)
    for d in range(8):
        t = ksteps[w_wk, d]
        ok = (t >= 0) & (t != w_pc) & ~adjacent[np.maximum(t, 0), w_bk]
        succ_w[ok, d] = (t[ok] << 12) | (w_pc[ok] << 6) | w_bk[ok]
    for d in range(n_dirs):
        alive = np.ones(len(rows_w), bool)
        for k in range(7):
            t = rays[w_pc, d, k]
            alive &= (t >= 0) & (t != w_wk) & (t != w_bk)
            succ_w[alive, 8 + 7 * d + k] = (w_wk[alive] << 12) | (t[alive] << 6) | w_bk[alive]

    # Black to move: every king step's White-to-move index; taking an undefended piece draws.
    b_wk, b_pc, b_bk = wk[rows_b], pc[rows_b], bk[rows_b]
    succ_b = np.full((len(rows_b), 8), illegal, np.int32)
    n_moves = np.zeros(len(rows_b), np.int8)
    for d in range(8):
        t = ksteps[b_bk, d]
        ts = np.maximum(t, 0)
        ok = (t >= 0) & ~adjacent[ts, b_wk]
        take = ok & (ts == b_pc)
        safe = ok & ~take & ~(line[b_pc, ts] & ~between[b_pc, ts, b_wk])
        succ_b[safe, d] = (b_wk[safe] << 12) | (b_pc[safe] << 6) | ts[safe]
        succ_b[take, d] = draw
        n_moves += safe | take

    white = np.full(n, -1, np.int8)
    black = np.full(n, -1, np.int8)
    lost = np.zeros(n + 1, bool)  # [illegal] stays False: no move there
    won = np.zeros(n + 2, bool)
    won[illegal] = True  # an illegal king step never saves Black; [draw] stays False
    mates = rows_b[check[rows_b] & (n_moves == 0)]
    lost[mates], black[mates] = True, 0
    open_w = np.arange(len(rows_w))
    open_b = np.flatnonzero(n_moves > 0)
    depth = 0
    while True:
        depth += 1
        hit = lost[succ_w[open_w]].any(axis=1)
        new_w = rows_w[open_w[hit]]
        if not len(new_w):
            break
        open_w = open_w[~hit]
        won[new_w], white[new_w] = True, depth
        hit = won[succ_b[open_b]].all(axis=1)
        new_b = rows_b[open_b[hit]]
        open_b = open_b[~hit]
        lost[new_b], black[new_b] = True, depth
    return Tablebase(kind, white, black)


def table_path(kind: str) -> str:
    """Where the ``kind`` table is cached (``$AGENTGYM_CACHE/chess/k<kind>k.v<N>.npz``)."""
    return str(cache_root("chess", f"k{kind.lower()}k.v{TABLE_VERSION}.npz"))


def _read(path: str, kind: str) -> Tablebase | None:
    try:
        with np.load(path) as data:
            white, black = data["white"], data["black"]
    except (OSError, KeyError, ValueError):
        return None
    if any(a.shape != (N_POSITIONS,) or a.dtype != np.int8 for a in (white, black)):
        return None
    return Tablebase(kind, white, black)


def _write(path: str, table: Tablebase) -> None:
    """Write atomically (a temporary file renamed into place); an unwritable cache is skipped."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, white=table.white, black=table.black)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is shared like any other
        os.replace(tmp, path)
    except OSError:
        return


@cache
def _cached(kind: str, path: str) -> Tablebase:
    table = _read(path, kind)
    if table is None:
        table = build_table(kind)
        _write(path, table)
    table.white.setflags(write=False)
    table.black.setflags(write=False)
    return table


def load_table(kind: str) -> Tablebase:
    """The ``kind`` table: from memory, else from the cache file, else built (and cached)."""
    if kind not in PIECES:
        raise ValueError(f"kind must be one of {PIECES}, got {kind!r}")
    return _cached(kind, table_path(kind))


@cache
def _positions_at(kind: str, path: str, dtm: int) -> np.ndarray:
    return np.flatnonzero(_cached(kind, path).white == dtm)


def positions_with_dtm(kind: str, dtm: int) -> np.ndarray:
    """Indices of the White-to-move positions whose distance to mate is ``dtm`` (ascending)."""
    return _positions_at(kind, table_path(kind), dtm)
