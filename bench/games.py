"""Games: step time of our built-in games and of our TextArena adapter against the originals.

Part 1, built-ins vs theirs: Minesweeper, Sokoban and FrozenLake, ours against TextArena's (and
GEM's, where it has the game), called directly, fed the same move script (the same cells or
directions from one seeded RNG, each side in its own move syntax), resetting with the next seed
whenever an episode ends. Goal: ours <= 0.5x their time per step. Wordle and Twenty Questions
are not compared: TextArena's and GEM's need an nltk download or an API key. Minesweeper is
8x8 with 10 mines on every side (GEM at its class default size; its registered "easy" board,
5x5 with 5 mines, is printed for reference, marked ``*`` and not compared). GEM lays its mines
on the first reveal, inside ``step``; the ``gem, board at reset`` side lays the same board in
``reset`` instead (as ours and TextArena's do), so its steps do the same work as ours.

Part 2, adapter overhead: five TextArena games through ``TextArenaEnv`` against TextArena itself
(its ``-raw`` env: ``step`` + ``get_observation``), the same recorded moves on the same boards
(TextArena is reset with the seed our adapter derives, :func:`ta_seed`). TextArena is timed
with our ``random`` proxies taken out of its modules (so their side runs unpatched), ours with them
in; the two alternate for ``--rounds`` rounds and each side's best round counts. Goal: <= 10%
overhead. Reset time is reported apart from step time. Times are CPU times (``process_time``),
read once per episode's run of steps (``--per-step-clock``: around every step, as at first; the
clock read itself, about a microsecond here, then counts on both sides).

Run: ``python bench/games.py [--steps 3000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

DIRS = ("up", "down", "left", "right")
GEM_MINES_8X8 = {"rows": 8, "cols": 8, "num_mines": 10, "max_turns": 20}


BUDGET_S = 15.0
PER_STEP_CLOCK = False


def timed_steps(
    reset: Callable[[int], Any], step: Callable[[str], bool], moves: list[str]
) -> tuple[float, float, int, int]:
    """CPU seconds per step, seconds per reset, resets and steps played (stops after ``BUDGET_S``).

    The clock runs over each episode's run of steps (resets are timed apart): reading the CPU clock
    costs about a microsecond here, so reading it around every single step (``--per-step-clock``)
    adds that to both sides' step time.
    """
    if PER_STEP_CLOCK:
        return _timed_each_step(reset, step, moves)
    clock = time.process_time  # CPU time: the machine this runs on may be shared
    seed, step_s, reset_s = 0, 0.0, 0.0
    t = clock()
    reset(seed)
    reset_s += clock() - t
    played = 0
    t = clock()
    for move in moves:
        done = step(move)
        played += 1
        if done or played % 256 == 0:
            now = clock()
            step_s += now - t
            if step_s + reset_s > BUDGET_S:
                break  # a side with slow resets (TextArena's Sokoban searches for a level) is sampled
            if done:
                seed += 1
                reset(seed)
                t = clock()
                reset_s += t - now
            else:
                t = clock()
    else:
        step_s += clock() - t
    return step_s / played, reset_s / (seed + 1), seed + 1, played


def _timed_each_step(
    reset: Callable[[int], Any], step: Callable[[str], bool], moves: list[str]
) -> tuple[float, float, int, int]:
    """:func:`timed_steps` with the clock read around every step (the benchmark's first method)."""
    clock = time.process_time
    seed, step_s, reset_s = 0, 0.0, 0.0
    t = clock()
    reset(seed)
    reset_s += clock() - t
    played = 0
    for move in moves:
        t = clock()
        done = step(move)
        step_s += clock() - t
        played += 1
        if step_s + reset_s > BUDGET_S:
            break
        if done:
            seed += 1
            t = clock()
            reset(seed)
            reset_s += clock() - t
    return step_s / played, reset_s / (seed + 1), seed + 1, played


# ----- part 1: built-in games ------------------------------------------------------------------
def ours(cls: type, **kwargs: Any) -> tuple[Callable[[int], Any], Callable[[str], bool]]:
    env = cls(**kwargs)
    return (lambda s: env.reset(seed=s)), (lambda m: _gem_step(env, m))


def textarena_side(game: str) -> tuple[Callable[[int], Any], Callable[[str], bool]]:
    import textarena as ta

    env = ta.make(f"{game}-raw")

    def reset(seed: int) -> None:
        env.reset(num_players=1, seed=seed)
        env.get_observation()

    def step(move: str) -> bool:
        done, _ = env.step(move)
        if not done:
            env.get_observation()
        return done

    return reset, step


def gem_side(game: str, **kwargs: Any) -> tuple[Callable[[int], Any], Callable[[str], bool]]:
    import gem

    env = gem.make(game, **kwargs)
    return (lambda s: env.reset(seed=s)), (lambda m: _gem_step(env, m))


def gem_mines_at_reset_side(moves: list[str]) -> tuple[Callable[[int], Any], Callable[[str], bool]]:
    """GEM's 8x8 Minesweeper with its board laid in ``reset`` instead of on the first reveal.

    GEM places the mines when the first cell is revealed, inside ``step`` (ours does it at reset).
    Here the reset lays them for the script's next move, the cell GEM would lay them for (every
    scripted move is an in-bounds reveal, and nothing between reset and that reveal draws from
    ``random``), so the board and the moves are GEM's own; only the timing moves into reset.
    """
    import gem

    env = gem.make("game:Minesweeper-v0-easy", **GEM_MINES_8X8)
    cells = [tuple(int(x) for x in m.split("reveal ")[1].rstrip("}").split()) for m in moves]
    played = [0]

    def reset(seed: int) -> None:
        if seed == 0:  # a new timed run replays the script from its start
            played[0] = 0
        env.reset(seed=seed)
        if played[0] < len(cells):
            env._setup_mines(*cells[played[0]])
            env.first_reveal = False

    def step(move: str) -> bool:
        played[0] += 1
        return _gem_step(env, move)

    return reset, step


def _gem_step(env: Any, move: str) -> bool:
    """One Gymnasium-style step; True when the episode ended."""
    _, _, terminated, truncated, _ = env.step(move)
    return bool(terminated or truncated)


def builtin_cases(steps: int) -> list[tuple[str, dict[str, tuple[Callable, Callable, list[str]]]]]:
    from agentgym.environments.games.frozenlake import FrozenLakeEnv
    from agentgym.environments.games.minesweeper import MinesweeperEnv
    from agentgym.environments.games.sokoban import SokobanEnv

    rng = np.random.default_rng(0)
    cells = [(int(r), int(c)) for r, c in rng.integers(0, 8, size=(steps, 2))]
    dirs = [DIRS[int(i)] for i in rng.integers(0, 4, size=steps)]
    mine_ours = [f"[{r} {c}]" for r, c in cells]
    mine_gem = [f"\\boxed{{reveal {r} {c}}}" for r, c in cells]
    dir_br = [f"[{d}]" for d in dirs]
    dir_gem = [f"\\boxed{{{d}}}" for d in dirs]
    return [
        (
            "Minesweeper 8x8, 10 mines",
            {
                "ours": (*ours(MinesweeperEnv, difficulty={"rows": 8, "cols": 8, "mines": 10}), mine_ours),
                "textarena": (*textarena_side("Minesweeper-v0"), mine_ours),
                # GEM registers 5x5 ("easy") and 8x8 with 12 mines ("hard"); this is its class default,
                # the same 8x8 board with 10 mines as the other sides (20 moves per episode).
                "gem": (*gem_side("game:Minesweeper-v0-easy", **GEM_MINES_8X8), mine_gem),
                "gem, board at reset": (*gem_mines_at_reset_side(mine_gem), mine_gem),
                # Not compared (a smaller board): the registration the benchmark used at first.
                "gem 5x5*": (*gem_side("game:Minesweeper-v0-easy"), mine_gem),
            },
        ),
        (
            "Sokoban 6x6, 1-2 boxes",
            {
                "ours": (*ours(SokobanEnv, difficulty={"size": 6, "boxes": 2}), dir_br),
                "textarena": (*textarena_side("Sokoban-v0"), dir_br),
                "gem": (*gem_side("game:Sokoban-v0-easy"), dir_gem),
            },
        ),
        (
            "FrozenLake 4x4",
            {
                "ours": (*ours(FrozenLakeEnv, difficulty={"size": 4, "hole_prob": 0.2}), dir_br),
                "textarena": (*textarena_side("FrozenLake-v0"), dir_br),
            },
        ),
    ]


# ----- part 2: the adapter ---------------------------------------------------------------------
ADAPTER_GAMES = [("TicTacToe-v0", 2), ("ConnectFour-v0", 2), ("Nim-v0", 2), ("2048-v0", 1), ("Othello-v0", 2)]


def ta_seed(seed: int) -> int:
    """The seed ``TextArenaEnv.reset(seed=seed)`` hands TextArena (drawn from the env's seeded ``np_random``).

    TextArena's side resets with it too, so both sides play the same boards (2048 spawns tiles at random).
    """
    from gymnasium.utils import seeding

    return int(seeding.np_random(seed)[0].integers(2**31 - 1))


def record_moves(game: str, players: int, steps: int) -> list[str]:
    """A move script from the random candidate-move policy, played on TextArena itself."""
    import textarena as ta

    from agentgym.environments.games.ta_env import render_messages
    from agentgym.environments.games.ta_moves import candidate_moves

    env = ta.make(f"{game}-raw")
    rng = np.random.default_rng(1)
    seed, moves, history = 0, [], ""
    env.reset(num_players=players, seed=ta_seed(seed))
    latest = render_messages(env.get_observation()[1])
    while len(moves) < steps:
        options = candidate_moves(game, env, latest, history, int(rng.integers(10))) or ["[0]"]
        move = options[int(rng.integers(len(options)))]
        moves.append(move)
        done, _ = env.step(move)
        if done:
            seed += 1
            env.reset(num_players=players, seed=ta_seed(seed))
        latest = render_messages(env.get_observation()[1])
        history = (history + latest)[-5000:]
    return moves


def their_adapter_side(game: str, players: int) -> tuple[Callable, Callable]:
    import textarena as ta

    env = ta.make(f"{game}-raw")

    def reset(seed: int) -> None:
        env.reset(num_players=players, seed=ta_seed(seed))
        env.get_observation()

    def step(move: str) -> bool:
        done, _ = env.step(move)
        if done:
            env.close()
        else:
            env.get_observation()
        return done

    return reset, step


def our_adapter_side(game: str, players: int) -> tuple[Callable, Callable]:
    from agentgym.environments.games.ta_env import TextArenaEnv

    env = TextArenaEnv(game, num_players=players)
    env.reset(seed=1)
    assert env.task is not None and env.task.spec["seed"] == ta_seed(1), "ta_seed() must follow TextArenaEnv"
    return (lambda s: env.reset(seed=s)), (lambda m: env.step(m)[2])


def best_of(rounds: int, sides: dict[str, tuple[Callable, Callable, list[str]]]) -> dict[str, tuple]:
    """Each side's fastest of ``rounds`` alternating runs (TextArena sides unpatched, ours patched)."""
    from agentgym.environments.games.ta_isolation import patch_textarena_modules, unpatch_textarena_modules

    best: dict[str, tuple] = {}
    for _ in range(rounds):
        for name, (reset, step, moves) in sides.items():
            if name == "ours":
                patch_textarena_modules()
            else:
                unpatch_textarena_modules()
            result = timed_steps(reset, step, moves)
            if name not in best or result[0] < best[name][0]:
                best[name] = result
    patch_textarena_modules()
    return best


def main() -> None:
    """Print steps/s and us/step per side, and the ratios against the goals."""
    global BUDGET_S, PER_STEP_CLOCK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=BUDGET_S, help="CPU seconds per side and round")
    parser.add_argument("--per-step-clock", action="store_true", help="read the clock around every step")
    args = parser.parse_args()
    BUDGET_S = args.budget
    PER_STEP_CLOCK = args.per_step_clock
    steps = args.steps
    clock = "the clock read around every step" if PER_STEP_CLOCK else "the clock read once per episode"
    print(f"{steps} steps per game and side, best of {args.rounds} alternating rounds, CPU time, {clock}.")
    scripts = {g: record_moves(g, p, steps) for g, p in ADAPTER_GAMES}

    print("\n== Part 1: built-in games vs TextArena / GEM (same move script; goal: ours <= 0.5x) ==")
    print(
        f"{'game':28s} {'side':20s} {'steps/s':>10s} {'us/step':>9s} {'ms/reset':>9s} "
        f"{'x ours':>8s} {'steps':>7s}"
    )
    for label, sides in builtin_cases(steps):
        results = best_of(args.rounds, sides)
        base = results["ours"][0]
        for name, (per_step, per_reset, _resets, played) in results.items():
            print(
                f"{label:28s} {name:20s} {1 / per_step:10.0f} {per_step * 1e6:9.1f} "
                f"{per_reset * 1000:9.2f} {per_step / base:8.2f} {played:7d}"
            )
        fastest = min(results[n][0] for n in results if n != "ours" and not n.endswith("*"))
        print(f"{'':28s} ours / fastest theirs = {base / fastest:.2f}x  (goal <= 0.5; * = not compared)")

    print("\n== Part 2: TextArena adapter overhead (same recorded moves; goal <= 10%) ==")
    print(
        f"{'game':16s} {'theirs us/step':>15s} {'ours us/step':>13s} {'overhead':>9s} {'steps/s ours':>13s}"
    )
    for game, players in ADAPTER_GAMES:
        sides = {
            "textarena": (*their_adapter_side(game, players), scripts[game]),
            "ours": (*our_adapter_side(game, players), scripts[game]),
        }
        results = best_of(args.rounds, sides)
        ours_s, their_s = results["ours"][0], results["textarena"][0]
        print(
            f"{game:16s} {their_s * 1e6:15.1f} {ours_s * 1e6:13.1f} "
            f"{(ours_s / their_s - 1) * 100:8.1f}% {1 / ours_s:13.0f}"
        )


if __name__ == "__main__":
    main()
