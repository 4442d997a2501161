import json
import pickle

import numpy as np
import pytest

import agentgym
from agentgym.checker import check_env
from agentgym.core.errors import EnvError, TaskError
from agentgym.core.messages import Message, ToolCall
from agentgym.environments.puzzles.maze import MazeEnv
from agentgym.registry import unwrap
from agentgym.tasks.puzzles.maze import MazeConfig, MazeGenerator
from agentgym.tasks.puzzles.maze_rules import (
    DIRECTIONS,
    MoveFormatError,
    bfs,
    can_move,
    parse_moves,
    shortest_path,
    walk,
)

GEN_ID = "puzzles/maze"
ENV_ID = "puzzles/maze-v0"  # multi-turn, partial view
PLAN_ID = "puzzles/maze-plan-v0"  # single-turn, whole maze shown

ENVS = {  # registered by agentgym.environments.puzzles
    ENV_ID: ("agentgym.environments.puzzles.maze:MazeEnv", {}, 200),
    PLAN_ID: ("agentgym.environments.puzzles.generated:GeneratedTaskEnv", {"generator": GEN_ID}, 3),
}


def cells(task):
    return [(r, c) for r in range(task.spec["height"]) for c in range(task.spec["width"])]


def passages(task):
    grid = task.spec["grid"]
    return sum(can_move(grid, cell, d) for cell in cells(task) for d in ("down", "right"))


# ----- the generator --------------------------------------------------------------------------
def test_same_seed_and_index_give_the_same_task():
    gen = MazeGenerator(width=7, height=5, loop_fraction=0.2)
    assert gen.generate(3, 4) == gen.generate(3, 4)
    assert len({gen.generate(3, 4).id, gen.generate(3, 5).id, gen.generate(4, 4).id}) == 3


def test_generation_is_stable_across_machines():
    task = MazeGenerator().generate(0, 0)
    assert task.id == "3e6ab191665cc9c36eb5932e224fe2bc6b381e2239a45bbef6599411182d2bc7"
    json.dumps(task.to_dict())


@pytest.mark.parametrize("seed", range(40))
def test_reference_and_oracle_pass_and_corrupt_fails(seed):
    gen = MazeGenerator(width=2 + seed % 9, height=2 + seed % 7, loop_fraction=(seed % 4) / 4)
    task = gen.generate(seed, seed)
    rng = np.random.default_rng(seed)
    assert gen.verify(task, gen.reference_response(task)).score == 1.0
    assert gen.verify(task, gen.oracle_response(task)).score == 1.0
    corrupt = gen.verify(task, gen.corrupt_response(task, rng))
    assert corrupt.score < 1.0 and not corrupt.passed and "format_error" not in corrupt.details
    assert "format_error" not in gen.verify(task, gen.random_response(task, rng)).details


@pytest.mark.parametrize("seed", range(15))
def test_perfect_mazes_are_trees_and_start_goal_is_a_longest_path(seed):
    task = MazeGenerator(width=3 + seed, height=4 + seed % 5).generate(seed)
    grid, start, goal = task.spec["grid"], tuple(task.spec["start"]), tuple(task.spec["goal"])
    assert len(bfs(grid, start)) == len(cells(task))  # connected
    assert passages(task) == len(cells(task)) - 1  # and acyclic
    diameter = max(max(d for d, _ in bfs(grid, c).values()) for c in cells(task))
    assert len(task.answer) == diameter == len(shortest_path(grid, start, goal))


def test_loop_fraction_adds_passages():
    plain = MazeGenerator(width=10, height=10).generate(1)
    loopy = MazeGenerator(width=10, height=10, loop_fraction=0.5).generate(1)
    closed = 2 * 10 * 9 - 99
    assert passages(loopy) == 99 + round(0.5 * closed) > passages(plain) == 99
    assert len(bfs(loopy.spec["grid"], (0, 0))) == 100


@pytest.mark.parametrize("level", range(MazeGenerator.n_levels()))
def test_every_difficulty_level_generates_solvable_tasks(level):
    gen = MazeGenerator.at_level(level)
    for index in range(3):
        task = gen.generate(11, index)
        assert task.spec["width"] == MazeGenerator.difficulty_attrs[0].levels[level]
        assert gen.verify(task, gen.reference_response(task)).passed


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"width": 1}, "width"),
        ({"height": 61}, "height"),
        ({"width": 2.5}, "width"),
        ({"loop_fraction": 1.5}, "loop_fraction"),
        ({"loop_fraction": True}, "loop_fraction"),
        ({"size": 4}, "size"),
    ],
)
def test_invalid_configs_raise_value_error_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        MazeConfig.from_overrides(overrides)
    assert issubclass(TaskError, ValueError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<answer>up right down left</answer>", ["up", "right", "down", "left"]),
        ("<answer>Up, RIGHT; down</answer>", ["up", "right", "down"]),
        ("<answer>U R D L</answer>", ["up", "right", "down", "left"]),
        ("<answer>UURD</answer>", ["up", "up", "right", "down"]),
        ("<answer>north east -> south</answer>", ["up", "right", "down"]),
        ("<answer>[\n'up',\n'left'\n]</answer>", ["up", "left"]),
        ("draft <answer>up</answer> final <answer>down</answer>", ["down"]),
    ],
)
def test_answer_formats_that_parse(text, expected):
    assert parse_moves(text) == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("up right", "no <answer>"),
        ("<answer>up right", "no <answer>"),
        ("<answer> </answer>", "empty"),
        ("<answer>up jump</answer>", "token 2"),
        ("<answer>up 3</answer>", "not a direction"),
        ("<answer>" + "u" * 200_000 + "</answer>", "longer than"),
        ("<answer>" + "u" * 30_000 + "</answer>", "more than"),
    ],
)
def test_answer_formats_that_fail(text, match):
    with pytest.raises(MoveFormatError, match=match):
        parse_moves(text)
    task = MazeGenerator().generate(0)
    verdict = MazeGenerator().verify(task, text)
    assert verdict.score == 0.0 and "format_error" in verdict.details


def test_wall_crossing_and_wrong_end_fail_with_feedback():
    gen = MazeGenerator()
    task = gen.generate(5)
    grid, start = task.spec["grid"], tuple(task.spec["start"])
    blocked = next(d for d in DIRECTIONS if not can_move(grid, start, d))
    v = gen.verify(task, f"<answer>{blocked} {' '.join(task.answer)}</answer>")
    assert v.score == 0.0 and "wall" in v.details["feedback"]
    there_and_back = [*task.answer, *task.answer[-1:]]  # overshoot (may bump), not ending on G
    v = gen.verify(task, "<answer>" + " ".join(there_and_back) + "</answer>")
    assert v.score == 0.0
    detour = [*task.answer, "up", "down"] if can_move(grid, tuple(task.spec["goal"]), "up") else None
    if detour:
        v = gen.verify(task, "<answer>" + " ".join(detour) + "</answer>")
        assert v.passed and v.details["path_efficiency"] < 1.0


def test_single_turn_env_passes_check_env_and_the_oracle_solves():
    assert check_env(PLAN_ID).passed
    env = agentgym.make(PLAN_ID, difficulty={"width": 8, "height": 8})
    for seed in range(5):
        env.reset(seed=seed)
        assert env.step(unwrap(env).oracle_action())[1] == 1.0


# ----- the multi-turn env -----------------------------------------------------------------------
def test_multi_turn_env_passes_check_env():
    report = check_env(ENV_ID, raise_on_failure=False)
    assert report.passed, [f"{r.name}: {r.message}" for r in report.failures()]


@pytest.mark.parametrize("seed", range(8))
def test_oracle_walks_the_shortest_path(seed):
    env = agentgym.make(ENV_ID, difficulty={"width": 5 + seed, "height": 4, "loop_fraction": 0.2})
    _, info = env.reset(seed=seed)
    total, steps = 0.0, 0
    while True:
        _, reward, terminated, truncated, info = env.step(unwrap(env).oracle_action())
        total += reward
        steps += 1
        if terminated or truncated:
            break
    assert terminated and total == 1.0 and steps == info["verdict"].details["shortest"]
    assert info["verdict"].passed and info["verdict"].details["path_efficiency"] == 1.0


def test_observation_shows_only_a_window_with_position_and_goal():
    env = agentgym.make(ENV_ID, difficulty={"width": 12, "height": 12}, view_radius=1)
    obs, info = env.reset(seed=0)
    base = unwrap(env)
    text = obs[-1].text
    r, c = base.pos
    assert f"(row {r}, column {c})" in text and "Open directions:" in text
    window = text.split("Your surroundings:\n")[1].split("\nMoves used")[0].split("\n")
    assert len(window) == 7 and all(len(line) == 7 for line in window) and window[3][3] == "@"
    assert base.task.spec["grid"][1] not in text  # no full row of the maze is shown
    assert obs[0].role == "system" and "move" in obs[0].text and info["shortest"] == len(base.task.answer)


def test_tool_calls_text_forms_walls_and_errors():
    env = agentgym.make(ENV_ID)
    env.reset(seed=3)
    base = unwrap(env)
    grid = base.task.spec["grid"]
    blocked = next(d for d in DIRECTIONS if not can_move(grid, base.pos, d))
    start = base.pos
    obs, reward, terminated, *_ = env.step(f"I will try move: {blocked}")
    assert base.pos == start and base.bumps == 1 and "wall" in obs[0].text and reward == 0.0
    first = base.task.answer[0]
    call = ToolCall("c7", "move", json.dumps({"direction": first}))
    obs, *_ = env.step(Message("assistant", "", tool_calls=(call,)))
    assert obs[0].role == "tool" and obs[0].tool_call_id == "c7" and base.moves == 2
    second = base.task.answer[1]
    obs, *_ = env.step(f'<tool_call>{{"name": "move", "arguments": {{"direction": "{second}"}}}}</tool_call>')
    assert obs[0].role == "user" and base.moves == 3
    obs, *_ = env.step(f"{base.task.answer[2].capitalize()}.")
    assert base.moves == 4 and base.pos == walk(grid, start, base.task.answer[:3])[0]
    for bad in ("I am lost", "<answer>up</answer> maybe", "u"):
        obs, reward, terminated, truncated, info = env.step(bad)
        assert "could not be read" in obs[0].text and "action_error" in info and not (terminated or truncated)
    bad_arg = ToolCall("c8", "move", json.dumps({"direction": "diagonal"}))
    obs, *_ = env.step(Message("assistant", "", tool_calls=(bad_arg,)))
    assert obs[0].role == "tool" and "could not be read" in obs[0].text and base.moves == 4


def test_several_calls_in_one_reply_run_in_order_and_stop_at_the_goal():
    env = agentgym.make(ENV_ID, difficulty={"width": 3, "height": 3})
    env.reset(seed=2)
    path = [*unwrap(env).task.answer, "up"]
    calls = tuple(ToolCall(f"c{i}", "move", json.dumps({"direction": d})) for i, d in enumerate(path))
    obs, reward, terminated, _, info = env.step(Message("assistant", "", tool_calls=calls))
    assert terminated and reward == 1.0 and len(obs) == len(path)
    assert [m.tool_call_id for m in obs] == [c.id for c in calls] and "Not executed" in obs[-1].text
    assert info["verdict"].details["steps"] == len(path) - 1


def test_move_budget_truncates_with_a_failed_verdict():
    env = agentgym.make(ENV_ID, max_moves=3)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        _, reward, terminated, truncated, info = env.step(unwrap(env).sample_action(rng))
    assert truncated and not terminated and reward == 0.0
    verdict = info["verdict"]
    assert not verdict.passed and verdict.details["steps"] == 3 and verdict.details["path_efficiency"] == 0.0
    with pytest.raises(EnvError):
        env.step("move: up")


def test_fork_and_pickle_keep_the_position():
    env = MazeEnv(difficulty={"width": 5, "height": 5})
    env.reset(seed=4)
    env.step(env.oracle_action())
    for twin in (env.fork(), pickle.loads(pickle.dumps(env))):
        assert twin.pos == env.pos and twin.moves == env.moves
        a, b = env.fork().step(env.oracle_action()), twin.step(twin.oracle_action())
        assert [m.to_dict() for m in a[0]] == [m.to_dict() for m in b[0]] and a[1:3] == b[1:3]


def test_env_accepts_a_given_task_and_rejects_bad_arguments():
    task = MazeGenerator(width=4, height=4).generate(9)
    env = agentgym.make(ENV_ID)
    _, info = env.reset(seed=0, options={"task": task})
    assert info["task_id"] == task.id and list(unwrap(env).pos) == task.spec["start"]
    with pytest.raises(EnvError):
        env.reset(seed=0, options={"task": "not a task"})
    for kwargs in ({"view_radius": -1}, {"max_moves": 0}, {"split": "test"}):
        with pytest.raises(EnvError):
            MazeEnv(**kwargs)
