"""Chess endgames (LMRL-Gym): mate a lone king with king and queen or rook (``games/chess-endgame-v0``).

The agent plays White, one move per turn: ``[d1d7]`` (UCI) or ``[Qd7]`` (SAN), or the bare move.
Black is the fixed defender of :mod:`agentgym.tasks.games.chess_rules` (the move that delays
mate longest per the exact tablebase), so a seed and White's moves fix the whole game. Checkmate
ends the episode with reward 1.0; stalemate, losing the piece or the 50-move rule end it with 0;
after ``max_moves`` moves (``2 * DTM + 10``; unreadable and illegal moves count, and cost
``format_penalty``) it is truncated. The verdict's details give the moves used against the start
position's distance to mate. The oracle plays a fastest mate from the table.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.core.env import Action, StepResult
from agentgym.core.messages import Message
from agentgym.core.verdict import Verdict
from agentgym.environments.games.builtin_base import BuiltinGameEnv
from agentgym.tasks.games import chess_tablebase as tb
from agentgym.tasks.games.chess_rules import Endgame, table_for
from agentgym.tasks.games.common import last_bracketed

RULES = (
    "You play White in a chess endgame: checkmate the black king. Black always plays the move that "
    "delays mate longest. Stalemate, losing your piece or the 50-move rule is a loss. Board: ranks 8 "
    "to 1 from the top, White in upper case (K king, Q queen, R rook), Black's king 'k', '.' empty. "
    "Reply with one move per turn in square brackets, in UCI or SAN, e.g. [{uci}] or [{san}]. "
    "You have {budget} moves."
)
ENDINGS = {
    "checkmate": "Checkmate! You win.",
    "stalemate": "Stalemate: the game is drawn. You did not mate.",
    "piece_lost": "Black took your undefended piece: the game is drawn.",
    "fifty_moves": "50 moves without a capture or pawn move: the game is drawn.",
}


class ChessEndgameEnv(BuiltinGameEnv):
    """Checkmate a lone king from a position with a known distance to mate."""

    def __init__(
        self,
        generator: str = "games/chess_endgame",
        difficulty: dict[str, Any] | None = None,
        level: int | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        super().__init__(generator, difficulty, level, split, render_mode)
        self.game: Endgame | None = None
        self.played: list[str] = []

    @property
    def budget(self) -> int:
        """``2 * DTM + extra_moves`` moves (the task's ``max_moves``)."""
        return int(self.task.spec["max_moves"]) if self.task else 0

    def _table(self) -> tb.Tablebase:
        assert self.task is not None
        return table_for(self.task.spec)

    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        task = self._start(options)
        self.game = Endgame.from_spec(task.spec)
        self.played = []
        example = self.game.moves()[-1]
        rules = RULES.format(uci=example.uci, san=self.game.san(example), budget=self.budget)
        return [
            Message("system", rules),
            Message("user", self._board("White to move and mate.")),
        ], self._info()

    def _board(self, event: str) -> str:
        assert self.game is not None
        return (
            f"{event}\n{self.game.board()}\nFEN: {self.game.fen()}\n"
            f"Moves used: {self.moves} of {self.budget}."
        )

    def _step(self, action: Message) -> StepResult:
        game = self.game
        assert game is not None
        text = action.text
        word = last_bracketed(text)
        if word is None:
            word = text.strip().strip(".!")
            if not word or len(word) > 12:
                return self._unreadable("write one move in square brackets, in UCI ([d1d7]) or SAN ([Qd7])")
        move = game.read(word)
        if isinstance(move, str):
            return self._unreadable(move)
        self.moves += 1
        san = game.san(move)
        self.played.append(move.uci)
        reply = game.play(move, self._table())
        event = f"You played {san} ({move.uci})." + (f" Black played {reply}." if reply else "")
        self.won = game.won
        terminated = bool(game.result)
        truncated = not terminated and self.moves >= self.budget
        text = self._board(f"{event} {ENDINGS.get(game.result, '')}".rstrip())
        if truncated:
            text += "\nYou used all your moves without mating."
        self.over = terminated or truncated
        return StepResult(
            [Message("user", text)],
            reward=1.0 if self.won else 0.0,
            terminated=terminated,
            truncated=truncated,
            info={"move": move.uci, "reply": reply},
            verdict=self.verdict() if self.over else None,
        )

    def verdict(self) -> Verdict:
        """Passed only on checkmate; details: result, moves played and the start's DTM."""
        if self.game is None or self.task is None:
            return super().verdict()
        dtm = int(self.task.spec["dtm"])
        result = self.game.result or ("budget" if self.over else "unfinished")
        details: dict[str, Any] = {"result": result, "dtm": dtm, "moves_played": len(self.played)}
        if self.won:
            details["efficiency"] = round(dtm / len(self.played), 4)
        return self._outcome(details, "chess_endgame")

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random legal move (UCI)."""
        assert self.game is not None
        moves = self.game.moves()
        return f"[{moves[int(rng.integers(len(moves)))].uci}]"

    def oracle_action(self) -> Action:
        """A fastest mating move from the tablebase (UCI)."""
        assert self.game is not None
        return f"[{self.game.best_move(self._table()).uci}]"
