"""TextArena games as AgentGym envs (``games/ta-<Game>-v0``).

One :class:`TextArenaEnv` plays one TextArena game (its ``-raw`` registration: no TextArena
wrappers) for every seat. TextArena's observation messages for the player about to act become
one user message (``[GAME] ...`` lines and ``[Player k] ...`` for other players' public actions);
``info["player"]`` names the seat to act next and ``info["rewards"]`` each seat's reward for the
step (TextArena's final rewards when the game ends, 0.0 before). The step reward is the reward
of the seat that just acted. Invalid moves are TextArena's: the game answers with its own error
message and, past the game's error allowance, the offending player loses. Every call into
TextArena runs with the episode's own random generators (:mod:`.ta_isolation`), seeded from
``reset(seed)``. A seat that makes ``MAX_INVALID_STREAK`` invalid moves in a row loses (reward -1,
the others 0): a few games never stop accepting retries, and an opponent stuck on them would
otherwise loop forever. Registered multi-player ids wrap this env in
:class:`~agentgym.core.wrappers.Opponents`
(see :func:`make_textarena`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentgym.core.env import Action, Env, StepResult
from agentgym.core.errors import EnvError
from agentgym.core.messages import Message
from agentgym.core.task import Task
from agentgym.core.verdict import Verdict
from agentgym.environments.games.ta_isolation import ACTIVE, EpisodeRandom, patch_textarena_modules
from agentgym.environments.games.ta_moves import candidate_moves

SYSTEM = (
    "You are playing the game {game} from TextArena{seat}. Read the game's messages and reply with "
    "your move in the format the game asks for (usually in square brackets, e.g. [4])."
)
GAME_ID = -1
HISTORY_CHARS = 20_000
#: Consecutive invalid moves by one seat that end the game (some TextArena games allow unlimited retries).
MAX_INVALID_STREAK = 10


def make_textarena_game(game: str) -> Any:
    """Build TextArena's game ``game`` (e.g. ``"TicTacToe-v0"``) without TextArena's wrappers."""
    import textarena as ta  # lazy: the games extra
    from textarena.envs.registration import ENV_REGISTRY

    raw = f"{game}-raw"
    env = ta.make(raw if raw in ENV_REGISTRY else game)
    patch_textarena_modules()  # the game's module was just imported
    return env


def render_messages(messages: list[tuple[int, str, Any]]) -> str:
    """TextArena observation tuples ``(from_id, text, type)`` as one text, oldest first."""
    return "\n".join(
        [
            f"[GAME] {text}" if sender == GAME_ID else f"[Player {sender}] {text}"
            for sender, text, _ in messages
        ]
    )


class TextArenaEnv(Env):
    """One TextArena game; every seat acts through this env in turn (``info["player"]``)."""

    family = "games"
    step_in_thread = False  # a TextArena step is pure Python and short
    max_action_chars = 20_000

    def __init__(
        self,
        game: str,
        num_players: int = 1,
        verdict_player: int = 0,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        if not isinstance(num_players, int) or num_players < 1:
            raise EnvError(f"num_players must be an int >= 1, got {num_players!r}")
        if not isinstance(verdict_player, int) or not 0 <= verdict_player < num_players:
            raise EnvError(f"verdict_player must be a seat in [0, {num_players}), got {verdict_player!r}")
        self.game = game
        self.num_players = num_players
        self.verdict_player = verdict_player
        self._rng = EpisodeRandom(0)
        self._ta = make_textarena_game(game)
        self.player = 0
        self.final_rewards: dict[int, float] | None = None
        self.end_reason = ""
        self._last_text: dict[int, str] = {}
        # Each seat's recent texts, joined (and cut to HISTORY_CHARS) only when a policy reads them.
        self._history: dict[int, list[str]] = {}
        self._history_chars: dict[int, int] = {}
        self._zeros = dict.fromkeys(range(num_players), 0.0)
        self._invalid_streak = 0
        self._streak_seat: int | None = None

    # ----- episode ------------------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[list[Message], dict[str, Any]]:
        given = self._given_task(options.get("task"))  # a frozen suite's (game, seed) task
        ta_seed = int(given.spec["seed"]) if given is not None else int(self.np_random.integers(2**31 - 1))
        self._rng = EpisodeRandom(ta_seed)
        self.final_rewards, self.end_reason, self._last_text = None, "", {}
        self._history, self._history_chars = {}, {}
        self._invalid_streak, self._streak_seat = 0, None
        with self._rng.active():
            self._ta.reset(num_players=self.num_players, seed=ta_seed)
            self.player, messages = self._ta.get_observation()
        self.task = Task(
            family="games",
            spec={"source": "textarena", "game": self.game, "num_players": self.num_players, "seed": ta_seed},
            answer=None,
        )
        if given is not None:
            self.task = given
        seat = f" as Player {self.player} of {self.num_players}" if self.num_players > 1 else ""
        text = self._remember(self.player, render_messages(messages))
        obs = [Message("system", SYSTEM.format(game=self.game, seat=seat)), Message("user", text)]
        return obs, {"player": self.player, "rewards": self._zero_rewards(), "game": self.game}

    def _given_task(self, task: Any) -> Task | None:
        """``options["task"]`` checked: a TextArena Task of this game and seat count (None: draw a seed)."""
        if task is None:
            return None
        spec = task.spec if isinstance(task, Task) else {}
        if not (
            spec.get("source") == "textarena"
            and spec.get("game") == self.game
            and spec.get("num_players") == self.num_players
            and isinstance(spec.get("seed"), int)
        ):
            raise EnvError(
                f"options['task'] must be a TextArena Task of {self.game} for {self.num_players} "
                "player(s) with an int 'seed' in its spec"
            )
        return task

    def _step(self, action: Message) -> StepResult:
        actor, ta = self.player, self._ta
        token = ACTIVE.set(self._rng)  # TextArena's random calls go to this episode's generators
        try:
            done, _step_info = ta.step(action.text)
            state = ta.state
            invalid = bool(getattr(state, "made_invalid_move", False) or getattr(state, "error_count", 0))
            if done:
                rewards, game_info = _close(ta)
                messages = state.observations.get(actor, [])
            else:
                self.player, messages = ta.get_observation()
        finally:
            ACTIVE.reset(token)
        if not (done or invalid):  # the common case: a valid move, the game goes on
            self._invalid_streak, self._streak_seat = 0, None
            player = self.player
            text = self._remember(player, render_messages(messages) or "(no new messages)")
            info = {"acted": actor, "player": player, "rewards": self._zeros.copy()}
            return StepResult([Message("user", text)], 0.0, False, False, info)
        info: dict[str, Any] = {"acted": actor}
        if invalid and not done:
            info["invalid_move"] = True
            self._invalid_streak = self._invalid_streak + 1 if self._streak_seat == actor else 1
            self._streak_seat = actor
            if self._invalid_streak >= MAX_INVALID_STREAK:
                done, messages = True, []
                rewards = {p: (-1.0 if p == actor else 0.0) for p in range(self.num_players)}
                game_info = {
                    actor: {"reason": f"Player {actor} made {MAX_INVALID_STREAK} invalid moves in a row."}
                }
        elif not done:
            self._invalid_streak, self._streak_seat = 0, None
        if not done:
            info["player"], info["rewards"] = self.player, self._zeros.copy()
            text = self._remember(self.player, render_messages(messages) or "(no new messages)")
            return StepResult([Message("user", text)], 0.0, False, False, info)
        self.final_rewards = {int(p): float(r) for p, r in (rewards or {}).items()}
        for p in range(self.num_players):
            self.final_rewards.setdefault(p, 0.0)
        self.end_reason = _reason(game_info, actor)
        summary = ", ".join(f"Player {p}: {r:g}" for p, r in sorted(self.final_rewards.items()))
        text = render_messages(list(messages))
        text = (text + "\n" if text else "") + f"[GAME] Game over. {self.end_reason} Rewards: {summary}."
        info.update(player=actor, rewards=dict(self.final_rewards))
        return StepResult(
            [Message("user", text)], reward=self.final_rewards[actor], terminated=True, info=info
        )

    def invalid_action(self, problem: str) -> StepResult:
        """A reply rejected before TextArena sees it (wrong type, too long): the same seat acts again."""
        result = super().invalid_action(problem)
        result.info.update(player=self.player, rewards=self._zero_rewards())
        return result

    def _zero_rewards(self) -> dict[int, float]:
        return self._zeros.copy()

    def _remember(self, player: int, text: str) -> str:
        self._last_text[player] = text
        pieces = self._history.get(player)
        if pieces is None:
            pieces = self._history[player] = []
            self._history_chars[player] = 0
        pieces.append("\n" + text)
        chars = self._history_chars[player] = self._history_chars[player] + len(text) + 1
        if chars > 4 * HISTORY_CHARS:  # keep the pieces short: only the last HISTORY_CHARS are read
            self._history[player] = [self.history(player)]
            self._history_chars[player] = HISTORY_CHARS
        return text

    def history(self, player: int) -> str:
        """The last ``HISTORY_CHARS`` characters of the texts ``player`` was shown, each after a newline."""
        return "".join(self._history.get(player, ()))[-HISTORY_CHARS:]

    # ----- judgement and scripted policies ------------------------------------------------------
    def verdict(self) -> Verdict:
        """Outcome for ``verdict_player``: win 1.0, draw 0.5, loss 0.0 (single-player: reward in [0, 1])."""
        if self.final_rewards is None:
            return super().verdict()
        reward = self.final_rewards.get(self.verdict_player, 0.0)
        if self.num_players == 1:
            score = min(max(reward, 0.0), 1.0)
            passed = reward >= 1.0
        else:
            best = max(self.final_rewards.values())
            passed = reward > 0 and reward == best
            score = 1.0 if passed else (0.5 if len(set(self.final_rewards.values())) == 1 else 0.0)
        details = {"rewards": {str(k): v for k, v in self.final_rewards.items()}, "reason": self.end_reason}
        return Verdict(score, passed, kind="game_outcome", details=details)

    def sample_action(self, rng: np.random.Generator) -> Action:
        """A random candidate move for the seat to act (legal where the game's state lets us tell)."""
        pick = int(rng.integers(10))
        latest, history = self._last_text.get(self.player, ""), self.history(self.player)
        moves = candidate_moves(self.game, self._ta, latest, history, pick)
        return moves[int(rng.integers(len(moves)))] if moves else "[pass]"


def _close(ta_env: Any) -> tuple[dict[int, float] | None, dict[Any, Any]]:
    out = ta_env.close()
    if isinstance(out, tuple) and len(out) == 2:
        return out[0], out[1] if isinstance(out[1], dict) else {}
    return (out if isinstance(out, dict) else None), {}


def _reason(game_info: dict[Any, Any], actor: int) -> str:
    entry = game_info.get(actor) or next(iter(game_info.values()), {}) if game_info else {}
    reason = entry.get("reason") if isinstance(entry, dict) else None
    return str(reason) if reason else "The game ended."
