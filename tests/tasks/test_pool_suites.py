"""Pool suites (webshop, gui, swe, TextArena): frozen, held out, rebuilt identically, posed by their envs."""

import pytest

import agentgym
import agentgym.environments  # registers every family's specs
from agentgym.core.errors import EnvError
from agentgym.core.task import Task
from agentgym.environments.gui.oracles import ORACLES
from agentgym.environments.gui.registration import MINIWOB_TASKS
from agentgym.eval.suites import envs_of_suite, get_suite
from agentgym.registry import registry
from agentgym.tasks.pools import MINIWOB_SOLVED, POOLS, TEXTARENA_GAMES, swe_level
from agentgym.tasks.splits import split_of
from agentgym.tasks.suite import build_suite, list_suites, load_suite

POOL_SUITES = [s for s in list_suites() if s.split("@v")[0] in POOLS]


def test_every_pool_has_a_frozen_suite_posed_by_a_registered_env():
    assert {s.split("@v")[0] for s in POOL_SUITES} == set(POOLS)
    for pool in POOLS:
        assert envs_of_suite(pool), pool


@pytest.mark.parametrize("suite_id", POOL_SUITES)
def test_pool_suites_are_held_out_levelled_and_what_the_builder_makes(suite_id):
    tasks = load_suite(suite_id)
    assert tasks and all(split_of(t) == "heldout" for t in tasks)
    assert all(isinstance(t.meta["level"], int) for t in tasks)
    assert len({t.id for t in tasks}) == len(tasks)
    assert [t.id for t in build_suite(suite_id.split("@v")[0])] == [t.id for t in tasks]


def test_the_solver_pages_are_the_registered_pages_with_scripted_solvers():
    assert set(MINIWOB_SOLVED) == set(ORACLES) & set(MINIWOB_TASKS)


def test_webshop_levels_count_the_goal_attributes():
    tasks = load_suite("webshop/instructions@v1")
    assert sorted({t.meta["level"] for t in tasks}) == [0, 1, 2]
    for task in tasks:
        assert task.difficulty["n_attributes"] == task.meta["level"] + 1


def test_webshop_suite_is_solved_by_the_oracle_on_the_text_env():
    pytest.importorskip("bm25s")
    task = load_suite("webshop/instructions@v1")[-1]
    env = agentgym.make("webshop/shop-text-v0")
    _, info = env.reset(seed=0, options={"task": task})
    assert info["split"] == "heldout" and env.unwrapped.task == task
    for _ in range(10):
        _, reward, terminated, truncated, _ = env.step(env.unwrapped.oracle_action())
        if terminated or truncated:
            break
    assert terminated and reward == 1.0


def test_swe_levels_follow_the_task_difficulty():
    assert swe_level({"bugs": 1, "files": 1, "failing_tests": 1}) == 0
    assert swe_level({"bugs": 1, "files": 1, "failing_tests": 3}) == 1
    assert swe_level({"bugs": 2, "files": 1, "failing_tests": 1}) == 2
    for task in load_suite("swe/patches@v1"):
        assert task.meta["level"] == swe_level(task.difficulty)


def test_gui_action_tasks_are_scored_one_by_the_oracle():
    for source in ("miniwob", "shop"):
        env = agentgym.make(f"gui/action-{source}-v0")
        for task in load_suite(f"gui/action_{source}@v1"):
            env.reset(seed=0, options={"task": task})
            assert env.step(env.unwrapped.oracle_action())[1] == 1.0


@pytest.mark.parametrize("game", sorted(TEXTARENA_GAMES))
def test_textarena_suites_pose_their_fixed_seeds(game):
    pytest.importorskip("textarena")
    suite_id = f"games/ta_{game.removesuffix('-v0').lower()}@v1"
    (env_id,) = envs_of_suite(suite_id.split("@v")[0])
    assert registry.spec(env_id).suites == (suite_id,)
    task = load_suite(suite_id)[0]
    first = agentgym.make(env_id)
    obs_a, _ = first.reset(seed=1, options={"task": task})
    obs_b, _ = agentgym.make(env_id).reset(seed=2, options={"task": task})
    assert first.unwrapped.task == task and [m.text for m in obs_a] == [m.text for m in obs_b]
    assert first.unwrapped.task.spec["seed"] == task.spec["seed"]


def test_textarena_env_refuses_a_task_of_another_game():
    pytest.importorskip("textarena")
    env = agentgym.make("games/ta-TicTacToe-v0")
    other = Task(family="games", spec={"source": "textarena", "game": "Nim-v0", "num_players": 2, "seed": 1})
    with pytest.raises(EnvError, match="TextArena Task of TicTacToe-v0"):
        env.reset(seed=0, options={"task": other})


def test_every_family_has_a_named_eval_suite():
    for family in ("games", "gui", "puzzles", "rg", "search", "swe", "webshop"):
        assert get_suite(family).families == [family]
    assert get_suite("webshop/instructions").entries[0].env_id == "webshop/shop-text-v0"
