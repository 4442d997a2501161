"""Games: TextArena's games (``games/ta-<Game>-v0``) and built-in games with generators and oracles.

Built-ins (Cogito ergo ludo's grid games, Wordle, LMRL-Gym's question games) need nothing beyond
the base install; the TextArena ids are registered from the static catalog (registering imports
nothing heavy) and need the ``games`` extra to run (``make`` names the pip command without it). ``python -m
agentgym.environments.games`` lists the TextArena games left out, with the reason.
"""

from __future__ import annotations

import importlib.util

from agentgym.registry import SuitePlan, registry

#: Generator id -> its class (tasks/games/); each game and its generator share a rules module.
GENERATORS: dict[str, str] = {
    "games/sokoban": "agentgym.tasks.games.sokoban:SokobanGenerator",
    "games/minesweeper": "agentgym.tasks.games.minesweeper:MinesweeperGenerator",
    "games/frozenlake": "agentgym.tasks.games.frozenlake:FrozenLakeGenerator",
    "games/wordle": "agentgym.tasks.games.wordle:WordleGenerator",
    "games/twenty_questions": "agentgym.tasks.games.question_games:TwentyQuestionsGenerator",
    "games/guess_my_city": "agentgym.tasks.games.question_games:GuessMyCityGenerator",
    "games/chess_endgame": "agentgym.tasks.games.chess_endgame:ChessEndgameGenerator",
}

#: Eval plan of the built-in games: the env's own move budget ends an episode; out of the demo.
GAME_PLAN = SuitePlan(max_turns=None, demo_levels=0)
#: The built-in game in the demo, and its plan there: one level-0 task, at most 4 guesses (the
#: solver needs 3 on it).
DEMO_GAME = "games/wordle-v0"
DEMO_GAME_PLAN = SuitePlan(max_turns=None, demo_levels=1, demo_per_level=1, demo_max_turns=4)
#: Eval plan of the TextArena games with frozen suites (fixed seeds, the registered random
#: opponent): the registry's turn cap; out of the demo (no scripted solver plays them).
TEXTARENA_PLAN = SuitePlan(max_turns="spec", demo_levels=0)

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
    "games/chess-endgame-v0": (
        "agentgym.environments.games.chess:ChessEndgameEnv",
        200,
        "Chess endgames (LMRL-Gym): mate a lone king with KQ or KR against a tablebase defender.",
    ),
}


def textarena_installed() -> bool:
    """True when textarena can be imported (checked without importing it)."""
    return importlib.util.find_spec("textarena") is not None


#: Built-in env id -> the generator it poses.
BUILTIN_GENERATORS: dict[str, str] = {
    "games/sokoban-v0": "games/sokoban",
    "games/minesweeper-v0": "games/minesweeper",
    "games/frozenlake-v0": "games/frozenlake",
    "games/wordle-v0": "games/wordle",
    "games/twenty-questions-v0": "games/twenty_questions",
    "games/guess-my-city-v0": "games/guess_my_city",
    "games/chess-endgame-v0": "games/chess_endgame",
}


def register_envs() -> None:
    """Register the built-in games (with their generators) and TextArena's games (idempotent)."""
    for generator_id, generator_entry in GENERATORS.items():
        registry.register_generator(generator_id, generator_entry)
    for env_id, (entry, max_turns, description) in BUILTIN_ENVS.items():
        registry.register(
            env_id,
            entry,
            max_turns=max_turns,
            description=description,
            generator=BUILTIN_GENERATORS[env_id],
            suite_plan=DEMO_GAME_PLAN if env_id == DEMO_GAME else GAME_PLAN,
        )
    from agentgym.environments.games.ta_registry import MAX_TURNS, available_games
    from agentgym.environments.games.ta_registry import env_id as ta_env_id
    from agentgym.tasks.pools import TEXTARENA_GAMES, suite_name

    for game, entry in available_games().items():
        frozen = game in TEXTARENA_GAMES  # a frozen suite of fixed seeds (agentgym.tasks.pools)
        env_id = ta_env_id(game)
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
            suites=(f"{suite_name('games', f'ta-{game}')}@v1",) if frozen else (),
            suite_plan=TEXTARENA_PLAN if frozen else None,
        )


register_envs()
