"""Puzzle environments: generated, exactly checked problems (one env per generator)."""

from agentgym.registry import registry

#: Single-turn envs posed by GeneratedTaskEnv: env id -> (generator id, max turns, description).
GENERATED_ENVS: dict[str, tuple[str, int, str]] = {
    "puzzles/sat-v0": ("puzzles/sat", 3, "SATURN-style k-SAT: answer a satisfying assignment (exact check)."),
    "puzzles/sudoku-v0": (
        "puzzles/sudoku",
        3,
        "Sudoku 4x4/6x6/9x9 with a unique solution: answer the filled grid.",
    ),
    "puzzles/nqueens-v0": (
        "puzzles/nqueens",
        3,
        "N-queens completion: place the missing queens on a partial board.",
    ),
    "puzzles/countdown-v0": ("puzzles/countdown", 3, "Countdown / 24 game: reach the target with + - * /."),
    "puzzles/knights-knaves-v0": ("puzzles/knights_knaves", 3, "Knights and knaves: name every role."),
    "puzzles/graph-coloring-v0": ("puzzles/graph_coloring", 3, "k-colour a graph with no monochrome edge."),
    "puzzles/maze-plan-v0": ("puzzles/maze", 3, "Maze shown whole: answer a move sequence from S to G."),
    "puzzles/jigsaw-v0": (
        "puzzles/jigsaw",
        3,
        "Jigsaw-R1 style: restore shuffled tiles of a generated image.",
    ),
}


def register_envs() -> None:
    """Register the puzzle envs (idempotent: ids already present are kept)."""
    for env_id, (generator, max_turns, description) in GENERATED_ENVS.items():
        if env_id not in registry:
            registry.register(
                env_id,
                "agentgym.environments.puzzles.generated:GeneratedTaskEnv",
                kwargs={"generator": generator},
                max_turns=max_turns,
                description=description,
            )
    if "puzzles/maze-v0" not in registry:
        registry.register(
            "puzzles/maze-v0",
            "agentgym.environments.puzzles.maze:MazeEnv",
            max_turns=2000,  # above the env's own move budget (<= 1,102 at 20x20), which ends episodes
            description="Multi-turn maze: reach the goal seeing only a local window (move tool).",
        )
    if "puzzles/guess-number-v0" not in registry:
        registry.register(
            "puzzles/guess-number-v0",
            "agentgym.environments.puzzles.guess:GuessNumberEnv",
            max_turns=10,  # the env ends itself after max_guesses (3) replies
            description="Guess a number 1-10 in 3 tries with higher/lower hints (the RL smoke env).",
        )


register_envs()
