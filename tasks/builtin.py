"""The built-in generators (importing this registers them; the classes load on first use)."""

from agentgym.tasks.registry import register_generator

BUILTIN_GENERATORS = {
    "puzzles/sat": "agentgym.tasks.puzzles.sat:SatGenerator",
    "puzzles/sudoku": "agentgym.tasks.puzzles.sudoku:SudokuGenerator",
    "puzzles/nqueens": "agentgym.tasks.puzzles.nqueens:NQueensGenerator",
    "puzzles/countdown": "agentgym.tasks.puzzles.countdown:CountdownGenerator",
    "puzzles/knights_knaves": "agentgym.tasks.puzzles.knights_knaves:KnightsKnavesGenerator",
    "puzzles/graph_coloring": "agentgym.tasks.puzzles.graph_coloring:GraphColoringGenerator",
    "puzzles/maze": "agentgym.tasks.puzzles.maze:MazeGenerator",
    "puzzles/jigsaw": "agentgym.tasks.puzzles.jigsaw:JigsawGenerator",
    "games/sokoban": "agentgym.tasks.games.sokoban:SokobanGenerator",
    "games/minesweeper": "agentgym.tasks.games.minesweeper:MinesweeperGenerator",
    "games/frozenlake": "agentgym.tasks.games.frozenlake:FrozenLakeGenerator",
    "games/wordle": "agentgym.tasks.games.wordle:WordleGenerator",
    "games/twenty_questions": "agentgym.tasks.games.question_games:TwentyQuestionsGenerator",
    "games/guess_my_city": "agentgym.tasks.games.question_games:GuessMyCityGenerator",
}

for _id, _entry in BUILTIN_GENERATORS.items():
    register_generator(_id, _entry)
