"""Which TextArena games are registered (``games/ta-<Game>-v0``), which are not and why, and the factory.

The data comes from the generated :mod:`.ta_catalog` (``build_ta_catalog.py`` probes every game
offline). A game is registered when it ran offline, reproducibly, and fast enough for the env
checker (reset under ``MAX_RESET_MS``); the others are listed by :func:`unavailable_games`
with the reason (``python -m agentgym.environments.games`` prints both lists).

Multi-player games are registered as single-agent envs: the agent plays seat ``player`` (0) and
:class:`~agentgym.core.wrappers.Opponents` plays the other seats, by default with the random
candidate-move policy. ``make(id, opponents=None)`` gives the raw env where every seat acts in
turn (``info["player"]``); ``opponents="oracle"|"bundled"|<agent spec>`` or a mapping
``{seat: Agent}`` plugs in other opponents (pass the agent you play with for self-play).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from agentgym.core.agent import Agent
from agentgym.core.errors import ConfigError
from agentgym.core.wrappers import Opponents
from agentgym.environments.games.ta_catalog import GAMES

MAX_RESET_MS = 100.0
MAX_STEP_US = 20_000.0
MAX_TURNS = 200


def env_id(game: str) -> str:
    """``"TicTacToe-v0"`` -> ``"games/ta-TicTacToe-v0"``."""
    return f"games/ta-{game.removesuffix('-v0')}-v0"


def _slow(entry: Mapping[str, Any]) -> str | None:
    if entry["reset_ms"] > MAX_RESET_MS or entry["step_us"] > MAX_STEP_US:
        return (
            f"too slow for the env checker: reset {entry['reset_ms']:.0f} ms, "
            f"{entry['step_us'] / 1000:.1f} ms "
            "per random-play step (builds puzzles by search); use TextArenaEnv directly"
        )
    return None


def available_games() -> dict[str, dict[str, Any]]:
    """Registered games -> their catalog entry (seat count, accepted-move share, timings)."""
    return {g: e for g, e in GAMES.items() if e["available"] and _slow(e) is None}


def unavailable_games() -> dict[str, str]:
    """Games not registered -> why (probe failure, or too slow for the checker)."""
    out = {g: str(e["reason"]) for g, e in GAMES.items() if not e["available"]}
    out |= {g: _slow(e) for g, e in GAMES.items() if e["available"] and _slow(e) is not None}  # type: ignore[misc]
    return dict(sorted(out.items()))


def _opponent(spec: str | Agent) -> Agent:
    if not isinstance(spec, str):
        return spec
    from agentgym.agents import make_agent  # lazy: agents sit above environments

    return make_agent(spec)


def make_textarena(
    game: str,
    num_players: int = 1,
    opponents: str | Agent | Mapping[int, str | Agent] | None = "random",
    player: int = 0,
    render_mode: str | None = None,
) -> gym.Env:
    """A TextArena game; with several seats, ``opponents`` play every seat but ``player``."""
    from agentgym.environments.games.ta_env import TextArenaEnv

    if not isinstance(player, int) or not 0 <= player < num_players:
        raise ConfigError(f"player must be a seat in [0, {num_players}), got {player!r}")
    env = TextArenaEnv(game, num_players=num_players, verdict_player=player, render_mode=render_mode)
    if num_players == 1 or opponents is None:
        return env
    if isinstance(opponents, Mapping):
        seats = {int(s): _opponent(a) for s, a in opponents.items()}
        missing = set(range(num_players)) - {player} - set(seats)
        if missing:
            raise ConfigError(f"opponents must cover seats {sorted(missing)} too")
    else:
        agent = _opponent(opponents)
        seats = {s: agent for s in range(num_players) if s != player}
    return Opponents(env, seats, player=player)
