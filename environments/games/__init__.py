"""Games: TextArena's games (``games/ta-<Game>-v0``) and built-in games with generators and oracles.

Built-ins (Cogito ergo ludo's grid games, Wordle, LMRL-Gym's question games) need nothing beyond
the base install; the TextArena ids are registered from the static catalog (registering imports
nothing heavy) and need the ``games`` extra to run (``make`` names the pip command without it). ``python -m
agentgym.environments.games`` lists the TextArena games left out, with the reason.
"""

from __future__ import annotations

import importlib.util

from agentgym.registry import registry

#: Built-in env id -> (entry point, max turns, description).
BUILTIN_ENVS: dict[str, tuple[str, int, str]] = {
    "games/sokoban-v0": (
        "agentgym.environments.games.sokoban:SokobanEnv",
        1000,
        "Sokoban (Cogito ergo ludo): push boxes onto goals; reverse-play levels, solvable by construction.",
    ),
    "games/minesweeper-v0": (
        "agentgym.environments.games.minesweeper:MinesweeperEnv",
        1000,
        "Minesweeper (Cogito ergo ludo) with a safe opening; oracle = constraint solver.",
    ),
    "games/frozenlake-v0": (
        "agentgym.environments.games.frozenlake:FrozenLakeEnv",
        1000,
        "FrozenLake (Cogito ergo ludo) on generated maps; slippery=True for Gymnasium's slippery ice.",
    ),
    "games/wordle-v0": (
        "agentgym.environments.games.wordle:WordleEnv",
        30,
        "Wordle over an offline wordfreq word list; oracle = consistent-candidate solver.",
    ),
    "games/twenty-questions-v0": (
        "agentgym.environments.games.questions:TwentyQuestionsEnv",
        120,
        "Twenty Questions (LMRL-Gym): yes/no questions to a rule-based answerer over an object table.",
    ),
    "games/guess-my-city-v0": (
        "agentgym.environments.games.questions:GuessMyCityEnv",
        120,
        "Guess My City (LMRL-Gym): yes/no questions to a rule-based answerer over a city table.",
    ),
}


def textarena_installed() -> bool:
    """True when textarena can be imported (checked without importing it)."""
    return importlib.util.find_spec("textarena") is not None


def register_envs() -> None:
    """Register the built-in games and TextArena's available games (idempotent)."""
    for env_id, (entry, max_turns, description) in BUILTIN_ENVS.items():
        if env_id not in registry:
            registry.register(env_id, entry, max_turns=max_turns, description=description)
    from agentgym.environments.games.ta_registry import MAX_TURNS, available_games
    from agentgym.environments.games.ta_registry import env_id as ta_env_id

    for game, entry in available_games().items():
        env_id = ta_env_id(game)
        if env_id in registry:
            continue
        players = int(entry["num_players"])
        seats = (
            "single-player" if players == 1 else f"{players} players; seats 1.. played by a random opponent"
        )
        registry.register(
            env_id,
            "agentgym.environments.games.ta_registry:make_textarena",
            kwargs={"game": game, "num_players": players},
            max_turns=MAX_TURNS,
            description=f"TextArena {game} ({seats}).",
            extras=("games",),
        )


register_envs()
