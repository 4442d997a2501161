"""Puzzle environments: generated, exactly checked problems (one env per generator).

Each generator and the envs that pose it are registered here together (the spec names the
generator; the rules both use live in a rules module both import, e.g. tasks/puzzles/maze_rules.py).
"""

from agentgym.registry import SuitePlan, registry

#: Generator id -> its class (tasks/puzzles/).
GENERATORS: dict[str, str] = {
    "puzzles/sat": "agentgym.tasks.puzzles.sat:SatGenerator",
    "puzzles/sudoku": "agentgym.tasks.puzzles.sudoku:SudokuGenerator",
    "puzzles/nqueens": "agentgym.tasks.puzzles.nqueens:NQueensGenerator",
    "puzzles/countdown": "agentgym.tasks.puzzles.countdown:CountdownGenerator",
    "puzzles/knights_knaves": "agentgym.tasks.puzzles.knights_knaves:KnightsKnavesGenerator",
    "puzzles/graph_coloring": "agentgym.tasks.puzzles.graph_coloring:GraphColoringGenerator",
    "puzzles/maze": "agentgym.tasks.puzzles.maze:MazeGenerator",
    "puzzles/jigsaw": "agentgym.tasks.puzzles.jigsaw:JigsawGenerator",
}

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


#: Eval and demo plan of the multi-turn maze: no turn cap in eval (the env's move budget ends an
#: episode; the registry cap is below the shortest path of the hardest frozen mazes); the demo
#: poses two level-0 mazes (they need 7 and 8 moves, oracle-tested).
MAZE_PLAN = SuitePlan(max_turns=None, demo_levels=1, demo_per_level=2, demo_max_turns=8)


def register_envs() -> None:
    """Register the puzzle generators and envs (idempotent)."""
    for generator_id, entry in GENERATORS.items():
        registry.register_generator(generator_id, entry)
    for env_id, (generator, max_turns, description) in GENERATED_ENVS.items():
        registry.register(
            env_id,
            "agentgym.environments.puzzles.generated:GeneratedTaskEnv",
            max_turns=max_turns,
            description=description,
            generator=generator,
        )
    registry.register(
        "puzzles/maze-v0",
        "agentgym.environments.puzzles.maze:MazeEnv",
        max_turns=2000,  # above the env's own move budget (<= 1,102 at 20x20), which ends episodes
        description="Multi-turn maze: reach the goal seeing only a local window (move tool).",
        generator="puzzles/maze",
        suite_plan=MAZE_PLAN,
    )
    registry.register(
        "puzzles/guess-number-v0",
        "agentgym.environments.puzzles.guess:GuessNumberEnv",
        max_turns=10,  # the env ends itself after max_guesses (3) replies
        description="Guess a number 1-10 in 3 tries with higher/lower hints (the RL smoke env).",
    )


register_envs()
