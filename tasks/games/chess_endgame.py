"""Chess endgames (LMRL-Gym's endgame task): mate a lone king with king and queen or rook.

White (the agent) has a king and a queen (``KQK``) or a rook (``KRK``) against a lone black king.
The start position is White to move with a distance to mate (DTM) in ``[min_dtm, max_dtm]``: a
DTM is drawn uniformly, then a position of that DTM. The budget is ``max_moves`` (``2 * DTM +
extra_moves`` White moves). The rules (reading moves, the defender, how a game ends) and the
oracle are in :mod:`.chess_rules`, shared with the env; the oracle mates in exactly DTM moves
against the defender, and the task's answer is that line (UCI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentgym.core.errors import TaskError
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.tasks.base import DifficultyAttr, GeneratorConfig, TaskGenerator, require
from agentgym.tasks.games import chess_tablebase as tb
from agentgym.tasks.games.chess_rules import (
    PIECE_SETS,
    Endgame,
    oracle_line,
    parse_square,
    square_name,
    table_for,
)
from agentgym.verifiers.rule.answer import last_answer_block

MAX_DTM = {"KQK": 10, "KRK": 16}
MAX_ANSWER_CHARS = 20_000
_MOVE_NUMBER = re.compile(r"^\d+\.*$")


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
        game, table = Endgame.from_spec(task.spec), table_for(task.spec)
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
        details |= {"moves": played, "result": game.result or "unfinished"}
        return Verdict(1.0 if game.won else 0.0, game.won, kind="chess_endgame", details=details)

    def reference_response(self, task: Task) -> str:
        """The oracle's line (mate in exactly DTM moves against the defender)."""
        return f"<answer>{task.answer}</answer>"

    def corrupt_response(self, task: Task, rng: np.random.Generator) -> str:
        """The oracle's line without its mating move (wrong: the line stops short of mate)."""
        return f"<answer>{' '.join(task.answer.split()[:-1])}</answer>"
