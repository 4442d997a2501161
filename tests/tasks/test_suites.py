import pytest

import agentgym
import agentgym.environments  # rg generators register with their env family
from agentgym.core.errors import UnknownIdError
from agentgym.tasks.pools import POOLS
from agentgym.tasks.registry import generator_class
from agentgym.tasks.splits import split_of
from agentgym.tasks.suite import build_suite, list_suites, load_suite

GENERATOR_SUITES = [s for s in list_suites() if s.split("@v")[0] not in POOLS]  # pools: test_pool_suites.py


@pytest.mark.parametrize("suite_id", GENERATOR_SUITES)
def test_every_suite_is_heldout_scored_by_its_oracle_and_covers_every_level(suite_id):
    tasks = load_suite(suite_id)
    assert tasks and all(split_of(t) == "heldout" for t in tasks)
    generator_id = tasks[0].spec["generator"]
    cls = generator_class(generator_id)
    levels = {t.meta["level"] for t in tasks}
    assert levels <= set(range(cls.n_levels())) and len(levels) >= cls.n_levels() // 2
    gen = cls()
    for task in tasks:
        assert gen.verify(task, gen.oracle_response(task)).score == 1.0
    assert len({t.id for t in tasks}) == len(tasks)


def test_suite_ids_resolve_to_the_newest_version():
    assert "puzzles/sat@v1" in list_suites()
    assert load_suite("puzzles/sat") == load_suite("puzzles/sat@v1")
    with pytest.raises(UnknownIdError):
        load_suite("puzzles/sat@v9")
    with pytest.raises(UnknownIdError):
        load_suite("puzzles/nope")


def test_suite_tasks_play_in_their_env():
    task = load_suite("puzzles/sat@v1")[-1]
    env = agentgym.make("puzzles/sat-v0")
    _, info = env.reset(seed=0, options={"task": task})
    assert info["task_id"] == task.id and info["split"] == "heldout"
    assert env.step(env.unwrapped.oracle_action())[1] == 1.0


def test_the_frozen_sat_suite_is_what_the_builder_makes():
    # Generators are deterministic across machines: a rebuild equals the committed file.
    assert build_suite("puzzles/sat") == load_suite("puzzles/sat@v1")
