"""Chess endgame rules (KQK / KRK), shared by the env and the generator: moves, the defender, the end.

White has a king and a queen (``Q``) or a rook (``R``); Black has a lone king played by a fixed
defender (:func:`defender_reply`): it takes the piece when it is undefended, otherwise prefers a
drawn position, otherwise delays mate longest per the exact distance-to-mate table
(:mod:`.chess_tablebase`); ties go to the lowest square (a1, b1, ..., h8). With that defender a
game is a pure function of White's moves.

:meth:`Endgame.play` decides how a game ends: checkmate wins; stalemate, losing the piece and
the 50-move rule (100 plies; White can neither capture nor move a pawn) do not. Moves are read
by :meth:`Endgame.read`: UCI (``d1d7``, ``d1-d7``) or SAN (``Qd7``, ``Qd7+``, any case; a bare
square is the one White piece that can go there). :meth:`Endgame.best_move` is the oracle, a
fastest mate from the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from agentgym.tasks.games import chess_tablebase as tb

PIECE_SETS = {"KQK": "Q", "KRK": "R"}
FIFTY_MOVE_PLIES = 100
FILES = "abcdefgh"
_LONG = re.compile(r"^([kqr])?([a-h][1-8])[-x]?([a-h][1-8])[+#]?[!?]*$")
_SHORT = re.compile(r"^([kqr])?x?([a-h][1-8])[+#]?[!?]*$")


def table_for(spec: dict[str, Any]) -> tb.Tablebase:
    """The distance-to-mate table of a task's piece set (``spec["pieces"]``)."""
    return tb.load_table(PIECE_SETS[spec["pieces"]])


def square_name(square: int) -> str:
    """``0`` -> ``a1`` ... ``63`` -> ``h8``."""
    return FILES[square % 8] + str(square // 8 + 1)


def parse_square(name: str) -> int:
    """``a1`` -> ``0`` ... ``h8`` -> ``63``."""
    return (int(name[1]) - 1) * 8 + FILES.index(name[0])


class Move(NamedTuple):
    """A White move: the piece letter (``K``, ``Q`` or ``R``) and its squares."""

    piece: str
    origin: int
    target: int

    @property
    def uci(self) -> str:
        """The move in UCI (``d1d7``)."""
        return square_name(self.origin) + square_name(self.target)


@dataclass
class Endgame:
    """A game in progress: the squares, the plies played and the result (``""`` while playing)."""

    kind: str
    wk: int
    piece: int
    bk: int
    plies: int = 0
    result: str = ""

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Endgame:
        """The start of a task (White to move)."""
        squares = (parse_square(spec[k]) for k in ("white_king", "white_piece", "black_king"))
        return cls(PIECE_SETS[spec["pieces"]], *squares)

    @property
    def won(self) -> bool:
        """True when White has mated."""
        return self.result == "checkmate"

    def moves(self) -> list[Move]:
        """White's legal moves."""
        return [Move(*m) for m in tb.white_moves(self.kind, self.wk, self.piece, self.bk)]

    def read(self, text: str) -> Move | str:
        """The legal move ``text`` names (UCI or SAN, any case), or what is wrong with it."""
        word = text.strip().lower()[:20]
        legal = self.moves()
        long, short = _LONG.match(word), _SHORT.match(word)
        if long is not None:
            origin, target = parse_square(long[2]), parse_square(long[3])
            found = [m for m in legal if (m.origin, m.target) == (origin, target)]
            if long[1] and found and found[0].piece != long[1].upper():
                found = []
        elif short is not None:
            target = parse_square(short[2])
            found = [m for m in legal if m.target == target and (not short[1] or m.piece == short[1].upper())]
            if len(found) > 1:
                options = " or ".join(f"{m.piece}{square_name(target)}" for m in found)
                return f"{text.strip()!r} is ambiguous: write {options}"
        else:
            shown, example = text.strip()[:30], legal[0]
            return f"{shown!r} is not a move: write UCI like {example.uci} or SAN like {self.san(example)}"
        if not found:
            return f"{text.strip()!r} is not a legal move here"
        return found[0]

    def san(self, move: Move) -> str:
        """``move`` in SAN, with ``+`` or ``#`` (from this position, before playing it)."""
        after = Endgame(self.kind, *self._after(move))
        mark = ""
        if tb.in_check(self.kind, after.wk, after.piece, after.bk):
            mark = "#" if not tb.black_moves(self.kind, after.wk, after.piece, after.bk) else "+"
        return f"{move.piece}{square_name(move.target)}{mark}"

    def _after(self, move: Move) -> tuple[int, int, int]:
        if move.piece == "K":
            return move.target, self.piece, self.bk
        return self.wk, move.target, self.bk

    def play(self, move: Move, table: tb.Tablebase) -> str | None:
        """Play White's legal ``move`` and the defender's reply (its SAN, or None when the game ended)."""
        self.wk, self.piece, _ = self._after(move)
        self.plies += 1
        replies = tb.black_moves(self.kind, self.wk, self.piece, self.bk)
        if not replies:
            self.result = "checkmate" if tb.in_check(self.kind, self.wk, self.piece, self.bk) else "stalemate"
            return None
        self.bk = defender_reply(table, self.kind, self.wk, self.piece, self.bk, replies)
        self.plies += 1
        if self.bk == self.piece:
            self.result = "piece_lost"
            return f"Kx{square_name(self.bk)}"
        if self.plies >= FIFTY_MOVE_PLIES:
            self.result = "fifty_moves"
        return f"K{square_name(self.bk)}"

    def dtm(self, table: tb.Tablebase) -> int:
        """Moves to mate with White to move (``-1``: not won)."""
        return table.white_dtm(self.wk, self.piece, self.bk) if not self.result else -1

    def best_move(self, table: tb.Tablebase) -> Move:
        """A fastest mating move (ties: the lowest UCI string); any legal move when none mates."""

        def key(m: Move) -> tuple[int, str]:
            lost = table.black_dtm(*self._after(m))
            return (lost if lost >= 0 else 1000, m.uci)

        return min(self.moves(), key=key)

    def fen(self) -> str:
        """The position in FEN (White to move)."""
        pieces = {self.wk: "K", self.piece: self.kind, self.bk: "k"}
        rows = []
        for rank in range(7, -1, -1):
            row, empty = "", 0
            for file in range(8):
                mark = pieces.get(rank * 8 + file)
                if mark is None:
                    empty += 1
                    continue
                row += (str(empty) if empty else "") + mark
                empty = 0
            rows.append(row + (str(empty) if empty else ""))
        return f"{'/'.join(rows)} w - - {self.plies} {1 + self.plies // 2}"

    def board(self) -> str:
        """The board as text: ranks 8 to 1, White upper case, ``.`` empty."""
        pieces = {self.wk: "K", self.piece: self.kind, self.bk: "k"}
        lines = [
            f"{rank + 1} " + " ".join(pieces.get(rank * 8 + f, ".") for f in range(8))
            for rank in range(7, -1, -1)
        ]
        return "\n".join([*lines, "  " + " ".join(FILES)])


def defender_reply(table: tb.Tablebase, kind: str, wk: int, piece: int, bk: int, replies: list[int]) -> int:
    """Black's move: take an undefended piece, else reach a drawn position, else delay mate longest.

    Ties go to the lowest target square (a1 = 0).
    """
    if piece in replies:
        return piece

    def key(square: int) -> tuple[int, int]:
        dtm = table.white_dtm(wk, piece, square)
        return (dtm if dtm >= 0 else 1000, -square)

    return max(replies, key=key)


def oracle_line(game: Endgame, table: tb.Tablebase, limit: int) -> list[Move]:
    """The oracle's moves from ``game`` (played on it) against the defender, up to ``limit`` moves."""
    line = []
    while not game.result and len(line) < limit:
        move = game.best_move(table)
        line.append(move)
        game.play(move, table)
    return line
