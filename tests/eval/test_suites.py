import pytest

from agentgym.core.errors import ConfigError
from agentgym.environments.puzzles import GENERATED_ENVS
from agentgym.eval.runner import run_eval
from agentgym.eval.suites import (
    EvalEntry,
    EvalSuite,
    eval_suites,
    get_suite,
    require_heldout,
    select_tasks,
)
from agentgym.registry import spec as registry_spec
from agentgym.tasks.io import write_tasks
from agentgym.tasks.registry import make_generator
from agentgym.tasks.splits import split_of
from agentgym.tasks.suite import list_suites, load_suite
from tests.eval.helpers import counting_oracle

SEVEN_FAMILIES = ("games", "gui", "puzzles", "rg", "search", "swe", "webshop")
#: Demo entries of the families added with issue 19: one task each, a few turns.
ONE_TASK_DEMO = {
    "games/wordle-v0": 4,
    "gui/miniwob-click-test-v0": 2,
    "swe/patch-v0": 2,
    "webshop/shop-text-v0": 5,
}


def test_named_suites_cover_every_family_and_generator():
    suites = eval_suites()
    assert {"puzzles", "all", "demo"} <= set(suites)
    frozen = {s.split("@v")[0] for s in list_suites()}
    posed = {e.suite_id.split("@v")[0] for e in suites["all"].entries}
    assert posed == frozen  # every frozen suite is in `all`
    envs = {e.env_id for e in suites["puzzles"].entries}
    assert set(GENERATED_ENVS) <= envs and "puzzles/maze-v0" in envs  # multi-turn maze too
    assert {e.env_id for e in suites["demo"].entries} <= {e.env_id for e in suites["all"].entries}
    assert set(suites["demo"].families) == set(suites["all"].families) == set(SEVEN_FAMILIES)


def test_demo_suite_is_small_and_held_out():
    demo = eval_suites()["demo"]
    for entry in demo.entries:
        tasks = entry.load_tasks()
        assert all(split_of(t) == "heldout" for t in tasks)
        if entry.env_id == "search/qa-v0":  # one question per hop count, 1 to 4
            assert entry.env_kwargs == {"max_turns": 10}
            assert sorted(t.meta["level"] for t in tasks) == [0, 1, 2, 3]
            continue
        if entry.env_id in ONE_TASK_DEMO:
            assert len(tasks) == 1 and entry.env_kwargs == {"max_turns": ONE_TASK_DEMO[entry.env_id]}
            continue
        assert len(tasks) == 2
        if entry.env_id == "puzzles/maze-v0":
            assert entry.env_kwargs == {"max_turns": 8}
        elif entry.env_id.startswith("rg/"):  # no difficulty levels: two tasks at the one level
            assert entry.env_kwargs == {"max_turns": 1} and {t.meta["level"] for t in tasks} == {0}
        else:
            assert entry.env_kwargs == {"max_turns": 1}
            assert len({t.meta["level"] for t in tasks}) == 2  # one task at each of two levels


def test_get_suite_takes_a_frozen_suite_id_and_suggests_names():
    suite = get_suite("puzzles/maze@v1")
    assert {e.env_id for e in suite.entries} == {"puzzles/maze-plan-v0", "puzzles/maze-v0"}
    assert get_suite("puzzles/sat").entries[0].suite_id == "puzzles/sat@v1"
    with pytest.raises(ConfigError, match="did you mean"):
        get_suite("puzzels")


def test_select_tasks_takes_the_lowest_levels_in_file_order():
    tasks = load_suite("puzzles/nqueens@v1")  # starts at level 1
    picked = select_tasks(tasks, n_levels=2, per_level=3)
    assert [t.meta["level"] for t in picked] == [1, 1, 1, 2, 2, 2]
    assert picked[0] is tasks[0]
    assert len(select_tasks(tasks, None, None)) == len(tasks)


def test_duplicate_envs_in_a_suite_are_rejected():
    entry = EvalEntry("puzzles/sat-v0", "puzzles/sat@v1")
    with pytest.raises(ConfigError, match="more than once"):
        EvalSuite("x", (entry, entry))


def training_tasks(n=4):
    gen = make_generator("puzzles/sat")
    tasks = [gen.generate(7, i) for i in range(40)]
    return [t for t in tasks if split_of(t) == "train"][:n]


def test_training_split_tasks_are_refused(tmp_path):
    path = tmp_path / "leaky.jsonl"
    write_tasks([*load_suite("puzzles/sat@v1")[:2], *training_tasks()], path)
    entry = EvalEntry("puzzles/sat-v0", str(path))
    with pytest.raises(ConfigError, match="training-split"):
        entry.load_tasks()
    with pytest.raises(ConfigError, match="training-split"):
        require_heldout(training_tasks(1), "here")
    agent = counting_oracle()
    with pytest.raises(ConfigError, match="refusing to evaluate on training-split tasks"):
        run_eval(EvalSuite("leaky", (entry,)), [agent], tmp_path / "out", progress=False)
    assert agent.calls == 0 and not (tmp_path / "out").exists()


def test_a_held_out_task_file_is_a_valid_entry(tmp_path):
    path = tmp_path / "mine.jsonl"
    write_tasks(load_suite("puzzles/sat@v1")[:3], path)
    assert len(EvalEntry("puzzles/sat-v0", str(path)).load_tasks()) == 3


def test_an_env_that_cannot_pose_the_tasks_fails_before_running(tmp_path):
    suite = EvalSuite("wrong", (EvalEntry("puzzles/sudoku-v0", "puzzles/sat@v1", per_level=1),))
    agent = counting_oracle()
    with pytest.raises(ConfigError, match="poses tasks of"):
        run_eval(suite, [agent], tmp_path, progress=False)
    assert agent.calls == 0


def test_the_oracle_solves_the_whole_demo_suite_within_its_turn_caps(tmp_path):
    demo = get_suite("demo")
    assert set(demo.families) == set(SEVEN_FAMILIES)
    assert set(ONE_TASK_DEMO) <= {e.env_id for e in demo.entries}
    runnable = tuple(e for e in demo.entries if not registry_spec(e.env_id).requirement_problems())
    result = run_eval(EvalSuite("demo", runnable), [counting_oracle()], tmp_path, progress=False)
    overall = result.results["agents"]["oracle"]["overall"]
    n_tasks = sum(len(e.load_tasks()) for e in runnable)
    n_two = len([e for e in runnable if e.env_id not in ONE_TASK_DEMO]) - 1  # search: one per hop count
    assert n_tasks == 2 * n_two + 4 + len([e for e in runnable if e.env_id in ONE_TASK_DEMO])
    assert overall["success"] == 1.0 and overall["episodes"] == overall["tasks"] == n_tasks
    assert {"puzzles", "rg", "search"} <= set(result.results["suite"]["families"])


def test_multi_turn_entries_keep_every_task_solvable(tmp_path):
    (entry,) = [e for e in eval_suites()["puzzles"].entries if e.env_id == "puzzles/maze-v0"]
    assert entry.env_kwargs == {"max_turns": None}  # the env's own move budget, not the registry's cap
    hardest = [t for t in entry.load_tasks() if t.meta["level"] == 8][:3]
    assert max(len(t.answer) for t in hardest) > 150  # beyond maze-v0's registry turn cap
    path = tmp_path / "hard.jsonl"
    write_tasks(hardest, path)
    suite = EvalSuite("hard", (EvalEntry(entry.env_id, str(path), entry.env_kwargs),))
    result = run_eval(suite, [counting_oracle()], tmp_path / "out", progress=False)
    assert result.results["agents"]["oracle"]["overall"]["success"] == 1.0
