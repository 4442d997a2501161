"""Chess endgames (LMRL-Gym's endgame task): mate a lone king with king and queen or rook.

White (the agent) has a king and a queen (``KQK``) or a rook (``KRK``); Black has a lone king played
by a fixed defender: the legal move that keeps mate furthest away per the exact distance-to-mate
table (:mod:`.chess_tablebase`); it takes the piece when it is undefended and otherwise prefers a
drawn position; ties go to the lowest square (a1, b1, ..., h8). With that defender every game is
a pure function of White's moves. The start position is White to move with a distance to mate
(DTM) in ``[min_dtm, max_dtm]``: a DTM is drawn uniformly, then a position of that DTM.

Rules: checkmate wins; stalemate, losing the piece, the 50-move rule (100 plies, no capture or pawn
move is possible for White) or running out of the ``max_moves`` budget (``2 * DTM + extra_moves``
White moves) do not. Moves are UCI (``d1d7``, ``d1-d7``) or SAN (``Qd7``, ``Qd7+``, any case; a
bare square is read as the one White piece that can go there). The oracle plays a fastest mate
from the table and mates in exactly DTM moves against the defender; the task's answer is that line
(UCI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.games import chess_tablebase as tb
from agentgym.verifiers.rule.answer import last_answer_block

PIECE_SETS = {"KQK": "Q", "KRK": "R"}
MAX_DTM = {"KQK": 10, "KRK": 16}
FIFTY_MOVE_PLIES = 100
MAX_ANSWER_CHARS = 20_000
FILES = "abcdefgh"
_LONG = re.compile(r"^([kqr])?([a-h][1-8])[-x]?([a-h][1-8])[+#]?[!?]*$")
_SHORT = re.compile(r"^([kqr])?x?([a-h][1-8])[+#]?[!?]*$")
_MOVE_NUMBER = re.compile(r"^\d+\.*$")


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


@dataclass(frozen=True)
class ChessEndgameConfig(GeneratorConfig):
    """King and ``pieces`` against a lone king; a start DTM in ``[min_dtm, max_dtm]`` White moves."""

    pieces: str = "KQK"
    min_dtm: int = 3
    max_dtm: int = 5
    extra_moves: int = 10

    def validate(self) -> None:
        """Raise TaskError naming the first invalid field."""
        super().validate()
        known = isinstance(self.pieces, str) and self.pieces in PIECE_SETS
        require(known, self, "pieces", f"must be one of {sorted(PIECE_SETS)}")
        top = MAX_DTM[self.pieces]
        require(1 <= self.min_dtm <= top, self, "min_dtm", f"must be in [1, {top}]")
        require(self.min_dtm <= self.max_dtm <= top, self, "max_dtm", f"must be in [min_dtm, {top}]")
        require(0 <= self.extra_moves <= 100, self, "extra_moves", "must be in [0, 100]")


class ChessEndgameGenerator(TaskGenerator):
    """KQK / KRK positions by exact distance to mate; the answer is the oracle's mating line."""

    id = "games/chess_endgame"
    family = "games"
    config_cls = ChessEndgameConfig
    difficulty_attrs = (
        DifficultyAttr("pieces", ("KQK", "KQK", "KQK", "KRK", "KRK", "KRK"), "queen or rook"),
        DifficultyAttr("min_dtm", (1, 3, 6, 3, 6, 11), "least distance to mate (White moves)"),
        DifficultyAttr("max_dtm", (2, 5, 10, 5, 10, 16), "greatest distance to mate (White moves)"),
    )
    instructions = (
        "You play White in a chess endgame: checkmate the lone black king. Black always answers with "
        "the move that delays mate longest (it takes an undefended piece; ties: the lowest square, "
        "a1, b1, ..., h8). Stalemate, losing your piece or running out of moves is a loss."
    )
    answer_format = (
        "Give all your moves in order inside <answer></answer> tags, in UCI (d1d7) or SAN (Qd7), "
        "separated by spaces (e.g. <answer>Qd7 Kc3 Qb7#</answer>)."
    )

    def _generate(self, rng: np.random.Generator) -> tuple[dict[str, Any], Any]:
        cfg: ChessEndgameConfig = self.config  # type: ignore[assignment]
        kind = PIECE_SETS[cfg.pieces]
        table = tb.load_table(kind)
        dtm = cfg.min_dtm + int(rng.integers(cfg.max_dtm - cfg.min_dtm + 1))
        candidates = tb.positions_with_dtm(kind, dtm)
        wk, piece, bk = tb.position_of(int(candidates[int(rng.integers(len(candidates)))]))
        return self._spec_and_line(Endgame(kind, wk, piece, bk), table)

    def _spec_and_line(self, game: Endgame, table: tb.Tablebase) -> tuple[dict[str, Any], str]:
        cfg: ChessEndgameConfig = self.config  # type: ignore[assignment]
        dtm = game.dtm(table)
        spec = {
            "pieces": f"K{game.kind}K",
            "white_king": square_name(game.wk),
            "white_piece": square_name(game.piece),
            "black_king": square_name(game.bk),
            "fen": game.fen(),
            "dtm": dtm,
            "max_moves": 2 * dtm + cfg.extra_moves,
        }
        return spec, " ".join(m.uci for m in oracle_line(game, table, dtm))

    def task_at(self, white_king: str, white_piece: str, black_king: str) -> Task:
        """The task of a given position (White to move, this config's piece and move budget).

        Raises TaskError when the position is illegal (it is then not won either).
        """
        kind = PIECE_SETS[self.config.pieces]  # type: ignore[attr-defined]
        game = Endgame(kind, *(parse_square(s) for s in (white_king, white_piece, black_king)))
        table = tb.load_table(kind)
        if len({game.wk, game.piece, game.bk}) < 3 or game.dtm(table) < 1:
            where = f"{white_king} {white_piece} {black_king}"
            raise TaskError(f"K{kind}K with {where}, White to move, is not a legal position")
        spec, answer = self._spec_and_line(game, table)
        spec = {"generator": self.id, **spec}
        return Task(self.family, spec, answer, self.difficulty(), {"position": "given"})

    def prompt(self, task: Task) -> str:
        """The rules, the board, its FEN and the answer format."""
        game = Endgame.from_spec(task.spec)
        spec = task.spec
        return (
            f"{self.instructions} You have at most {spec['max_moves']} moves.\n\n{game.board()}\n"
            f"FEN: {spec['fen']}\n\n{self.answer_format}"
        )

    def verify(self, task: Task, response: str) -> Verdict:
        """Play the answered moves against the defender; passed only on checkmate within the budget."""
        block = last_answer_block(response[-MAX_ANSWER_CHARS * 2 :])
        if block is None or len(block) > MAX_ANSWER_CHARS:
            details = {"format_error": "no readable <answer> block"}
            return Verdict(0.0, False, kind="chess_endgame", details=details)
        words = [w for w in re.split(r"[\s,;]+", block) if w and not _MOVE_NUMBER.match(w)]
        game, table = Endgame.from_spec(task.spec), tb.load_table(PIECE_SETS[task.spec["pieces"]])
        details: dict[str, Any] = {"dtm": task.spec["dtm"]}
        played = 0
        for word in words[: task.spec["max_moves"]]:
            move = game.read(word)
            if isinstance(move, str):
                details["illegal_move"] = move
                break
            game.play(move, table)
            played += 1
            if game.result:
                break
        won = game.result == "checkmate"
        details |= {"moves": played, "result": game.result or "unfinished"}
        return Verdict(1.0 if won else 0.0, won, kind="chess_endgame", details=details)

    def reference_response(self, task: Task) -> str:
        """The oracle's line (mate in exactly DTM moves against the defender)."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The oracle's line without its mating move (wrong: the line stops short of mate)."""
        return f"<answer>{' '.join(task.answer.split()[:-1])}</answer>"
